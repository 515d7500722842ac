//! Dispatch: each domain event goes to the workflow that owns it.

use super::Processor;
use crate::event::DomainEvent;
use crate::sync::Outcome;
use crate::workflow::{Attempt, Verdict};

impl Processor {
    pub(super) async fn route(
        &self,
        event: &DomainEvent,
        event_id: &str,
        attempt: &Attempt,
    ) -> Verdict {
        match event {
            DomainEvent::LeaveApproved {
                instance,
                leave,
                twin_may_say_more: true,
            } => match self
                .leave
                .approve_v1(instance, leave, attempt, event_id)
                .await
            {
                Ok(Outcome::AwaitingTwin { waited }) => Verdict::Defer {
                    reason: "a leave_approval waits for its leave_approvalV2 twin, which names \
                             a cancellation's original and the working-time segments"
                        .into(),
                    after: self.twin_delay(waited),
                },
                other => other.into(),
            },
            DomainEvent::LeaveApproved {
                instance, leave, ..
            } => self
                .leave
                .approve(instance, leave, attempt, event_id)
                .await
                .into(),
            DomainEvent::LeaveCancelled {
                instance,
                origin_instance_code,
                leave,
            } => self
                .leave
                .cancellation(instance, origin_instance_code, leave, attempt, event_id)
                .await
                .into(),
            DomainEvent::LeaveRevoked { instance } => {
                self.leave.revoke(instance, attempt, event_id).await.into()
            }
            DomainEvent::ApprovalStatusChanged { instance, status } => self
                .leave
                .status_changed(instance, status.clone(), attempt, event_id)
                .await
                .into(),
            DomainEvent::Reconciled {
                instance, action, ..
            } => self
                .leave
                .reconciled(instance, *action, attempt, event_id)
                .await
                .into(),
            DomainEvent::ChatMessage(message) => match &self.chat {
                Some(bot) => bot.handle(message, attempt).await.into(),
                None => Verdict::Done {
                    outcome: "ignored: this processor has no chat bot".into(),
                },
            },
            DomainEvent::Unsupported { reason, .. } => Verdict::Done {
                outcome: format!("ignored: {reason}"),
            },
        }
    }
}
