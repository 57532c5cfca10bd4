#!/usr/bin/env bash
# Installs the browser the end-to-end web tests drive: Debian's `chromium` package at
# /usr/bin/chromium (Playwright launches it with executable_path; its own browser download is
# not used). Idempotent: does nothing when /usr/bin/chromium exists. Needs root (or sudo).
set -euo pipefail
bash "$(dirname "$0")/apt-install.sh" /usr/bin/chromium chromium fonts-dejavu-core
