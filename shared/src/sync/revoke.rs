//! Undo a synced leave: revoke the attendance record, delete the time-off event, tell the
//! employee. What is left to undo is a pure function of the ledger record ([`Plan::of`]).

use tracing::{error, info, warn};

use super::LeaveSync;
use super::cards::Purpose;
use super::lookup::Lookup;
use super::outcome::{Outcome, Step, SyncError, feishu_err};
use crate::event::{InstanceRef, Leave};
use crate::feishu::attendance::{
    ApprovalType, QUERY_STATUSES_REVOKED, STATUS_APPROVED, STATUS_REVOKED,
};
use crate::feishu::{FeishuClient, FeishuError};
use crate::ledger::{Claim, Lease, Notified, Record, State, StepResult, TeamEventRef};
use crate::telemetry::alert;
use crate::workflow::Attempt;

/// What a revoke still has to do, from what the ledger says was done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub attendance: AttendanceUndo,
    /// The time-off events to delete: made and not yet deleted.
    pub timeoff: Vec<String>,
    /// A time-off event may exist whose id was never known (a create with an unknown
    /// outcome): it cannot be deleted, and an operator is told.
    pub timeoff_left_behind: bool,
    /// Whether the employee gets a withdrawal card: only if they could have been told of
    /// the sync (something was written).
    pub notify: bool,
    /// The team-calendar entry to delete: made and not yet deleted.
    pub team_event: Option<TeamEventRef>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttendanceUndo {
    /// Nothing to revoke: already revoked, or nothing can have been written.
    Nothing,
    /// Revoke this record.
    Revoke(String),
    /// A record may exist without its id in the ledger (a sync cut off before recording
    /// it, a lost answer, an answer without the id): look it up, then revoke it.
    LookUp,
}

/// Attendance's "user does not exist / no permission" (reference §4.4).
const USER_UNKNOWN: i64 = 1220004;

/// A revoke that finds no record looks this many times (on later deliveries) before it
/// concludes that nothing was written.
pub const LOOKUPS: u32 = 3;

