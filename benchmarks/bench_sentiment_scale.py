"""How long the sentiment template takes at IMDB's size (25k + 25k reviews of ~230 words).

    python benchmarks/bench_sentiment_scale.py [--model nbsvm|tfidf_logreg]
    (needs ../shared/datasets/sst2-glue; runs in an environment built from the generated
    project's own dependencies, see tests/project_envs.py)

The real IMDB archive is not available offline here, so this builds a stand-in in the official
`aclImdb/{train,test}/{pos,neg}/*.txt` layout from SST-2 sentences (real English, real
vocabulary), each review ten sentences of one polarity, serves it from 127.0.0.1 and runs the
generated project's `data`, `train` and `evaluate` steps. The timings are the point; the
accuracy is not IMDB's.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import http.server
import io
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
SST2 = ROOT.parent / "shared" / "datasets" / "sst2-glue" / "train.tsv"
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "tests"))


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


def stand_in_archive(path: Path, per_split: int = 25_000, sentences: int = 10) -> None:
    with SST2.open(encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE))[1:]
    pools = {
        "pos": [r[0] for r in rows if r[1] == "1" and len(r[0]) > 40],
        "neg": [r[0] for r in rows if r[1] == "0" and len(r[0]) > 40],
    }
    rng = random.Random(0)
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for split in ("train", "test"):
            for i in range(per_split):
                polarity = "pos" if i % 2 else "neg"
                text = " ".join(rng.choices(pools[polarity], k=sentences)).encode()
                info = tarfile.TarInfo(f"aclImdb/{split}/{polarity}/{i}_7.txt")
                info.size = len(text)
                tar.addfile(info, io.BytesIO(text))


def main() -> None:
    from project_envs import env_python

    from mlscaffold.generate import NewRequest, generate

    parser = argparse.ArgumentParser(description="time the sentiment pipeline at IMDB's size")
    parser.add_argument("--model", default="nbsvm", choices=["nbsvm", "tfidf_logreg"])
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mlscaffold-scale-") as tmp_name:
        tmp = Path(tmp_name)
        os.environ["HOME"] = str(tmp / "home")
        served = tmp / "served"
        served.mkdir()
        archive = served / "aclImdb_v1.tar.gz"
        started = time.perf_counter()
        stand_in_archive(archive)
        print(
            f"stand-in archive: {archive.stat().st_size / 1e6:.1f} MB "
            f"in {time.perf_counter() - started:.1f} s"
        )
        handler = functools.partial(_QuietHandler, directory=str(served))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()

        root = tmp / "imdb-scale"
        generate(
            NewRequest(
                kind="sentiment-classifier",
                dest=root,
                defaults=True,
                git=False,
                data={"package_name": "scale"},
            )
        )
        config_path = root / "configs" / "config.yaml"
        config = yaml.safe_load(config_path.read_text())
        config["data"]["url"] = f"http://127.0.0.1:{server.server_address[1]}/{archive.name}"
        config["data"]["checksum"] = "md5:" + hashlib.md5(archive.read_bytes()).hexdigest()
        config["model"]["type"] = args.model
        config_path.write_text(yaml.safe_dump(config))
        env = {**os.environ, "PYTHONPATH": str(root / "src")}
        python = str(env_python(root))
        for step in ("data", "train", "evaluate"):
            started = time.perf_counter()
            done = subprocess.run(
                [python, "-m", "scale", step],
                cwd=root,
                env=env,
                capture_output=True,
                text=True,
            )
            if done.returncode != 0:
                sys.exit(done.stderr[-2000:])
            last = done.stderr.strip().splitlines()[-1]
            print(f"{step:9s} {time.perf_counter() - started:7.1f} s   {last}")
        server.shutdown()


if __name__ == "__main__":
    main()
