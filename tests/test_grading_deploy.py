"""What `cohort init` writes for grading a large class on GitHub Actions, Kubernetes and Slurm
(issue 28): the files are checked with the engines' own linters and schemas (actionlint with
shellcheck, the Kubernetes OpenAPI schema, bash -n and shellcheck, hadolint), and the two
chores they run (fetching a shard's repositories, the shard wrapper) are run for real."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import git, run_cli

from mlscaffold.cohort import deploy, roster, shards
from mlscaffold.cohort import preset as presets

KIND = "sentiment-classifier"
BIN = os.path.dirname(sys.executable)


def _tool(name: str) -> str:
    """A linter the test extra installs into the environment's bin."""
    found = shutil.which(name) or shutil.which(name, path=BIN)
    assert found, f"{name} is a test dependency (pip install -e '.[test]')"
    return found


@pytest.fixture
def assignment(tmp_path: Path) -> Path:
    folder = tmp_path / "hw1"
    presets.init(folder, KIND, {"python_version": "3.11"}, "0.4.0")
    return folder


def test_cohort_init_writes_every_engines_files(tmp_path: Path) -> None:
    done = run_cli("cohort", "init", str(tmp_path / "hw1"), "--kind", KIND)
    assert done.returncode == 0, done.stderr
    folder = tmp_path / "hw1"
    for relative in deploy.FILES.values():
        text = (folder / relative).read_text()
        assert "@@" not in text and "hw1" in text, relative
    for name in ("grade-shard.sh", "grade-array.sbatch", "merge.sbatch"):
        assert os.access(folder / "deploy" / name, os.X_OK), name
    # shards on many machines must hold out the same rows: the seed exists to be committed
    assert (folder / ".mlscaffold" / "seed").read_text().strip().isdigit()
    version = yaml.safe_load((folder / "cohort.yml").read_text())["version"]
    assert f"mlscaffold=={version}" in (folder / "deploy" / "grade-array.sbatch").read_text()

    workflow = folder / ".github" / "workflows" / "grade-class.yml"
    workflow.write_text("# mine\n")
    deploy.write(folder, presets.read(folder))
    assert workflow.read_text() == "# mine\n", "an instructor's edit is kept"


