#!/usr/bin/env bash
# Lints the bundled OpenAPI document with @redocly/cli and the rules in redocly.yaml.
# Exceptions for single operations are in .redocly.lint-ignore.yaml, each with its reason.
#
#   openapi-lint.sh [CACHE]    CACHE: where docs-assets.sh --dev installed the tools
#                              (default build/docs-assets)
set -euo pipefail
cd "$(dirname "$0")/.."

cache=${1:-build/docs-assets}
redocly="$cache/node_modules/.bin/redocly"
if [[ ! -x "$redocly" ]]; then
    echo "openapi-lint: $redocly is missing; run scripts/docs-assets.sh --dev" >&2
    exit 1
fi
python=python3
[[ -x /usr/bin/python3 ]] && python=/usr/bin/python3

# A fixed path: .redocly.lint-ignore.yaml names its exceptions by file.
bundled=build/openapi/openapi.json
"$python" scripts/openapi-bundle.py --pretty --json "$bundled"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true \
    "$redocly" lint --config redocly.yaml --format stylish "$bundled"
