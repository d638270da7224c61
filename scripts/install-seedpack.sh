#!/usr/bin/env bash
# Install seedpack with cargo, for CI (the composite action in action.yml
# calls it). With --key, print key=<what identifies the build>: the hash of
# this checkout's sources for "action", else the git ref itself, so a cache
# is reused exactly while the sources are the same.
#
# Usage: scripts/install-seedpack.sh --key VERSION
#        scripts/install-seedpack.sh --install VERSION --root DIR [--repository URL]
#   VERSION          "action": build this checkout; anything else: that git
#                    ref of --repository
#   --root DIR       install into DIR/bin
#   --repository URL the git repository to build VERSION from
set -euo pipefail

usage() { awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; }
die() { echo "install-seedpack.sh: $*" >&2; exit 2; }
repo="$(cd "$(dirname "$0")/.." && pwd)"

mode="" version="" root="" repository=""
while [ $# -gt 0 ]; do
  case "$1" in
    --key) mode=key; version="${2:?--key needs a version}"; shift 2 ;;
    --install) mode=install; version="${2:?--install needs a version}"; shift 2 ;;
    --root) root="${2:?--root needs a directory}"; shift 2 ;;
    --repository) repository="${2:?--repository needs a URL}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument $1 (try --help)" ;;
  esac
done
[ -n "$mode" ] || die "--key or --install is required (try --help)"

if [ "$mode" = key ]; then
  if [ "$version" = action ]; then
    hash="$(cd "$repo" && find Cargo.toml Cargo.lock src -type f -print0 | sort -z \
      | xargs -0 sha256sum | sha256sum | cut -c1-16)"
    echo "key=source-$hash"
  else
    echo "key=ref-$version"
  fi
  exit 0
fi

[ -n "$root" ] || die "--root is required with --install (try --help)"
if [ "$version" = action ]; then
  cargo install --locked --quiet --path "$repo" --root "$root"
else
  [ -n "$repository" ] || die "--repository is required to install $version"
  cargo install --locked --quiet --git "$repository" --rev "$version" --root "$root"
fi
"$root/bin/seedpack" --version >&2
