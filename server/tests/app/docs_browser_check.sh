#!/usr/bin/env bash
# The API documentation pages in a real browser: starts `esocore serve` on a fresh SQLite
# database with the npm-built pages, makes a user and a personal API token through the API,
# then runs scripts/docs-browser-check.mjs (Swagger UI and ReDoc in Chromium).
# usage: docs_browser_check.sh ESOCORE REPO_ROOT SCREENSHOT_DIR
# Skips with 77 when node, Chromium or the docs tools (make docs-tools) are missing.
set -euo pipefail

esocore=$1
root=$2
screenshots=$3
cache=${ESOCORE_DOCS_CACHE:-$root/build/docs-assets}
chromium=${CHROMIUM:-/usr/bin/chromium}

skip() {
    echo "$1: skipped"
    exit 77
}
command -v node >/dev/null 2>&1 || skip "node is missing"
[[ -x "$chromium" ]] || skip "$chromium is missing"
[[ -d "$cache/node_modules/playwright-core" ]] || skip "playwright-core is missing (make docs-tools)"
[[ -f "$cache/dist/swagger-ui-bundle.js" ]] || skip "the docs pages are not built (make docs)"

work=$(mktemp -d /tmp/esocore-docs-XXXXXX)
server=""
cleanup() {
    if [[ -n "$server" ]]; then
        kill "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

export ESOCORE_DATABASE_URL=sqlite:$work/esocore.db
export ESOCORE_DATA_DIR=$work/data
export ESOCORE_LISTEN=127.0.0.1:0
export ESOCORE_DOCS_DIR=$cache/dist
email=docs-check@example.com
password=$(head -c 18 /dev/urandom | base64)

"$esocore" createsuperuser --email "$email" --password "$password" >/dev/null
"$esocore" serve --port-file "$work/port" >"$work/out" 2>"$work/err" &
server=$!
for _ in $(seq 1 300); do [[ -s "$work/port" ]] && break; sleep 0.1; done
[[ -s "$work/port" ]] || { echo "the server did not start"; cat "$work/err"; exit 1; }
url=http://127.0.0.1:$(cat "$work/port")

field() {
    python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}
access=$(curl -sSf "$url/api/auth/login" -H 'Content-Type: application/json' \
    -d "{\"email\": \"$email\", \"password\": \"$password\", \"mode\": \"token\"}" |
    field access_token)
token=$(curl -sSf "$url/api/auth/tokens" -H "Authorization: Bearer $access" \
    -H 'Content-Type: application/json' -d '{"name": "docs browser check"}' | field token)

node "$root/scripts/docs-browser-check.mjs" --url "$url" --token "$token" \
    --screenshots "$screenshots" --modules "$cache/node_modules" --chromium "$chromium"
