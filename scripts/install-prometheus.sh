#!/usr/bin/env bash
# Installs the Prometheus server the metrics test scrapes the worker with: Debian's `prometheus`
# package at /usr/bin/prometheus (tests/workflow/test_metrics.py starts it on a free port with
# its own config and storage; the package's system service is not used). Idempotent: does
# nothing when /usr/bin/prometheus exists. Needs root (or sudo).
set -euo pipefail
already=$([ -x /usr/bin/prometheus ] && echo yes || echo no)
# --no-install-recommends: the server only (no node exporter, no web console libraries)
bash "$(dirname "$0")/apt-install.sh" /usr/bin/prometheus --no-install-recommends prometheus
# the package enables its system service on machines with an init system; the tests start
# their own server, so do not leave one scraping localhost:9090 in the background
if [ "$already" = no ] && command -v systemctl >/dev/null 2>&1 \
    && systemctl is-active --quiet prometheus 2>/dev/null; then
  SUDO=$([ "$(id -u)" -ne 0 ] && echo sudo || true)
  $SUDO systemctl disable --now prometheus || true
fi
