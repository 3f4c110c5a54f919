#!/usr/bin/env bash
# Plots a results directory written by `limitnet run`:
#   quality-vs-bytes.{png,svg}     quality against mean payload bytes received
#   quality-vs-deadline.{png,svg}  quality against the deadline
# Quality is top-1 accuracy (when the scenario had a classifier), PSNR and
# SSIM; one line per codec setting (per codec and channel setting when the
# scenario swept channels). With several channel settings also:
#   quality-vs-deadline-by-channel.{png,svg}  one panel per channel setting,
#     one line per codec setting: accuracy, or PSNR without a classifier.
set -euo pipefail
dir=${1:?usage: scripts/plot.sh RESULTS_DIR}
csv="$dir/results.csv"
[ -r "$csv" ] || { echo "plot.sh: $csv: cannot read (run the scenario first)" >&2; exit 1; }
head -n 1 "$csv" | grep -q '^codec,channel,cut,limit,' ||
  { echo "plot.sh: $csv: not a limitnet results file" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot is not installed (scripts/install-deps.sh)" >&2; exit 1; }

has_acc=$(awk -F, 'NR > 1 && $15 != "" { print 1; exit }' "$csv")
has_deadline=$(awk -F, 'NR > 1 && $3 == "deadline" { print 1; exit }' "$csv")
nchan=$(awk -F, 'NR > 1 && !seen[$2]++ { n++ } END { print n + 0 }' "$csv")
bytes_cut=${has_deadline:+deadline}; bytes_cut=${bytes_cut:-budget}
name=$(basename "$dir")

panels=2; [ -n "$has_acc" ] && panels=3
width=$((600 * panels))
for fmt in png svg; do
  if [ $fmt = png ]; then term="pngcairo size $width,480 font ',10'"; else term="svg size $width,480 dynamic font ',10'"; fi
  for xaxis in bytes deadline; do
    [ $xaxis = deadline ] && [ -z "$has_deadline" ] && continue
    gnuplot <<GP
set terminal $term
set output "$dir/quality-vs-$xaxis.$fmt"
set datafile separator ","
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
set multiplot layout 1,$panels title "$name: quality vs $xaxis (" . cut . " cuts)"
sel(c, col) = (key(0) eq c && strcol(3) eq cut) ? column(col) : NaN
if ("$has_acc" ne "") {
  set ylabel "top-1 accuracy (%)"
  plot for [c in series] file using (sel(c, xcol)):(100 * sel(c, 15)) with linespoints title c noenhanced
}
set ylabel "PSNR (dB)"
plot for [c in series] file using (sel(c, xcol)):(sel(c, 13)) with linespoints title c noenhanced
set ylabel "SSIM"
plot for [c in series] file using (sel(c, xcol)):(sel(c, 14)) with linespoints title c noenhanced
unset multiplot
GP
  done
done
made="$dir/quality-vs-bytes.png${has_deadline:+ $dir/quality-vs-deadline.png}"

if [ "$nchan" -gt 1 ] && [ -n "$has_deadline" ]; then
  cols=$(( nchan < 3 ? nchan : 3 )); rows=$(( (nchan + cols - 1) / cols ))
  # One y range for all panels, so that channels compare at a glance.
  psnr_range=$(awk -F, 'NR > 1 && $3 == "deadline" { if (lo == "" || $13 < lo) lo = $13; if (hi == "" || $13 > hi) hi = $13 }
                        END { printf "%g:%g", int(lo) - 1, int(hi) + 2 }' "$csv")
  for fmt in png svg; do
    size="$((480 * cols)),$((380 * rows))"
    if [ $fmt = png ]; then term="pngcairo size $size font ',10'"; else term="svg size $size dynamic font ',10'"; fi
    gnuplot <<GP
set terminal $term
set output "$dir/quality-vs-deadline-by-channel.$fmt"
set datafile separator ","
set key inside right bottom font ",8" box opaque
set grid
file = "$csv"
codecs = system("awk -F, 'NR > 1 && !seen[\$1]++ { printf \"%s \", \$1 }' " . file)
chans = system("awk -F, 'NR > 1 && !seen[\$2]++ { printf \"%s \", \$2 }' " . file)
acc = "$has_acc" ne ""
ycol = acc ? 15 : 13
yscale = acc ? 100 : 1
set xlabel "deadline (s)"
set ylabel (acc ? "top-1 accuracy (%)" : "PSNR (dB)")
if (acc) { set yrange [0:100] } else { set yrange [$psnr_range] }
set logscale x
set multiplot layout $rows,$cols title "$name: " . (acc ? "accuracy" : "PSNR") . " vs deadline, by channel"
sel(c, h, col) = (strcol(1) eq c && strcol(2) eq h && strcol(3) eq "deadline") ? column(col) : NaN
do for [h in chans] {
  set title h noenhanced
  plot for [c in codecs] file using (sel(c, h, 4)):(yscale * sel(c, h, ycol)) with linespoints title c noenhanced
}
unset multiplot
GP
  done
  made="$made $dir/quality-vs-deadline-by-channel.png"
fi
echo "plots: $made (and .svg)"
