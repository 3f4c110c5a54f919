#!/usr/bin/env bash
# Installs every Debian package the testbed needs. Idempotent and
# non-interactive; nothing else is downloaded at build or run time.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  zlib1g-dev libjpeg62-turbo-dev libpng-dev libopenjp2-7-dev libwebp-dev
  libcjson-dev libcmocka-dev libpcap-dev
  libopenblas-dev
  # ns-3 for the optional ns3_* channels; ns3-core.pc links libgsl.so by path
  libns3-dev libgsl-dev
  gnuplot-nox
  # the fuzz harnesses (tests/fuzz/): clang and its libFuzzer runtime
  clang libclang-rt-14-dev
  dataset-fashion-mnist
  # the device side on a Cortex-M7 under QEMU (device/, device/device.mk),
  # stb's JPEG writer for its JPEG baseline, dpkg-dev for apt-get source
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm libstb-dev dpkg-dev
  # sweeps on real engines (scripts/sweep-parallel.sh, scripts/sweep-slurm.sh):
  # GNU parallel, and Slurm 22.05 with munge, which tests/test_sweep.c runs
  # as a one-node cluster on localhost (scripts/slurm-local.sh; the packages'
  # own services are not needed)
  parallel slurm-wlm munge
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"

# libjpeg-turbo's source for the Cortex-M7 JPEG baseline (make device-bench),
# from Debian's source archive. Without it that baseline is skipped with a
# reason; nothing else needs it, so a failure here does not stop the install.
"$(dirname "$0")/fetch-device-sources.sh" ||
  echo "install-deps: libjpeg-turbo's source not fetched; make device-bench will skip the JPEG baseline" >&2
