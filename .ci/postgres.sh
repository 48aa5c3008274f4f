# Sourced by .ci/run: a scratch PostgreSQL server on loopback for the tests, installed from the distribution's
# packages if missing. start_postgres exports KILN_TEST_POSTGRES_URL; stop_postgres stops it and removes its data.
# The server refuses to run as root, so as root it runs as the postgres user, which owns its data folder.

_pg_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1; }

_as_postgres() {
    if [ "$(id -u)" = 0 ]; then su postgres -s /bin/sh -c "$1"; else sh -c "$1"; fi
}

start_postgres() {
    PG_BIN="$(_pg_bin)"
    if [ -z "$PG_BIN" ]; then
        echo "installing PostgreSQL from the distribution's packages"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq postgresql > /dev/null
        PG_BIN="$(_pg_bin)"
    fi
    PG_HOME="$(mktemp -d /tmp/kiln-pg.XXXXXX)"
    PG_DATA="$PG_HOME/data"
    if [ "$(id -u)" = 0 ]; then chown postgres "$PG_HOME"; fi
    PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
    _as_postgres "'$PG_BIN/initdb' -D '$PG_DATA' -A trust -U postgres > '$PG_HOME/initdb.log' 2>&1"
    _as_postgres "'$PG_BIN/pg_ctl' -D '$PG_DATA' -l '$PG_HOME/server.log' -w \
        -o \"-p $PG_PORT -k $PG_HOME -c listen_addresses=127.0.0.1\" start > /dev/null"
    _as_postgres "'$PG_BIN/createdb' -h 127.0.0.1 -p $PG_PORT -U postgres kiln_test"
    export KILN_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/kiln_test"
    echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT for the tests"
}

stop_postgres() {
    if [ -n "${PG_HOME:-}" ] && [ -d "$PG_HOME" ]; then
        _as_postgres "'$PG_BIN/pg_ctl' -D '$PG_DATA' -m fast -w stop > /dev/null" || true
        rm -rf "$PG_HOME"
    fi
}
