#!/usr/bin/env bash
# Benchmark seedpack against pg_dump/pg_restore on the same generated data,
# on a throwaway local cluster. Runs alternate between the tools and the
# medians are reported, with ratios (seedpack / peer); the table is printed
# and written as JSON.
#
# Usage: scripts/bench.sh [--rows N] [--runs R] [--json FILE]
#   --rows N    rows in the largest table (default 1000000)
#   --runs R    timed runs of each tool (default 3)
#   --json FILE where to write the results (default artifacts/bench.json)
#
# Measured now: a full restore into an empty database, seedpack restore
# versus pg_restore --single-transaction of a pg_dump -Fc of the same data.
#
# Needs: cargo, PostgreSQL's server binaries, GNU time (/usr/bin/time;
# Debian/Ubuntu: apt-get install time).
set -euo pipefail

rows=1000000
runs=3
repo="$(cd "$(dirname "$0")/.." && pwd)"
json="$repo/artifacts/bench.json"
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
    *) echo "bench.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
  esac
done
[ -x /usr/bin/time ] || { echo "bench.sh: GNU time is needed (apt-get install time)" >&2; exit 1; }

# shellcheck source=scripts/lib/postgres.sh
source "$(dirname "$0")/lib/postgres.sh"
bindir="$(find_bindir)"

echo "== building seedpack (release)" >&2
cargo build --release --quiet --manifest-path "$repo/Cargo.toml"
seedpack="$repo/target/release/seedpack"

