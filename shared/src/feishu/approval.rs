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
}

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
