//! Reading back what an earlier attempt wrote but could not record (pitfall 3). The
//! query answer is matched to our record by its `idempotent_id` when the answer carries
//! it, else by what the record says: its leave type (`uniq_id`) and its exact times. The
//! create page says the response's `idempotent_id` 「无需关注」, so it is not relied on.

use super::outcome::{Step, SyncError, at_step};
use super::{LeaveSync, mapping};
use crate::event::{InstanceRef, Leave};
use crate::feishu::FeishuClient;
use crate::feishu::attendance::{EmployeeType, FoundLeave, UserApprovalQuery, UserLeave};

impl LeaveSync {
    /// The approval_id of the record this service wrote for `instance`, among records
    /// queried under each of `statuses` in turn.
    pub(super) async fn find_attendance(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        statuses: &[i32],
    ) -> Result<Option<String>, SyncError> {
        let ours = mapping::attendance_record(instance, leave);
        let Some(written) = ours.leaves.first() else {
            return Ok(None);
        };
        for &status in statuses {
            let found = query(feishu, leave, status).await?;
            if let Some(id) = found
                .into_iter()
                .find(|f| is_ours(f, written))
                .and_then(|f| f.approval_id)
            {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }
}

/// The applicant's records around the leave's first day, where the record sits.
async fn query(
    feishu: &FeishuClient,
    leave: &Leave,
    status: i32,
) -> Result<Vec<FoundLeave>, SyncError> {
    let from = leave.start.date();
    // The query spans at most 30 days.
    let to = leave
        .end
        .date()
        .min(from.saturating_add(jiff::Span::new().days(29)));
    feishu
        .query_user_approvals(
            EmployeeType::EmployeeId,
            &UserApprovalQuery {
                user_ids: vec![leave.user_id.clone()],
                check_date_from: ymd(from),
                check_date_to: ymd(to.max(from)),
                check_date_type: None,
                status: Some(status),
            },
        )
        .await
        .map_err(at_step(Step::AttendanceQuery))
}

/// Our record: the same `idempotent_id`, or (when the answer leaves it out) the same type
/// and the same start and end. Another record of the same type with the very same times
/// would be the same leave.
fn is_ours(found: &FoundLeave, written: &UserLeave) -> bool {
    match (&found.idempotent_id, &written.idempotent_id) {
        (Some(theirs), Some(ours)) => theirs == ours,
        _ => {
            found.uniq_id == written.uniq_id
                && found.start_time.as_deref() == Some(written.start_time.as_str())
                && found.end_time.as_deref() == Some(written.end_time.as_str())
        }
    }
}

/// A date as the query wants it: the integer yyyyMMdd.
fn ymd(d: jiff::civil::Date) -> u32 {
    u32::try_from(i32::from(d.year()) * 10_000 + i32::from(d.month()) * 100 + i32::from(d.day()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written() -> UserLeave {
        let leave = Leave::sample();
        let instance = InstanceRef {
            tenant_key: "t".into(),
            approval_code: "A".into(),
            instance_code: "I-1".into(),
        };
        mapping::attendance_record(&instance, &leave)
            .leaves
            .remove(0)
    }

    #[test]
    fn found_by_idempotent_id_or_by_type_and_times() {
        let w = written();
        let by_key = FoundLeave {
            idempotent_id: Some("I-1".into()),
            ..FoundLeave::default()
        };
        assert!(is_ours(&by_key, &w));
        let other_key = FoundLeave {
            idempotent_id: Some("I-2".into()),
            uniq_id: w.uniq_id.clone(),
            start_time: Some(w.start_time.clone()),
            end_time: Some(w.end_time.clone()),
            ..FoundLeave::default()
        };
        assert!(!is_ours(&other_key, &w), "another instance's record");
        let by_shape = FoundLeave {
            uniq_id: w.uniq_id.clone(),
            start_time: Some(w.start_time.clone()),
            end_time: Some(w.end_time.clone()),
            ..FoundLeave::default()
        };
        assert!(is_ours(&by_shape, &w));
        let foreign = FoundLeave {
            uniq_id: Some("hr-annual".into()),
            start_time: Some(w.start_time.clone()),
            end_time: Some(w.end_time.clone()),
            ..FoundLeave::default()
        };
        assert!(!is_ours(&foreign, &w), "another system's type");
    }
}
