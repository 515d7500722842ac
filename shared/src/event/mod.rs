//! Typed Feishu events and their normalisation into [`DomainEvent`]s.

pub mod approval_instance;
pub mod domain;
pub mod i18n;
pub mod im_message;
pub mod leave;
pub mod lenient;

pub use approval_instance::{ApprovalStatus, UserIds};
pub use domain::{ChatMessage, DomainEvent, InstanceRef, Leave, LeaveType, LeaveUnit, OrderingKey};
pub use i18n::{Locale, LocalizedNames};

use approval_instance::{ApprovalInstanceV1, ApprovalStatusChangedV4};
use im_message::MessageReceiveV1;
use leave::{LeaveApprovalRevert, LeaveApprovalV1, LeaveApprovalV2};

pub const LEAVE_APPROVAL: &str = "leave_approval";
pub const LEAVE_APPROVAL_V2: &str = "leave_approvalV2";
pub const LEAVE_APPROVAL_REVERT: &str = "leave_approval_revert";
pub const APPROVAL_INSTANCE: &str = "approval_instance";
pub const APPROVAL_INSTANCE_V4: &str = "approval.instance.status_changed_v4";
pub const MESSAGE_RECEIVE: &str = "im.message.receive_v1";

/// Used when neither the event nor its envelope names the tenant (single-tenant apps).
pub const UNKNOWN_TENANT: &str = "default";

