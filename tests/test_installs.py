"""Locked installs: `new` writes and commits uv.lock, `make install` uses uv (or says why not).

Fast: uv and the project's python are faked where the real ones would need the package index;
the real `uv lock` + `make install` + pipeline is tests/test_generated_projects.py's
test_make_install_then_pipeline (MLSCAFFOLD_INSTALL_TEST=1). These generate from templates/ as
they are now (cut into a bundle for the session), not from the shipped bundle.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import run_cli
from current_templates import current_bundle  # noqa: F401 (a fixture)

from mlscaffold import catalog, source, uvlock
from mlscaffold.generate import NewRequest, generate

# a PATH with make, git and sh but no uv (nor the test environment's python)
BARE_PATH = "/usr/bin:/bin"
MAKE = shutil.which("make", path=BARE_PATH) or "make"
tomllib = pytest.importorskip("tomllib")


@pytest.fixture(autouse=True)
def templates_now(
    isolated_home: Path,
    current_bundle: Path,  # noqa: F811 (the fixture)
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Path]:
    monkeypatch.setenv(source.SHIPPED_ENV, str(current_bundle))
    monkeypatch.delenv("MLSCAFFOLD_NO_LOCK")  # these tests are about locking
    yield current_bundle


def _script(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


def _fake_uv(folder: Path, log: Path, lock_exit: int = 0) -> Path:
    """A uv that logs its arguments; `uv lock` writes a lock (or fails like uv offline)."""
    fail = 'echo "error: Failed to fetch: https://pypi.org/simple/numpy/" >&2; exit 2'
    _script(
        folder / "uv",
        f'echo "$@" >> "{log}"\n'
        'if [ "$1" = "--version" ]; then echo "uv 0.99.0 (fake)"; exit 0; fi\n'
        'if [ "$1" = "lock" ]; then '
        + (fail if lock_exit else "echo 'version = 1' > uv.lock")
        + "; fi\n"
        f'if [ "$1" = "sync" ]; then exit {lock_exit}; fi\n',
    )
    return folder


def _tracked(root: Path) -> list[str]:
    done = subprocess.run(["git", "ls-files"], cwd=root, capture_output=True, text=True)
    return done.stdout.split()


def test_new_locks_before_the_first_commit_and_no_lock_skips_it(tmp_path: Path) -> None:
    log = tmp_path / "uv.log"
    fake = _fake_uv(tmp_path / "bin", log)
    # no shipped lock: `uv lock` resolves one (the shipped ones: the tests below)
    env = {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", uvlock.LOCKS_ENV: str(tmp_path)}
    done = run_cli("new", "sentiment-classifier", str(tmp_path / "p"), "--defaults", env=env)
    assert done.returncode == 0, done.stderr
    assert "locking dependencies with uv" in done.stderr + done.stdout
    assert "dependencies locked (uv.lock)" in done.stdout
    assert "uv.lock" in _tracked(tmp_path / "p")  # in the first commit, not left beside it
    assert log.read_text().startswith("lock")

    log.unlink()
    done = run_cli(
        "new", "sentiment-classifier", str(tmp_path / "q"), "--defaults", "--no-lock", env=env
    )
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "q" / "uv.lock").exists() and not log.exists()
    assert "uv.lock" not in done.stdout


def test_offline_generation_takes_the_shipped_lock(tmp_path: Path) -> None:
    """The real uv with the network off and an empty cache: the lock shipped for the
    template version is renamed for the project, found to fit, and committed."""
    env = {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "empty-cache")}
    done = run_cli(
        "new", "recommender", str(tmp_path / "p"), "--defaults", "-d", "package_name=my_recs",
        env=env,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "dependencies locked to the versions tested with this template" in done.stderr
    lock = (tmp_path / "p" / "uv.lock").read_text(encoding="utf-8")
    assert 'name = "my-recs"' in lock and uvlock.PLACEHOLDER not in lock
    assert "uv.lock" in _tracked(tmp_path / "p")
    assert "no uv.lock" not in done.stderr, done.stderr


def test_offline_generation_succeeds_without_a_lock_and_says_how_to_add_it(
    tmp_path: Path,
) -> None:
    """No shipped lock that fits and the network off: no uv.lock, one note with `make
    lock`, nothing half-made (no staging folder, the project committed)."""
    env = {
        "UV_OFFLINE": "1",
        "UV_CACHE_DIR": str(tmp_path / "empty-cache"),
        uvlock.LOCKS_ENV: str(tmp_path / "no-locks"),
    }
    done = run_cli("new", "recommender", str(tmp_path / "p"), "--defaults", env=env)
    assert done.returncode == 0, done.stderr
    assert not (tmp_path / "p" / "uv.lock").exists()
    notes = [line for line in done.stderr.splitlines() if line.startswith("note: no uv.lock")]
    assert len(notes) == 1 and "make lock" in notes[0], done.stderr
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging
    assert "Makefile" in _tracked(tmp_path / "p")


def test_offline_image_generation_names_pytorchs_index_and_torch_index(tmp_path: Path) -> None:
    """The image kind's lock needs PyTorch's own index as well as PyPI: the note names it,
    TORCH_INDEX for where it never answers, and the Makefile's advice on that lock."""
    env = {"UV_OFFLINE": "1", "UV_CACHE_DIR": str(tmp_path / "empty-cache")}
    done = run_cli("new", "image-classifier", str(tmp_path / "p"), "--defaults", env=env)
    assert done.returncode == 0, done.stderr
    (note,) = [line for line in done.stderr.splitlines() if line.startswith("note: no uv.lock")]
    assert "https://download.pytorch.org/whl/cpu" in note
    assert "make install TORCH_INDEX=<a mirror of it>" in note and "make lock" in note
    makefile = (tmp_path / "p" / "Makefile").read_text(encoding="utf-8")
    (advice,) = [line for line in makefile.splitlines() if line.startswith("TORCH_LOCK_ADVICE =")]
    assert advice.split(" = ", 1)[1] in note
    assert "works without it" not in note, "not where PyTorch's index cannot be reached"


