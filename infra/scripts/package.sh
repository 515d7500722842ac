#!/usr/bin/env bash
# Builds the four functions for Lambda (arm64, provided.al2023) as zips with cargo-lambda
# (from .venv; it brings zig for cross-linking), then prints their sizes.
# Takes ~10 minutes cold on 2 cores (release profile: fat LTO, one codegen unit).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
infra/scripts/venv.sh
export PATH="$root/.venv/bin:$PATH"
rustup target list --installed 2>/dev/null | grep -q aarch64-unknown-linux-gnu \
  || rustup target add aarch64-unknown-linux-gnu
echo "==> cargo lambda build --release --arm64 --output-format zip (ingress, processor, reconciler, team-digest)"
cargo lambda build --release --arm64 --output-format zip --package ingress --package processor --package reconciler --package team-digest
for f in ingress processor reconciler team-digest; do
  zip="target/lambda/$f/bootstrap.zip"
  printf '%-10s %s  %s bytes\n' "$f" "$zip" "$(stat -c %s "$zip")"
done
