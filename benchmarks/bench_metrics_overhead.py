"""What `/metrics` costs POST /predict, and what `make loadtest` measures, for a generated
project served for real on 127.0.0.1: p50/p95/p99 and requests per second of /predict with
the Prometheus middleware on and off, and with 1 and with many concurrent clients.

    PYTHON benchmarks/bench_metrics_overhead.py PROJECT [--clients 1 50] [--requests 300]
        [--rounds 3] [--overhead-clients 1]

PROJECT is a generated project with a trained model (`make all`, or `all --sample`); PYTHON
has the project's serve and dev extras (its `make install` environment: uvicorn, httpx,
prometheus-client). Each measurement starts the project's own `python -m <package> serve`,
waits for /health, sends 20 warm-up requests and runs the project's load test
(`python -m <package>.plumbing.loadtest`, what `make loadtest` runs) against it.

/metrics cannot be switched off in configs/config.yaml: serve.py leaves the middleware and
the route out when `plumbing.metrics` cannot be imported (prometheus-client missing), so the
"off" server is started with that module blocked (`sys.modules[...] = None`), which is
exactly the build without the middleware; this script checks that /metrics answers 404
there and 200 in the "on" one. On and off alternate, `--rounds` times each, and the medians
are compared (one round is noisy on a shared machine: client and server share its cores).
Then, less exposed to that noise, both servers run at once and one client sends /predict's
example to each in turn (`--interleaved` pairs of requests): both see the same moments of a
busy machine, and the difference of their percentiles is the middleware's.
"""

from __future__ import annotations

import argparse
import http.client
import importlib
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

NUMBER = r" \| ([\d.]+)"
QUANTILES = (50, 75, 90, 95, 99)
ROW = re.compile(r"^\| POST /predict \| (\d+) \| (\d+)" + NUMBER * 4 + r" \|")


