#!/usr/bin/env bash
# Runs every check and test on a fresh machine: formatting, clippy, the template lint,
# and the whole test suite against a moto server it starts and stops itself.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source infra/scripts/moto.sh

infra/scripts/venv.sh

echo "==> cargo fmt --check"
cargo fmt --all -- --check

echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "==> cfn-lint template.yaml"
.venv/bin/cfn-lint template.yaml
echo "==> sam validate --lint"
SAM_CLI_TELEMETRY=0 .venv/bin/sam validate --lint --template template.yaml

echo "==> starting moto"
trap stop_moto EXIT
start_moto
echo "    moto on $MOTO_ENDPOINT"

echo "==> cargo test"
cargo test --workspace --locked

echo "==> the three functions under cargo lambda watch (the stand-in for sam local invoke)"
infra/scripts/lambda_local.sh
