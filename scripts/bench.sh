#!/usr/bin/env bash
# shellcheck disable=SC2016 # median takes awk field expressions ('$2') on purpose
# Benchmark seedpack against pg_dump/pg_restore on the same generated data,
# on a throwaway local cluster. Runs alternate between the tools and the
# medians are reported, with ratios (seedpack / peer); the table is printed
# and written as JSON.
#
# Usage: scripts/bench.sh [--rows N | --tables N [--partitions]] [--runs R] [--json FILE]
#   --rows N    rows in the largest table (default 1000000)
#   --tables N  instead: N small tables (half parents, half children with a
#               foreign key to one), three rows each, to measure what grows
#               with the catalog, and the cost per table; the cluster gets
#               max_locks_per_transaction 256 from 2,000 tables up, as
#               pg_restore -1 needs
#   --partitions with --tables: each child table is partitioned (by hash,
#               into two partitions), so the catalog holds twice as many
#               relations and each partitioned table's keys and indexes
#   --runs R    timed runs of each tool (default 3)
#   --json FILE where to write the results (default artifacts/bench.json)
#
# Measured:
# - dump: seedpack dump (defaults; also --jobs 1, --no-order and
#   --compress gzip, the default before zstd) versus
#   pg_dump -Fc, and the floor: raw COPY TO STDOUT of the same tables,
#   unordered, read and thrown away;
# - a full restore into an empty database: seedpack restore versus
#   pg_restore --single-transaction of a pg_dump -Fc of the same data;
# - a data-only restore into a migrated (empty) schema: seedpack restore
#   --data-only, as the tables' owner, versus pg_restore --data-only
#   --disable-triggers --single-transaction as superuser, its best case.
# - replacing the data of a populated database: the default (TRUNCATE and
#   COPY FREEZE) against --mvcc-safe (DELETE and plain COPY), each followed
#   by the VACUUM its dead rows call for;
# - restore --jobs N (N: the number of CPUs, at most 4), data-only and
#   replacing a populated database, against the same with one connection.
# Peak RSS is the client's. Run it with --rows 5000000 too: memory must not grow,
# and with --tables 10000: it must stay under 64 MiB. A tool that fails (out
# of shared memory, say) is shown as failing, not timed.
#
# Needs: cargo, PostgreSQL's server binaries, GNU time (/usr/bin/time;
# Debian/Ubuntu: apt-get install time).
set -euo pipefail

