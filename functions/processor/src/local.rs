//! The Lambda SQS event source, emulated against a real queue: batches of up to 10, the
//! handler called with a Lambda event, only the messages it did not report as failed
//! deleted. Failed ones come back after the visibility timeout and move to the DLQ after
//! maxReceiveCount, exactly as in AWS. Used by `leave-sync dev` and the tests; behind the
//! `local` feature, so the Lambda binary does not carry it.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use lambda_runtime::{Context, LambdaEvent};
use shared::processor::Processor;
use shared::queue::{Queue, Received};
use tokio::sync::watch;
use tracing::{error, info, warn};

pub struct Poller {
    pub queue: Queue,
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
    pub async fn receive(
        &self,
        wait_secs: i32,
    ) -> Result<Vec<Received>, shared::queue::QueueError> {
        self.queue.receive(self.batch_size, wait_secs, None).await
    }

    /// Runs one batch through the processor Lambda handler and deletes what succeeded.
    pub async fn process(&self, messages: Vec<Received>) {
        let handles: Vec<(String, String)> = messages
            .iter()
            .map(|m| (m.message_id.clone(), m.receipt_handle.clone()))
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
        if !failed.is_empty() {
            info!(
                count = failed.len(),
                "left on the queue for a retry after the visibility timeout"
            );
        }
        let done: Vec<&str> = handles
            .iter()
            .filter(|(id, _)| !failed.contains(id))
            .map(|(_, handle)| handle.as_str())
            .collect();
        if let Err(e) = self.queue.delete(&done).await {
            // Harmless: they are delivered again and found done in the ledger.
            warn!("cannot delete processed messages: {e}");
        }
    }
}

/// The Lambda SQS event for received messages.
pub fn to_event(messages: Vec<Received>) -> SqsEvent {
    let mut event = SqsEvent::default();
    for m in messages {
        let mut record = SqsMessage::default();
        record.message_id = Some(m.message_id);
        record.receipt_handle = Some(m.receipt_handle);
        record.body = Some(m.body);
        record.attributes.insert(
            "ApproximateReceiveCount".into(),
            m.receive_count.to_string(),
        );
        for (k, v) in m.attributes {
            let mut a = SqsMessageAttribute::default();
            a.string_value = Some(v);
            a.data_type = Some("String".into());
            record.message_attributes.insert(k, a);
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
