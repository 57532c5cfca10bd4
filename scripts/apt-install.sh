#!/usr/bin/env bash
# apt-install.sh BINARY APT_ARGS...: installs Debian packages (`apt-get install -y APT_ARGS`)
# unless BINARY already exists, then prints its version. Idempotent. Needs root (or sudo).
# Used by install-browser.sh and install-prometheus.sh.
set -euo pipefail
binary=$1
shift
name=$(basename "$binary")
version() { "$binary" --version 2>/dev/null | head -n 1 || echo "$1"; }
if [ -x "$binary" ]; then
  echo "$name: $(version present) (already installed)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "apt-install: apt-get not found; install $* so that $binary exists" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "apt-install: run as root (apt-get install -y $*)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y "$@"
echo "$name: $(version installed)"
