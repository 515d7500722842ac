//! The processor over one SQS batch: read each message once, group the batch by ordering
//! key, route each event to the workflow that owns it, and say which messages must come
//! back. Knows SQS semantics but not Lambda types; the Lambda crate and `leave-sync dev`
//! map their batches onto it.

pub mod backoff;
mod decode;
mod pool;
mod route;

use std::collections::HashMap;

use tracing::{Instrument, Span, error, field, info, info_span, warn};

use crate::chat::ChatBot;
use crate::config::ProcessorConfig;
use crate::feishu::FeishuClient;
use crate::ledger::Ledger;
use crate::queue::{ATTR_DEFERRED, ATTR_REDRIVE, Queue};
use crate::sync::LeaveSync;
use crate::sync::mapping::TenantZone;
use crate::workflow::{Attempt, Deadline, Verdict};
use backoff::RetrySchedule;
use decode::Decoded;
use std::time::Duration;

/// One SQS message as the processor needs it.
#[derive(Debug, Clone)]
pub struct Message {
    pub message_id: String,
    /// To postpone the next delivery (the retry delay); absent in hand-made batches.
    pub receipt_handle: Option<String>,
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
    /// When the invocation is cut off: one deadline for every record of the batch, however
    /// long a record waited for its turn.
    pub deadline: Deadline,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Disposition {
    /// Delete from the queue: done, skipped, or parked in the dead-letter queue.
    Done,
    /// Leave on the queue: SQS delivers it again after the visibility timeout and, after
    /// maxReceiveCount attempts, moves it to the dead-letter queue.
    Retry,
}

pub struct Processor {
    leave: LeaveSync,
    /// The chat bot; without one, chat messages are acknowledged and dropped.
    chat: Option<ChatBot>,
    queues: Queues,
    concurrency: usize,
    schedule: RetrySchedule,
    /// How long a deferred message waits (for its twin) before it comes back.
    twin_wait: Duration,
}

/// The queues the processor writes to, besides reading its batches.
#[derive(Debug, Clone, Default)]
pub struct Queues {
    /// The queue the batches come from: a retried message's visibility is set on it.
    pub source: Option<Queue>,
    /// Where events that can never succeed are parked, with their reason.
    pub dead_letters: Option<Queue>,
}

impl Processor {
    pub fn new(leave: LeaveSync, queues: Queues, concurrency: usize) -> Self {
        Self {
            leave,
            chat: None,
            queues,
            concurrency: concurrency.max(1),
            schedule: backoff::PRODUCTION,
            twin_wait: Duration::from_secs(crate::config::DEFAULT_TWIN_WAIT_SECS),
        }
    }

    /// Answers chat messages with `bot`.
    pub fn with_chat(mut self, bot: ChatBot) -> Self {
        self.chat = Some(bot);
        self
    }

    /// How long a `leave_approval` waits, once, for its twin.
    pub fn with_twin_wait(mut self, wait: Duration) -> Self {
        self.twin_wait = wait;
        self
    }

    /// Another retry schedule (the tests compress hours into seconds).
    pub fn with_schedule(mut self, schedule: RetrySchedule) -> Self {
        self.schedule = schedule;
        self
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
        let sqs = aws_sdk_sqs::Client::new(aws);
        let queue = |url: &Option<String>| url.as_ref().map(|u| Queue::new(sqs.clone(), u));
        let queues = Queues {
            source: queue(&config.queue_url),
            dead_letters: queue(&config.dead_letter_queue_url),
        };
        let chat = ChatBot::new(
            feishu.clone(),
            ledger.clone(),
            TenantZone::new(config.tenant_timezone.clone()),
            config.chat.clone(),
            config.custom_forms.clone(),
        );
        Self::new(
            LeaveSync::from_config(config, feishu, ledger),
            queues,
            config.record_concurrency,
        )
        .with_twin_wait(config.twin_wait)
        .with_chat(chat)
    }

    /// Processes a batch, records concurrently (bounded). Returns the ids of the messages
    /// that must be retried: the partial batch response.
    pub async fn process_batch(
        &self,
        messages: &[Message],
        invocation: &Invocation,
    ) -> Vec<String> {
        // Records with one ordering key (V1/V2 twins, redeliveries) run one after another
        // so they do not contend for its lease; different keys run concurrently.
        let groups = decode::group(messages)
            .into_iter()
            .map(|g| {
                g.into_iter()
                    .map(|(m, d)| (m.message_id.clone(), (m, d)))
                    .collect()
            })
            .collect();
        pool::run_grouped(groups, self.concurrency, |(message, decoded)| {
            self.process_traced(message, decoded, invocation)
        })
        .await
        .into_iter()
        .filter(|(_, d)| *d == Disposition::Retry)
        .map(|(id, _)| id)
        .collect()
    }

