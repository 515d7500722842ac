#!/usr/bin/env bash
# Runs each cargo-fuzz target (shared/fuzz) for a fixed budget: FUZZ_SECONDS (default 60).
# Not part of CI. cargo-fuzz needs nightly-only compiler flags; on a stable toolchain they
# are unlocked with RUSTC_BOOTSTRAP=1. Crashes land in shared/fuzz/artifacts/<target>/.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root/shared"
seconds=${FUZZ_SECONDS:-60}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
for target in webhook events; do
  echo "==> fuzzing $target for ${seconds}s"
  cargo fuzz run "$target" --sanitizer none -- -max_total_time="$seconds" -max_len=65536 2>&1 \
    | grep -E "^#[0-9]+.*(DONE|pulse)|ERROR|panicked|SUMMARY|Done [0-9]+ runs" || true
done
echo "==> corpus sizes: $(for t in webhook events; do printf '%s %s  ' "$t" "$(ls fuzz/corpus/$t | wc -l)"; done)"
if compgen -G "fuzz/artifacts/*/*" > /dev/null; then
  echo "crashes found:"; ls fuzz/artifacts/*/; exit 1
fi
