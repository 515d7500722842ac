//! Reading back what an earlier attempt wrote but could not record (pitfall 3). The
//! query answer is matched to our record by its `idempotent_id` when the answer carries
//! it, else by what the record says: its leave type (`uniq_id`) and its exact times. The
//! create page says the response's `idempotent_id` 「无需关注」, so it is not relied on.

use jiff::Timestamp;
use jiff::civil::Date;

use super::outcome::{Step, SyncError, at_step};
use super::{LeaveSync, mapping};
use crate::event::{InstanceRef, Leave};
use crate::feishu::FeishuClient;
use crate::feishu::attendance::{
    ApprovalType, EmployeeType, FoundLeave, UserApproval, UserApprovalQuery,
};

impl LeaveSync {
    /// The approval_id of the record this service wrote for `instance`, among records
    /// queried under each of `statuses` in turn.
    pub(super) async fn find_attendance(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        statuses: &[i32],
        lookup: Lookup,
    ) -> Result<Option<String>, SyncError> {
        let written = Written::of(&mapping::attendance_record(instance, leave));
        let today = Timestamp::now().to_zoned(self.zone.tz.clone()).date();
        let window = query_window(leave, today, lookup.written_on().unwrap_or(today));
        let by_shape = lookup.may_match_by_shape(&written);
        for &status in statuses {
            let found = query(feishu, leave, &window, status).await?;
            if let Some(id) = pick(&found, &written, by_shape) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }
}

/// Why a record is looked for, which decides how sure a match must be. `written_on`:
/// when the record was (or may have been) written, for a leave too far ahead to be found
/// by its dates.
#[derive(Debug, Clone, Copy)]
pub(super) enum Lookup {
    /// Feishu said our record is stored (the write succeeded, or our key exists).
    OursExists { written_on: Option<Date> },
    /// Our record may never have been written: the user's other records are all there
    /// is to match.
    MayNotExist { written_on: Option<Date> },
}

impl Lookup {
    fn written_on(self) -> Option<Date> {
        match self {
            Self::OursExists { written_on } | Self::MayNotExist { written_on } => written_on,
        }
    }

    /// Whether a record without an `idempotent_id` may be taken for ours by its shape. A
    /// leave's shape includes its type's `uniq_id`, which only this service writes. An
    /// overtime has no type: the employee's own overtime (a native form, self-service)
    /// can have the very same times, and taking it for ours when ours may not exist
    /// would revoke the employee's real overtime.
    fn may_match_by_shape(self, written: &Written) -> bool {
        matches!(self, Self::OursExists { .. }) || written.kind == ApprovalType::Leave
    }
}

/// What to ask `user_approvals/query` for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Window {
    /// `None`: by the records' period (the default, PeriodTime); `CreateTime`: by when
    /// they were written.
    pub by: Option<&'static str>,
    pub from: Date,
    pub to: Date,
}

/// The query's limits (doc "获取审批数据"): `check_date_from` no later than tomorrow
/// (「传入的日期不能超过当天 +1 天…传入 20241012 会报错」) and `check_date_to` within 30 days
/// of it. A leave starting by then is looked for by its period (the window reaches its
/// first day: assumed to find every record whose period overlaps it); one starting later
/// can only be found by when it was written (CreateTime, 「单据创建时间」: assumed to be the
/// write, a day either side).
pub(super) fn query_window(leave: &Leave, today: Date, written_on: Date) -> Window {
    let days = |n: i64| jiff::Span::new().days(n);
    let tomorrow = today.saturating_add(days(1));
    let (start, end) = (leave.start.date(), leave.end.date().max(leave.start.date()));
    let from = start.min(tomorrow);
    let reach = from.saturating_add(days(29));
    if start <= reach {
        return Window {
            by: None,
            from,
            to: end.min(reach).max(from),
        };
    }
    let from = written_on.saturating_sub(days(1)).min(tomorrow);
    Window {
        by: Some("CreateTime"),
        from,
        to: from.saturating_add(days(2)).min(tomorrow).max(from),
    }
}

