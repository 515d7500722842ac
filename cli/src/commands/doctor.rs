//! `leave-sync doctor`: checks the configuration, the credentials, the AWS resources and
//! every Feishu permission the product needs, one line each, with the fix for a failure.

use std::io::Write;

use aws_sdk_sqs::types::QueueAttributeName;
use shared::config::{FeishuAppConfig, IngressConfig, ProcessorConfig};
use shared::feishu::attendance::{ApprovalType, EmployeeType, STATUS_REVOKED, UserApprovalQuery};
use shared::feishu::im::{OutgoingMessage, ReceiveIdType};
use shared::feishu::{FeishuClient, FeishuError};
use shared::ledger::{PARTITION_KEY, TTL_ATTRIBUTE};
use shared::queue::settings;

use crate::stack::Stack;

struct Report<'a> {
    out: &'a mut dyn Write,
    failures: usize,
}

impl Report<'_> {
    fn pass(&mut self, what: &str, detail: &str) {
        let _ = writeln!(
            self.out,
            "✓ {what}{}",
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        );
    }

    fn fail(&mut self, what: &str, problem: &str, fix: &str) {
        self.failures += 1;
        let _ = writeln!(self.out, "✗ {what}: {problem}\n    fix: {fix}");
    }
}

/// Returns whether every check passed.
pub async fn run(stack: &mut Stack, out: &mut dyn Write) -> bool {
    let mut r = Report { out, failures: 0 };
    // On a local stack, check the resources `leave-sync dev` uses.
    if let Ok(url) = stack.queue_url().await {
        stack.set("QUEUE_URL", url);
    }
    if let Ok(table) = stack.table_name() {
        stack.set("TABLE_NAME", table);
    }

    match IngressConfig::load(&stack.env(), &stack.aws).await {
        Ok(c) => r.pass(
            "ingress settings",
            if c.webhook.encrypt_key.is_some() {
                "Encrypt Key set: signatures required"
            } else {
                "no Encrypt Key: only the Verification Token authenticates events"
            },
        ),
        Err(e) => r.fail(
            "ingress settings",
            &e.to_string(),
            "set the variable (see the README's configuration table)",
        ),
    }
    let processor = ProcessorConfig::load(&stack.env(), &stack.aws).await;
    match &processor {
        Ok(c) => r.pass(
            "processor settings",
            &format!(
                "tenant time zone {}",
                c.tenant_timezone.iana_name().unwrap_or("?")
            ),
        ),
        Err(e) => r.fail(
            "processor settings",
            &e.to_string(),
            "set the variable (see the README's configuration table)",
        ),
    }
    check_aws(stack, &mut r).await;

    match FeishuAppConfig::load(&stack.env(), &stack.aws).await {
        Ok(app) => check_feishu(&app, &mut r).await,
        Err(e) => r.fail(
            "Feishu app",
            &e.to_string(),
            "set FEISHU_APP_ID and FEISHU_APP_SECRET",
        ),
    }
    let _ = writeln!(
        r.out,
        "{}",
        if r.failures == 0 {
            "all checks passed".to_owned()
        } else {
            format!("{} check(s) failed", r.failures)
        }
    );
    r.failures == 0
}

async fn check_aws(stack: &Stack, r: &mut Report<'_>) {
    if let Err(e) = stack.check_reachable().await {
        r.fail(
            "AWS",
            &e.to_string(),
            "start the local stack or configure AWS credentials and AWS_REGION",
        );
        return;
    }
    match stack.table_name() {
        Ok(table) => {
            let ddb = stack.dynamodb();
            match ddb.describe_table().table_name(&table).send().await {
                Ok(d) => {
                    let key_ok = d
                        .table()
                        .map(|t| {
                            t.key_schema()
                                .iter()
                                .any(|k| k.attribute_name() == PARTITION_KEY)
                        })
                        .unwrap_or(false);
                    let ttl = ddb
                        .describe_time_to_live()
                        .table_name(&table)
                        .send()
                        .await
                        .ok()
                        .and_then(|t| {
                            t.time_to_live_description()
                                .and_then(|d| d.attribute_name().map(str::to_owned))
                        });
                    if !key_ok {
                        r.fail(
                            &format!("table {table}"),
                            "its partition key is not `pk`",
                            "deploy the table from template.yaml",
                        );
                    } else if ttl.as_deref() != Some(TTL_ATTRIBUTE) {
                        r.fail(
                            &format!("table {table}"),
                            "TTL is not enabled on `expires_at`",
                            "enable TTL on expires_at (template.yaml does)",
                        );
                    } else {
                        r.pass(&format!("table {table}"), "key pk, TTL on expires_at");
                    }
                }
                Err(e) => r.fail(
                    &format!("table {table}"),
                    &shared::aws::describe(&e),
                    "check TABLE_NAME and the credentials' dynamodb:DescribeTable permission",
                ),
            }
        }
        Err(e) => r.fail("table", &e.to_string(), "set TABLE_NAME"),
    }
    let queue = match stack.queue_url().await {
        Ok(q) => q,
        Err(e) => {
            r.fail("queue", &e.to_string(), "set QUEUE_URL");
            return;
        }
    };
    let attrs = stack
        .sqs()
        .get_queue_attributes()
        .queue_url(&queue)
        .attribute_names(QueueAttributeName::All)
        .send()
        .await;
    match attrs {
        Ok(a) => {
            let a = a.attributes.unwrap_or_default();
            let visibility: u32 = a
                .get(&QueueAttributeName::VisibilityTimeout)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            if !a.contains_key(&QueueAttributeName::RedrivePolicy) {
                r.fail(
                    "queue",
                    "no redrive policy: failed events would be retried until they expire",
                    "deploy the queue from template.yaml (maxReceiveCount 5 to a DLQ)",
                );
            } else if visibility < settings::VISIBILITY_TIMEOUT_SECS {
                r.fail(
                    "queue",
                    &format!(
                        "visibility timeout {visibility} s is under 6 × the processor timeout"
                    ),
                    "set VisibilityTimeout to at least 180 s",
                );
            } else {
                r.pass(
                    "queue",
                    &format!("{queue} (visibility {visibility} s, with a dead-letter queue)"),
                );
            }
            match stack.dead_letter_url(&queue).await {
                Ok(dlq) => r.pass("dead-letter queue", &dlq),
                Err(e) => r.fail(
                    "dead-letter queue",
                    &e.to_string(),
                    "deploy the DLQ from template.yaml",
                ),
            }
        }
        Err(e) => r.fail(
            "queue",
            &shared::aws::describe(&e),
            "check QUEUE_URL and the credentials' sqs:GetQueueAttributes permission",
        ),
    }
}

