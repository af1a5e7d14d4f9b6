#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use answers. The server is AGENTWATCH_TEST_PG_URL
# (default postgresql://postgres@127.0.0.1:5432/postgres). Starts the machine's cluster if it
# is installed but stopped; under CI=true a missing server fails the run, elsewhere the
# PostgreSQL tests skip and say how to point them at a server.
set -uo pipefail
url=${AGENTWATCH_TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/postgres}
ready() { command -v pg_isready >/dev/null && pg_isready -q -d "$url" -t 2; }

if ! ready && command -v pg_ctlcluster >/dev/null && [ -d /etc/postgresql ]; then
    version=$(ls /etc/postgresql | sort -V | tail -n 1)
    echo "postgres: starting local cluster $version/main" >&2
    pg_ctlcluster --skip-systemctl-redirect "$version" main start 2>&1 | sed 's/^/postgres: /' >&2 || true
fi
for _ in $(seq 1 30); do
    ready && exit 0
    sleep 1
done
if [ "${CI:-}" = true ]; then
    echo "postgres: no PostgreSQL answers at $url; CI needs one (set AGENTWATCH_TEST_PG_URL)" >&2
    exit 1
fi
echo "postgres: no PostgreSQL at $url; its tests will skip (set AGENTWATCH_TEST_PG_URL)" >&2
exit 0
