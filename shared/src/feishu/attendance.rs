//! Attendance: write leave results, read them back, revoke them (reference §4.1–4.4).

use reqwest::Method;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::client::{Call, FeishuClient};
use super::error::FeishuError;
use crate::event::LocalizedNames;

/// `employee_type`: which kind of id `user_id` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmployeeType {
    /// The user_id shown in the admin console.
    EmployeeId,
    EmployeeNo,
    OpenId,
}

impl EmployeeType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmployeeId => "employee_id",
            Self::EmployeeNo => "employee_no",
            Self::OpenId => "open_id",
        }
    }
}

/// Attendance's unit enum, which differs from the approval events' (pitfall 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "i32", try_from = "i32")]
pub enum AttendanceUnit {
    Day = 1,
    Hour = 2,
    HalfDay = 3,
    HalfHour = 4,
}

impl From<AttendanceUnit> for i32 {
    fn from(u: AttendanceUnit) -> i32 {
        u as i32
    }
}

impl TryFrom<i32> for AttendanceUnit {
    type Error = String;
    fn try_from(n: i32) -> Result<Self, String> {
        Ok(match n {
            1 => Self::Day,
            2 => Self::Hour,
            3 => Self::HalfDay,
            4 => Self::HalfHour,
            _ => return Err(format!("unknown attendance unit {n}")),
        })
    }
}

/// `user_approval`: one day's worth of approval results for one user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserApproval {
    pub user_id: String,
    /// `yyyyMMdd`.
    pub date: String,
    /// Ignored by Feishu now (the attendance group's zone applies); never sent.
    #[serde(default, skip_serializing)]
    pub time_zone: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leaves: Vec<UserLeave>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub overtime_works: Vec<UserOvertimeWork>,
}

/// The `approval_id`s in a write's answer (`data.user_approval.leaves[]` and
/// `.overtime_works[]`), read leniently: the record is stored by then, so an echoed field
/// in an unexpected shape must not turn that success into a failure.
fn written_ids(data: &Value) -> Vec<String> {
    let approval = data.get("user_approval");
    ["leaves", "overtime_works"]
        .into_iter()
        .filter_map(|array| approval?.get(array)?.as_array())
        .flatten()
        .filter_map(|r| r.get("approval_id")?.as_str())
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `user_overtime_work` (doc "写入审批结果"; seed 002). No `uniq_id`, names or `interval`:
/// those are a leave's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserOvertimeWork {
    /// In `unit`s. Feishu computes the length from the ends unless support switched this
    /// field on (「默认采用start_time和end_time计算」), so it is sent in hours, to agree.
    pub duration: f64,
    pub unit: AttendanceUnit,
    /// 1 workday, 2 rest day, 3 holiday.
    pub category: i32,
    /// 0 record only, 1 days off, 2 pay.
    #[serde(rename = "type")]
    pub kind: i32,
    /// `yyyy-MM-dd HH:mm:ss` in the user's attendance-group zone.
    pub start_time: String,
    pub end_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_id: Option<String>,
    /// Response only: what revocation needs (`data.user_approval.overtime_works[].approval_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
}

/// `user_leave`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserLeave {
    /// Stable key of the leave type, < 14 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uniq_id: Option<String>,
    pub unit: AttendanceUnit,
    /// Seconds, whatever the unit. Not returned by the query API yet.
    #[serde(default)]
    pub interval: i64,
    /// `yyyy-MM-dd HH:mm:ss` in the user's attendance-group zone.
    pub start_time: String,
    pub end_time: String,
    pub i18n_names: LocalizedNames,
    pub default_locale: crate::event::Locale,
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotent_id: Option<String>,
    /// Response only: what revocation needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approve_pass_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approve_apply_time: Option<String>,
}

/// A leave record as `user_approvals/query` returns it, every field optional. The query
/// returns every record of the user, including ones other systems wrote in shapes this
/// service does not (reference §4.3); such a record can never fail the lookup, and a field
/// the page says need not be relied on (`idempotent_id`, 「响应体中无需关注」) may be absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundLeave {
    /// Which array it came from: `leaves` or `overtime_works`.
    pub kind: ApprovalType,
    pub approval_id: Option<String>,
    pub idempotent_id: Option<String>,
    pub uniq_id: Option<String>,
    pub start_time: Option<String>,
    pub end_time: Option<String>,
}

impl FoundLeave {
    /// The records of `data.user_approvals[].leaves[]` and `.overtime_works[]`, skipping
    /// whatever is not an object.
    fn all_in(data: &Value) -> Vec<Self> {
        [
            ("leaves", ApprovalType::Leave),
            ("overtime_works", ApprovalType::Overtime),
        ]
        .into_iter()
        .flat_map(|(array, kind)| Self::in_array(data, array, kind))
        .collect()
    }

