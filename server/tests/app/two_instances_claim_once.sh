#!/usr/bin/env bash
# Two server processes on one PostgreSQL database: each housekeeping job (packet purge,
# partition upkeep) is claimed through the database and runs on exactly one of them.
# usage: two_instances_claim_once.sh ESOCORE   (needs ESOCORE_TEST_POSTGRES_URL; skips with 77)
set -euo pipefail

esocore=$1
if [[ -z "${ESOCORE_TEST_POSTGRES_URL:-}" ]]; then
    echo "ESOCORE_TEST_POSTGRES_URL is not set: skipped"
    exit 77
fi
work=$(mktemp -d /tmp/esocore-two-XXXXXX)
database="esocore_two_$$_$RANDOM"
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    psql -XAtq "$ESOCORE_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $database" >/dev/null 2>&1
    rm -rf "$work"
}
trap cleanup EXIT

psql -XAtq "$ESOCORE_TEST_POSTGRES_URL" -c "CREATE DATABASE $database" >/dev/null
url=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$ESOCORE_TEST_POSTGRES_URL" "$database")

export ESOCORE_DATABASE_URL=$url
export ESOCORE_SECRET_KEY=shared-test-secret
export ESOCORE_LISTEN=127.0.0.1:0
for i in 1 2; do
    ESOCORE_DATA_DIR=$work/data$i "$esocore" serve --port-file "$work/port$i" \
        >"$work/out$i" 2>"$work/err$i" &
    pids+=($!)
done
for i in 1 2; do
    for _ in $(seq 1 300); do [[ -s "$work/port$i" ]] && break; sleep 0.1; done
    [[ -s "$work/port$i" ]] || { echo "server $i did not start"; cat "$work/err$i"; exit 1; }
done
# Both are up; give each time to run its start-up housekeeping pass.
sleep 2
for pid in "${pids[@]}"; do kill -TERM "$pid"; done
for pid in "${pids[@]}"; do wait "$pid" || { echo "a server exited non-zero"; exit 1; }; done
pids=()

fail=0
for job in purge_packets maintain_partitions; do
    runs=$(cat "$work/err1" "$work/err2" | grep '"msg":"job ran"' | grep -c "\"job\":\"$job\"" || true)
    echo "$job ran $runs time(s) across two instances"
    [[ "$runs" -eq 1 ]] || fail=1
done
exit $fail
