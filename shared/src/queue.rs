//! The SQS envelope between ingress and processor, and the queue operations on it.

use std::collections::HashMap;

use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
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

/// An SQS queue addressed by URL.
#[derive(Debug, Clone)]
pub struct Queue {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

impl Queue {
    pub fn new(sqs: aws_sdk_sqs::Client, url: impl Into<String>) -> Self {
        Self {
            sqs,
            url: url.into(),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Puts an accepted event on the queue. Returns only once SQS has stored it.
    pub async fn enqueue(&self, event: &QueuedEvent) -> Result<(), QueueError> {
        let body = serde_json::to_string(event)?;
        let attrs = HashMap::from([
            (ATTR_EVENT_TYPE.to_owned(), event.event_type.clone()),
            (ATTR_EVENT_ID.to_owned(), event.event_id.clone()),
        ]);
        self.send(body, attrs).await
    }

    /// Sends a message that can never succeed to this (dead-letter) queue, body intact,
    /// with why it failed.
    pub async fn dead_letter(
        &self,
        body: &str,
        mut attrs: HashMap<String, String>,
        reason: &str,
    ) -> Result<(), QueueError> {
        // SQS caps all attributes together at 256 KiB; a reason is a sentence.
        let reason: String = reason.chars().take(1000).collect();
        attrs.insert(ATTR_FAILURE.to_owned(), reason);
        self.send(body.to_owned(), attrs).await
    }

    /// (waiting, in flight): approximate, as SQS reports them.
    pub async fn depth(&self) -> Result<(u64, u64), QueueError> {
        let attrs = self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .map_err(|e| QueueError::Read {
                url: self.url.clone(),
                detail: crate::aws::describe(&e),
            })?
            .attributes
            .unwrap_or_default();
        let n = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok((
            n(QueueAttributeName::ApproximateNumberOfMessages),
            n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        ))
    }

    pub async fn send(
        &self,
        body: String,
        attrs: HashMap<String, String>,
    ) -> Result<(), QueueError> {
        let mut req = self
            .sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body);
        for (name, value) in attrs {
            let Ok(attr) = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
            else {
                continue; // only fails without a data type, which is always set
            };
            req = req.message_attributes(name, attr);
        }
        req.send().await.map_err(|e| QueueError::Send {
            url: self.url.clone(),
            detail: crate::aws::describe(&e),
        })?;
        Ok(())
    }
}

/// The queue settings template.yaml declares, used when `leave-sync dev` creates queues
/// (a test checks the template against these).
pub mod settings {
    /// The processor function's timeout.
    pub const PROCESSOR_TIMEOUT_SECS: u32 = 30;
    /// AWS: at least 6 × the function timeout for an SQS event source.
    pub const VISIBILITY_TIMEOUT_SECS: u32 = 6 * PROCESSOR_TIMEOUT_SECS;
    /// Receives before SQS moves a message to the dead-letter queue.
    pub const MAX_RECEIVE_COUNT: u32 = 5;
    pub const RETENTION_SECS: u32 = 4 * 24 * 3600;
    pub const DLQ_RETENTION_SECS: u32 = 14 * 24 * 3600;
}

/// Creates (or finds) the queue `name` and its dead-letter queue `name-dlq`, with the
/// redrive policy and retention of template.yaml. Returns (queue URL, DLQ URL).
pub async fn ensure_queues(
    sqs: &aws_sdk_sqs::Client,
    name: &str,
) -> Result<(String, String), QueueError> {
    use settings::*;
    let fail = |url: &str, e: String| QueueError::Send {
        url: url.to_owned(),
        detail: e,
    };
    let dlq_name = format!("{name}-dlq");
    let dlq_url = sqs
        .create_queue()
        .queue_name(&dlq_name)
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            DLQ_RETENTION_SECS.to_string(),
        )
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
        .send()
        .await
        .map_err(|e| fail(&dlq_name, crate::aws::describe(&e)))?
        .queue_url
        .ok_or_else(|| fail(&dlq_name, "CreateQueue returned no URL".into()))?;
    let dlq_arn = sqs
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| fail(&dlq_url, crate::aws::describe(&e)))?
        .attributes
        .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
        .ok_or_else(|| fail(&dlq_url, "no QueueArn".into()))?;
    let redrive = serde_json::json!({
        "deadLetterTargetArn": dlq_arn,
        "maxReceiveCount": MAX_RECEIVE_COUNT,
    });
    let queue_url = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
        .attributes(
            QueueAttributeName::VisibilityTimeout,
            VISIBILITY_TIMEOUT_SECS.to_string(),
        )
        .attributes(
            QueueAttributeName::MessageRetentionPeriod,
            RETENTION_SECS.to_string(),
        )
        .attributes(QueueAttributeName::SqsManagedSseEnabled, "true")
        .send()
        .await
        .map_err(|e| fail(name, crate::aws::describe(&e)))?
        .queue_url
        .ok_or_else(|| fail(name, "CreateQueue returned no URL".into()))?;
    Ok((queue_url, dlq_url))
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