rows=1000000
tables=0
partitions=0
runs=3
repo="$(cd "$(dirname "$0")/.." && pwd)"
json="$repo/artifacts/bench.json"
while [ $# -gt 0 ]; do
  case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --tables) tables="$2"; shift 2 ;;
    --partitions) partitions=1; shift ;;
    --runs) runs="$2"; shift 2 ;;
    --json) json="$2"; shift 2 ;;
    -h|--help) awk '/^# shellcheck/ {next} NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
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
port=$((20000 + RANDOM % 12000))  # below the kernel's ephemeral ports
while (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do port=$((port + 1)); done
cleanup() {
  "${as_server_user[@]}" "$bindir/pg_ctl" -D "$work/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

echo "== starting a cluster on port $port" >&2
"${as_server_user[@]}" "$bindir/initdb" -D "$work/data" -U postgres -A trust -E UTF8 --locale=C >/dev/null
locks=64
[ "$tables" -ge 2000 ] && locks=256
"${as_server_user[@]}" "$bindir/pg_ctl" -D "$work/data" -l "$work/server.log" -w \
  -o "-p $port -c listen_addresses=127.0.0.1 -c unix_socket_directories=$work -c max_wal_size=4GB -c max_locks_per_transaction=$locks" start >/dev/null
"$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
  -c "CREATE ROLE bench LOGIN NOSUPERUSER CREATEDB" -c "CREATE DATABASE source OWNER bench"
url() { echo "postgresql://bench@127.0.0.1:$port/$1"; }
sql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$(url "$1")" "${@:2}"; }

generate_tables() {
  echo "== generating $tables tables" >&2
  awk -v n="$tables" -v partitioned="$partitions" 'BEGIN {
    print "BEGIN;"
    for (i = 0; i < n / 2; i++) {
      printf "CREATE TABLE parent_%d (id int PRIMARY KEY, name text NOT NULL);\n", i
      if (partitioned) {
        printf "CREATE TABLE child_%d (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent_%d, note text) PARTITION BY HASH (id);\n", i, i
        printf "CREATE TABLE child_%d_0 PARTITION OF child_%d FOR VALUES WITH (MODULUS 2, REMAINDER 0);\n", i, i
        printf "CREATE TABLE child_%d_1 PARTITION OF child_%d FOR VALUES WITH (MODULUS 2, REMAINDER 1);\n", i, i
      } else {
        printf "CREATE TABLE child_%d (id int PRIMARY KEY, parent_id int NOT NULL REFERENCES parent_%d, note text);\n", i, i
      }
      printf "INSERT INTO parent_%d VALUES (1, \x27a\x27), (2, \x27b\x27), (3, \x27c\x27);\n", i
      printf "INSERT INTO child_%d VALUES (1, 1, \x27x\x27), (2, 2, NULL), (3, 2, \x27z\x27);\n", i
    }
    print "COMMIT;"
  }' | sql source >/dev/null
}

generate_rows() {
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
}

if [ "$tables" -gt 0 ]; then generate_tables; else generate_rows; fi

artifact="$work/source.seedpack"
pg_archive="$work/source.dump"

# time_run LABEL CMD...: one timed run; appends "label wall user sys maxrss_kb".
results="$work/results.txt"
time_run() {
  local label="$1"; shift
  if /usr/bin/time -f "$label %e %U %S %M" -o "$work/time.txt" "$@" >/dev/null 2>"$work/err.txt"; then
    cat "$work/time.txt" >> "$results"
  elif [ "$tables" -gt 0 ]; then
    echo "$label fails: $(grep -v '^Command exited' "$work/err.txt" | tail -n 1)" >&2
    echo "$label FAIL" >> "$results"
  else
    cat "$work/err.txt" >&2; exit 1
  fi
}
fresh_db() {
  "$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres \
    -c "SET client_min_messages = warning" -c "DROP DATABASE IF EXISTS $1" -c "CREATE DATABASE $1 OWNER bench"
}

for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs: dump" >&2
  rm -f "$artifact" "$artifact.sha256" "$pg_archive" "$work"/jobs1.seedpack* "$work"/no-order.seedpack* "$work"/gzip.seedpack*
  time_run seedpack_dump "$seedpack" dump --quiet --dsn "$(url source)" --output "$artifact"
  time_run pg_dump_fc "$bindir/pg_dump" -Fc -d "$(url source)" -f "$pg_archive"
  # The floor: the same tables' COPY text, as stored, read and thrown away.
  if [ "$tables" -gt 0 ]; then
    sql source -At -c "SELECT format('COPY %I TO STDOUT;', relname) FROM pg_class
                       WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace" > "$work/floor.sql"
  else
    echo "COPY account TO STDOUT; COPY contact TO STDOUT;" > "$work/floor.sql"
  fi
  time_run copy_floor "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -d "$(url source)" -f "$work/floor.sql"
  time_run seedpack_dump_jobs1 "$seedpack" dump --quiet --dsn "$(url source)" --output "$work/jobs1.seedpack" --jobs 1
  time_run seedpack_dump_no_order "$seedpack" dump --quiet --dsn "$(url source)" --output "$work/no-order.seedpack" --no-order
  time_run seedpack_dump_gzip "$seedpack" dump --quiet --dsn "$(url source)" --output "$work/gzip.seedpack" --compress gzip
done

for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs: restore into an empty database" >&2
  fresh_db target_seedpack
  time_run seedpack_restore_empty "$seedpack" restore --yes --quiet --file "$artifact" --dsn "$(url target_seedpack)"
  fresh_db target_pg
  time_run pg_restore_empty "$bindir/pg_restore" --single-transaction --no-owner --no-privileges \
    -d "$(url target_pg)" "$pg_archive"
done

# The migrated schema a data-only restore goes into: tables, indexes and
# foreign keys, no rows, owned by the same non-superuser.
"$bindir/pg_dump" --schema-only --no-owner --no-privileges -d "$(url source)" -f "$work/schema.sql"
migrated_db() {
  fresh_db "$1"
  sql "$1" -f "$work/schema.sql" >/dev/null
}
jobs=$(( $(nproc) < 4 ? $(nproc) : 4 ))
for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs: data-only restore into a migrated schema" >&2
  migrated_db data_seedpack
  time_run seedpack_restore_data "$seedpack" restore --yes --quiet --data-only --file "$artifact" --dsn "$(url data_seedpack)"
  migrated_db data_jobs
  time_run seedpack_restore_data_jobs "$seedpack" restore --yes --quiet --data-only --jobs "$jobs" \
    --file "$artifact" --dsn "$(url data_jobs)"
  migrated_db data_pg
  time_run pg_restore_data "$bindir/pg_restore" --data-only --disable-triggers --single-transaction \
    -h 127.0.0.1 -p "$port" -U postgres -d data_pg "$pg_archive"
done

# Replacing data the database already holds: frozen (the default) against
# --mvcc-safe, each followed by the VACUUM that its dead rows call for.
for run in $(seq 1 "$runs"); do
  echo "== run $run of $runs: replace a populated database, frozen and --mvcc-safe" >&2
  for way in frozen mvcc_safe; do
    flag=(); [ "$way" = mvcc_safe ] && flag=(--mvcc-safe)
    time_run "seedpack_replace_$way" "$seedpack" restore --yes --quiet --data-only --force "${flag[@]}" \
      --file "$artifact" --dsn "$(url data_seedpack)"
    time_run "vacuum_after_$way" "$bindir/psql" -X -q -d "$(url data_seedpack)" -c "VACUUM"
  done
  time_run seedpack_replace_jobs "$seedpack" restore --yes --quiet --data-only --force --jobs "$jobs" \
    --file "$artifact" --dsn "$(url data_jobs)"
done

# The targets must hold the same data, or the comparison means nothing.
if [ "$tables" -gt 0 ]; then
  check="SELECT count(*)::text || ' ' || sum((xpath('/row/n/text()', query_to_xml(
                  format('SELECT count(*) AS n FROM %I', relname), false, true, '')))[1]::text::int)::text
                || ' ' || (SELECT count(*) FROM pg_constraint WHERE contype = 'f')::text
           FROM pg_class WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
