#!/usr/bin/env bash
# Grade one shard of the class of @@ASSIGNMENT@@ (written by `mlscaffold cohort init`; the
# GitHub Actions workflow, the Kubernetes Job and the Slurm array all run it):
#   grade-shard.sh ASSIGNMENT REPOS PART [more `cohort grade` options]
# The shard comes from the engine (`--shard auto`): MLSCAFFOLD_SHARD=K/N, an Indexed Job's
# JOB_COMPLETION_INDEX with MLSCAFFOLD_SHARDS, or a Slurm array's SLURM_ARRAY_TASK_ID.
# Student code only ever runs in bubblewrap's sandbox: without one this stops (exit 2). Where
# no control group can cap each grading step (a pod on a cgroup v2 node, a Slurm task), it
# grades with the job's own limits as the cap of the whole shard and says so; set
# MLSCAFFOLD_REQUIRE_CAPS=1 to refuse instead. Exit 0 when the shard was graded, even if some
# repositories could not be (the partial names them; `cohort merge` reports them).
set -euo pipefail
if [ "$#" -lt 3 ]; then
  echo "usage: $0 ASSIGNMENT REPOS PART [cohort grade options]" >&2
  exit 2
fi
assignment=$1
repos=$2
part=$3
shift 3
python=${MLSCAFFOLD_PYTHON:-python3}

if ! bwrap --unshare-all --die-with-parent --ro-bind / / true; then
  echo "error: bubblewrap cannot make a sandbox here: see the security notes in" \
    "$assignment/deploy/ (privileged pod, user namespaces)" >&2
  exit 2
fi
extra=()
if ! "$python" -c 'from mlscaffold.cohort.cgroups import Caps; Caps.find()' 2>/dev/null; then
  if [ "${MLSCAFFOLD_REQUIRE_CAPS:-0}" = 1 ]; then
    echo "error: no control group with pids and memory caps can be made here" >&2
    exit 2
  fi
  echo "warning: no per-step control group here: bubblewrap still isolates each step, and" \
    "this job's own limits (memory, processes) cap the whole shard" >&2
  extra=(--unsafe)
fi

status=0
"$python" -m mlscaffold cohort grade "$assignment" "$repos" --shard auto --out "$part" \
  ${extra[@]+"${extra[@]}"} "$@" || status=$?
if [ "$status" -eq 1 ]; then
  echo "note: some repositories could not be graded; the merge lists them" >&2
  status=0
fi
exit "$status"
