//! Maps an invocation onto [`shared::digest::Digest::post`]. The schedule (EventBridge
//! Scheduler, template.yaml) passes `{"scheduled_time": "<aws.scheduler.scheduled-time>"}`,
//! so that a retry of the same run posts for the same day even after midnight; a manual
//! invoke may pass `{"date": "2026-12-01"}`; anything else means today.

use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use lambda_runtime::LambdaEvent;
use serde::Deserialize;
use serde_json::Value;
use shared::digest::{Digest, DigestError, DigestReport};
use shared::ledger::Lease;
use shared::workflow::Deadline;

/// The function's `Timeout` in template.yaml (see [`Deadline::from_lambda`]).
const FUNCTION_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("invalid invocation payload: {0}")]
    Payload(String),
    #[error(transparent)]
    Digest(#[from] DigestError),
    /// Failing the invocation makes the scheduler retry (chats already posted are
    /// skipped) and the function's Errors alarm fire.
    #[error("no card for {} chat(s): {}", .0.failed.len(), failures(.0))]
    Incomplete(Box<DigestReport>),
}

fn failures(report: &DigestReport) -> String {
    let each: Vec<String> = report
        .failed
        .iter()
        .map(|(chat, why)| format!("{chat}: {why}"))
        .collect();
    each.join("; ")
}

impl From<RunError> for lambda_runtime::Diagnostic {
    fn from(e: RunError) -> Self {
        Self {
            error_type: match e {
                RunError::Payload(_) => "Payload".into(),
                RunError::Digest(_) => "DigestUnavailable".into(),
                RunError::Incomplete(_) => "DigestIncomplete".into(),
            },
            error_message: e.to_string(),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
struct Payload {
    #[serde(default)]
    scheduled_time: Option<String>,
    #[serde(default)]
    date: Option<String>,
}

/// The day to post for: the payload's date, else the scheduled time's day in the
/// tenant's zone, else today's.
pub fn day_of(zone: &TimeZone, payload: &Value) -> Result<Date, RunError> {
    let p: Payload = match payload {
        Value::Object(_) => serde_json::from_value(payload.clone()).unwrap_or_default(),
        _ => Payload::default(),
    };
    if let Some(date) = p.date {
        return date
            .parse()
            .map_err(|e| RunError::Payload(format!("date {date:?}: {e}")));
    }
    let at = match p.scheduled_time {
        Some(t) => t
            .parse::<Timestamp>()
            .map_err(|e| RunError::Payload(format!("scheduled_time {t:?}: {e}")))?,
        None => Timestamp::now(),
    };
    Ok(at.to_zoned(zone.clone()).date())
}

pub async fn handle(digest: &Digest, event: LambdaEvent<Value>) -> Result<DigestReport, RunError> {
    let (payload, context) = event.into_parts();
    let (deadline, _) = Deadline::from_lambda(context.deadline, FUNCTION_TIMEOUT);
    let lease = Lease {
        owner: context.request_id.clone(),
        until: deadline.at,
    };
    let report = digest
        .post(day_of(digest.zone(), &payload)?, &lease)
        .await?;
    if report.failed.is_empty() {
        Ok(report)
    } else {
        Err(RunError::Incomplete(Box::new(report)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn the_day_is_the_scheduled_times_in_the_tenants_zone_or_the_one_asked_for() {
        let shanghai = TimeZone::get("Asia/Shanghai").unwrap();
        // What EventBridge Scheduler puts for <aws.scheduler.scheduled-time>: 09:00 in
        // Shanghai is 01:00 UTC; a retry after midnight UTC still names that day.
        let scheduled = serde_json::json!({ "scheduled_time": "2026-12-07T01:00:00Z" });
        assert_eq!(day_of(&shanghai, &scheduled).unwrap(), date(2026, 12, 7));
        let late = serde_json::json!({ "scheduled_time": "2026-12-06T23:30:00Z" });
        assert_eq!(day_of(&shanghai, &late).unwrap(), date(2026, 12, 7));
        let manual = serde_json::json!({ "date": "2026-12-01" });
        assert_eq!(day_of(&shanghai, &manual).unwrap(), date(2026, 12, 1));
        let bad = serde_json::json!({ "date": "tomorrow" });
        assert!(matches!(day_of(&shanghai, &bad), Err(RunError::Payload(_))));
    }
}
