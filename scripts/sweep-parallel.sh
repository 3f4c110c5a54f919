#!/usr/bin/env bash
# Runs a scenario as N shards through GNU parallel (locally or over ssh),
# then merges them: `limitnet run SCENARIO --shard K/N` for K = 1..N, then
# `limitnet merge SCENARIO`. A joblog makes a rerun do only what failed or
# never ran; cells already complete are reused in any case.
set -euo pipefail

PROG=sweep-parallel.sh
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(dirname "$HERE")

usage() {
  cat <<EOF
usage: scripts/$PROG SCENARIO.json [--shards N] [--jobs J] [--threads T]
                         [--sshloginfile FILE] [--joblog FILE] [--halt POLICY]

Runs every shard of the scenario, \`limitnet run SCENARIO.json --shard K/N
--quiet -j T\` for K = 1..N, through GNU parallel with --joblog and
--resume-failed, then \`limitnet merge SCENARIO.json\`, which writes
results.csv and summary.json in the scenario's output directory, byte for
byte what one \`limitnet run\` would write. Shards are fixed, cost-balanced
slices of the cells, each cell written atomically when complete: running the
same command again after a shard died or was killed runs only the shards that
failed or never ran, and they compute only their missing cells.

  SCENARIO.json        the scenario (its "output" and file names are relative
                       to the current directory: run from where you would
                       run limitnet)
  --shards N           number of shards (default: the number of cells, at
                       most J, or with --sshloginfile at most 256)
  --jobs J             shards run at once on each host (default: the number
                       of CPUs here, $(nproc 2>/dev/null || echo 1); with --sshloginfile, what
                       the file says per host, else J)
  --threads T          threads per shard, limitnet run -j (default 1)
  --sshloginfile FILE  spread the shards over the hosts in FILE (GNU
                       parallel's format; ":" is this machine). The current
                       directory, the limitnet binary, the scenario, the
                       dataset (/usr/share/datasets/fashion-mnist) and any
                       model file it names must be at the same paths on
                       every host: the directory must be SHARED (NFS or
                       similar), as every shard writes its cells into the
                       same output directory, which the merge then reads
  --joblog FILE        GNU parallel's joblog (default OUTPUT/sweep-parallel-N.joblog,
                       one per shard count); delete it to run every shard again
  --halt POLICY        GNU parallel's --halt (default never: the other shards
                       go on when one fails, their cells are kept, and the
                       rerun retries only the failed ones)
  -h, --help           this help

Environment: LIMITNET, the limitnet binary (default: bin/limitnet of this
repository, $ROOT/bin/limitnet).

Exit status: 0 when results.csv was written; 1 when a shard failed (the
joblog and the lines above name it; rerun the same command) or the merge
found cells missing; 2 for bad usage, a missing scenario or GNU parallel
missing.
EOF
}

bad_usage() {
  echo "$PROG: $*" >&2
  echo "usage: scripts/$PROG SCENARIO.json [--shards N] [--jobs J] [--threads T] [--sshloginfile FILE] [--joblog FILE] [--halt POLICY] (--help for more)" >&2
  exit 2
}

for a in "$@"; do
  case "$a" in -h|--help) usage; exit 0 ;; esac
done

SCENARIO="" SHARDS="" JOBS="" THREADS=1 SSHLOGINFILE="" JOBLOG="" HALT=never
need() { [ "$2" -ge 2 ] || bad_usage "$1 wants a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    --shards) need "$1" $#; SHARDS=$2; shift 2 ;;
    --shards=*) SHARDS=${1#*=}; shift ;;
    --jobs|-j) need "$1" $#; JOBS=$2; shift 2 ;;
    --jobs=*) JOBS=${1#*=}; shift ;;
    --threads) need "$1" $#; THREADS=$2; shift 2 ;;
    --threads=*) THREADS=${1#*=}; shift ;;
    --sshloginfile) need "$1" $#; SSHLOGINFILE=$2; shift 2 ;;
    --sshloginfile=*) SSHLOGINFILE=${1#*=}; shift ;;
    --joblog) need "$1" $#; JOBLOG=$2; shift 2 ;;
    --joblog=*) JOBLOG=${1#*=}; shift ;;
    --halt) need "$1" $#; HALT=$2; shift 2 ;;
    --halt=*) HALT=${1#*=}; shift ;;
    -*) bad_usage "unknown option: $1" ;;
    *) [ -z "$SCENARIO" ] || bad_usage "one scenario only (got $SCENARIO and $1)"; SCENARIO=$1; shift ;;
  esac
done
[ -n "$SCENARIO" ] || bad_usage "no scenario given"
posint() { [[ "$2" =~ ^[1-9][0-9]*$ ]] || bad_usage "$1 wants a positive number, got '$2'"; }
[ -z "$SHARDS" ] || posint --shards "$SHARDS"
[ -z "$JOBS" ] || posint --jobs "$JOBS"
posint --threads "$THREADS"
[ -n "$HALT" ] || bad_usage "--halt wants a policy (GNU parallel's --halt)"
[ -f "$SCENARIO" ] || { echo "$PROG: $SCENARIO: no such file" >&2; exit 2; }
if [ -n "$SSHLOGINFILE" ] && [ ! -r "$SSHLOGINFILE" ]; then
  echo "$PROG: $SSHLOGINFILE: cannot read it" >&2; exit 2
fi
command -v parallel >/dev/null ||
  { echo "$PROG: GNU parallel is not installed (Debian: apt-get install parallel)" >&2; exit 2; }

LIMITNET=${LIMITNET:-$ROOT/bin/limitnet}
[ -x "$LIMITNET" ] || { echo "$PROG: $LIMITNET: no limitnet binary there (build it, or set LIMITNET)" >&2; exit 2; }
# Absolute paths: the same on every host, whatever directory a job starts in.
LIMITNET=$(realpath "$LIMITNET")
SCENARIO_ABS=$(realpath "$SCENARIO")
WORKDIR=$(pwd -P)

# The plan checks the scenario and gives the number of cells and the output.
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

NPROC=$(nproc 2>/dev/null || echo 1)
if [ -z "$SHARDS" ]; then
  if [ -n "$SSHLOGINFILE" ]; then cap=${JOBS:-256}; else cap=${JOBS:-$NPROC}; fi
  SHARDS=$(( CELLS < cap ? CELLS : cap ))
fi
mkdir -p "$OUTPUT"
JOBLOG=${JOBLOG:-$OUTPUT/sweep-parallel-$SHARDS.joblog}

# --resume-failed goes by sequence number: a joblog of another shard count
# would skip the wrong shards.
if [ -s "$JOBLOG" ] &&
   awk -v n="$SHARDS" 'NR > 1 && $0 !~ ("--shard [0-9]+/" n "( |$)") { bad = 1 } END { exit !bad }' "$JOBLOG"; then
  echo "$PROG: $JOBLOG is the joblog of a sweep with another shard count or command; give --shards as then, or remove it" >&2
  exit 2
fi

PAR=(parallel --will-cite --joblog "$JOBLOG" --resume-failed --halt "$HALT" --tag --line-buffer
     --workdir "$WORKDIR")
if [ -n "$SSHLOGINFILE" ]; then
  PAR+=(--sshloginfile "$SSHLOGINFILE")
  [ -z "$JOBS" ] || PAR+=(--jobs "$JOBS")
else
  PAR+=(--jobs "${JOBS:-$NPROC}")
fi

echo "$PROG: $CELLS cells of $SCENARIO in $SHARDS shards, $THREADS thread(s) each; joblog $JOBLOG" >&2
set +e
"${PAR[@]}" --quote "$LIMITNET" run "$SCENARIO_ABS" --shard "{}/$SHARDS" --quiet -j "$THREADS" \
  ::: $(seq 1 "$SHARDS")
prc=$?
set -e
if [ "$prc" -ne 0 ]; then
  # The last entry of each shard counts (a rerun appends).
  failed=$(awk 'NR > 1 { bad[$1] = ($7 != 0 || $8 != 0) }
                END { for (s in bad) if (bad[s]) printf " %s", s }' "$JOBLOG" | tr ' ' '\n' | sort -n | tr '\n' ' ')
  failed=${failed% }
  echo "$PROG: shard(s)${failed:- ?} of $SHARDS failed (GNU parallel exit $prc; see $JOBLOG and the lines above);" \
       "their cells are missing, the others are kept: run the same command again to retry only those" >&2
  exit 1
fi
"$LIMITNET" merge "$SCENARIO"
