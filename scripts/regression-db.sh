#!/usr/bin/env bash
# Build PostgreSQL's own regression database (the one pg_dump and pg_upgrade
# are tested against) on a throwaway cluster, from the Debian source package
# of the running server's major, and print its connection string.
#
# Usage: scripts/regression-db.sh [--major N] [--dir DIR]
#   --major N  build it with PostgreSQL N instead of the server found here:
#              its server, client and headers are installed from the Debian
#              release that carries them (13: bullseye, pinned so nothing
#              else is upgraded), beside the machine's own
#   --dir DIR  where to keep sources, build and cluster (default
#              /var/tmp/seedpack-regress/MAJOR); rerunning reuses the downloads
#
# Prints shell lines to eval, like pg-sandbox.sh:
#   REGRESS_DIR=...  REGRESSION_URL=... (the regression database, superuser)
#   ADMIN_URL=...
# Stop the cluster with: scripts/pg-sandbox.sh stop "$REGRESS_DIR/cluster"
#
# Needs Debian, and (installed when missing, as root, with apt-get) a deb-src entry for
# Debian's archive, postgresql-server-dev-MAJOR (headers and PGXS to build
# regress.so) and make; pg_regress comes with the server package. Some of
# the 217 tests fail outside a source tree (COPY from files, a few
# locale-dependent outputs): the database they leave is what counts.
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; }
die() { echo "regression-db.sh: $*" >&2; exit 2; }

dir=""
want=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) dir="${2:?--dir needs a directory}"; shift 2 ;;
    --major) want="${2:?--major needs a number}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
done

# shellcheck source=scripts/lib/postgres.sh
source "$(dirname "$0")/lib/postgres.sh"

need_root() { [ "$(id -u)" = 0 ] || die "$1 is missing; run as root to install it, or install it yourself"; }

# The sources and packages come from Debian's archive: say so up front on
# any other system rather than fail halfway.
# shellcheck disable=SC1091 # the system's own file
if ! { [ -r /etc/os-release ] && [ "$(. /etc/os-release && echo "$ID")" = debian ]; }; then
  die "needs Debian (the server's source package and PostgreSQL 13 come from Debian's archive); .github/workflows/ci.yml runs it in a Debian container"
fi

# PostgreSQL $1 from the Debian release that carries it, pinned low so that
# nothing of this machine's own is upgraded or replaced. Debian's packages
# would make and start a cluster of their own: that is switched off first.
install_major() {
  local want="$1" suite
  case "$want" in
    13) suite=bullseye ;;
    *) die "no Debian release installable here carries PostgreSQL $want (13 is bullseye's)" ;;
  esac
  need_root "PostgreSQL $want"
  printf 'Types: deb deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    "$suite" > "/etc/apt/sources.list.d/seedpack-$suite.sources"
  printf 'Package: *\nPin: release n=%s\nPin-Priority: 100\n' "$suite" > "/etc/apt/preferences.d/seedpack-$suite"
  mkdir -p /etc/postgresql-common
  if [ -f /etc/postgresql-common/createcluster.conf ]; then
    sed -i 's/^#\?\s*create_main_cluster.*/create_main_cluster = false/' /etc/postgresql-common/createcluster.conf
  else
    echo 'create_main_cluster = false' > /etc/postgresql-common/createcluster.conf
  fi
  echo "== installing PostgreSQL $want from $suite" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t "$suite" \
    "postgresql-$want" "postgresql-client-$want" "postgresql-server-dev-$want" make >/dev/null
}

if [ -n "$want" ]; then
  bindir="/usr/lib/postgresql/$want/bin"
  [ -x "$bindir/postgres" ] || install_major "$want"
  # pg-sandbox.sh starts the cluster with these binaries.
  export SEEDPACK_PG_BINDIR="$bindir"
else
  bindir="$(find_bindir)"
