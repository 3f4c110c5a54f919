#!/usr/bin/env bash
# Runs each cmocka test program and prints one summary line counting the
# tests that passed and failed across all of them, and those skipped (a test
# skips itself, printing why, when an optional dependency such as ns-3 was
# not found at build time; the reasons are repeated above the total).
set -u
passed=0; failed=0; skipped=0; broken=""; reasons=""
for t in "$@"; do
  echo "== $t"
  out=$("$t" 2>&1); rc=$?
  printf '%s\n' "$out"
  p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | awk '{s+=$1} END {print s+0}')
  passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
  if [ "$s" -gt 0 ]; then
    why=$(printf '%s\n' "$out" | grep -m1 '^skipped: ' || echo "skipped: (no reason printed)")
    reasons="$reasons$(basename "$t"): $s ${why}"$'\n'
  fi
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then failed=$((failed + 1)); broken="$broken $t"; fi
done
[ -n "$reasons" ] && printf '%s' "$reasons"
echo "TOTAL: $passed passed, $failed failed$([ "$skipped" -gt 0 ] && echo ", $skipped skipped")${broken:+ (crashed:$broken)}"
[ "$failed" -eq 0 ]
