//! What one reconcile run saw and did: logged as one line, returned by the Lambda, printed
//! by `leave-sync reconcile`.

use std::fmt;

use serde::Serialize;

use crate::event::ReconcileAction;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub dry_run: bool,
    /// Per definition: the creation-time window listed (RFC 3339), and whether the run got
    /// to its end (else the next run resumes from the checkpoint).
    pub windows: Vec<Window>,
    /// Instances listed (each once per run).
    pub seen: usize,
    /// Synced instances re-read for a revoke.
    pub rechecked: usize,
    /// Requests to Feishu (list pages, instance reads, the tenant lookup), retries not
    /// counted.
    pub feishu_calls: usize,
    /// Events put on the queue (a dry run lists what it would have queued).
    pub enqueued: Vec<Enqueued>,
    /// Items an operator should look at: nothing was queued for them.
    pub attention: Vec<Attention>,
    /// What went wrong; the run carried on where it could.
    pub errors: Vec<String>,
    pub elapsed_ms: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub approval_code: String,
    pub from: String,
    pub to: String,
    pub complete: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Enqueued {
    pub instance_code: String,
    pub approval_code: String,
    pub action: ReconcileAction,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Attention {
    pub instance_code: String,
    pub what: String,
}

impl Report {
    pub fn count(&self, action: ReconcileAction) -> usize {
        self.enqueued.iter().filter(|e| e.action == action).count()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for w in &self.windows {
            let done = if w.complete {
                ""
            } else {
                "  (unfinished: the next run resumes)"
            };
            writeln!(
                f,
                "{}  instances created {} → {}{done}",
                w.approval_code, w.from, w.to
            )?;
        }
        let verb = if self.dry_run {
            "would queue"
        } else {
            "queued"
        };
        writeln!(
            f,
            "{} instances seen, {} synced re-read, {} Feishu calls, {} ms; {verb} {} to sync and {} to revoke",
            self.seen,
            self.rechecked,
            self.feishu_calls,
            self.elapsed_ms,
            self.count(ReconcileAction::Sync),
            self.count(ReconcileAction::Revoke),
        )?;
        for e in &self.enqueued {
            writeln!(
                f,
                "  {:<6} {}  {}",
                e.action.as_str(),
                e.instance_code,
                e.reason
            )?;
        }
        for a in &self.attention {
            writeln!(f, "  check  {}  {}", a.instance_code, a.what)?;
        }
        for e in &self.errors {
            writeln!(f, "  error  {e}")?;
        }
        Ok(())
    }
}
