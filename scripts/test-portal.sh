#!/usr/bin/env bash
# The portal's checks: ESLint, nuxt typecheck (vue-tsc) and the Vitest unit tests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
"$root/scripts/build-portal.sh" --deps
cd "$root/portal"
export NUXT_TELEMETRY_DISABLED=1

echo "portal: eslint"
npx eslint .
echo "portal: nuxt typecheck"
npx nuxt typecheck >.nuxt-typecheck.log 2>&1 || {
    grep -v '^\s*$' .nuxt-typecheck.log | tail -n 60 >&2
    exit 1
}
echo "portal: vitest"
npx vitest run
