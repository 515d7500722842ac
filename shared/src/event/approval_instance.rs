//! Generic approval-instance status events, used for custom leave forms that have no leave
//! widget group: `approval_instance` (schema 1.0, reference §2.4) and
//! `approval.instance.status_changed_v4` (schema 2.0, §2.5).

use serde::{Deserialize, Serialize};

use super::{DomainEvent, InstanceRef, lenient, tenant_of};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApprovalStatus {
    Pending,
    Approved,
    Rejected,
    Canceled,
    Deleted,
    Reverted,
    OvertimeClose,
    OvertimeRecover,
    #[serde(untagged)]
    Other(String),
}

impl ApprovalStatus {
    pub fn parse(s: &str) -> Self {
        serde_json::from_value(serde_json::Value::String(s.to_owned()))
            .unwrap_or_else(|_| Self::Other(s.to_owned()))
    }
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApprovalInstanceV1 {
    #[serde(default)]
    pub app_id: String,
    #[serde(default)]
    pub tenant_key: Option<String>,
    pub approval_code: String,
    pub instance_code: String,
    pub status: ApprovalStatus,
    /// Milliseconds; a string, except an int64 when the status is REVERTED.
    #[serde(default, deserialize_with = "lenient::opt_int_or_string")]
    pub operate_time: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int_or_string")]
    pub instance_operate_time: Option<i64>,
    /// The uuid given when the instance was created, NOT the event id (pitfall 17).
    #[serde(default)]
    pub uuid: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserIds {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub union_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_id: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ApprovalStatusChangedV4 {
    pub approval_code: String,
    pub instance_code: String,
    pub status: ApprovalStatus,
    #[serde(default, deserialize_with = "lenient::opt_int_or_string")]
    pub operate_time: Option<i64>,
    #[serde(default)]
    pub start_user: Option<UserIds>,
    #[serde(default)]
    pub external_id: Option<String>,
}

impl ApprovalInstanceV1 {
    pub fn into_domain(self, envelope_tenant: Option<&str>) -> DomainEvent {
        DomainEvent::ApprovalStatusChanged {
            instance: InstanceRef {
                tenant_key: tenant_of(self.tenant_key, envelope_tenant),
                approval_code: self.approval_code,
                instance_code: self.instance_code,
            },
            status: self.status,
        }
    }
}

impl ApprovalStatusChangedV4 {
    /// The 2.0 event carries no tenant of its own: the envelope's header names it.
    pub fn into_domain(self, envelope_tenant: Option<&str>) -> DomainEvent {
        DomainEvent::ApprovalStatusChanged {
            instance: InstanceRef {
                tenant_key: tenant_of(None, envelope_tenant),
                approval_code: self.approval_code,
                instance_code: self.instance_code,
            },
            status: self.status,
        }
    }
}
