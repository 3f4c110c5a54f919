#!/usr/bin/env bash
# Plots a loss sweep written by `limitnet run`: the task score at one
# deadline against the mean packet loss rate, a line per codec setting
# (its label names its transport protection), a panel per loss process.
# The mean loss comes from each channel's label, so any scenario whose
# channels differ in their loss works:
#   iidP                         independent loss, mean P
#   geA_B_C_D (Gilbert-Elliott)  p_gb A, p_bg B, loss C in the bad state and
#                                D in the good one: the chain is in the bad
#                                state a fraction A / (A + B) of the time, so
#                                mean = A/(A+B) * C + B/(A+B) * D
#   no loss model, or iid0       mean 0, drawn in both panels
# Writes loss-vs-accuracy.{png,svg} and loss.csv (the plotted table) into
# RESULTS_DIR, or --out DIR.
set -euo pipefail
usage() {
  cat <<EOF
usage: scripts/plot-loss.sh RESULTS_DIR --deadline S [--out DIR]

Plots the task score (top-1 accuracy or mAP@0.5) of a \`limitnet run\` at
the deadline S against the mean packet loss, a line per codec setting and a
panel per loss process (independent, Gilbert-Elliott), with 95 % intervals
where results.csv has them; the mean loss is read from each channel's label
(iidP; geA_B_C_D: A/(A+B)*C + B/(A+B)*D). Also writes the table as loss.csv
(codec, process, mean_loss, channel, sent_bytes, score, score_lo, score_hi).

  RESULTS_DIR   the scenario's output directory (results.csv)
  --deadline S  the deadline cut to plot, in seconds (one of the scenario's)
  --out DIR     write there (default RESULTS_DIR)
  -h, --help    this help
EOF
}
for a in "$@"; do
  case "$a" in -h|--help) usage; exit 0 ;; esac
done
missing() { echo "plot-loss.sh: $1" >&2; usage >&2; exit 2; }
dir=""; deadline=""; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --deadline|--out)
      [ $# -ge 2 ] || missing "$1 wants a value"
      if [ "$1" = --out ]; then out=$2; else deadline=$2; fi
      shift 2 ;;
    --deadline=*) deadline=${1#*=}; shift ;;
    --out=*) out=${1#*=}; shift ;;
    -?*) echo "plot-loss.sh: unknown option $1 (scripts/plot-loss.sh --help lists the options)" >&2; exit 2 ;;
    *) [ -z "$dir" ] || { echo "plot-loss.sh: unexpected argument $1 (scripts/plot-loss.sh --help)" >&2; exit 2; }
       dir=$1; shift ;;
  esac
done
[ -n "$dir" ] || missing "RESULTS_DIR is missing"
[ -n "$deadline" ] || missing "--deadline is missing"
awk -v d="$deadline" 'BEGIN { exit !(d + 0 > 0 && d ~ /^[0-9.eE+-]+$/) }' ||
  { echo "plot-loss.sh: --deadline: expected a number > 0, got $deadline" >&2; exit 2; }
out=${out:-$dir}
csv="$dir/results.csv"
[ -r "$csv" ] || { echo "plot-loss.sh: $csv: cannot read (run the scenario first)" >&2; exit 1; }
head -n 1 "$csv" | grep -q '^codec,channel,cut,limit,' ||
  { echo "plot-loss.sh: $csv: not a limitnet results file" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot-loss.sh: gnuplot is not installed (scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$out"
table="$out/loss.csv"

# The score's columns by name: mAP@0.5 where a detector scored, else top-1.
colnum() { head -n 1 "$csv" | tr -d '\r' | tr , '\n' | grep -nx -- "$1" | cut -d: -f1 || true; }
key=accuracy; name="top-1 accuracy"
mc=$(colnum map50)
if [ -n "$mc" ] && awk -F, -v c="$mc" 'NR > 1 && $c != "" { f = 1; exit } END { exit !f }' "$csv"; then
  key=map50; name="mAP@0.5"
fi
sc=$(colnum $key); lo=$(colnum ${key}_lo); hi=$(colnum ${key}_hi); sb=$(colnum sent_bytes)
[ -n "$sc" ] && [ -n "$sb" ] || { echo "plot-loss.sh: $csv: no $key or sent_bytes column" >&2; exit 1; }

# One row per (codec, channel) at the deadline; a lossless channel goes into
# both panels. Sorted by codec (in first-seen order), process, mean loss.
tmp=$(mktemp); trap 'rm -f "$tmp"' EXIT
awk -F, -v d="$deadline" -v sc="$sc" -v lo="${lo:-0}" -v hi="${hi:-0}" -v sb="$sb" '
  function num(v) { return v == "" ? "" : sprintf("%.4f", v) }
  function out(proc, m) {
    printf "%d,%s,%s,%.4f,%s,%.1f,%s,%s,%s\n", rank[$1], $1, proc, m, $2, $sb,
           num($sc), lo ? num($lo) : "", hi ? num($hi) : ""
  }
  NR > 1 && $3 == "deadline" && $4 + 0 == d + 0 {
    if (!($1 in rank)) rank[$1] = ++n
    if (match($2, /iid[0-9.eE+-]+/)) {
      m = substr($2, RSTART + 3, RLENGTH - 3) + 0
      out("independent", m)
      if (m == 0) out("gilbert_elliott", 0)
    } else if (match($2, /ge[0-9.eE+-]+_[0-9.eE+-]+_[0-9.eE+-]+_[0-9.eE+-]+/)) {
      split(substr($2, RSTART + 2, RLENGTH - 2), g, "_")
      pb = (g[1] + g[2]) > 0 ? g[1] / (g[1] + g[2]) : 0
      out("gilbert_elliott", pb * g[3] + (1 - pb) * g[4])
    } else {
      out("independent", 0); out("gilbert_elliott", 0)
    }
    rows++
  }
  END { if (!rows) exit 3 }' "$csv" | sort -t, -k1,1n -k3,3 -k4,4g > "$tmp" || {
  echo "plot-loss.sh: $csv: no deadline cut at $deadline s" >&2; exit 1; }
[ -s "$tmp" ] || { echo "plot-loss.sh: $csv: no deadline cut at $deadline s" >&2; exit 1; }
{ echo "codec,process,mean_loss,channel,sent_bytes,$key,${key}_lo,${key}_hi"; cut -d, -f2- "$tmp"; } > "$table"

bars=""; [ -n "$lo" ] && bars=1
for fmt in png svg; do
  if [ $fmt = png ]; then term="pngcairo size 1200,520 font ',10'"; else term="svg size 1200,520 dynamic font ',10'"; fi
  gnuplot <<GP
set terminal $term
set output "$out/loss-vs-accuracy.$fmt"
set datafile separator ","
set termoption noenhanced
set key below font ",8" box opaque
set grid
set bars 0.4
file = "$table"
codecs = system("awk -F, 'NR > 1 && !seen[\$1]++ { printf \"%s \", \$1 }' " . file)
set xlabel "mean packet loss (%)"
set ylabel "$name (%) at $deadline s"
set yrange [0:100]
set xrange [0:*]
set autoscale xfix
set offsets 0, graph 0.02, 0, 0
# 16 colours before they repeat (gnuplot's own 8 would give two lines of a
# sweep like loss_sweep's the same one); families read apart by point type.
colours = "#9400d3 #009e73 #56b4e9 #e69f00 #c8b400 #0072b2 #e51e10 #000000 #a0522d #ff69b4 #808000 #00ced1 #8b0000 #7f7f7f #228b22 #4b0082"
do for [i = 1:16] { set linetype i lc rgb word(colours, i) pt i }
set linetype cycle 16
set multiplot layout 1,2 title "$(basename "$dir"): $name at $deadline s against loss" noenhanced
sel(c, p, col) = (strcol(1) eq c && strcol(2) eq p) ? column(col) : NaN
# A bar's end, or the score itself where the interval is empty.
bar(c, p, col) = (strcol(1) eq c && strcol(2) eq p) ? (column(col) == column(col) ? column(col) : column(6)) : NaN
do for [p in "independent gilbert_elliott"] {
  set title p noenhanced
  if ("$bars" ne "") {
    plot for [c in codecs] file using (100 * sel(c, p, 3)):(100 * sel(c, p, 6)):(100 * bar(c, p, 7)):(100 * bar(c, p, 8)) with yerrorlines title c noenhanced
  } else {
    plot for [c in codecs] file using (100 * sel(c, p, 3)):(100 * sel(c, p, 6)) with linespoints title c noenhanced
  }
}
unset multiplot
GP
done
echo "plots: $out/loss-vs-accuracy.png (and .svg), table: $table"
