#!/usr/bin/env bash
# Runs Agentwatch on http://localhost:8501. With no argument it opens the bundled demo dataset;
# pass a source to open it instead: scripts/run.sh path/to/cylestio.db | postgresql://...
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
if [ $# -gt 0 ]; then
    exec .venv/bin/streamlit run app.py -- --source "$1"
fi
exec .venv/bin/streamlit run app.py
