//! The Lambda SQS event source, emulated against a real queue: batches of up to 10, the
//! handler called with a Lambda event, only the messages it did not report as failed
//! deleted. Failed ones come back after the visibility timeout and move to the DLQ after
//! maxReceiveCount, exactly as in AWS. Used by `leave-sync dev` and the fault tests.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use lambda_runtime::{Context, LambdaEvent};
use shared::processor::Processor;
use tokio::sync::watch;
use tracing::{error, info, warn};

pub struct Poller {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub processor: Arc<Processor>,
    /// What the Lambda function's timeout would be.
    pub timeout: Duration,
    /// The event source's BatchSize (1 to 10).
    pub batch_size: i32,
}

impl Poller {
    /// Polls until `shutdown` turns true; a batch in progress is finished first.
    pub async fn run(&self, mut shutdown: watch::Receiver<bool>) {
        loop {
            let received = tokio::select! {
                r = self.receive(20) => r,
                _ = shutdown.changed() => return,
            };
            match received {
                Ok(messages) if !messages.is_empty() => self.process(messages).await,
                Ok(_) => {}
                Err(e) => {
                    warn!("{e}; retrying in 2 s");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
            }
        }
    }

    /// One long poll of up to `wait_secs` seconds for up to `batch_size` messages.
    pub async fn receive(&self, wait_secs: i32) -> Result<Vec<Message>, String> {
        self.sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(self.batch_size.clamp(1, 10))
            .wait_time_seconds(wait_secs)
            .message_attribute_names("All")
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map(|out| out.messages.unwrap_or_default())
            .map_err(|e| {
                format!(
                    "cannot receive from {}: {}",
                    self.queue_url,
                    shared::aws::describe(&e)
                )
            })
    }

    /// Runs one batch through the processor Lambda handler and deletes what succeeded.
    pub async fn process(&self, messages: Vec<Message>) {
        let handles: Vec<(String, String)> = messages
            .iter()
            .filter_map(|m| Some((m.message_id()?.to_owned(), m.receipt_handle()?.to_owned())))
            .collect();
        let mut ctx = Context::default();
        ctx.request_id = format!("dev-{}", random_id());
        ctx.deadline =
            (jiff::Timestamp::now().as_millisecond() as u64) + self.timeout.as_millis() as u64;
        let event = LambdaEvent::new(to_event(messages), ctx);
        let failed: HashSet<String> = match crate::handle(&self.processor, event).await {
            Ok(resp) => resp
                .batch_item_failures
                .into_iter()
                .map(|f| f.item_identifier)
                .collect(),
            Err(e) => {
                // The whole batch failed: delete nothing, SQS delivers it all again.
                error!("batch failed as a whole, it will be delivered again: {e}");
                return;
            }
        };
        let done: Vec<DeleteMessageBatchRequestEntry> = handles
            .iter()
            .enumerate()
            .filter(|(_, (id, _))| !failed.contains(id))
            .filter_map(|(i, (_, handle))| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .build()
                    .ok()
            })
            .collect();
        if !failed.is_empty() {
            info!(
                count = failed.len(),
                "left on the queue for a retry after the visibility timeout"
            );
        }
        if done.is_empty() {
            return;
        }
        if let Err(e) = self
            .sqs
            .delete_message_batch()
            .queue_url(&self.queue_url)
            .set_entries(Some(done))
            .send()
            .await
        {
            // Harmless: they are delivered again and found done in the ledger.
            warn!(
                "cannot delete processed messages: {}",
                shared::aws::describe(&e)
            );
        }
    }
}

/// The Lambda SQS event for received messages.
pub fn to_event(messages: Vec<Message>) -> SqsEvent {
    let mut event = SqsEvent::default();
    for m in messages {
        let mut record = SqsMessage::default();
        record.message_id = m.message_id;
        record.receipt_handle = m.receipt_handle;
        record.body = m.body;
        record.md5_of_body = m.md5_of_body;
        if let Some(attrs) = m.attributes {
            for (k, v) in attrs {
                record.attributes.insert(k.as_str().to_owned(), v);
            }
        }
        if let Some(attrs) = m.message_attributes {
            for (k, v) in attrs {
                let mut a = SqsMessageAttribute::default();
                a.string_value = v.string_value;
                a.data_type = Some(v.data_type);
                record.message_attributes.insert(k, a);
            }
        }
        record.event_source = Some("aws:sqs".into());
        event.records.push(record);
    }
    event
}

fn random_id() -> String {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}
