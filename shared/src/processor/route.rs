//! Dispatch: each domain event goes to the workflow that owns it.

use super::Processor;
use crate::chat::replies::Stage;
use crate::event::{DomainEvent, InstanceRef};
use crate::sync::{Outcome, SyncError};
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
            } => self.approve_v1(instance, leave, attempt, event_id).await,
            DomainEvent::LeaveApproved {
                instance, leave, ..
            } => {
                let result = self.leave.approve(instance, leave, attempt, event_id).await;
                self.followed(instance, result, attempt).await.into()
            }
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
                let result = self.leave.revoke(instance, attempt, event_id).await;
                self.followed(instance, result, attempt).await.into()
            }
            DomainEvent::ApprovalStatusChanged { instance, status } => {
                let result = (self.leave)
                    .status_changed(instance, status.clone(), attempt, event_id)
                    .await;
                self.followed(instance, result, attempt).await.into()
            }
            DomainEvent::Reconciled {
                instance, action, ..
            } => {
                let result = (self.leave)
                    .reconciled(instance, *action, attempt, event_id)
                    .await;
                self.followed(instance, result, attempt).await.into()
            }
            DomainEvent::ChatMessage(message) => match &self.chat {
                Some(bot) => bot.handle(message, attempt).await.into(),
                None => Verdict::Done {
                    outcome: "ignored: no chat bot".into(),
                },
            },
            DomainEvent::CardSubmitted(submission) => match &self.chat {
                Some(bot) => bot.submitted(submission, attempt).await.into(),
                None => Verdict::Done {
                    outcome: "ignored: no chat bot".into(),
                },
            },
            DomainEvent::Unsupported { reason, .. } => Verdict::Done {
                outcome: format!("ignored: {reason}"),
            },
        }
    }

    /// A `leave_approval` whose twin may say more: synced, or deferred to wait for it.
    async fn approve_v1(
        &self,
        instance: &InstanceRef,
        leave: &crate::event::Leave,
        attempt: &Attempt,
        event_id: &str,
    ) -> Verdict {
        let result = self
            .leave
            .approve_v1(instance, leave, attempt, event_id)
            .await;
        match self.followed(instance, result, attempt).await {
            Ok(Outcome::AwaitingTwin { waited }) => Verdict::Defer {
                reason: "a leave_approval waits for its leave_approvalV2 twin, which names \
                         a cancellation's original and the working-time segments"
                    .into(),
                after: self.twin_delay(waited),
            },
            other => other.into(),
        }
    }

    /// An instance the chat bot created shows the sync's result on its reply card.
    async fn followed(
        &self,
        instance: &InstanceRef,
        result: Result<Outcome, SyncError>,
        attempt: &Attempt,
    ) -> Result<Outcome, SyncError> {
        let stage = match &result {
            Ok(Outcome::Synced) => Some(Stage::Synced),
            Ok(Outcome::Revoked) => Some(Stage::Revoked),
            _ => None,
        };
        if let (Some(stage), Some(bot)) = (stage, &self.chat) {
            bot.follow(instance, stage, attempt).await;
        }
        result
    }
}
