//! The time-off event: the one write Feishu gives no idempotency key for, and no way to
//! list or read back (reference §4.5, 7.9). A retry after Feishu stored one would make a
//! second badge that a revoke never deletes, so the create runs at most once per leave
//! unless an operator says otherwise:
//!
//! - a marker (`timeoff_attempted_at`) is recorded under the lease before the POST;
//! - the POST is retried only after an error that proves Feishu did not act on it
//!   (`FeishuError::proves_not_applied`), and then the marker goes;
//! - any other failure, or a marker found without an id by a later attempt, is an
//!   *unknown outcome*: the instance is parked (failed at `timeoff`, dead-lettered with
//!   the fix) and nothing is created until an operator has looked at the employee's
//!   profile and redriven it, with `--timeoff-exists` if the badge is there.

use tracing::error;

use super::outcome::{Step, SyncError, feishu_err};
use super::{LeaveSync, mapping};
use crate::event::{InstanceRef, Leave};
use crate::feishu::FeishuClient;
use crate::feishu::calendar::UserIdType;
use crate::ledger::{Lease, Record, StepResult};
use crate::telemetry::alert;
use crate::workflow::Attempt;

impl LeaveSync {
    /// Creates the time-off event once, recording its id (or, on an operator's word, that
    /// one exists whose id was lost).
    pub(super) async fn create_timeoff(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        (record, lease): (&Record, &Lease),
        attempt: &Attempt,
    ) -> Result<(), SyncError> {
        Step::Timeoff.enter();
        let event = mapping::timeoff_event(instance, leave, &self.zone)?;
        if let Some(since) = &record.timeoff_attempted_at {
            match (attempt.redrive, attempt.timeoff_exists) {
                // The operator saw the badge on the employee's profile.
                (true, true) => {
                    return Ok(self
                        .ledger
                        .record(instance, lease, &StepResult::TimeoffUnrecorded)
                        .await?);
                }
                // The operator saw none: create it.
                (true, false) => {}
                (false, _) => return Err(unknown(format!("an attempt at {since} left no id"))),
            }
        }
        let ledger = &self.ledger;
        ledger
            .record(instance, lease, &StepResult::TimeoffAttempted)
            .await?;
        match feishu
            .create_timeoff_event(UserIdType::OpenId, &event)
            .await
        {
            Ok(created) => {
                let timeoff_event_id = created.timeoff_event_id;
                Ok(ledger
                    .record(instance, lease, &StepResult::Timeoff { timeoff_event_id })
                    .await?)
            }
            Err(e) if e.proves_not_applied() => {
                ledger
                    .record(instance, lease, &StepResult::TimeoffNotApplied)
                    .await?;
                Err(feishu_err(Step::Timeoff, e))
            }
            Err(e) => Err(unknown(e.to_string())),
        }
    }
}

fn unknown(detail: String) -> SyncError {
    error!(
        alert = alert::TIMEOFF_OUTCOME_UNKNOWN,
        "time-off create outcome unknown ({detail}): parked for an operator"
    );
    SyncError::TimeoffOutcomeUnknown { detail }
}
