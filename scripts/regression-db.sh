#!/usr/bin/env bash
# Build PostgreSQL's own regression database (the one pg_dump and pg_upgrade
# are tested against) on a throwaway cluster, from the Debian source package
# of the running server's major, and print its connection string.
#
# Usage: scripts/regression-db.sh [--major N] [--dir DIR]
#   --major N  build it with PostgreSQL N instead of the server found here.
#              13: server, client and headers installed from Debian bullseye
#              (pinned so nothing else is upgraded), beside the machine's own.
#              18: no Debian release installable here carries its binaries, so
#              server, client and pg_regress are built from Debian sid's source
#              package into DIR/install (about 5 minutes on 2 cores)
#   --dir DIR  where to keep sources, build and cluster (default
#              /var/tmp/seedpack-regress/MAJOR); rerunning reuses the downloads
#              and the build
#
# Prints shell lines to eval, like pg-sandbox.sh:
#   REGRESS_DIR=...  REGRESSION_URL=... (the regression database, superuser)
#   ADMIN_URL=...    PG_DUMP=... (a pg_dump of the database's major)
# Stop the cluster with: scripts/pg-sandbox.sh stop "$REGRESS_DIR/cluster"
#
# Needs Debian, and (installed when missing, as root, with apt-get) a deb-src
# entry for Debian's archive, make, and postgresql-server-dev-MAJOR (headers
# and PGXS to build regress.so) or, for a major built from source, a C
# compiler, bison and flex; pg_regress comes with the server package. Some
# tests fail outside a source tree (COPY from files, locale-dependent
# outputs): the database they leave is what counts.
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
    *) die "PostgreSQL $want is not one this script can install (13 comes from bullseye, 18 is built from source)" ;;
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

# The major built from source here (no Debian release installable beside
# this one carries its binaries), and the suite whose source package it is.
from_source=""
case "$want" in
  18) from_source=sid ;;
esac

if [ -n "$from_source" ]; then
  major="$want"
  dir="${dir:-/var/tmp/seedpack-regress/$major}"
elif [ -n "$want" ]; then
  bindir="/usr/lib/postgresql/$want/bin"
  [ -x "$bindir/postgres" ] || install_major "$want"
else
  bindir="$(find_bindir)"
fi
if [ -z "$from_source" ]; then
  version="$("$bindir/postgres" --version | awk '{print $3}')"
  major="${version%%.*}"
  dir="${dir:-/var/tmp/seedpack-regress/$major}"
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"

# Sources: the package of this major whose upstream version is closest to
# the server's (the regression tests only change within a major for fixes),
# or the newest, for a major built from source.
suite="${from_source:-$(. /etc/os-release && echo "$VERSION_CODENAME")}"
src="$(find "$dir" -maxdepth 1 -type d -name "postgresql-$major.*" | sort -V | tail -n 1)"
if [ -z "$src" ]; then
  if [ -z "$(apt-cache showsrc "postgresql-$major" 2>/dev/null)" ]; then
    need_root "a deb-src entry"
    suites="$suite"
    [ -z "$from_source" ] && suites="$suite $suite-updates"
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: %s\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$suites" > "/etc/apt/sources.list.d/seedpack-deb-src-$suite.sources"
    apt-get update -qq
  fi
  echo "== downloading the postgresql-$major source package" >&2
  # The server's own version first, then the others, newest first.
  versions="$(apt-cache showsrc "postgresql-$major" | awk '/^Version:/ {print $2}' | sort -rV)"
  downloaded=""
  for candidate in $(grep "^${version:-none}-" <<<"$versions") $(grep -v "^${version:-none}-" <<<"$versions"); do
    if (cd "$dir" && apt-get source -qq --download-only "postgresql-$major=$candidate" >/dev/null 2>&1); then
      downloaded="$candidate"; break
    fi
  done
  [ -n "$downloaded" ] || die "could not download the postgresql-$major source package"
  upstream="${downloaded%%-*}"
  # All of it to build from, else only the tests.
  parts=("postgresql-$upstream/src/test/regress")
  [ -n "$from_source" ] && parts=()
  tar -xjf "$dir/postgresql-${major}_${upstream}.orig.tar.bz2" -C "$dir" "${parts[@]}"
  src="$dir/postgresql-$upstream"
fi
regress="$src/src/test/regress"

if [ -n "$from_source" ]; then
  # Server, client, pg_regress and regress.so, all of the one source tree.
  if [ ! -x "$dir/install/bin/postgres" ] || [ ! -f "$regress/regress.so" ]; then
    if ! command -v cc >/dev/null || ! command -v bison >/dev/null || ! command -v flex >/dev/null \
      || ! command -v make >/dev/null; then
      need_root "a C compiler, bison, flex or make"
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc make bison flex >/dev/null
    fi
    echo "== building PostgreSQL $major from source (a few minutes)" >&2
    (cd "$src" && ./configure -q --prefix="$dir/install" --without-icu --without-readline \
      --without-zlib --without-zstd --without-lz4 --without-llvm >"$dir/build.log" 2>&1 \
      && make -s -j"$(nproc)" >>"$dir/build.log" 2>&1 && make -s install >>"$dir/build.log" 2>&1 \
      && make -s -C src/test/regress >>"$dir/build.log" 2>&1) \
      || { tail -n 20 "$dir/build.log" >&2; die "building PostgreSQL $major failed (log: $dir/build.log)"; }
  fi
  bindir="$dir/install/bin"
  dlpath="$regress"
  pg_regress="$regress/pg_regress"
else
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
  dlpath="$dir/build"
  pg_regress="$(dirname "$("$bindir/pg_config" --pgxs 2>/dev/null || pg_config --pgxs)")/../test/regress/pg_regress"
fi
# pg-sandbox.sh starts the cluster with these binaries.
export SEEDPACK_PG_BINDIR="$bindir"

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
[ -x "$pg_regress" ] || die "no pg_regress at $pg_regress"
echo "== running the regression tests (a few minutes)" >&2
(cd "$regress" && "${as_server_user[@]}" "$pg_regress" --inputdir="$regress" --outputdir="$dir/out" \
  --bindir="$bindir" --dlpath="$dlpath" --schedule="$regress/parallel_schedule" \
  --host=127.0.0.1 --port="$port" --user=postgres --max-connections=4 >"$dir/regress.log" 2>&1) || true
grep -E "tests (passed|failed)" "$dir/regress.log" >&2 || { tail -n 20 "$dir/regress.log" >&2; die "pg_regress did not run"; }
printf 'REGRESS_DIR=%q\n' "$dir"
printf 'REGRESSION_URL=%q\n' "postgresql://postgres@127.0.0.1:$port/regression"
printf 'ADMIN_URL=%q\n' "$admin"
printf 'PG_DUMP=%q\n' "$bindir/pg_dump"
