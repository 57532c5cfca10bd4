#!/usr/bin/env bash
# Installs the Prometheus server the metrics test scrapes the worker with: Debian's `prometheus`
# package at /usr/bin/prometheus (tests/workflow/test_metrics.py starts it on a free port with
# its own config and storage; the package's system service is not used). Idempotent: does
# nothing when /usr/bin/prometheus exists. Needs root (or sudo).
set -euo pipefail
if [ -x /usr/bin/prometheus ]; then
  echo "prometheus: $(/usr/bin/prometheus --version 2>/dev/null | head -n 1 || echo present) (already installed)"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-prometheus: apt-get not found; install Prometheus so that /usr/bin/prometheus exists" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-prometheus: run as root (apt-get install -y --no-install-recommends prometheus)" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
# --no-install-recommends: the server only (no node exporter, no web console libraries)
$SUDO apt-get install -y --no-install-recommends prometheus
# the package enables its system service on machines with an init system; the tests start
# their own server, so do not leave one scraping localhost:9090 in the background
if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet prometheus 2>/dev/null; then
  $SUDO systemctl disable --now prometheus || true
fi
echo "prometheus: $(/usr/bin/prometheus --version 2>/dev/null | head -n 1 || echo installed)"
