#!/usr/bin/env bash
# Build seedpack in release mode from this checkout and print
# SEEDPACK=<path of the binary>, the variable the other scripts read. In
# GitHub Actions: bash scripts/build-seedpack.sh >> "$GITHUB_ENV"
#
# Usage: scripts/build-seedpack.sh
set -euo pipefail

case "${1:-}" in
  -h|--help) awk 'NR > 1 && !/^#/ {exit} NR > 1 {sub(/^# ?/, ""); print}' "$0"; exit 0 ;;
  "") ;;
  *) echo "build-seedpack.sh: unknown argument $1 (try --help)" >&2; exit 2 ;;
esac
repo="$(cd "$(dirname "$0")/.." && pwd)"
cargo build --release --locked --quiet --manifest-path "$repo/Cargo.toml" >&2
echo "SEEDPACK=$repo/target/release/seedpack"
