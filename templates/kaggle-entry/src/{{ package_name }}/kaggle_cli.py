"""The official `kaggle` command line, called with care: credentials checked first, rules
errors explained, the API key never printed."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

from .plumbing.download import SAMPLE_HINT
from .plumbing.errors import DataError

INSTALL_HINT = (
    'install it with pip install -e ".[kaggle]", or put train.csv and test.csv (or the zip '
    "Kaggle gives) in data/raw/"
)
SUBMIT_INSTALL_HINT = (
    'install it into this project\'s environment to submit: pip install -e ".[kaggle]" '
    "(or upload the file from submissions/ on the competition's page)"
)


class KaggleError(DataError):
    """The Kaggle CLI could not do what was asked; the hint says what to do."""


def credential_files() -> list[Path]:
    home = Path.home()
    folders = [Path(os.environ["KAGGLE_CONFIG_DIR"])] if os.environ.get("KAGGLE_CONFIG_DIR") else []
    folders += [home / ".kaggle", home / ".config" / "kaggle"]
    return [folder / "kaggle.json" for folder in folders]


def check_credentials() -> str:
    """Where the credentials come from; an error that says how to set them up otherwise."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return "KAGGLE_USERNAME / KAGGLE_KEY"
    for path in credential_files():
        if not path.is_file():
            continue
        if path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KaggleError(
                f"{path} can be read by other users",
                f"protect your API key: chmod 600 {path}",
            )
        try:
            keys = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise KaggleError(f"{path} is not valid JSON", "download it again from Kaggle") from exc
        if not (isinstance(keys, dict) and keys.get("username") and keys.get("key")):
            raise KaggleError(f"{path} lacks username or key", "download it again from Kaggle")
        return str(path)
    raise KaggleError(
        "no Kaggle credentials: ~/.kaggle/kaggle.json (or ~/.config/kaggle/kaggle.json) is "
        "missing and KAGGLE_USERNAME / KAGGLE_KEY are not set",
        "create an API token at kaggle.com → Settings → API, save it as ~/.kaggle/kaggle.json "
        f"(chmod 600), or put the competition's files in data/raw/; {SAMPLE_HINT}",
    )


def _scrub(text: str) -> str:
    key = os.environ.get("KAGGLE_KEY")
    return text.replace(key, "***") if key else text


def find_executable() -> str | None:
    """`kaggle` from this project's environment first (pip install -e ".[kaggle]" puts it
    beside the python running this, which `make` does not put on PATH), then from PATH."""
    folder = Path(sys.executable).parent  # not resolved: a venv's python links elsewhere
    for name in ("kaggle", "kaggle.exe"):
        if (folder / name).is_file() and os.access(folder / name, os.X_OK):
            return str(folder / name)
    return shutil.which("kaggle")


def run(slug: str, args: list[str], timeout: float, install_hint: str | None = None) -> str:
    """`kaggle ARGS`; the CLI's output, or a KaggleError that explains the failure."""
    executable = find_executable()
    if executable is None:
        raise KaggleError(
            "the kaggle command is not installed",
            install_hint or f"{INSTALL_HINT}; {SAMPLE_HINT}",
        )
    check_credentials()
    try:
        done = subprocess.run(
            [executable, *args], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise KaggleError(
            f"kaggle {args[0]} {args[1]} took over {timeout:.0f} s", SAMPLE_HINT
        ) from exc
    output = _scrub((done.stdout + "\n" + done.stderr).strip())
    if done.returncode == 0:
        return output
    rules = f"https://www.kaggle.com/competitions/{slug}/rules"
    lowered = output.lower()
    if "403" in output or "rules" in lowered or "forbidden" in lowered:
        raise KaggleError(
            f"Kaggle refused: you must accept the rules of '{slug}' first",
            f"open {rules}, click 'I Understand and Accept', then run the command again",
        )
    if "401" in output or "unauthorized" in lowered:
        raise KaggleError(
            "Kaggle refused the credentials (401)", "create a new API token and save it again"
        )
    if "404" in output or "not found" in lowered:
        raise KaggleError(f"no Kaggle competition named '{slug}'", "check competition.slug")
    last = output.splitlines()[-1] if output else f"exit status {done.returncode}"
    raise KaggleError(f"kaggle {args[0]} {args[1]} failed: {last}", SAMPLE_HINT)


def download(slug: str, dest: Path, timeout: float) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    run(slug, ["competitions", "download", "-c", slug, "-p", str(dest)], timeout)


def submit(slug: str, file: Path, message: str, timeout: float) -> str:
    return run(
        slug,
        ["competitions", "submit", "-c", slug, "-f", str(file), "-m", message],
        timeout,
        install_hint=SUBMIT_INSTALL_HINT,
    )
