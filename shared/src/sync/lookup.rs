//! Reading back what an earlier attempt wrote but could not record: attendance records
//! carry our `idempotent_id`, so `user_approvals/query` finds them (pitfall 3).

use super::outcome::{Step, SyncError, at_step};
use super::{LeaveSync, mapping};
use crate::event::{InstanceRef, Leave};
use crate::feishu::FeishuClient;
use crate::feishu::attendance::{EmployeeType, UserApprovalQuery};

impl LeaveSync {
    /// The approval_id of the record this service wrote for `instance`, by
    /// `idempotent_id`, among records in `status` (2 approved, 4 reverted).
    pub(super) async fn find_attendance(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        status: i32,
    ) -> Result<Option<String>, SyncError> {
        let from = leave.start.date();
        // The query spans at most 30 days; the record sits on the leave's first day.
        let to = leave
            .end
            .date()
            .min(from.saturating_add(jiff::Span::new().days(29)));
        let found = feishu
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
            .map_err(at_step(Step::AttendanceQuery))?;
        let ours = mapping::idempotent_id(instance);
        Ok(found
            .into_iter()
            .flat_map(|a| a.leaves)
            .find(|l| l.idempotent_id.as_deref() == Some(ours.as_str()))
            .and_then(|l| l.approval_id))
    }
}

/// A date as the query wants it: the integer yyyyMMdd.
fn ymd(d: jiff::civil::Date) -> u32 {
    u32::try_from(i32::from(d.year()) * 10_000 + i32::from(d.month()) * 100 + i32::from(d.day()))
        .unwrap_or_default()
}