work="$(mktemp -d /tmp/seedpack-bench.XXXXXX)"
[ "$(id -u)" = 0 ] && chown postgres: "$work"
port=$((20000 + RANDOM % 20000))
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
cleanup() {
  "${as_server_user[@]}" "$bindir/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting a cluster on port $port" >&2
"${as_server_user[@]}" "$bindir/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
"${as_server_user[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c max_wal_size=4GB" start >/dev/null
"$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
  -c "CREATE ROLE bench LOGIN NOSUPERUSER CREATEDB" -c "CREATE DATABASE source OWNER bench"
url() { echo "postgresql://bench@127.0.0.1:$port/$1"; }
sql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$(url "$1")" "${@:2}"; }

echo "== generating $rows rows (a self-reference and a two-table cycle)" >&2
accounts=$(( rows / 10 > 0 ? rows / 10 : 1 ))
sql source <<SQL
CREATE TABLE account (
    id bigint PRIMARY KEY, name text NOT NULL, primary_contact_id bigint, created_at timestamptz NOT NULL
);
CREATE TABLE contact (
    id bigint PRIMARY KEY,
    account_id bigint NOT NULL REFERENCES account,
    referred_by bigint REFERENCES contact,
    email text NOT NULL,
    score numeric(10,2),
    created_at timestamptz NOT NULL,
    attrs jsonb,
    tags text[]
);
ALTER TABLE account ADD CONSTRAINT account_primary_contact_fk FOREIGN KEY (primary_contact_id) REFERENCES contact;
CREATE INDEX contact_email ON contact (email);
CREATE INDEX contact_created_at ON contact (created_at);
CREATE INDEX contact_account ON contact (account_id);
INSERT INTO account SELECT i, 'Account ' || i, NULL, '2026-01-01'::timestamptz + i * interval '1 minute'
FROM generate_series(1, $accounts) i;
INSERT INTO contact
SELECT i, 1 + i % $accounts, CASE WHEN i > 1 AND i % 3 = 0 THEN 1 + (i * 7) % (i - 1) END,
       'user' || i || '@example.com', (i % 100000) / 7.0,
       '2026-01-01'::timestamptz + i * interval '1 second',
       jsonb_build_object('plan', (ARRAY['free', 'pro', 'team'])[1 + i % 3], 'seats', i % 50),
       ARRAY['t' || (i % 10), 't' || (i % 7)]
FROM generate_series(1, $rows) i;
UPDATE account SET primary_contact_id = id;
VACUUM ANALYZE account, contact;
SQL

echo "== dumping with both tools" >&2
artifact="$work/source.seedpack"
"$seedpack" dump --quiet --dsn "$(url source)" --output "$artifact" >/dev/null
"$bindir/pg_dump" -Fc -d "$(url source)" -f "$work/source.dump"

# time_run LABEL CMD...: one timed run; appends "label wall user sys maxrss_kb".
results="$work/results.txt"
time_run() {
  local label="$1"; shift
  /usr/bin/time -f "$label %e %U %S %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt" \
    || { cat "$work/err.txt" >&2; exit 1; }
  cat "$work/time.txt" >> "$results"
}
fresh_db() {
  "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 OWNER bench"
}

for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs: restore into an empty database" >&2
  fresh_db target_seedpack
  time_run seedpack_restore_empty "$seedpack" restore --yes --quiet --file "$artifact" --dsn "$(url target_seedpack)"
  fresh_db target_pg
  time_run pg_restore_empty "$bindir/pg_restore" --single-transaction --no-owner --no-privileges \
    -d "$(url target_pg)" "$work/source.dump"
done

# Both targets must hold the same data, or the comparison means nothing.
check="SELECT (SELECT count(*) FROM contact)::text || ' ' || (SELECT count(*) FROM account)::text
              || ' ' || (SELECT sum(score) FROM contact)::text
              || ' ' || (SELECT count(*) FROM pg_constraint WHERE contype = 'f')::text
              || ' ' || (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public')::text"
seedpack_state="$(sql target_seedpack -At -c "$check")"
pg_state="$(sql target_pg -At -c "$check")"
if [ "$seedpack_state" != "$pg_state" ]; then
  echo "bench.sh: the two restores differ: seedpack [$seedpack_state], pg_restore [$pg_state]" >&2
  exit 1
fi

median() { grep "^$1 " "$results" | awk -v f="$2" '{print $f}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
artifact_bytes=$(stat -c %s "$artifact")
dump_bytes=$(stat -c %s "$work/source.dump")
sp_wall=$(median seedpack_restore_empty 2); pg_wall=$(median pg_restore_empty 2)
sp_rss=$(median seedpack_restore_empty 5); pg_rss=$(median pg_restore_empty 5)
sp_cpu=$(grep '^seedpack_restore_empty ' "$results" | awk '{print $3 + $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
pg_cpu=$(grep '^pg_restore_empty ' "$results" | awk '{print $3 + $4}' | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
ratio=$(awk -v a="$sp_wall" -v b="$pg_wall" 'BEGIN {printf "%.2f", a / b}')

machine="$(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB, PostgreSQL $("$bindir/postgres" --version | awk '{print $3}')"
printf '\nrestore into an empty database: %s rows in the largest table, median of %s runs (%s)\n' "$rows" "$runs" "$machine"
printf '%-44s %10s %10s %12s %12s\n' "tool" "wall s" "client cpu s" "peak RSS MiB" "file MiB"
printf '%-44s %10s %10s %12s %12.1f\n' "seedpack restore" "$sp_wall" "$sp_cpu" "$((sp_rss / 1024))" "$(awk -v b="$artifact_bytes" 'BEGIN {print b / 1048576}')"
printf '%-44s %10s %10s %12s %12.1f\n' "pg_restore --single-transaction (pg_dump -Fc)" "$pg_wall" "$pg_cpu" "$((pg_rss / 1024))" "$(awk -v b="$dump_bytes" 'BEGIN {print b / 1048576}')"
printf 'ratio seedpack / pg_restore (wall): %s\n' "$ratio"

mkdir -p "$(dirname "$json")"
cat > "$json" <<JSON
{
  "machine": "$machine",
  "rows": $rows,
  "runs": $runs,
  "restore_empty": {
    "seedpack": {"wall_s": $sp_wall, "cpu_s": $sp_cpu, "peak_rss_kib": $sp_rss, "file_bytes": $artifact_bytes},
    "pg_restore_single_transaction": {"wall_s": $pg_wall, "cpu_s": $pg_cpu, "peak_rss_kib": $pg_rss, "file_bytes": $dump_bytes},
    "ratio_wall": $ratio
  }
}
JSON
echo "results written to $json"