impl Plan {
    pub fn of(record: &Record) -> Self {
        let attendance = match (&record.approval_id, &record.leave) {
            _ if record.attendance_revoked => AttendanceUndo::Nothing,
            (Some(id), _) => AttendanceUndo::Revoke(id.clone()),
            // Even a sync that failed at the attendance step may have stored the record
            // before its answer was lost or came back without the id.
            (None, Some(_)) => AttendanceUndo::LookUp,
            (None, None) => AttendanceUndo::Nothing,
        };
        let timeoff: Vec<String> = record
            .timeoff_event_ids
            .iter()
            .filter(|id| !record.timeoff_deleted_ids.contains(id))
            .cloned()
            .collect();
        let timeoff_left_behind =
            record.timeoff_unrecorded > 0 || record.timeoff_attempted_at.is_some();
        let was_synced = record.approval_id.is_some() || !record.timeoff_event_ids.is_empty();
        Self {
            attendance,
            timeoff,
            timeoff_left_behind,
            notify: record.leave.is_some() && was_synced,
            team_event: record
                .team_event
                .clone()
                .filter(|_| !record.team_event_deleted),
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
        let claim = || self.ledger.claim_revoke(instance, &lease, event_id);
        let working = |r: &Record| matches!(r.state, State::Syncing | State::Revoking);
        let record = match self.claim_patiently(attempt, working, claim).await? {
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
        Step::AttendanceRevoke.enter();
        let approval_id = match (&plan.attendance, leave) {
            (AttendanceUndo::Revoke(id), _) => Some(id.clone()),
            (AttendanceUndo::LookUp, Some(leave)) => {
                self.look_up_for_revoke(&feishu, instance, leave, (record, lease))
                    .await?
            }
            _ => None,
        };
        if let Some(id) = approval_id {
            let written_on = self.written_on(record);
            self.revoke_attendance(&feishu, instance, leave, &id, written_on)
                .await?;
            self.ledger
                .record(instance, lease, &StepResult::AttendanceRevoked)
                .await?;
        }
        self.delete_timeoffs(&feishu, instance, &plan.timeoff, lease)
            .await?;
        if let Some(entry) = &plan.team_event {
            self.remove_from_team_calendar(&feishu, instance, entry, lease)
                .await?;
        }
        if plan.timeoff_left_behind {
            self.report_left_behind(instance, lease).await?;
        }
        Step::Notify.enter();
        let notified = match leave {
            Some(leave) if plan.notify => {
                self.notify(&feishu, instance, leave, Purpose::Revoked)
                    .await?
            }
            _ => Notified::Nothing,
        };
        // Revoked, and off the who's-out index, in one write.
        self.ledger
            .complete_revoke(instance, lease, &notified, leave)
            .await?;
        Ok(Outcome::Revoked)
    }

    /// Deletes each time-off event in turn, recording each as it goes.
    async fn delete_timeoffs(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        ids: &[String],
        lease: &Lease,
    ) -> Result<(), SyncError> {
        for timeoff_id in ids {
            Step::TimeoffDelete.enter();
            match feishu.delete_timeoff_event(timeoff_id).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {
                    info!("time-off event {timeoff_id} was already deleted");
                }
                Err(e) => return Err(feishu_err(Step::TimeoffDelete, e)),
            }
            let deleted = StepResult::TimeoffDeleted {
                timeoff_event_id: timeoff_id.clone(),
            };
            self.ledger.record(instance, lease, &deleted).await?;
        }
        Ok(())
    }

    /// A time-off event may exist that nothing can delete (its id was never known): the
    /// badge stays on the employee's profile until the leave's end. Told to an operator.
    async fn report_left_behind(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
    ) -> Result<(), SyncError> {
        error!(
            alert = alert::TIMEOFF_LEFT_BEHIND,
            "revoked, but a time-off event whose id was never known may remain on the employee's profile"
        );
        let note = format!(
            "{}: a time-off event created by an attempt whose answer was lost may remain on \
             the employee's profile until the leave's end; no API can find or delete it",
            alert::TIMEOFF_LEFT_BEHIND
        );
        Ok(self
            .ledger
            .record(instance, lease, &StepResult::Attention(note))
            .await?)
    }

    /// The record an interrupted sync may have stored. None found: retried on the next
    /// deliveries (the record may not be visible yet), then taken to mean that nothing
    /// was written.
    async fn look_up_for_revoke(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        (record, lease): (&Record, &Lease),
    ) -> Result<Option<String>, SyncError> {
        match self
            .find_attendance(
                feishu,
                instance,
                leave,
                &[STATUS_APPROVED],
                Lookup::MayNotExist {
                    written_on: self.written_on(record),
                },
            )
            .await
        {
            Ok(Some(id)) => return Ok(Some(id)),
            Ok(None) => {}
            // Attendance does not know the user: no record of theirs can exist.
            Err(SyncError::Feishu { source, .. }) if source.code() == Some(USER_UNKNOWN) => {
                info!("attendance does not know the applicant: nothing was written");
                return Ok(None);
            }
            Err(e) => return Err(e),
        }
        // Misses are counted in the ledger, not by deliveries: a delivery spent waiting
        // for a lease or on an error is not a lookup.
        self.ledger
            .record(instance, lease, &StepResult::AttendanceLookupMissed)
            .await?;
        let lookups = record.attendance_lookup_misses + 1;
        if lookups < LOOKUPS {
            return Err(SyncError::AttendanceNotVisible);
        }
        warn!(
            lookups,
            "no attendance record for this instance after {lookups} lookups: taken as never written"
        );
        let note = format!(
            "attendance_not_found: a revoke found no attendance record after {lookups} \
             lookups and took it as never written; if the employee's attendance still shows \
             this leave, revoke it in the attendance admin console"
        );
        self.ledger
            .record(instance, lease, &StepResult::Attention(note))
            .await?;
        Ok(None)
    }

    /// The tenant-zone date the instance was first claimed on: about when its attendance
    /// record was written.
    fn written_on(&self, record: &Record) -> Option<jiff::civil::Date> {
        let at: jiff::Timestamp = record.created_at.as_deref()?.parse().ok()?;
        Some(at.to_zoned(self.zone.tz.clone()).date())
    }

    /// Revokes one attendance record. Only approved records can be revoked, so after a
    /// lost response the retry is refused: check before calling that a failure.
    async fn revoke_attendance(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: Option<&Leave>,
        approval_id: &str,
        written_on: Option<jiff::civil::Date>,
    ) -> Result<(), SyncError> {
        // 「请假、外出、加班、出差只支持传撤销」 (doc "通知审批状态更新"): overtime is revoked
        // like a leave, under its own type.
        let kind = match leave {
            Some(l) if l.is_overtime() => ApprovalType::Overtime,
            _ => ApprovalType::Leave,
        };
        let Err(e) = feishu
            .process_approval_info(approval_id, kind, STATUS_REVOKED)
            .await
        else {
            return Ok(());
        };
        let already = !e.is_retryable()
            && match leave {
                Some(l) => {
                    let ours = Lookup::OursExists { written_on };
                    // A query that fails (a status the query refuses for this type) says
                    // nothing: the revoke's own error is the one to report.
                    self.find_attendance(feishu, instance, l, &QUERY_STATUSES_REVOKED, ours)
                        .await
                        .ok()
                        .flatten()
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

    fn record(state: State) -> Record {
        Record {
            state,
            tenant_key: "t".into(),
            instance_code: "I".into(),
            approval_code: "A".into(),
            updated_at: None,
            created_at: None,
            leave: Some(Leave::sample()),
            approval_id: None,
            timeoff_attempted_at: None,
            timeoff_event_ids: Vec::new(),
            timeoff_unrecorded: 0,
            message_id: None,
            message_error: None,
            revoke_requested: true,
            attendance_lookup_misses: 0,
            attendance_revoked: false,
            timeoff_deleted_ids: Vec::new(),
            revoke_message_id: None,
            cancellation_message_id: None,
            lease_owner: None,
            lease_until: None,
            failure: None,
            failed_step: None,
            last_error: None,
            attention: None,
            cancellations: Vec::new(),
            team_event: None,
            team_event_deleted: false,
            events: Vec::new(),
        }
    }

    #[test]
    fn a_synced_leave_is_undone_whole_and_the_employee_told() {
        let mut r = record(State::Synced);
        r.approval_id = Some("A1".into());
        r.timeoff_event_ids = vec!["timeoff:1".into(), "timeoff:2".into()];
        assert_eq!(
            Plan::of(&r),
            Plan {
                attendance: AttendanceUndo::Revoke("A1".into()),
                timeoff: vec!["timeoff:1".into(), "timeoff:2".into()],
                timeoff_left_behind: false,
                notify: true,
                team_event: None,
            }
        );
    }

    #[test]
    fn steps_already_undone_are_not_repeated() {
        let mut r = record(State::Revoking);
        r.approval_id = Some("A1".into());
        r.timeoff_event_ids = vec!["timeoff:1".into(), "timeoff:2".into()];
        r.attendance_revoked = true;
        r.timeoff_deleted_ids = vec!["timeoff:1".into()];
        let plan = Plan::of(&r);
        assert_eq!(plan.attendance, AttendanceUndo::Nothing);
        assert_eq!(
            plan.timeoff,
            vec!["timeoff:2".to_owned()],
            "only what is left"
        );
        assert!(plan.notify, "the card is still owed");
    }

    #[test]
    fn a_sync_cut_off_before_recording_attendance_is_looked_up() {
        let r = record(State::Syncing);
        assert_eq!(
            Plan::of(&r),
            Plan {
                attendance: AttendanceUndo::LookUp,
                timeoff: vec![],
                timeoff_left_behind: false,
                notify: false,
                team_event: None,
            }
        );
    }

    #[test]
    fn a_sync_that_failed_at_attendance_may_still_have_stored_the_record() {
        let mut r = record(State::Failed);
        r.failed_step = Some(Step::Attendance.as_str().into());
        assert_eq!(Plan::of(&r).attendance, AttendanceUndo::LookUp);
        let mut r = record(State::Failed);
        r.failed_step = Some(Step::Timeoff.as_str().into());
        r.approval_id = Some("A1".into());
        assert_eq!(Plan::of(&r).attendance, AttendanceUndo::Revoke("A1".into()));
    }

    #[test]
    fn a_time_off_create_with_an_unknown_outcome_is_left_behind_not_deleted() {
        let mut r = record(State::Failed);
        r.approval_id = Some("A1".into());
        r.timeoff_attempted_at = Some("2026-12-01T00:00:00Z".into());
        let plan = Plan::of(&r);
        assert!(plan.timeoff.is_empty());
        assert!(plan.timeoff_left_behind);
        let mut r = record(State::Synced);
        r.timeoff_unrecorded = 1;
        assert!(Plan::of(&r).timeoff_left_behind);
        r.timeoff_event_ids = vec!["timeoff:1".into()];
        r.timeoff_unrecorded = 0;
        assert!(!Plan::of(&r).timeoff_left_behind, "a known id is deleted");
    }

    #[test]
    fn a_record_without_its_leave_has_nothing_to_look_up_or_tell() {
        let mut r = record(State::Syncing);
        r.leave = None;
        assert_eq!(
            Plan::of(&r),
            Plan {
                attendance: AttendanceUndo::Nothing,
                timeoff: vec![],
                timeoff_left_behind: false,
                notify: false,
                team_event: None,
            }
        );
    }
}
