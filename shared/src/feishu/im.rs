//! IM: send and reply to messages as the bot (reference §4.8–4.9).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Call, FeishuClient, segment};
use super::error::FeishuError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReceiveIdType {
    OpenId,
    UnionId,
    UserId,
    Email,
    ChatId,
}

impl ReceiveIdType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenId => "open_id",
            Self::UnionId => "union_id",
            Self::UserId => "user_id",
            Self::Email => "email",
            Self::ChatId => "chat_id",
        }
    }
}

/// Body of `POST /open-apis/im/v1/messages`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutgoingMessage {
    pub receive_id: String,
    pub msg_type: String,
    /// Serialized JSON inside this JSON string (pitfall 13).
    pub content: String,
    /// ≤ 50 characters; the same uuid sends at most one message within an hour.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

impl OutgoingMessage {
    pub fn card(
        receive_id: impl Into<String>,
        card: &serde_json::Value,
        uuid: Option<String>,
    ) -> Self {
        Self {
            receive_id: receive_id.into(),
            msg_type: "interactive".into(),
            content: card.to_string(),
            uuid,
        }
    }

    pub fn text(receive_id: impl Into<String>, text: &str, uuid: Option<String>) -> Self {
        Self {
            receive_id: receive_id.into(),
            msg_type: "text".into(),
            content: serde_json::json!({ "text": text }).to_string(),
            uuid,
        }
    }
}

/// Body of `POST /open-apis/im/v1/messages/:message_id/reply`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    pub msg_type: String,
    pub content: String,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub reply_in_thread: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uuid: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct SentMessage {
    pub message_id: String,
    #[serde(default)]
    pub chat_id: Option<String>,
    #[serde(default)]
    pub msg_type: Option<String>,
    #[serde(default)]
    pub create_time: Option<String>,
}

impl FeishuClient {
    pub async fn send_message(
        &self,
        receive_id_type: ReceiveIdType,
        message: &OutgoingMessage,
    ) -> Result<SentMessage, FeishuError> {
        let call = Call::new(
            "im.messages.create",
            Method::POST,
            "/open-apis/im/v1/messages",
        )
        .query("receive_id_type", receive_id_type.as_str())
        .json(message)?;
        self.send(&call).await
    }

    /// Replaces the content of a card the bot sent (doc "更新已发送的消息卡片", reference
    /// 7.5): within 14 days of sending, at most 5 updates a second per message; a JSON 1.0
    /// card needs `"config": {"update_multi": true}` in the sent card and in this one.
    pub async fn update_card(
        &self,
        message_id: &str,
        card: &serde_json::Value,
    ) -> Result<(), FeishuError> {
        let call = Call::new(
            "im.messages.patch",
            Method::PATCH,
            format!("/open-apis/im/v1/messages/{}", segment(message_id)),
        )
        .json(&serde_json::json!({ "content": card.to_string() }))?;
        self.send_opt::<serde::de::IgnoredAny>(&call).await?;
        Ok(())
    }

    pub async fn reply_message(
        &self,
        message_id: &str,
        reply: &Reply,
    ) -> Result<SentMessage, FeishuError> {
        let call = Call::new(
            "im.messages.reply",
            Method::POST,
            format!("/open-apis/im/v1/messages/{}/reply", segment(message_id)),
        )
        .json(reply)?;
        self.send(&call).await
    }
}
