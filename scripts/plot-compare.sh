#!/usr/bin/env bash
# Plots the curves of `limitnet compare` (comparison.csv in a results
# directory): top-1 accuracy against bytes received, log-bytes axis, one
# step curve per codec family (drawn `with steps`: each grid value held
# until the next budget, as compare reads the curves), the best reference
# dashed. Where comparison.csv has a family's FAM_lo and FAM_hi columns
# (found by name), a translucent band in the family's colour under its
# curve: the 95 % paired-bootstrap interval of the step curve at each grid
# budget, held to the next budget like the curve. Without them (older
# files) the plot is as before. Writes
# accuracy-vs-bytes.{png,svg} beside it.
set -euo pipefail
usage() {
  cat <<EOF
usage: scripts/plot-compare.sh RESULTS_DIR [--score LABEL]

Plots the comparison.csv of \`limitnet compare\` with gnuplot: top-1
accuracy against bytes received (log axis), a line per codec family and
the best reference dashed, to RESULTS_DIR/accuracy-vs-bytes.{png,svg}.
Where comparison.csv has FAM_lo/FAM_hi columns, a translucent band under
each family's line shows its 95 % interval (paired bootstrap).

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
# The families: the columns after best_reference that are not a family's
# FAM_lo or FAM_hi; last is the last of them. fams, los and his list, for
# the families with both band columns, the numbers of the three columns.
eval "$(head -n 1 "$csv" | tr -d '\r' | awk -F, '{
  for (i = 1; i <= NF; i++) at[$i] = i
  for (i = 3; i <= NF; i++) {
    n = $i; base = n; sub(/_(lo|hi)$/, "", base)
    if (base != n && (base in at) && at[base] >= 3) continue
    last = i
    if ((n "_lo") in at && (n "_hi") in at) {
      fams = fams " " i; los = los " " at[n "_lo"]; his = his " " at[n "_hi"]; nb++
    }
  }
  printf "last=%d nbands=%d fams=\"%s\" los=\"%s\" his=\"%s\"\n", last, nb, fams, los, his
}')"
name=$(basename "$dir")
# With bands: a copy of the file with each row repeated at the next row's
# bytes, so that the band steps as the curve does.
bands=""; title_bands=""
if [ "$nbands" -gt 0 ]; then
  stepped=$(mktemp); trap 'rm -f "$stepped"' EXIT
  awk -F, 'NR > 2 { print prev; sub(/^[^,]*/, $1, prev); print prev }
           NR == 1 { print; next } { prev = $0 } END { if (NR > 1) print prev }' "$csv" > "$stepped"
  bands="for [k=1:$nbands] \"$stepped\" using 1:(100 * column(int(word(\"$los\", k)))):(100 * column(int(word(\"$his\", k)))) with filledcurves fs transparent solid 0.15 noborder lt (int(word(\"$fams\", k)) - 2) notitle, \\
     "
  title_bands="; bands: 95 % intervals"
fi
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
set title "$name: $score against bytes (step envelope per codec family$title_bands)"
set yrange [0:100]
# Twelve distinct colours (gnuplot's default eight repeat, which drew two
# families alike on the cluttered figure); none pale on white.
colours="#d62728 #1f77b4 #2ca02c #9467bd #ff7f0e #8c564b #e377c2 #17becf #7f7f7f #bcbd22 #000080 #008080"
do for [k=1:12] { set linetype k lc rgb word(colours, k) lw 2 }
plot ${bands}for [i=3:$last] "$csv" using 1:(100 * column(i)) with steps lt (i - 2) lw 2 title columnhead(i), \
     "$csv" using 1:(100 * \$2) with steps dt 2 lc rgb "black" title "best reference"
GP
done
echo "plots: $dir/accuracy-vs-bytes.png (and .svg)"
