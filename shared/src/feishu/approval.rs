//! Approval: read and create instances, subscribe to a definition's events
//! (reference §4.10–4.12).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Call, FeishuClient, segment};
use super::error::FeishuError;
use crate::event::ApprovalStatus;

/// `data` of `GET /open-apis/approval/v4/instances/:instance_id`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Instance {
    #[serde(default)]
    pub approval_name: String,
    pub approval_code: String,
    #[serde(default)]
    pub instance_code: String,
    pub status: ApprovalStatus,
    #[serde(default)]
    pub reverted: bool,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub open_id: String,
    /// A JSON string holding the widget array (decode it a second time).
    #[serde(default)]
    pub form: String,
    #[serde(default)]
    pub serial_number: Option<String>,
    #[serde(default)]
    pub uuid: Option<String>,
    /// When the instance was created (ms since the epoch; doc: 「审批创建时间，毫秒级时间戳」).
    /// The page types it as a string; a number is read too.
    #[serde(default, deserialize_with = "lenient_ms")]
    pub start_time: i64,
    /// When the approval ended (ms); 0 while it is pending (「审批未完成时该参数值为 0」).
    #[serde(default, deserialize_with = "lenient_ms")]
    pub end_time: i64,
}

/// A millisecond timestamp given as a string or a number; anything else reads as 0.
fn lenient_ms<'de, D: serde::Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s.trim().parse().unwrap_or(0),
        serde_json::Value::Number(n) => n.as_i64().unwrap_or(0),
        _ => 0,
    })
}

/// One page of `GET /open-apis/approval/v4/instances` (doc "批量获取审批实例 ID").
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct InstancePage {
    /// In creation order.
    #[serde(default)]
    pub instance_code_list: Vec<String>,
    /// Only when `has_more`.
    #[serde(default)]
    pub page_token: Option<String>,
    #[serde(default)]
    pub has_more: bool,
}

/// The list API's limits (doc "批量获取审批实例 ID"): a creation-time window of at most 10
/// hours per query (「单次查询时间范围不要超过10小时」) and pages of at most 100.
pub const LIST_WINDOW_MS: i64 = 10 * 3600 * 1000;
pub const LIST_PAGE_SIZE: u32 = 100;

/// Body of `POST /open-apis/approval/v4/instances`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewInstance {
    pub approval_code: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_id: Option<String>,
    /// A JSON string of `[{"id", "type", "value"}]`.
    pub form: String,
    /// Idempotency key, unique per tenant.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscription {
    Subscribed,
    AlreadySubscribed,
}

/// "Already subscribed": 1390007 "subscription existed" on the v4 page "订阅审批事件", 60007
/// in the generic approval table. Both mean the goal is reached.
const ALREADY_SUBSCRIBED: [i64; 2] = [60007, 1390007];

impl FeishuClient {
    pub async fn get_instance(&self, instance_code: &str) -> Result<Instance, FeishuError> {
        let call = Call::new(
            "approval.instances.get",
            Method::GET,
            format!(
                "/open-apis/approval/v4/instances/{}",
                segment(instance_code)
            ),
        )
        .query("user_id_type", "user_id");
        self.send(&call).await
    }

    /// One page of the codes of `approval_code`'s instances created in `[start_ms, end_ms]`
    /// (at most [`LIST_WINDOW_MS`] apart). Keep the window fixed while paging: whether a
    /// `page_token` outlives a change of window is not documented.
    pub async fn list_instances(
        &self,
        approval_code: &str,
        (start_ms, end_ms): (i64, i64),
        page_token: Option<&str>,
    ) -> Result<InstancePage, FeishuError> {
        let mut call = Call::new(
            "approval.instances.list",
            Method::GET,
            "/open-apis/approval/v4/instances",
        )
        .query("approval_code", approval_code)
        .query("start_time", start_ms.to_string())
        .query("end_time", end_ms.to_string())
        .query("page_size", LIST_PAGE_SIZE.to_string());
        if let Some(token) = page_token {
            call = call.query("page_token", token);
        }
        Ok(self.send_opt(&call).await?.unwrap_or_default())
    }

    pub async fn create_instance(&self, instance: &NewInstance) -> Result<String, FeishuError> {
        #[derive(Deserialize)]
        struct Resp {
            instance_code: String,
        }
        let call = Call::new(
            "approval.instances.create",
            Method::POST,
            "/open-apis/approval/v4/instances",
        )
        .json(instance)?;
        Ok(self.send::<Resp>(&call).await?.instance_code)
    }

    /// Withdraws an instance on behalf of its submitter (doc "撤回审批实例", reference 7.4):
    /// only where the definition's admin allows withdrawing; a pending instance ends, an
    /// approved one goes back to review (so the bot only withdraws pending ones).
    pub async fn cancel_instance(
        &self,
        approval_code: &str,
        instance_code: &str,
        submitter_open_id: &str,
    ) -> Result<(), FeishuError> {
        #[derive(Serialize)]
        struct Body<'a> {
            approval_code: &'a str,
            instance_code: &'a str,
            user_id: &'a str,
        }
        let call = Call::new(
            "approval.instances.cancel",
            Method::POST,
            "/open-apis/approval/v4/instances/cancel",
        )
        .query("user_id_type", "open_id")
        .json(&Body {
            approval_code,
            instance_code,
            user_id: submitter_open_id,
        })?;
        self.send_opt::<serde::de::IgnoredAny>(&call).await?;
        Ok(())
    }

    /// Events of an approval definition only reach the app after this call (pitfall 11).
    pub async fn subscribe(&self, approval_code: &str) -> Result<Subscription, FeishuError> {
        let call = Call::new(
            "approval.approvals.subscribe",
            Method::POST,
            format!(
                "/open-apis/approval/v4/approvals/{}/subscribe",
                segment(approval_code)
            ),
        );
        match self.send_opt::<serde::de::IgnoredAny>(&call).await {
            Ok(_) => Ok(Subscription::Subscribed),
            Err(e) if e.code().is_some_and(|c| ALREADY_SUBSCRIBED.contains(&c)) => {
                Ok(Subscription::AlreadySubscribed)
            }
            Err(e) => Err(e),
        }
    }
}
