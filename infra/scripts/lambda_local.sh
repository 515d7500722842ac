#!/usr/bin/env bash
# The four functions as Lambda runs them, without a container runtime (the stand-in for
# `sam local invoke`): `cargo lambda watch` emulates the Lambda runtime API on loopback,
# and `cargo lambda invoke` hands each function the sample events of infra/events/lambda/
# (the same files `sam local invoke --event` takes), against moto and the simulator.
# Checks each answer; exits non-zero on the first that is wrong. Run by `make test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source infra/scripts/moto.sh
export PATH="$root/.venv/bin:$PATH"
events=infra/events/lambda
out=target/lambda-local
mkdir -p "$out"

pids=()
cleanup() {
  for pid in "${pids[@]:-}"; do [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]:-}"; do [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true; done
  stop_moto
}
trap cleanup EXIT
free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 300); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.2; done; echo "$1 did not come up" >&2; tail -20 "$2" >&2; exit 1; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cargo build --locked -p leave-sync -p leave-sync-tests --bins
start_moto
sim_port=$(free_port)
target/debug/feishu-sim --port "$sim_port" > "$out/sim.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$sim_port/_sim/state" "$out/sim.log"

# The demo app's settings: the sample events are signed and encrypted with its keys.
export AWS_ENDPOINT_URL="$MOTO_ENDPOINT" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local
export FEISHU_APP_ID=cli_demo0000000001 FEISHU_APP_SECRET=demo-app-secret FEISHU_BASE_URL="http://127.0.0.1:$sim_port"
export FEISHU_VERIFICATION_TOKEN=demo-verification-token FEISHU_ENCRYPT_KEY=demo-encrypt-key
export CUSTOM_APPROVAL_CODES=CUSTOM-PTO-0001 LEAVE_APPROVAL_CODES=7C468A54-8745-2245-9675-08654A59C265

# The queue and table, as `leave-sync dev` creates them from template.yaml's settings.
dev_port=$(free_port)
target/debug/leave-sync dev --port "$dev_port" > "$out/dev.log" 2>&1 &
dev_pid=$!
wait_http "http://127.0.0.1:$dev_port/healthz" "$out/dev.log"
kill "$dev_pid"; wait "$dev_pid" 2>/dev/null || true
queue_url=$(target/debug/leave-sync status | awk '/^queue/ {print $NF}' | tr -d '()')
[[ -n "$queue_url" ]] || fail "no queue URL from leave-sync status"

port=$(free_port)
env_vars="QUEUE_URL=$queue_url,TABLE_NAME=leave-sync-dev-ledger,AWS_ENDPOINT_URL=$AWS_ENDPOINT_URL"
env_vars+=",AWS_REGION=us-east-1,AWS_ACCESS_KEY_ID=local,AWS_SECRET_ACCESS_KEY=local"
env_vars+=",FEISHU_APP_ID=$FEISHU_APP_ID,FEISHU_APP_SECRET=$FEISHU_APP_SECRET,FEISHU_BASE_URL=$FEISHU_BASE_URL"
env_vars+=",FEISHU_VERIFICATION_TOKEN=$FEISHU_VERIFICATION_TOKEN,FEISHU_ENCRYPT_KEY=$FEISHU_ENCRYPT_KEY"
env_vars+=",CUSTOM_APPROVAL_CODES=$CUSTOM_APPROVAL_CODES,LEAVE_APPROVAL_CODES=$LEAVE_APPROVAL_CODES"
env_vars+=",RECONCILE_BACKFILL=2d,TWIN_WAIT_SECS=1,RUST_LOG=info"
env_vars+=",DIGEST_CHAT_IDS=oc_team0000000000000000000000000001,TENANT_TIMEZONE=Asia/Shanghai"
echo "==> cargo lambda watch on 127.0.0.1:$port"
cargo lambda watch --quiet --ignore-changes --timeout 30 -A 127.0.0.1 -P "$port" --env-vars "$env_vars" > "$out/watch.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 300); do
  curl -s -o /dev/null "http://127.0.0.1:$port/" && break
  sleep 0.2
done

invoke() { # function, event file → the answer (JSON) on stdout
  cargo lambda invoke --invoke-address 127.0.0.1 --invoke-port "$port" "$1" --data-file "$2" --output-format json
}

echo "==> ingress: every Function URL event of the manifest"
.venv/bin/python - "$events/manifest.json" > "$out/cases.txt" <<'PY'
import json, sys
for case in json.load(open(sys.argv[1]))["cases"]:
    print(case["file"], case["expect_status"])
PY
checked=0
while read -r file status; do
  answer=$(invoke ingress "$events/$file") || fail "ingress did not answer $file"
  got=$(.venv/bin/python -c 'import json,sys; print(json.loads(sys.argv[1])["statusCode"])' "$answer")
  [[ "$got" == "$status" ]] || fail "ingress answered $file with $got, expected $status: $answer"
  checked=$((checked + 1))
done < "$out/cases.txt"
echo "    $checked events answered as the manifest expects"
waiting=$(target/debug/leave-sync status | awk '/^queue/ {print $2}')
[[ "$waiting" -ge 1 ]] || fail "the ingress queued nothing"
echo "    $waiting events on the queue"

echo "==> processor: the SQS batch"
answer=$(invoke processor "$events/sqs-batch.json") || fail "processor did not answer"
.venv/bin/python - "$answer" <<'PY' || fail "processor: $answer"
import json, sys
failures = json.loads(sys.argv[1])["batchItemFailures"]
assert failures == [], failures
PY
synced=$(curl -fsS "$FEISHU_BASE_URL/_sim/state" | .venv/bin/python -c 'import json,sys; d = json.load(sys.stdin); print(len(d.get("data", d)["attendance"]))')
[[ "$synced" -ge 1 ]] || fail "the processor wrote no attendance record"
echo "    no failed records; $synced attendance records written in the simulator"

echo "==> reconciler: the scheduled event, with approvals whose events never arrived"
.venv/bin/python infra/scripts/sim_instances.py "$FEISHU_BASE_URL"
answer=$(invoke reconciler "$events/schedule.json") || fail "reconciler did not answer"
.venv/bin/python - "$answer" <<'PY' || fail "reconciler: $answer"
import json, sys
report = json.loads(sys.argv[1])
assert report["errors"] == [], report["errors"]
assert report["windows"] and all(w["complete"] for w in report["windows"]), report["windows"]
assert report["enqueued"], "the never-pushed approval was not queued"
print(f"    report: {report['seen']} seen, {report['rechecked']} re-read, {report['feishu_calls']} Feishu calls, {len(report['enqueued'])} queued")
PY
echo "==> team-digest: the who's-out schedule's payload, twice (one card per chat per day)"
for run in first second; do
  answer=$(invoke team-digest "$events/digest-schedule.json") || fail "team-digest did not answer"
  .venv/bin/python - "$answer" "$run" <<'PY' || fail "team-digest: $answer"
import json, sys
report, run = json.loads(sys.argv[1]), sys.argv[2]
assert report["day"] == "2026-12-07", report
assert report["failed"] == [], report["failed"]
key = "posted" if run == "first" else "already_posted"
assert report[key] == ["oc_team0000000000000000000000000001"], report
print(f"    {run} run: {key}, {report['items_read']} index items read")
PY
done
echo "all four functions answered as expected"
