//! Logging set-up shared by the Lambda functions and the CLI.

use tracing_subscriber::filter::Targets;
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
                    .json()
                    .with_current_span(true)
                    .with_span_list(false)
                    .flatten_event(true)
                    .with_target(false)
                    .without_time(), // Lambda timestamps every line already
            )
            .try_init()
    } else {
        registry.with(layer.compact().with_target(false)).try_init()
    };
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
