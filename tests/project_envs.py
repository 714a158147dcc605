"""Virtual environments built from a generated project's own dependencies.

A generated project must work with what its pyproject.toml asks for, not with whatever
mlscaffold's test extra happens to hold. Each distinct dependency set gets one environment
under .test-envs/ (git-ignored), built once and reused by every project that needs the same
set, in this test session and later ones: the same builder that makes cohort grading's
environment (`mlscaffold.cohort.environment`), so a grading test reuses them too.
"""

from __future__ import annotations

from pathlib import Path

from mlscaffold.cohort.environment import python_for, requirements

ENVS = Path(__file__).resolve().parents[1] / ".test-envs"

__all__ = ["ENVS", "env_python", "requirements"]


def env_python(project: Path) -> Path:
    """The python of an environment holding exactly the project's requirements."""
    return python_for(project, ENVS)
