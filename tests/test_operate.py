"""Operating a generated project's service: a real `serve` process answers /metrics in
Prometheus' text format over HTTP on 127.0.0.1, and `make loadtest`'s script loads it (the
project trained on its sample in an
environment of its own dependencies), and every kind's deploy/k8s/ manifests, as `make k8s`
writes them, validate against the Kubernetes schema and agree with the Dockerfile (port,
user, health check path). Projects are generated from templates/ as they are now."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import new_project
from current_templates import current_bundle, templates_now  # noqa: F401 (fixtures)
from served import request, serving, trained_project

from mlscaffold import catalog

PACKAGE = "operated"
KIND = "sentiment-classifier"  # a light kind: scikit-learn, seconds to train
N = 5
# a sample line of Prometheus' text format: name{labels} value
SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$")
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def _samples(text: str) -> dict[tuple[str, frozenset], float]:
    samples = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, f"not Prometheus' text format: {line!r}"
        name, labels, value = match.groups()
        samples[(name, frozenset(LABEL.findall(labels or "")))] = float(value)
    return samples


def _value(samples: dict, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, have), v in samples.items() if n == name and wanted <= have)


@pytest.fixture
def trained(templates_now: Path, tmp_path: Path) -> tuple[Path, Path]:  # noqa: F811
    """A sentiment-classifier project trained on its sample, and its environment's python."""
    return trained_project(tmp_path / "project", KIND, PACKAGE)


