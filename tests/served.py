"""A generated project served for real on 127.0.0.1, for the tests that call it over HTTP
(test_operate, test_serve_edges, test_demo): one place for the port, the request and the
wait for /health."""

from __future__ import annotations

import ast
import http.client
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def test_overrides(root: Path) -> list[str]:
    """The project's TEST_OVERRIDES (tests/conftest.py): its quick training settings."""
    tree = ast.parse((root / "tests" / "conftest.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "TEST_OVERRIDES":
            return list(ast.literal_eval(node.value))
    raise AssertionError("no TEST_OVERRIDES in the project's tests/conftest.py")


test_overrides.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def request(
    port: int, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    """(status, headers with lower-case names, body) of one request to 127.0.0.1:port."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        headers = {"content-type": "application/json"} if body is not None else {}
        connection.request(method, path, body=body, headers=headers)
        answer = connection.getresponse()
        return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read()
    finally:
        connection.close()


@contextmanager
def serving(python: Path, root: Path, package: str, log: Path) -> Iterator[int]:
    """`python -m PACKAGE serve` on a free port, once /health answers; stopped after."""
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(python), "-m", package, "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while True:
            assert server.poll() is None, log.read_text()[-3000:]
            try:
                if request(port, "GET", "/health")[0] == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, log.read_text()[-3000:]
            time.sleep(0.3)
        yield port
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def trained_project(dest: Path, kind: str, package: str) -> tuple[Path, Path]:
    """A project of `kind` generated at `dest` and trained on its sample with its quick test
    settings, and its environment's python."""
    from conftest import new_project
    from project_envs import env_python

    root = new_project(dest, kind, package_name=package)
    python = env_python(root)
    done = subprocess.run(
        [str(python), "-m", package, "all", "--sample", *test_overrides(root)],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root / "src")},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return root, python