def test_cohort_repositories_share_the_shipped_lock(tmp_path: Path) -> None:
    """Every student's first commit holds the same uv.lock (no resolution per repository,
    so a cohort installs the same versions); --no-lock leaves it out."""
    assignment = tmp_path / "hw1"
    assert run_cli("cohort", "init", str(assignment), "--kind", "kaggle-entry").returncode == 0
    roster = assignment / "roster.csv"
    roster.write_text("student_id,name,email,github_user\ns1,A,,a\ns2,B,,b\n", encoding="utf-8")
    args = ["cohort", "new", str(assignment), "--roster", str(roster)]
    done = run_cli(*args, "--out", str(tmp_path / "repos"), "--jobs", "2", timeout=300)
    assert done.returncode == 0, done.stderr
    made = sorted((tmp_path / "repos").iterdir())
    assert len(made) == 2 and all("uv.lock" in _tracked(repo) for repo in made)
    first, second = ((repo / "uv.lock").read_bytes() for repo in made)
    assert first == second and uvlock.PLACEHOLDER.encode() not in first

    done = run_cli(*args, "--out", str(tmp_path / "bare"), "--no-lock", timeout=300)
    assert done.returncode == 0, done.stderr
    assert not list((tmp_path / "bare").glob("*/uv.lock"))


@pytest.mark.parametrize("kind", [k.name for k in catalog.available()])
def test_shipped_lock_fits_the_templates(
    tmp_path: Path, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each kind's shipped lock matches today's templates (uv checks it offline, from an
    empty cache): a dependency changed in templates/ without `scripts/release.py` fails
    here. A kind needing PyTorch's own index may ship none (it cannot be resolved here)."""
    archive = uvlock.shipped_lock(kind)
    if not archive.is_file():
        assert catalog.get(kind).heavy, f"no {archive.name}: run scripts/release.py"
        pytest.skip(f"{kind} ships no lock (resolved where PyTorch's index answers)")
    root = _project(tmp_path, kind)
    monkeypatch.setenv("UV_CACHE_DIR", str(tmp_path / "empty-cache"))
    meta = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    python, name = meta["requires-python"].removeprefix(">="), meta["name"]
    assert uvlock.adopt_shipped(root, kind, name, python), "shipped lock does not fit"
    lock = (root / "uv.lock").read_text(encoding="utf-8")
    assert f'name = "{uvlock.dist_name(name)}"' in lock and uvlock.PLACEHOLDER not in lock

    # a dependency the lock does not hold: refused, and no lock is left behind
    pyproject = root / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace("dependencies = [", 'dependencies = [\n  "tabulate",', 1))
    (root / "uv.lock").unlink()
    assert not uvlock.adopt_shipped(root, kind, name, python)
    assert not (root / "uv.lock").exists()