else
  check="SELECT (SELECT count(*) FROM contact)::text || ' ' || (SELECT count(*) FROM account)::text
                || ' ' || (SELECT sum(score) FROM contact)::text
                || ' ' || (SELECT count(*) FROM pg_constraint WHERE contype = 'f')::text
                || ' ' || (SELECT count(*) FROM pg_indexes WHERE schemaname = 'public')::text"
fi
failed() { grep -q "^$1 FAIL" "$results"; }
pg_state="$(sql target_pg -At -c "$check")"
seedpack_state="$pg_state"
failed seedpack_restore_empty || seedpack_state="$(sql target_seedpack -At -c "$check")"
for other in data_seedpack:seedpack_restore_data data_jobs:seedpack_restore_data_jobs data_pg:pg_restore_data; do
  failed "${other#*:}" && continue
  other="${other%:*}"
  if [ "$(sql "$other" -At -c "$check")" != "$seedpack_state" ]; then
    echo "bench.sh: the restore into $other differs from the others" >&2
    exit 1
  fi
done
if [ "$seedpack_state" != "$pg_state" ]; then
  echo "bench.sh: the two restores differ: seedpack [$seedpack_state], pg_restore [$pg_state]" >&2
  exit 1
fi

# median LABEL EXPR: the median over LABEL's runs of an awk expression of
# its fields ($2 wall, $3 user, $4 sys, $5 peak RSS KiB).
median() {
  grep "^$1 " "$results" | awk "{print $2}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", (b > 0 ? a / b : 0)}'; }
