#!/usr/bin/env bash
# Runs each cmocka test program and prints one summary line counting the
# tests that passed and failed across all of them.
set -u
passed=0; failed=0; broken=""
for t in "$@"; do
  echo "== $t"
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f))
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); broken="$broken $t"; fi
done
echo "TOTAL: $passed passed, $failed failed${broken:+ (crashed:$broken)}"
[ "$failed" -eq 0 ]
