#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL server for the store's tests.
#
#   eval "$(scripts/ci_postgres.sh)"        # start; on success prints one line:
#                                           #   export ONCORESIST_TEST_PG_URL=postgresql+psycopg://...
#   scripts/ci_postgres.sh stop             # stop it and delete its data directory
#
# The server runs from a fresh data directory under $ONCORESIST_PG_DIR (default
# /tmp/oncoresist-pg-$PORT), listens on 127.0.0.1:$ONCORESIST_PG_PORT (default 54329) and on
# a Unix socket in that directory, with trust authentication, fsync off: for tests only.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system
# user. When no PostgreSQL is installed and we are root, `apt-get install -y postgresql` is
# tried. Every message goes to stderr; only the export line goes to stdout. On failure the
# script exits non-zero, after stopping anything it started and deleting its directory.
set -Eeuo pipefail

PORT="${ONCORESIST_PG_PORT:-54329}"
DIR="${ONCORESIST_PG_DIR:-/tmp/oncoresist-pg-${PORT}}"
DATA="$DIR/data"

say() { echo "ci_postgres: $*" >&2; }

find_bindir() {
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
    done
    if command -v pg_config >/dev/null 2>&1; then
        dir="$(pg_config --bindir)"
        if [ -x "$dir/initdb" ]; then echo "$dir"; return 0; fi
    fi
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(command -v initdb)"; return 0
    fi
    return 1
}

install_postgres() {
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        say "PostgreSQL is not installed (no initdb) and cannot be installed here (needs root and apt-get)"
        return 1
    fi
    say "PostgreSQL is not installed; trying apt-get install -y postgresql"
    export DEBIAN_FRONTEND=noninteractive
    if ! { apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql; } >&2; then
        say "apt-get install postgresql failed"
        return 1
    fi
}

# Run a command as the server's owner: `postgres` when we are root, else ourselves.
as_owner() {
    if [ "$(id -u)" -ne 0 ]; then
        "$@"
    elif command -v runuser >/dev/null 2>&1; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

stop_server() {
    local bindir
    if [ -f "$DATA/postmaster.pid" ] && bindir="$(find_bindir)"; then
        as_owner "$bindir/pg_ctl" -D "$DATA" -m fast -w -t 30 stop >&2 ||
            as_owner "$bindir/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >&2 || true
    fi
    if [ -f "$DATA/postmaster.pid" ]; then
        # pg_ctl could not stop it: kill the postmaster we started, by its pid
        local pid
        pid="$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)"
        if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    fi
    rm -rf "$DIR"
}

start_server() {
    local bindir
    if ! bindir="$(find_bindir)"; then
        install_postgres || return 1
        bindir="$(find_bindir)" || { say "no initdb after installing PostgreSQL"; return 1; }
    fi
    if [ "$(id -u)" -eq 0 ] && ! id postgres >/dev/null 2>&1; then
        say "running as root but there is no 'postgres' user to run the server as"
        return 1
    fi
    if [ -e "$DIR" ]; then
        say "a previous server directory $DIR exists; stopping and removing it"
        stop_server
    fi
    mkdir -p "$DIR"
    chmod 700 "$DIR"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$DIR"; fi
    trap 'say "failed; cleaning up"; [ -f "$DIR/server.log" ] && tail -n 20 "$DIR/server.log" >&2; stop_server' ERR
    as_owner "$bindir/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --no-sync \
        --locale=C >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; false; }
    as_owner "$bindir/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
        -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >&2
    as_owner "$bindir/psql" -X -q -h 127.0.0.1 -p "$PORT" -U postgres -d postgres \
        -c 'SELECT 1' >/dev/null
    trap - ERR
    say "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT, data in $DATA; stop with: $0 stop"
    echo "export ONCORESIST_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:${PORT}/postgres"
}

case "${1:-start}" in
    start) start_server ;;
    stop) stop_server; say "stopped; removed $DIR" ;;
    *) say "usage: $0 [start|stop]"; exit 2 ;;
esac
