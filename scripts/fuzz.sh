#!/usr/bin/env bash
# Runs libFuzzer harnesses one after another (tests/fuzz/README.md), each
# for SECONDS on a working copy of its committed corpus (build-fuzz/corpus/,
# where what the fuzzer grows stays between runs), and prints per target
# the executions, executions/s, coverage (edges) and findings, then one
# summary line. A crash, leak, timeout or sanitizer report leaves its
# input in build-fuzz/crash/ and the command that replays it.
#
#   scripts/fuzz.sh SECONDS TARGET...     (make fuzz builds and calls this;
#                                         FUZZ_SEED=N fixes libFuzzer's seed)
#   scripts/fuzz.sh --merge TARGET...     adds to tests/fuzz/corpus/ the inputs
#                                         of build-fuzz/corpus/ that add coverage
#                                         (libFuzzer's -merge=1; make fuzz-merge)
set -u
usage() {
  echo "usage: scripts/fuzz.sh SECONDS TARGET...   run each target for SECONDS"
  echo "       scripts/fuzz.sh --merge TARGET...   keep what the runs grew that adds coverage"
  echo "targets: the NAME of each tests/fuzz/fuzz_NAME.c, built by make fuzz-build"
}
case "${1:-}" in -h|--help) usage; exit 0 ;; esac
root=build-fuzz
mkdir -p "$root/corpus" "$root/crash" "$root/log"
if [ "${1:-}" = --merge ]; then
  shift
  [ $# -gt 0 ] || { usage >&2; exit 2; }
  for t in "$@"; do
    [ -d "$root/corpus/$t" ] || { echo "fuzz.sh: $root/corpus/$t: nothing grown yet (make fuzz)" >&2; continue; }
    before=$(ls "tests/fuzz/corpus/$t" | wc -l)
    "$root/fuzz/fuzz_$t" -merge=1 -max_len=16384 "tests/fuzz/corpus/$t" "$root/corpus/$t" \
      >"$root/log/$t.merge.log" 2>&1 || { echo "fuzz.sh: $t: merge failed, see $root/log/$t.merge.log" >&2; exit 1; }
    echo "$t: $before -> $(ls "tests/fuzz/corpus/$t" | wc -l) inputs in tests/fuzz/corpus/$t"
  done
  exit 0
fi
secs=${1:-}
[[ "$secs" =~ ^[0-9]+$ && "$secs" -gt 0 ]] || { usage >&2; exit 2; }
shift
[ $# -gt 0 ] || { usage >&2; exit 2; }
passed=0; failed=0; found=""
printf '%-12s %12s %10s %8s %8s  %s\n' target executions exec/s edges corpus findings
for t in "$@"; do
  bin="$root/fuzz/fuzz_$t"
  if [ ! -x "$bin" ]; then
    echo "fuzz.sh: $bin: not built (make fuzz-build)" >&2
    failed=$((failed + 1)); found="$found $t"; continue
  fi
  work="$root/corpus/$t"; log="$root/log/$t.log"
  mkdir -p "$work"
  [ -d "tests/fuzz/corpus/$t" ] && cp -n tests/fuzz/corpus/"$t"/* "$work"/ 2>/dev/null
  dirs=("$work")
  [ -d "tests/fuzz/regress/$t" ] && dirs+=("tests/fuzz/regress/$t")
  # only this target's files: another run may write its own meanwhile
  before=$(ls "$root/crash" | grep -c "^$t-")
  # -timeout: one input taking 10 s is a hang; -rss_limit_mb keeps a leak
  # from taking the machine; -max_len fits the largest seed (a Semtech
  # capture, 13 KB) with room to grow.
  # -seed: FUZZ_SEED (make check sets 1, so CI walks the same inputs in
  # the same order every time; 0, the default, lets libFuzzer draw one).
  "$bin" -max_total_time="$secs" -seed="${FUZZ_SEED:-0}" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
    -print_final_stats=1 -artifact_prefix="$root/crash/$t-" "${dirs[@]}" >"$log" 2>&1
  rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1 | awk '{print $2}')
  size=$(ls "$work" | wc -l)
  new=$(ls "$root/crash" | grep -c "^$t-")
  if [ $rc -eq 0 ] && [ "$new" -eq "$before" ]; then
    passed=$((passed + 1)); what=none
  else
    failed=$((failed + 1)); found="$found $t"
    what="exit $rc; see $log"
  fi
  printf '%-12s %12s %10s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" "$size" "$what"
  if [ "$new" -gt "$before" ]; then
    for a in $(ls -t "$root/crash" | grep "^$t-" | head -n $((new - before))); do
      echo "  reproducer: $root/crash/$a   replay: $bin $root/crash/$a"
    done
    grep -m3 -E 'ERROR: |runtime error|fuzz: ' "$log" | sed 's/^/  /'
  fi
done
echo "FUZZ TOTAL: $passed passed, $failed failed${found:+ (findings:$found)}"
[ "$failed" -eq 0 ]
