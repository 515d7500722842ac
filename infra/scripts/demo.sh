#!/usr/bin/env bash
# The whole product on this machine: moto (DynamoDB + SQS), the Feishu simulator and
# `leave-sync dev` (ingress + poller + processor), with signed, encrypted sample events
# flowing through, then what Feishu received and what the ledger recorded.
# Stops everything it started when it ends or is interrupted.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source infra/scripts/moto.sh

bold() { printf '\n\033[1m%s\033[0m\n' "$*"; }
pids=()
cleanup() {
  for pid in "${pids[@]:-}"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]:-}"; do
    [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
  done
  stop_moto
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # URL, name, log
  for _ in $(seq 1 150); do
    curl -fsS "$1" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  echo "$2 did not come up; its log:" >&2; tail -20 "$3" >&2; exit 1
}

infra/scripts/venv.sh
bold "==> building leave-sync and the Feishu simulator (the first build takes a few minutes)"
cargo build --locked -p leave-sync -p leave-sync-tests --bins
bin="$root/target/debug"
mkdir -p target/demo

bold "==> starting moto (local DynamoDB + SQS), the Feishu simulator and leave-sync dev"
start_moto
sim_port=$(free_port)
"$bin/feishu-sim" --port "$sim_port" > target/demo/sim.log 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$sim_port/_sim/state" "the Feishu simulator" target/demo/sim.log

export AWS_ENDPOINT_URL="$MOTO_ENDPOINT" AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo
export FEISHU_APP_ID=cli_demo0000000001 FEISHU_APP_SECRET=demo-app-secret
export FEISHU_BASE_URL="http://127.0.0.1:$sim_port"
export FEISHU_VERIFICATION_TOKEN=demo-verification-token FEISHU_ENCRYPT_KEY=demo-encrypt-key
export CUSTOM_APPROVAL_CODES=CUSTOM-PTO-0001 TENANT_TIMEZONE=Asia/Shanghai
# The chat bot applies for leave with the tutorial's custom form, and for overtime with a
# custom overtime form (a date range and a reason), synced to attendance as overtime.
export CHAT_LEAVE_APPROVAL_CODE=CUSTOM-PTO-0001
export OVERTIME_APPROVAL_CODES=OVERTIME-0001 CHAT_OVERTIME_APPROVAL_CODE=OVERTIME-0001
# The team view: every synced leave also goes on the team's shared calendar (the app owns
# it in the simulator; `leave-sync calendar init` makes one), and the who's-out card goes
# to the team chat (the bot is in it).
export TEAM_CALENDAR_ID=feishu.cn_team0001@group.calendar.feishu.cn
export DIGEST_CHAT_IDS=oc_team0000000000000000000000000001
# A leave_approval waits this long for its leave_approvalV2 twin (30 s in production).
export TWIN_WAIT_SECS=2
# The native leave form the reconciler lists; three days back on its first run (30 in
# production: each 10-hour window is one list call, and Feishu allows 100 a minute).
export LEAVE_APPROVAL_CODES=7C468A54-8745-2245-9675-08654A59C265 RECONCILE_BACKFILL=3d
export RUST_LOG="${RUST_LOG:-info}"
dev_port=$(free_port)
"$bin/leave-sync" dev --port "$dev_port" > target/demo/dev.log 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$dev_port/healthz" "leave-sync dev" target/demo/dev.log
echo "    moto $MOTO_ENDPOINT, simulator $FEISHU_BASE_URL, webhook http://127.0.0.1:$dev_port/webhook/event"
echo "    logs: target/demo/dev.log, target/demo/sim.log"

send() { "$bin/leave-sync" send-event --url "http://127.0.0.1:$dev_port/webhook/event" "infra/events/$1"; }
drain() { "$bin/leave-sync" status --wait 60 > /dev/null || { echo "the queue did not drain; see target/demo/dev.log" >&2; exit 1; }; }

