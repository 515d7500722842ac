//! The contract between the processor and the workflows it routes events to: the attempt
//! a workflow runs under, and what the processor should do with the message afterwards.

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use crate::ledger::Lease;

/// When an invocation ends: once as wall-clock time (leases are stored as such, and
/// compared by other invocations) and once on the monotonic clock (for timeouts).
#[derive(Debug, Clone, Copy)]
pub struct Deadline {
    pub at: Timestamp,
    pub instant: Instant,
}

impl Deadline {
    /// The deadline `at`, as Lambda's context gives it.
    pub fn at(at: Timestamp) -> Self {
        let left = Timestamp::now()
            .duration_until(at)
            .try_into()
            .unwrap_or(Duration::ZERO);
        Self {
            at,
            instant: Instant::now() + left,
        }
    }

    /// `remaining` from now.
    pub fn after(remaining: Duration) -> Self {
        let signed =
            jiff::SignedDuration::try_from(remaining).unwrap_or(jiff::SignedDuration::ZERO);
        Self {
            at: Timestamp::now()
                .checked_add(signed)
                .unwrap_or_else(|_| Timestamp::now()),
            instant: Instant::now() + remaining,
        }
    }

    pub fn remaining(&self) -> Duration {
        self.instant.saturating_duration_since(Instant::now())
    }
}

/// One attempt at one event.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// Unique per attempt (invocation id / message id): the lease owner.
    pub owner: String,
    /// When the invocation ends, the same for every record of its batch: Feishu calls give
    /// up in time to record their result, and the lease lasts exactly as long as the
    /// invocation can. If the function is killed, the next delivery (after the visibility
    /// timeout, which is longer) finds the lease expired.
    pub deadline: Deadline,
    /// Set on events redriven by `leave-sync redrive`: retry a permanent failure.
    pub redrive: bool,
    /// How many times SQS has delivered this message (1 on the first delivery).
    pub delivery: u32,
    /// When a message that waits for its twin first started waiting (see
    /// [`Verdict::Defer`]); `None` if it never has.
    pub waiting_since: Option<Timestamp>,
}

impl Attempt {
    pub fn new(owner: impl Into<String>, deadline: Deadline, redrive: bool, delivery: u32) -> Self {
        Self {
            owner: owner.into(),
            deadline,
            redrive,
            delivery,
            waiting_since: None,
        }
    }

    pub fn lease(&self) -> Lease {
        Lease {
            owner: self.owner.clone(),
            until: self.deadline.at,
        }
    }
}

/// What became of an event, as the processor needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Done, or deliberately skipped: delete the message. `outcome` is logged.
    Done { outcome: String },
    /// Worth another try: leave it on the queue (SQS delivers it again). `after`: a wait
    /// the failure itself names (a rate limit's reset, another invocation's lease).
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Can never succeed as it is: park it in the dead-letter queue with the reason.
    DeadLetter { reason: String },
    /// Not yet: its twin, which says more, is probably on its way. The processor puts it
    /// back on the queue, due after `after` and marked with when it started waiting.
    Defer { reason: String, after: Duration },
}
