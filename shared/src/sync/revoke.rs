//! Undo a synced leave: revoke the attendance record, delete the time-off event, tell the
//! employee. What is left to undo is a pure function of the ledger record ([`Plan::of`]).

use tracing::info;

use super::LeaveSync;
use super::cards::Purpose;
use super::outcome::{Outcome, Step, SyncError, feishu_err};
use crate::event::{InstanceRef, Leave};
use crate::feishu::attendance::{ApprovalType, STATUS_APPROVED, STATUS_REVOKED};
use crate::feishu::{FeishuClient, FeishuError};
use crate::ledger::{Claim, Lease, Notified, Record, State, StepResult};
use crate::workflow::Attempt;

/// What a revoke still has to do, from what the ledger says was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub attendance: AttendanceUndo,
    /// The time-off event to delete, if one was created and not yet deleted.
    pub timeoff: Option<String>,
    /// Whether the employee gets a withdrawal card: only if they could have been told of
    /// the sync (something was written).
    pub notify: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttendanceUndo {
    /// Nothing to revoke: already revoked, or nothing can have been written.
    Nothing,
    /// Revoke this record.
    Revoke(String),
    /// A record may exist without its id in the ledger: look it up, then revoke it.
    LookUp,
}

impl Plan {
    pub fn of(record: &Record) -> Self {
        let attendance = if record.attendance_revoked {
            AttendanceUndo::Nothing
        } else {
            match (&record.approval_id, &record.leave) {
                (Some(id), _) => AttendanceUndo::Revoke(id.clone()),
                // A sync interrupted between writing attendance and recording it (not one
                // that failed at the attendance step: then nothing was written).
                (None, Some(_)) if !Step::Attendance.failed_in(record) => AttendanceUndo::LookUp,
                _ => AttendanceUndo::Nothing,
            }
        };
        let timeoff = record
            .timeoff_event_id
            .clone()
            .filter(|_| !record.timeoff_deleted);
        let was_synced = record.approval_id.is_some() || record.timeoff_event_id.is_some();
        Self {
            attendance,
            timeoff,
            notify: record.leave.is_some() && was_synced,
        }
    }
}

impl LeaveSync {
    /// Undoes what was synced for `instance`, or records the revoke so that a late
    /// approval is skipped.
    pub async fn revoke(
        &self,
        instance: &InstanceRef,
        attempt: &Attempt,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        Step::Claim.enter();
        let lease = attempt.lease();
        let record = match self.ledger.claim_revoke(instance, &lease, event_id).await? {
            Claim::Acquired(r) => r,
            Claim::Tombstoned => {
                info!(
                    "revoke for an instance not synced (yet): recorded; a later approval will be skipped"
                );
                return Ok(Outcome::RevokeRecorded);
            }
            Claim::Refused(r) => {
                return match r.state {
                    State::Revoked | State::Tombstone => Ok(Outcome::AlreadyRevoked),
                    _ => Err(SyncError::busy(&r)),
                };
            }
        };
        let result = self.revoke_steps(instance, &record, &lease, attempt).await;
        self.settle(instance, &lease, result).await
    }

    async fn revoke_steps(
        &self,
        instance: &InstanceRef,
        record: &Record,
        lease: &Lease,
        attempt: &Attempt,
    ) -> Result<Outcome, SyncError> {
        let feishu = self.feishu.until(attempt.deadline.instant);
        let plan = Plan::of(record);
        let leave = record.leave.as_ref();
        let approval_id = match (&plan.attendance, leave) {
            (AttendanceUndo::Revoke(id), _) => Some(id.clone()),
            (AttendanceUndo::LookUp, Some(leave)) => {
                Step::AttendanceRevoke.enter();
                self.find_attendance(&feishu, instance, leave, STATUS_APPROVED)
                    .await?
            }
            _ => None,
        };
        if let Some(id) = approval_id {
            Step::AttendanceRevoke.enter();
            self.revoke_attendance(&feishu, instance, leave, &id)
                .await?;
            self.ledger
                .record(instance, lease, &StepResult::AttendanceRevoked)
                .await?;
        }
        if let Some(timeoff_id) = &plan.timeoff {
            Step::TimeoffDelete.enter();
            match feishu.delete_timeoff_event(timeoff_id).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {
                    info!("time-off event {timeoff_id} was already deleted");
                }
                Err(e) => return Err(feishu_err(Step::TimeoffDelete, e)),
            }
            self.ledger
                .record(instance, lease, &StepResult::TimeoffDeleted)
                .await?;
        }
        Step::Notify.enter();
        let notified = match leave {
            Some(leave) if plan.notify => {
                self.notify(&feishu, instance, leave, Purpose::Revoked)
                    .await?
            }
            _ => Notified::Nothing,
        };
        self.ledger
            .complete_revoke(instance, lease, &notified)
            .await?;
        Ok(Outcome::Revoked)
    }

    /// Revokes one attendance record. Only approved records can be revoked, so after a
    /// lost response the retry is refused: check before calling that a failure.
    async fn revoke_attendance(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: Option<&Leave>,
        approval_id: &str,
    ) -> Result<(), SyncError> {
        let Err(e) = feishu
            .process_approval_info(approval_id, ApprovalType::Leave, STATUS_REVOKED)
            .await
        else {
            return Ok(());
        };
        let already = !e.is_retryable()
            && match leave {
                Some(l) => {
                    self.find_attendance(feishu, instance, l, STATUS_REVOKED)
                        .await?
                        .as_deref()
                        == Some(approval_id)
                }
                None => false,
            };
        if already {
            Ok(())
        } else {
            Err(feishu_err(Step::AttendanceRevoke, e))
        }
    }
}

