//! An approved leave-cancellation form (销假). Its `leave_approvalV2` names the leave it
//! cancels (`origin_instance_code`, "销假单关联的原始数据"); its `leave_approval` twin does
//! not, and would be synced as a new leave: V1 events wait for their twin first (see the
//! processor's Defer), and the cancellation's own instance is marked revoked here, so a
//! late V1 finds it so (and one that slipped through is undone).
//!
//! What is applied automatically: nothing is written to attendance or the calendar for
//! the cancellation; the original leave's ledger item records it; the employee is told.
//! What is not: the original's attendance record and time-off events keep their period
//! (README, "Leave cancellations").

use tracing::info;

use super::LeaveSync;
use super::cards::{self, Purpose, describe_duration, describe_period};
use super::outcome::{Outcome, Step, SyncError};
use crate::event::{InstanceRef, Leave};
use crate::ledger::Notified;
use crate::workflow::Attempt;

impl LeaveSync {
    pub async fn cancellation(
        &self,
        instance: &InstanceRef,
        original: &str,
        leave: &Leave,
        attempt: &Attempt,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        // The cancellation is not a leave: a tombstone for its V1 twin, or an undo.
        self.revoke(instance, attempt, event_id).await?;
        let original_ref = InstanceRef {
            tenant_key: instance.tenant_key.clone(),
            approval_code: String::new(),
            instance_code: original.to_owned(),
        };
        let note = format!(
            "{}: {} ({})",
            instance.instance_code,
            describe_period(leave),
            describe_duration(leave)
        );
        let noted = self.ledger.note_cancellation(&original_ref, &note).await?;
        if !noted {
            info!(
                original,
                "the cancelled leave is not in the ledger: nothing to note it on"
            );
        }
        self.tell_cancellation(instance, original, leave, attempt)
            .await?;
        Ok(Outcome::CancellationRecorded {
            original: original.to_owned(),
        })
    }

    /// The card, once: a redelivery finds its message recorded (within the hour the IM
    /// uuid covers it anyway).
    async fn tell_cancellation(
        &self,
        instance: &InstanceRef,
        original: &str,
        leave: &Leave,
        attempt: &Attempt,
    ) -> Result<(), SyncError> {
        if self
            .ledger
            .get(instance)
            .await?
            .is_some_and(|r| r.cancellation_message_id.is_some())
        {
            return Ok(());
        }
        Step::Notify.enter();
        let feishu = self.feishu.until(attempt.deadline.instant);
        let card = cards::cancellation_card(instance, leave, original);
        let purpose = Purpose::Cancellation;
        if let Notified::Sent(id) = self
            .send_card(&feishu, instance, leave, purpose, &card)
            .await?
        {
            self.ledger.record_told(instance, &id).await?;
        }
        Ok(())
    }
}
