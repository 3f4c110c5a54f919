#!/usr/bin/env bash
# Plots the curves of `limitnet compare` (comparison.csv in a results
# directory): top-1 accuracy against bytes received, log-bytes axis, one
# step curve per codec family (drawn `with steps`: each grid value held
# until the next budget, as compare reads the curves), the best reference
# dashed. Writes
# accuracy-vs-bytes.{png,svg} beside it.
set -euo pipefail
usage() {
  cat <<EOF
usage: scripts/plot-compare.sh RESULTS_DIR [--score LABEL]

Plots the comparison.csv of \`limitnet compare\` with gnuplot: top-1
accuracy against bytes received (log axis), a line per codec family and
the best reference dashed, to RESULTS_DIR/accuracy-vs-bytes.{png,svg}.

  RESULTS_DIR   the directory \`limitnet compare\` wrote comparison.csv into
  --score LABEL the y axis's score (default "top-1 accuracy"; "mAP@0.5" for
                a detection run compared with --metric map50)
  -h, --help    this help
EOF
}
# Help first, wherever it is, before any argument is judged.
for a in "$@"; do
  case "$a" in -h|--help) usage; exit 0 ;; esac
done
dir=""
score="top-1 accuracy"
while [ $# -gt 0 ]; do
  a=$1; shift
  case "$a" in
    --score) [ $# -gt 0 ] || { echo "plot-compare.sh: --score wants a label" >&2; exit 2; }
             score=$1; shift ;;
    -?*) echo "plot-compare.sh: unknown option $a (scripts/plot-compare.sh --help)" >&2; exit 2 ;;
    *) [ -z "$dir" ] || { echo "plot-compare.sh: unexpected argument $a (scripts/plot-compare.sh --help)" >&2; exit 2; }
       dir=$a ;;
  esac
done
[ -n "$dir" ] || { echo "plot-compare.sh: RESULTS_DIR is missing" >&2; usage >&2; exit 2; }
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
set ylabel "$score (%)"
set title "$name: $score against bytes (step envelope per codec family)"
set yrange [0:100]
# Twelve distinct colours (gnuplot's default eight repeat, which drew two
# families alike on the cluttered figure); none pale on white.
colours="#d62728 #1f77b4 #2ca02c #9467bd #ff7f0e #8c564b #e377c2 #17becf #7f7f7f #bcbd22 #000080 #008080"
do for [k=1:12] { set linetype k lc rgb word(colours, k) lw 2 }
plot for [i=3:$ncol] "$csv" using 1:(100 * column(i)) with steps lt (i - 2) lw 2 title columnhead(i), \
     "$csv" using 1:(100 * \$2) with steps dt 2 lc rgb "black" title "best reference"
GP
done
echo "plots: $dir/accuracy-vs-bytes.png (and .svg)"
