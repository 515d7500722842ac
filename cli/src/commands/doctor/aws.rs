//! The AWS resources: reachable, and shaped as template.yaml declares them.

use shared::ledger::{Ledger, PARTITION_KEY, TTL_ATTRIBUTE};
use shared::queue::{Queue, settings};

use super::Report;
use crate::deployment::Deployment;

/// Returns whether AWS answers at all (the other AWS checks need it).
pub(super) async fn check_reachable(deployment: &Deployment, r: &mut Report<'_>) -> bool {
    match deployment.check_reachable().await {
        Ok(()) => true,
        Err(e) => {
            r.fail(
                "AWS",
                &e.to_string(),
                "start the local stack or configure AWS credentials and AWS_REGION",
            );
            false
        }
    }
}

pub(super) async fn check_table(deployment: &Deployment, r: &mut Report<'_>) {
    let table = match deployment.table_name() {
        Ok(t) => t,
        Err(e) => return r.fail("table", &e.to_string(), "set TABLE_NAME"),
    };
    let what = format!("table {table}");
    match Ledger::layout(&deployment.dynamodb(), &table).await {
        Ok(Some(layout)) if layout.partition_key.as_deref() != Some(PARTITION_KEY) => r.fail(
            &what,
            "its partition key is not `pk`",
            "deploy the table from template.yaml",
        ),
        Ok(Some(layout)) if layout.ttl_attribute.as_deref() != Some(TTL_ATTRIBUTE) => r.fail(
            &what,
            "TTL is not enabled on `expires_at`",
            "enable TTL on expires_at (template.yaml does)",
        ),
        Ok(Some(layout)) if !layout.state_index => r.fail(
            &what,
            "it has no `by_state` index: the reconciler cannot find synced instances",
            "deploy the table from the current template.yaml (the index is added in place)",
        ),
        Ok(Some(layout)) if !layout.user_index => r.fail(
            &what,
            "it has no `by_user` index: the chat bot cannot answer 我的假期 / my leave",
            "deploy the table from the current template.yaml (the index is added in place)",
        ),
        Ok(Some(layout)) if !layout.month_index => r.fail(
            &what,
            "it has no `by_month` index: the team view cannot tell who is out",
            "deploy the table from the current template.yaml (the index is added in place)",
        ),
        Ok(Some(_)) => r.pass(
            &what,
            "key pk, TTL on expires_at, by_state, by_user and by_month indexes",
        ),
        Ok(None) => r.fail(
            &what,
            "the table does not exist",
            "check TABLE_NAME, or deploy the table from template.yaml",
        ),
        Err(e) => r.fail(
            &what,
            &e.to_string(),
            "check TABLE_NAME and the credentials' dynamodb:DescribeTable permission",
        ),
    }
}

pub(super) async fn check_queues(deployment: &Deployment, r: &mut Report<'_>) {
    let url = match deployment.queue_url().await {
        Ok(q) => q,
        Err(e) => return r.fail("queue", &e.to_string(), "set QUEUE_URL"),
    };
    let queue = Queue::new(deployment.sqs().clone(), &url);
    let shape = async {
        Ok((
            queue.visibility_timeout().await?,
            queue.dead_letter_target().await?,
        ))
    };
    match shape.await {
        Ok((_, None)) => r.fail(
            "queue",
            "no redrive policy: failed events would be retried until they expire",
            "deploy the queue from template.yaml (maxReceiveCount 5 to a DLQ)",
        ),
        Ok((visibility, Some(_))) if visibility < settings::VISIBILITY_TIMEOUT_SECS => r.fail(
            "queue",
            &format!("visibility timeout {visibility} s is under 6 × the processor timeout"),
            "set VisibilityTimeout to at least 180 s",
        ),
        Ok((visibility, Some(_))) => r.pass(
            "queue",
            &format!("{url} (visibility {visibility} s, with a dead-letter queue)"),
        ),
        Err::<_, shared::queue::QueueError>(e) => {
            return r.fail(
                "queue",
                &e.to_string(),
                "check QUEUE_URL and the credentials' sqs:GetQueueAttributes permission",
            );
        }
    }
    match deployment.dead_letter_url(&url).await {
        Ok(dlq) => r.pass("dead-letter queue", &dlq),
        Err(e) => r.fail(
            "dead-letter queue",
            &e.to_string(),
            "deploy the DLQ from template.yaml",
        ),
    }
}
