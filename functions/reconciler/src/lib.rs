//! Maps an invocation onto [`shared::reconcile::Reconciler::run`]. EventBridge's scheduled
//! event carries nothing the run needs; a manual invoke may pass
//! `{"since": "30d", "dry_run": true}`.

use std::time::Duration;

use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::Value;
use shared::reconcile::{Reconciler, Report, RunOptions};
use shared::workflow::Deadline;
use tokio::time::Instant;
use tracing::warn;

/// The reconciler's `Timeout` in template.yaml: the deadline assumed when the runtime's
/// cannot be one (see [`Deadline::from_lambda`]).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(900);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("invalid invocation payload: {0}")]
    Payload(String),
    /// Failing the invocation makes the function's Errors alarm fire; what was done is in
    /// the log line "reconcile run finished" and the next run resumes from the checkpoint.
    #[error("the reconcile run met {} error(s): {}", .0.errors.len(), .0.errors.join("; "))]
    Incomplete(Box<Report>),
}

impl From<RunError> for lambda_runtime::Diagnostic {
    fn from(e: RunError) -> Self {
        Self {
            error_type: match e {
                RunError::Payload(_) => "Payload".into(),
                RunError::Incomplete(_) => "ReconcileIncomplete".into(),
            },
            error_message: e.to_string(),
        }
    }
}

/// What a manual invoke may ask for; unknown keys (a scheduled event's) are ignored.
#[derive(Debug, Default, Deserialize)]
struct Manual {
    #[serde(default)]
    since: Option<String>,
    #[serde(default)]
    dry_run: bool,
}

pub fn options(payload: &Value, deadline: Option<Instant>) -> Result<RunOptions, RunError> {
    let manual: Manual = match payload {
        Value::Object(_) => {
            serde_json::from_value(payload.clone()).map_err(|e| RunError::Payload(e.to_string()))?
        }
        _ => Manual::default(),
    };
    let since = manual
        .since
        .as_deref()
        .map(shared::duration::parse)
        .transpose()
        .map_err(RunError::Payload)?;
    Ok(RunOptions {
        since,
        dry_run: manual.dry_run,
        deadline,
    })
}

pub async fn handle(
    reconciler: &Reconciler,
    event: LambdaEvent<Value>,
) -> Result<Report, RunError> {
    let (payload, context) = event.into_parts();
    let (deadline, assumed) = Deadline::from_lambda(context.deadline, FUNCTION_TIMEOUT);
    if assumed {
        warn!(
            deadline_ms = context.deadline,
            assumed_secs = FUNCTION_TIMEOUT.as_secs(),
            "the runtime's deadline is not a Lambda deadline (an emulator?): assuming the function's timeout"
        );
    }
    let report = reconciler
        .run(options(&payload, Some(deadline.instant))?)
        .await;
    if report.errors.is_empty() {
        Ok(report)
    } else {
        Err(RunError::Incomplete(Box::new(report)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_scheduled_event_asks_for_an_ordinary_run_and_a_manual_one_may_say_more() {
        let scheduled: Value =
            serde_json::from_str(include_str!("../../../infra/events/lambda/schedule.json"))
                .unwrap();
        let o = options(&scheduled, None).unwrap();
        assert_eq!((o.since, o.dry_run), (None, false));

        let manual = serde_json::json!({ "since": "30d", "dry_run": true });
        let o = options(&manual, None).unwrap();
        assert_eq!(o.since, Some(Duration::from_secs(30 * 86_400)));
        assert!(o.dry_run);

        let bad = serde_json::json!({ "since": "a while" });
        assert!(matches!(options(&bad, None), Err(RunError::Payload(_))));
    }
}
