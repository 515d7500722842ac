//! Logging set-up shared by the Lambda functions and the CLI.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::format::{Format, Json, JsonFields};
use tracing_subscriber::prelude::*;

/// JSON lines in Lambda (CloudWatch Logs Insights parses them, and `LoggingConfig:
/// LogFormat: JSON` expects them); compact human-readable lines elsewhere.
///
/// Level: `RUST_LOG` if set (`target=level` directives, as in `info,shared=debug`), else
/// Lambda's `AWS_LAMBDA_LOG_LEVEL`, else `info`. `Targets` rather than `EnvFilter`: the
/// latter's span-field matching needs the regex crates, a quarter megabyte per binary.
pub fn init() {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let json = in_lambda
        || std::env::var("LOG_FORMAT")
            .map(|v| v.eq_ignore_ascii_case("json"))
            .unwrap_or(false);
    let filter = filter_from_env();
    // stderr: the CLI's stdout carries its output (ledger, status); Lambda keeps both.
    let layer = tracing_subscriber::fmt::layer().with_writer(std::io::stderr);
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: a second initialisation (tests, dev mode) must not panic.
    let _ = if json {
        registry
            .with(
                layer
                    .event_format(json_format())
                    .fmt_fields(JsonFields::new()),
            )
            .try_init()
    } else {
        registry.with(layer.compact().with_target(false)).try_init()
    };
}

/// The JSON line format: an event's fields at the top level (so `{ $.alert = "..." }`
/// metric filters match them), the current span's fields under `span`.
pub fn json_format() -> Format<Json, ()> {
    tracing_subscriber::fmt::format()
        .json()
        .with_current_span(true)
        .with_span_list(false)
        .flatten_event(true)
        .with_target(false)
        .without_time() // Lambda timestamps every line already
}

/// Stable codes in the `alert` field of log lines that need an operator. template.yaml
/// counts each with a metric filter and alarms on it; the README's Operations section
/// says what to do about each.
pub mod alert {
    /// A request carrying Feishu's signature headers was refused: the configured Encrypt
    /// Key or Verification Token is not the app's (or someone forges requests).
    pub const SIGNED_REQUEST_REJECTED: &str = "signed_request_rejected";
    /// Processing one record panicked: a bug. The record is retried and, if it keeps
    /// panicking, parked in the dead-letter queue.
    pub const RECORD_PANICKED: &str = "record_panicked";
    /// A time-off create may or may not have made the event (no answer, a 5xx, a crash):
    /// the instance is parked until an operator looks at the employee's profile.
    pub const TIMEOFF_OUTCOME_UNKNOWN: &str = "timeoff_outcome_unknown";
    /// A revoke could not delete a time-off event because its id was never known: the
    /// badge stays on the employee's profile until the leave's end.
    pub const TIMEOFF_LEFT_BEHIND: &str = "timeoff_left_behind";
    /// Feishu refused to create an instance of the chat bot's definition for a reason the
    /// employee cannot fix (inactive or unknown definition, a widget id it does not have,
    /// a missing scope): every chat application fails until an admin fixes it.
    pub const CHAT_MISCONFIGURED: &str = "chat_misconfigured";
    /// A synced leave could not be put on (or taken off) the team calendar for a reason
    /// retrying will not change (a missing scope, the calendar gone, the employee outside
    /// the app's contact range): the leave itself is synced; the ledger notes it.
    pub const TEAM_CALENDAR_FAILED: &str = "team_calendar_failed";
}

/// The log filter from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else `info`; an unreadable
/// value falls back to `info` rather than silencing the logs.
pub fn filter_from_env() -> Targets {
    let spec = std::env::var("RUST_LOG")
        .or_else(|_| std::env::var("AWS_LAMBDA_LOG_LEVEL"))
        .unwrap_or_else(|_| "info".into());
    // Lambda's levels include FATAL, which tracing calls error.
    spec.to_ascii_lowercase()
        .replace("fatal", "error")
        .parse()
        .unwrap_or_else(|_| Targets::new().with_default(tracing::Level::INFO))
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing_subscriber::prelude::*;

    use super::*;

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn an_alert_is_a_top_level_field_of_the_json_line() {
        let out = Captured::default();
        let writer = out.clone();
        let subscriber = tracing_subscriber::registry().with(
            tracing_subscriber::fmt::layer()
                .event_format(json_format())
                .fmt_fields(JsonFields::new())
                .with_writer(move || writer.clone()),
        );
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("event", instance_code = "I-1");
            let _e = span.enter();
            tracing::warn!(
                alert = alert::SIGNED_REQUEST_REJECTED,
                code = "bad_signature",
                "refused"
            );
        });
        let line: serde_json::Value =
            serde_json::from_slice(&out.0.lock().unwrap()).expect("one JSON line");
        assert_eq!(line["alert"], alert::SIGNED_REQUEST_REJECTED);
        assert_eq!(line["span"]["instance_code"], "I-1");
    }
}
