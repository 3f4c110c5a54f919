#!/usr/bin/env bash
# Submits a scenario to Slurm as a job array, one shard per task, and a merge
# job that runs when every task has succeeded:
#   sbatch --array=1-N   limitnet run SCENARIO --shard $SLURM_ARRAY_TASK_ID/N
#   sbatch --dependency=afterok:ARRAY   limitnet merge SCENARIO
set -euo pipefail

PROG=sweep-slurm.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

usage() {
  cat <<EOF
usage: scripts/$PROG SCENARIO.json [--shards N] [--cpus-per-task C] [--partition P]
                      [--time T] [--wait] [--dry-run]

Submits the scenario's shards as one Slurm job array, task K running
  limitnet run SCENARIO.json --shard K/N -j \${SLURM_CPUS_PER_TASK:-1} --quiet
and a merge job, dependent on the array (--dependency=afterok, cancelled if
a task fails), running
  limitnet merge SCENARIO.json
which writes results.csv and summary.json in the scenario's output
directory, byte for byte what one \`limitnet run\` would write. Prints the two
job ids. Job scripts and logs go to OUTPUT/slurm/ (tasks: ARRAYID_TASK.out,
merge: merge-JOBID.out). Shards are fixed, cost-balanced slices of the cells
and every cell is written atomically: when a task died, submitting again (or
\`sbatch --array=K\` of OUTPUT/slurm/shard.sh) computes only what is missing.

The jobs run the binary and the scenario by absolute path, in the current
directory (sbatch --chdir), where the scenario's "output" and file names are
resolved: that directory, the binary, the dataset
(/usr/share/datasets/fashion-mnist) and the model files must be at the
same paths on every node, and the output directory shared by all of them.

  SCENARIO.json        the scenario
  --shards N           array tasks (default: the number of cells, at most 100)
  --cpus-per-task C    CPUs per task, each shard's thread count (default 1)
  --partition P        sbatch --partition
  --time T             sbatch --time for each task and the merge
  --wait               wait until the merge job ends (sbatch --wait) and exit
                       with its status: 0 only when it completed and wrote
                       results.csv
  --dry-run            print the job scripts and sbatch commands; submit nothing
  -h, --help           this help

Environment: LIMITNET, the limitnet binary (default: bin/limitnet of this
repository, $ROOT/bin/limitnet); SLURM_CONF and the other variables
sbatch reads.

Exit status: 0 submitted (with --wait: merged); 1 sbatch failed, or with
--wait a task or the merge failed; 2 bad usage, a missing or bad scenario,
or sbatch missing.
EOF
}

bad_usage() {
  echo "$PROG: $*" >&2
  echo "usage: scripts/$PROG SCENARIO.json [--shards N] [--cpus-per-task C] [--partition P] [--time T] [--wait] [--dry-run] (--help for more)" >&2
  exit 2
}

for a in "$@"; do
  case "$a" in -h|--help) usage; exit 0 ;; esac
done

SCENARIO="" SHARDS="" CPUS=1 PARTITION="" TIME="" WAIT=0 DRY=0
need() { [ "$2" -ge 2 ] || bad_usage "$1 wants a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) need "$1" $#; SHARDS=$2; shift 2 ;;
    --shards=*) SHARDS=${1#*=}; shift ;;
    --cpus-per-task|-c) need "$1" $#; CPUS=$2; shift 2 ;;
    --cpus-per-task=*) CPUS=${1#*=}; shift ;;
    --partition|-p) need "$1" $#; PARTITION=$2; shift 2 ;;
    --partition=*) PARTITION=${1#*=}; shift ;;
    --time|-t) need "$1" $#; TIME=$2; shift 2 ;;
    --time=*) TIME=${1#*=}; shift ;;
    --wait) WAIT=1; shift ;;
    --dry-run|-n) DRY=1; shift ;;
    -*) bad_usage "unknown option: $1" ;;
    *) [ -z "$SCENARIO" ] || bad_usage "one scenario only (got $SCENARIO and $1)"; SCENARIO=$1; shift ;;
  esac
done
[ -n "$SCENARIO" ] || bad_usage "no scenario given"
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || bad_usage "$1 wants a positive number, got '$2'"; }
[ -z "$SHARDS" ] || posint --shards "$SHARDS"
posint --cpus-per-task "$CPUS"
[ -f "$SCENARIO" ] || { echo "$PROG: $SCENARIO: no such file" >&2; exit 2; }
if [ "$DRY" -eq 0 ]; then
  command -v sbatch >/dev/null ||
    { echo "$PROG: sbatch is not installed (Debian: apt-get install slurm-client)" >&2; exit 2; }
fi

LIMITNET=${LIMITNET:-$ROOT/bin/limitnet}
[ -x "$LIMITNET" ] || { echo "$PROG: $LIMITNET: no limitnet binary there (build it, or set LIMITNET)" >&2; exit 2; }
LIMITNET=$(realpath "$LIMITNET")
SCENARIO_ABS=$(realpath "$SCENARIO")
WORKDIR=$(pwd -P)

if ! PLAN=$("$LIMITNET" plan "$SCENARIO"); then
  echo "$PROG: $SCENARIO: limitnet plan failed (above)" >&2
  exit 2
fi
TOTALS=$(tail -n 1 <<<"$PLAN")
CELLS=${TOTALS%% cells,*}
OUTPUT=${TOTALS#*; output }
[[ "$CELLS" =~ ^[0-9]+$ ]] && [ "$CELLS" -gt 0 ] ||
  { echo "$PROG: cannot read the number of cells from limitnet plan: $TOTALS" >&2; exit 1; }
case "$OUTPUT" in /*) ;; *) OUTPUT=$WORKDIR/$OUTPUT ;; esac
[ -n "$SHARDS" ] || SHARDS=$(( CELLS < 100 ? CELLS : 100 ))
NAME=$(basename "$SCENARIO_ABS" .json)
LOGS=$OUTPUT/slurm

q() { printf '%q' "$1"; }
SHARD_SCRIPT="#!/bin/bash
# Written by scripts/$PROG: shard \$SLURM_ARRAY_TASK_ID of $SHARDS of $(q "$SCENARIO_ABS").
set -eu
cd $(q "$WORKDIR")
exec $(q "$LIMITNET") run $(q "$SCENARIO_ABS") --shard \"\$SLURM_ARRAY_TASK_ID/$SHARDS\" -j \"\${SLURM_CPUS_PER_TASK:-1}\" --quiet
"
MERGE_SCRIPT="#!/bin/bash
# Written by scripts/$PROG: the merge of the $SHARDS shards of $(q "$SCENARIO_ABS").
set -eu
cd $(q "$WORKDIR")
exec $(q "$LIMITNET") merge $(q "$SCENARIO_ABS")
"

COMMON=(--chdir="$WORKDIR" --export=ALL)
[ -z "$PARTITION" ] || COMMON+=(--partition="$PARTITION")
[ -z "$TIME" ] || COMMON+=(--time="$TIME")
ARRAY_ARGS=(--parsable --job-name="limitnet-$NAME" --array="1-$SHARDS" --ntasks=1
            --cpus-per-task="$CPUS" --output="$LOGS/%A_%a.out" "${COMMON[@]}")
MERGE_ARGS=(--parsable --job-name="limitnet-$NAME-merge" --ntasks=1 --cpus-per-task=1
            --kill-on-invalid-dep=yes --output="$LOGS/merge-%j.out" "${COMMON[@]}")

if [ "$DRY" -eq 1 ]; then
  echo "# $CELLS cells of $SCENARIO in $SHARDS array tasks, $CPUS CPU(s) each; output $OUTPUT"
  echo "# $LOGS/shard.sh:"
  printf '%s' "$SHARD_SCRIPT"
  echo "# $LOGS/merge.sh:"
  printf '%s' "$MERGE_SCRIPT"
  printf 'sbatch'; printf ' %q' "${ARRAY_ARGS[@]}" "$LOGS/shard.sh"; echo
  wait_arg=(); [ "$WAIT" -eq 0 ] || wait_arg=(--wait)
  printf 'sbatch'; printf ' %q' "${wait_arg[@]}" "--dependency=afterok:ARRAY_JOB_ID" "${MERGE_ARGS[@]}" "$LOGS/merge.sh"; echo
  exit 0
fi

mkdir -p "$LOGS"
printf '%s' "$SHARD_SCRIPT" >"$LOGS/shard.sh"
printf '%s' "$MERGE_SCRIPT" >"$LOGS/merge.sh"
chmod +x "$LOGS/shard.sh" "$LOGS/merge.sh"

if ! ARRAY_ID=$(sbatch "${ARRAY_ARGS[@]}" "$LOGS/shard.sh"); then
  echo "$PROG: sbatch of the shard array failed (above)" >&2
  exit 1
fi
ARRAY_ID=${ARRAY_ID%%;*}
SUBMITTED=$(date +%s)
if [ "$WAIT" -eq 0 ]; then
  if ! MERGE_ID=$(sbatch --dependency="afterok:$ARRAY_ID" "${MERGE_ARGS[@]}" "$LOGS/merge.sh"); then
    echo "$PROG: sbatch of the merge job failed (above); the array $ARRAY_ID runs: merge by hand when it is done" >&2
    exit 1
  fi
  MERGE_ID=${MERGE_ID%%;*}
  echo "array $ARRAY_ID ($SHARDS tasks) merge $MERGE_ID"
  echo "$PROG: logs in $LOGS; results in $OUTPUT when job $MERGE_ID has completed" >&2
  exit 0
fi

# --wait: sbatch prints the id at submission, then blocks until the job ends
# and exits with its exit code.
echo "array $ARRAY_ID ($SHARDS tasks)"
set +e
MERGE_OUT=$(sbatch --wait --dependency="afterok:$ARRAY_ID" "${MERGE_ARGS[@]}" "$LOGS/merge.sh")
rc=$?
set -e
MERGE_ID=${MERGE_OUT%%$'\n'*}
MERGE_ID=${MERGE_ID%%;*}
echo "merge $MERGE_ID"
# A merge cancelled because a task failed never ran, and sbatch --wait says
# 0 for it: ask for its state (while Slurm still lists it) and check that it
# wrote results.csv after the submission.
STATE=$(scontrol show job -o "$MERGE_ID" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | head -n 1) || true
STATE=${STATE#JobState=}
if [ "$rc" -eq 0 ] && { [ -z "$STATE" ] || [ "$STATE" = COMPLETED ]; } && [ -f "$OUTPUT/results.csv" ] &&
   [ "$(stat -c %Y "$OUTPUT/results.csv")" -ge "$SUBMITTED" ]; then
  echo "$PROG: merged: $OUTPUT/results.csv" >&2
  exit 0
fi
echo "$PROG: the merge job $MERGE_ID ended ${STATE:-unknown}${rc:+ (sbatch --wait: $rc)} without writing $OUTPUT/results.csv" >&2
failed=$(scontrol show job -o "$ARRAY_ID" 2>/dev/null |
         awk '{ id = ""; st = ""; for (i = 1; i <= NF; i++) { if ($i ~ /^ArrayTaskId=/) id = substr($i, 13); if ($i ~ /^JobState=/) st = substr($i, 10) }
                if (st != "COMPLETED" && id != "") printf " %s(%s)", id, st }') || true
[ -z "$failed" ] || echo "$PROG: array tasks not completed:$failed; their logs: $LOGS/${ARRAY_ID}_TASK.out; submitting again computes only the missing cells" >&2
[ "$rc" -ne 0 ] && exit "$rc"
exit 1
