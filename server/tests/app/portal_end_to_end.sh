#!/usr/bin/env bash
# The portal in a real browser against the real server: runs portal/e2e/run.mjs (node:test with
# playwright-core and Debian's Chromium), which starts `esocore serve` on a fresh SQLite database
# serving the built portal, runs esocore-sim, and saves screenshots.
# usage: portal_end_to_end.sh ESOCORE ESOCORE_SIM REPO_ROOT SCREENSHOT_DIR
# Skips with 77 when node, Chromium, the portal's packages or the built portal are missing
# (`make test` builds the portal first).
set -euo pipefail

esocore=$1
simulator=$2
root=$3
screenshots=$4
chromium=${CHROMIUM:-/usr/bin/chromium}
portal=$root/portal

skip() {
    echo "$1: skipped"
    exit 77
}
command -v node >/dev/null 2>&1 || skip "node is missing"
[[ -x "$chromium" ]] || skip "$chromium is missing"
[[ -d "$portal/node_modules/playwright-core" ]] || skip "the portal's packages are missing (make portal)"
[[ -d "$portal/node_modules/axe-core" ]] || skip "axe-core is missing (make portal)"
[[ -f "$portal/.output/public/index.html" ]] || skip "the portal is not built (make portal)"

exec node --test-reporter=spec "$portal/e2e/run.mjs" --esocore "$esocore" --sim "$simulator" \
    --portal "$portal/.output/public" --screenshots "$screenshots" --chromium "$chromium"
