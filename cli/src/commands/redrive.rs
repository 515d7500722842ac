//! `leave-sync redrive`: moves messages from the dead-letter queue back to the queue,
//! marked so that a permanently failed instance is tried again (after its cause is fixed).
//!
//! A message parked for a time-off create whose outcome is unknown is moved only with the
//! operator's finding for its instance (`--timeoff-missing` or `--timeoff-exists`), which
//! is first recorded in the ledger for the attempt they looked at: the processor never
//! creates a second time-off event on a redrive alone.

use std::collections::HashSet;
use std::io::Write;

use serde::Deserialize;
use shared::event::{InstanceRef, UNKNOWN_TENANT};
use shared::ledger::{Ledger, TimeoffResolution};
use shared::queue::{
    ATTR_EVENT_ID, ATTR_EVENT_TYPE, ATTR_FAILURE, ATTR_REDRIVE, Queue, QueuedEvent, Received,
};
use shared::telemetry::alert;

use crate::deployment::{CliError, Deployment};

#[derive(Debug, Clone, Default, clap::Args)]
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
    /// For an unknown time-off outcome: the employee's calendar shows no entry for the
    /// leave, so the redriven event creates one.
    #[arg(long, requires = "instance", conflicts_with = "timeoff_exists")]
    pub timeoff_missing: bool,
    /// For an unknown time-off outcome: the entry exists, so none is created again.
    #[arg(long, requires = "instance")]
    pub timeoff_exists: bool,
    /// With --timeoff-exists: the event's id (from a parked reason or a log line), so
    /// that a revoke can delete it.
    #[arg(long, requires = "timeoff_exists", value_name = "TIMEOFF_EVENT_ID")]
    pub timeoff_id: Option<String>,
}

impl Args {
    fn resolution(&self) -> Option<TimeoffResolution> {
        if self.timeoff_missing {
            Some(TimeoffResolution::Missing)
        } else if self.timeoff_exists {
            Some(TimeoffResolution::Exists {
                timeoff_event_id: self.timeoff_id.clone(),
            })
        } else {
            None
        }
    }
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
    let (messages, mut held) = collect(&dlq, args).await?;
    let resolution = args.resolution();
    let decided = match (&resolution, messages.first()) {
        (Some(r), Some(first)) if !args.dry_run => {
            resolve(deployment, first, r).await?;
            true
        }
        _ => false,
    };
    let mut moved = 0;
    for m in &messages {
        let blocked = awaits_decision(m) && resolution.is_none();
        if blocked {
            let _ = writeln!(out, "left {} (decide first, see below)", describe(m));
        } else if args.dry_run {
            let _ = writeln!(out, "would move {}", describe(m));
        } else {
            move_back(&dlq, &queue, m).await?;
            let _ = writeln!(out, "moved {}", describe(m));
            moved += 1;
            continue;
        }
        held.push(m.receipt_handle.clone());
    }
    release(&dlq, &held).await;
    summarise(out, args, &messages, moved, decided, queue.url());
    Ok(if args.dry_run { messages.len() } else { moved })
}

/// Receives up to `args.max` dead letters about `args.instance` (or all). The others seen
/// on the way are returned as receipt handles to make visible again.
async fn collect(dlq: &Queue, args: &Args) -> Result<(Vec<Received>, Vec<String>), CliError> {
    let (mut ours, mut others) = (Vec::new(), Vec::new());
    let mut seen: HashSet<String> = HashSet::new();
    while ours.len() < args.max {
        let want = 10.min(args.max - ours.len()) as i32;
        let messages = dlq.receive(want, 1, Some(HOLD_SECS)).await?;
        if messages.is_empty() {
            break;
        }
        for m in messages {
            if !seen.insert(m.message_id.clone()) {
                continue;
            }
            match args.instance.as_deref() {
                Some(code) if instance_of(&m).is_none_or(|i| i.instance_code != code) => {
                    others.push(m.receipt_handle);
                }
                _ => ours.push(m),
            }
        }
    }
    Ok((ours, others))
}

