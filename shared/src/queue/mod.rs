//! The SQS envelope between ingress and processor ([`QueuedEvent`]), and every SQS call
//! the project makes ([`sqs`]): the dev poller, `redrive` and the tests use these too.

pub mod sqs;

pub use sqs::{Queue, Received, ensure_queues, settings};

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// Current envelope version; the processor refuses versions it does not know, so a
/// rollback of the processor never misreads a newer ingress's messages.
pub const ENVELOPE_VERSION: u8 = 1;

/// Message attributes, also visible in the console and to `leave-sync redrive`.
pub const ATTR_EVENT_TYPE: &str = "event_type";
pub const ATTR_EVENT_ID: &str = "event_id";
/// Set on messages the processor sends to the dead-letter queue itself.
pub const ATTR_FAILURE: &str = "failure_reason";
/// Set by `leave-sync redrive`: lets a permanently failed instance be tried again.
pub const ATTR_REDRIVE: &str = "redrive";
/// Set on a message put back once to wait for its twin: it is not deferred again.
pub const ATTR_DEFERRED: &str = "deferred";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Schema {
    #[serde(rename = "1.0")]
    V1,
    #[serde(rename = "2.0")]
    V2,
}

/// One accepted webhook event. Carries the decrypted `event` object verbatim, but not the
/// envelope's verification token: the queue and the DLQ must not hold secrets.
#[derive(Debug, Serialize, Deserialize)]
pub struct QueuedEvent {
    pub v: u8,
    /// v1 `uuid` / v2 `header.event_id`.
    pub event_id: String,
    /// v1 `event.type` / v2 `header.event_type`.
    pub event_type: String,
    pub schema: Schema,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant_key: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_id: Option<String>,
    /// Feishu's send time as given (v1 `ts`, v2 `header.create_time`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at: Option<String>,
    pub received_at: jiff::Timestamp,
    pub event: Box<RawValue>,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("cannot send to SQS queue {url}: {detail}")]
    Send { url: String, detail: String },
    #[error("cannot read SQS queue {url}: {detail}")]
    Read { url: String, detail: String },
    #[error("SQS {op} on {url} failed: {detail}")]
    Change {
        op: &'static str,
        url: String,
        detail: String,
    },
    #[error("cannot encode the queue envelope: {0}")]
    Encode(#[from] serde_json::Error),
}

#[derive(Debug, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the message body is not a queue envelope: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error(
        "envelope version {0} is not supported by this processor (expected {ENVELOPE_VERSION})"
    )]
    Version(u8),
}

impl QueuedEvent {
    pub fn decode(body: &str) -> Result<Self, EnvelopeError> {
        let ev: Self = serde_json::from_str(body)?;
        if ev.v != ENVELOPE_VERSION {
            return Err(EnvelopeError::Version(ev.v));
        }
        Ok(ev)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips_and_checks_its_version() {
        let ev = QueuedEvent {
            v: ENVELOPE_VERSION,
            event_id: "e1".into(),
            event_type: "leave_approval".into(),
            schema: Schema::V1,
            tenant_key: Some("t".into()),
            app_id: None,
            sent_at: Some("1502199207.7171419".into()),
            received_at: jiff::Timestamp::UNIX_EPOCH,
            event: RawValue::from_string(r#"{"a": 1}"#.into()).unwrap(),
        };
        let body = serde_json::to_string(&ev).unwrap();
        assert!(body.contains(r#""schema":"1.0""#), "{body}");
        assert!(
            body.contains(r#""event":{"a": 1}"#),
            "raw event kept verbatim: {body}"
        );
        let back = QueuedEvent::decode(&body).unwrap();
        assert_eq!(back.event_id, "e1");
        assert_eq!(back.event.get(), r#"{"a": 1}"#);
        let newer = body.replace(r#""v":1"#, r#""v":2"#);
        assert!(matches!(
            QueuedEvent::decode(&newer),
            Err(EnvelopeError::Version(2))
        ));
        assert!(QueuedEvent::decode("not json").is_err());
    }
}
