//! The `form` of an approval instance the bot creates, in the **create** shape (reference
//! §4.12 and 7.4: an array of `{id, type, value}`; the leave widget group an array of
//! sub-widgets), which differs from the shape the instance detail returns.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use serde_json::{Value, json};

use super::command::{ChatLeaveType, HalfDay, Period};

/// A period as the form's two ends and its length in days.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub start: DateTime,
    pub end: DateTime,
    pub days: f64,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0} does not exist in the tenant's time zone")]
pub struct NoSuchTime(String);

fn half_start(date: Date, half: HalfDay) -> DateTime {
    match half {
        HalfDay::Morning => date.to_datetime(Time::midnight()),
        HalfDay::Afternoon => date.to_datetime(Time::constant(12, 0, 0, 0)),
    }
}

/// The form's ends the way Feishu writes them for a `dateInterval` (doc "获取单个审批实例
/// 详情": start 10-01, end 10-02, interval 2): `end` names the *last* day or half-day
/// (its start), `interval` counts days inclusively. `sync::custom_form` reads them back
/// the same way, so what the bot applies for is what gets synced.
pub fn span(period: &Period) -> Span {
    match *period {
        Period::Days { first, last } => Span {
            start: first.to_datetime(Time::midnight()),
            end: last.to_datetime(Time::midnight()),
            days: (inclusive_days(first, last)) as f64,
        },
        Period::HalfDays { first, last } => {
            let halves = inclusive_days(first.0, last.0) * 2
                - i64::from(first.1 == HalfDay::Afternoon)
                - i64::from(last.1 == HalfDay::Morning);
            Span {
                start: half_start(first.0, first.1),
                end: half_start(last.0, last.1),
                days: halves as f64 / 2.0,
            }
        }
        Period::Hours { date, from, to } => {
            let (start, end) = (date.to_datetime(from), date.to_datetime(to));
            let secs = start.duration_until(end).as_secs();
            Span {
                start,
                end,
                days: secs as f64 / 86_400.0,
            }
        }
    }
}

fn inclusive_days(first: Date, last: Date) -> i64 {
    i64::from(first.until(last).map(|s| s.get_days()).unwrap_or(0)) + 1
}

fn rfc3339(t: DateTime, tz: &TimeZone) -> Result<String, NoSuchTime> {
    t.to_zoned(tz.clone())
        .map(|z| {
            z.timestamp()
                .to_zoned(tz.clone())
                .strftime("%Y-%m-%dT%H:%M:%S%:z")
                .to_string()
        })
        .map_err(|_| NoSuchTime(t.to_string()))
}

/// A custom form like the tutorial's: a `dateInterval` widget and a reason.
pub fn custom(
    period_widget: &str,
    reason_widget: &str,
    span: &Span,
    reason: &str,
    tz: &TimeZone,
) -> Result<String, NoSuchTime> {
    let form = json!([
        {
            "id": period_widget,
            "type": "dateInterval",
            "value": {
                "start": rfc3339(span.start, tz)?,
                "end": rfc3339(span.end, tz)?,
                "interval": span.days,
            },
        },
        { "id": reason_widget, "type": "textarea", "value": reason },
    ]);
    Ok(form.to_string())
}

/// A native leave form: the leave widget group's sub-widgets (doc "审批实例表单控件参数").
/// Feishu rounds start and end by the leave type (half-day: before 12:00 is the morning),
/// so the same ends as a custom form name the same days (assumption: the page shows no
/// whole-day sample).
pub fn native(
    leave_type: &ChatLeaveType,
    span: &Span,
    reason: &str,
    tz: &TimeZone,
) -> Result<String, NoSuchTime> {
    let sub =
        |id: &str, kind: &str, value: Value| json!({ "id": id, "type": kind, "value": value });
    let form = json!([{
        "id": "widgetLeaveGroupV2",
        "type": "leaveGroupV2",
        "value": [
            sub("widgetLeaveGroupType", "radioV2", json!(leave_type.id)),
            sub("widgetLeaveGroupStartTime", "date", json!(rfc3339(span.start, tz)?)),
            sub("widgetLeaveGroupEndTime", "date", json!(rfc3339(span.end, tz)?)),
            sub("widgetLeaveGroupReason", "textarea", json!(reason)),
        ],
    }]);
    Ok(form.to_string())
}