#[derive(Debug, thiserror::Error)]
pub enum EventError {
    #[error("{event_type} event does not match its documented shape: {source}")]
    Malformed {
        event_type: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{event_type} event has an invalid {field}: {reason}")]
    Invalid {
        event_type: &'static str,
        field: &'static str,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub enum FeishuEvent {
    LeaveApprovalV1(LeaveApprovalV1),
    LeaveApprovalV2(LeaveApprovalV2),
    LeaveApprovalRevert(LeaveApprovalRevert),
    ApprovalInstance(ApprovalInstanceV1),
    ApprovalStatusChangedV4(ApprovalStatusChangedV4),
    MessageReceive(MessageReceiveV1),
}

impl FeishuEvent {
    /// Parses the `event` object of a known type; `Ok(None)` for types we do not handle.
    pub fn parse(event_type: &str, event_json: &str) -> Result<Option<Self>, EventError> {
        fn typed<T: serde::de::DeserializeOwned>(t: &str, json: &str) -> Result<T, EventError> {
            serde_json::from_str(json).map_err(|source| EventError::Malformed {
                event_type: t.to_owned(),
                source,
            })
        }
        Ok(Some(match event_type {
            LEAVE_APPROVAL => Self::LeaveApprovalV1(typed(event_type, event_json)?),
            LEAVE_APPROVAL_V2 => Self::LeaveApprovalV2(typed(event_type, event_json)?),
            LEAVE_APPROVAL_REVERT => Self::LeaveApprovalRevert(typed(event_type, event_json)?),
            APPROVAL_INSTANCE => Self::ApprovalInstance(typed(event_type, event_json)?),
            APPROVAL_INSTANCE_V4 => Self::ApprovalStatusChangedV4(typed(event_type, event_json)?),
            MESSAGE_RECEIVE => Self::MessageReceive(typed(event_type, event_json)?),
            _ => return Ok(None),
        }))
    }

    /// `envelope_tenant` is the tenant the envelope names (v2 `header.tenant_key`), used
    /// when the event body has none.
    pub fn into_domain(self, envelope_tenant: Option<&str>) -> Result<DomainEvent, EventError> {
        let tenant = |own: Option<String>| {
            own.filter(|t| !t.is_empty())
                .or_else(|| envelope_tenant.map(str::to_owned))
                .unwrap_or_else(|| UNKNOWN_TENANT.to_owned())
        };
        Ok(match self {
            Self::LeaveApprovalV1(e) => {
                let unit = LeaveUnit::from_v1(e.leave_unit).ok_or_else(|| EventError::Invalid {
                    event_type: LEAVE_APPROVAL,
                    field: "leave_unit",
                    reason: format!("{} is not one of 1..=5", e.leave_unit),
                })?;
                let (names, default_locale) = e.names();
                let leave = Leave {
                    user_id: e.employee_id.clone(),
                    open_id: e.open_id.clone(),
                    leave_type: LeaveType {
                        key: e.leave_type.clone(),
                        names,
                        default_locale,
                    },
                    start: e.leave_start_time,
                    end: e.leave_end_time,
                    interval_secs: e.leave_interval,
                    unit,
                    reason: e.leave_reason.clone(),
                    segments: Vec::new(),
                };
                check_period(LEAVE_APPROVAL, &leave)?;
                DomainEvent::LeaveApproved {
                    instance: InstanceRef {
                        tenant_key: tenant(e.tenant_key),
                        approval_code: e.approval_code,
                        instance_code: e.instance_code,
                    },
                    leave,
                }
            }
            Self::LeaveApprovalV2(e) => {
                let instance = InstanceRef {
                    tenant_key: tenant(e.tenant_key.clone()),
                    approval_code: e.approval_code.clone(),
                    instance_code: e.instance_code.clone(),
                };
                if !e.origin_instance_code.trim().is_empty() {
                    return Ok(DomainEvent::Unsupported {
                        instance: Some(instance),
                        reason: format!(
                            "leave cancellation form (销假) for instance {}: partial \
                             cancellations are not applied automatically",
                            e.origin_instance_code
                        ),
                    });
                }
                let unit =
                    LeaveUnit::from_name(&e.leave_unit).ok_or_else(|| EventError::Invalid {
                        event_type: LEAVE_APPROVAL_V2,
                        field: "leave_unit",
                        reason: format!(
                            "{:?} is not DAY, HALF_DAY, HOUR, HALF_HOUR or MINUTE",
                            e.leave_unit
                        ),
                    })?;
                let (names, default_locale) = e.names();
                let leave = Leave {
                    user_id: e.user_id,
                    open_id: e.open_id,
                    leave_type: LeaveType {
                        key: e.leave_name,
                        names,
                        default_locale,
                    },
                    start: e.leave_start_time,
                    end: e.leave_end_time,
                    interval_secs: e.leave_interval,
                    unit,
                    reason: e.leave_reason,
                    segments: e.leave_range,
                };
                check_period(LEAVE_APPROVAL_V2, &leave)?;
                DomainEvent::LeaveApproved { instance, leave }
            }
            Self::LeaveApprovalRevert(e) => DomainEvent::LeaveRevoked {
                instance: InstanceRef {
                    tenant_key: tenant(e.tenant_key),
                    approval_code: e.approval_code,
                    instance_code: e.instance_code,
                },
            },
            Self::ApprovalInstance(e) => DomainEvent::ApprovalStatusChanged {
                instance: InstanceRef {
                    tenant_key: tenant(e.tenant_key),
                    approval_code: e.approval_code,
                    instance_code: e.instance_code,
                },
                status: e.status,
            },
            Self::ApprovalStatusChangedV4(e) => DomainEvent::ApprovalStatusChanged {
                instance: InstanceRef {
                    tenant_key: tenant(None),
                    approval_code: e.approval_code,
                    instance_code: e.instance_code,
                },
                status: e.status,
            },
            Self::MessageReceive(e) => DomainEvent::ChatMessage(ChatMessage {
                text: e.message.text(),
                message_id: e.message.message_id,
                chat_id: e.message.chat_id,
                chat_type: e.message.chat_type,
                sender: e.sender.sender_id,
            }),
        })
    }
}

fn check_period(event_type: &'static str, leave: &Leave) -> Result<(), EventError> {
    if leave.end < leave.start {
        return Err(EventError::Invalid {
            event_type,
            field: "leave_end_time",
            reason: format!("{} is before leave_start_time {}", leave.end, leave.start),
        });
    }
    if leave.interval_secs < 0 {
        return Err(EventError::Invalid {
            event_type,
            field: "leave_interval",
            reason: format!("{} is negative", leave.interval_secs),
        });
    }
    if leave.user_id.trim().is_empty() || leave.open_id.trim().is_empty() {
        return Err(EventError::Invalid {
            event_type,
            field: "user_id/open_id",
            reason: "the applicant is not identified".into(),
        });
    }
    Ok(())
}