    /// [`process`](Self::process) in the record's span, which carries the event id, the
    /// instance code and the step.
    fn process_traced<'a>(
        &'a self,
        message: &'a Message,
        decoded: Decoded,
        invocation: &'a Invocation,
    ) -> impl std::future::Future<Output = Disposition> + 'a {
        let span = info_span!(
            "event",
            message_id = %message.message_id,
            attempt = message.receive_count,
            event_id = field::Empty,
            event_type = field::Empty,
            instance_code = field::Empty,
            step = field::Empty,
        );
        self.process(message, decoded, invocation).instrument(span)
    }

    async fn process(
        &self,
        message: &Message,
        decoded: Decoded,
        invocation: &Invocation,
    ) -> Disposition {
        let span = Span::current();
        if let Some(envelope) = decoded.envelope() {
            span.record("event_id", envelope.event_id.as_str());
            span.record("event_type", envelope.event_type.as_str());
        }
        let verdict = match &decoded {
            Decoded::Event { envelope, event } => {
                if let Some(instance) = event.instance() {
                    span.record("instance_code", instance.instance_code.as_str());
                }
                let flag =
                    |name: &str| message.attributes.get(name).map(String::as_str) == Some("true");
                let mut attempt = Attempt::new(
                    format!("{}/{}", invocation.id, message.message_id),
                    invocation.deadline,
                    flag(ATTR_REDRIVE),
                    message.receive_count,
                );
                attempt.waiting_since = self.waiting_since(message);
                self.route(event, &envelope.event_id, &attempt).await
            }
            Decoded::Ignored { reason, .. } => Verdict::Done {
                outcome: format!("ignored: {reason}"),
            },
            Decoded::Unreadable { reason, .. } => Verdict::DeadLetter {
                reason: reason.clone(),
            },
        };
        self.settle(message, verdict).await
    }

    async fn settle(&self, message: &Message, verdict: Verdict) -> Disposition {
        match verdict {
            Verdict::Done { outcome } => {
                info!(outcome, "processed");
                Disposition::Done
            }
            Verdict::Retry { reason, after } => {
                let delay =
                    self.schedule
                        .delay(message.receive_count, after, backoff::random_fraction());
                warn!(retry_in_secs = delay, "will be retried: {reason}");
                self.postpone(message, delay).await;
                Disposition::Retry
            }
            Verdict::DeadLetter { reason } => {
                error!("cannot be processed: {reason}");
                self.dead_letter(message, &reason).await
            }
            Verdict::Defer { reason, after } => self.defer(message, &reason, after).await,
        }
    }

    /// When `message` started waiting for its twin: the deferral mark (Unix seconds; an
    /// older processor wrote "true"). With nowhere to put a message back, it has waited
    /// long enough.
    fn waiting_since(&self, message: &Message) -> Option<jiff::Timestamp> {
        if self.queues.source.is_none() {
            return Some(jiff::Timestamp::UNIX_EPOCH);
        }
        let mark = message.attributes.get(ATTR_DEFERRED)?;
        Some(
            mark.parse::<i64>()
                .ok()
                .and_then(|secs| jiff::Timestamp::from_second(secs).ok())
                .unwrap_or_else(jiff::Timestamp::now),
        )
    }

    /// How long a message waiting for its twin stays away this time: the configured wait
    /// first, then as long as it has waited so far (so each wait doubles), at most SQS's
    /// 15-minute delay.
    pub(super) fn twin_delay(&self, waited: Option<Duration>) -> Duration {
        waited
            .unwrap_or_default()
            .max(self.twin_wait)
            .min(Duration::from_secs(900))
    }

    /// Puts `message` back on its queue, due after `after`, marked with when it started
    /// waiting; deleted only once the copy is stored.
    async fn defer(&self, message: &Message, reason: &str, after: Duration) -> Disposition {
        let Some(queue) = &self.queues.source else {
            return Disposition::Retry;
        };
        let mut attributes = message.attributes.clone();
        attributes
            .entry(ATTR_DEFERRED.to_owned())
            .or_insert_with(|| jiff::Timestamp::now().as_second().to_string());
        let delay = u32::try_from(after.as_secs()).unwrap_or(900);
        match queue
            .send_delayed(message.body.clone(), attributes, delay)
            .await
        {
            Ok(()) => {
                info!(wait_secs = delay, "deferred: {reason}");
                Disposition::Done
            }
            Err(e) => {
                warn!("cannot defer, it will be retried: {e}");
                Disposition::Retry
            }
        }
    }

    /// Sets when SQS delivers `message` again. Best effort: without it the queue's own
    /// visibility timeout applies.
    async fn postpone(&self, message: &Message, secs: u32) {
        let (Some(queue), Some(handle)) = (&self.queues.source, &message.receipt_handle) else {
            return;
        };
        let secs = i32::try_from(secs).unwrap_or(i32::MAX);
        if let Err(e) = queue.change_visibility(&[handle.as_str()], secs).await {
            warn!("cannot set the retry delay, the queue's visibility timeout applies: {e}");
        }
    }

    /// Sends a message that can never succeed to the dead-letter queue with its reason,
    /// body intact. Without a configured DLQ (or if the send fails) it stays on the queue
    /// and reaches the DLQ through the redrive policy instead.
    async fn dead_letter(&self, message: &Message, reason: &str) -> Disposition {
        let Some(dlq) = &self.queues.dead_letters else {
            error!(
                "DEAD_LETTER_QUEUE_URL is not set; leaving the message for SQS's redrive policy: {reason}"
            );
            return Disposition::Retry;
        };
        // A parked message keeps no redrive mark: only `leave-sync redrive` gives one.
        let mut attributes = message.attributes.clone();
        attributes.remove(ATTR_REDRIVE);
        match dlq.dead_letter(&message.body, attributes, reason).await {
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