fi
version="$("$bindir/postgres" --version | awk '{print $3}')"
major="${version%%.*}"
dir="${dir:-/var/tmp/seedpack-regress/$major}"
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# Sources: the package of this major whose upstream version is closest to
# the server's (the regression tests only change within a major for fixes).
src="$(find "$dir" -maxdepth 1 -type d -name "postgresql-$major.*" | sort -V | tail -n 1)"
if [ -z "$src" ]; then
  if [ -z "$(apt-cache showsrc "postgresql-$major" 2>/dev/null)" ]; then
    need_root "a deb-src entry"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s %s-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$(. /etc/os-release && echo "$VERSION_CODENAME")" "$(. /etc/os-release && echo "$VERSION_CODENAME")" \
      > /etc/apt/sources.list.d/seedpack-deb-src.sources
    apt-get update -qq
  fi
  echo "== downloading the postgresql-$major source package" >&2
  # The server's own version first, then the others, newest first.
  versions="$(apt-cache showsrc "postgresql-$major" | awk '/^Version:/ {print $2}' | sort -rV)"
  downloaded=""
  for candidate in $(grep "^$version-" <<<"$versions") $(grep -v "^$version-" <<<"$versions"); do
    if (cd "$dir" && apt-get source -qq --download-only "postgresql-$major=$candidate" >/dev/null 2>&1); then
      downloaded="$candidate"; break
    fi
  done
  [ -n "$downloaded" ] || die "could not download the postgresql-$major source package"
  upstream="${downloaded%%-*}"
  tar -xjf "$dir/postgresql-${major}_${upstream}.orig.tar.bz2" -C "$dir" "postgresql-$upstream/src/test/regress"
  src="$dir/postgresql-$upstream"
fi
regress="$src/src/test/regress"

# regress.so: the C functions the tests call.
if [ ! -f "$dir/build/regress.so" ]; then
  pg_config="$bindir/pg_config"
  [ -x "$pg_config" ] || pg_config="$(command -v pg_config)" || die "no pg_config"
  if [ ! -d "$("$pg_config" --includedir-server)" ] || ! command -v make >/dev/null; then
    need_root "postgresql-server-dev-$major"
    apt-get install -y -qq "postgresql-server-dev-$major" make >/dev/null
  fi
  mkdir -p "$dir/build"
  cp "$regress/regress.c" "$dir/build/"
  # shellcheck disable=SC2016 # make expands these, not the shell
  printf 'MODULES = regress\nPGXS := $(shell $(PG_CONFIG) --pgxs)\ninclude $(PGXS)\n' > "$dir/build/Makefile"
  make -s -C "$dir/build" PG_CONFIG="$pg_config" >/dev/null
fi

# A cluster of its own, and the regression run.
if [ -d "$dir/cluster/data" ]; then
  "${as_server_user[@]}" "$bindir/pg_ctl" -D "$dir/cluster/data" -m fast -w stop >/dev/null 2>&1 || true
  rm -rf "$dir/cluster"
fi
eval "$("$(dirname "$0")/pg-sandbox.sh" start --dir "$dir/cluster")"
admin="$ADMIN_URL"
port="${admin##*:}"; port="${port%%/*}"
# Before PostgreSQL 15, pg_regress writes the tests it makes from
# input/*.source into these, and does not make them itself.
mkdir -p "$dir/out/sql" "$dir/out/expected"
[ "$(id -u)" = 0 ] && chown -R postgres: "$dir"
pg_regress="$(dirname "$("$bindir/pg_config" --pgxs 2>/dev/null || pg_config --pgxs)")/../test/regress/pg_regress"
[ -x "$pg_regress" ] || die "no pg_regress at $pg_regress"
echo "== running the regression tests (a few minutes)" >&2
(cd "$regress" && "${as_server_user[@]}" "$pg_regress" --inputdir="$regress" --outputdir="$dir/out" \
  --bindir="$bindir" --dlpath="$dir/build" --schedule="$regress/parallel_schedule" \
  --host=127.0.0.1 --port="$port" --user=postgres --max-connections=4 >"$dir/regress.log" 2>&1) || true
grep -E "tests (passed|failed)" "$dir/regress.log" >&2 || { tail -n 20 "$dir/regress.log" >&2; die "pg_regress did not run"; }
printf 'REGRESS_DIR=%q\n' "$dir"
printf 'REGRESSION_URL=%q\n' "postgresql://postgres@127.0.0.1:$port/regression"
printf 'ADMIN_URL=%q\n' "$admin"
