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
        .map(|z| z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string())
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
        { "id": reason_widget, "type": "textarea", "value": reason_or_default(reason) },
    ]);
    Ok(form.to_string())
}

/// What a form's reason says when the message gave none: Feishu refuses an empty value
/// on any widget sent (「控件值不合法或者为空」, doc "审批实例表单控件参数" FAQ).
pub const NO_REASON: &str = "（通过聊天申请）Applied in chat";

fn reason_or_default(reason: &str) -> &str {
    if reason.trim().is_empty() {
        NO_REASON
    } else {
        reason
    }
}

/// The leave widget group's ends: Feishu rounds them by the leave type (「半天假小于12点则
/// 认为是上午，小时假则以半小时为粒度向后取整」, doc "审批实例表单控件参数"), so the end is
/// the last moment of the last unit, not its start: a day or an afternoon ends at
/// 23:59:59, a morning at 11:59:59. Written so, a day, half-day or hourly leave type each
/// reads the period as the employee meant it.
pub fn native_ends(period: &Period) -> (DateTime, DateTime) {
    let before = |date: Date, h: i8| date.to_datetime(Time::constant(h, 59, 59, 0));
    match *period {
        Period::Days { first, last } => (first.to_datetime(Time::midnight()), before(last, 23)),
        Period::HalfDays { first, last } => {
            let end = match last.1 {
                HalfDay::Morning => before(last.0, 11),
                HalfDay::Afternoon => before(last.0, 23),
            };
            (half_start(first.0, first.1), end)
        }
        Period::Hours { date, from, to } => (date.to_datetime(from), date.to_datetime(to)),
    }
}

/// A native leave form: the leave widget group's sub-widgets (doc "审批实例表单控件参数"),
/// no unit or interval (Feishu computes them).
pub fn native(
    leave_type: &ChatLeaveType,
    period: &Period,
    reason: &str,
    tz: &TimeZone,
) -> Result<String, NoSuchTime> {
    let (start, end) = native_ends(period);
    let reason = reason_or_default(reason);
    let sub =
        |id: &str, kind: &str, value: Value| json!({ "id": id, "type": kind, "value": value });
    let form = json!([{
        "id": "widgetLeaveGroupV2",
        "type": "leaveGroupV2",
        "value": [
            sub("widgetLeaveGroupType", "radioV2", json!(leave_type.id)),
            sub("widgetLeaveGroupStartTime", "date", json!(rfc3339(start, tz)?)),
            sub("widgetLeaveGroupEndTime", "date", json!(rfc3339(end, tz)?)),
            sub("widgetLeaveGroupReason", "textarea", json!(reason)),
        ],
    }]);
    Ok(form.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn sh() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    #[test]
    fn a_custom_form_names_the_last_day_or_half_and_counts_days_inclusively() {
        let days = span(&Period::Days {
            first: date(2026, 12, 1),
            last: date(2026, 12, 3),
        });
        assert_eq!(
            (days.start.to_string(), days.end.to_string()),
            ("2026-12-01T00:00:00".into(), "2026-12-03T00:00:00".into())
        );
        assert_eq!(days.days, 3.0);
        // The afternoon of the 7th to the morning of the 8th: one day, ends named by the
        // start of their half.
        let halves = span(&Period::HalfDays {
            first: (date(2026, 12, 7), HalfDay::Afternoon),
            last: (date(2026, 12, 8), HalfDay::Morning),
        });
        assert_eq!(halves.end.to_string(), "2026-12-08T00:00:00");
        assert_eq!(halves.days, 1.0);
        let hours = span(&Period::Hours {
            date: date(2026, 12, 5),
            from: Time::constant(14, 0, 0, 0),
            to: Time::constant(17, 0, 0, 0),
        });
        assert_eq!(hours.days, 0.125);
        let f: serde_json::Value =
            serde_json::from_str(&custom("timeInfo", "reason", &days, "", &sh()).unwrap()).unwrap();
        assert_eq!(f[0]["value"]["start"], "2026-12-01T00:00:00+08:00");
        assert_eq!(f[1]["value"], NO_REASON, "never an empty value");
    }

    #[test]
    fn a_native_form_ends_at_the_last_moment_of_the_last_unit() {
        let (_, end) = native_ends(&Period::Days {
            first: date(2026, 12, 1),
            last: date(2026, 12, 2),
        });
        assert_eq!(end.to_string(), "2026-12-02T23:59:59");
        let (start, end) = native_ends(&Period::HalfDays {
            first: (date(2026, 12, 7), HalfDay::Afternoon),
            last: (date(2026, 12, 8), HalfDay::Morning),
        });
        assert_eq!(
            (start.to_string(), end.to_string()),
            ("2026-12-07T12:00:00".into(), "2026-12-08T11:59:59".into())
        );
    }
}
