#!/usr/bin/env bash
# End-to-end demo of seedpack on a throwaway local PostgreSQL:
# start a cluster, load a schema with a foreign-key cycle and a
# self-reference into two databases, seed one, dump it, verify and inspect
# the artifact, restore it as a non-superuser into the other and into an
# empty database (the artifact carries the schema), and check that all
# three hold the same data.
#
# Usage: scripts/demo.sh [--keep]
#   --keep  leave the cluster running and print how to reach and stop it
#
# Needs: cargo, and PostgreSQL's server binaries (initdb, pg_ctl, postgres,
# psql) on PATH, via pg_config, or under /usr/lib/postgresql/*/bin.
set -euo pipefail

keep=false
case "${1:-}" in
  --keep) keep=true ;;
  -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
  "") ;;
  *) echo "demo.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
esac

repo="$(cd "$(dirname "$0")/.." && pwd)"
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

# shellcheck source=scripts/lib/postgres.sh
source "$(dirname "$0")/lib/postgres.sh"

bindir="$(find_bindir)"

say "building seedpack"
seedpack="$(bash "$repo/scripts/build-seedpack.sh")"
seedpack="${seedpack#SEEDPACK=}"

work="$(mktemp -d /tmp/seedpack-demo.XXXXXX)"
port=$((20000 + RANDOM % 12000))  # below the kernel's ephemeral ports
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
password="demo-$RANDOM$RANDOM"
[ "$(id -u)" = 0 ] && chown postgres: "$work"

stop_cluster() {
  "${as_server_user[@]}" "$bindir/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
if [ "$keep" = false ]; then trap stop_cluster EXIT; fi

say "starting a throwaway cluster on port $port ($bindir)"
"${as_server_user[@]}" "$bindir/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
"${as_server_user[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work" start >/dev/null

admin=(-X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres)
"$bindir/psql" "${admin[@]}" -d postgres <<SQL
CREATE ROLE app_owner LOGIN NOSUPERUSER PASSWORD '$password';
CREATE DATABASE festival_source OWNER app_owner;
CREATE DATABASE festival_target OWNER app_owner;
CREATE DATABASE festival_empty OWNER app_owner;
SQL
source_url="postgresql://app_owner:$password@127.0.0.1:$port/festival_source"
target_url="postgresql://app_owner:$password@127.0.0.1:$port/festival_target"
empty_url="postgresql://app_owner:$password@127.0.0.1:$port/festival_empty"
as_owner() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$1" "${@:2}"; }

say "loading the schema into both databases (as the non-superuser app_owner), seed data into the source"
as_owner "$source_url" -f "$repo/scripts/demo/schema.sql" -f "$repo/scripts/demo/seed.sql" >/dev/null
as_owner "$target_url" -f "$repo/scripts/demo/schema.sql" >/dev/null

say "seedpack plan"
"$seedpack" plan --dsn "$source_url"

artifact="$work/festival.seedpack"
say "seedpack dump"
"$seedpack" dump --dsn "$source_url" --output "$artifact"

say "seedpack verify"
"$seedpack" verify --file "$artifact"

say "seedpack inspect"
"$seedpack" inspect --file "$artifact"

say "seedpack restore (into festival_target, as app_owner, one transaction)"
"$seedpack" restore --file "$artifact" --dsn "$target_url" --yes

say "seedpack restore (into festival_empty, which has no tables: the artifact carries the schema)"
"$seedpack" restore --file "$artifact" --dsn "$empty_url" --yes --quiet

say "checking that both targets hold exactly the source's data"
digest() {
  as_owner "$1" -At -c "
    SELECT md5(string_agg(t, E'\n' ORDER BY t)) FROM (
      SELECT 'country ' || c::text AS t FROM country c UNION ALL
      SELECT 'venue ' || v::text FROM venue v UNION ALL
      SELECT 'festival ' || f::text FROM festival f UNION ALL
      SELECT 'artist ' || a::text FROM artist a UNION ALL
      SELECT 'performance ' || p::text FROM performance p UNION ALL
      SELECT 'change_log ' || count(*)::text FROM change_log
    ) rows"
}
source_digest="$(digest "$source_url")"
target_digest="$(digest "$target_url")"
empty_digest="$(digest "$empty_url")"
echo "source $source_digest"
echo "target $target_digest"
echo "empty  $empty_digest"
if [ "$source_digest" != "$target_digest" ] || [ "$source_digest" != "$empty_digest" ]; then
  echo "demo.sh: a target differs from the source" >&2
  exit 1
fi
next_source="$(as_owner "$source_url" -At -c "SELECT last_value FROM performance_id_seq")"
next_target="$(as_owner "$target_url" -At -c "SELECT last_value FROM performance_id_seq")"
[ "$next_source" = "$next_target" ] || { echo "demo.sh: sequence differs" >&2; exit 1; }

say "demo passed: cycle and self-reference restored without superuser, into a migrated and an empty database"
if [ "$keep" = true ]; then
  echo "cluster kept in $work"
  echo "  source: psql '$source_url'"
  echo "  target: psql '$target_url'"
  echo "  stop:   ${as_server_user[*]} $bindir/pg_ctl -D $work/data stop && rm -rf $work"
fi