/// Deleting a time-off event that no longer exists. The API's code for this is not
/// documented; a 404 or a "not found"/"not exist" message is taken to mean it.
fn is_not_found(e: &FeishuError) -> bool {
    match e {
        FeishuError::Api { status, msg, .. } => {
            *status == 404 || msg.contains("not found") || msg.contains("not exist")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{LeaveType, LeaveUnit, Locale, LocalizedNames};

    fn leave() -> Leave {
        Leave {
            user_id: "u".into(),
            open_id: "ou".into(),
            leave_type: LeaveType {
                key: "k".into(),
                names: LocalizedNames::single("年假"),
                default_locale: Locale::Ch,
            },
            start: "2026-12-01T00:00:00".parse().unwrap(),
            end: "2026-12-02T00:00:00".parse().unwrap(),
            interval_secs: 86_400,
            unit: LeaveUnit::Day,
            reason: String::new(),
            segments: Vec::new(),
        }
    }

    fn record(state: State) -> Record {
        Record {
            state,
            tenant_key: "t".into(),
            instance_code: "I".into(),
            approval_code: "A".into(),
            updated_at: None,
            leave: Some(leave()),
            approval_id: None,
            timeoff_event_id: None,
            message_id: None,
            message_error: None,
            revoke_requested: true,
            attendance_revoked: false,
            timeoff_deleted: false,
            revoke_message_id: None,
            lease_owner: None,
            lease_until: None,
            failure: None,
            failed_step: None,
            last_error: None,
            events: Vec::new(),
        }
    }

    #[test]
    fn a_synced_leave_is_undone_whole_and_the_employee_told() {
        let mut r = record(State::Synced);
        r.approval_id = Some("A1".into());
        r.timeoff_event_id = Some("timeoff:1".into());
        assert_eq!(
            Plan::of(&r),
            Plan {
                attendance: AttendanceUndo::Revoke("A1".into()),
                timeoff: Some("timeoff:1".into()),
                notify: true,
            }
        );
    }

    #[test]
    fn steps_already_undone_are_not_repeated() {
        let mut r = record(State::Revoking);
        r.approval_id = Some("A1".into());
        r.timeoff_event_id = Some("timeoff:1".into());
        r.attendance_revoked = true;
        r.timeoff_deleted = true;
        let plan = Plan::of(&r);
        assert_eq!(plan.attendance, AttendanceUndo::Nothing);
        assert_eq!(plan.timeoff, None);
        assert!(plan.notify, "the card is still owed");
    }

    #[test]
    fn a_sync_cut_off_before_recording_attendance_is_looked_up() {
        let r = record(State::Syncing);
        assert_eq!(
            Plan::of(&r),
            Plan {
                attendance: AttendanceUndo::LookUp,
                timeoff: None,
                notify: false,
            }
        );
    }

    #[test]
    fn a_sync_that_failed_at_attendance_wrote_nothing() {
        let mut r = record(State::Failed);
        r.failed_step = Some(Step::Attendance.as_str().into());
        assert_eq!(Plan::of(&r).attendance, AttendanceUndo::Nothing);
        let mut r = record(State::Failed);
        r.failed_step = Some(Step::Timeoff.as_str().into());
        r.approval_id = Some("A1".into());
        assert_eq!(Plan::of(&r).attendance, AttendanceUndo::Revoke("A1".into()));
    }

    #[test]
    fn a_record_without_its_leave_has_nothing_to_look_up_or_tell() {
        let mut r = record(State::Syncing);
        r.leave = None;
        assert_eq!(
            Plan::of(&r),
            Plan {
                attendance: AttendanceUndo::Nothing,
                timeoff: None,
                notify: false,
            }
        );
    }
}
