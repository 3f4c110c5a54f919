#!/usr/bin/env bash
# Fetches the third-party sources that the device build (device/device.mk)
# compiles for the Cortex-M7, from Debian's source archive, into DEST
# (default: build-deps/src under the repository, which `make clean` keeps):
#   libjpeg-turbo 2.1.5 (Debian 12 package libjpeg-turbo 2.1.5-2), unpacked
#   by `apt-get source` into DEST/libjpeg-turbo-2.1.5 with Debian's patches.
#
# Idempotent and non-interactive: when the tree is already there it does
# nothing (and needs no network); otherwise it makes sure deb-src entries
# and dpkg-dev (for dpkg-source) exist, runs apt-get update, then apt-get
# source. Called by scripts/install-deps.sh; run as root or with sudo.
#
# Usage: scripts/fetch-device-sources.sh [DEST]
set -euo pipefail

case "${1:-}" in
  -h|--help)
    sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
    exit 0 ;;
esac

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
DEST="${1:-$ROOT/build-deps/src}"
JPEG_DIR="libjpeg-turbo-2.1.5"

if [ -f "$DEST/$JPEG_DIR/jcapimin.c" ] && [ -f "$DEST/$JPEG_DIR/jversion.h.in" ]; then
  echo "fetch-device-sources: $DEST/$JPEG_DIR already there"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

# deb-src twins of the deb entries in Debian's deb822 sources file (same
# URIs, suites, components and key), unless some deb-src entry exists.
SRC_FILE=/etc/apt/sources.list.d/debsrc.sources
if ! grep -rqsE '^(Types:.*deb-src|deb-src )' /etc/apt/sources.list /etc/apt/sources.list.d/; then
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    sed -E 's/^Types:.*/Types: deb-src/' /etc/apt/sources.list.d/debian.sources \
      | $SUDO tee "$SRC_FILE" > /dev/null
  elif [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' \
      | $SUDO tee /etc/apt/sources.list.d/debsrc.list > /dev/null
  else
    echo "fetch-device-sources: no Debian apt sources found to mirror as deb-src" >&2
    exit 1
  fi
fi

if ! command -v dpkg-source > /dev/null; then
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends dpkg-dev
fi
$SUDO apt-get update -q

mkdir -p "$DEST"
cd "$DEST"
rm -rf "$JPEG_DIR"   # a partial tree from an interrupted run
apt-get source -q libjpeg-turbo
if [ ! -f "$JPEG_DIR/jcapimin.c" ]; then
  echo "fetch-device-sources: apt-get source libjpeg-turbo did not give $JPEG_DIR" \
       "(device/m7/libjpeg/jconfig.h is written for 2.1.5)" >&2
  ls "$DEST" >&2
  exit 1
fi
echo "fetch-device-sources: $DEST/$JPEG_DIR ready"
