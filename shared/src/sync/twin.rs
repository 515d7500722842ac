//! A `leave_approval` (V1) waits for its `leave_approvalV2` twin (V2), because only V2
//! says whether the form is a leave cancellation (销假: `origin_instance_code`) and what
//! the leave covers in working time (`leave_range`). Feishu sends both for every approved
//! leave form (seed 001: 「会收到 2 条事件消息」), together, and retries a failed push after
//! 15 s, 5 min, 1 h and 6 h. So V1 goes ahead as soon as the ledger shows that V2 (or a
//! revoke, or anything else about the instance) got there; until then it waits, longer
//! each time, for as long as Feishu may still deliver V2. Only then is it applied alone,
//! with a note for an operator (a cancellation form cannot be told from a leave by V1).

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use tracing::warn;

use super::LeaveSync;
use super::outcome::{Outcome, SyncError};
use crate::event::{InstanceRef, Leave};
use crate::workflow::Attempt;

/// Feishu's push retries span about 7.1 hours (15 s, 5 min, 1 h, 6 h); a little more.
pub const TWIN_GIVE_UP: Duration = Duration::from_secs(7 * 3600 + 30 * 60);

/// What a V1 event does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwinWait {
    /// Come back later; `waited` is how long it has waited so far (`None`: not yet).
    Wait { waited: Option<Duration> },
    /// The twin got there, or waiting longer is pointless.
    Proceed { alone: bool },
}

/// Pure: whether V1 waits, from when it started waiting and whether the ledger knows the
/// instance at all.
pub fn decide(waiting_since: Option<Timestamp>, now: Timestamp, known: bool) -> TwinWait {
    if known {
        return TwinWait::Proceed { alone: false };
    }
    let Some(since) = waiting_since else {
        return TwinWait::Wait { waited: None };
    };
    let waited = Duration::try_from(now.duration_since(since)).unwrap_or(Duration::ZERO);
    if waited >= TWIN_GIVE_UP {
        TwinWait::Proceed { alone: true }
    } else {
        TwinWait::Wait {
            waited: Some(waited),
        }
    }
}

impl LeaveSync {
    /// The V1 path: wait for the twin, then sync as any approval.
    pub async fn approve_v1(
        &self,
        instance: &InstanceRef,
        leave: &Leave,
        attempt: &Attempt,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        let known = self.ledger.get(instance).await?.is_some();
        match decide(attempt.waiting_since, Timestamp::now(), known) {
            TwinWait::Wait { waited } => Ok(Outcome::AwaitingTwin { waited }),
            TwinWait::Proceed { alone: false } => {
                self.approve(instance, leave, attempt, event_id).await
            }
            TwinWait::Proceed { alone: true } => {
                let hours = SignedDuration::try_from(TWIN_GIVE_UP)
                    .unwrap_or_default()
                    .as_hours();
                warn!("no leave_approvalV2 in {hours} h: synced from leave_approval alone");
                let outcome = self.approve(instance, leave, attempt, event_id).await?;
                let note = format!(
                    "synced from leave_approval alone: its leave_approvalV2 never arrived in \
                     {hours} h. If this form was a leave cancellation (销假), revoke the leave in \
                     the attendance admin console; the calendar shows the whole period, not its \
                     working-time segments"
                );
                self.ledger.note_attention(instance, &note).await?;
                Ok(outcome)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_waits_until_the_ledger_knows_the_instance_or_feishu_stops_retrying() {
        let now: Timestamp = "2026-12-01T08:00:00Z".parse().unwrap();
        let ago = |secs: i64| now - SignedDuration::from_secs(secs);
        assert_eq!(decide(None, now, false), TwinWait::Wait { waited: None });
        assert_eq!(decide(None, now, true), TwinWait::Proceed { alone: false });
        assert_eq!(
            decide(Some(ago(45)), now, false),
            TwinWait::Wait {
                waited: Some(Duration::from_secs(45))
            }
        );
        assert_eq!(
            decide(Some(ago(6 * 3600)), now, true),
            TwinWait::Proceed { alone: false }
        );
        // Past Feishu's last retry (6 h after the 1 h one): on its own.
        assert_eq!(
            decide(Some(ago(7 * 3600 + 1800)), now, false),
            TwinWait::Proceed { alone: true }
        );
        assert_eq!(
            decide(Some(ago(7 * 3600)), now, false),
            TwinWait::Wait {
                waited: Some(Duration::from_secs(7 * 3600))
            }
        );
    }
}
