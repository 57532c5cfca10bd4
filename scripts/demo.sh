#!/usr/bin/env bash
# The main job on a fresh machine: set up, start the embedded Temporal server and a worker
# (`jarvis up`), run the example plan end to end and print its result.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export JARVIS_DATA_DIR=${JARVIS_DATA_DIR:-$PWD/.jarvis}
.venv/bin/jarvis up
echo "== a plan file, run end to end"
.venv/bin/jarvis run-plan "${1:-examples/hello.json}"
echo "== goals in plain language (offline: served by shipped templates, no LLM call)"
.venv/bin/jarvis run "remember that the boiler is serviced in May" --yes
.venv/bin/jarvis run "what do my notes say about the boiler" --yes
echo
ui_port=$(.venv/bin/python -c "from planner.settings import load_settings; print(load_settings().temporal_ui_port)")
echo "The server and worker keep running (Temporal UI: http://localhost:${ui_port})."
echo "Try: .venv/bin/jarvis templates list | .venv/bin/jarvis tools | .venv/bin/jarvis down"
echo "With an LLM endpoint (JARVIS_LLM_BASE_URL / JARVIS_LLM_MODEL / JARVIS_LLM_API_KEY), any"
echo "goal plans: .venv/bin/jarvis run \"...\""
