#!/usr/bin/env bash
# Runs every test: lint, unit, PostgreSQL, AppTest and the Chromium journeys.
# Installs what they need first (Python packages, Debian's chromium) and waits for PostgreSQL.
# Extra arguments go to pytest: scripts/test.sh -k sentinel
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "test: installing Debian's chromium for the browser tests" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "test: /usr/bin/chromium is missing; install Debian's chromium package (browser tests will fail)" >&2
    fi
fi

scripts/postgres.sh

.venv/bin/ruff check .
.venv/bin/ruff format --check .
exec .venv/bin/python -m pytest "$@"
