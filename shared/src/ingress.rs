//! The ingress workflow: authenticate, classify, enqueue, answer. Knows HTTP status codes
//! but not Lambda; `functions/ingress` and `leave-sync dev` map their requests onto it.

use std::time::Duration;

use http::HeaderMap;
use serde_json::json;
use tracing::{Instrument, debug, error, field, info, info_span, warn};

use crate::config::IngressConfig;
use crate::queue::Queue;
use crate::telemetry::alert;
use crate::webhook::{self, Verdict, Webhook};

/// The HTTP answer: a status and a small JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    fn json(status: u16, body: serde_json::Value) -> Self {
        Self {
            status,
            body: body.to_string(),
        }
    }

    fn error(status: u16, code: &str, message: &str) -> Self {
        Self::json(status, json!({ "error": code, "message": message }))
    }
}

pub struct Ingress {
    webhook: Webhook,
    queue: Queue,
}

impl Ingress {
    pub fn new(webhook: Webhook, queue: Queue) -> Self {
        Self { webhook, queue }
    }

    pub fn from_config(config: &IngressConfig, aws: &aws_config::SdkConfig) -> Self {
        Self::new(
            Webhook::new(&config.webhook),
            Queue::new(sqs_client(aws), config.queue_url.clone()),
        )
    }

    pub async fn handle(&self, body: &[u8], headers: &HeaderMap) -> Reply {
        let span = info_span!(
            "webhook",
            event_id = field::Empty,
            event_type = field::Empty
        );
        self.handle_inner(body, headers).instrument(span).await
    }

    async fn handle_inner(&self, body: &[u8], headers: &HeaderMap) -> Reply {
        let verdict = match self.webhook.receive(body, headers, jiff::Timestamp::now()) {
            Ok(v) => v,
            Err(e) => {
                // Never log the body: it may hold personal data or be an attack payload.
                // A signed request that is refused means the configured Encrypt Key or
                // Verification Token is not the app's (or a forgery): alarmed.
                if webhook::is_signed(headers) {
                    warn!(
                        alert = alert::SIGNED_REQUEST_REJECTED,
                        code = e.code(),
                        status = e.status(),
                        bytes = body.len(),
                        "rejected a signed webhook: {e}"
                    );
                } else {
                    warn!(
                        code = e.code(),
                        status = e.status(),
                        bytes = body.len(),
                        "rejected webhook: {e}"
                    );
                }
                return Reply::error(e.status(), e.code(), e.public_message());
            }
        };
        self.answer(verdict).await
    }

    /// An event from Feishu's long connection (plaintext, authenticated by the connection):
    /// the same routing and queue as a webhook's, and the same answer, which the long
    /// connection turns into its ack.
    pub async fn handle_trusted(&self, body: &[u8]) -> Reply {
        let span = info_span!(
            "long_connection",
            event_id = field::Empty,
            event_type = field::Empty
        );
        async {
            match self.webhook.receive_trusted(body, jiff::Timestamp::now()) {
                Ok(verdict) => self.answer(verdict).await,
                Err(e) => {
                    warn!(
                        code = e.code(),
                        bytes = body.len(),
                        "unreadable long-connection event: {e}"
                    );
                    Reply::error(e.status(), e.code(), e.public_message())
                }
            }
        }
        .instrument(span)
        .await
    }

    async fn answer(&self, verdict: Verdict) -> Reply {
        let span = tracing::Span::current();
        match verdict {
            Verdict::Challenge(challenge) => {
                info!("answered url_verification challenge");
                Reply::json(200, json!({ "challenge": challenge }))
            }
            Verdict::Ignore {
                event_id,
                event_type,
                reason,
            } => {
                span.record("event_id", event_id.as_str());
                span.record("event_type", event_type.as_str());
                debug!(%reason, "acknowledged and ignored");
                success()
            }
            Verdict::Enqueue(event) => {
                span.record("event_id", event.event_id.as_str());
                span.record("event_type", event.event_type.as_str());
                self.enqueue(&event).await
            }
        }
    }

    async fn enqueue(&self, event: &crate::queue::QueuedEvent) -> Reply {
        if event.event_type == crate::event::CARD_ACTION {
            // Processed only after Feishu has our answer: a card updated before the
            // callback is answered can be reverted at once (doc "延时更新消息卡片").
            let queued = self.queue.enqueue_delayed(event, CALLBACK_DELAY_SECS).await;
            return callback_answer(queued);
        }
        let result = self.queue.enqueue(event).await;
        match result {
            Ok(()) => {
                info!("queued");
                success()
            }
            Err(e) => {
                // A 5xx makes Feishu re-push (15 s, 5 min, 1 h, 6 h): never answer 200 for
                // an event that is not on the queue.
                error!("cannot queue event, answering 500 so Feishu retries: {e}");
                Reply::error(
                    500,
                    "queue_unavailable",
                    "the event could not be queued; Feishu will retry",
                )
            }
        }
    }
}

/// How long a card callback waits on the queue (Feishu waits at most 3 s for the answer).
const CALLBACK_DELAY_SECS: u32 = 3;

/// A card callback's answer (doc "处理卡片回调", reference 7.6): HTTP 200 within 3 s with
/// a toast. Feishu never retries a callback, so the toast tells the employee the truth:
/// submitted only once it is on the queue, else to submit again (the form stays).
fn callback_answer<E: std::fmt::Display>(queued: Result<(), E>) -> Reply {
    let (kind, content) = match queued {
        Ok(()) => {
            info!("queued a card callback");
            (
                "success",
                "已提交，结果会在聊天中告诉你 · Submitted: the result follows in the chat",
            )
        }
        Err(e) => {
            error!("cannot queue a card callback, asking the employee to submit again: {e}");
            (
                "error",
                "没有提交成功，请再提交一次 · Not submitted: please submit again",
            )
        }
    };
    Reply::json(
        200,
        json!({ "toast": { "type": kind, "content": content } }),
    )
}

/// Feishu counts a push that is not answered within 3 s as failed (reference §1.6). The
/// SendMessage gets at most 2 s in all, each try 700 ms (the SDK retries a timed-out try),
/// so that a slow queue is answered with a 500, which Feishu retries, rather than a hang.
pub const SQS_OPERATION_TIMEOUT: Duration = Duration::from_millis(2000);
pub const SQS_ATTEMPT_TIMEOUT: Duration = Duration::from_millis(700);

fn sqs_client(aws: &aws_config::SdkConfig) -> aws_sdk_sqs::Client {
    let timeouts = aws_sdk_sqs::config::timeout::TimeoutConfig::builder()
        .operation_timeout(SQS_OPERATION_TIMEOUT)
        .operation_attempt_timeout(SQS_ATTEMPT_TIMEOUT)
        .build();
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::config::Builder::from(aws)
            .timeout_config(timeouts)
            .build(),
    )
}

fn success() -> Reply {
    Reply::json(200, json!({ "msg": "success" }))
}