def test_a_failing_uv_leaves_no_lock_and_generation_succeeds(tmp_path: Path) -> None:
    log = tmp_path / "uv.log"
    fake = _fake_uv(tmp_path / "bin", log, lock_exit=2)
    env = {"PATH": f"{fake}{os.pathsep}{os.environ['PATH']}", uvlock.LOCKS_ENV: str(tmp_path)}
    done = run_cli("new", "kaggle-entry", str(tmp_path / "p"), "--defaults", env=env)
    assert done.returncode == 0, done.stderr
    assert f"note: no uv.lock ({uvlock.OFFLINE_WORDS})" in done.stderr, done.stderr
    assert not (tmp_path / "p" / "uv.lock").exists()


def _project(tmp_path: Path, kind: str) -> Path:
    root = tmp_path / "p"
    generate(NewRequest(kind=kind, dest=root, defaults=True, git=False))
    return root


def _make_install(root: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "install", *(f"{k}={v}" for k, v in env.items() if k.isupper() and k != "PATH")],
        cwd=root,
        env={**os.environ, "PATH": env.get("PATH", BARE_PATH)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.skipif(not shutil.which("make", path=BARE_PATH), reason="needs make in /usr/bin")
def test_make_install_bootstraps_uv_and_falls_back_to_pip(tmp_path: Path) -> None:
    """No uv on PATH: uv is installed into .venv/.uv with pip and syncs --locked from
    uv.lock; where that pip install fails, plain pip installs the project. The project's
    python is a fake that logs what it is asked."""
    assert not shutil.which("uv", path=BARE_PATH), "this machine has uv in /usr/bin"
    root = _project(tmp_path, "sentiment-classifier")
    log = tmp_path / "python.log"
    python = _script(
        root / ".venv" / "bin" / "python",
        f'echo "$@" >> "{log}"\n'
        'case "$*" in *--target*) [ -n "$BOOTSTRAP_FAILS" ] && exit 1;;\nesac\n'
        'case "$*" in *--target*) mkdir -p .venv/.uv/bin && '
        f'cp "{tmp_path}/bin/uv" .venv/.uv/bin/uv;; esac\n',
    )
    uv_log = tmp_path / "uv.log"
    _fake_uv(tmp_path / "bin", uv_log)
    (root / "uv.lock").write_text("version = 1\n")

    done = _make_install(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "install: uv is not on PATH: installing it into .venv/.uv with pip" in done.stdout
    assert "-m pip install --quiet --disable-pip-version-check --target .venv/.uv uv" in (
        log.read_text()
    )
    assert "sync --locked --extra dev --extra serve" in uv_log.read_text()
    assert "install: uv sync --locked --extra dev --extra serve into .venv (uv 0.99.0)" in (
        done.stdout
    )
    done = _make_install(root)  # the bootstrapped uv is reused, not installed again
    assert "not on PATH" not in done.stdout and log.read_text().count("--target") == 1

    shutil.rmtree(root / ".venv" / ".uv")
    log.unlink()
    done = subprocess.run(
        ["make", "install"],
        cwd=root,
        env={**os.environ, "PATH": BARE_PATH, "BOOTSTRAP_FAILS": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "install: uv could not be installed: falling back to pip" in done.stdout
    assert log.read_text().splitlines()[-1] == "-m pip install -e .[dev,serve]"
    assert python.is_file()


@pytest.mark.skipif(not shutil.which("make", path=BARE_PATH), reason="needs make in /usr/bin")
def test_make_install_adds_pip_to_a_venv_uv_made_without_it(tmp_path: Path) -> None:
    """An earlier `make install` found uv on PATH, so .venv has no pip; this one does not
    find uv: pip is added with ensurepip, then uv is bootstrapped into .venv/.uv as usual
    (it failed with "No module named pip")."""
    root = _project(tmp_path, "sentiment-classifier")
    log, no_pip = tmp_path / "python.log", tmp_path / "no-pip"
    _script(
        root / ".venv" / "bin" / "python",
        f'echo "$@" >> "{log}"\n'
        f'case "$*" in "-m pip --version") [ -e "{no_pip}" ] && exit 1; exit 0;; esac\n'
        f'case "$*" in "-m ensurepip"*) rm -f "{no_pip}"; exit 0;; esac\n'
        f'case "$*" in *--target*) [ -e "{no_pip}" ] && exit 1; mkdir -p .venv/.uv/bin && '
        f'cp "{tmp_path}/bin/uv" .venv/.uv/bin/uv;; esac\n',
    )
    no_pip.touch()
    _fake_uv(tmp_path / "bin", tmp_path / "uv.log")
    (root / "uv.lock").write_text("version = 1\n")
    done = _make_install(root)
    assert done.returncode == 0, done.stdout + done.stderr
    assert log.read_text().splitlines() == [
        "-m pip --version",
        "-m ensurepip --default-pip",
        "-m pip install --quiet --disable-pip-version-check --target .venv/.uv uv",
    ]
    assert "sync --locked --extra dev --extra serve" in (tmp_path / "uv.log").read_text()


@pytest.mark.skipif(not shutil.which("make", path=BARE_PATH), reason="needs make in /usr/bin")
def test_image_install_names_torch_index_when_pytorch_is_unreachable(tmp_path: Path) -> None:
    root = _project(tmp_path, "image-classifier")
    meta = tomllib.loads((root / "pyproject.toml").read_text())
    assert meta["tool"]["uv"]["sources"]["torch"] == {"index": "pytorch-cpu"}
    index = meta["tool"]["uv"]["index"][0]
    assert index["url"] == "https://download.pytorch.org/whl/cpu" and index["explicit"]
    uv_log = tmp_path / "uv.log"
    fake = _fake_uv(tmp_path / "bin", uv_log, lock_exit=1)
    path = f"{fake}{os.pathsep}{BARE_PATH}"
    done = _make_install(root, PATH=path, TORCH_INDEX="http://127.0.0.1:9/whl/cpu")
    assert done.returncode != 0
    errors = [line for line in done.stderr.splitlines() if "TORCH_INDEX" in line]
    assert errors == [
        "error: PyTorch's wheel index http://127.0.0.1:9/whl/cpu cannot be reached from here: "
        "make install TORCH_INDEX=<a mirror of it>"
    ], done.stderr
    assert "sync --index pytorch-cpu=http://127.0.0.1:9/whl/cpu --extra dev" in (uv_log.read_text())
    assert "uv.lock is resolved again against it" in done.stdout
    assert not (root / ".torch-index").exists(), "an index that failed is not remembered"
    # make lock's hint names make lock, not make install
    done = _make(root, "lock", PATH=path, TORCH_INDEX="http://127.0.0.1:9/whl/cpu")
    assert done.returncode != 0
    assert "cannot be reached from here: make lock TORCH_INDEX=<a mirror of it>" in done.stderr
    assert "make install" not in done.stderr, done.stderr
    # no TORCH_INDEX at all: PyTorch's own index, and no mention of a .torch-index there is not
    done = _make_install(root, PATH=path)
    assert done.returncode != 0
    assert [line for line in done.stderr.splitlines() if "TORCH_INDEX" in line] == [
        "error: PyTorch's wheel index https://download.pytorch.org/whl/cpu cannot be reached "
        "from here: make install TORCH_INDEX=<a mirror of it>"
    ], done.stderr


def _make(root: Path, target: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MAKE, target, *(f"{k}={v}" for k, v in env.items() if k != "PATH")],
        cwd=root,
        env={**os.environ, "PATH": env.get("PATH", BARE_PATH)},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def wheel_indexes(tmp_path: Path) -> Iterator[str]:
    """A local server with two indexes' torch pages: /general/ like PyPI's (no local
    versions: on Linux, CUDA builds) and /cpu/ like PyTorch's CPU index (+cpu wheels)."""
    import functools
    import threading
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    pages = {
        "general": "torch-2.5.1-cp311-cp311-manylinux1_x86_64.whl",
        "cpu": "torch-2.5.1%2Bcpu-cp311-cp311-linux_x86_64.whl",
    }
    for name, wheel in pages.items():
        (tmp_path / "www" / name / "torch").mkdir(parents=True)
        (tmp_path / "www" / name / "torch" / "index.html").write_text(
            f'<a href="{wheel}">{wheel}</a>\n'
        )

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path / "www"))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.skipif(not shutil.which("make", path=BARE_PATH), reason="needs make in /usr/bin")
def test_image_torch_index_is_remembered_and_a_general_index_is_announced(
    tmp_path: Path, wheel_indexes: str
) -> None:
    """TORCH_INDEX given once is written to .torch-index and used by later make install
    and make lock; an index without CPU-only torch wheels is announced (on Linux: CUDA
    PyTorch, gigabytes) before uv starts; TORCH_INDEX= forgets it."""
    root = _project(tmp_path, "image-classifier")
    uv_log = tmp_path / "uv.log"
    fake = _fake_uv(tmp_path / "bin", uv_log)
    # uv says when it starts to install, on stderr: the warning must come before it
    uv = fake / "uv"
    start = '#!/bin/sh\n[ "$1" = sync ] && echo UV-SYNCS >&2\n'
    uv.write_text(uv.read_text().replace("#!/bin/sh\n", start, 1))
    path = f"{fake}{os.pathsep}{BARE_PATH}"
    general = f"{wheel_indexes}/general"

    done = _make(root, "install", PATH=path, TORCH_INDEX=general)
    assert done.returncode == 0, done.stdout + done.stderr
    warning = done.stderr.find("no +cpu wheels of torch")
    assert -1 < warning < done.stderr.find("UV-SYNCS"), done.stderr
    assert "CUDA build, about 5.7 GB" in done.stderr and "Ctrl-C" in done.stderr
    assert (root / ".torch-index").read_text().strip() == general
    assert "TORCH_INDEX remembered in .torch-index" in done.stdout
    assert "resolved against TORCH_INDEX" in done.stdout  # no uv.lock yet: not "commit it"
    assert "commit it" not in done.stdout

    uv_log.unlink()
    done = _make(root, "install", PATH=path)  # no TORCH_INDEX given: the remembered one
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"sync --index pytorch-cpu={general} --extra dev" in uv_log.read_text()
    assert "(remembered in .torch-index)" in done.stdout
    done = _make(root, "lock", PATH=path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"lock --index pytorch-cpu={general}" in uv_log.read_text()
    assert "keep that uv.lock out of your commits" in done.stdout

    cpu = f"{wheel_indexes}/cpu"  # a mirror of PyTorch's CPU index: nothing to warn about
    done = _make(root, "install", PATH=path, TORCH_INDEX=cpu)
    assert done.returncode == 0 and "no +cpu wheels" not in done.stderr, done.stderr
    assert (root / ".torch-index").read_text().strip() == cpu

    uv_log.unlink()
    done = _make(root, "install", PATH=path, TORCH_INDEX="")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (root / ".torch-index").exists() and "TORCH_INDEX forgotten" in done.stdout
    assert "sync --locked --extra dev" in uv_log.read_text()  # make lock above wrote uv.lock


@pytest.mark.skipif(not shutil.which("make", path=BARE_PATH), reason="needs make in /usr/bin")
def test_make_lock_installs_uv_itself_instead_of_sending_to_make_install(tmp_path: Path) -> None:
    """Without uv, make lock bootstraps it as make install does (make install --locked would
    refuse the pyproject.toml edit that make lock is for); where that fails, it says so."""
    root = _project(tmp_path, "sentiment-classifier")
    _fake_uv(tmp_path / "bin", tmp_path / "uv.log")
    _script(
        root / ".venv" / "bin" / "python",
        '[ -n "$BOOTSTRAP_FAILS" ] && exit 1\n'
        f'mkdir -p .venv/.uv/bin && cp "{tmp_path}/bin/uv" .venv/.uv/bin/uv\n',
    )
    done = _make(root, "lock", BOOTSTRAP_FAILS="1")
    assert done.returncode != 0
    assert "error: make lock needs uv, and pip could not install it" in done.stderr
    assert "make install" not in done.stderr, done.stderr
    done = _make(root, "lock")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "lock: uv is not on PATH: installing it into .venv/.uv with pip" in done.stdout
    assert (tmp_path / "uv.log").read_text().splitlines()[-1].startswith("lock")


@pytest.mark.skipif(not shutil.which("make", path=BARE_PATH), reason="needs make in /usr/bin")
def test_make_docker_says_what_is_missing(tmp_path: Path) -> None:
    """No docker, or docker with no engine running: one line saying which, and podman."""
    root = _project(tmp_path, "sentiment-classifier")
    (root / "models" / "run.json").write_text("{}")
    nothing = tmp_path / "empty"  # a PATH where neither docker nor podman is (sh's builtins do)
    nothing.mkdir()
    done = _make(root, "docker", PATH=str(nothing))
    assert done.returncode != 0
    assert "error: make docker needs docker, not installed here" in done.stderr, done.stderr
    assert "make docker DOCKER=podman" in done.stderr
    log = tmp_path / "docker.log"
    _script(
        tmp_path / "engine" / "docker",
        f'echo "$@" >> "{log}"\n'
        '[ "$1" = info ] && { echo "Cannot connect to the Docker daemon" >&2; exit 1; }\n',
    )
    done = _make(root, "docker", PATH=f"{tmp_path / 'engine'}{os.pathsep}{BARE_PATH}")
    assert done.returncode != 0
    assert "error: make docker needs a running docker engine" in done.stderr, done.stderr
    assert "Cannot connect" not in done.stderr and "build" not in log.read_text()
    done = _make(root, "docker-run", PATH=str(nothing), DOCKER="podman")
    assert "error: make docker-run needs podman, not installed here" in done.stderr
