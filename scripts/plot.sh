#!/usr/bin/env bash
# Plots a results directory written by `limitnet run`:
#   quality-vs-bytes.{png,svg}     quality against mean payload bytes received
#   quality-vs-deadline.{png,svg}  quality against the deadline
# Quality is top-1 accuracy (with a classifier) or mAP@0.5 (with a detector), PSNR and
# SSIM, a panel each, one line per codec setting. A channel sweep (several
# channel settings) gets, under the same two names, a panel per channel
# setting instead, of accuracy or mAP (or PSNR without a task model), a line
# per codec setting, and also
#   quality-vs-deadline-by-codec.{png,svg}    a panel per codec setting,
#     a line per channel setting
# Deadlines that span three decades or more are drawn on a logarithmic axis
# (always in the sweep's panels).
# Error bars, where results.csv has the interval columns (found by name:
# accuracy_lo/accuracy_hi, map50_lo/map50_hi, psnr_se, ssim_se) and they are
# not empty: the 95 % interval of each task score (Wilson for accuracy,
# bootstrap for mAP) and +-1.96 standard errors for PSNR and SSIM. Files
# without them (older runs) plot as before, without bars.
# Options: --channels REGEX plots only the channel settings whose label
# matches (grep -E), --out DIR writes the plots there instead of
# RESULTS_DIR; -h/--help says so.
set -euo pipefail
usage() {
  cat <<EOF
usage: scripts/plot.sh RESULTS_DIR [--channels REGEX] [--out DIR]

Plots the results.csv of a \`limitnet run\` with gnuplot, as PNG and SVG:
quality (accuracy or mAP@0.5, PSNR, SSIM) against bytes received and against
the deadline; for a channel sweep a panel per channel setting instead, and
a panel per codec setting. Error bars are 95 % intervals: Wilson for
top-1 accuracy, bootstrap for mAP@0.5, +-1.96 standard errors for PSNR and
SSIM; drawn where results.csv has those columns (older files plot without).

  RESULTS_DIR       the scenario's output directory (results.csv)
  --channels REGEX  only the channel settings whose label matches (grep -E)
  --out DIR         write the plots there (default RESULTS_DIR)
  -h, --help        this help
EOF
}
# Help first, wherever it is, before any argument is judged.
for a in "$@"; do
  case "$a" in -h|--help) usage; exit 0 ;; esac
done
missing() { echo "plot.sh: $1" >&2; usage >&2; exit 2; }
dir=""; filter=""; out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --channels|--out)
      [ $# -ge 2 ] || missing "$1 wants a value"
      if [ "$1" = --out ]; then out=$2; else filter=$2; fi
      shift 2 ;;
    --channels=*) filter=${1#*=}; shift ;;
    --out=*) out=${1#*=}; shift ;;
    -?*) echo "plot.sh: unknown option $1 (scripts/plot.sh --help lists the options)" >&2; exit 2 ;;
    *) [ -z "$dir" ] || { echo "plot.sh: unexpected argument $1 (scripts/plot.sh --help)" >&2; exit 2; }
       dir=$1; shift ;;
  esac
done
[ -n "$dir" ] || missing "RESULTS_DIR is missing"
out=${out:-$dir}
csv="$dir/results.csv"
[ -r "$csv" ] || { echo "plot.sh: $csv: cannot read (run the scenario first)" >&2; exit 1; }
head -n 1 "$csv" | grep -q '^codec,channel,cut,limit,' ||
  { echo "plot.sh: $csv: not a limitnet results file" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot is not installed (scripts/install-deps.sh)" >&2; exit 1; }
mkdir -p "$out"
if [ -n "$filter" ]; then
  sub=$(mktemp); trap 'rm -f "$sub"' EXIT
  awk -F, -v re="$filter" 'NR == 1 || $2 ~ re' "$csv" > "$sub"
  [ "$(wc -l < "$sub")" -gt 1 ] || { echo "plot.sh: no channel matches $filter" >&2; exit 1; }
  csv=$sub
fi

# A column's number, by its name in the header (empty when absent), and
# whether some row has a value in it.
colnum() { head -n 1 "$csv" | tr -d '\r' | tr , '\n' | grep -nx -- "$1" | cut -d: -f1 || true; }
filled() { [ -n "$1" ] && awk -F, -v c="$1" 'NR > 1 && $c != "" { f = 1; exit } END { exit !f }' "$csv"; }
# The task score: top-1 accuracy (column 15) with a classifier, mAP@0.5
# (column map50) with a detector; has_acc is set when there is either.
score_col=15; score_name="top-1 accuracy"; score_key=accuracy
map_col=$(colnum map50)
if filled "$map_col"; then
  score_col=$map_col; score_name="mAP@0.5"; score_key=map50
fi
# The 95 % intervals, where the file has them: the score's lo/hi columns,
# PSNR's and SSIM's standard errors (empty when absent or never filled).
lo_col=$(colnum ${score_key}_lo); hi_col=$(colnum ${score_key}_hi)
{ filled "$lo_col" && filled "$hi_col"; } || lo_col=""
psnr_se=$(colnum psnr_se); filled "$psnr_se" || psnr_se=""
ssim_se=$(colnum ssim_se); filled "$ssim_se" || ssim_se=""
# What each panel plots, per series c (the bars in the line's colour; a
# row without an interval gets none).
if [ -n "$lo_col" ]; then
  score_use="(sel(c, xcol)):(100 * sel(c, $score_col)):(100 * bar(c, $lo_col, $score_col)):(100 * bar(c, $hi_col, $score_col)) with yerrorlines"
else
  score_use="(sel(c, xcol)):(100 * sel(c, $score_col)) with linespoints"
fi
if [ -n "$psnr_se" ]; then
  psnr_use="(sel(c, xcol)):(sel(c, 13)):(sebar(c, 13, $psnr_se, -1)):(sebar(c, 13, $psnr_se, 1)) with yerrorlines"
else
  psnr_use="(sel(c, xcol)):(sel(c, 13)) with linespoints"
fi
if [ -n "$ssim_se" ]; then
  ssim_use="(sel(c, xcol)):(sel(c, 14)):(sebar(c, 14, $ssim_se, -1)):(sebar(c, 14, $ssim_se, 1)) with yerrorlines"
else
  ssim_use="(sel(c, xcol)):(sel(c, 14)) with linespoints"
fi
# Shared by every gnuplot script below: small caps on the bars; a bar's
# end is its column, or the value itself where that is empty; an end
# +-1.96 standard errors (none where the SE is empty).
bars_gp='set bars 0.4
or_y(col, ycol) = column(col) == column(col) ? column(col) : column(ycol)
or_0(col) = column(col) == column(col) ? column(col) : 0'
# With bars, a little room left and right, so that a bar at the first or
# the last x is not drawn over the border.
[ -z "$lo_col$psnr_se$ssim_se" ] || bars_gp="$bars_gp
set offsets graph 0.02, graph 0.02, 0, 0"
has_acc=$(awk -F, -v c="$score_col" 'NR > 1 && $c != "" { print 1; exit }' "$csv")
has_deadline=$(awk -F, 'NR > 1 && $3 == "deadline" { print 1; exit }' "$csv")
nchan=$(awk -F, 'NR > 1 && !seen[$2]++ { n++ } END { print n + 0 }' "$csv")
bytes_cut=${has_deadline:+deadline}; bytes_cut=${bytes_cut:-budget}
# Deadlines that span three decades or more (0.25 s to 20 min over LoRa)
# are drawn on a logarithmic axis, where the short ones are not crushed.
deadline_log=$(awk -F, 'NR > 1 && $3 == "deadline" { v = $4 + 0; if (v > 0) {
  lo = (lo == "" || v < lo) ? v : lo; hi = v > hi ? v : hi } }
  END { print (lo > 0 && hi / lo >= 1000) ? 1 : "" }' "$csv")
name=$(basename "$dir")

panels=2; [ -n "$has_acc" ] && panels=3
width=$((600 * panels))
# A channel sweep gets a panel per channel instead (grid_plot below): one
# panel with a line per (codec, channel) pair is unreadable past a few.
[ "$nchan" -gt 1 ] && skip_main=1 || skip_main=""
for fmt in ${skip_main:+none} png svg; do
  [ "$fmt" = none ] && break
  if [ $fmt = png ]; then term="pngcairo size $width,480 font ',10'"; else term="svg size $width,480 dynamic font ',10'"; fi
  for xaxis in bytes deadline; do
    [ $xaxis = deadline ] && [ -z "$has_deadline" ] && continue
    gnuplot <<GP
set terminal $term
set output "$out/quality-vs-$xaxis.$fmt"
set datafile separator ","
set termoption noenhanced
set key inside right bottom font ",8" box opaque
set grid
file = "$csv"
# Series are codec settings, or codec;channel pairs when channels were swept.
multi = $nchan > 1
series = system("awk -F, -v m=" . multi . " 'NR > 1 { k = m ? \$1 \";\" \$2 : \$1; if (!seen[k]++) printf \"%s \", k }' " . file)
key(s) = multi ? strcol(1) . ";" . strcol(2) : strcol(1)
xcol = "$xaxis" eq "bytes" ? 9 : 4
cut = "$xaxis" eq "bytes" ? "$bytes_cut" : "deadline"
set xlabel ("$xaxis" eq "bytes" ? "mean payload bytes received" : "deadline (s)")
set multiplot layout 1,$panels title "$name: quality vs $xaxis (" . cut . " cuts)" noenhanced
sel(c, col) = (key(0) eq c && strcol(3) eq cut) ? column(col) : NaN
$bars_gp
bar(c, col, ycol) = (key(0) eq c && strcol(3) eq cut) ? or_y(col, ycol) : NaN
sebar(c, ycol, secol, s) = sel(c, ycol) + s * 1.96 * or_0(secol)
# (Bytes and deadlines are not negative: the room left of the first x
# stops at 0.)
deadline_log = "$xaxis" eq "deadline" && "$deadline_log" ne ""
if (deadline_log) { set logscale x }
if (!deadline_log && "$lo_col$psnr_se$ssim_se" ne "") { set xrange [0<*:*] }
if ("$has_acc" ne "") {
  set ylabel "$score_name (%)"
  plot for [c in series] file using $score_use title c noenhanced
}
set ylabel "PSNR (dB)"
plot for [c in series] file using $psnr_use title c noenhanced
set ylabel "SSIM"
plot for [c in series] file using $ssim_use title c noenhanced
unset multiplot
GP
  done
done
made=""
[ -n "$skip_main" ] || made="$out/quality-vs-bytes.png${has_deadline:+ $out/quality-vs-deadline.png}"

# A grid of panels: by=channel puts a channel setting in each panel and a
# codec setting on each line; by=codec the other way round.
grid_plot() {
  local by=$1 npanels=$2 nlines=$3 xaxis=$4 file=$5 fmt cols rows size term key=" inside right bottom" keyh=0
  cols=$(( npanels < 3 ? npanels : 3 )); rows=$(( (npanels + cols - 1) / cols ))
  # Many lines: the key goes below each panel rather than over its data.
  if [ "$nlines" -gt 6 ]; then key=" below"; keyh=$((11 * nlines)); fi
  for fmt in png svg; do
    size="$((480 * cols)),$(((380 + keyh) * rows))"
    if [ $fmt = png ]; then term="pngcairo size $size font ',10'"; else term="svg size $size dynamic font ',10'"; fi
    gnuplot <<GP
set terminal $term
set output "$out/$file.$fmt"
set datafile separator ","
set termoption noenhanced
set key$key font ",8" box opaque
set grid
file = "$csv"
codecs = system("awk -F, 'NR > 1 && !seen[\$1]++ { printf \"%s \", \$1 }' " . file)
chans = system("awk -F, 'NR > 1 && !seen[\$2]++ { printf \"%s \", \$2 }' " . file)
acc = "$has_acc" ne ""
ycol = acc ? $score_col : 13
yscale = acc ? 100 : 1
bytes = "$xaxis" eq "bytes"
cut = bytes ? "$bytes_cut" : "deadline"
xcol = bytes ? 9 : 4
set xlabel (bytes ? "mean payload bytes received (" . cut . " cuts)" : "deadline (s)")
set ylabel (acc ? "$score_name (%)" : "PSNR (dB)")
if (acc) { set yrange [0:100] } else { set yrange [$psnr_range] }
if (!bytes) { set logscale x } else { set xrange [0<*:*] }
set multiplot layout $rows,$cols title "$name: " . (acc ? "$score_name" : "PSNR") . " vs $xaxis, by $by" noenhanced
sel(c, h, col) = (strcol(1) eq c && strcol(2) eq h && strcol(3) eq cut) ? column(col) : NaN
$bars_gp
bar(c, h, col, ycol) = (strcol(1) eq c && strcol(2) eq h && strcol(3) eq cut) ? or_y(col, ycol) : NaN
sebar(c, h, ycol, secol, s) = sel(c, h, ycol) + s * 1.96 * or_0(secol)
# (Loop variables are not called c: "set title c" reads c as a keyword.)
if ("$by" eq "channel") {
  do for [chn in chans] {
    set title chn noenhanced
    plot for [cod in codecs] file using $grid_use title cod noenhanced
  }
} else {
  do for [cod in codecs] {
    set title cod noenhanced
    plot for [chn in chans] file using $grid_use title chn noenhanced
  }
}
unset multiplot
GP
  done
  made="$made $out/$file.png"
}

if [ "$nchan" -gt 1 ]; then
  # The grid's panels plot the score (or PSNR without a task model) against
  # the deadline, with the same bars as above; sel, bar and sebar take
  # (codec, channel, column...).
  if [ -n "$has_acc" ] && [ -n "$lo_col" ]; then
    grid_use="(sel(cod, chn, xcol)):(yscale * sel(cod, chn, ycol)):(yscale * bar(cod, chn, $lo_col, ycol)):(yscale * bar(cod, chn, $hi_col, ycol)) with yerrorlines"
  elif [ -z "$has_acc" ] && [ -n "$psnr_se" ]; then
    grid_use="(sel(cod, chn, xcol)):(sel(cod, chn, 13)):(sebar(cod, chn, 13, $psnr_se, -1)):(sebar(cod, chn, 13, $psnr_se, 1)) with yerrorlines"
  else
    grid_use="(sel(cod, chn, xcol)):(yscale * sel(cod, chn, ycol)) with linespoints"
  fi
  # One y range for all panels, so that they compare at a glance (the PSNR
  # bars' ends included, where there are bars).
  psnr_range=$(awk -F, -v se="${psnr_se:-0}" 'NR > 1 {
                          d = se ? 1.96 * $se : 0; l = $13 - d; h = $13 + d
                          if (lo == "" || l < lo) lo = l; if (hi == "" || h > hi) hi = h }
                        END { printf "%g:%g", int(lo) - 1, int(hi) + 2 }' "$csv")
  ncodec=$(awk -F, 'NR > 1 && !seen[$1]++ { n++ } END { print n + 0 }' "$csv")
  # A panel per channel against bytes and against the deadline (these take
  # the single-channel plots' names), and a panel per codec.
  grid_plot channel "$nchan" "$ncodec" bytes quality-vs-bytes
  if [ -n "$has_deadline" ]; then
    grid_plot channel "$nchan" "$ncodec" deadline quality-vs-deadline
    grid_plot codec "$ncodec" "$nchan" deadline quality-vs-deadline-by-codec
  fi
fi
echo "plots: $made (and .svg)"
