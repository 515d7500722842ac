#!/usr/bin/env python3
"""Puts the demo's approval instances into the Feishu simulator, as Feishu holds them.

The reconciler part of `make demo` needs instances whose events Feishu gave up on: 赵磊's
annual leave approved yesterday (its events never arrived) and 王芳's sick leave, revoked
yesterday (its leave_approval_revert never arrived); and 李娜's leave as it stands. Times
are relative to now, so the reconciler's windows find them.

Usage: sim_instances.py SIMULATOR_URL
"""

import json
import sys
import time
import urllib.request

LEAVE_FORM = "7C468A54-8745-2245-9675-08654A59C265"
HOUR_MS = 3_600_000


def instance(code, user, status, created_ms, group, reverted=False):
    form = [{"id": "widgetLeaveGroupV2", "name": "请假", "type": "leaveGroupV2", "value": group}]
    return {
        "approval_name": "请假", "approval_code": LEAVE_FORM, "instance_code": code,
        "start_time": str(created_ms), "end_time": str(created_ms + HOUR_MS),
        "user_id": f"u_{user}", "open_id": f"ou_{user}", "department_id": "od-demo",
        "serial_number": code[:8], "status": status, "reverted": reverted, "uuid": "",
        "form": json.dumps(form, ensure_ascii=False), "task_list": [], "comment_list": [], "timeline": [],
    }


def main():
    url = sys.argv[1].rstrip("/") + "/_sim/instances"
    now = int(time.time() * 1000)
    day_ago = now - 26 * HOUR_MS
    instances = [
        # Never pushed: two days of annual leave, the end naming the last day.
        instance("D1E2F3A4-B5C6-4D7E-8F90-A1B2C3D4E5F6", "zhaolei", "APPROVED", day_ago,
                 {"name": "年假", "start": "2026-12-21T00:00:00+08:00", "end": "2026-12-22T00:00:00+08:00",
                  "interval": 2.0, "unit": "DAY", "reason": "Year-end trip"}),
        # Synced, then revoked in Feishu: the detail shows CANCELED with reverted: true.
        instance("0B7E6C1A-2F3D-4E5A-9B8C-7D6E5F4A3B2C", "wangfang", "CANCELED", day_ago,
                 {"name": "病假", "start": "2026-12-10T14:00:00+08:00", "end": "2026-12-10T17:00:00+08:00",
                  "interval": 0.125, "unit": "HOUR", "reason": "Dentist"}, reverted=True),
        # Synced and still approved.
        instance("F3A1B2C4-5D6E-4F70-8192-A3B4C5D6E7F8", "lina", "APPROVED", day_ago,
                 {"name": "事假", "start": "2026-12-07T12:00:00+08:00", "end": "2026-12-07T12:00:00+08:00",
                  "interval": 0.5, "unit": "DAY", "reason": "Moving house"}),
    ]
    for i in instances:
        req = urllib.request.Request(url, data=json.dumps(i).encode(), headers={"content-type": "application/json"})
        urllib.request.urlopen(req).read()


if __name__ == "__main__":
    main()