def _package(project: Path) -> str:
    found = [p.parent.name for p in (project / "src").glob("*/serve.py")]
    if len(found) != 1:
        sys.exit(f"{project}: not a generated project (no src/<package>/serve.py)")
    return found[0]


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(port: int, path: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


class Server:
    """`python -m PACKAGE serve` on a free port; `metrics=False`: plumbing.metrics blocked."""

    def __init__(self, python: str, project: Path, package: str, metrics: bool) -> None:
        self.port = _port()
        argv = [package, "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        block = "" if metrics else f"sys.modules[{package + '.plumbing.metrics'!r}] = None; "
        code = (
            f"import runpy, sys; {block}sys.argv = {argv!r}; "
            f"runpy.run_module({package!r}, run_name='__main__', alter_sys=True)"
        )
        env = {**os.environ, "PYTHONPATH": str(project / "src")}
        self.log = (project / f"bench-serve-{self.port}.log").open("w")
        self.process = subprocess.Popen(
            [python, "-c", code], cwd=project, env=env, stdout=self.log, stderr=subprocess.STDOUT
        )

    def __enter__(self) -> Server:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"serve exited with {self.process.returncode}: see {self.log.name}")
            try:
                if _get(self.port, "/health") == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        sys.exit(f"serve did not answer /health in 180 s: see {self.log.name}")

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
        Path(self.log.name).unlink(missing_ok=True)


def loadtest(python: str, project: Path, package: str, port: int, requests: int, clients: int):
    """The project's load test of its example requests: /predict's (count, errors, req/s,
    p50, p95, p99)."""
    done = subprocess.run(
        [python, "-m", f"{package}.plumbing.loadtest", f"--url=http://127.0.0.1:{port}",
         f"--requests={requests}", f"--concurrency={clients}", "--seconds=300"],
        cwd=project,
        env={**os.environ, "PYTHONPATH": str(project / "src")},
        capture_output=True,
        text=True,
        timeout=900,
    )  # fmt: skip
    for line in done.stdout.splitlines():
        match = ROW.match(line)
        if match:
            count, errors = int(match[1]), int(match[2])
            return count, errors, *(float(match[i]) for i in range(3, 7))
    sys.exit(f"no POST /predict row in the load test's output:\n{done.stdout}\n{done.stderr}")


def measure(args: argparse.Namespace, project: Path, package: str, metrics: bool, clients: int):
    with Server(args.python, project, package, metrics) as server:
        expected = 200 if metrics else 404
        status = _get(server.port, "/metrics")
        if status != expected:
            sys.exit(f"/metrics answered {status}, not {expected} (metrics {metrics})")
        loadtest(args.python, project, package, server.port, 20, 1)  # warm-up
        return loadtest(args.python, project, package, server.port, args.requests, clients)


def _percentiles(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    at = {f"p{q}": ordered[max(0, -(-q * len(ordered) // 100) - 1)] * 1000 for q in QUANTILES}
    return {**at, "mean": statistics.fmean(ordered) * 1000, "n": len(ordered)}


def interleaved(args: argparse.Namespace, project: Path, package: str) -> dict[str, dict]:
    """/predict's example sent to a server with metrics and one without, in turn, from one
    client: each one's latency percentiles (ms)."""
    import httpx  # the project's dev extra

    sys.path.insert(0, str(project / "src"))
    plumbing = importlib.import_module(f"{package}.plumbing.loadtest")
    paths = importlib.import_module(f"{package}.plumbing.paths").Paths(project)
    method, path, arguments = next(r for r in plumbing.requests_for(paths) if r[1] == "/predict")
    latencies: dict[bool, list[float]] = {True: [], False: []}
    with (
        Server(args.python, project, package, True) as on,
        Server(args.python, project, package, False) as off,
        httpx.Client(base_url=f"http://127.0.0.1:{on.port}", timeout=60) as with_metrics,
        httpx.Client(base_url=f"http://127.0.0.1:{off.port}", timeout=60) as without,
    ):
        clients = {True: with_metrics, False: without}
        assert with_metrics.get("/metrics").status_code == 200
        assert without.get("/metrics").status_code == 404
        for i in range(args.interleaved + 20):  # the first 20 pairs: warm-up
            for metrics in (True, False) if i % 2 else (False, True):
                began = time.perf_counter()
                answer = clients[metrics].request(method, path, **arguments)
                took = time.perf_counter() - began
                if answer.status_code != 200:
                    sys.exit(f"/predict answered {answer.status_code}: {answer.text[:300]}")
                if i >= 20:
                    latencies[metrics].append(took)
    return {"on": _percentiles(latencies[True]), "off": _percentiles(latencies[False])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--python", default=sys.executable, help="the project's environment")
    parser.add_argument("--clients", type=int, nargs="*", default=[1, 50])
    parser.add_argument("--requests", type=int, default=300, help="per load test")
    parser.add_argument("--rounds", type=int, default=3, help="on/off pairs for the overhead")
    parser.add_argument("--overhead-clients", type=int, default=1)
    parser.add_argument("--interleaved", type=int, default=2000, help="request pairs (0: none)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    project = args.project.resolve()
    package = _package(project)
    figures: dict = {"project": str(project), "package": package, "load": {}, "overhead": {}}
    print(f"{project.name}: POST /predict, {args.requests} requests a load test")
    print(f"{'metrics':<9}{'clients':>8}{'errors':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
          f"{'p99 ms':>9}")  # fmt: skip
    for clients in args.clients:
        _, errors, rate, p50, p95, p99 = measure(args, project, package, True, clients)
        figures["load"][clients] = {"errors": errors, "rps": rate, "p50": p50, "p95": p95,
                                    "p99": p99}  # fmt: skip
        print(f"{'on':<9}{clients:>8}{errors:>8}{rate:>9.1f}{p50:>9.1f}{p95:>9.1f}{p99:>9.1f}")
    if args.rounds:
        p95s: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(args.rounds):
            for metrics in (False, True):
                _, errors, rate, p50, p95, p99 = measure(
                    args, project, package, metrics, args.overhead_clients
                )
                p95s[metrics].append(p95)
                shown = "on" if metrics else "off"
                print(f"{shown:<9}{args.overhead_clients:>8}{errors:>8}{rate:>9.1f}{p50:>9.1f}"
                      f"{p95:>9.1f}{p99:>9.1f}")  # fmt: skip
        on, off = statistics.median(p95s[True]), statistics.median(p95s[False])
        figures["overhead"] = {
            "clients": args.overhead_clients,
            "p95_on": p95s[True],
            "p95_off": p95s[False],
            "median_on": on,
            "median_off": off,
        }
        print(f"p95 /predict, median of {args.rounds}: metrics on {on:.2f} ms, off {off:.2f} ms, "
              f"{(on / off - 1) * 100:+.1f}%")  # fmt: skip
    if args.interleaved:
        pairs = interleaved(args, project, package)
        figures["interleaved"] = pairs
        on_, off_ = pairs["on"], pairs["off"]
        print(f"interleaved, {args.interleaved} pairs: p50/p95/p99 on "
              f"{on_['p50']:.2f}/{on_['p95']:.2f}/{on_['p99']:.2f} ms, off "
              f"{off_['p50']:.2f}/{off_['p95']:.2f}/{off_['p99']:.2f} ms, p95 "
              f"{(on_['p95'] / off_['p95'] - 1) * 100:+.1f}%")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