def test_a_real_server_answers_metrics_and_a_load_test_over_http(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    root, python = trained
    log = tmp_path / "server.log"
    with serving(python, root, PACKAGE, log) as port:
        status, _, spec = request(port, "GET", "/openapi.json")
        content = json.loads(spec)["paths"]["/predict"]["post"]["requestBody"]["content"]
        good = json.dumps(content["application/json"]["examples"]["sample"]["value"]).encode()
        for _ in range(N):
            assert request(port, "POST", "/predict", good)[0] == 200
        assert request(port, "POST", "/predict", b'{"nosuch": 1}')[0] == 422
        loadtest = [f"--url=http://127.0.0.1:{port}", "--requests=7", "--concurrency=2"]
        done = subprocess.run(
            [str(python), "-m", f"{PACKAGE}.plumbing.loadtest", *loadtest],
            cwd=root,
            env={**os.environ, "PYTHONPATH": str(root / "src")},
            capture_output=True,
            text=True,
            timeout=300,
        )
        status, headers, body = request(port, "GET", "/metrics")
    assert done.returncode == 0, done.stdout + done.stderr
    report = (root / "reports" / "serving.md").read_text(encoding="utf-8")
    for route in ("GET /health", "POST /predict"):
        assert f"| {route} | 7 | 0 |" in report and f"| {route} | 7 | 0 |" in done.stdout
    assert status == 200 and headers["content-type"].startswith("text/plain"), headers
    samples = _samples(body.decode())
    ok = {"method": "POST", "route": "/predict", "status": "200"}
    sent = N + 7  # and the load test's
    assert _value(samples, "http_requests_total", **ok) == sent
    assert _value(samples, "http_request_duration_seconds_count", **ok) == sent
    assert _value(samples, "http_request_duration_seconds_bucket", **ok, le="+Inf") == sent
    bad = {**ok, "status": "422"}
    assert _value(samples, "http_request_errors_total", **bad) == 1
    texts = len(json.loads(good)["texts"])
    assert _value(samples, "predicted_labels_total", route="/predict") == sent * texts
    assert _value(samples, "predicted_score_count", route="/predict") == sent * texts
    run_id = json.loads((root / "models" / "run.json").read_text())["run_id"]
    assert _value(samples, "model_info", kind=KIND, run_id=run_id) == 1
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    # the Grafana dashboard asks for series this server really exports, by their labels
    for title, metric, labels in _dashboard_reads(root):
        carried = [have for (name, have), _ in samples.items() if name == metric]
        assert carried, f"{title!r} reads {metric}, which /metrics does not export"
        assert any(labels <= {k for k, _ in have} for have in carried), (title, metric, labels)


# panels every kind's dashboard has (the README names them)
SHARED_PANELS = ("Requests per second", "Error ratio", "Latency (p50, p95, p99)", "Served model")
ADDED_BY_PROMETHEUS = frozenset({"job", "instance"})  # labels a scrape adds to every series


def _dashboard_reads(root: Path) -> list[tuple[str, str, frozenset[str]]]:
    """(panel title, metric, the labels its query names) for every series that
    deploy/grafana/dashboard.json reads; each query must parse as PromQL."""
    import promql_parser

    dashboard = json.loads((root / "deploy" / "grafana" / "dashboard.json").read_text())
    reads = []
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            query = promql_parser.parse(target["expr"].replace("$job", ".*"))
            metrics, labels = [], set()

            def visit(node: object, metrics: list = metrics, labels: set = labels) -> None:
                if isinstance(node, promql_parser.VectorSelector):
                    metrics.append(node.name)
                    labels.update(m.name for m in node.matchers.matchers)
                elif isinstance(node, promql_parser.AggregateExpr) and node.modifier:
                    labels.update(node.modifier.labels)

            promql_parser.walk(query, visit)
            assert metrics, (panel["title"], target["expr"])
            named = frozenset(labels) - ADDED_BY_PROMETHEUS
            reads += [(panel["title"], metric, named) for metric in metrics]
    return reads


@pytest.mark.parametrize(
    ("kind", "answers"),
    [pytest.param(kind.name, {}, id=kind.name) for kind in catalog.available()]
    + [
        pytest.param(kind.name, answers, id=f"{kind.name}-{answers['task']}")
        for kind in catalog.available()
        for answers in kind.variants
        if answers.get("task") == "regression"
    ],
)
def test_the_grafana_dashboard_reads_what_serve_exports(
    templates_now: Path,  # noqa: F811 (a fixture)
    tmp_path: Path,
    kind: str,
    answers: dict[str, str],
) -> None:
    """Grafana's import format, queries that parse, and only metrics plumbing/metrics.py
    declares (the sentiment kind's live /metrics is checked against it above)."""
    root = new_project(
        tmp_path / "project",
        kind,
        **{"package_name": PACKAGE, "project_name": 'A "q" \\', **answers},
    )
    dashboard = json.loads((root / "deploy" / "grafana" / "dashboard.json").read_text())
    assert dashboard["title"].startswith('A "q" \\')
    inputs = {f"${{{i['name']}}}" for i in dashboard["__inputs"] if i["pluginId"] == "prometheus"}
    titles = [panel["title"] for panel in dashboard["panels"]]
    assert set(SHARED_PANELS) <= set(titles) and len(titles) > len(SHARED_PANELS), titles
    readme = " ".join((root / "README.md").read_text(encoding="utf-8").split())
    assert all(title in readme for title in SHARED_PANELS), "the README names the panels"
    assert len({panel["id"] for panel in dashboard["panels"]}) == len(titles)
    cells = set()
    for panel in dashboard["panels"]:
        assert panel["datasource"]["uid"] in inputs, panel["title"]
        box = panel["gridPos"]
        area = {
            (x, y)
            for x in range(box["x"], box["x"] + box["w"])
            for y in range(box["y"], box["y"] + box["h"])
        }
        assert box["x"] + box["w"] <= 24 and not cells & area, f"{panel['title']} overlaps"
        cells |= area
        assert len({t["refId"] for t in panel["targets"]}) == len(panel["targets"])
    source = (root / "src" / PACKAGE / "plumbing" / "metrics.py").read_text(encoding="utf-8")
    declared = set()
    for family, name in re.findall(r'\b(Counter|Histogram|Gauge)\(\s*"(\w+)"', source):
        suffixes = {"Counter": ("_total",), "Histogram": ("_bucket", "_count", "_sum")}
        declared |= {name + end for end in suffixes.get(family, ("",))}
    assert "http_request_duration_seconds_bucket" in declared, sorted(declared)
    for title, metric, _ in _dashboard_reads(root):
        assert metric in declared, f"{title!r} reads {metric}, which metrics.py does not declare"


# the oldest Kubernetes minor still in common managed offerings, and the newest the
# validator knows
K8S_VERSIONS = ("1.29.0", "latest")


@pytest.mark.parametrize(
    ("kind", "answers"),
    [pytest.param(kind.name, {}, id=kind.name) for kind in catalog.available()]
    + [pytest.param(KIND, {"package_name": "p" * 39 + "_"}, id="name ending in _")],
)
def test_k8s_manifests_validate_and_agree_with_the_image(
    templates_now: Path,  # noqa: F811 (a fixture)
    tmp_path: Path,
    kind: str,
    answers: dict[str, str],
) -> None:
    import kubernetes_validate
    import yaml

    root = new_project(tmp_path / "project", kind, **{"package_name": PACKAGE, **answers})
    image = "registry.example.com/team/model:1.2.3"
    done = subprocess.run(
        ["make", "-s", "k8s", f"IMAGE={image}"], cwd=root, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    documents = [doc for doc in yaml.safe_load_all(done.stdout) if doc is not None]
    found = {doc["kind"]: doc for doc in documents}
    assert set(found) == {"Deployment", "Service", "HorizontalPodAutoscaler"}, list(found)
    for version in K8S_VERSIONS:
        wanted = kubernetes_validate.latest_version() if version == "latest" else version
        for doc in documents:
            kubernetes_validate.validate(doc, wanted, strict=True)

    # what the Dockerfile says the image does: its port, user and health check
    dockerfile = (root / "Dockerfile").read_text(encoding="utf-8")
    check = dockerfile[dockerfile.index("\nHEALTHCHECK ") :]
    health = re.search(r"http://127\.0\.0\.1:(\d+)(/[^'\"]*)", check)
    assert health, "no HEALTHCHECK URL in the Dockerfile"
    port, path = int(health.group(1)), health.group(2)
    user = int(re.search(r"^USER (\d+)$", dockerfile, re.MULTILINE).group(1))
    assert f"EXPOSE {port}" in dockerfile

    deployment, service = found["Deployment"], found["Service"]
    pod = deployment["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["image"] == image
    assert container["imagePullPolicy"] == "IfNotPresent"  # an image `kind load`ed is used
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        get = container[probe]["httpGet"]
        assert get["path"] == path, (probe, get)
        assert ports.get(get["port"], get["port"]) == port, (probe, get)
    security = {**pod["spec"]["securityContext"], **container["securityContext"]}
    assert security["runAsNonRoot"] is True and security["runAsUser"] == user
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert tmp and "emptyDir" in volumes[tmp[0]["name"]], "no scratch /tmp"
    assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    assert "memory" in container["resources"]["limits"]
    annotations = pod["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert int(annotations["prometheus.io/port"]) == port
    labels = pod["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert service["spec"]["selector"].items() <= labels.items()
    assert ports.get(service["spec"]["ports"][0]["targetPort"]) == port
    target = found["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])

    written = tmp_path / "manifests"
    done = subprocess.run(
        ["make", "-s", "k8s", f"IMAGE={image}", f"K8S_OUT={written}"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in written.iterdir()) == sorted(
        p.name for p in (root / "deploy" / "k8s").iterdir()
    )
    assert image in (written / "deployment.yaml").read_text(encoding="utf-8")
    refused = subprocess.run(
        ["make", "-s", "k8s", "IMAGE=not an image"], cwd=root, capture_output=True, text=True
    )
    assert refused.returncode != 0 and "IMAGE" in refused.stderr


def test_a_server_without_metrics_answers_predict_and_no_metrics(
    trained: tuple[Path, Path], tmp_path: Path
) -> None:
    """serve.py leaves /metrics and its middleware out when plumbing/metrics.py cannot be
    imported (a serve extra from before prometheus-client was in it): the build that
    benchmarks/bench_metrics_overhead.py measures /predict without metrics against, started
    the same way (the module blocked in sys.modules)."""
    root, python = trained
    blocked = tmp_path / "python-without-metrics"
    blocked.write_text(
        f"#!{python}\n"
        "import runpy, sys\n"
        f"sys.modules[{PACKAGE + '.plumbing.metrics'!r}] = None\n"
        "sys.argv = sys.argv[2:]  # called as: this -m PACKAGE serve ...\n"
        "runpy.run_module(sys.argv[0], run_name='__main__', alter_sys=True)\n",
        encoding="utf-8",
    )
    blocked.chmod(0o755)
    log = tmp_path / "server.log"
    with serving(blocked, root, PACKAGE, log) as port:
        spec = request(port, "GET", "/openapi.json")[2]
        content = json.loads(spec)["paths"]["/predict"]["post"]["requestBody"]["content"]
        good = json.dumps(content["application/json"]["examples"]["sample"]["value"]).encode()
        assert request(port, "POST", "/predict", good)[0] == 200
        assert request(port, "GET", "/metrics")[0] == 404
        assert "/metrics" not in json.loads(spec)["paths"]
    assert "no /metrics" in log.read_text(), log.read_text()[-3000:]
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
