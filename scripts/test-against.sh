#!/usr/bin/env bash
# Run seedpack's test suite against a running PostgreSQL server instead of
# a throwaway cluster: CI's service containers, or any server of the major
# under test. The tests make their own roles and databases there.
#
# Usage: scripts/test-against.sh DSN [CARGO_TEST_ARG...]
#   DSN   URL of a role that may create roles and databases (a superuser,
#         usually), such as postgresql://postgres:postgres@localhost:5432/postgres
#         The server must check passwords over TCP (the postgres image does;
#         a test checks that a wrong one is refused).
#
# Tests that stop, restart or reconfigure a server (faults, TLS) still start
# clusters of their own from the local server binaries.
set -euo pipefail

case "${1:-}" in
  -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
  ""|-*) echo "test-against.sh: a DSN is required first (try --help)" >&2; exit 2 ;;
esac
dsn="$1"
shift
cd "$(dirname "$0")/.."
SEEDPACK_TEST_DSN="$dsn" cargo test "$@"