async fn query(
    feishu: &FeishuClient,
    leave: &Leave,
    window: &Window,
    status: i32,
) -> Result<Vec<FoundLeave>, SyncError> {
    feishu
        .query_user_approvals(
            EmployeeType::EmployeeId,
            &UserApprovalQuery {
                user_ids: vec![leave.user_id.clone()],
                check_date_from: ymd(window.from),
                check_date_to: ymd(window.to),
                check_date_type: window.by.map(str::to_owned),
                status: Some(status),
            },
        )
        .await
        .map_err(at_step(Step::AttendanceQuery))
}

/// What identifies the record this service writes, a leave or an overtime.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Written {
    kind: ApprovalType,
    idempotent_id: Option<String>,
    /// A leave type's; overtime has none.
    uniq_id: Option<String>,
    start_time: String,
    end_time: String,
}

impl Written {
    fn of(record: &UserApproval) -> Self {
        if let Some(l) = record.leaves.first() {
            return Self {
                kind: ApprovalType::Leave,
                idempotent_id: l.idempotent_id.clone(),
                uniq_id: l.uniq_id.clone(),
                start_time: l.start_time.clone(),
                end_time: l.end_time.clone(),
            };
        }
        let o = record.overtime_works.first();
        Self {
            kind: ApprovalType::Overtime,
            idempotent_id: o.and_then(|o| o.idempotent_id.clone()),
            uniq_id: None,
            start_time: o.map(|o| o.start_time.clone()).unwrap_or_default(),
            end_time: o.map(|o| o.end_time.clone()).unwrap_or_default(),
        }
    }
}

/// Our record among `found`: the one of our kind with our `idempotent_id`; else, when the
/// answer leaves the id out, the one record of our kind with our type and our exact start
/// and end. Two such records (a resubmitted leave with the same times) cannot be told
/// apart: neither is taken, rather than revoke or claim the other instance's.
fn pick(found: &[FoundLeave], written: &Written, by_shape: bool) -> Option<String> {
    let found: Vec<&FoundLeave> = found.iter().filter(|f| f.kind == written.kind).collect();
    if let Some(f) = found
        .iter()
        .find(|f| f.idempotent_id.is_some() && f.idempotent_id == written.idempotent_id)
    {
        return f.approval_id.clone();
    }
    if !by_shape {
        return None;
    }
    let mut shaped = found
        .into_iter()
        .filter(|f| f.idempotent_id.is_none() && same_shape(f, written));
    match (shaped.next(), shaped.next()) {
        (Some(only), None) => only.approval_id.clone(),
        _ => None,
    }
}

/// Same type (`uniq_id`) and the very same start and end. The leave's `interval` cannot
/// be compared: the query page says it is not returned yet (「暂未开放」).
fn same_shape(found: &FoundLeave, written: &Written) -> bool {
    found.uniq_id == written.uniq_id
        && found.start_time.as_deref() == Some(written.start_time.as_str())
        && found.end_time.as_deref() == Some(written.end_time.as_str())
}

