#!/usr/bin/env bash
# Create .venv (if needed) and install the project with its dev tools. Idempotent, and quick
# when nothing changed: pyproject.toml's hash is stamped into .venv after an install.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=".venv/.jarvis-installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  echo "setup: installing the project and its dev tools into .venv (a minute or two the first time)"
  # the build backend's warnings (editable installs) are noise to whoever runs this
  export PYTHONWARNINGS=ignore
  .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
  .venv/bin/python -m pip install --quiet -e '.[dev]' 2>&1 \
    | grep -v -e "^WARNING: Location" -e "^ *$" -e "!!" -e "\*\*\*\*" -e "Editable install" \
      -e "Please be careful" -e "name as your package" -e "WheelFile(wheel_path" || true
  rm -f .venv/.jarvis-installed-*
fi
if [ ! -x .venv/bin/jarvis ] || ! (cd / && "$OLDPWD/.venv/bin/python" -c "import planner, agents, activities"); then
  rm -f "$stamp"
  echo "setup failed: the project did not install into .venv; run" >&2
  echo "  .venv/bin/python -m pip install -e '.[dev]'   to see why" >&2
  exit 1
fi
touch "$stamp"