/// Records the operator's finding in the ledger, for the attempt whose marker the ledger
/// shows now (refused if a newer attempt was made, or the instance is not parked there).
async fn resolve(
    deployment: &Deployment,
    message: &Received,
    resolution: &TimeoffResolution,
) -> Result<(), CliError> {
    let instance = instance_of(message)
        .ok_or_else(|| CliError::Other("the dead letter names no approval instance".into()))?;
    let ledger = Ledger::new(deployment.dynamodb(), deployment.table_name()?);
    let nothing = || shared::ledger::LedgerError::NothingToResolve {
        instance_code: instance.instance_code.clone(),
    };
    let record = ledger.get(&instance).await?.ok_or_else(nothing)?;
    let seen = record.timeoff_attempted_at.ok_or_else(nothing)?;
    ledger.resolve_timeoff(&instance, &seen, resolution).await?;
    Ok(())
}

/// Parked because a time-off create's outcome is unknown: moved only with a decision.
fn awaits_decision(m: &Received) -> bool {
    m.attributes
        .get(ATTR_FAILURE)
        .is_some_and(|r| r.contains(alert::TIMEOFF_OUTCOME_UNKNOWN))
}

/// The approval instance a queued event is about.
fn instance_of(m: &Received) -> Option<InstanceRef> {
    #[derive(Deserialize)]
    struct Named {
        #[serde(default)]
        instance_code: String,
        #[serde(default)]
        approval_code: String,
        #[serde(default)]
        tenant_key: Option<String>,
    }
    let event = QueuedEvent::decode(&m.body).ok()?;
    let named: Named = serde_json::from_str(event.event.get()).ok()?;
    (!named.instance_code.is_empty()).then(|| InstanceRef {
        tenant_key: named
            .tenant_key
            .or(event.tenant_key)
            .unwrap_or_else(|| UNKNOWN_TENANT.to_owned()),
        approval_code: named.approval_code,
        instance_code: named.instance_code,
    })
}

/// Sends one dead letter back, marked as redriven and without its failure reason, and
/// deletes it from the DLQ only once it is safely on the queue.
async fn move_back(dlq: &Queue, queue: &Queue, m: &Received) -> Result<(), CliError> {
    let mut attrs = m.attributes.clone();
    attrs.remove(ATTR_FAILURE);
    attrs.insert(ATTR_REDRIVE.to_owned(), "true".to_owned());
    queue.send(m.body.clone(), attrs).await?;
    dlq.delete(&[m.receipt_handle.as_str()])
        .await
        .map_err(|e| CliError::Other(format!("moved, but cannot delete from the DLQ: {e}")))
}

/// Makes the messages not moved visible again at once.
async fn release(dlq: &Queue, handles: &[String]) {
    let handles: Vec<&str> = handles.iter().map(String::as_str).collect();
    let _ = dlq.change_visibility(&handles, 0).await;
}

fn summarise(
    out: &mut dyn Write,
    args: &Args,
    messages: &[Received],
    moved: usize,
    decided: bool,
    queue: &str,
) {
    if decided {
        let _ = writeln!(out, "recorded the time-off finding in the ledger");
    }
    if args.dry_run {
        let _ = writeln!(out, "would move {} message(s) to {queue}", messages.len());
    } else {
        let _ = writeln!(out, "moved {moved} message(s) back to {queue}");
    }
    let blocked = messages.iter().filter(|m| awaits_decision(m)).count();
    if blocked > 0 && args.resolution().is_none() {
        let _ = writeln!(
            out,
            "{blocked} message(s) wait for a decision on a time-off event whose creation had \
             an unknown outcome: ask the employee whether their Feishu calendar shows the \
             leave's entry, then run `leave-sync redrive --instance <code> --timeoff-missing` \
             or `--timeoff-exists` (`leave-sync ledger --attention` lists them)"
        );
    }
}

/// "leave_approval ev-1 — why it failed" (from the attributes, else from the body).
fn describe(m: &Received) -> String {
    let attr = |k: &str| m.attributes.get(k).cloned();
    let envelope = QueuedEvent::decode(&m.body).ok();
    let event_type =
        attr(ATTR_EVENT_TYPE).or_else(|| envelope.as_ref().map(|e| e.event_type.clone()));
    let event_id = attr(ATTR_EVENT_ID).or_else(|| envelope.as_ref().map(|e| e.event_id.clone()));
    format!(
        "{} {} — {}",
        event_type.as_deref().unwrap_or("?"),
        event_id.as_deref().unwrap_or("?"),
        attr(ATTR_FAILURE)
            .as_deref()
            .unwrap_or("failed after the maximum number of attempts"),
    )
}
