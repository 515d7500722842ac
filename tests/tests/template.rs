//! template.yaml and `leave-sync dev` agree: the queues and the table dev creates on moto
//! have the settings the template declares, and the code's constants match it.

use std::process::Command;

use aws_sdk_sqs::types::QueueAttributeName;
use leave_sync_tests::moto;
use serde_json::Value;
use shared::queue::settings;

fn template() -> Value {
    let root = moto::workspace_root();
    let out = Command::new(root.join(".venv/bin/python"))
        .arg(root.join("tests/support/template_settings.py"))
        .arg(root.join("template.yaml"))
        .output()
        .expect("run tests/support/template_settings.py with .venv's Python (make venv)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn constants_match_the_template() {
    let t = template();
    assert_eq!(t["processor_timeout"], settings::PROCESSOR_TIMEOUT_SECS);
    assert_eq!(
        t["queue"]["visibility_timeout"],
        settings::VISIBILITY_TIMEOUT_SECS
    );
    // AWS: the visibility timeout at least 6 × the function timeout.
    const { assert!(settings::VISIBILITY_TIMEOUT_SECS >= 6 * settings::PROCESSOR_TIMEOUT_SECS) };
    assert_eq!(t["queue"]["max_receive_count"], settings::MAX_RECEIVE_COUNT);
    const { assert!(settings::MAX_RECEIVE_COUNT >= 5) };
    assert_eq!(t["queue"]["retention"], settings::RETENTION_SECS);
    assert_eq!(t["dlq"]["retention"], settings::DLQ_RETENTION_SECS);
    assert_eq!(
        t["table"]["key"],
        serde_json::json!([[shared::ledger::PARTITION_KEY, "HASH"]])
    );
    assert_eq!(t["table"]["ttl"], shared::ledger::TTL_ATTRIBUTE);
    assert_eq!(
        t["batch"]["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    assert!(t["batch"]["BatchSize"].as_u64().unwrap() <= 10);
}

/// The reconciler may do what it does and nothing more: read the ledger and its index,
/// keep its checkpoints, and feed the queue.
#[test]
fn the_reconciler_role_is_least_privilege() {
    let t = template();
    assert_eq!(
        t["reconciler"]["actions"],
        serde_json::json!([
            "dynamodb:BatchGetItem",
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "sqs:SendMessage",
            "ssm:GetParameters"
        ])
    );
    assert_eq!(t["reconciler"]["timeout"], 900, "Lambda's maximum");
    assert_eq!(
        shared::ledger::reconcile::STATE_INDEX,
        t["table"]["indexes"][0]["name"]
    );
}

#[test]
fn every_alert_the_code_logs_is_counted_and_alarmed() {
    use shared::telemetry::alert;
    let t = template();
    let filters: Vec<(String, String)> = t["log_alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f[0].as_str().unwrap().to_owned(),
                f[1].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    for (code, log_group) in [
        (alert::SIGNED_REQUEST_REJECTED, "IngressLogGroup"),
        (alert::RECORD_PANICKED, "ProcessorLogGroup"),
        (alert::TIMEOFF_OUTCOME_UNKNOWN, "ProcessorLogGroup"),
        (alert::TIMEOFF_LEFT_BEHIND, "ProcessorLogGroup"),
    ] {
        let pattern = format!("{{ $.alert = \"{code}\" }}");
        assert!(
            filters
                .iter()
                .any(|(p, g)| *p == pattern && g.contains(log_group)),
            "no metric filter {pattern} on {log_group}: {filters:?}"
        );
    }
    assert_eq!(
        t["log_alarms"].as_array().unwrap().len(),
        filters.len(),
        "one alarm per log metric"
    );
}

#[tokio::test]
async fn dev_creates_queues_and_table_as_the_template_declares() {
    let t = template();
    let aws = moto::aws().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let (queue, dlq) = shared::queue::ensure_queues(&sqs, &moto::unique("tmpl"))
        .await
        .unwrap();
    let attrs = |url: String| {
        let sqs = sqs.clone();
        async move {
            sqs.get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::All)
                .send()
                .await
                .unwrap()
                .attributes
                .unwrap()
        }
    };
    let q = attrs(queue).await;
    let number = |a: &std::collections::HashMap<QueueAttributeName, String>, k| {
        a[&k].parse::<u64>().unwrap()
    };
    assert_eq!(
        number(&q, QueueAttributeName::VisibilityTimeout),
        t["queue"]["visibility_timeout"].as_u64().unwrap()
    );
    assert_eq!(
        number(&q, QueueAttributeName::MessageRetentionPeriod),
        t["queue"]["retention"].as_u64().unwrap()
    );
    let redrive: Value = serde_json::from_str(&q[&QueueAttributeName::RedrivePolicy]).unwrap();
    let max_receive = redrive["maxReceiveCount"]
        .as_u64()
        .or_else(|| redrive["maxReceiveCount"].as_str()?.parse().ok());
    assert_eq!(max_receive, t["queue"]["max_receive_count"].as_u64());
    let d = attrs(dlq).await;
    assert_eq!(
        number(&d, QueueAttributeName::MessageRetentionPeriod),
        t["dlq"]["retention"].as_u64().unwrap()
    );
    assert!(redrive["deadLetterTargetArn"].as_str().unwrap() == d[&QueueAttributeName::QueueArn]);

    let ddb = aws_sdk_dynamodb::Client::new(&aws);
    let table = moto::unique("tmpl-ledger");
    shared::ledger::Ledger::create_table(&ddb, &table)
        .await
        .unwrap();
    let desc = ddb
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    let desc = desc.table().unwrap();
    let key: Vec<Value> = desc
        .key_schema()
        .iter()
        .map(|k| serde_json::json!([k.attribute_name(), k.key_type().as_str()]))
        .collect();
    assert_eq!(Value::Array(key), t["table"]["key"]);
    let attrs: Vec<Value> = desc
        .attribute_definitions()
        .iter()
        .map(|a| serde_json::json!([a.attribute_name(), a.attribute_type().as_str()]))
        .collect();
    assert_eq!(Value::Array(attrs), t["table"]["attributes"]);
    assert_eq!(
        desc.billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map(|b| b.as_str()),
        t["table"]["billing"].as_str()
    );
    // The reconciler's index, as the template declares it.
    let indexes: Vec<Value> = desc
        .global_secondary_indexes()
        .iter()
        .map(|i| {
            let projection = i.projection().unwrap();
            let mut attributes = projection.non_key_attributes().to_vec();
            attributes.sort();
            serde_json::json!({
                "name": i.index_name(),
                "key": i.key_schema().iter()
                    .map(|k| serde_json::json!([k.attribute_name(), k.key_type().as_str()]))
                    .collect::<Vec<_>>(),
                "projection": projection.projection_type().map(|p| p.as_str()),
                "attributes": attributes,
            })
        })
        .collect();
    assert_eq!(Value::Array(indexes), t["table"]["indexes"]);
    let ttl = ddb
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    assert_eq!(
        ttl.time_to_live_description()
            .and_then(|d| d.attribute_name()),
        t["table"]["ttl"].as_str()
    );
}

#[tokio::test]
async fn the_processor_role_grants_every_dynamodb_request_it_makes() {
    use leave_sync_tests::events::{CUSTOM_FORM, LeaveSpec, chat_message};
    use leave_sync_tests::harness::{StackOptions, TestStack};
    let t = template();
    let granted: std::collections::BTreeSet<(String, String)> =
        serde_json::from_value(t["dynamodb_grants"]["ProcessorFunction"].clone()).unwrap();
    let stack = TestStack::with(StackOptions {
        chat_leave_code: Some(CUSTOM_FORM.into()),
        ..StackOptions::default()
    })
    .await;
    // Every workflow: a sync, its revoke, and each thing the bot does.
    let leave = LeaveSpec::day("INST-IAM", "zhangwei");
    stack.approve(&leave).await.assert_done();
    stack.revoke(&leave).await.assert_done();
    for (id, text) in [
        ("om_iam1", "请假 2026-12-21 家里有事"),
        ("om_iam2", "撤回"),
        ("om_iam3", "我的假期"),
        ("om_iam4", "谁请假 2026-12-01"),
    ] {
        let message = chat_message(id, "lina", text, "p2p", false);
        stack.deliver(&message).await.assert_done();
    }
    let needed = stack.dynamo.grants_needed();
    let missing: Vec<_> = needed.difference(&granted).collect();
    assert!(
        missing.is_empty(),
        "template.yaml's processor role lacks {missing:?} (it has {granted:?})"
    );
}
