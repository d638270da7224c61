#!/usr/bin/env bash
# Start or stop a throwaway local PostgreSQL cluster, for CI jobs without
# service containers and for trying seed scripts locally. The cluster
# trusts local connections, listens on 127.0.0.1 only, and keeps its files
# (data, log, socket) in one directory.
#
# Usage:
#   scripts/pg-sandbox.sh start [--dir DIR] [--port PORT] [--database NAME]
#       Start a cluster in DIR (default: a new /tmp/seedpack-sandbox.XXXXXX)
#       on PORT (default: a free one), create database NAME (default: app)
#       owned by a non-superuser role app, and print shell lines to eval:
#         SANDBOX_DIR=...  DATABASE_URL=...  (the owner)  ADMIN_URL=... (superuser)
#       eval "$(scripts/pg-sandbox.sh start)"
#   scripts/pg-sandbox.sh stop DIR
#       Stop the cluster in DIR and delete DIR.
#
# Needs PostgreSQL's server binaries (initdb, pg_ctl, postgres, psql) on
# PATH, via pg_config, or under /usr/lib/postgresql/*/bin, or in
# $SEEDPACK_PG_BINDIR. Run as root, the server runs as the postgres user.
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; }
die() { echo "pg-sandbox.sh: $*" >&2; exit 2; }

# shellcheck source=scripts/lib/postgres.sh
source "$(dirname "$0")/lib/postgres.sh"

command="${1:-}"
[ $# -gt 0 ] && shift
case "$command" in
  -h|--help) usage; exit 0 ;;
  start)
    dir="" port="" database=app
    while [ $# -gt 0 ]; do
      case "$1" in
        --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
        --port) port="${2:?--port needs a number}"; shift 2 ;;
        --database) database="${2:?--database needs a name}"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument $1 (try --help)" ;;
      esac
    done
    [[ "$database" =~ ^[a-z_][a-z0-9_]*$ ]] || die "--database must be a plain lowercase name"
    bindir="$(find_bindir)"
    psql="$bindir/psql"
    [ -x "$psql" ] || psql="$(command -v psql)" || die "no psql beside initdb or on PATH"
    if [ -z "$dir" ]; then
      dir="$(mktemp -d /tmp/seedpack-sandbox.XXXXXX)"
    else
      [ ! -e "$dir/data" ] || die "$dir already holds a cluster"
      mkdir -p "$dir"
    fi
    dir="$(cd "$dir" && pwd)"
    if [ -z "$port" ]; then
      port=$((20000 + RANDOM % 12000))  # below the kernel's ephemeral ports
      while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
    fi
    [ "$(id -u)" = 0 ] && chown postgres: "$dir"
    "${as_server_user[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
    "${as_server_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$dir" start >/dev/null \
      || { cat "$dir/server.log" >&2; exit 1; }
    "$psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres -d postgres \
      -c "CREATE ROLE app LOGIN NOSUPERUSER CREATEDB" -c "CREATE DATABASE $database OWNER app" >/dev/null
    printf 'SANDBOX_DIR=%q\n' "$dir"
    printf 'DATABASE_URL=%q\n' "postgresql://app@127.0.0.1:$port/$database"
    printf 'ADMIN_URL=%q\n' "postgresql://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir="${1:-}"
    [ -n "$dir" ] || die "stop needs the cluster's directory (try --help)"
    [ -d "$dir/data" ] || die "$dir holds no cluster"
    bindir="$(find_bindir)"
    "${as_server_user[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    rm -rf "$dir"
    ;;
  "") usage >&2; exit 2 ;;
  *) die "unknown command $command (try --help)" ;;
esac
