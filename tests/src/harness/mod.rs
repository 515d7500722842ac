//! A whole processing stack for one test: the Feishu simulator, a ledger table and
//! queues on moto (uniquely named), and the processor Lambda handler built from config.
//! [`scenario`] adds the one-line deliveries the scenarios are written in.

mod counter;
mod digest;
mod operator;
mod reconcile;
pub mod scenario;

pub use counter::DynamoCounter;
pub use scenario::{Delivery, assert_synced_once, writes};

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use aws_config::SdkConfig;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use lambda_runtime::{Context, LambdaEvent};
use processor::local::Poller;
use serde_json::Value;
use shared::chat::ChatBot;
use shared::config::{ProcessEnv, ProcessorConfig, WebhookConfig};
use shared::event::InstanceRef;
use shared::feishu::{FeishuClient, RetryPolicy};
use shared::ledger::{Ledger, Record};
use shared::processor::backoff::RetrySchedule;
use shared::processor::{Processor, Queues};
use shared::queue::Queue;
use shared::secret::Secret;
use shared::sync::LeaveSync;
use shared::sync::mapping::TenantZone;
use shared::webhook::{Verdict, Webhook};

use crate::events;
use crate::moto;
use crate::sim::{FeishuSim, SimConfig};

/// Logs to the test's captured output (shown for failing tests). `RUST_LOG` overrides.
pub fn init_logs() {
    use tracing_subscriber::prelude::*;
    let _ = tracing_subscriber::registry()
        .with(shared::telemetry::filter_from_env())
        .with(
            tracing_subscriber::fmt::layer()
                .with_test_writer()
                .compact(),
        )
        .try_init();
}

/// Fast retries so fault tests take milliseconds, not seconds.
pub fn test_retry_policy() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        request_timeout: Duration::from_secs(5),
        connect_timeout: Duration::from_secs(1),
        reserve: Duration::from_millis(100),
        token_refresh_ahead: Duration::from_secs(300),
    }
}

#[derive(Debug, Clone)]
pub struct StackOptions {
    pub sim: SimConfig,
    /// How long retried messages wait: seconds here, not minutes as in production.
    pub retry_schedule: RetrySchedule,
    pub custom_codes: Vec<String>,
    pub retry: RetryPolicy,
    pub concurrency: usize,
    /// `CHAT_LEAVE_APPROVAL_CODE` (and `CHAT_LEAVE_TYPES` for a native form), if the bot
    /// may apply for leave.
    pub chat_leave_code: Option<String>,
    pub chat_leave_types: Option<String>,
    /// `CHAT_OVERTIME_APPROVAL_CODE`, if the bot may apply for overtime.
    pub chat_overtime_code: Option<String>,
    /// `TEAM_CALENDAR_ID` and `TEAM_VIEW_SHOWS`.
    pub team_calendar: Option<String>,
    pub team_view_shows: Option<String>,
}

impl Default for StackOptions {
    fn default() -> Self {
        Self {
            sim: SimConfig::default(),
            retry_schedule: RetrySchedule {
                first_secs: 1,
                cap_secs: 2,
            },
            custom_codes: vec![events::CUSTOM_FORM.into()],
            retry: test_retry_policy(),
            concurrency: 4,
            chat_leave_code: None,
            chat_leave_types: None,
            chat_overtime_code: None,
            team_calendar: None,
            team_view_shows: None,
        }
    }
}

/// One SQS message for [`TestStack::invoke`].
#[derive(Debug, Clone)]
pub struct Msg {
    pub id: String,
    pub body: String,
    pub attrs: HashMap<String, String>,
    pub receive_count: u32,
}

impl Msg {
    pub fn new(body: impl Into<String>) -> Self {
        Self {
            id: moto::unique("msg"),
            body: body.into(),
            attrs: HashMap::new(),
            receive_count: 1,
        }
    }

    /// A `leave_approval` as it comes back after waiting in vain for its twin for as long
    /// as Feishu retries (its mark says it started waiting long ago): applied alone.
    pub fn after_twin_wait(mut self) -> Self {
        self.attrs
            .insert(shared::queue::ATTR_DEFERRED.into(), "0".into());
        self
    }

    /// As `leave-sync redrive` sends it back.
    pub fn redriven(mut self) -> Self {
        self.attrs
            .insert(shared::queue::ATTR_REDRIVE.into(), "true".into());
        self
    }
}

pub struct TestStack {
    pub sim: FeishuSim,
    pub aws: SdkConfig,
    pub sqs: aws_sdk_sqs::Client,
    pub table: String,
    pub queue_url: String,
    pub dlq_url: String,
    /// For the tests' own reads (not counted in `dynamo`).
    pub ledger: Ledger,
    pub processor: Arc<Processor>,
    pub dynamo: DynamoCounter,
    webhook: Webhook,
}

