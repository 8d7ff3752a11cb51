#!/usr/bin/env bash
# esocore-sim devices update their firmware from a real server (DESIGN §8, issue 7).
#
#   staged:   200 devices, a staged rollout at 10 %: exactly the devices whose bucket is below
#             1,000 update and nobody else; widened to 100 %, every device ends on the new
#             version, the rollout completes, and its progress in the API equals what the
#             sim did and what the store holds. Downloads are cut (--ota-cut-rate) and resumed
#             with Range; every image is checked against its SHA-256 and Ed25519 signature.
#   failures: 40 devices whose installs fail half the time: the rollout pauses itself on the
#             failure that reaches its threshold (30 % and at least 5), nobody new is offered
#             the update afterwards, and the events appear in the events API.
#
# usage: ota_rollout_against_server.sh ESOCORE ESOCORE_SIM [sqlite|postgresql] [staged|failures]
# PostgreSQL runs in a fresh database on the server named by ESOCORE_TEST_POSTGRES_URL; without
# that variable the PostgreSQL run is skipped (exit 77).
set -euo pipefail

esocore=$1
sim=$2
kind=${3:-sqlite}
mode=${4:-staged}
work=$(mktemp -d /tmp/esocore-ota-XXXXXX)
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
    database="esocore_ota_$$_$RANDOM"
    psql -XAtq "$ESOCORE_TEST_POSTGRES_URL" -c "CREATE DATABASE $database" >/dev/null
    ESOCORE_DATABASE_URL=$(python3 -c 'import sys, urllib.parse as u
p = u.urlsplit(sys.argv[1])
print(u.urlunsplit(p._replace(path="/" + sys.argv[2])))' "$ESOCORE_TEST_POSTGRES_URL" "$database")
    export ESOCORE_DATABASE_URL
else
    export ESOCORE_DATABASE_URL=sqlite:$work/data/esocore.db
fi
export ESOCORE_LOG_LEVEL=warn
export ESOCORE_LISTEN=127.0.0.1:0

password=$(python3 -c 'import secrets; print(secrets.token_urlsafe(16))')
"$esocore" createsuperuser --email ota@example.com --password "$password" >/dev/null

"$esocore" serve --port-file "$work/port" >>"$work/server.out" 2>>"$work/server.err" &
server_pid=$!
for _ in $(seq 1 300); do
    [[ -s "$work/port" ]] && break
    sleep 0.1
done
[[ -s "$work/port" ]] || { echo "server did not start"; cat "$work/server.err"; exit 1; }
port=$(cat "$work/port")
export ESOCORE_LISTEN=127.0.0.1:$port

if [[ "$mode" == staged ]]; then
    devices=200
    sim_options=(--ota-check-interval 1 --ota-cut-rate 0.3)
else
    # Checks spread over 20 s, so that the rollout pauses while devices still wait for it.
    devices=40
    sim_options=(--ota-check-interval 20 --ota-failure-rate 0.5)
fi

# Devices are provisioned first, so that the rollout's targets are known before they check.
"$sim" --server "http://127.0.0.1:$port" --fleet "$work/fleet.json" --devices "$devices" \
    --esocore "$esocore" --duration 0.1 --ota-check-interval 0 --flush-timeout 10 \
    >/dev/null 2>"$work/provision.err" || true
[[ -s "$work/fleet.json" ]] || { echo "no devices"; cat "$work/provision.err"; exit 1; }

# The scenario, against the API; it runs the sim itself.
status=0
python3 - "$mode" "$port" "$password" "$work" "$sim" "$esocore" "$devices" "${sim_options[@]}" \
    <<'PYTHON' || status=$?
import atexit, hashlib, json, os, signal, subprocess, sys, time, urllib.error, urllib.request

mode, port, password, work, sim, esocore, devices = sys.argv[1:8]
sim_options = sys.argv[8:]
base = f"http://127.0.0.1:{port}"
failures = []

def fail(message):
    print("FAIL:", message)
    failures.append(message)

def call(method, path, body=None, token=None, content_type="application/json"):
    data = None
    headers = {}
    if token:
        headers["Authorization"] = "Bearer " + token
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            text = answer.read()
            return answer.status, (json.loads(text) if text else None)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")

sim_process = None

def kill_sim():
    if sim_process and sim_process.poll() is None:
        sim_process.kill()

atexit.register(kill_sim)

def start_sim():
    global sim_process
    sim_process = subprocess.Popen(
        [sim, "--server", base, "--fleet", os.path.join(work, "fleet.json"), "--devices", devices,
         "--esocore", esocore, "--duration", "900", "--rate", "0.05", "--batch-interval", "1",
         "--heartbeat-interval", "10", "--seed", "7",
         "--flush-timeout", "30", "--log-level", "warn", *sim_options],
        stdout=subprocess.PIPE, stderr=open(os.path.join(work, "sim.err"), "w"), text=True)

def stop_sim():
    # SIGTERM ends the run as --duration would: the sim flushes and prints its summary.
    sim_process.send_signal(signal.SIGTERM)
    out, _ = sim_process.communicate(timeout=90)
    lines = [l for l in out.splitlines() if l.startswith("SUMMARY ")]
    return json.loads(lines[-1][len("SUMMARY "):])

def wait_for(what, predicate, seconds):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    fail(f"timed out after {seconds} s waiting for {what}")
    return None

def bucket(device_id):
    return int.from_bytes(hashlib.sha256(device_id.lower().encode()).digest()[:8], "big") % 10000

def count(sql):
    if os.environ["ESOCORE_DATABASE_URL"].startswith("sqlite:"):
        import sqlite3
        db = sqlite3.connect(os.environ["ESOCORE_DATABASE_URL"][len("sqlite:"):])
        return db.execute(sql).fetchone()[0]
    import subprocess
    out = subprocess.run(["psql", "-XAtq", os.environ["ESOCORE_DATABASE_URL"], "-c", sql],
                         check=True, capture_output=True, text=True).stdout
    return int(out.strip())

status, login = call("POST", "/api/auth/login",
                     {"email": "ota@example.com", "password": password, "mode": "token"})
assert status == 200, login
token = login["access_token"]
fleet = [d["id"] for d in json.load(open(os.path.join(work, "fleet.json")))["devices"]]
image = os.urandom(150_000 if mode == "staged" else 40_000)
status, bundle = call("POST", "/api/firmware?version=2.0.0&model=esocore-edge&release_notes=OTA",
                      image, token, "application/octet-stream")
assert status == 201, bundle
if bundle["sha256"] != hashlib.sha256(image).hexdigest() or bundle["size"] != len(image):
    fail("the bundle's size or hash is not the image's")

def rollout():
    status, body = call("GET", f"/api/rollouts/{rollout_id}", token=token)
    assert status == 200, body
    return body

def updated_devices():
    return count("SELECT count(*) FROM devices WHERE firmware_version = '2.0.0'")

if mode == "staged":
    status, made = call("POST", "/api/rollouts", {"bundle_id": bundle["id"], "kind": "staged",
                                                   "percentage": 10}, token)
    assert status == 201, made
    rollout_id = made["id"]
    first_wave = {d for d in fleet if bucket(d) < 1000}
    if made["progress"]["targeted"] != len(first_wave):
        fail(f"10 % targets {made['progress']['targeted']}, buckets say {len(first_wave)}")
    start_sim()
    started = time.time()
    wait_for("the 10 % wave", lambda: rollout()["progress"]["completed"] == len(first_wave), 120)
    first_seconds = time.time() - started
    time.sleep(4)  # every device checks a few more times: nobody outside the wave updates
    status, listed = call("GET", f"/api/rollouts/{rollout_id}/devices?status=completed&limit=500",
                          token=token)
    completed_ids = {d["device_id"] for d in listed["results"]}
    if completed_ids != first_wave:
        fail(f"{len(completed_ids)} devices completed at 10 %, {len(first_wave)} expected")
    if updated_devices() != len(first_wave):
        fail(f"{updated_devices()} devices run 2.0.0 at 10 %, {len(first_wave)} expected")

    status, widened = call("PATCH", f"/api/rollouts/{rollout_id}", {"percentage": 100}, token)
    assert status == 200, widened
    if widened["progress"]["targeted"] != len(fleet):
        fail(f"100 % targets {widened['progress']['targeted']}, not {len(fleet)}")
    started = time.time()
    wait_for("the rollout to complete", lambda: rollout()["status"] == "completed", 180)
    second_seconds = time.time() - started
    summary = stop_sim()
    final = rollout()
    progress = final["progress"]
    print(f"wave 1: {len(first_wave)} devices in {first_seconds:.1f} s; "
          f"wave 2: {len(fleet) - len(first_wave)} devices in {second_seconds:.1f} s")
    print("progress", json.dumps(progress))
    print("sim", json.dumps({k: v for k, v in summary.items() if k.startswith(("ota", "firm"))}))
    expected = {"targeted": 200, "pending": 0, "up_to_date": 0, "offered": 0, "downloading": 0,
                "installing": 0, "completed": 200, "failed": 0, "rolled_back": 0}
    if progress != expected:
        fail(f"final progress {progress}")
    if summary["ota_completed"] != progress["completed"]:
        fail(f"the sim completed {summary['ota_completed']}, the API says {progress['completed']}")
    if summary["firmware_versions"] != {"2.0.0": 200}:
        fail(f"devices run {summary['firmware_versions']}")
    if updated_devices() != 200:
        fail(f"{updated_devices()} devices run 2.0.0 in the store")
    if summary["ota_cuts"] == 0 or summary["ota_resumes"] == 0:
        fail("no download was cut and resumed")
    if summary["ota_rejected_images"] != 0:
        fail("an image failed its checks")
else:
    status, made = call("POST", "/api/rollouts",
                        {"bundle_id": bundle["id"], "kind": "immediate",
                         "failure_threshold_percent": 30, "failure_minimum": 5}, token)
    assert status == 201, made
    rollout_id = made["id"]
    start_sim()
    wait_for("the rollout to pause", lambda: rollout()["status"] == "paused", 120)
    time.sleep(3)  # devices offered before the pause finish
    settled = rollout()["progress"]
    time.sleep(4)
    summary = stop_sim()
    later = rollout()
    progress = later["progress"]
    print("paused:", later["paused_reason"])
    print("progress", json.dumps(progress))
    if later["status"] != "paused":
        fail(f"the rollout is {later['status']}")
    if progress["pending"] != settled["pending"] or progress["pending"] == 0:
        fail(f"devices were offered the update after the pause: {settled} then {progress}")
    status, paused_events = call("GET", "/api/events?type=rollout_paused", token=token)
    if len(paused_events["results"]) != 1:
        fail(f"{len(paused_events['results'])} rollout_paused events")
    else:
        meta = paused_events["results"][0]["metadata"]
        n, m = meta["failures"], meta["finished"]
        reached = lambda f, d: f >= 5 and d > 0 and f * 100 >= 30 * d
        if not reached(n, m) or reached(n - 1, m - 1):
            fail(f"paused at {n} of {m}, not on the failure that reached 30 % and 5")
        if meta["rollout_id"] != rollout_id:
            fail("the event names another rollout")
    status, failed_events = call("GET", "/api/events?type=ota_failed&limit=500", token=token)
    if len(failed_events["results"]) != progress["failed"]:
        fail(f"{len(failed_events['results'])} ota_failed events, {progress['failed']} failures")
    if summary["ota_failed"] != progress["failed"] or summary["ota_completed"] != progress["completed"]:
        fail(f"the sim failed {summary['ota_failed']} and completed {summary['ota_completed']}, "
             f"the API says {progress['failed']} and {progress['completed']}")
    if updated_devices() != progress["completed"]:
        fail(f"{updated_devices()} devices run 2.0.0, {progress['completed']} completed")

sys.exit(1 if failures else 0)
PYTHON
if [[ $status -ne 0 ]]; then
    echo "--- sim"; tail -20 "$work/sim.err" 2>/dev/null || true
    echo "--- server"; tail -20 "$work/server.err"
    exit 1
fi
echo "OK"
