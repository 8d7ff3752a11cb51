#!/usr/bin/env bash
# Installs the API documentation's npm packages (tools/docs/package-lock.json) into a cache
# and copies the files the server serves at /api/docs/assets/ into <cache>/dist.
#
#   docs-assets.sh [--dev] [CACHE]    CACHE defaults to build/docs-assets
#
# Without --dev only the runtime packages (swagger-ui-dist, redoc) are installed; --dev adds
# the checking tools (@redocly/cli, playwright-core) that `make test` uses. Nothing is
# downloaded again while the lock file is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=runtime
if [[ "${1:-}" == "--dev" ]]; then
    mode=dev
    shift
fi
cache=${1:-build/docs-assets}
tools=tools/docs

for command in node npm; do
    if ! command -v "$command" >/dev/null 2>&1; then
        echo "docs-assets: $command is missing; run scripts/bootstrap.sh run" >&2
        exit 1
    fi
done

# The stamp names the lock it was installed from and whether the dev tools are there.
mkdir -p "$cache"
lock_hash=$(cat "$tools/package.json" "$tools/package-lock.json" "$tools/.npmrc" | sha256sum |
    cut -d' ' -f1)
stamp="$cache/.installed"
installed=$(cat "$stamp" 2>/dev/null || true)
if [[ "$installed" != "$lock_hash dev" && "$installed" != "$lock_hash $mode" ]]; then
    cp "$tools/package.json" "$tools/package-lock.json" "$tools/.npmrc" "$cache/"
    omit=()
    [[ "$mode" == dev ]] || omit=(--omit=dev)
    echo "docs-assets: npm ci ${omit[*]} in $cache"
    (cd "$cache" && SCARF_ANALYTICS=false npm ci --no-audit --no-fund "${omit[@]}" >/dev/null)
    echo "$lock_hash $mode" >"$stamp"
fi

# Exactly what the pages load; the server refuses any other name.
modules="$cache/node_modules"
assets=(
    "$modules/swagger-ui-dist/swagger-ui.css"
    "$modules/swagger-ui-dist/swagger-ui-bundle.js"
    "$modules/swagger-ui-dist/favicon-32x32.png"
    "$modules/redoc/bundles/redoc.standalone.js"
    "$tools/swagger-initializer.js"
)
# Built beside dist and swapped in whole, so a running server never serves half of it.
next="$cache/dist.next"
rm -rf "$next"
mkdir -p "$next"
cp "${assets[@]}" "$next/"
rm -rf "$cache/dist.old"
if [[ -d "$cache/dist" ]]; then
    mv "$cache/dist" "$cache/dist.old"
fi
mv "$next" "$cache/dist"
rm -rf "$cache/dist.old"
