#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for tests, kept entirely inside DIR.
#
#   pg-test-server.sh start DIR   initdb into DIR (when empty), start, print the URL
#   pg-test-server.sh url DIR     print the URL of the server running in DIR
#   pg-test-server.sh stop DIR    stop the server and remove DIR
#
# The server listens on a Unix socket in DIR and on 127.0.0.1 at a free port. Durability is
# off (fsync, synchronous_commit) because the data is thrown away, unless ESOCORE_PG_DURABLE=1
# (benchmarks, which compare against SQLite with synchronous=FULL). PostgreSQL refuses to run
# as root, so as root the server runs as the `postgres` system user (created when missing),
# or as `nobody` when no user can be created.
set -euo pipefail

pg_bin=${ESOCORE_PG_BIN:-/usr/lib/postgresql/15/bin}

usage() {
    echo "usage: $0 start|stop|url DIR" >&2
    exit 2
}

# The user that owns and runs the cluster; empty means the caller itself.
server_user() {
    if [[ $(id -u) -ne 0 ]]; then
        return
    fi
    if ! id postgres >/dev/null 2>&1; then
        useradd --system --home-dir /var/lib/postgresql --shell /usr/sbin/nologin postgres \
            >/dev/null 2>&1 || true
    fi
    if id postgres >/dev/null 2>&1; then
        echo postgres
    else
        echo nobody
    fi
}

as_server_user() {
    local user=$1
    shift
    if [[ -z "$user" ]]; then
        "$@"
    else
        runuser -u "$user" -- "$@"
    fi
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

print_url() {
    local dir=$1
    local port user
    port=$(cat "$dir/port")
    user=$(cat "$dir/superuser")
    echo "postgresql://${user}@127.0.0.1:${port}/postgres?host=${dir}/socket"
}

start() {
    local dir=$1
    local user
    user=$(server_user)
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    if [[ -n "$user" ]]; then
        chown "$user" "$dir"
        if ! runuser -u "$user" -- test -w "$dir"; then
            echo "$user cannot write $dir (is a parent directory private?)" >&2
            exit 1
        fi
    fi
    if [[ ! -f "$dir/data/PG_VERSION" ]]; then
        as_server_user "$user" mkdir -p "$dir/data" "$dir/socket"
        as_server_user "$user" "$pg_bin/initdb" -D "$dir/data" -U esocore -A trust \
            -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            exit 1
        }
        echo esocore >"$dir/superuser"
    fi
    local durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    if [[ "${ESOCORE_PG_DURABLE:-0}" == 1 ]]; then
        durability=""
    fi
    # Another process may take the free port before the server binds it: try a few.
    local port attempt
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        echo "$port" >"$dir/port"
        if as_server_user "$user" "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
            -t 60 -o "-c listen_addresses=127.0.0.1 -p $port \
                -c unix_socket_directories=$dir/socket $durability \
                -c max_connections=300 -c shared_buffers=128MB" \
            start >/dev/null; then
            print_url "$dir"
            return
        fi
    done
    cat "$dir/server.log" >&2
    exit 1
}

stop() {
    local dir=$1
    [[ -d "$dir" ]] || return 0
    dir=$(cd "$dir" && pwd)
    if [[ -f "$dir/data/postmaster.pid" ]]; then
        as_server_user "$(server_user)" "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w \
            stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

[[ $# -eq 2 ]] || usage
case "$1" in
    start) start "$2" ;;
    stop) stop "$2" ;;
    url) print_url "$(cd "$2" && pwd)" ;;
    *) usage ;;
esac
