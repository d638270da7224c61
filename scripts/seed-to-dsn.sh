#!/usr/bin/env bash
# A deploy's seed step: run the app's migrations, then apply a seed artifact
# idempotently. The migration command runs with DATABASE_URL set to the
# target; the seed is applied in one transaction, recorded in the target's
# history, and skipped when that content was already applied in that mode.
#
# Usage: scripts/seed-to-dsn.sh --file FILE --dsn DSN [--migrate COMMAND]
#                               [--mode MODE] [-- RESTORE_OPTION...]
#   --file FILE         the seed artifact (verified against FILE.sha256 when present)
#   --dsn DSN           the target database
#   --migrate COMMAND   run first, by bash -c, with DATABASE_URL=DSN, such as
#                       'npx prisma migrate deploy' or 'bin/rails db:migrate';
#                       a failure stops before any seeding
#   --mode MODE         upsert (default: insert new rows, update changed ones,
#                       keep the rest), insert-missing, or replace
#   -- ...              further options for seedpack restore
#
# Never asks: a deploy has no terminal, so the restore runs with --yes.
# Needs seedpack (on PATH, or $SEEDPACK).
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; }
die() { echo "seed-to-dsn.sh: $*" >&2; exit 2; }
seedpack="${SEEDPACK:-seedpack}"

file="" dsn="" migrate="" mode=upsert
restore_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --file) file="${2:?--file needs a value}"; shift 2 ;;
    --dsn) dsn="${2:?--dsn needs a value}"; shift 2 ;;
    --migrate) migrate="${2:?--migrate needs a command}"; shift 2 ;;
    --mode) mode="${2:?--mode needs a value}"; shift 2 ;;
    --) shift; restore_args+=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
done
[ -n "$file" ] || die "--file is required (try --help)"
[ -n "$dsn" ] || die "--dsn is required (try --help)"
[ -r "$file" ] || die "cannot read $file"
command -v "$seedpack" >/dev/null || die "seedpack not found (install it, or set SEEDPACK)"

# A damaged artifact must stop the deploy before the migrations run.
"$seedpack" verify --quiet --file "$file"

if [ -n "$migrate" ]; then
  echo "== migrating: $migrate" >&2
  DATABASE_URL="$dsn" bash -c "$migrate" >&2 || {
    code=$?
    echo "seed-to-dsn.sh: the migration command failed (exit $code); nothing was seeded" >&2
    exit 1
  }
fi

echo "== seeding ($mode)" >&2
"$seedpack" restore --yes --file "$file" --dsn "$dsn" --mode "$mode" "${restore_args[@]}"
