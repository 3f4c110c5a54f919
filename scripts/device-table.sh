#!/usr/bin/env bash
# The device table of `make device-bench` (device/device.mk): runs each
# LimitNet device program (build/m7/encode_NAME.elf) under QEMU on the
# Fashion-MNIST images that the JPEG benchmark used and prints its
# instructions per encode beside each JPEG encoder's, with their ratios,
# flash and RAM. (tests/test_device.c checks that the packets are the host
# build's, byte for byte.)
#
# Usage: scripts/device-table.sh "QEMU COMMAND ... -kernel" M7_DIR
# (device.mk passes its M7_RUN and $(BUILD)/m7). Only 28x28 for now: the
# scene models have no device export yet.
set -euo pipefail
case "${1:-}" in -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;; esac
RUN="$1"
M7="$2"
IMAGES="$M7/fmnist28.raw"
JPEG="$M7/fmnist28.m7.txt"
[ -f "$IMAGES" ] && [ -f "$JPEG" ] || { echo "device-table: run make device-jpeg-bench first" >&2; exit 1; }

# One configuration of the limitnet codec: every value in 51-byte packets.
PAYLOAD=51
KEEP=588
OUT="$M7/encode_fmnist.m7.txt"
$RUN "$M7/encode_fmnist.elf" -append "$IMAGES $M7/fmnist28.packets $PAYLOAD $KEEP" > "$OUT"
enc=$(awk '/^encode instructions/ {print $4}' "$OUT")
pack=$(awk '/^pack instructions/ {print $4}' "$OUT")
stack=$(awk '/^stack bytes/ {print $3}' "$OUT")
static=$(awk '/^static bytes/ {print $4 + $6 + $8 + $10 + $12}' "$OUT")
flash=$(arm-none-eabi-size "$M7/encode_fmnist.elf" | awk 'NR == 2 {print $1 + $2}')
model=$(arm-none-eabi-size "$M7"/target/dev/encode.o "$M7"/target/dev/pack.o \
          "$M7"/target/dev/model_fmnist.o | awk 'NR > 1 {s += $1 + $2} END {print s}')
total=$((enc + pack))

echo "== LimitNet's device side on the Cortex-M7 (qemu mps2-an500, -icount shift=0)"
echo "   28x28 Fashion-MNIST, first 100 test images; all 588 values in $PAYLOAD-byte packets"
printf '%-28s %12s %10s\n' "" "instructions" "limitnet/it"
printf '%-28s %12d %10s\n' "limitnet int8 encode" "$enc" ""
printf '%-28s %12d %10s\n' "limitnet packets" "$pack" ""
printf '%-28s %12d %10s\n' "limitnet total" "$total" "1.00"
awk -v t="$total" '!/^#/ {printf "%-28s %12d %10.3f   (%s bytes)\n", $1 " q" $2, $3, t / $3, $6}' "$JPEG"
echo "flash: $flash bytes for the whole program ($model for LimitNet's code and model)"
echo "RAM: $static bytes of static buffers + $stack bytes of stack = $((static + stack)) bytes"
echo "   (limitnet/it: limitnet's instructions over that encoder's)"
