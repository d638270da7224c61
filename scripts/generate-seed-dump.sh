#!/usr/bin/env bash
# Build a seed artifact: migrate a database with the application's own tool,
# seed it, dump it with a label, and verify the artifact and its .sha256
# sidecar. Prints the artifact's path on standard output (progress goes to
# standard error).
#
# Usage: scripts/generate-seed-dump.sh --dsn DSN --output FILE [--label LABEL]
#            [--migrate CMD] [--seed CMD] [--apply SQL_FILE]...
#            [--dump-arg ARG]... [--summary FILE]
#   --dsn DSN        the database to build the seed in (an empty one, usually)
#   --output FILE    where to write the artifact (FILE.sha256 beside it)
#   --label LABEL    seed version recorded in the artifact, such as a commit hash
#   --migrate CMD    a shell command that migrates the database, run first with
#                    DATABASE_URL set to DSN (bin/rails db:migrate, npx prisma
#                    migrate deploy, mix ecto.migrate, ...)
#   --seed CMD       a shell command that seeds it, run next, the same way
#   --apply FILE     SQL applied with psql after those, in the order given,
#                    each in one transaction, stopping at the first error
#                    (repeatable)
#   --dump-arg ARG   passed on to seedpack dump, such as --key (repeatable:
#                    --dump-arg --key --dump-arg countries=code)
#   --summary FILE   append `seedpack inspect` as Markdown to FILE (in GitHub
#                    Actions: --summary "$GITHUB_STEP_SUMMARY")
#
# Needs seedpack (on PATH, or $SEEDPACK) and psql (for --apply).
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; }
die() { echo "generate-seed-dump.sh: $*" >&2; exit 2; }
seedpack="${SEEDPACK:-seedpack}"

dsn="" output="" label="" summary="" migrate="" seed=""
apply=()
dump_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dsn) dsn="${2:?--dsn needs a value}"; shift 2 ;;
    --output) output="${2:?--output needs a file}"; shift 2 ;;
    --label) label="${2:?--label needs a value}"; shift 2 ;;
    --apply) apply+=("${2:?--apply needs a file}"); shift 2 ;;
    --migrate) migrate="${2:?--migrate needs a command}"; shift 2 ;;
    --seed) seed="${2:?--seed needs a command}"; shift 2 ;;
    --dump-arg) dump_args+=("${2:?--dump-arg needs a value}"); shift 2 ;;
    --summary) summary="${2:?--summary needs a file}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
done
[ -n "$dsn" ] || die "--dsn is required (try --help)"
[ -n "$output" ] || die "--output is required (try --help)"
command -v "$seedpack" >/dev/null || die "seedpack not found (install it, or set SEEDPACK)"
for file in "${apply[@]}"; do [ -r "$file" ] || die "cannot read $file"; done

for step in "$migrate" "$seed"; do
  [ -n "$step" ] || continue
  echo "== running: $step" >&2
  DATABASE_URL="$dsn" bash -c "$step" >&2
done

for file in "${apply[@]}"; do
  echo "== applying $file" >&2
  psql -X -q -v ON_ERROR_STOP=1 --single-transaction -d "$dsn" -f "$file" >&2
done

echo "== dumping" >&2
label_args=()
[ -n "$label" ] && label_args=(--label "$label")
artifact="$("$seedpack" dump --quiet --dsn "$dsn" --output "$output" "${label_args[@]}" "${dump_args[@]}")"

echo "== verifying" >&2
"$seedpack" verify --file "$artifact" --sha256 "$artifact.sha256" >&2

if [ -n "$summary" ]; then
  {
    echo "### Seed artifact \`$(basename "$artifact")\`"
    echo
    echo '```text'
    "$seedpack" inspect --file "$artifact"
    echo '```'
  } >> "$summary"
fi
echo "$artifact"
