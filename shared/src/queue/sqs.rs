//! Every SQS call the project makes: the ingress's send, the processor's dead-lettering,
//! the dev poller's receive and delete, `redrive`'s move, the queues' creation.

use std::collections::HashMap;

use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, DeleteMessageBatchRequestEntry,
    MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName,
};

use aws_sdk_sqs::error::{ProvideErrorMetadata, SdkError};

use super::{ATTR_EVENT_ID, ATTR_EVENT_TYPE, ATTR_FAILURE, QueueError, QueuedEvent};

/// An SQS queue addressed by URL.
#[derive(Debug, Clone)]
pub struct Queue {
    sqs: aws_sdk_sqs::Client,
    url: String,
}

/// A received message: what the Lambda event source would hand the function.
#[derive(Debug, Clone)]
pub struct Received {
    pub message_id: String,
    pub receipt_handle: String,
    pub body: String,
    /// String message attributes.
    pub attributes: HashMap<String, String>,
    /// ApproximateReceiveCount (1 on the first delivery).
    pub receive_count: u32,
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

    /// The same client on another queue (its dead-letter queue, say).
    pub fn at(&self, url: impl Into<String>) -> Self {
        Self::new(self.sqs.clone(), url)
    }

    /// Puts an accepted event on the queue. Returns only once SQS has stored it.
    pub async fn enqueue(&self, event: &QueuedEvent) -> Result<(), QueueError> {
        self.enqueue_delayed(event, 0).await
    }

    /// As [`Self::enqueue`], delivered no sooner than `delay_secs` from now.
    pub async fn enqueue_delayed(
        &self,
        event: &QueuedEvent,
        delay_secs: u32,
    ) -> Result<(), QueueError> {
        let body = serde_json::to_string(event)?;
        let attrs = HashMap::from([
            (ATTR_EVENT_TYPE.to_owned(), event.event_type.clone()),
            (ATTR_EVENT_ID.to_owned(), event.event_id.clone()),
        ]);
        self.send_delayed(body, attrs, delay_secs).await
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

    /// Sends `body` with string attributes.
    pub async fn send(
        &self,
        body: String,
        attrs: HashMap<String, String>,
    ) -> Result<(), QueueError> {
        self.send_delayed(body, attrs, 0).await
    }

    /// Sends `body`, to be delivered no sooner than `delay_secs` (at most 900) from now.
    pub async fn send_delayed(
        &self,
        body: String,
        attrs: HashMap<String, String>,
        delay_secs: u32,
    ) -> Result<(), QueueError> {
        let mut req = self
            .sqs
            .send_message()
            .queue_url(&self.url)
            .message_body(body);
        if delay_secs > 0 {
            req = req.delay_seconds(delay_secs.min(900) as i32);
        }
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

    /// One (long) poll for up to `max` messages (1 to 10). `visibility` overrides the
    /// queue's visibility timeout for these messages.
    pub async fn receive(
        &self,
        max: i32,
        wait_secs: i32,
        visibility: Option<i32>,
    ) -> Result<Vec<Received>, QueueError> {
        let out = self
            .sqs
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(max.clamp(1, 10))
            .wait_time_seconds(wait_secs)
            .set_visibility_timeout(visibility)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(|e| self.read_error(&e))?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|c| c.parse().ok())
                    .unwrap_or(1);
                let attributes = m
                    .message_attributes()
                    .map(|a| {
                        a.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.string_value()?.to_owned())))
                            .collect()
                    })
                    .unwrap_or_default();
                Some(Received {
                    message_id: m.message_id?,
                    receipt_handle: m.receipt_handle?,
                    body: m.body.unwrap_or_default(),
                    attributes,
                    receive_count,
                })
            })
            .collect())
    }

    /// Deletes received messages (by receipt handle), ten per request.
    pub async fn delete(&self, receipt_handles: &[&str]) -> Result<(), QueueError> {
        for chunk in receipt_handles.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, h)| {
                    DeleteMessageBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(*h)
                        .build()
                        .ok()
                })
                .collect();
            self.sqs
                .delete_message_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.change_error("DeleteMessageBatch", &e))?;
        }
        Ok(())
    }

    /// Makes received messages visible again after `secs` (0: at once), ten per request.
    pub async fn change_visibility(
        &self,
        receipt_handles: &[&str],
        secs: i32,
    ) -> Result<(), QueueError> {
        for chunk in receipt_handles.chunks(10) {
            let entries = chunk
                .iter()
                .enumerate()
                .filter_map(|(i, h)| {
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(*h)
                        .visibility_timeout(secs)
                        .build()
                        .ok()
                })
                .collect();
            self.sqs
                .change_message_visibility_batch()
                .queue_url(&self.url)
                .set_entries(Some(entries))
                .send()
                .await
                .map_err(|e| self.change_error("ChangeMessageVisibilityBatch", &e))?;
        }
        Ok(())
    }

    /// (waiting, in flight): approximate, as SQS reports them. Messages not yet due (sent
    /// with a delay) count as waiting.
    pub async fn depth(&self) -> Result<(u64, u64), QueueError> {
        let attrs = self
            .attributes(&[
                QueueAttributeName::ApproximateNumberOfMessages,
                QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
                QueueAttributeName::ApproximateNumberOfMessagesDelayed,
            ])
            .await?;
        let n = |k: QueueAttributeName| attrs.get(&k).and_then(|v| v.parse().ok()).unwrap_or(0);
        Ok((
            n(QueueAttributeName::ApproximateNumberOfMessages)
                + n(QueueAttributeName::ApproximateNumberOfMessagesDelayed),
            n(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        ))
    }

    /// The queue's visibility timeout in seconds.
    pub async fn visibility_timeout(&self) -> Result<u32, QueueError> {
        Ok(self
            .attributes(&[QueueAttributeName::VisibilityTimeout])
            .await?
            .get(&QueueAttributeName::VisibilityTimeout)
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }

    /// The ARN of the dead-letter queue in this queue's redrive policy, if it has one.
    pub async fn dead_letter_target(&self) -> Result<Option<String>, QueueError> {
        let attrs = self
            .attributes(&[QueueAttributeName::RedrivePolicy])
            .await?;
        Ok(attrs
            .get(&QueueAttributeName::RedrivePolicy)
            .and_then(|p| serde_json::from_str::<serde_json::Value>(p).ok())
            .and_then(|p| p["deadLetterTargetArn"].as_str().map(str::to_owned)))
    }

    /// Sets the visibility timeout and the receives before dead-lettering (tests and
    /// benches make failed messages come back in seconds rather than minutes).
    pub async fn set_retry_policy(
        &self,
        visibility_secs: u32,
        dead_letter_arn: &str,
        max_receive: u32,
    ) -> Result<(), QueueError> {
        let redrive = serde_json::json!({
            "deadLetterTargetArn": dead_letter_arn,
            "maxReceiveCount": max_receive,
        });
        self.sqs
            .set_queue_attributes()
            .queue_url(&self.url)
            .attributes(
                QueueAttributeName::VisibilityTimeout,
                visibility_secs.to_string(),
            )
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .send()
            .await
            .map_err(|e| self.change_error("SetQueueAttributes", &e))?;
        Ok(())
    }

    pub async fn arn(&self) -> Result<String, QueueError> {
        self.attributes(&[QueueAttributeName::QueueArn])
            .await?
            .remove(&QueueAttributeName::QueueArn)
            .ok_or_else(|| QueueError::Read {
                url: self.url.clone(),
                detail: "no QueueArn".into(),
            })
    }

    async fn attributes(
        &self,
        names: &[QueueAttributeName],
    ) -> Result<HashMap<QueueAttributeName, String>, QueueError> {
        Ok(self
            .sqs
            .get_queue_attributes()
            .queue_url(&self.url)
            .set_attribute_names(Some(names.to_vec()))
            .send()
            .await
            .map_err(|e| self.read_error(&e))?
            .attributes
            .unwrap_or_default())
    }

    fn read_error<E: SdkFailure, R: std::fmt::Debug + 'static>(
        &self,
        e: &SdkError<E, R>,
    ) -> QueueError {
        QueueError::Read {
            url: self.url.clone(),
            detail: crate::aws::describe(e),
        }
    }

    fn change_error<E: SdkFailure, R: std::fmt::Debug + 'static>(
        &self,
        op: &'static str,
        e: &SdkError<E, R>,
    ) -> QueueError {
        QueueError::Change {
            op,
            url: self.url.clone(),
            detail: crate::aws::describe(e),
        }
    }
}

