#!/usr/bin/env bash
# Installs every Debian package the testbed needs. Idempotent and
# non-interactive; nothing else is downloaded at build or run time.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config
  zlib1g-dev libjpeg62-turbo-dev libpng-dev
  libcjson-dev libcmocka-dev libpcap-dev
  libopenblas-dev
  gnuplot-nox
  dataset-fashion-mnist
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${PACKAGES[@]}"
