//! The contract between the processor and the workflows it routes events to: the attempt
//! a workflow runs under, and what the processor should do with the message afterwards.

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use crate::ledger::Lease;

/// One attempt at one event.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Unique per attempt (invocation id / message id): the lease owner.
    pub owner: String,
    /// When the invocation ends; Feishu calls give up in time to record their result.
    pub deadline: Instant,
    pub lease_until: Timestamp,
    /// Set on events redriven by `leave-sync redrive`: retry a permanent failure.
    pub redrive: bool,
}

impl Attempt {
    pub fn new(owner: impl Into<String>, remaining: Duration, redrive: bool) -> Self {
        let remaining_signed =
            jiff::SignedDuration::try_from(remaining).unwrap_or(jiff::SignedDuration::ZERO);
        Self {
            owner: owner.into(),
            deadline: Instant::now() + remaining,
            // The lease lasts exactly as long as the invocation can: if the function is
            // killed, the next delivery (after the visibility timeout, which is longer)
            // finds it expired.
            lease_until: Timestamp::now()
                .checked_add(remaining_signed)
                .unwrap_or_else(|_| Timestamp::now()),
            redrive,
        }
    }

    pub fn lease(&self) -> Lease {
        Lease {
            owner: self.owner.clone(),
            until: self.lease_until,
        }
    }
}

/// What became of an event, as the processor needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Done, or deliberately skipped: delete the message. `outcome` is logged.
    Done { outcome: String },
    /// Worth another try: leave it on the queue (SQS delivers it again).
    Retry { reason: String },
    /// Can never succeed as it is: park it in the dead-letter queue with the reason.
    DeadLetter { reason: String },
}
