#!/usr/bin/env bash
# Plots the curves of `limitnet compare` (comparison.csv in a results
# directory): top-1 accuracy against bytes received, log-bytes axis, one
# line per codec family, the best reference dashed. Writes
# accuracy-vs-bytes.{png,svg} beside it.
set -euo pipefail
dir=${1:?usage: scripts/plot-compare.sh RESULTS_DIR}
csv="$dir/comparison.csv"
[ -r "$csv" ] || { echo "plot-compare.sh: $csv: cannot read (run limitnet compare first)" >&2; exit 1; }
head -n 1 "$csv" | grep -q '^bytes,best_reference' ||
  { echo "plot-compare.sh: $csv: not a comparison file" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot-compare.sh: gnuplot is not installed (scripts/install-deps.sh)" >&2; exit 1; }
ncol=$(head -n 1 "$csv" | awk -F, '{ print NF }')
name=$(basename "$dir")
for fmt in png svg; do
  if [ $fmt = png ]; then term="pngcairo size 800,520 font ',10'"; else term="svg size 800,520 dynamic font ',10'"; fi
  gnuplot <<GP
set terminal $term
set output "$dir/accuracy-vs-bytes.$fmt"
set datafile separator ","
set termoption noenhanced
set key outside right top font ",9"
set grid
set logscale x 2
set xlabel "bytes received (all headers and side information counted)"
set ylabel "top-1 accuracy (%)"
set title "$name: accuracy against bytes (upper envelope per codec family)"
set yrange [0:100]
plot for [i=3:$ncol] "$csv" using 1:(100 * column(i)) with lines lw 2 title columnhead(i), \
     "$csv" using 1:(100 * \$2) with lines dt 2 lc rgb "black" title "best reference"
GP
done
echo "plots: $dir/accuracy-vs-bytes.png (and .svg)"
