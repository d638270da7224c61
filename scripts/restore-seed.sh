#!/usr/bin/env bash
# Restore a seed artifact into a database: verify the artifact against its
# .sha256 sidecar, restore it in one transaction, then check that the
# database holds exactly the artifact's data (replace mode), or every row of
# it beside rows of its own (upsert, insert-missing: check --mode contains,
# with the restore's --key options).
#
# Usage: scripts/restore-seed.sh --file FILE --dsn DSN [--yes] [--mode MODE]
#                                [-- RESTORE_OPTION...]
#   --file FILE   the artifact; FILE.sha256 must be beside it
#   --dsn DSN     the target database
#   --yes         do not ask; without it seedpack shows what would change and
#                 asks on the terminal, and refuses (exit 3) without one
#   --mode MODE   replace (default), upsert or insert-missing
#   -- ...        further options for seedpack restore, such as --data-only
#
# Exits with seedpack's code: 0 done, 1 failure, 2 bad or damaged artifact,
# 3 refused (declined, incompatible target). Needs seedpack (on PATH, or $SEEDPACK).
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; }
die() { echo "restore-seed.sh: $*" >&2; exit 2; }
seedpack="${SEEDPACK:-seedpack}"

file="" dsn="" mode=replace
restore_args=()
while [ $# -gt 0 ]; do
  case "$1" in
    --file) file="${2:?--file needs a value}"; shift 2 ;;
    --dsn) dsn="${2:?--dsn needs a value}"; shift 2 ;;
    --yes) restore_args+=(--yes); shift ;;
    --mode) mode="${2:?--mode needs a value}"; shift 2 ;;
    --) shift; restore_args+=("$@"); break ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
done
[ -n "$file" ] || die "--file is required (try --help)"
[ -n "$dsn" ] || die "--dsn is required (try --help)"
[ -r "$file.sha256" ] || die "no checksum file $file.sha256 beside the artifact"
command -v "$seedpack" >/dev/null || die "seedpack not found (install it, or set SEEDPACK)"

echo "== verifying $file" >&2
"$seedpack" verify --file "$file" --sha256 "$file.sha256" >&2

echo "== restoring into the target ($mode)" >&2
"$seedpack" restore --file "$file" --dsn "$dsn" --mode "$mode" "${restore_args[@]}"

# After a replace the tables hold exactly the artifact; after a merge, every
# artifact row (under the same --key as the restore) beside the target's own.
check_args=()
if [ "$mode" != replace ]; then
  check_args=(--mode contains)
  for ((i = 0; i < ${#restore_args[@]}; i++)); do
    if [ "${restore_args[$i]}" = --key ] && [ $((i + 1)) -lt ${#restore_args[@]} ]; then
      check_args+=(--key "${restore_args[$((i + 1))]}")
    fi
  done
fi
echo "== checking the target against the artifact" >&2
"$seedpack" check --file "$file" --dsn "$dsn" "${check_args[@]}"
