//! Typed Feishu events and their normalisation into [`DomainEvent`]s.

pub mod approval_instance;
pub mod card_action;
pub mod domain;
pub mod i18n;
pub mod im_message;
pub mod leave;
pub mod lenient;
pub mod reconcile;

pub use approval_instance::{ApprovalStatus, UserIds};
pub use domain::{
    CardSubmission, ChatMessage, DomainEvent, InstanceRef, Leave, LeaveType, LeaveUnit,
    OrderingKey, OvertimeCategory, OvertimeCompensation, OvertimeTerms,
};
pub use i18n::{Locale, LocalizedNames};
pub use reconcile::{RECONCILE, ReconcileAction, ReconcileEvent};

use approval_instance::{ApprovalInstanceV1, ApprovalStatusChangedV4};
use card_action::CardActionTrigger;
use im_message::MessageReceiveV1;
use leave::{LeaveApprovalRevert, LeaveApprovalV1, LeaveApprovalV2};

pub const LEAVE_APPROVAL: &str = "leave_approval";
pub const LEAVE_APPROVAL_V2: &str = "leave_approvalV2";
pub const LEAVE_APPROVAL_REVERT: &str = "leave_approval_revert";
pub const APPROVAL_INSTANCE: &str = "approval_instance";
pub const APPROVAL_INSTANCE_V4: &str = "approval.instance.status_changed_v4";
pub const MESSAGE_RECEIVE: &str = "im.message.receive_v1";
pub const CARD_ACTION: &str = "card.action.trigger";

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
    CardAction(CardActionTrigger),
    /// Not Feishu's: the reconciler's (`leave_sync.reconcile`).
    Reconcile(ReconcileEvent),
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
            CARD_ACTION => Self::CardAction(typed(event_type, event_json)?),
            RECONCILE => Self::Reconcile(typed(event_type, event_json)?),
            _ => return Ok(None),
        }))
    }

    /// Normalises the event. `envelope_tenant` is the tenant the envelope names (v2
    /// `header.tenant_key`), used when the event body has none.
    pub fn into_domain(self, envelope_tenant: Option<&str>) -> Result<DomainEvent, EventError> {
        match self {
            Self::LeaveApprovalV1(e) => e.into_domain(envelope_tenant),
            Self::LeaveApprovalV2(e) => e.into_domain(envelope_tenant),
            Self::LeaveApprovalRevert(e) => Ok(e.into_domain(envelope_tenant)),
            Self::ApprovalInstance(e) => Ok(e.into_domain(envelope_tenant)),
            Self::ApprovalStatusChangedV4(e) => Ok(e.into_domain(envelope_tenant)),
            Self::MessageReceive(e) => Ok(e.into_domain(envelope_tenant)),
            Self::CardAction(e) => Ok(e.into_domain(envelope_tenant)),
            Self::Reconcile(e) => Ok(e.into_domain()),
        }
    }
}

/// The tenant an event belongs to: its own `tenant_key`, else the envelope's, else
/// [`UNKNOWN_TENANT`].
pub(crate) fn tenant_of(own: Option<String>, envelope: Option<&str>) -> String {
    own.filter(|t| !t.is_empty())
        .or_else(|| envelope.map(str::to_owned))
        .unwrap_or_else(|| UNKNOWN_TENANT.to_owned())
}

/// A leave approval, checked: the period, the interval and the applicant make sense.
pub(crate) fn leave_approved(
    event_type: &'static str,
    instance: InstanceRef,
    leave: Leave,
) -> Result<DomainEvent, EventError> {
    check_period(event_type, &leave)?;
    Ok(DomainEvent::LeaveApproved {
        instance,
        leave,
        twin_may_say_more: event_type == LEAVE_APPROVAL,
    })
}

pub(crate) fn check_period(event_type: &'static str, leave: &Leave) -> Result<(), EventError> {
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
