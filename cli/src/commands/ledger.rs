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

/// Failed, or carrying a note for an operator.
pub fn needs_attention(r: &Record) -> bool {
    r.state == State::Failed || r.attention.is_some()
}

/// A few readable lines for one instance.
pub fn describe(r: &Record) -> String {
    let mut s = format!("{}  {}", r.instance_code, r.state.as_str().to_uppercase());
    if let Some(leave) = &r.leave {
        s.push_str(&format!(
            "\n  leave       {} for {} ({})",
            leave_name(leave),
            leave.user_id,
            describe_period(leave)
        ));
    }
    let step = |name: &str, value: &Option<String>, undone: bool| {
        value.as_ref().map(|v| {
            format!(
                "\n  {name:<11} {v}{}",
                if undone { "  (undone)" } else { "" }
            )
        })
    };
    for line in [
        step("attendance", &r.approval_id, r.attendance_revoked),
        step("time-off", &r.timeoff_event_id, r.timeoff_deleted),
        step("card", &r.message_id, false),
        step("withdrawal", &r.revoke_message_id, false),
    ]
    .into_iter()
    .flatten()
    {
        s.push_str(&line);
    }
    if let Some(e) = &r.message_error {
        s.push_str(&format!("\n  card error  {e}"));
    }
    if let Some(f) = &r.failure {
        s.push_str(&format!(
            "\n  failed at   {}: {f}",
            r.failed_step.as_deref().unwrap_or("?")
        ));
    }
    if r.timeoff_unrecorded {
        s.push_str("\n  time-off    exists, id unknown (confirmed by an operator)");
    } else if r.timeoff_event_id.is_none()
        && let Some(at) = &r.timeoff_attempted_at
    {
        s.push_str(&format!(
            "\n  time-off    attempted at {at}, outcome unknown"
        ));
    }
    if let Some(note) = &r.attention {
        s.push_str(&format!("\n  attention   {note}"));
    }
    if let Some(e) = &r.last_error {
        s.push_str(&format!("\n  last error  {e}"));
    }
    s.push_str(&format!("\n  events      {}", r.events.join(", ")));
    s
}
