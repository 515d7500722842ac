//! `im.message.receive_v1` (reference §2.6): a user wrote to the bot.

use serde::Deserialize;

use super::approval_instance::UserIds;
use super::{ChatMessage, DomainEvent};

#[derive(Debug, Clone, Deserialize)]
pub struct MessageReceiveV1 {
    pub sender: Sender,
    pub message: Message,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Sender {
    pub sender_id: UserIds,
    #[serde(default)]
    pub sender_type: String,
    #[serde(default)]
    pub tenant_key: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// `om_...`: the dedupe key for this event type, and the target of a reply.
    pub message_id: String,
    #[serde(default)]
    pub root_id: Option<String>,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub create_time: Option<String>,
    pub chat_id: String,
    #[serde(default)]
    pub chat_type: String,
    pub message_type: String,
    /// JSON inside a JSON string (pitfall 13).
    pub content: String,
    #[serde(default)]
    pub mentions: Vec<Mention>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Mention {
    /// The `@_user_N` placeholder used in the text.
    pub key: String,
    #[serde(default)]
    pub id: UserIds,
    #[serde(default)]
    pub name: String,
}

impl MessageReceiveV1 {
    pub fn into_domain(self, envelope_tenant: Option<&str>) -> DomainEvent {
        DomainEvent::ChatMessage(ChatMessage {
            tenant_key: super::tenant_of(self.sender.tenant_key.clone(), envelope_tenant),
            mentions_someone: !self.message.mentions.is_empty(),
            create_time_ms: self
                .message
                .create_time
                .as_deref()
                .and_then(|t| t.parse().ok()),
            text: self.message.text(),
            message_id: self.message.message_id,
            chat_id: self.message.chat_id,
            chat_type: self.message.chat_type,
            sender: self.sender.sender_id,
        })
    }
}

impl Message {
    /// The text of a `text` message with every `@_user_N` placeholder removed, or `None`
    /// for other message types.
    pub fn text(&self) -> Option<String> {
        if self.message_type != "text" {
            return None;
        }
        #[derive(Deserialize)]
        struct TextContent {
            text: String,
        }
        let mut text = serde_json::from_str::<TextContent>(&self.content)
            .ok()?
            .text;
        // Longest keys first so "@_user_1" does not eat the prefix of "@_user_10".
        let mut keys: Vec<&str> = self.mentions.iter().map(|m| m.key.as_str()).collect();
        keys.sort_by_key(|k| std::cmp::Reverse(k.len()));
        for key in keys {
            text = text.replace(key, "");
        }
        Some(text.split_whitespace().collect::<Vec<_>>().join(" "))
    }
}
