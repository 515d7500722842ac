//! `leave-sync ledger [INSTANCE_CODE...]`: what the service did for each approval.

use std::io::Write;

use shared::ledger::{Ledger, Record, State};
use shared::sync::cards::{describe_period, leave_name};

use crate::deployment::{CliError, Deployment};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Only these approval instances.
    pub instance_codes: Vec<String>,
    /// At most this many items.
    #[arg(long, default_value_t = 200)]
    pub limit: usize,
    /// Only instances an operator must look at: failed ones, and those with a note (a
    /// time-off create whose outcome is unknown, a time-off event left behind).
    #[arg(long)]
    pub attention: bool,
}

pub async fn records(deployment: &Deployment, args: &Args) -> Result<Vec<Record>, CliError> {
    let ledger = Ledger::new(deployment.dynamodb(), deployment.table_name()?);
    let mut records: Vec<Record> = ledger
        .scan(usize::MAX)
        .await?
        .into_iter()
        .filter(|r| {
            args.instance_codes.is_empty() || args.instance_codes.contains(&r.instance_code)
        })
        .filter(|r| !args.attention || needs_attention(r))
        .collect();
    records.sort_by(|a, b| a.updated_at.cmp(&b.updated_at));
    records.truncate(args.limit);
    Ok(records)
}

pub async fn run(
    deployment: &Deployment,
    args: &Args,
    out: &mut dyn Write,
) -> Result<usize, CliError> {
    let records = records(deployment, args).await?;
    for r in &records {
        let _ = writeln!(out, "{}", describe(r));
    }
    if records.is_empty() {
        let _ = writeln!(
            out,
            "no ledger items{}{}",
            if args.attention {
                " that need attention"
            } else {
                ""
            },
            if args.instance_codes.is_empty() {
                ""
            } else {
                " for those instances"
            }
        );
    }
    Ok(records.len())
}

/// Failed, carrying a note for an operator, or a leave still in force that a cancellation
/// form (销假) names: its attendance may need correcting by hand.
pub fn needs_attention(r: &Record) -> bool {
    let cancelled_in_force = !r.cancellations.is_empty() && r.state != State::Revoked;
    r.state == State::Failed || r.attention.is_some() || cancelled_in_force
}

/// A few readable lines for one instance.
pub fn describe(r: &Record) -> String {
    let mut s = format!("{}  {}", r.instance_code, r.state.as_str().to_uppercase());
    if let Some(leave) = &r.leave {
        let what = if leave.is_overtime() {
            "overtime"
        } else {
            "leave"
        };
        s.push_str(&format!(
            "\n  {what:<11} {} for {} ({})",
            leave_name(leave),
            leave.user_id,
            describe_period(leave)
        ));
    }
    for line in steps(r).into_iter().chain(notes(r)) {
        s.push_str(&line);
    }
    s.push_str(&format!("\n  events      {}", r.events.join(", ")));
    s
}

/// What was written (and undone).
fn steps(r: &Record) -> Vec<String> {
    let step = |name: &str, value: &str, undone: bool| {
        let undone = if undone { "  (undone)" } else { "" };
        format!("\n  {name:<11} {value}{undone}")
    };
    let mut lines = Vec::new();
    if let Some(id) = &r.approval_id {
        lines.push(step("attendance", id, r.attendance_revoked));
    }
    for id in &r.timeoff_event_ids {
        lines.push(step("time-off", id, r.timeoff_deleted_ids.contains(id)));
    }
    for _ in 0..r.timeoff_unrecorded {
        lines.push(step(
            "time-off",
            "exists, id unknown (confirmed by an operator)",
            false,
        ));
    }
    if let Some(at) = &r.timeoff_attempted_at {
        lines.push(step(
            "time-off",
            &format!("attempted at {at}, outcome unknown"),
            false,
        ));
    }
    for (name, id) in [
        ("card", &r.message_id),
        ("withdrawal", &r.revoke_message_id),
        ("cancel card", &r.cancellation_message_id),
    ] {
        if let Some(id) = id {
            lines.push(step(name, id, false));
        }
    }
    lines
}

/// Why something is not done, and what an operator must know.
fn notes(r: &Record) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(e) = &r.message_error {
        lines.push(format!("\n  card error  {e}"));
    }
    if let Some(f) = &r.failure {
        let step = r.failed_step.as_deref().unwrap_or("?");
        lines.push(format!("\n  failed at   {step}: {f}"));
    }
    for note in &r.cancellations {
        lines.push(format!(
            "\n  cancelled   by {note} (销假; not applied by itself)"
        ));
    }
    if let Some(note) = &r.attention {
        lines.push(format!("\n  attention   {note}"));
    }
    if let Some(e) = &r.last_error {
        lines.push(format!("\n  last error  {e}"));
    }
    lines
}