wall_ratio() { # wall_ratio LABEL_A LABEL_B: "-" when either failed
  if failed "$1" || failed "$2"; then echo '"-"'; else ratio "$(median "$1" '$2')" "$(median "$2" '$2')"; fi
}
mib() { awk -v b="$1" 'BEGIN {printf "%.1f", b / 1048576}'; }
row() { # row LABEL NAME FILE_BYTES
  if failed "$1"; then printf '%-54s %8s\n' "$2" "fails"; return; fi
  printf '%-54s %8s %12s %12s %10s\n' "$2" "$(median "$1" '$2')" "$(median "$1" '$3 + $4')" \
    "$(( $(median "$1" '$5') / 1024 ))" "$3"
}
json_tool() { # json_tool LABEL FILE_BYTES
  if failed "$1"; then printf '{"fails": true}'; return; fi
  printf '{"wall_s": %s, "cpu_s": %s, "peak_rss_kib": %s, "file_bytes": %s}' \
    "$(median "$1" '$2')" "$(median "$1" '$3 + $4')" "$(median "$1" '$5')" "$2"
}

artifact_bytes=$(stat -c %s "$artifact")
pg_bytes=$(stat -c %s "$pg_archive")
machine="$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), $(free -g | awk '/^Mem:/ {print $2}') GiB, PostgreSQL $("$bindir/postgres" --version | awk '{print $3}')"
dump_ratio=$(wall_ratio seedpack_dump pg_dump_fc)
floor_ratio=$(wall_ratio seedpack_dump copy_floor)
size_ratio=$(ratio "$artifact_bytes" "$pg_bytes")
restore_ratio=$(wall_ratio seedpack_restore_empty pg_restore_empty)
data_ratio=$(wall_ratio seedpack_restore_data pg_restore_data)

if [ "$tables" -gt 0 ]; then size="$tables tables"; else size="$rows rows in the largest table"; fi
if [ "$partitions" = 1 ]; then size="$size, each child partitioned in two"; fi
printf '\n%s, medians of %s runs (%s)\n' "$size" "$runs" "$machine"
printf '%-54s %8s %12s %12s %10s\n' "" "wall s" "client cpu s" "peak RSS MiB" "file MiB"
row seedpack_dump "seedpack dump" "$(mib "$artifact_bytes")"
row seedpack_dump_jobs1 "seedpack dump --jobs 1" "$(mib "$(stat -c %s "$work/jobs1.seedpack")")"
row seedpack_dump_no_order "seedpack dump --no-order" "$(mib "$(stat -c %s "$work/no-order.seedpack")")"
row seedpack_dump_gzip "seedpack dump --compress gzip" "$(mib "$(stat -c %s "$work/gzip.seedpack")")"
row pg_dump_fc "pg_dump -Fc" "$(mib "$pg_bytes")"
row copy_floor "raw COPY TO STDOUT (the floor)" "-"
row seedpack_restore_empty "seedpack restore (empty database)" "-"
row pg_restore_empty "pg_restore --single-transaction (empty database)" "-"
row seedpack_restore_data "seedpack restore --data-only (migrated schema)" "-"
row seedpack_restore_data_jobs "seedpack restore --data-only --jobs $jobs" "-"
row pg_restore_data "pg_restore --data-only --disable-triggers (superuser)" "-"
row seedpack_replace_frozen "seedpack restore, populated database (frozen)" "-"
row vacuum_after_frozen "  then VACUUM" "-"
row seedpack_replace_mvcc_safe "seedpack restore --mvcc-safe, populated database" "-"
row vacuum_after_mvcc_safe "  then VACUUM" "-"
row seedpack_replace_jobs "seedpack restore --jobs $jobs, populated database" "-"
printf 'dump: seedpack / pg_dump %s, seedpack / floor %s, size seedpack / pg_dump %s\n' "$dump_ratio" "$floor_ratio" "$size_ratio"
printf 'restore into an empty database: seedpack / pg_restore %s\n' "$restore_ratio"
printf 'data-only restore: seedpack / pg_restore --disable-triggers %s\n' "$data_ratio"
printf 'restore --jobs %s: data-only %sx, populated %sx as fast as --jobs 1\n' "$jobs" \
  "$(wall_ratio seedpack_restore_data seedpack_restore_data_jobs)" \
  "$(wall_ratio seedpack_replace_frozen seedpack_replace_jobs)"
