#!/usr/bin/env bash
# Runs esocore-sim against a real server and checks that what the sim counts as acknowledged
# is exactly what the store holds. The server is stopped and restarted mid-run, the fleet has
# an outage, and 10 % of answers are dropped, so batches are buffered and resent.
# usage: fleet_against_server.sh ESOCORE ESOCORE_SIM [sqlite|postgresql]
# PostgreSQL runs in a fresh database on the server named by ESOCORE_TEST_POSTGRES_URL; without
# that variable the PostgreSQL run is skipped (exit 77).
set -euo pipefail

esocore=$1
sim=$2
kind=${3:-sqlite}
work=$(mktemp -d /tmp/esocore-fleet-XXXXXX)
server_pid=""
database=""
cleanup() {
    [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
    if [[ -n "$database" ]]; then
        psql -XAtq "$ESOCORE_TEST_POSTGRES_URL" -c "DROP DATABASE IF EXISTS $database" \
            >/dev/null 2>&1 || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

export ESOCORE_DATA_DIR=$work/data
if [[ "$kind" == postgresql ]]; then
    if [[ -z "${ESOCORE_TEST_POSTGRES_URL:-}" ]]; then
        echo "ESOCORE_TEST_POSTGRES_URL is not set: skipped"
        exit 77
    fi
    database="esocore_fleet_$$_$RANDOM"
    psql -XAtq "$ESOCORE_TEST_POSTGRES_URL" -c "CREATE DATABASE $database" >/dev/null
    ESOCORE_DATABASE_URL=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$ESOCORE_TEST_POSTGRES_URL" "$database")
    export ESOCORE_DATABASE_URL
else
    export ESOCORE_DATABASE_URL=sqlite:$work/data/esocore.db
fi
export ESOCORE_LOG_LEVEL=warn

start_server() {
    rm -f "$work/port"
    "$esocore" serve --port-file "$work/port" >>"$work/server.out" 2>>"$work/server.err" &
    server_pid=$!
    for _ in $(seq 1 300); do
        [[ -s "$work/port" ]] && return 0
        sleep 0.1
    done
    echo "server did not start"; cat "$work/server.err"; exit 1
}

stop_server() {
    kill -TERM "$server_pid"
    wait "$server_pid" || { echo "server exited non-zero on SIGTERM"; exit 1; }
    server_pid=""
}

export ESOCORE_LISTEN=127.0.0.1:0
start_server
port=$(cat "$work/port")
export ESOCORE_LISTEN=127.0.0.1:$port

"$sim" --server "http://127.0.0.1:$port" --fleet "$work/fleet.json" --devices 50 \
    --duration 24 --rate 2 --batch-interval 2 --outage-after 4 --outage-for 4 \
    --drop-responses 0.1 --event-rate 120 --seed 11 --esocore "$esocore" \
    --flush-timeout 60 >"$work/sim.out" 2>"$work/sim.err" &
sim_pid=$!

# The server goes away for a while in the middle of the run; devices buffer and resend.
sleep 12
stop_server
sleep 3
start_server

sim_status=0
wait "$sim_pid" || sim_status=$?
summary=$(grep '^SUMMARY ' "$work/sim.out" | sed 's/^SUMMARY //')
if [[ -z "$summary" ]]; then
    echo "the sim printed no summary"; tail -20 "$work/sim.err"; exit 1
fi
stop_server

read -r points_acked events_acked unacked resends <<<"$(python3 -c '
import json, sys
s = json.loads(sys.argv[1])
print(s["points_acked"], s["events_acked"], s["unacked_records"], s["resends"])' "$summary")"

count() {
    if [[ "$ESOCORE_DATABASE_URL" == sqlite:* ]]; then
        sqlite3 "${ESOCORE_DATABASE_URL#sqlite:}" "$1"
    else
        psql -XAtq "$ESOCORE_DATABASE_URL" -c "$1"
    fi
}
points_stored=$(count "SELECT count(*) FROM points")
events_stored=$(count "SELECT count(*) FROM events")

echo "sim: points acked $points_acked, events acked $events_acked, resends $resends," \
     "unacked $unacked (exit $sim_status)"
echo "store: points $points_stored, events $events_stored"
fail=0
[[ "$points_acked" -gt 0 ]] || { echo "FAIL: nothing was acknowledged"; fail=1; }
[[ "$resends" -gt 0 ]] || { echo "FAIL: the run resent nothing"; fail=1; }
[[ "$unacked" -eq 0 ]] || { echo "FAIL: $unacked records never acknowledged"; fail=1; }
[[ "$points_acked" -eq "$points_stored" ]] || { echo "FAIL: points differ"; fail=1; }
[[ "$events_acked" -eq "$events_stored" ]] || { echo "FAIL: events differ"; fail=1; }
exit $fail
