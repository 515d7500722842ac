//! The contract between the processor and the workflows it routes events to: the attempt
//! a workflow runs under, and what the processor should do with the message afterwards.

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use crate::ledger::Lease;

/// Lambda's longest timeout (15 minutes).
const MAX_LAMBDA_TIMEOUT_SECS: i64 = 900;

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

    /// The deadline a Lambda runtime gives (`Lambda-Runtime-Deadline-Ms`, milliseconds
    /// since the epoch), or `timeout` from now when that cannot be an invocation's
    /// deadline: Lambda's is always ahead and at most 15 minutes away, but an emulator may
    /// send anything (`cargo lambda watch` sends 600000, a moment in 1970). Trusting such a
    /// value would refuse every Feishu call as too late. The bool says the fallback was used.
    pub fn from_lambda(deadline_ms: u64, timeout: Duration) -> (Self, bool) {
        let now = Timestamp::now();
        let given = i64::try_from(deadline_ms)
            .ok()
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .filter(|at| *at > now && now.duration_until(*at).as_secs() <= MAX_LAMBDA_TIMEOUT_SECS);
        match given {
            Some(at) => (Self::at(at), false),
            None => (Self::after(timeout), true),
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

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUT: Duration = Duration::from_secs(30);

    fn ms_from_now(secs: i64) -> u64 {
        u64::try_from(Timestamp::now().as_millisecond() + secs * 1000).unwrap()
    }

    #[test]
    fn a_lambda_deadline_is_taken_as_given() {
        let (d, assumed) = Deadline::from_lambda(ms_from_now(12), TIMEOUT);
        assert!(!assumed);
        assert!(
            (11..=12).contains(&d.remaining().as_secs()),
            "{:?}",
            d.remaining()
        );
    }

    #[test]
    fn a_deadline_no_invocation_can_have_falls_back_to_the_timeout() {
        // cargo lambda watch's header; one already past; one beyond Lambda's 15 minutes.
        for ms in [600_000, ms_from_now(-1), ms_from_now(3600)] {
            let (d, assumed) = Deadline::from_lambda(ms, TIMEOUT);
            assert!(assumed, "{ms}");
            assert!(
                (29..=30).contains(&d.remaining().as_secs()),
                "{ms}: {:?}",
                d.remaining()
            );
        }
    }
}
