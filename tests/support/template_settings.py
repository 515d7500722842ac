"""Prints the queue, table and timeout settings declared in template.yaml as JSON.

Read with cfn-lint's CloudFormation YAML loader, which understands !Ref, !GetAtt and the
other short-form tags. tests/tests/template.rs compares the result with what
`leave-sync dev` creates and with shared::queue::settings.
"""

import json
import sys

from cfnlint.decode import cfn_yaml

template = cfn_yaml.load(sys.argv[1])


def resource(r):
    """`table` for the ledger table's ARN, `index/<name>` for one of its indexes."""
    text = json.dumps(r)
    if "index/" in text:
        return "index/" + text.split("index/", 1)[1].split('"', 1)[0]
    return "table" if "LedgerTable" in text else text


res = template["Resources"]
queue = res["EventQueue"]["Properties"]
dlq = res["DeadLetterQueue"]["Properties"]
table = res["LedgerTable"]["Properties"]
print(json.dumps({
    "processor_timeout": res["ProcessorFunction"]["Properties"]["Timeout"],
    "queue": {
        "visibility_timeout": queue["VisibilityTimeout"],
        "retention": queue["MessageRetentionPeriod"],
        "max_receive_count": queue["RedrivePolicy"]["maxReceiveCount"],
        "sse": queue["SqsManagedSseEnabled"],
    },
    "dlq": {"retention": dlq["MessageRetentionPeriod"], "sse": dlq["SqsManagedSseEnabled"]},
    "table": {
        "key": [[k["AttributeName"], k["KeyType"]] for k in table["KeySchema"]],
        "attributes": [[a["AttributeName"], a["AttributeType"]] for a in table["AttributeDefinitions"]],
        "ttl": table["TimeToLiveSpecification"]["AttributeName"],
        "billing": table["BillingMode"],
        "indexes": [
            {
                "name": i["IndexName"],
                "key": [[k["AttributeName"], k["KeyType"]] for k in i["KeySchema"]],
                "projection": i["Projection"]["ProjectionType"],
                "attributes": sorted(i["Projection"].get("NonKeyAttributes", [])),
            }
            for i in table.get("GlobalSecondaryIndexes", [])
        ],
    },
    "reconciler": {
        "timeout": res["ReconcilerFunction"]["Properties"]["Timeout"],
        "actions": sorted(
            a
            for st in res["ReconcilerFunction"]["Properties"]["Policies"][0]["Statement"]
            if isinstance(st, dict) and "Action" in st
            for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
        ),
    },
    # Each function's DynamoDB grants: [action, "table" | "index/<name>"].
    "dynamodb_grants": {
        name: sorted(
            [a, resource(r)]
            for st in res[name]["Properties"]["Policies"][0]["Statement"]
            if isinstance(st, dict) and "Action" in st
            for a in (st["Action"] if isinstance(st["Action"], list) else [st["Action"]])
            if a.startswith("dynamodb:")
            for r in (st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]])
        )
        for name in ["ProcessorFunction", "ReconcilerFunction", "DigestFunction"]
    },
    "batch": res["ProcessorFunction"]["Properties"]["Events"]["Queue"]["Properties"],
    # Metric filters on the functions' log groups: the alert codes they count.
    "log_alerts": sorted(
        [r["Properties"]["FilterPattern"], str(r["Properties"]["LogGroupName"])]
        for r in res.values()
        if r["Type"] == "AWS::Logs::MetricFilter"
    ),
    # Alarms on those metrics, by metric name.
    "log_alarms": sorted(
        r["Properties"]["MetricName"]
        for r in res.values()
        if r["Type"] == "AWS::CloudWatch::Alarm"
        and str(r["Properties"].get("Namespace", "")).find("FeishuLeaveSync") >= 0
    ),
}, default=str))
