//! `leave-sync redrive`: moves messages from the dead-letter queue back to the queue,
//! marked so that a permanently failed instance is tried again (after its cause is fixed).

use std::collections::HashSet;
use std::io::Write;

use shared::queue::{
    ATTR_EVENT_ID, ATTR_EVENT_TYPE, ATTR_FAILURE, ATTR_REDRIVE, ATTR_TIMEOFF_EXISTS, Queue,
    QueuedEvent, Received,
};

use crate::deployment::{CliError, Deployment};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// List what would move, and move nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Move at most this many messages.
    #[arg(long, default_value_t = 1000)]
    pub max: usize,
    /// Only the messages about this approval instance.
    #[arg(long, value_name = "INSTANCE_CODE")]
    pub instance: Option<String>,
    /// The employee's profile shows the leave badge of a time-off create whose outcome
    /// was unknown: complete the sync without creating another (use with --instance).
    #[arg(long, requires = "instance")]
    pub timeoff_exists: bool,
}

/// While a redrive reads the DLQ, the messages it has seen stay invisible this long, so
/// one pass never sees a message twice.
const HOLD_SECS: i32 = 60;

/// Returns the number of messages moved (or listed).
pub async fn run(
    deployment: &Deployment,
    args: &Args,
    out: &mut dyn Write,
) -> Result<usize, CliError> {
    let queue = deployment.queue(&deployment.queue_url().await?);
    let dlq = deployment.queue(&deployment.dead_letter_url(queue.url()).await?);
    let mut seen: HashSet<String> = HashSet::new();
    let mut held: Vec<String> = Vec::new();
    while seen.len() < args.max {
        let want = 10.min(args.max - seen.len()) as i32;
        let messages = dlq.receive(want, 1, Some(HOLD_SECS)).await?;
        if messages.is_empty() {
            break;
        }
        for m in messages {
            if seen.contains(&m.message_id) {
                continue;
            }
            if !is_about(&m, args.instance.as_deref()) {
                // Someone else's: visible again at once for the next pass or command.
                held.push(m.receipt_handle);
                continue;
            }
            seen.insert(m.message_id.clone());
            if args.dry_run {
                let _ = writeln!(out, "would move {}", describe(&m));
                held.push(m.receipt_handle);
            } else {
                move_back(&dlq, &queue, &m, args.timeoff_exists).await?;
                let _ = writeln!(out, "moved {}", describe(&m));
            }
        }
    }
    if !held.is_empty() {
        // Listed (dry run) or not ours (--instance): visible again at once.
        let handles: Vec<&str> = held.iter().map(String::as_str).collect();
        let _ = dlq.change_visibility(&handles, 0).await;
    }
    let _ = writeln!(
        out,
        "{} {} message(s) {} {}",
        if args.dry_run { "would move" } else { "moved" },
        seen.len(),
        if args.dry_run { "to" } else { "back to" },
        queue.url()
    );
    Ok(seen.len())
}

/// Sends one dead letter back, marked as redriven and without its failure reason, and
/// deletes it from the DLQ only once it is safely on the queue.
async fn move_back(
    dlq: &Queue,
    queue: &Queue,
    m: &Received,
    timeoff_exists: bool,
) -> Result<(), CliError> {
    let mut attrs = m.attributes.clone();
    attrs.remove(ATTR_FAILURE);
    attrs.insert(ATTR_REDRIVE.to_owned(), "true".to_owned());
    if timeoff_exists {
        attrs.insert(ATTR_TIMEOFF_EXISTS.to_owned(), "true".to_owned());
    }
    queue.send(m.body.clone(), attrs).await?;
    dlq.delete(&[m.receipt_handle.as_str()])
        .await
        .map_err(|e| CliError::Other(format!("moved, but cannot delete from the DLQ: {e}")))
}

/// Whether `m` is about `instance` (every message is, without a filter): the instance
/// code of the queued event.
fn is_about(m: &Received, instance: Option<&str>) -> bool {
    let Some(instance) = instance else {
        return true;
    };
    #[derive(serde::Deserialize)]
    struct Named {
        #[serde(default)]
        instance_code: String,
    }
    QueuedEvent::decode(&m.body)
        .ok()
        .and_then(|e| serde_json::from_str::<Named>(e.event.get()).ok())
        .is_some_and(|n| n.instance_code == instance)
}

/// "leave_approval ev-1 — why it failed"
fn describe(m: &Received) -> String {
    let attr = |k: &str| m.attributes.get(k).map(String::as_str);
    format!(
        "{} {} — {}",
        attr(ATTR_EVENT_TYPE).unwrap_or("?"),
        attr(ATTR_EVENT_ID).unwrap_or("?"),
        attr(ATTR_FAILURE).unwrap_or("failed after the maximum number of attempts"),
    )
}
