//! Recognising what a (decrypted) webhook body is: a URL challenge, a schema 1.0 event or a
//! schema 2.0 event (reference §1.2, §1.5).

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::event::lenient::loose_string;
use crate::queue::Schema;

/// The top-level fields of every body shape Feishu sends, all optional: which are present
/// decides the shape. Unknown fields are skipped without being parsed.
#[derive(Debug, Default, Deserialize)]
pub struct Wire {
    /// Outer body of encrypted delivery.
    #[serde(default)]
    pub encrypt: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "loose_string")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub schema: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub token: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub challenge: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub uuid: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub ts: Option<String>,
    #[serde(default)]
    pub header: Option<HeaderV2>,
    #[serde(default)]
    pub event: Option<Box<RawValue>>,
}

#[derive(Debug, Default, Deserialize)]
pub struct HeaderV2 {
    #[serde(default, deserialize_with = "loose_string")]
    pub event_id: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub event_type: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub create_time: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub token: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub app_id: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub tenant_key: Option<String>,
}

/// The few fields of the `event` object routing needs, read leniently: a surprise in
/// them must not cost us the event.
#[derive(Debug, Default, Deserialize)]
pub struct EventHead {
    #[serde(default, rename = "type", deserialize_with = "loose_string")]
    pub kind: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub tenant_key: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub app_id: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub approval_code: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub instance_code: Option<String>,
    #[serde(default, deserialize_with = "loose_string")]
    pub status: Option<String>,
}

/// A recognised event, before routing.
#[derive(Debug)]
pub struct EventEnvelope {
    pub schema: Schema,
    pub token: Option<String>,
    pub event_id: String,
    pub event_type: String,
    pub tenant_key: Option<String>,
    pub app_id: Option<String>,
    pub sent_at: Option<String>,
    pub head: EventHead,
    pub event: Box<RawValue>,
}

#[derive(Debug)]
pub enum Envelope {
    UrlVerification {
        challenge: String,
        token: Option<String>,
    },
    Event(Box<EventEnvelope>),
}

/// Why a body is not a Feishu envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShapeError {
    NotAnEnvelope,
    NoChallenge,
    NoEventId,
    NoEventType,
    NoEvent,
}

impl ShapeError {
    pub fn describe(self) -> &'static str {
        match self {
            Self::NotAnEnvelope => {
                "the body is neither a url_verification, a schema 1.0 event_callback nor a \
                 schema 2.0 event"
            }
            Self::NoChallenge => "url_verification without a challenge",
            Self::NoEventId => "event without an event id (uuid / header.event_id)",
            Self::NoEventType => "event without an event type",
            Self::NoEvent => "event without an event object",
        }
    }
}

impl Wire {
    pub fn into_envelope(self) -> Result<Envelope, ShapeError> {
        if self.kind.as_deref() == Some("url_verification") {
            return Ok(Envelope::UrlVerification {
                challenge: self.challenge.ok_or(ShapeError::NoChallenge)?,
                token: self.token,
            });
        }
        let event = self.event.ok_or(ShapeError::NoEvent)?;
        // An event whose routing fields are not an object is still forwarded intact; the
        // processor decides with the full typed parse.
        let head: EventHead = serde_json::from_str(event.get()).unwrap_or_default();
        if self.schema.as_deref() == Some("2.0") {
            let h = self.header.ok_or(ShapeError::NotAnEnvelope)?;
            return Ok(Envelope::Event(Box::new(EventEnvelope {
                schema: Schema::V2,
                token: h.token,
                event_id: non_empty(h.event_id).ok_or(ShapeError::NoEventId)?,
                event_type: non_empty(h.event_type).ok_or(ShapeError::NoEventType)?,
                tenant_key: h.tenant_key.or_else(|| head.tenant_key.clone()),
                app_id: h.app_id.or_else(|| head.app_id.clone()),
                sent_at: h.create_time,
                head,
                event,
            })));
        }
        if self.kind.as_deref() == Some("event_callback") {
            return Ok(Envelope::Event(Box::new(EventEnvelope {
                schema: Schema::V1,
                token: self.token,
                event_id: non_empty(self.uuid).ok_or(ShapeError::NoEventId)?,
                event_type: non_empty(head.kind.clone()).ok_or(ShapeError::NoEventType)?,
                tenant_key: head.tenant_key.clone(),
                app_id: head.app_id.clone(),
                sent_at: self.ts,
                head,
                event,
            })));
        }
        Err(ShapeError::NotAnEnvelope)
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}