bold "==> Feishu approves leave (each event signed and AES-encrypted with the Encrypt Key, as Feishu does)"
echo "   Feishu sends two events for each approved leave form, leave_approval and leave_approvalV2."
echo "-- 张伟: two days of annual leave"
send leave_approval.day.json
send leave_approvalV2.day.json
echo "-- 李娜: a half-day leave, and a redelivery of its first event"
send leave_approval.half_day.json
send leave_approvalV2.half_day.json
send leave_approval.half_day.json
echo "-- 王芳: three hours of sick leave, the V2 event first this time"
send leave_approvalV2.hour.json
send leave_approval.hour.json
echo "-- 赵磊: the tutorial's custom form (approval_instance APPROVED; the leave is read from the instance)"
curl -fsS -X POST -H 'content-type: application/json' --data @infra/events/sim/custom_instance.json "$FEISHU_BASE_URL/_sim/instances" > /dev/null
send approval_instance.approved.json
drain

bold "==> 李娜 applies for leave in chat: 请假 2026-12-14 2026-12-15 家里有事"
echo "   The bot creates the approval instance for her (once, whatever the redeliveries) and"
echo "   answers with a card; a message it does not understand gets help."
send im.message.apply_leave.json
send im.message.apply_leave.json
send im.message.receive_v1.json
echo "-- 王芳 applies for overtime the same way: 加班 2026-12-12 10:00-16:00 版本发布"
send im.message.apply_overtime.json
drain
echo "-- the approver approves it in Feishu, which sends approval_instance APPROVED:"
for event in $(.venv/bin/python infra/scripts/sim_approve.py "$FEISHU_BASE_URL" target/demo/approved); do
  "$bin/leave-sync" send-event --url "http://127.0.0.1:$dev_port/webhook/event" "$event"
done
drain
echo "   the leave is synced like any leave, the overtime written to attendance as overtime (no"
echo "   time-off event), and each reply card now says so (see \"Chat bot\" below)"

bold "==> 李娜 cancels her half-day with a leave-cancellation form (销假), approved"
send leave_approval.cancellation.json
send leave_approvalV2.cancellation.json
drain

bold "==> 张伟's approval is revoked (leave_approval_revert), and Feishu redelivers the revoke"
send leave_approval_revert.json
send leave_approval_revert.json
drain

bold "==> Feishu gave up on two events: 赵磊's approval and the revoke of 王芳's leave never arrived"
echo "   (an ingress outage longer than Feishu's ~7 h of retries). The reconciler compares the"
echo "   approvals in Feishu with the ledger and queues the difference (leave-sync reconcile):"
.venv/bin/python infra/scripts/sim_instances.py "$FEISHU_BASE_URL"
RUST_LOG=warn "$bin/leave-sync" reconcile | sed 's/^/   /'
drain
echo "-- a second run finds nothing left to do:"
RUST_LOG=warn "$bin/leave-sync" reconcile | grep "instances seen" | sed 's/^/   /'

bold "==> Who's out: the team chat's card for Monday 2026-12-14 (leave-sync digest), twice"
echo "   (the scheduled function posts it on weekdays; a second run posts nothing new)"
RUST_LOG=warn "$bin/leave-sync" digest --date 2026-12-14 | sed 's/^/   /'
RUST_LOG=warn "$bin/leave-sync" digest --date 2026-12-14 | sed 's/^/   /'

bold "==> What Feishu received (the simulator's view)"
"$bin/feishu-sim" show --url "$FEISHU_BASE_URL"

bold "==> What the ledger recorded (leave-sync ledger)"
"$bin/leave-sync" ledger

bold "==> Queues (leave-sync status)"
"$bin/leave-sync" status
echo
echo "Each leave was written once despite the twin and redelivered events; 李娜's cancellation"
echo "was recorded on her leave and she was told (an operator adjusts attendance: README,"
echo "\"Leave cancellations\"); the revoke undid 张伟's attendance record and time-off events and"
echo "told him; the reconciler synced 赵磊's lost approval and undid 王芳's lost revoke; 李娜's"
echo "leave and 王芳's overtime applied in chat were created once, approved, synced, and their"
echo "cards updated. The demo"
echo "now stops what it started; to keep a stack running and explore, see \"Run the pieces"
echo "yourself\" in the README."
