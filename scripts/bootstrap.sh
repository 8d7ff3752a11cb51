#!/usr/bin/env bash
# Installs the Debian packages that `make run` (bootstrap.sh run) or `make test`
# (bootstrap.sh test) need and that are missing. Quiet when everything is there.
set -euo pipefail

run_packages=(
    g++ cmake ninja-build ccache pkg-config make
    libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
    libssl-dev libsodium-dev liboath-dev libjwt-dev libcurl4-openssl-dev
    zlib1g-dev libzstd-dev libhowardhinnant-date-dev libutf8proc-dev libqrencode-dev
    libspdlog-dev libfmt-dev libcli11-dev libtomlplusplus-dev libhiredis-dev
    libsqlite3-dev sqlite3 libpq-dev
    nodejs npm python3 python3-yaml
)
test_packages=(
    "${run_packages[@]}"
    googletest libgtest-dev libgmock-dev libbenchmark-dev clang-format
    postgresql-15 postgresql-client-15 redis-server
    python3-aiosmtpd chromium libvalijson-dev
)

case "${1:-run}" in
    run) wanted=("${run_packages[@]}") ;;
    test) wanted=("${test_packages[@]}") ;;
    *) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

missing=()
for package in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$package")
    fi
done

# Node.js 20 or newer may come from outside Debian; accept it when it is on PATH.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
    filtered=()
    for package in "${missing[@]}"; do
        [[ "$package" == nodejs || "$package" == npm ]] || filtered+=("$package")
    done
    missing=("${filtered[@]}")
fi

if ((${#missing[@]} == 0)); then
    exit 0
fi

echo "Installing missing packages: ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
    sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
