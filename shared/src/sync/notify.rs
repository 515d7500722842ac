//! Telling the employee: one card per purpose, at most once (IM `uuid`, pitfall 13).

use serde_json::Value;
use tracing::warn;

use super::LeaveSync;
use super::cards::{self, Purpose};
use super::outcome::{Step, SyncError, feishu_err};
use crate::event::{InstanceRef, Leave};
use crate::feishu::FeishuClient;
use crate::feishu::im::{OutgoingMessage, ReceiveIdType};
use crate::ledger::Notified;

impl LeaveSync {
    /// The synced or withdrawn card for `leave`.
    pub(super) async fn notify(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        purpose: Purpose,
    ) -> Result<Notified, SyncError> {
        let card = match purpose {
            Purpose::Synced => cards::synced_card(instance, leave),
            Purpose::Revoked | Purpose::Cancellation => cards::revoked_card(instance, leave),
        };
        self.send_card(feishu, instance, leave, purpose, &card)
            .await
    }

    /// Sends `card` to the employee, with the uuid of `purpose` for this instance.
    pub(super) async fn send_card(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        purpose: Purpose,
        card: &Value,
    ) -> Result<Notified, SyncError> {
        let message = OutgoingMessage::card(
            leave.open_id.clone(),
            card,
            Some(cards::message_uuid(instance, purpose)),
        );
        match feishu.send_message(ReceiveIdType::OpenId, &message).await {
            Ok(sent) => Ok(Notified::Sent(sent.message_id)),
            Err(e) if e.is_retryable() => Err(feishu_err(Step::Notify, e)),
            Err(e) => {
                // The leave is synced; a message that can never be delivered must not undo
                // that or block the queue. Recorded in the ledger and logged.
                let reason = match e.hint() {
                    Some(hint) => format!("{e} — {hint}"),
                    None => e.to_string(),
                };
                warn!("could not notify the employee: {reason}");
                Ok(Notified::Failed(reason))
            }
        }
    }
}