const SCOPE_MISSING: i64 = 99991672;

/// Calls each API with an id that cannot exist: Feishu checks the scope before the id, so
/// "not found" means the permission is there, and nothing is changed.
async fn check_feishu(app: &FeishuAppConfig, r: &mut Report<'_>) {
    let client = match FeishuClient::new(app) {
        Ok(c) => c,
        Err(e) => return r.fail("Feishu client", &e.to_string(), "report this as a bug"),
    };
    if let Err(e) = client.check_token().await {
        let fix = if e.is_retryable() {
            "check FEISHU_BASE_URL and the network path to Feishu"
        } else {
            "copy App ID and App Secret again from the developer console (Credentials & Basic Info)"
        };
        return r.fail("tenant_access_token", &e.to_string(), fix);
    }
    r.pass(
        "tenant_access_token",
        &format!("App ID {} accepted by {}", app.app_id, app.base_url),
    );

    probe(
        r,
        "attendance write (attendance:task)",
        "enable attendance:task, then publish a new app version",
        client
            .process_approval_info("0", ApprovalType::Leave, STATUS_REVOKED)
            .await
            .map(|_| ()),
    )
    .await;
    probe(
        r,
        "attendance read (attendance:task:readonly)",
        "enable attendance:task:readonly, then publish a new app version",
        client
            .query_user_approvals(
                EmployeeType::EmployeeId,
                &UserApprovalQuery {
                    user_ids: vec!["leave-sync-doctor".into()],
                    check_date_from: 20260101,
                    check_date_to: 20260102,
                    check_date_type: None,
                    status: None,
                },
            )
            .await
            .map(|_| ()),
    )
    .await;
    probe(
        r,
        "time-off events (calendar:timeoff)",
        "enable calendar:timeoff and the bot ability, then publish",
        client
            .delete_timeoff_event("timeoff:leave-sync-doctor-probe")
            .await,
    )
    .await;
    probe(
        r,
        "bot calendar (calendar:calendar:readonly, bot ability)",
        "enable calendar:calendar:readonly and the bot ability, then publish",
        client.primary_calendars().await.map(|_| ()),
    )
    .await;
    probe(
        r,
        "messages (im:message:send_as_bot)",
        "enable the bot ability and im:message:send_as_bot, then publish",
        client
            .send_message(
                ReceiveIdType::OpenId,
                &OutgoingMessage::text("ou_leave_sync_doctor_probe", "probe", None),
            )
            .await
            .map(|_| ()),
    )
    .await;
    probe(
        r,
        "approval instances (approval:approval)",
        "enable approval:approval, then publish a new app version",
        client
            .get_instance("leave-sync-doctor-probe")
            .await
            .map(|_| ()),
    )
    .await;
}

async fn probe(r: &mut Report<'_>, what: &str, fix: &str, result: Result<(), FeishuError>) {
    match result {
        Ok(()) => r.pass(what, "allowed"),
        Err(e) if e.code() == Some(SCOPE_MISSING) => r.fail(what, &e.to_string(), fix),
        Err(e) if e.code() == Some(230006) => r.fail(
            what,
            &e.to_string(),
            "enable the bot ability (Features > Bot) and publish",
        ),
        Err(
            e @ (FeishuError::Transport { .. }
            | FeishuError::Protocol { .. }
            | FeishuError::OutOfTime { .. }),
        ) => r.fail(
            what,
            &e.to_string(),
            "check FEISHU_BASE_URL and the network path to Feishu",
        ),
        // Any other refusal is about the probe's made-up id: the permission is there.
        Err(_) => r.pass(what, "allowed"),
    }
}
