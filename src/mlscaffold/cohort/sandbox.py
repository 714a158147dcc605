"""Run untrusted student code in a sandbox made by an existing tool, never as a plain child.

bubblewrap (`bwrap`, Debian's `bubblewrap`) builds each sandbox from nothing: an empty root
with the system's `/usr`, a few files of `/etc` and the grading Python mounted read-only,
the graded project writable at `/grading/project`, the evaluation inputs read-only, a fresh
output folder, and tmpfs for `/tmp` and HOME. Every namespace is new: no network, no view of
other processes or of the instructor's folders and the other students' repositories (they
are simply not there), and its own PID namespace, so every process the student started dies
when the sandbox ends (a `setsid` daemon included). Limits: wall-clock time, memory (per
process, `RLIMIT_DATA`), file size, and output, which is streamed and only its tail kept; and
for the whole step, in a control group of its own (`cgroups.py`), the number of processes and
threads and the memory all of them hold together. Without such a group grading refuses.

A container engine (`docker`/`podman run --network none --read-only`) is the other option;
`unsafe` runs the same steps as plain children and exists only behind `--unsafe`.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import stat
import subprocess
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mlscaffold.cohort import cgroups
from mlscaffold.errors import UsageError

INSIDE = Path("/grading")
# the few files of /etc that programs need; the rest (host keys, shadow, credentials) stay out
ETC = (
    "passwd",
    "group",
    "hosts",
    "nsswitch.conf",
    "ld.so.cache",
    "ld.so.conf",
    "ld.so.conf.d",
    "localtime",
    "alternatives",
    "fonts",
    "ssl",
    "mime.types",
)
GiB = 1 << 30


class SandboxUnavailableError(UsageError):
    """No sandbox can run here: grading refuses unless told --unsafe."""


@dataclass(frozen=True)
class Limits:
    seconds: float
    memory: int = 6 * GiB  # per process: PyTorch on small images stays well under
    file_size: int = 2 * GiB
    output: int = 64 * 1024  # the tail of what the code printed that is kept
    # the whole step, in its cgroup: tasks are processes and threads (PyTorch starts a thread
    # per core), the same number as the containers' --pids-limit; memory is one process at
    # its limit with room for its data-loading workers, and two steps at the cap (graders run
    # two students at once) still leave a 24 GiB machine room for itself
    processes: int = 512
    total_memory: int = 8 * GiB


@dataclass(frozen=True)
class Layout:
    """Host folders of one grading step; `writable` are bound read-write, the others read-only."""

    project: Path
    out: Path
    inputs: Path | None = None
    readonly: tuple[Path, ...] = ()  # the grading Python's folders
    tmp: Path | None = None  # on disk, not tmpfs: a student cannot fill the host's memory
    home: Path | None = None


@dataclass
class Result:
    returncode: int | None
    output: str  # the tail of stdout + stderr
    dropped: int = 0  # bytes of output not kept
    timed_out: bool = False
    seconds: float = 0.0
    limit: str = ""  # "resource limit: ..." when a cap of the whole step stopped it
    peak_memory: int | None = None  # bytes the step held at most, all its processes together

    @property
    def resource_limit(self) -> bool:
        return bool(self.limit)

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out and not self.limit


@dataclass
class Sandbox:
    """One way to run a step; `paths` are the folders as the code inside sees them."""

    name: str
    image: str | None = None  # for docker/podman: Python and the projects' dependencies
    caps: cgroups.Caps | None = None  # where each step's cgroup is made; None: no step caps
    running: set[subprocess.Popen] = field(default_factory=set)

    @property
    def container(self) -> bool:
        return self.name in ("docker", "podman")

    def inside(self, layout: Layout) -> dict[str, Path]:
        if self.name == "unsafe":
            return {"project": layout.project, "out": layout.out, "inputs": layout.inputs or Path()}
        return {"project": INSIDE / "project", "out": INSIDE / "out", "inputs": INSIDE / "inputs"}

    def command(
        self,
        argv: Sequence[str],
        layout: Layout,
        env: dict[str, str],
        limits: Limits | None = None,
    ) -> list[str]:
        if self.name == "bwrap":
            return _bwrap(argv, layout, env)
        if self.container:
            return _container(self.name, self.image or "", argv, layout, env, limits)
        return list(argv)

    def run(
        self, argv: Sequence[str], layout: Layout, env: dict[str, str], limits: Limits
    ) -> Result:
        """Run one step; the sandbox and everything it started are gone when this returns."""
        # the step's first process joins its cgroup before it execs prlimit and the sandbox
        group = self.caps.group(limits.processes, limits.total_memory) if self.caps else None
        command = [*(group.prefix() if group else []), *_limited(limits)]
        command += self.command(argv, layout, env, limits)
        started = time.monotonic()
        try:
            process = subprocess.Popen(
                command,
                cwd=layout.project,
                env=env if self.name == "unsafe" else _host_env(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except BaseException:
            if group:
                group.close()
            raise
        self.running.add(process)
        tail = _Tail(process.stdout, limits.output)  # type: ignore[arg-type]
        timed_out = False
        usage = cgroups.Usage()
        try:
            process.wait(timeout=limits.seconds)
        except subprocess.TimeoutExpired:
            timed_out = True
        finally:
            _kill(process)
            if group:
                usage = group.close()
            self.running.discard(process)
            tail.join()
        return Result(
            None if timed_out else process.returncode,
            tail.text(),
            tail.dropped,
            timed_out,
            round(time.monotonic() - started, 2),
            _reached(usage, limits),
            usage.peak_memory,
        )

    def stop_all(self) -> None:
        for process in list(self.running):
            _kill(process)


class UnsafeOutput(Exception):
    """A file a step left is not a plain file of a sane size (a link, a FIFO, a device...)."""


class OutputMissing(UnsafeOutput):
    """The step wrote no such file."""


class OutputTooLarge(UnsafeOutput):
    """The file is over the size limit."""


def read_output(path: Path, limit: int) -> bytes:
    """Read a file a sandboxed step wrote, never following a link the student put there and
    never reading more than `limit` bytes (a FIFO or /proc file would block or mislead)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        raise OutputMissing(f"{path.name} was not written") from None
    except OSError as exc:
        raise UnsafeOutput(f"{path.name} is not a plain file ({exc.strerror})") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnsafeOutput(f"{path.name} is not a plain file")
        chunks, size = [], 0
        while chunk := os.read(fd, min(1 << 20, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise OutputTooLarge(f"{path.name} is over the limit of {limit} bytes")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _host_env() -> dict[str, str]:
    """What the sandbox tool itself runs with: a PATH and nothing of the instructor's."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def _limited(limits: Limits) -> list[str]:
    """util-linux's prlimit sets the limits the sandbox and all it starts inherit (not a
    preexec_fn: graders run in threads, where that can deadlock)."""
    if shutil.which("prlimit") is None:
        return []
    return [
        "prlimit",
        f"--data={limits.memory}",
        f"--fsize={limits.file_size}",
        "--core=0",
        "--",
    ]


def _reached(usage: cgroups.Usage, limits: Limits) -> str:
    if usage.processes:
        return f"resource limit: more than {limits.processes} processes and threads at once"
    if usage.memory:
        return f"resource limit: more than {limits.total_memory / GiB:g} GiB of memory in all"
    return ""


def _kill(process: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=30)


class _Tail(threading.Thread):
    """Reads a pipe to its end, keeping only the last `limit` bytes: 400 MB printed by a
    student costs nothing but the time to read it."""

    def __init__(self, pipe: object, limit: int) -> None:
        super().__init__(daemon=True)
        self.pipe, self.limit = pipe, limit
        self.kept = bytearray()
        self.dropped = 0
        self.start()

    def run(self) -> None:
        read = self.pipe.read1  # type: ignore[attr-defined]
        while chunk := read(65536):
            self.kept += chunk
            if len(self.kept) > self.limit:
                extra = len(self.kept) - self.limit
                del self.kept[:extra]
                self.dropped += extra
        self.pipe.close()  # type: ignore[attr-defined]

    def text(self) -> str:
        return self.kept.decode("utf-8", "replace")


def _bwrap(argv: Sequence[str], layout: Layout, env: dict[str, str]) -> list[str]:
    command = [
        "bwrap",
        "--unshare-all",  # network, PID, IPC, UTS, cgroup and user namespaces
        "--die-with-parent",
        "--new-session",
        "--cap-drop",
        "ALL",
        "--ro-bind",
        "/usr",
        "/usr",
    ]
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / top
        if path.is_symlink():
            command += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            command += ["--ro-bind", str(path), str(path)]
    for name in ETC:
        if (Path("/etc") / name).exists():
            command += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    # the JDK's own configuration (java.security links there): Spark runs in a sandbox too
    for folder in sorted(Path("/etc").glob("java-*")):
        command += ["--ro-bind", str(folder), str(folder)]
    command += ["--proc", "/proc", "--dev", "/dev"]
    command += ["--bind", str(layout.tmp), "/tmp"] if layout.tmp else ["--tmpfs", "/tmp"]
    # after /tmp: an interpreter that lives under /tmp is mounted over it, not hidden by it
    for folder in layout.readonly:
        command += ["--ro-bind", str(folder), str(folder)]
    command += ["--bind", str(layout.project), str(INSIDE / "project")]
    command += ["--bind", str(layout.out), str(INSIDE / "out")]
    if layout.inputs is not None:
        command += ["--ro-bind", str(layout.inputs), str(INSIDE / "inputs")]
    if layout.home:
        command += ["--bind", str(layout.home), str(INSIDE / "home")]
    else:
        command += ["--tmpfs", str(INSIDE / "home")]
    command += ["--chdir", str(INSIDE / "project")]
    command += ["--clearenv"]
    for key, value in env.items():
        command += ["--setenv", key, value]
    return [*command, "--", *argv]


def _container(
    engine: str,
    image: str,
    argv: Sequence[str],
    layout: Layout,
    env: dict[str, str],
    limits: Limits | None = None,
) -> list[str]:
    limits = limits or Limits(0)
    command = [engine, "run", "--rm", "--network", "none", "--read-only", "--init"]
    command += ["--tmpfs", "/tmp", "--tmpfs", str(INSIDE / "home")]
    # the engine's own cgroup caps the whole container; swap equal to memory: none beyond it
    command += ["--pids-limit", str(limits.processes), "--memory", str(limits.total_memory)]
    command += ["--memory-swap", str(limits.total_memory)]
    command += ["-v", f"{layout.project}:{INSIDE / 'project'}:rw"]
    command += ["-v", f"{layout.out}:{INSIDE / 'out'}:rw"]
    if layout.inputs is not None:
        command += ["-v", f"{layout.inputs}:{INSIDE / 'inputs'}:ro"]
    command += ["-w", str(INSIDE / "project")]
    for key, value in env.items():
        command += ["-e", f"{key}={value}"]
    return [*command, image, *argv]


def _bwrap_works() -> str | None:
    """None when bubblewrap can make a sandbox here, else why not (one line)."""
    if shutil.which("bwrap") is None:
        return "bubblewrap (bwrap) is not installed (Debian: apt-get install bubblewrap)"
    probe = _bwrap(["/usr/bin/true"], Layout(Path("/tmp"), Path("/tmp")), {})
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=30, env=_host_env())
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"bwrap cannot start: {exc}"
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return f"bwrap cannot make a sandbox here ({last}); user namespaces may be disabled"
    return None


def choose(container: str | None, image: str | None, unsafe: bool) -> Sandbox:
    """The sandbox to grade with, or a refusal that says why and what to do."""
    if container:
        if not image:
            raise UsageError(
                f"--container {container} needs --image",
                "an image with Python and the projects' dependencies installed",
            )
        if shutil.which(container) is None:
            raise SandboxUnavailableError(f"{container} is not installed")
        probe = subprocess.run([container, "info"], capture_output=True, text=True)
        if probe.returncode != 0:
            raise SandboxUnavailableError(
                f"{container} cannot reach a container engine here",
                "start the engine, or grade with bubblewrap (drop --container)",
            )
        return Sandbox(container, image)
    if unsafe and os.environ.get("MLSCAFFOLD_SANDBOX") == "none":
        return Sandbox("unsafe")  # benchmarks measure what the sandbox costs with this
    why = _bwrap_works()
    if why is None:
        try:
            return Sandbox("bwrap", caps=cgroups.Caps.find())
        except cgroups.CgroupError as exc:
            if unsafe:
                return Sandbox("bwrap")  # isolated still, but a step's processes are uncapped
            raise SandboxUnavailableError(
                "cannot cap the processes and memory of a grading step (a fork bomb could "
                f"take the machine down): no cgroup can be made here ({exc})",
                "grade as root where cgroup v1 pids and memory are mounted, or from a cgroup "
                "v2 subtree delegated with pids and memory; use --container docker|podman, or "
                "accept the risk with --unsafe",
            ) from None
    if unsafe:
        return Sandbox("unsafe")
    raise SandboxUnavailableError(
        f"no sandbox for student code: {why}",
        "install bubblewrap, use --container docker|podman, or accept the risk with --unsafe",
    )


@dataclass(frozen=True)
class Interpreter:
    """The grading Python and the folders it needs inside a sandbox."""

    python: str
    folders: tuple[Path, ...]
    version: tuple[int, int]

    @property
    def bin(self) -> Path:
        return Path(self.python).parent


IN_IMAGE = Interpreter("/usr/local/bin/python", (), (3, 11))  # a container image's own Python


def interpreter(python: str) -> Interpreter:
    """Ask the grading Python where it lives: those folders are mounted read-only."""
    probe = (
        "import json, sys, sysconfig; print(json.dumps([sys.prefix, sys.base_prefix, "
        "sys.exec_prefix, sys.base_exec_prefix, list(sys.version_info[:2])]))"
    )
    try:
        done = subprocess.run(
            [python, "-I", "-c", probe], capture_output=True, text=True, timeout=60
        )
        *prefixes, version = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired) as exc:
        raise UsageError(f"{python} does not run as a Python interpreter ({exc})") from exc
    folders = {Path(p).resolve() for p in prefixes}
    folders.add(Path(os.path.realpath(python)).parent.parent)
    folders.add(Path(python).absolute().parent.parent)
    kept = tuple(sorted(f for f in folders if not _under(f, Path("/usr"))))
    return Interpreter(str(Path(python).absolute()), kept, (version[0], version[1]))


def _under(path: Path, root: Path) -> bool:
    return path == root or root in path.parents
