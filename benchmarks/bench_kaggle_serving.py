"""Latency and throughput of a Kaggle project's POST /predict for one row, against `serve`
on 127.0.0.1: p50/p95/p99 with one client, then with many concurrent clients, and the
requests per second they got.

    PROJECT/.venv/bin/python benchmarks/bench_kaggle_serving.py PROJECT [--clients 1 50]
        [--requests 300] [--port PORT]

PROJECT is a generated kaggle-entry project with a trained model (`make all`); run this with
a Python that has the project's serve extra (httpx, uvicorn). The server is the project's own
`python -m <package> serve`, started and stopped here; the row is the docs' first example.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def _package(project: Path) -> str:
    found = [p.parent.name for p in (project / "src").glob("*/serve.py")]
    if len(found) != 1:
        sys.exit(f"{project}: not a generated project (no src/<package>/serve.py)")
    return found[0]


def _wait(url: str, server: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"serve exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    sys.exit("serve did not become healthy")


def _example(url: str) -> dict:
    spec = httpx.get(f"{url}/openapi.json", timeout=10).json()
    body = spec["paths"]["/predict"]["post"]["requestBody"]["content"]["application/json"]
    first = next(iter(body["examples"].values()))["value"]
    return {"rows": first["rows"][:1]}


async def _load(url: str, body: bytes, clients: int, requests: int) -> tuple[list[float], float]:
    times: list[float] = []
    left = requests
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    headers = {"content-type": "application/json"}
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        for _ in range(min(clients, 5)):  # warm the connections and the model
            await client.post("/predict", content=body, headers=headers)

        async def worker() -> None:
            nonlocal left
            while left > 0:
                left -= 1
                start = time.perf_counter()
                response = await client.post("/predict", content=body, headers=headers)
                times.append(time.perf_counter() - start)
                if response.status_code != 200:
                    raise SystemExit(f"{response.status_code}: {response.text[:200]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        return times, time.perf_counter() - started


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", type=Path)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 50])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    project = args.project.resolve()
    if not args.port:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            args.port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{args.port}"
    env = {**os.environ, "PYTHONPATH": str(project / "src")}
    command = [sys.executable, "-m", _package(project), "serve", "--port", str(args.port)]
    server = subprocess.Popen(
        command, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        _wait(url, server)
        info = httpx.get(f"{url}/model", timeout=10).json()
        print(f"model: {info.get('model')}")
        body = json.dumps(_example(url)).encode()
        titles = ("clients", "requests", "p50 ms", "p95 ms", "p99 ms", "req/s")
        print("".join(f"{title:>10}" for title in titles))
        for clients in args.clients:
            times, seconds = asyncio.run(_load(url, body, clients, args.requests))
            print(
                f"{clients:>10}{len(times):>10}{_pct(times, 0.50):>10.1f}{_pct(times, 0.95):>10.1f}"
                f"{_pct(times, 0.99):>10.1f}{len(times) / seconds:>10.1f}"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
