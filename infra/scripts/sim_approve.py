#!/usr/bin/env python3
"""The approver approves in Feishu: every pending instance the app created (the chat bot's)
becomes APPROVED in the simulator, and the approval_instance event Feishu would push for
it is written to OUT_DIR/<instance code>.json, for `leave-sync send-event` to deliver.

Usage: sim_approve.py SIMULATOR_URL OUT_DIR    (prints the files written, one a line)
"""

import json
import pathlib
import sys
import time
import urllib.request


def main():
    url, out = sys.argv[1].rstrip("/"), pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    with urllib.request.urlopen(f"{url}/_sim/state") as r:
        state = json.load(r)
    state = state.get("data", state)
    now_ms = str(int(time.time() * 1000))
    for code, inst in state["instances"].items():
        if inst.get("status") != "PENDING" or not inst.get("uuid"):
            continue
        inst.update(status="APPROVED", end_time=now_ms)
        req = urllib.request.Request(f"{url}/_sim/instances", data=json.dumps(inst).encode(),
                                     headers={"content-type": "application/json"}, method="POST")
        urllib.request.urlopen(req).read()
        event = {
            "ts": f"{int(now_ms) / 1000:.2f}", "uuid": f"approve-{code}", "token": "demo-verification-token",
            "type": "event_callback",
            "event": {
                "app_id": "cli_demo0000000001", "tenant_key": "demo-tenant", "type": "approval_instance",
                "approval_code": inst["approval_code"], "instance_code": code, "status": "APPROVED",
                "operate_time": now_ms, "instance_operate_time": now_ms, "uuid": inst["uuid"],
            },
        }
        path = out / f"{code}.json"
        path.write_text(json.dumps(event, ensure_ascii=False, indent=2))
        print(path)


if __name__ == "__main__":
    main()