if [ "$tables" -gt 0 ]; then
  # What each table costs, to read growth across sizes: linear is constant.
  per_table() { if failed "$1"; then echo "fails"; else awk -v s="$(median "$1" '$2')" -v n="$tables" 'BEGIN {printf "%.2f", s * 1000 / n}'; fi; }
  printf 'per table, ms: dump %s (pg_dump %s), restore %s (pg_restore %s), data-only %s (pg_restore %s)\n' \
    "$(per_table seedpack_dump)" "$(per_table pg_dump_fc)" "$(per_table seedpack_restore_empty)" \
    "$(per_table pg_restore_empty)" "$(per_table seedpack_restore_data)" "$(per_table pg_restore_data)"
fi

mkdir -p "$(dirname "$json")"
cat > "$json" <<JSON
{
  "machine": "$machine",
  "rows": $rows,
  "tables": $tables,
  "runs": $runs,
  "dump": {
    "seedpack": $(json_tool seedpack_dump "$artifact_bytes"),
    "seedpack_jobs_1": $(json_tool seedpack_dump_jobs1 "$(stat -c %s "$work/jobs1.seedpack")"),
    "seedpack_no_order": $(json_tool seedpack_dump_no_order "$(stat -c %s "$work/no-order.seedpack")"),
    "seedpack_gzip": $(json_tool seedpack_dump_gzip "$(stat -c %s "$work/gzip.seedpack")"),
    "pg_dump_fc": $(json_tool pg_dump_fc "$pg_bytes"),
    "copy_floor": $(json_tool copy_floor 0),
    "ratio_wall_pg_dump": $dump_ratio,
    "ratio_wall_floor": $floor_ratio,
    "ratio_size_pg_dump": $size_ratio
  },
  "restore_empty": {
    "seedpack": $(json_tool seedpack_restore_empty "$artifact_bytes"),
    "pg_restore_single_transaction": $(json_tool pg_restore_empty "$pg_bytes"),
    "ratio_wall": $restore_ratio
  },
  "replace_populated": {
    "frozen": $(json_tool seedpack_replace_frozen 0),
    "vacuum_after_frozen": $(json_tool vacuum_after_frozen 0),
    "mvcc_safe": $(json_tool seedpack_replace_mvcc_safe 0),
    "jobs": $(json_tool seedpack_replace_jobs 0),
    "vacuum_after_mvcc_safe": $(json_tool vacuum_after_mvcc_safe 0)
  },
  "restore_data_only": {
    "seedpack": $(json_tool seedpack_restore_data "$artifact_bytes"),
    "seedpack_jobs": $(json_tool seedpack_restore_data_jobs "$artifact_bytes"),
    "pg_restore_disable_triggers": $(json_tool pg_restore_data "$pg_bytes"),
    "ratio_wall": $data_ratio
  }
}
JSON
echo "results written to $json"
