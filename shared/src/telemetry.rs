//! Logging set-up shared by the Lambda functions and the CLI.

use tracing_subscriber::EnvFilter;

/// JSON lines in Lambda (CloudWatch Logs Insights parses them, and `LoggingConfig:
/// LogFormat: JSON` expects them); compact human-readable lines elsewhere.
///
/// Level: `RUST_LOG` if set, else Lambda's `AWS_LAMBDA_LOG_LEVEL`, else `info`.
pub fn init() {
    let in_lambda = std::env::var_os("AWS_LAMBDA_FUNCTION_NAME").is_some();
    let json = in_lambda
        || std::env::var("LOG_FORMAT")
            .map(|v| v.eq_ignore_ascii_case("json"))
            .unwrap_or(false);
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| {
            let level = std::env::var("AWS_LAMBDA_LOG_LEVEL").unwrap_or_else(|_| "info".into());
            EnvFilter::try_new(level.to_ascii_lowercase())
        })
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // stderr: the CLI's stdout carries its output (ledger, status); Lambda keeps both.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // try_init: a second initialisation (tests, dev mode) must not panic.
    let _ = if json {
        builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .flatten_event(true)
            .with_target(false)
            .without_time() // Lambda timestamps every line already
            .try_init()
    } else {
        builder.compact().with_target(false).try_init()
    };
}