impl TestStack {
    pub async fn start() -> Self {
        Self::with(StackOptions::default()).await
    }

    pub async fn with(opts: StackOptions) -> Self {
        init_logs();
        let sim = FeishuSim::start(opts.sim.clone())
            .await
            .expect("start the simulator");
        let aws = moto::aws().await;
        let sqs = aws_sdk_sqs::Client::new(&aws);
        let table = moto::unique("ledger");
        let plain = aws_sdk_dynamodb::Client::new(&aws);
        Ledger::create_table(&plain, &table)
            .await
            .expect("create the ledger table");
        // The processor's client counts its requests; the tests read through another.
        let dynamo = DynamoCounter::default();
        let ddb = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::config::Builder::from(&aws)
                .interceptor(dynamo.clone())
                .build(),
        );
        let (queue_url, dlq_url) = shared::queue::ensure_queues(&sqs, &moto::unique("events"))
            .await
            .expect("create the queues");

        let env: HashMap<String, String> = [
            ("FEISHU_APP_ID", opts.sim.app_id.as_str()),
            ("FEISHU_APP_SECRET", opts.sim.app_secret.as_str()),
            ("FEISHU_BASE_URL", sim.url().as_str()),
            ("TABLE_NAME", table.as_str()),
            ("DEAD_LETTER_QUEUE_URL", dlq_url.as_str()),
            ("CUSTOM_APPROVAL_CODES", &opts.custom_codes.join(",")),
            ("LEAVE_APPROVAL_CODES", events::LEAVE_FORM),
            ("OVERTIME_APPROVAL_CODES", events::OVERTIME_FORM),
            ("TENANT_TIMEZONE", "Asia/Shanghai"),
        ]
        .into_iter()
        .chain(
            [
                ("CHAT_LEAVE_APPROVAL_CODE", &opts.chat_leave_code),
                ("CHAT_LEAVE_TYPES", &opts.chat_leave_types),
                ("CHAT_OVERTIME_APPROVAL_CODE", &opts.chat_overtime_code),
                ("TEAM_CALENDAR_ID", &opts.team_calendar),
                ("TEAM_VIEW_SHOWS", &opts.team_view_shows),
            ]
            .into_iter()
            .filter_map(|(k, v)| Some((k, v.as_deref()?))),
        )
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let config = ProcessorConfig::load(&shared::config::Layered(&env, &ProcessEnv), &aws)
            .await
            .expect("processor config");
        let feishu = FeishuClient::with_policy(&config.feishu, opts.retry.clone()).expect("client");
        let ledger = Ledger::new(plain, table.clone());
        let chat = ChatBot::new(
            feishu.clone(),
            Ledger::new(ddb.clone(), table.clone()),
            TenantZone::new(config.tenant_timezone.clone()),
            config.chat.clone(),
            config.custom_forms.clone(),
        );
        let sync = LeaveSync::new(
            feishu,
            Ledger::new(ddb, table.clone()),
            TenantZone::new(config.tenant_timezone.clone()),
            config.custom_forms.clone(),
        )
        .with_team_calendar(config.team_calendar.clone());
        let queues = Queues {
            source: Some(Queue::new(sqs.clone(), queue_url.clone())),
            dead_letters: Some(Queue::new(sqs.clone(), dlq_url.clone())),
        };
        let processor = Processor::new(sync, queues, opts.concurrency)
            .with_schedule(opts.retry_schedule)
            .with_twin_wait(Duration::from_secs(1))
            .with_chat(chat);
        let processor = Arc::new(processor);
        let webhook = Webhook::new(&WebhookConfig {
            verification_token: Secret::new(events::TOKEN),
            encrypt_key: None,
            max_clock_skew: None,
            custom_approval_codes: opts
                .custom_codes
                .iter()
                .cloned()
                .chain([events::OVERTIME_FORM.to_owned()])
                .collect(),
        });
        Self {
            sim,
            aws,
            sqs,
            table,
            queue_url,
            dlq_url,
            ledger,
            processor,
            dynamo,
            webhook,
        }
    }

    /// A poller on the stack's queue, as the Lambda event source with `timeout` per batch.
    pub fn poller(&self, timeout: Duration) -> Poller {
        Poller {
            queue: Queue::new(self.sqs.clone(), self.queue_url.clone()),
            processor: self.processor.clone(),
            timeout,
            batch_size: 10,
        }
    }

    /// Makes failed messages come back after `visibility` instead of 3 minutes, and move to
    /// the DLQ after `max_receive` receives (fault tests cycle through many retries).
    pub async fn fast_queue(&self, visibility: Duration, max_receive: u32) {
        let dlq = Queue::new(self.sqs.clone(), self.dlq_url.clone());
        let queue = Queue::new(self.sqs.clone(), self.queue_url.clone());
        let dlq_arn = dlq.arn().await.expect("DLQ arn");
        queue
            .set_retry_policy(visibility.as_secs() as u32, &dlq_arn, max_receive)
            .await
            .expect("set queue attributes");
    }

    /// Puts webhook bodies on the queue as the ingress would.
    pub async fn enqueue(&self, bodies: &[Value]) {
        let queue = Queue::new(self.sqs.clone(), self.queue_url.clone());
        for b in bodies {
            let event: shared::queue::QueuedEvent =
                serde_json::from_str(&self.envelope(b)).expect("envelope");
            queue.enqueue(&event).await.expect("enqueue");
        }
    }

    /// (waiting, in flight) on a queue.
    pub async fn depth(&self, url: &str) -> (u64, u64) {
        Queue::new(self.sqs.clone(), url)
            .depth()
            .await
            .expect("queue depth")
    }

    /// The queue message the ingress makes of a webhook body.
    pub fn envelope(&self, body: &Value) -> String {
        let verdict = self
            .webhook
            .receive(
                body.to_string().as_bytes(),
                &http::HeaderMap::new(),
                jiff::Timestamp::now(),
            )
            .expect("a valid webhook");
        match verdict {
            Verdict::Enqueue(q) => serde_json::to_string(&q).expect("encode"),
            other => panic!("the ingress would not queue this: {other:?}"),
        }
    }

    pub fn msg(&self, body: &Value) -> Msg {
        Msg::new(self.envelope(body))
    }

    /// Runs the processor Lambda handler on a batch with 30 s left; returns the ids it
    /// reported as failed.
    pub async fn invoke(&self, msgs: &[Msg]) -> Vec<String> {
        self.invoke_with(msgs, Duration::from_secs(30), "req").await
    }

    pub async fn invoke_with(
        &self,
        msgs: &[Msg],
        remaining: Duration,
        request_id: &str,
    ) -> Vec<String> {
        let now_ms = jiff::Timestamp::now().as_millisecond();
        self.invoke_until(msgs, now_ms + remaining.as_millis() as i64, request_id)
            .await
    }

    /// Runs the processor Lambda handler on a batch whose invocation ends at `deadline_ms`
    /// (milliseconds since the epoch, as Lambda's context gives it).
    pub async fn invoke_until(
        &self,
        msgs: &[Msg],
        deadline_ms: i64,
        request_id: &str,
    ) -> Vec<String> {
        let event = sqs_event(msgs);
        let mut ctx = Context::default();
        ctx.request_id = moto::unique(request_id);
        ctx.deadline = deadline_ms as u64;
        let resp = processor::handle(&self.processor, LambdaEvent::new(event, ctx))
            .await
            .expect("the handler answers");
        resp.batch_item_failures
            .into_iter()
            .map(|f| f.item_identifier)
            .collect()
    }

    pub fn instance(code: &str) -> InstanceRef {
        InstanceRef {
            tenant_key: events::TENANT.into(),
            approval_code: events::LEAVE_FORM.into(),
            instance_code: code.into(),
        }
    }

    pub async fn record(&self, instance_code: &str) -> Option<Record> {
        self.ledger
            .get(&Self::instance(instance_code))
            .await
            .expect("read the ledger")
    }

    /// Everything in the dead-letter queue (body, attributes), removed as read.
    pub async fn dead_letters(&self) -> Vec<(String, HashMap<String, String>)> {
        drain(&self.sqs, &self.dlq_url).await
    }
}

