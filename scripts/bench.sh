#!/usr/bin/env bash
# `make bench`: bench-ingest on SQLite, then on a throwaway PostgreSQL 15, then both side by side;
# then bench-live (live-update latency with 1,000 WebSocket clients) on each store.
#
#   scripts/bench.sh [BUILD_DIR] [bench-ingest options...]
#
# Builds nothing (make does). The PostgreSQL server keeps fsync and synchronous_commit on, so
# that an acknowledged batch is as durable as on SQLite (synchronous=FULL); it is stopped and
# removed on exit. Extra options (e.g. --points 500000) go to both runs.
set -euo pipefail

build=${1:-build}
shift || true
scripts=$(cd "$(dirname "$0")" && pwd)
bench="$build/bench-ingest"

if [[ ! -x "$bench" ]]; then
    echo "no $bench: run \`make build\` first" >&2
    exit 1
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/esocore-bench-run-XXXXXX")
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/esocore-bench-pg-XXXXXX")
cleanup() {
    "$scripts/pg-test-server.sh" stop "$pg_dir" || true
    rm -rf "$work"
}
trap cleanup EXIT

# One run's figures go to the terminal and, for the table, to a file.
run() {
    local store=$1
    shift
    echo "== bench-ingest --store $store"
    "$bench" --store "$store" "$@" | tee "$work/$store.out"
}

status=0
run sqlite "$@" || status=1

echo "== starting a throwaway PostgreSQL 15 in $pg_dir"
pg_url=$(ESOCORE_PG_DURABLE=1 "$scripts/pg-test-server.sh" start "$pg_dir")
run postgresql --postgres-url "$pg_url" "$@" || status=1

python3 - "$work/sqlite.out" "$work/postgresql.out" <<'PY'
import json
import sys

def result(path):
    try:
        with open(path) as out:
            lines = [l for l in out if l.startswith("RESULT ")]
    except FileNotFoundError:
        return {}
    return json.loads(lines[-1][len("RESULT "):]) if lines else {}

runs = [result(path) for path in sys.argv[1:]]

def fmt(run, key, scale=1.0, digits=0):
    value = run.get(key)
    if value is None:
        return "-"
    return f"{value / scale:,.{digits}f}"

rows = [
    ("end-to-end points/s", lambda r: fmt(r, "ingest_points_per_s")),
    ("raw rows/s", lambda r: fmt(r, "raw_rows_per_s")),
    ("ratio (end-to-end / raw)", lambda r: fmt(r, "ratio", digits=3)),
    ("batch p50 ms", lambda r: fmt(r, "batch_p50_ms", digits=1)),
    ("batch p99 ms", lambda r: fmt(r, "batch_p99_ms", digits=1)),
    ("server VmHWM MiB", lambda r: fmt(r, "server_vmhwm_kib", scale=1024, digits=1)),
    ("batches ok / failed", lambda r: f"{r.get('batches_ok', '-')} / {r.get('batches_failed', '-')}"),
    ("throttle waits", lambda r: str(r.get("throttle_waits", "-"))),
]
print()
print(f"{'':26}{'SQLite':>16}{'PostgreSQL':>16}")
for label, cell in rows:
    print(f"{label:26}{cell(runs[0]):>16}{cell(runs[1]):>16}")
print("raw: SQLite = bare-table INSERT loop; PostgreSQL = binary COPY, 100,000 rows per commit")
PY

if [[ -x "$build/bench-live" ]]; then
    echo
    echo "== bench-live --store sqlite"
    "$build/bench-live" --store sqlite || status=1
    echo "== bench-live --store postgresql"
    "$build/bench-live" --store postgresql --postgres-url "$pg_url" || status=1
else
    echo "no $build/bench-live: live-update figures skipped" >&2
    status=1
fi
exit $status