    fn in_array(data: &Value, array: &str, kind: ApprovalType) -> Vec<Self> {
        // An empty string says no more than an absent field.
        let text = |v: &Value, k: &str| {
            v.get(k)
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        data.get("user_approvals")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|a| a.get(array).and_then(Value::as_array))
            .flatten()
            .filter(|l| l.is_object())
            .map(|l| Self {
                kind,
                approval_id: text(l, "approval_id"),
                idempotent_id: text(l, "idempotent_id"),
                uniq_id: text(l, "uniq_id"),
                start_time: text(l, "start_time"),
                end_time: text(l, "end_time"),
            })
            .collect()
    }
}

/// Body of `user_approvals/query`.
#[derive(Debug, Clone, Serialize)]
pub struct UserApprovalQuery {
    pub user_ids: Vec<String>,
    /// `yyyyMMdd`; the span may not exceed 30 days.
    pub check_date_from: u32,
    pub check_date_to: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub check_date_type: Option<String>,
    /// 2 approved (the default), 4 reverted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ApprovalType {
    Leave,
    Out,
    Overtime,
    Trip,
    Remedy,
}

/// Status for `approval_infos/process`: the only one leaves accept (revoke).
pub const STATUS_REVOKED: i32 = 4;
/// The statuses a revoked leave may be queried under: the query page lists only 已通过
/// and 已撤回 as queryable for leaves, with 3 = 已撤回 in its enum, while the process page
/// calls its revoke 4 (reference §4.2/4.3; the labels differ between pages). Both are tried.
pub const QUERY_STATUSES_REVOKED: [i32; 2] = [3, 4];
/// Status of an approved record, for `user_approvals/query`.
pub const STATUS_APPROVED: i32 = 2;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalInfo {
    pub approval_id: String,
    pub approval_type: ApprovalType,
    pub status: i32,
}

impl FeishuClient {
    /// `POST /open-apis/attendance/v1/user_approvals`. Insert-only: without an
    /// `idempotent_id` a retry writes a second record. Returns the records' `approval_id`s.
    pub async fn create_user_approval(
        &self,
        employee_type: EmployeeType,
        approval: &UserApproval,
    ) -> Result<Vec<String>, FeishuError> {
        #[derive(Serialize)]
        struct Req<'a> {
            user_approval: &'a UserApproval,
        }
        let call = Call::new(
            "attendance.user_approvals.create",
            Method::POST,
            "/open-apis/attendance/v1/user_approvals",
        )
        .query("employee_type", employee_type.as_str())
        .json(&Req {
            user_approval: approval,
        })?;
        let data = self.send_opt::<Value>(&call).await?.unwrap_or_default();
        Ok(written_ids(&data))
    }

    /// `POST /open-apis/attendance/v1/user_approvals/query`: every leave record of the
    /// users in the window, read leniently ([`FoundLeave`]).
    pub async fn query_user_approvals(
        &self,
        employee_type: EmployeeType,
        query: &UserApprovalQuery,
    ) -> Result<Vec<FoundLeave>, FeishuError> {
        let call = Call::new(
            "attendance.user_approvals.query",
            Method::POST,
            "/open-apis/attendance/v1/user_approvals/query",
        )
        .query("employee_type", employee_type.as_str())
        .json(query)?;
        let data = self.send_opt::<Value>(&call).await?.unwrap_or_default();
        Ok(FoundLeave::all_in(&data))
    }

    /// `POST /open-apis/attendance/v1/approval_infos/process`.
    pub async fn process_approval_info(
        &self,
        approval_id: &str,
        approval_type: ApprovalType,
        status: i32,
    ) -> Result<ApprovalInfo, FeishuError> {
        #[derive(Deserialize)]
        struct Resp {
            approval_info: ApprovalInfo,
        }
        let call = Call::new(
            "attendance.approval_infos.process",
            Method::POST,
            "/open-apis/attendance/v1/approval_infos/process",
        )
        .json(&serde_json::json!({
            "approval_id": approval_id,
            "approval_type": approval_type,
            "status": status,
        }))?;
        Ok(self.send::<Resp>(&call).await?.approval_info)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_write_answer_yields_its_ids_whatever_else_it_echoes() {
        let data = serde_json::json!({ "user_approval": {
            "user_id": "u", "date": "20261206",
            "overtime_works": [{ "approval_id": "7001", "duration": "8", "unit": "HOUR" }],
            "leaves": [{ "approval_id": "" }, "not an object"],
        }});
        assert_eq!(written_ids(&data), ["7001"]);
        assert!(written_ids(&serde_json::json!({})).is_empty());
    }
}