/// Everything on a queue (body, attributes), removed as read.
pub async fn drain(sqs: &aws_sdk_sqs::Client, url: &str) -> Vec<(String, HashMap<String, String>)> {
    let queue = Queue::new(sqs.clone(), url);
    let mut out = Vec::new();
    loop {
        let got = queue.receive(10, 0, None).await.expect("receive");
        if got.is_empty() {
            return out;
        }
        let handles: Vec<&str> = got.iter().map(|m| m.receipt_handle.as_str()).collect();
        queue.delete(&handles).await.expect("delete");
        out.extend(got.into_iter().map(|m| (m.body, m.attributes)));
    }
}

fn sqs_event(msgs: &[Msg]) -> SqsEvent {
    let mut event = SqsEvent::default();
    for m in msgs {
        let mut message = SqsMessage::default();
        message.message_id = Some(m.id.clone());
        message.body = Some(m.body.clone());
        message.attributes.insert(
            "ApproximateReceiveCount".into(),
            m.receive_count.to_string(),
        );
        for (k, v) in &m.attrs {
            let mut attr = SqsMessageAttribute::default();
            attr.string_value = Some(v.clone());
            attr.data_type = Some("String".into());
            message.message_attributes.insert(k.clone(), attr);
        }
        event.records.push(message);
    }
    event
}
