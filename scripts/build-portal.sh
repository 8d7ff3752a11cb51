#!/usr/bin/env bash
# Builds the portal (portal/) into portal/.output/public, the static files the C++ server serves
# at / (ESOCORE_PORTAL_DIR). Called by `make run` through the Makefile's `portal` target.
#
#   scripts/build-portal.sh           install if needed, regenerate API types, nuxt generate
#   scripts/build-portal.sh --deps    install if needed and regenerate API types only
#
# npm ci runs only when package-lock.json changed since the last install, and nuxt generate only
# when a source file changed since the last build, so a repeated `make run` costs a second.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root/portal"

export NUXT_TELEMETRY_DISABLED=1

install_marker=node_modules/.esocore-lock.sha256
build_marker=.output/.esocore-sources.sha256

lock_sum="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [[ ! -f "$install_marker" || "$(cat "$install_marker")" != "$lock_sum" ]]; then
    echo "build-portal: installing npm packages (package-lock.json changed)"
    npm ci --no-audit --no-fund --loglevel=error
    echo "$lock_sum" >"$install_marker"
fi

# The types follow the server's OpenAPI document; the committed copy stands when the document
# cannot be bundled (for example without PyYAML), and typecheck then says what drifted.
if ! node scripts/api-types.mjs; then
    echo "build-portal: could not bundle the OpenAPI document; keeping app/types/api.d.ts" >&2
fi

if [[ "${1:-}" == "--deps" ]]; then
    exit 0
fi

sources_sum="$(find app public nuxt.config.ts package-lock.json -type f -print0 | sort -z |
    xargs -0 sha256sum | sha256sum | cut -d' ' -f1)"
if [[ -f .output/public/index.html && -f "$build_marker" &&
      "$(cat "$build_marker")" == "$sources_sum" ]]; then
    exit 0
fi

echo "build-portal: nuxt generate"
npx nuxt generate >.nuxt-generate.log 2>&1 || {
    tail -n 40 .nuxt-generate.log >&2
    exit 1
}
echo "$sources_sum" >"$build_marker"
echo "build-portal: built portal/.output/public"
