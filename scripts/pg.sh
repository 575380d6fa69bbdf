#!/usr/bin/env bash
# A throwaway PostgreSQL server on loopback, for scripts/test.sh and the load benchmark (bench/Broker.Load).
#
#   scripts/pg.sh start DIR PORT   initdb into DIR/data unless it is there, start the server on
#                                  127.0.0.1:PORT and wait until it takes connections; prints the
#                                  connection string (user postgres, database postgres)
#   scripts/pg.sh stop DIR         stops the server at once and removes DIR
#   scripts/pg.sh bin              prints the folder of the newest server binaries, or nothing
#
# Settings are a test cluster's, not a tuned server's: fsync, synchronous_commit and full_page_writes
# off, 300 connections. Run as root, the server runs as the postgres OS user (it refuses root).
# PG_BIN names the server binaries; by default the newest /usr/lib/postgresql/*/bin that has them.
#
# Exit codes of start: 2 initdb failed (its log on stderr), 3 the server did not start (the port
# may have been taken: start again with another), 4 it started but takes no connections.
set -euo pipefail

find_pg_bin() {
    local d
    # shellcheck disable=SC2012 # the folder names are plain version numbers
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [[ -x $d/initdb && -x $d/pg_ctl && -x $d/postgres && -x $d/pg_isready ]]; then
            echo "$d"
            return 0
        fi
    done
}

# Runs a server binary as the postgres OS user when we are root, from a directory it can enter.
as_postgres() {
    if [[ $EUID -eq 0 ]]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

cmd=${1:-}
dir=${2:-}
if [[ $cmd == bin ]]; then
    find_pg_bin
    exit 0
fi
if [[ -z $cmd || -z $dir ]]; then
    echo "usage: pg.sh start DIR PORT | pg.sh stop DIR | pg.sh bin" >&2
    exit 64
fi
bin=${PG_BIN:-$(find_pg_bin)}
if [[ -z $bin ]]; then
    echo "pg.sh: no PostgreSQL server binaries under /usr/lib/postgresql (apt-get install postgresql)" >&2
    exit 1
fi

case $cmd in
start)
    port=${3:?pg.sh start DIR PORT}
    if [[ ! -d $dir/data ]]; then
        mkdir -p -- "$dir"
        if [[ $EUID -eq 0 ]]; then chown postgres: "$dir"; fi
        chmod 700 "$dir"
        if ! as_postgres "$bin/initdb" -D "$dir/data" --auth=trust -U postgres \
            --encoding=UTF8 --locale=C >"$dir/initdb.log" 2>&1; then
            cat "$dir/initdb.log" >&2
            exit 2
        fi
        cat >>"$dir/data/postgresql.conf" <<EOF

# scripts/pg.sh: a throwaway server for tests and benchmarks
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 300
EOF
    fi
    if ! as_postgres "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -o "-p $port" -w -t 60 start >/dev/null 2>&1; then
        # A half-started server would keep the data directory locked for the next attempt.
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
        exit 3
    fi
    for ((i = 0; i < 120; i++)); do
        if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; then
            echo "Host=127.0.0.1;Port=$port;Username=postgres;Password=postgres;Database=postgres"
            exit 0
        fi
        sleep 0.5
    done
    tail -n 30 "$dir/server.log" >&2 2>/dev/null || true
    exit 4
    ;;
stop)
    if [[ -f $dir/data/postmaster.pid ]]; then
        as_postgres "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf -- "$dir"
    ;;
*)
    echo "usage: pg.sh start DIR PORT | pg.sh stop DIR" >&2
    exit 64
    ;;
esac
