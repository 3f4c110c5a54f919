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
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
