//! How the bot answers, once: a reply to the message (with a uuid from it), or, for the
//! form card, the card itself replaced; each answer recorded under the lease.

use serde_json::Value;
use tracing::warn;

use super::bot::{ChatBot, ChatError, Turn};
use super::replies;
use crate::feishu::im::{OutgoingMessage, ReceiveIdType, Reply};
use crate::ledger::chat::ChatStep;

/// Reply errors after which there is nobody to answer (doc "回复消息", reference 4.8,
/// 7.5): bot not in the group, recalled, invisible, self-destructing, no permission to
/// send, outside the availability range, chat dissolved, the user stopped the bot.
const REPLY_IMPOSSIBLE: [i64; 9] = [
    230002, 230011, 230013, 230018, 230035, 230050, 230053, 230111, 232009,
];
/// The submitted card can no longer be updated: too old (230031), recalled (230011),
/// deleted (230110).
const CARD_GONE: [i64; 3] = [230031, 230011, 230110];
/// "The message is being sent": a concurrent request with the same uuid; try again.
const REPLY_IN_FLIGHT: i64 = 230049;

impl ChatBot {
    /// Replies to the message once: the reply's uuid makes a resend within Feishu's hour a
    /// no-op, the ledger makes a later one never happen.
    pub(super) async fn answer(&self, turn: &mut Turn<'_>, card: &Value) -> Result<(), ChatError> {
        if turn.record.reply_message_id.is_some() {
            return Ok(());
        }
        let m = turn.message;
        if let Some(card_id) = turn.update_card.clone() {
            return self.answer_on_card(turn, &card_id, card).await;
        }
        let reply = Reply {
            msg_type: "interactive".into(),
            content: card.to_string(),
            reply_in_thread: false,
            uuid: Some(replies::uuid_for(&m.tenant_key, &m.message_id, "reply")),
        };
        let sent = match turn.feishu.reply_message(&m.message_id, &reply).await {
            Ok(sent) => sent,
            Err(e) if e.code().is_some_and(|c| REPLY_IMPOSSIBLE.contains(&c)) => {
                // Nobody to answer any more: retrying cannot help, and whatever was
                // created stays recorded.
                warn!(code = e.code(), error = %e, "chat: the message can no longer be answered");
                return Ok(());
            }
            Err(e) if e.code() == Some(REPLY_IN_FLIGHT) => {
                return Err(ChatError::Busy);
            }
            Err(source) => {
                return Err(ChatError::Feishu {
                    step: "reply",
                    source,
                });
            }
        };
        self.ledger
            .record_chat(
                &m.tenant_key,
                &m.message_id,
                &turn.lease,
                &ChatStep::Reply(sent.message_id.clone()),
            )
            .await?;
        turn.record.reply_message_id = Some(sent.message_id);
        Ok(())
    }

    /// Answers by replacing the submitted form card. It can be submitted for 30 days but
    /// updated for 14, and may be recalled or deleted (reference 7.5): then in a new
    /// message to the sender instead.
    async fn answer_on_card(
        &self,
        turn: &mut Turn<'_>,
        card_id: &str,
        card: &Value,
    ) -> Result<(), ChatError> {
        let m = turn.message;
        let answered = match turn.feishu.update_card(card_id, card).await {
            Ok(()) => card_id.to_owned(),
            Err(e) if e.code().is_some_and(|c| CARD_GONE.contains(&c)) => {
                let Some(open_id) = m.sender.open_id.clone() else {
                    return Ok(());
                };
                let uuid = replies::uuid_for(&m.tenant_key, &m.message_id, "reply");
                let message = OutgoingMessage::card(open_id, card, Some(uuid));
                (turn.feishu)
                    .send_message(ReceiveIdType::OpenId, &message)
                    .await
                    .map_err(|source| ChatError::Feishu {
                        step: "message",
                        source,
                    })?
                    .message_id
            }
            Err(source) => {
                return Err(ChatError::Feishu {
                    step: "card update",
                    source,
                });
            }
        };
        let step = ChatStep::Reply(answered.clone());
        (self.ledger)
            .record_chat(&m.tenant_key, &m.message_id, &turn.lease, &step)
            .await?;
        turn.record.reply_message_id = Some(answered);
        Ok(())
    }
}
