#!/usr/bin/env bash
# The performance figures in the README, measured on this machine:
#   - criterion: ingress hot path vs its floor, processor CPU per event (cargo bench)
#   - load: BENCH_APPROVALS approvals + their V2 twins from 16 concurrent senders through
#     leave-sync dev (release build) + moto + the simulator (rate limits on): ack latency,
#     time until every leave is synced, Feishu calls and DynamoDB requests per leave, and
#     the dev process's peak RSS
#   - reconcile: BENCH_RECONCILE_INSTANCES (10,000) instances in the simulator, 95% already
#     synced: the backfill run and the hourly run after it, seconds and Feishu calls
#   - who's out: BENCH_DIGEST_LEAVES (100,000) synced leaves in moto: index items read and
#     the median time for a day's and a week's card, and what a scan would read
#   - cold start of the ingress binary, and the Lambda zip sizes (from `make package`)
# Not a test: figures vary with the machine; compare medians and ratios.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source infra/scripts/moto.sh
n=${BENCH_APPROVALS:-200}
out=target/bench
mkdir -p "$out"
infra/scripts/venv.sh

echo "==> cargo bench (criterion)"
cargo bench --locked -p shared --bench ingress_hot_path --bench processor_cpu -- --warm-up-time 2 --measurement-time 5 2>&1 \
  | grep -E "^(ingress|processor)|time:" || true
.venv/bin/python - <<'PY'
import json, pathlib
base = pathlib.Path("target/criterion")
def median(*parts):
    p = base.joinpath(*parts, "new", "estimates.json")
    return json.loads(p.read_text())["median"]["point_estimate"] / 1000.0 if p.exists() else None
print("\ningress hot path vs floor (medians)")
for size in ("1024", "4096"):
    hot, floor = median("ingress", "hot_path", size), median("ingress", "floor", size)
    if hot and floor:
        print(f"  {int(size)//1024} KiB event: hot path {hot:.1f} µs, floor {floor:.1f} µs, ratio {hot/floor:.2f}")
for name in ("leave_approval", "leave_approvalV2"):
    m = median("processor_cpu_per_event", name)
    if m:
        print(f"processor CPU per event ({name}): {m:.1f} µs")
PY

echo "==> building release binaries"
cargo build --release --locked -p leave-sync -p leave-sync-tests -p ingress --bins

pids=()
cleanup() {
  for pid in "${pids[@]:-}"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]:-}"; do [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true; done
  stop_moto
}
trap cleanup EXIT
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 150); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "$1 did not come up" >&2; exit 1; }

export MOTO_ENABLE_RECORDING=True MOTO_RECORDER_FILEPATH="$root/$out/moto_recording.jsonl"
rm -f "$MOTO_RECORDER_FILEPATH"
start_moto
sim_port=$(free_port)
target/release/feishu-sim --port "$sim_port" --load-users "$n" > "$out/sim.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$sim_port/_sim/state"
export AWS_ENDPOINT_URL="$MOTO_ENDPOINT" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=bench AWS_SECRET_ACCESS_KEY=bench
export FEISHU_APP_ID=cli_demo0000000001 FEISHU_APP_SECRET=demo-app-secret FEISHU_BASE_URL="http://127.0.0.1:$sim_port"
export FEISHU_VERIFICATION_TOKEN=demo-verification-token FEISHU_ENCRYPT_KEY=demo-encrypt-key RUST_LOG=warn
dev_port=$(free_port)
target/release/leave-sync dev --port "$dev_port" > "$out/dev.log" 2>&1 &
dev_pid=$!
pids+=($dev_pid)
wait_http "http://127.0.0.1:$dev_port/healthz"
curl -fsS -X POST "$MOTO_ENDPOINT/moto-api/recorder/reset-recording" > /dev/null

echo "==> load: $n approvals"
target/release/leave-sync-load load --url "http://127.0.0.1:$dev_port/webhook/event" \
  --sim "http://127.0.0.1:$sim_port" --approvals "$n" --senders 16 --sqs-endpoint "$MOTO_ENDPOINT"
echo "peak RSS (dev)      $(awk '/VmHWM/ {printf "%.1f MiB", $2/1024}' "/proc/$dev_pid/status") for ingress + poller + processor in one process"
.venv/bin/python - "$MOTO_RECORDER_FILEPATH" "$n" <<'PY'
import collections, json, sys
ops = collections.Counter()
for line in open(sys.argv[1]):
    target = {k.lower(): v for k, v in json.loads(line)["headers"].items()}.get("x-amz-target", "")
    if target.startswith("DynamoDB_20120810."):
        ops[target.split(".", 1)[1]] += 1
n = int(sys.argv[2])
total = sum(ops.values())
detail = ", ".join(f"{k} {v}" for k, v in sorted(ops.items()))
print(f"DynamoDB per leave  {total / n:.2f} requests ({detail} for {n} leaves and their twins)")
PY

echo "==> reconcile: ${BENCH_RECONCILE_INSTANCES:-10000} instances"
curl -fsS -X POST "$MOTO_ENDPOINT/moto-api/recorder/stop-recording" > /dev/null
RUST_LOG=warn target/release/reconcile-bench --instances "${BENCH_RECONCILE_INSTANCES:-10000}"

echo "==> who's out: ${BENCH_DIGEST_LEAVES:-100000} synced leaves in the ledger"
RUST_LOG=warn target/release/digest-bench --leaves "${BENCH_DIGEST_LEAVES:-100000}"

echo "==> cold start"
target/release/leave-sync-load cold-start --bin target/release/ingress --runs 20
for f in ingress processor; do
  zip="target/lambda/$f/bootstrap.zip"
  if [[ -f "$zip" ]]; then
    printf 'zip size            %-10s %s KiB (arm64, make package)\n' "$f" "$(( $(stat -c %s "$zip") / 1024 ))"
  else
    echo "zip size            $f: run make package first"
  fi
done
