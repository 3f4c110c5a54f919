#!/usr/bin/env bash
# The device table of `make device-bench` (device/device.mk): runs each
# LimitNet device program (build/m7/encode_NAME.elf) under QEMU on the
# images the JPEG benchmark encoded at that size (fmnist: 100 Fashion-MNIST
# test items, 28x28; cluttered: 100 cluttered test scenes, 64x64x3), every
# value in 51-byte packets, and prints its instructions per image beside
# each JPEG encoder's, their ratios, flash and RAM. (tests/test_device.c
# checks that the packets are the host build's, byte for byte.)
#
# Usage: scripts/device-table.sh "QEMU COMMAND ... -kernel" M7_DIR
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
RUN="$1"
M7="$2"
PAYLOAD=51

table() { # model, image set
  local model=$1 set=$2 out="$M7/encode_$1.m7.txt" jpeg="$M7/$2.m7.txt"
  [ -f "$M7/$set.raw" ] && [ -f "$jpeg" ] || { echo "device-table: $set: run make device-jpeg-bench first" >&2; exit 1; }
  $RUN "$M7/encode_$model.elf" -append "$M7/$set.raw $M7/$set.packets $PAYLOAD 0" > "$out"
  local enc pack stack static flash code bytes
  enc=$(awk '/^encode instructions/ {print $4}' "$out")
  pack=$(awk '/^pack instructions/ {print $4}' "$out")
  stack=$(awk '/^stack bytes/ {print $3}' "$out")
  static=$(awk '/^static bytes/ {print $4 + $6 + $8 + $10 + $12}' "$out")
  flash=$(arm-none-eabi-size "$M7/encode_$model.elf" | awk 'NR == 2 {print $1 + $2}')
  code=$(arm-none-eabi-size "$M7"/target/dev/encode.o "$M7"/target/dev/pack.o \
           "$M7/target/dev/model_$model.o" | awk 'NR > 1 {s += $1 + $2} END {print s}')
  bytes=$(od -An -v -tu1 "$M7/$set.packets" | awk -v n="$(awk '/^images/ {print $2}' "$out")" '
    { for (i = 1; i <= NF; i++) b[k++] = $i }
    END { at = 0; tot = 0
          for (im = 0; im < n; im++) { np = b[at] + 256 * b[at + 1]; at += 2
            for (p = 0; p < np; p++) { l = b[at] + 256 * b[at + 1]; tot += l; at += 2 + l } }
          printf "%.1f", tot / n }')
  local total=$((enc + pack))
  echo "== LimitNet's device side ($model) on the Cortex-M7 (qemu mps2-an500, -icount shift=0)"
  echo "   $set: $(head -1 "$jpeg" | sed 's/.*: //'); every value in $PAYLOAD-byte packets"
  printf '%-28s %12s %12s %10s\n' "" "instructions" "limitnet/it" "bytes"
  printf '%-28s %12d %12s\n' "limitnet int8 encode" "$enc" ""
  printf '%-28s %12d %12s\n' "limitnet packets" "$pack" ""
  printf '%-28s %12d %12s %10s\n' "limitnet total" "$total" "1.00" "$bytes"
  awk -v t="$total" '!/^#/ {printf "%-28s %12d %12.3f %10s\n", $1 " q" $2, $3, t / $3, $6}' "$jpeg"
  echo "flash: $flash bytes for the whole program ($code for LimitNet's code and model)"
  echo "RAM: $static bytes of static buffers + $stack bytes of stack = $((static + stack)) bytes"
}

table fmnist fmnist28
table cluttered cluttered64
echo "(limitnet/it: limitnet's instructions over that encoder's)"
