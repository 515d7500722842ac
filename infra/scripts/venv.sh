#!/usr/bin/env bash
# Creates .venv with the local tooling (moto, cfn-lint, cargo-lambda, cryptography).
# Idempotent: reinstalls only when infra/requirements.txt changed.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.venv"
stamp="$venv/.requirements.sha256"
want=$(sha256sum "$root/infra/requirements.txt" | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
command -v python3 >/dev/null || { echo "python3 is required (3.9 or newer)" >&2; exit 1; }
echo "==> setting up .venv (moto, cfn-lint, SAM CLI, cargo-lambda, cryptography); a few minutes the first time"
[[ -x "$venv/bin/python" ]] || python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --disable-pip-version-check -r "$root/infra/requirements.txt"
echo "$want" > "$stamp"