/// A date as the query wants it: the integer yyyyMMdd.
fn ymd(d: Date) -> u32 {
    u32::try_from(i32::from(d.year()) * 10_000 + i32::from(d.month()) * 100 + i32::from(d.day()))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance() -> InstanceRef {
        InstanceRef {
            tenant_key: "t".into(),
            approval_code: "A".into(),
            instance_code: "I-1".into(),
        }
    }

    fn written() -> Written {
        Written::of(&mapping::attendance_record(&instance(), &Leave::sample()))
    }

    fn with(f: impl FnOnce(&mut FoundLeave)) -> FoundLeave {
        let mut found = FoundLeave {
            kind: ApprovalType::Leave,
            approval_id: Some("A-1".into()),
            idempotent_id: None,
            uniq_id: None,
            start_time: None,
            end_time: None,
        };
        f(&mut found);
        found
    }

    #[test]
    fn found_by_idempotent_id_else_by_the_one_record_of_its_type_and_times() {
        let w = written();
        let shape = |f: &mut FoundLeave| {
            f.uniq_id = w.uniq_id.clone();
            f.start_time = Some(w.start_time.clone());
            f.end_time = Some(w.end_time.clone());
        };
        let by_key = with(|f| f.idempotent_id = Some("I-1".into()));
        assert_eq!(pick(&[by_key], &w, true).as_deref(), Some("A-1"));
        let other_key = with(|f| {
            shape(f);
            f.idempotent_id = Some("I-2".into());
        });
        assert_eq!(
            pick(&[other_key], &w, true),
            None,
            "another instance's record"
        );
        assert_eq!(pick(&[with(shape)], &w, true).as_deref(), Some("A-1"));
        let twin = with(|f| {
            shape(f);
            f.approval_id = Some("A-2".into());
        });
        assert_eq!(
            pick(&[with(shape), twin], &w, true),
            None,
            "two alike: neither"
        );
        let foreign = with(|f| {
            shape(f);
            f.uniq_id = Some("hr-annual".into());
        });
        assert_eq!(pick(&[foreign], &w, true), None, "another system's type");
    }

    #[test]
    fn an_overtime_is_found_among_overtime_records_only() {
        let mut overtime = Leave::sample();
        overtime.overtime = Some(crate::event::OvertimeTerms {
            category: crate::event::OvertimeCategory::RestDay,
            compensation: Default::default(),
        });
        let w = Written::of(&mapping::attendance_record(&instance(), &overtime));
        assert_eq!(
            (w.kind, w.uniq_id.as_deref()),
            (ApprovalType::Overtime, None)
        );
        let shape = |f: &mut FoundLeave| {
            f.start_time = Some(w.start_time.clone());
            f.end_time = Some(w.end_time.clone());
        };
        let leave_record = with(|f| {
            shape(f);
            f.idempotent_id = Some("I-1".into());
        });
        assert_eq!(
            pick(std::slice::from_ref(&leave_record), &w, true),
            None,
            "a leave is not ours"
        );
        let ours = FoundLeave {
            kind: ApprovalType::Overtime,
            approval_id: Some("O-1".into()),
            ..leave_record
        };
        assert_eq!(pick(&[ours], &w, true).as_deref(), Some("O-1"));
        let unkeyed = with(|f| {
            shape(f);
            f.kind = ApprovalType::Overtime;
        });
        assert_eq!(
            pick(std::slice::from_ref(&unkeyed), &w, true).as_deref(),
            Some("A-1"),
            "by its times"
        );
        assert_eq!(
            pick(&[unkeyed], &w, false),
            None,
            "unless ours may not exist"
        );
        let may_not_exist = Lookup::MayNotExist { written_on: None };
        assert!(
            !may_not_exist.may_match_by_shape(&w),
            "overtime: by key only"
        );
        assert!(
            may_not_exist.may_match_by_shape(&written()),
            "a leave: its uniq_id"
        );
    }

    #[test]
    fn the_window_never_starts_after_tomorrow() {
        let today = jiff::civil::date(2026, 11, 23);
        let mut leave = Leave::sample(); // 2026-12-01 → 12-03
        let w = query_window(&leave, today, today);
        assert_eq!(
            (w.by, w.from, w.to),
            (
                None,
                jiff::civil::date(2026, 11, 24),
                jiff::civil::date(2026, 12, 3)
            ),
            "from tomorrow, reaching the leave"
        );
        leave.start = jiff::civil::date(2026, 11, 2).at(0, 0, 0, 0);
        leave.end = jiff::civil::date(2026, 11, 4).at(0, 0, 0, 0);
        let w = query_window(&leave, today, today);
        assert_eq!(
            (w.by, w.from),
            (None, jiff::civil::date(2026, 11, 2)),
            "a past leave: its own days"
        );
        leave.start = jiff::civil::date(2027, 2, 1).at(0, 0, 0, 0);
        leave.end = jiff::civil::date(2027, 2, 3).at(0, 0, 0, 0);
        let written = jiff::civil::date(2026, 11, 20);
        let w = query_window(&leave, today, written);
        assert_eq!(
            (w.by, w.from, w.to),
            (
                Some("CreateTime"),
                jiff::civil::date(2026, 11, 19),
                jiff::civil::date(2026, 11, 21)
            ),
            "beyond reach: by when it was written"
        );
    }
}