def test_workflow_passes_actionlint_and_shellcheck(assignment: Path, tmp_path: Path) -> None:
    actionlint, shellcheck = _tool("actionlint"), _tool("shellcheck")
    env = {**os.environ, "PATH": f"{Path(shellcheck).parent}{os.pathsep}{os.environ['PATH']}"}
    workflow = assignment / ".github" / "workflows" / "grade-class.yml"
    linted = subprocess.run(
        [actionlint, "-no-color", str(workflow)], capture_output=True, text=True, env=env
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr
    # the linters do look: a step script shellcheck objects to is reported
    broken = tmp_path / "broken.yml"
    broken.write_text(workflow.read_text().replace('"$ASSIGNMENT/cohort.yml"', "$ASSIGNMENT/*"))
    linted = subprocess.run(
        [actionlint, "-no-color", str(broken)], capture_output=True, text=True, env=env
    )
    assert linted.returncode != 0 and "shellcheck" in linted.stdout


def test_workflow_grades_shards_as_root_and_merges(assignment: Path) -> None:
    text = (assignment / ".github" / "workflows" / "grade-class.yml").read_text()
    flow = yaml.safe_load(text)
    inputs = flow[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads `on` as True
    assert inputs["shards"]["default"] == deploy.SHARDS and inputs["assignment"]["default"] == "."
    assert flow["env"]["PYTHON_VERSION"] == "3.11"
    plan, grade, merge = (flow["jobs"][name] for name in ("plan", "grade", "merge"))
    assert grade["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    assert grade["env"]["MLSCAFFOLD_SHARD"] == "${{ matrix.shard }}/${{ inputs.shards }}"
    assert grade["strategy"]["fail-fast"] is False

    steps = {step.get("name", step.get("uses", "")): step for step in grade["steps"]}
    token_steps = [s for s in grade["steps"] if "STUDENT_REPOS_TOKEN" in str(s)]
    assert [s["name"] for s in token_steps] == ["Fetch this shard's repositories"]
    assert "--shard auto" in token_steps[0]["run"]
    install = steps["Install bubblewrap and mlscaffold"]["run"]
    assert "install -y -qq bubblewrap" in install
    assert "kernel.apparmor_restrict_unprivileged_userns=0" in install
    assert 'pip install --quiet "mlscaffold==$VERSION"' in install
    graded = steps["Grade (as root, from the root control group)"]["run"]
    assert "sudo env" in graded and "/sys/fs/cgroup/cgroup.procs" in graded
    assert "MLSCAFFOLD_REQUIRE_CAPS=1" in graded and "grade-shard.sh" in graded
    upload = steps["actions/upload-artifact@v6"]
    assert upload["with"]["path"] == "${{ env.PART }}" and "cancelled" in upload["if"]

    # the grading environment is cached where the grader looks for it
    assert flow["env"]["MLSCAFFOLD_ENV_CACHE"] == "/home/runner/.cache/mlscaffold/envs"
    restore = steps["actions/cache/restore@v5"]["with"]
    assert restore["path"] == "${{ env.MLSCAFFOLD_ENV_CACHE }}"
    assert restore["key"] == "${{ needs.plan.outputs.env-key }}"
    plan_run = next(s["run"] for s in plan["steps"] if s.get("id") == "plan")
    assert "cohort.yml" in plan_run and ".mlscaffold/seed" in plan_run
    assert "hashFiles(format('{0}/cohort.yml', inputs.assignment))" in text

    assert merge["needs"] == ["plan", "grade"] and "!cancelled()" in merge["if"]
    merge_run = next(s["run"] for s in merge["steps"] if s.get("name", "").startswith("Merge"))
    assert 'cohort merge "$ASSIGNMENT" parts/part-*' in merge_run
    assert '>> "$GITHUB_STEP_SUMMARY"' in merge_run
    assert "grades.csv" in merge["steps"][-1]["with"]["path"]


def _manifests(assignment: Path, name: str) -> list[dict]:
    return list(yaml.safe_load_all((assignment / "deploy" / name).read_text()))


def test_kubernetes_manifests_match_the_schema(assignment: Path) -> None:
    kubernetes_validate = pytest.importorskip(
        "kubernetes_validate", reason="a test dependency (pip install -e '.[test]')"
    )
    version = kubernetes_validate.latest_version()
    claim, job = _manifests(assignment, "grade-job.yaml")
    (merge,) = _manifests(assignment, "merge-job.yaml")
    for manifest in (claim, job, merge):
        kubernetes_validate.validate(manifest, version, strict=True)
    misspelt = yaml.safe_load(yaml.safe_dump(job))
    misspelt["spec"]["completionMod"] = misspelt["spec"].pop("completionMode")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, version, strict=True)

    spec = job["spec"]
    assert spec["completionMode"] == "Indexed"
    assert spec["completions"] == spec["parallelism"] == deploy.SHARDS
    pod = spec["template"]["spec"]
    (fetch,), (grade,) = pod["initContainers"], pod["containers"]
    shards = {c["name"]: {e["name"]: e.get("value") for e in c["env"]} for c in (fetch, grade)}
    assert shards["fetch"]["MLSCAFFOLD_SHARDS"] == shards["grade"]["MLSCAFFOLD_SHARDS"] == "4"
    assert "STUDENT_REPOS_TOKEN" in shards["fetch"] and "STUDENT_REPOS_TOKEN" not in str(grade)
    assert fetch["command"][:4] == ["python", "-m", "mlscaffold.cohort.deploy", "fetch"]
    assert grade["securityContext"] == {"privileged": True}
    assert pod["automountServiceAccountToken"] is False
    assert "grade-shard.sh" in grade["args"][0] and "$JOB_COMPLETION_INDEX" in grade["args"][0]
    claim_name = claim["metadata"]["name"]
    for manifest in (job, merge):
        volumes = manifest["spec"]["template"]["spec"]["volumes"]
        assert {"persistentVolumeClaim": {"claimName": claim_name}, "name": "parts"} in volumes
    merged = merge["spec"]["template"]["spec"]["containers"][0]
    assert "cohort merge /assignment" in merged["args"][0]
    assert merged["env"] == [{"name": "MLSCAFFOLD_SHARDS", "value": "4"}]


def test_dockerfile_passes_hadolint_and_pins_the_grader(assignment: Path) -> None:
    dockerfile = (assignment / "deploy" / "Dockerfile").read_text()
    assert "ARG PYTHON_VERSION=3.11" in dockerfile and "ARG MLSCAFFOLD_VERSION=0.4.0" in dockerfile
    assert "bubblewrap" in dockerfile and "deploy prepare /assignment" in dockerfile
    linted = subprocess.run(
        [_tool("hadolint"), "--no-color", "deploy/Dockerfile"],
        cwd=assignment,
        capture_output=True,
        text=True,
    )
    assert linted.returncode == 0, linted.stdout + linted.stderr


SBATCH = re.compile(r"^#SBATCH --[a-z][a-z-]*=\S+$")


def test_slurm_scripts_are_valid_bash_with_wellformed_sbatch_lines(assignment: Path) -> None:
    shellcheck = _tool("shellcheck")
    for name in ("grade-array.sbatch", "merge.sbatch", "grade-shard.sh"):
        script = assignment / "deploy" / name
        assert subprocess.run(["bash", "-n", str(script)]).returncode == 0, name
        checked = subprocess.run([shellcheck, str(script)], capture_output=True, text=True)
        assert checked.returncode == 0, checked.stdout
        lines = script.read_text().splitlines()
        directives = [i for i, line in enumerate(lines) if line.startswith("#SBATCH")]
        if name == "grade-shard.sh":
            continue
        first_command = next(
            i for i, line in enumerate(lines) if line.strip() and not line.startswith("#")
        )
        assert directives and max(directives) < first_command, f"{name}: sbatch stops reading"
        for i in directives:
            assert SBATCH.match(lines[i]), lines[i]
    array = (assignment / "deploy" / "grade-array.sbatch").read_text()
    assert "#SBATCH --array=0-3\n" in array and "--dependency=afterok:" in array


def _plan(assignment: Path, tmp_path: Path, shards: str) -> dict[str, str] | None:
    """The workflow's plan step run as Actions would: its outputs, or None when it fails."""
    flow = yaml.safe_load((assignment / ".github" / "workflows" / "grade-class.yml").read_text())
    script = next(s["run"] for s in flow["jobs"]["plan"]["steps"] if s.get("id") == "plan")
    output = tmp_path / "github_output"
    output.write_text("")
    env = {
        **os.environ,
        "ASSIGNMENT": str(assignment),
        "SHARDS": shards,
        "PY": "3.11.9",
        "COHORT": "abc",
        "RUNNER_OS": "Linux",
        "GITHUB_OUTPUT": str(output),
    }
    done = subprocess.run(["bash", "-e", "-c", script], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        return None
    return dict(line.split("=", 1) for line in output.read_text().splitlines())


def test_the_plan_makes_every_shard_of_the_class_once(assignment: Path, tmp_path: Path) -> None:
    outputs = _plan(assignment, tmp_path, "4")
    assert outputs == {
        "shards": "[0,1,2,3]",
        "version": "0.4.0",
        "env-key": "mlscaffold-grading-env-Linux-py3.11.9-abc",
    }
    students = [roster.Student(f"s{i:03}", "N", "", f"u{i}") for i in range(40)]
    picked = []
    for k in yaml.safe_load(outputs["shards"]):  # MLSCAFFOLD_SHARD as the matrix sets it
        picked += shards.select(students, shards.from_environment({"MLSCAFFOLD_SHARD": f"{k}/4"}))
    assert sorted(s.student_id for s in picked) == [s.student_id for s in students]
    assert _plan(assignment, tmp_path, "1")["shards"] == "[0]"
    for bad in ("0", "257", "x", ""):
        assert _plan(assignment, tmp_path, bad) is None, bad
    (assignment / ".mlscaffold" / "seed").unlink()
    assert _plan(assignment, tmp_path, "4") is None, "shards would hold out different rows"


def _class(assignment: Path, remotes: Path, count: int) -> list[str]:
    """A roster of `count` students and a bare remote for each."""
    rows = [f"s{i:02},Student {i},,user-{i}" for i in range(count)]
    (assignment / presets.ROSTER).write_text(",".join(roster.COLUMNS) + "\n" + "\n".join(rows))
    work = remotes / "work"
    work.mkdir(parents=True)
    git(work, "init", "-q", "-b", "main")
    (work / "answer.py").write_text("x = 1\n")
    git(work, "add", ".")
    git(work, "commit", "-q", "-m", "start")
    names = [f"hw1-user-{i}" for i in range(count)]
    for name in names:
        git(remotes, "clone", "-q", "--bare", str(work), f"{name}.git")
    return names


def test_fetch_clones_only_its_shard_as_grade_names_them(
    assignment: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    remotes = tmp_path / "remotes"
    names = _class(assignment, remotes, count=8)
    students = roster.read(assignment / presets.ROSTER)
    mine = [f"hw1-{s.handle}" for s in shards.select(students, shards.Shard(1, 2))]
    assert 2 <= len(mine) < len(names), "the test's split is informative"
    shutil.rmtree(remotes / f"{mine[0]}.git")  # a student who never made their repository
    monkeypatch.setenv("STUDENT_REPOS_TOKEN", "secret-token")
    monkeypatch.setenv("MLSCAFFOLD_SHARD", "1/2")
    repos = tmp_path / "repos"
    url = f"file://{remotes}/{{repo}}.git"
    code = deploy.main(["fetch", str(assignment), str(repos), "--shard", "auto", "--url", url])
    assert code == 0, "one missing repository is the grader's to report, not the fetch's"
    assert sorted(p.name for p in repos.iterdir()) == sorted(mine[1:])
    clone = repos / mine[1]
    assert (clone / ".git").is_dir() and [p.name for p in clone.iterdir()] == [".git"]
    assert "secret-token" not in (clone / ".git" / "config").read_text()
    # run again: what is there is kept; a whole shard missing is a wrong owner, URL or token
    assert deploy.main(["fetch", str(assignment), str(repos), "--shard", "1/2", "--url", url]) == 0
    everyone = tmp_path / "everyone"
    assert deploy.main(["fetch", str(assignment), str(everyone), "--url", url]) == 0
    assert len(list(everyone.iterdir())) == len(names) - 1
    nowhere = f"file://{tmp_path}/nowhere/{{repo}}.git"
    assert deploy.main(["fetch", str(assignment), str(tmp_path / "r2"), "--url", nowhere]) == 1


def test_the_token_travels_in_the_environment_only() -> None:
    env = deploy._git_env("https://github.com/course/hw1-ada.git", "secret-token")
    assert env["GIT_CONFIG_KEY_0"] == "http.extraHeader"
    assert env["GIT_CONFIG_VALUE_0"].startswith("AUTHORIZATION: basic ")
    assert "secret-token" not in env["GIT_CONFIG_VALUE_0"]  # base64, and masked in logs
    assert "GIT_CONFIG_KEY_0" not in deploy._git_env("git@github.com:c/r.git", "secret-token")


def _fakes(tmp_path: Path, bwrap: int, caps: int, grade: int) -> dict[str, str]:
    """bwrap and a Python that record what grade-shard.sh asked of them."""
    fake = tmp_path / "fake"
    fake.mkdir(exist_ok=True)
    log = tmp_path / "calls.log"
    (fake / "bwrap").write_text(f"#!/bin/sh\nexit {bwrap}\n")
    (fake / "python").write_text(
        f'#!/bin/sh\necho "$*" >> {log}\ncase "$1" in -c) exit {caps} ;; esac\nexit {grade}\n'
    )
    for tool in fake.iterdir():
        tool.chmod(0o755)
    log.write_text("")
    return {
        "PATH": f"{fake}{os.pathsep}{os.environ['PATH']}",
        "MLSCAFFOLD_PYTHON": str(fake / "python"),
        "MLSCAFFOLD_SHARD": "1/2",
    }


@pytest.mark.parametrize(
    ("bwrap", "caps", "grade", "require", "status", "unsafe"),
    [
        (0, 0, 0, "0", 0, False),  # sandbox and caps: graded as is
        (0, 0, 1, "0", 0, False),  # some repositories not graded: the merge says which
        (0, 0, 2, "0", 2, False),  # the assignment's own problem stops the shard
        (0, 1, 0, "0", 0, True),  # no per-step group: the job's limits cap the shard
        (0, 1, 0, "1", 2, False),  # ... unless caps are required (GitHub Actions)
        (1, 0, 0, "0", 2, False),  # never without a sandbox
    ],
)
def test_grade_shard_needs_a_sandbox_and_says_what_caps_it(
    assignment: Path,
    tmp_path: Path,
    bwrap: int,
    caps: int,
    grade: int,
    require: str,
    status: int,
    unsafe: bool,
) -> None:
    env = {**os.environ, **_fakes(tmp_path, bwrap, caps, grade)}
    env["MLSCAFFOLD_REQUIRE_CAPS"] = require
    script = assignment / "deploy" / "grade-shard.sh"
    done = subprocess.run(
        ["bash", str(script), str(assignment), "repos", "parts/shard-1", "--jobs", "2"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == status, done.stderr
    graded = [c for c in (tmp_path / "calls.log").read_text().splitlines() if c.startswith("-m")]
    if bwrap or (caps and require == "1"):
        assert graded == [], "no grading without the sandbox it needs"
        return
    (call,) = graded
    assert call.startswith(f"-m mlscaffold cohort grade {assignment} repos --shard auto")
    assert "--out parts/shard-1" in call and call.endswith("--jobs 2")
    assert ("--unsafe" in call) is unsafe
    assert ("cap the whole shard" in done.stderr) is unsafe


def test_prepare_makes_the_reference_and_its_environment_once(
    assignment: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from mlscaffold.cohort import environment

    asked: list[Path] = []

    def python_for(reference: Path, **_: object) -> Path:
        asked.append(reference)
        return Path("/envs/abc/bin/python")

    monkeypatch.setattr(environment, "python_for", python_for)
    assert deploy.main(["prepare", str(assignment)]) == 0
    assert asked == [assignment / ".reference" / "0.4.0"]
    assert (asked[0] / "pyproject.toml").is_file(), "the environment is built from its pyproject"
