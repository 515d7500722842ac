//! The processor workflow over one SQS batch: decode each message, run it, and say which
//! messages must come back. Knows SQS semantics but not Lambda types; the Lambda crate
//! and `leave-sync dev` map their batches onto it.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tracing::{Instrument, error, field, info, info_span, warn};

use crate::config::ProcessorConfig;
use crate::feishu::FeishuClient;
use crate::ledger::Ledger;
use crate::queue::{ATTR_REDRIVE, EnvelopeError, Queue, QueuedEvent};
use crate::sync::{LeaveSync, Run};

/// A message with its envelope decoded (once: for grouping and for processing).
struct Decoded<'a> {
    message: &'a Message,
    event: Result<QueuedEvent, EnvelopeError>,
}

/// Groups messages by the approval instance they name, keeping their order. Messages
/// whose instance cannot be read form groups of one (they fail on their own later).
fn by_instance(messages: &[Message]) -> Vec<Vec<Decoded<'_>>> {
    #[derive(serde::Deserialize)]
    struct Head {
        #[serde(default)]
        instance_code: Option<String>,
    }
    let mut groups: Vec<Vec<Decoded<'_>>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for message in messages {
        let event = QueuedEvent::decode(&message.body);
        let key = event
            .as_ref()
            .ok()
            .and_then(|e| serde_json::from_str::<Head>(e.event.get()).ok())
            .and_then(|h| h.instance_code);
        let decoded = Decoded { message, event };
        match key {
            Some(k) => match index.get(&k) {
                Some(&i) => groups[i].push(decoded),
                None => {
                    index.insert(k, groups.len());
                    groups.push(vec![decoded]);
                }
            },
            None => groups.push(vec![decoded]),
        }
    }
    groups
}

/// One SQS message as the processor needs it.
#[derive(Debug, Clone)]
pub struct Message {
    pub message_id: String,
    pub body: String,
    /// String message attributes.
    pub attributes: HashMap<String, String>,
    /// SQS's ApproximateReceiveCount (1 on the first delivery).
    pub receive_count: u32,
}

/// The invocation a batch runs in.
#[derive(Debug, Clone)]
pub struct Invocation {
    /// The Lambda request id (or a dev-mode id): part of every lease owner.
    pub id: String,
    /// Time left before the invocation is cut off.
    pub remaining: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Disposition {
    /// Delete from the queue: done, skipped, or parked in the dead-letter queue.
    Done,
    /// Leave on the queue: SQS delivers it again after the visibility timeout and, after
    /// maxReceiveCount attempts, moves it to the dead-letter queue.
    Retry,
}

pub struct Processor {
    sync: LeaveSync,
    dead_letters: Option<Queue>,
    concurrency: usize,
}

impl Processor {
    pub fn new(sync: LeaveSync, dead_letters: Option<Queue>, concurrency: usize) -> Self {
        Self {
            sync,
            dead_letters,
            concurrency: concurrency.max(1),
        }
    }

    pub fn from_config(
        config: &ProcessorConfig,
        aws: &aws_config::SdkConfig,
        feishu: FeishuClient,
    ) -> Self {
        let ledger = Ledger::new(
            aws_sdk_dynamodb::Client::new(aws),
            config.table_name.clone(),
        );
        let dead_letters = config
            .dead_letter_queue_url
            .as_ref()
            .map(|url| Queue::new(aws_sdk_sqs::Client::new(aws), url.clone()));
        Self::new(
            LeaveSync::from_config(config, feishu, ledger),
            dead_letters,
            config.record_concurrency,
        )
    }

    /// Processes a batch, records concurrently (bounded). Returns the ids of the messages
    /// that must be retried: the partial batch response.
    pub async fn process_batch(
        &self,
        messages: &[Message],
        invocation: &Invocation,
    ) -> Vec<String> {
        // Records of one instance (V1/V2 twins, redeliveries) run one after another so
        // they do not contend for its lease; different instances run concurrently. A
        // hand-rolled bounded pool rather than stream combinators, whose closures make the
        // future unusable in tokio::spawn (higher-ranked lifetime errors).
        let mut groups = by_instance(messages).into_iter();
        let mut running = FuturesUnordered::new();
        for g in groups.by_ref().take(self.concurrency) {
            running.push(self.process_group(g, invocation));
        }
        let mut failed = Vec::new();
        while let Some(results) = running.next().await {
            failed.extend(
                results
                    .into_iter()
                    .filter(|(_, d)| *d == Disposition::Retry)
                    .map(|(id, _)| id),
            );
            if let Some(g) = groups.next() {
                running.push(self.process_group(g, invocation));
            }
        }
        failed
    }

    async fn process_group(
        &self,
        group: Vec<Decoded<'_>>,
        invocation: &Invocation,
    ) -> Vec<(String, Disposition)> {
        let mut results = Vec::with_capacity(group.len());
        for d in group {
            results.push(self.process(d, invocation).await);
        }
        results
    }

    async fn process(
        &self,
        decoded: Decoded<'_>,
        invocation: &Invocation,
    ) -> (String, Disposition) {
        let message = decoded.message;
        let span = info_span!(
            "event",
            message_id = %message.message_id,
            attempt = message.receive_count,
            event_id = field::Empty,
            event_type = field::Empty,
            instance_code = field::Empty,
            step = field::Empty,
        );
        let disposition = self
            .process_in_span(message, decoded.event, invocation)
            .instrument(span)
            .await;
        (message.message_id.clone(), disposition)
    }

    async fn process_in_span(
        &self,
        message: &Message,
        event: Result<QueuedEvent, EnvelopeError>,
        invocation: &Invocation,
    ) -> Disposition {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                // Retrying cannot fix an unreadable message: park it with the reason.
                return self
                    .dead_letter(message, &format!("unreadable queue message: {e}"))
                    .await;
            }
        };
        let span = tracing::Span::current();
        span.record("event_id", event.event_id.as_str());
        span.record("event_type", event.event_type.as_str());
        let run = Run::new(
            format!("{}/{}", invocation.id, message.message_id),
            invocation.remaining,
            message.attributes.get(ATTR_REDRIVE).map(String::as_str) == Some("true"),
        );
        match self.sync.handle(&event, &run).await {
            Ok(outcome) => {
                info!(?outcome, "processed");
                Disposition::Done
            }
            Err(e) if e.is_retryable() => {
                warn!("will be retried: {}", e.describe());
                Disposition::Retry
            }
            Err(e) => {
                error!("cannot be processed: {}", e.describe());
                self.dead_letter(message, &format!("{}: {}", e.step(), e.describe()))
                    .await
            }
        }
    }

    /// Sends a message that can never succeed to the dead-letter queue with its reason,
    /// body intact. Without a configured DLQ (or if the send fails) it stays on the queue
    /// and reaches the DLQ through the redrive policy instead.
    async fn dead_letter(&self, message: &Message, reason: &str) -> Disposition {
        let Some(dlq) = &self.dead_letters else {
            error!(
                "DEAD_LETTER_QUEUE_URL is not set; leaving the message for SQS's redrive policy: {reason}"
            );
            return Disposition::Retry;
        };
        match dlq
            .dead_letter(&message.body, message.attributes.clone(), reason)
            .await
        {
            Ok(()) => {
                error!(reason, "sent to the dead-letter queue");
                Disposition::Done
            }
            Err(e) => {
                error!("cannot reach the dead-letter queue, the message will be retried: {e}");
                Disposition::Retry
            }
        }
    }
}
