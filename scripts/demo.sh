#!/usr/bin/env bash
# The main job on a fresh machine: set up, start the embedded Temporal server and a worker
# (`jarvis up`), run the example plan end to end and print its result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export JARVIS_DATA_DIR=${JARVIS_DATA_DIR:-$PWD/.jarvis}
.venv/bin/jarvis up
.venv/bin/jarvis run-plan "${1:-examples/hello.json}"
echo
echo "The server and worker keep running (Temporal UI: http://localhost:8233)."
echo "Try: .venv/bin/jarvis list | .venv/bin/jarvis tools | .venv/bin/jarvis down"