/// What `aws::describe` needs of an operation's error.
trait SdkFailure: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static {}
impl<E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static> SdkFailure for E {}

/// The URL of the queue called `name`.
pub async fn url_of(sqs: &aws_sdk_sqs::Client, name: &str) -> Result<String, QueueError> {
    let fail = |detail: String| QueueError::Read {
        url: name.to_owned(),
        detail,
    };
    sqs.get_queue_url()
        .queue_name(name)
        .send()
        .await
        .map_err(|e| fail(crate::aws::describe(&e)))?
        .queue_url
        .ok_or_else(|| fail("GetQueueUrl returned no URL".into()))
}

/// Proves SQS answers at all (one cheap call).
pub async fn probe(sqs: &aws_sdk_sqs::Client) -> Result<(), String> {
    sqs.list_queues()
        .max_results(1)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| crate::aws::describe(&e))
}

/// The queue settings template.yaml declares, used when `leave-sync dev` creates queues
/// (a test checks the template against these).
pub mod settings {
    /// The processor function's timeout.
    pub const PROCESSOR_TIMEOUT_SECS: u32 = 30;
    /// AWS: at least 6 × the function timeout for an SQS event source.
    pub const VISIBILITY_TIMEOUT_SECS: u32 = 6 * PROCESSOR_TIMEOUT_SECS;
    /// Receives before SQS moves a message to the dead-letter queue. With the processor's
    /// growing retry delays (processor::backoff) this spans a six-hour Feishu outage, and a
    /// failure that can never succeed still reaches the DLQ within about 14 hours.
    pub const MAX_RECEIVE_COUNT: u32 = 32;
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
    let dlq_arn = Queue::new(sqs.clone(), &dlq_url).arn().await?;
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
