//! Sync an approved leave: attendance record, time-off event, the employee's card. An
//! overtime gets the attendance record and the card.

use tracing::info;

use super::cards::Purpose;
use super::lookup::Lookup;
use super::outcome::{self, Outcome, Step, SyncError, feishu_err};
use super::{LeaveSync, mapping};
use crate::event::{InstanceRef, Leave};
use crate::feishu::FeishuClient;
use crate::feishu::attendance::{EmployeeType, STATUS_APPROVED};
use crate::ledger::{Claim, Lease, LedgerError, Record, State, StepResult};
use crate::workflow::Attempt;

impl LeaveSync {
    /// Syncs `leave` for `instance`, running only the steps the ledger does not show done.
    pub async fn approve(
        &self,
        instance: &InstanceRef,
        leave: &Leave,
        attempt: &Attempt,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        Step::Claim.enter();
        let lease = attempt.lease();
        let claim = || {
            self.ledger
                .claim_sync(instance, leave, &lease, event_id, attempt.redrive)
        };
        let syncing = |r: &Record| r.state == State::Syncing;
        let record = match self.claim_patiently(attempt, syncing, claim).await? {
            Claim::Acquired(r) => r,
            Claim::Refused(r) => return refused(&r),
            Claim::Tombstoned => {
                return Err(LedgerError::Corrupt {
                    instance_code: instance.instance_code.clone(),
                    detail: "a sync claim left a tombstone".into(),
                }
                .into());
            }
        };
        // The leave stored by the first event wins, so V1/V2 twins write the same thing.
        let leave = record.leave.clone().unwrap_or_else(|| leave.clone());
        let result = self
            .approve_steps(instance, &leave, &record, &lease, attempt)
            .await;
        self.settle(instance, &lease, result).await
    }

    async fn approve_steps(
        &self,
        instance: &InstanceRef,
        leave: &Leave,
        record: &Record,
        lease: &Lease,
        attempt: &Attempt,
    ) -> Result<Outcome, SyncError> {
        let feishu = self.feishu.until(attempt.deadline.instant);
        if record.approval_id.is_none() {
            Step::Attendance.enter();
            let approval_id = self.write_attendance(&feishu, instance, leave).await?;
            self.ledger
                .record(instance, lease, &StepResult::Attendance { approval_id })
                .await?;
        }
        // Overtime is work, not absence: no time-off event (issue 13).
        if !leave.is_overtime() {
            self.create_timeoffs(&feishu, instance, leave, (record, lease))
                .await?;
        }
        if record.attention.is_some() {
            // A redrive resolved what an operator was asked to look at.
            self.ledger
                .record(instance, lease, &StepResult::AttentionResolved)
                .await?;
        }
        self.add_to_team_calendar(&feishu, instance, leave, (record, lease))
            .await?;
        Step::Notify.enter();
        let notified = self
            .notify(&feishu, instance, leave, Purpose::Synced)
            .await?;
        // Synced, and listed as out (the team view), in one write.
        self.ledger
            .complete_sync(instance, lease, &notified, Some(leave))
            .await?;
        Ok(Outcome::Synced)
    }

    /// Writes the attendance record; after a lost response the retry meets "already
    /// exists" and reads the approval_id back instead of writing a duplicate.
    async fn write_attendance(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
    ) -> Result<String, SyncError> {
        let record = mapping::attendance_record(instance, leave);
        let written = match feishu
            .create_user_approval(EmployeeType::EmployeeId, &record)
            .await
        {
            Ok(ids) => ids.into_iter().next(),
            Err(e) if e.is_already_exists() => {
                info!(
                    "attendance record already exists (an earlier attempt wrote it), reading its approval_id"
                );
                None
            }
            Err(e) => return Err(feishu_err(Step::Attendance, e)),
        };
        if let Some(id) = written {
            return Ok(id);
        }
        // Stored (the answer said so, or our key exists), but its id is not in hand.
        let ours = Lookup::OursExists { written_on: None };
        self.find_attendance(feishu, instance, leave, &[STATUS_APPROVED], ours)
            .await?
            .ok_or(SyncError::AttendanceNotVisible)
    }
}

/// A sync claim was refused: the item says whether the work is done, undone, failed, or
/// in another invocation's hands.
fn refused(r: &Record) -> Result<Outcome, SyncError> {
    match r.state {
        State::Synced => Ok(Outcome::AlreadySynced),
        State::Tombstone | State::Revoking | State::Revoked => Ok(Outcome::SkippedRevoked),
        State::Failed if r.revoke_requested => Ok(Outcome::SkippedRevoked),
        State::Failed => Ok(Outcome::SkippedFailed {
            reason: format!(
                "{}: {}",
                r.failed_step.as_deref().unwrap_or("unknown step"),
                r.failure.as_deref().unwrap_or("no reason recorded")
            ),
        }),
        State::Syncing => Err(outcome::SyncError::busy(r)),
    }
}
