# shellcheck shell=bash disable=SC2034 # as_server_user is for the scripts that source this
# Shared by the scripts in scripts/: finding PostgreSQL's server binaries and
# running them as the unprivileged postgres user when run as root. Source it.

# The directory with initdb, pg_ctl, postgres: $SEEDPACK_PG_BINDIR (or the
# tests' $SEEDPACK_TEST_PG_BINDIR), else initdb on PATH (symlinks followed),
# pg_config --bindir, or the newest /usr/lib/postgresql/*/bin. Exits with an
# install hint when there is none.
find_bindir() {
  local initdb dir
  dir="${SEEDPACK_PG_BINDIR:-${SEEDPACK_TEST_PG_BINDIR:-}}"
  if [ -n "$dir" ]; then
    if [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
    echo "$(basename "$0"): no initdb in $dir (SEEDPACK_PG_BINDIR)" >&2
    exit 1
  fi
  if initdb="$(command -v initdb 2>/dev/null)"; then
    dir="$(dirname "$(readlink -f "$initdb")")"
    if [ -x "$dir/psql" ]; then echo "$dir"; return; fi
  fi
  if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir; return
  fi
  # shellcheck disable=SC2012 # version directories have plain names
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -n "$dir" ] && [ -x "$dir/initdb" ]; then echo "$dir"; return; fi
  echo "$(basename "$0"): no PostgreSQL server binaries found; install them (Debian/Ubuntu: apt-get install postgresql)" >&2
  exit 1
}

# The command prefix that runs a server binary: runuser as postgres under root.
as_server_user=()
if [ "$(id -u)" = 0 ]; then as_server_user=(runuser -u postgres --); fi
