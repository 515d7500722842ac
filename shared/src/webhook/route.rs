//! Which events go on the queue. Everything else is acknowledged and dropped, because a
//! non-200 would only make Feishu retry (and, for ordered events, stall the ones behind).

use std::collections::BTreeSet;
use std::fmt;

use crate::event::{self, ApprovalStatus};

use super::envelope::EventHead;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Enqueue,
    Ignore(IgnoreReason),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoreReason {
    UnhandledType,
    /// A generic approval event for a definition listed in neither CUSTOM_APPROVAL_CODES
    /// nor OVERTIME_APPROVAL_CODES (forms with the leave widget group arrive as
    /// `leave_approval*` instead).
    NotACustomLeaveForm(String),
    StatusNotActionable(String),
    /// `approval.instance.status_changed_v4` reaches an app only through a per-user
    /// subscription made with a user_access_token (reference §7.8), which a service acting
    /// with its tenant token cannot make; `approval_instance` carries the same statuses.
    /// Acknowledged, never acted on, so that two events never drive one change.
    NeedsUserSubscription,
}

impl fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnhandledType => f.write_str("event type not handled"),
            Self::NotACustomLeaveForm(code) => write!(
                f,
                "approval code {code:?} is in neither CUSTOM_APPROVAL_CODES nor \
                 OVERTIME_APPROVAL_CODES"
            ),
            Self::StatusNotActionable(s) => write!(f, "status {s} needs no action"),
            Self::NeedsUserSubscription => f.write_str(
                "approval.instance.status_changed_v4 needs a per-user subscription; \
                 approval_instance is used instead",
            ),
        }
    }
}

/// Statuses of a custom form's instance that change what is synced.
pub fn is_actionable(status: &ApprovalStatus) -> bool {
    matches!(
        status,
        ApprovalStatus::Approved | ApprovalStatus::Reverted | ApprovalStatus::Canceled
    )
}

pub fn route(event_type: &str, head: &EventHead, custom_codes: &BTreeSet<String>) -> Route {
    match event_type {
        event::LEAVE_APPROVAL | event::LEAVE_APPROVAL_V2 | event::LEAVE_APPROVAL_REVERT => {
            Route::Enqueue
        }
        event::APPROVAL_INSTANCE_V4 => Route::Ignore(IgnoreReason::NeedsUserSubscription),
        event::APPROVAL_INSTANCE => {
            let code = head.approval_code.clone().unwrap_or_default();
            if !custom_codes.contains(&code) {
                return Route::Ignore(IgnoreReason::NotACustomLeaveForm(code));
            }
            let status = ApprovalStatus::parse(head.status.as_deref().unwrap_or_default());
            if is_actionable(&status) {
                Route::Enqueue
            } else {
                Route::Ignore(IgnoreReason::StatusNotActionable(
                    head.status.clone().unwrap_or_default(),
                ))
            }
        }
        // The bot answers every direct message (even to say it is not set up), so all go on.
        event::MESSAGE_RECEIVE => Route::Enqueue,
        // The leave form's submit: Feishu never retries a callback, so it goes on the
        // queue like an event and the answer says whether it got there.
        event::CARD_ACTION => Route::Enqueue,
        _ => Route::Ignore(IgnoreReason::UnhandledType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(code: &str, status: &str) -> EventHead {
        EventHead {
            approval_code: Some(code.into()),
            status: Some(status.into()),
            ..EventHead::default()
        }
    }

    #[test]
    fn routes() {
        let codes: BTreeSet<String> = ["CUSTOM".to_owned()].into();
        let none = EventHead::default();
        for t in [
            "leave_approval",
            "leave_approvalV2",
            "leave_approval_revert",
        ] {
            assert_eq!(route(t, &none, &codes), Route::Enqueue, "{t}");
        }
        let t = "approval_instance";
        for s in ["APPROVED", "REVERTED", "CANCELED"] {
            assert_eq!(route(t, &head("CUSTOM", s), &codes), Route::Enqueue);
        }
        assert!(matches!(
            route(t, &head("CUSTOM", "PENDING"), &codes),
            Route::Ignore(IgnoreReason::StatusNotActionable(_))
        ));
        assert!(matches!(
            route(t, &head("OTHER", "APPROVED"), &codes),
            Route::Ignore(IgnoreReason::NotACustomLeaveForm(_))
        ));
        assert_eq!(
            route(
                "approval.instance.status_changed_v4",
                &head("CUSTOM", "APPROVED"),
                &codes
            ),
            Route::Ignore(IgnoreReason::NeedsUserSubscription)
        );
        assert_eq!(
            route("im.message.receive_v1", &none, &codes),
            Route::Enqueue
        );
        assert_eq!(
            route("contact.user.created_v3", &none, &codes),
            Route::Ignore(IgnoreReason::UnhandledType)
        );
    }
}
