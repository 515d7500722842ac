//! Reading a leave out of a custom approval form (reference §4.11): either the leave
//! widget group's value, or a date-range widget plus a reason widget whose custom ids are
//! configured (Feishu's tutorial names them `timeInfo` and `reason`).

use jiff::civil::{DateTime, Time};
use jiff::{Timestamp, Zoned};
use serde::Deserialize;
use serde_json::Value;

use super::mapping::TenantZone;
use crate::config::CustomFormConfig;
use crate::event::{
    Leave, LeaveType, LeaveUnit, Locale, LocalizedNames, OvertimeCategory, OvertimeTerms,
};
use crate::feishu::approval::Instance;

#[derive(Debug, thiserror::Error)]
pub enum FormError {
    #[error("the instance form is not a JSON widget array: {0}")]
    NotJson(#[from] serde_json::Error),
    #[error(
        "the form has no leave widget group and no widget with custom id {period_widget:?} \
         (it has: {found}); set CUSTOM_FORM_PERIOD_WIDGET to the date-range widget's custom id"
    )]
    NoPeriod {
        period_widget: String,
        found: String,
    },
    #[error("widget {widget:?}: {reason}")]
    BadValue { widget: String, reason: String },
    #[error("the instance names no applicant (user_id/open_id)")]
    NoApplicant,
}

#[derive(Debug, Deserialize)]
struct Widget {
    #[serde(default)]
    id: String,
    #[serde(default)]
    custom_id: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    value: Value,
}

impl Widget {
    fn is(&self, id: &str) -> bool {
        self.custom_id.as_deref() == Some(id) || self.id == id
    }

    fn label(&self) -> String {
        let id = self.custom_id.as_deref().unwrap_or(&self.id);
        if self.name.is_empty() {
            format!("{id} ({})", self.kind)
        } else {
            format!("{id} \"{}\" ({})", self.name, self.kind)
        }
    }
}

const LEAVE_GROUP_KINDS: [&str; 3] = ["leaveGroupV2", "widgetLeaveGroupV2", "leaveGroup"];

/// The instance's widgets, once it names its applicant.
fn widgets_of(instance: &Instance) -> Result<Vec<Widget>, FormError> {
    if instance.user_id.is_empty() || instance.open_id.is_empty() {
        return Err(FormError::NoApplicant);
    }
    Ok(serde_json::from_str(&instance.form)?)
}

pub fn leave_from_instance(
    instance: &Instance,
    forms: &CustomFormConfig,
    zone: &TenantZone,
) -> Result<Leave, FormError> {
    let widgets = widgets_of(instance)?;
    if let Some(group) = widgets
        .iter()
        .find(|w| LEAVE_GROUP_KINDS.contains(&w.kind.as_str()))
    {
        return leave_group(instance, group, zone);
    }
    let (period, reason) = period_and_reason(&widgets, forms)?;
    let label = period.label();
    let (named_start, named_end) = period_of(&period.value, &label, zone)?;
    let days = days_of(&period.value, &label)?;
    let (start, end, unit) = read_period(named_start, named_end, days);
    Ok(Leave {
        user_id: instance.user_id.clone(),
        open_id: instance.open_id.clone(),
        leave_type: definition_type(instance, crate::event::leave::fallback_names()),
        unit,
        interval_secs: (days * 86_400.0).round() as i64,
        start,
        end,
        reason,
        segments: Vec::new(),
        overtime: None,
    })
}

/// A custom form has no leave types: the definition's name stands for one (`fallback`
/// when the instance gives none), keyed by its approval code.
fn definition_type(instance: &Instance, fallback: LocalizedNames) -> LeaveType {
    let names = if instance.approval_name.is_empty() {
        fallback
    } else {
        LocalizedNames::single(instance.approval_name.clone())
    };
    LeaveType {
        key: instance.approval_code.clone(),
        names,
        default_locale: Locale::Ch,
    }
}

/// The configured date-range widget, and the reason widget's text (empty without one).
fn period_and_reason<'w>(
    widgets: &'w [Widget],
    forms: &CustomFormConfig,
) -> Result<(&'w Widget, String), FormError> {
    let Some(period) = widgets.iter().find(|w| w.is(&forms.period_widget)) else {
        return Err(FormError::NoPeriod {
            period_widget: forms.period_widget.clone(),
            found: widgets
                .iter()
                .map(Widget::label)
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    let reason = widgets
        .iter()
        .find(|w| w.is(&forms.reason_widget))
        .and_then(|w| w.value.as_str())
        .unwrap_or_default()
        .to_owned();
    Ok((period, reason))
}

/// An overtime form's instance (`OVERTIME_APPROVAL_CODES`): the same date-range and
/// reason widgets as a custom leave form. Attendance counts overtime from its start and
/// end (「默认采用start_time和end_time计算」, doc "写入审批结果"), so the ends are taken as
/// given, and a range of whole days (a date-only widget, both ends at one time of day)
/// is refused rather than written as 24 hours a day.
pub fn overtime_from_instance(
    instance: &Instance,
    forms: &CustomFormConfig,
    zone: &TenantZone,
) -> Result<Leave, FormError> {
    let widgets = widgets_of(instance)?;
    let (period, reason) = period_and_reason(&widgets, forms)?;
    let label = period.label();
    let (start, end) = period_of(&period.value, &label, zone)?;
    let days = days_of(&period.value, &label)?;
    if start.time() == end.time() && days >= 1.0 && days.fract().abs() < 0.01 {
        return Err(FormError::BadValue {
            widget: label,
            reason: format!(
                "{days} whole days from {start}: overtime is counted by the clock, so its \
                 form needs a date-and-time range (YYYY-MM-DD hh:mm), not a date-only one"
            ),
        });
    }
    let secs = start.duration_until(end).as_secs();
    if secs <= 0 {
        return Err(FormError::BadValue {
            widget: label,
            reason: format!("an overtime from {start} to {end} has no length"),
        });
    }
    let overtime = LocalizedNames {
        ch: Some("加班".into()),
        en: Some("Overtime".into()),
        ja: None,
    };
    Ok(Leave {
        user_id: instance.user_id.clone(),
        open_id: instance.open_id.clone(),
        leave_type: definition_type(instance, overtime),
        unit: LeaveUnit::Hour,
        interval_secs: secs,
        start,
        end,
        reason,
        segments: Vec::new(),
        overtime: Some(OvertimeTerms {
            category: category_of(start.date()),
            compensation: forms.overtime_compensation,
        }),
    })
}

/// (assumption) Saturday and Sunday are rest days, other days workdays: the service does
/// not read the tenant's holiday calendar or shifts, so holiday overtime (category 3) and
/// a weekend workday are written by their weekday (README, "Overtime").
fn category_of(day: jiff::civil::Date) -> OvertimeCategory {
    use jiff::civil::Weekday;
    match day.weekday() {
        Weekday::Saturday | Weekday::Sunday => OvertimeCategory::RestDay,
        _ => OvertimeCategory::Workday,
    }
}

fn leave_group(instance: &Instance, group: &Widget, zone: &TenantZone) -> Result<Leave, FormError> {
    let label = group.label();
    let v = &group.value;
    let (named_start, named_end) = period_of(v, &label, zone)?;
    let days = days_of(v, &label)?;
    let (start, end, inferred) = read_period(named_start, named_end, days);
    let unit = match v.get("unit").and_then(Value::as_str) {
        // The group's unit is DAY or HOUR only; a half-day leave says DAY.
        Some(u) => match LeaveUnit::from_name(u) {
            Some(LeaveUnit::Day) if inferred == LeaveUnit::HalfDay => LeaveUnit::HalfDay,
            Some(unit) => unit,
            None => {
                return Err(FormError::BadValue {
                    widget: label.clone(),
                    reason: format!("unknown unit {u:?}"),
                });
            }
        },
        None => inferred,
    };
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(LocalizedNames::single)
        .unwrap_or_else(crate::event::leave::fallback_names);
    Ok(Leave {
        user_id: instance.user_id.clone(),
        open_id: instance.open_id.clone(),
        leave_type: LeaveType {
            key: name.primary().unwrap_or_default().to_owned(),
            names: name,
            default_locale: Locale::Ch,
        },
        start,
        end,
        interval_secs: (days * 86_400.0).round() as i64,
        unit,
        reason: v
            .get("reason")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        segments: Vec::new(),
        overtime: None,
    })
}

/// RFC 3339 start/end with offsets → wall-clock times in the tenant's zone.
fn period_of(v: &Value, label: &str, zone: &TenantZone) -> Result<(DateTime, DateTime), FormError> {
    let read = |key: &str| -> Result<DateTime, FormError> {
        let raw = v
            .get(key)
            .and_then(Value::as_str)
            .ok_or_else(|| FormError::BadValue {
                widget: label.to_owned(),
                reason: format!("no {key} in {v}"),
            })?;
        let ts: Timestamp = raw.parse().map_err(|e| FormError::BadValue {
            widget: label.to_owned(),
            reason: format!("{key} {raw:?} is not RFC 3339: {e}"),
        })?;
        Ok(Zoned::new(ts, zone.tz.clone()).datetime())
    };
    let (start, end) = (read("start")?, read("end")?);
    if end < start {
        return Err(FormError::BadValue {
            widget: label.to_owned(),
            reason: format!("end {end} is before start {start}"),
        });
    }
    Ok((start, end))
}

/// `interval` is in days (pitfall 6), a number or a numeric string.
fn days_of(v: &Value, label: &str) -> Result<f64, FormError> {
    let bad = || FormError::BadValue {
        widget: label.to_owned(),
        reason: format!("interval is not a number of days in {v}"),
    };
    let days = match v.get("interval") {
        Some(Value::Number(n)) => n.as_f64().ok_or_else(bad)?,
        Some(Value::String(s)) => s.trim().parse().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if !days.is_finite() || days < 0.0 {
        return Err(bad());
    }
    Ok(days)
}

/// The exclusive end of a form's period, and its unit. Feishu's form `end` names the last
/// day (or half-day) the leave covers and `interval` counts days inclusively (doc
/// "获取单个审批实例详情": start 10-01, end 10-02, interval 2.0), but an hour range ends
/// where it says, and the pages' samples disagree (the form-controls page gives 1.0 for
/// the same dates). So the interval decides: the end read as is, one half-day later or
/// one day later, whichever makes the period as long as the interval says.
/// The period a form's range names, exclusive end, and its unit. Both ends at the same
/// time of day (midnight, or the GET page's sample `08:12:01` on both ends of a
/// `YYYY-MM-DD` widget) is a range of whole days: it runs from the first day to the end of
/// the last, whatever `interval` counts (rest days and holidays inside the range, an
/// interval the applicant edited: 「部分假期类型用户手动输入请假时长」). Otherwise the
/// interval decides how the end is read ([`read_end`]). (assumption) the widget's format
/// (`YYYY-MM-DD` / `YYYY-MM-DD a` / `YYYY-MM-DD hh:mm`) is in the definition, not the
/// instance; the time of day stands in for it.
fn read_period(start: DateTime, end: DateTime, days: f64) -> (DateTime, DateTime, LeaveUnit) {
    let whole_days = (days - days.round()).abs() < 0.01 && days >= 1.0;
    if start.time() == end.time()
        && whole_days
        && let Ok(after_last) = end.date().tomorrow()
    {
        let first = start.date().to_datetime(Time::midnight());
        return (
            first,
            after_last.to_datetime(Time::midnight()),
            LeaveUnit::Day,
        );
    }
    let (end, unit) = read_end(start, end, days);
    (start, end, unit)
}

fn read_end(start: DateTime, end: DateTime, days: f64) -> (DateTime, LeaveUnit) {
    let noon = Time::constant(12, 0, 0, 0);
    let on_grid =
        |t: DateTime, half: bool| t.time() == Time::midnight() || (half && t.time() == noon);
    let later = |hours: i64| {
        end.checked_add(jiff::SignedDuration::from_hours(hours))
            .ok()
    };
    let candidates = [
        (Some(end), None),
        (later(24), Some(LeaveUnit::Day)),
        (later(12), Some(LeaveUnit::HalfDay)),
    ];
    let spans =
        |e: DateTime| (start.duration_until(e).as_secs_f64() - days * 86_400.0).abs() < 60.0;
    for (candidate, unit) in candidates {
        let Some(e) = candidate.filter(|e| spans(*e)) else {
            continue;
        };
        let grid = match unit {
            Some(LeaveUnit::Day) => on_grid(start, false) && on_grid(end, false),
            Some(_) => on_grid(start, true) && on_grid(end, true),
            None => true,
        };
        if grid {
            return (e, unit.unwrap_or_else(|| infer_unit(start, e, days)));
        }
    }
    // An interval that fits no reading (a user may edit it): the end as given.
    (end, infer_unit(start, end, days))
}

/// A date range without a unit: whole days from midnight are days, a half-day grid
/// (00:00/12:00, as the tutorial's AM/PM widget produces) is half-days, anything else
/// is hours.
fn infer_unit(start: DateTime, end: DateTime, days: f64) -> LeaveUnit {
    let noon = Time::constant(12, 0, 0, 0);
    let on = |t: DateTime, times: &[Time]| times.contains(&t.time());
    if days.fract() == 0.0 && on(start, &[Time::midnight()]) && on(end, &[Time::midnight()]) {
        LeaveUnit::Day
    } else if (days * 2.0).fract() == 0.0
        && on(start, &[Time::midnight(), noon])
        && on(end, &[Time::midnight(), noon])
    {
        LeaveUnit::HalfDay
    } else {
        LeaveUnit::Hour
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::ApprovalStatus;
    use jiff::civil::date;
    use jiff::tz::TimeZone;

    fn instance(form: Value) -> Instance {
        Instance {
            approval_name: "带薪休假审批".into(),
            approval_code: "CUSTOM".into(),
            instance_code: "I".into(),
            status: ApprovalStatus::Approved,
            reverted: false,
            user_id: "u_1".into(),
            open_id: "ou_1".into(),
            form: form.to_string(),
            serial_number: None,
            uuid: None,
            start_time: 0,
            end_time: 0,
        }
    }

    fn forms() -> CustomFormConfig {
        CustomFormConfig {
            approval_codes: Default::default(),
            leave_approval_codes: Default::default(),
            period_widget: "timeInfo".into(),
            reason_widget: "reason".into(),
            overtime_approval_codes: Default::default(),
            overtime_compensation: Default::default(),
        }
    }

    fn shanghai() -> TenantZone {
        TenantZone::new(TimeZone::get("Asia/Shanghai").unwrap())
    }

    #[test]
    fn an_overtime_form_reads_as_clock_hours_with_its_day_category() {
        let form = serde_json::json!([
            {"id": "w1", "custom_id": "timeInfo", "type": "dateInterval",
             "value": {"start": "2026-12-06T10:00:00+08:00", "end": "2026-12-06T18:00:00+08:00", "interval": 0.3333333}},
            {"id": "w2", "custom_id": "reason", "type": "textarea", "value": "上线"}
        ]);
        let mut forms = forms();
        forms.overtime_compensation = crate::event::OvertimeCompensation::Pay;
        let o = overtime_from_instance(&instance(form), &forms, &shanghai()).unwrap();
        assert_eq!(
            (o.start, o.end, o.interval_secs, o.unit, o.reason.as_str()),
            (
                date(2026, 12, 6).at(10, 0, 0, 0),
                date(2026, 12, 6).at(18, 0, 0, 0),
                28_800,
                LeaveUnit::Hour,
                "上线"
            )
        );
        let terms = o.overtime.unwrap();
        assert_eq!(terms.category, OvertimeCategory::RestDay, "a Sunday");
        assert_eq!(terms.compensation, crate::event::OvertimeCompensation::Pay);
        let monday = serde_json::json!([{"id": "w1", "custom_id": "timeInfo", "type": "dateInterval",
            "value": {"start": "2026-12-07T19:00:00+08:00", "end": "2026-12-07T22:00:00+08:00", "interval": 0.125}}]);
        let o = overtime_from_instance(&instance(monday), &forms, &shanghai()).unwrap();
        assert_eq!(o.overtime.unwrap().category, OvertimeCategory::Workday);
        let empty = serde_json::json!([{"id": "w1", "custom_id": "timeInfo", "type": "dateInterval",
            "value": {"start": "2026-12-07T19:00:00+08:00", "end": "2026-12-07T19:00:00+08:00", "interval": 0}}]);
        let e = overtime_from_instance(&instance(empty), &forms, &shanghai()).unwrap_err();
        assert!(e.to_string().contains("no length"), "{e}");
        let dates = serde_json::json!([{"id": "w1", "custom_id": "timeInfo", "type": "dateInterval",
            "value": {"start": "2026-12-05T00:00:00+08:00", "end": "2026-12-06T00:00:00+08:00", "interval": 2}}]);
        let e = overtime_from_instance(&instance(dates), &forms, &shanghai()).unwrap_err();
        assert!(e.to_string().contains("date-and-time range"), "{e}");
        let overnight = serde_json::json!([{"id": "w1", "custom_id": "timeInfo", "type": "dateInterval",
            "value": {"start": "2026-12-05T20:00:00+08:00", "end": "2026-12-06T02:00:00+08:00", "interval": 0.25}}]);
        let o = overtime_from_instance(&instance(overnight), &forms, &shanghai()).unwrap();
        assert_eq!(o.interval_secs, 6 * 3600, "the ends as given");
    }

    #[test]
    fn tutorial_date_interval_and_reason() {
        let form = serde_json::json!([
            {"id": "widget1", "custom_id": "timeInfo", "name": "休假时间", "type": "dateInterval",
             "value": {"start": "2026-12-14T00:00:00+08:00", "end": "2026-12-15T12:00:00+08:00", "interval": 1.5}},
            {"id": "widget2", "custom_id": "reason", "name": "事由", "type": "textarea", "value": "Wedding"}
        ]);
        let l = leave_from_instance(&instance(form), &forms(), &shanghai()).unwrap();
        assert_eq!(l.start, date(2026, 12, 14).at(0, 0, 0, 0));
        assert_eq!(l.end, date(2026, 12, 15).at(12, 0, 0, 0));
        assert_eq!(l.interval_secs, 129_600);
        assert_eq!(l.unit, LeaveUnit::HalfDay);
        assert_eq!(l.reason, "Wedding");
        assert_eq!(l.leave_type.names.ch.as_deref(), Some("带薪休假审批"));
        assert_eq!((l.user_id.as_str(), l.open_id.as_str()), ("u_1", "ou_1"));
    }

    #[test]
    fn leave_group_value_with_other_offset_is_converted_to_the_tenant_zone() {
        let form = serde_json::json!([
            {"id": "widgetLeaveGroupV2", "name": "请假", "type": "leaveGroupV2",
             "value": {"name": "年假", "start": "2026-12-01T00:00:00+00:00", "end": "2026-12-01T04:00:00+00:00",
                       "interval": 0.1667, "unit": "HOUR", "reason": "Visa appointment"}}
        ]);
        let l = leave_from_instance(&instance(form), &forms(), &shanghai()).unwrap();
        assert_eq!(l.start, date(2026, 12, 1).at(8, 0, 0, 0));
        assert_eq!(l.end, date(2026, 12, 1).at(12, 0, 0, 0));
        assert_eq!(l.unit, LeaveUnit::Hour);
        assert_eq!(l.interval_secs, 14_403, "0.1667 days, rounded to seconds");
        assert_eq!(l.leave_type.names.ch.as_deref(), Some("年假"));
        assert_eq!(l.reason, "Visa appointment");
    }

    #[test]
    fn doc_spelling_widget_leave_group_v2_and_whole_days() {
        let form = serde_json::json!([
            {"id": "x", "type": "widgetLeaveGroupV2",
             "value": {"name": "病假", "start": "2026-12-01T00:00:00+08:00", "end": "2026-12-03T00:00:00+08:00",
                       "interval": "2", "unit": "DAY"}}
        ]);
        let l = leave_from_instance(&instance(form), &forms(), &shanghai()).unwrap();
        assert_eq!((l.unit, l.interval_secs), (LeaveUnit::Day, 172_800));
    }

    /// A dateInterval as Feishu fills it: `end` names the last day (or half-day) of the
    /// leave and `interval` counts days inclusively (doc "获取单个审批实例详情": start
    /// 10-01, end 10-02, interval 2.0).
    fn period(start: &str, end: &str, interval: f64) -> Leave {
        let form = serde_json::json!([
            {"custom_id": "timeInfo", "type": "dateInterval",
             "value": {"start": start, "end": end, "interval": interval}}
        ]);
        leave_from_instance(&instance(form), &forms(), &shanghai()).unwrap()
    }

    #[test]
    fn an_end_that_names_the_last_day_keeps_that_day() {
        let l = period(
            "2026-12-01T00:00:00+08:00",
            "2026-12-03T00:00:00+08:00",
            3.0,
        );
        assert_eq!(l.start, date(2026, 12, 1).at(0, 0, 0, 0));
        assert_eq!(l.end, date(2026, 12, 4).at(0, 0, 0, 0), "through the 3rd");
        assert_eq!((l.unit, l.interval_secs), (LeaveUnit::Day, 259_200));
        let doc = period(
            "2019-10-01T00:00:00+08:00",
            "2019-10-02T00:00:00+08:00",
            2.0,
        );
        assert_eq!(doc.end, date(2019, 10, 3).at(0, 0, 0, 0));
    }

    /// The GET page's own sample, and ranges whose interval is not their calendar span
    /// (a weekend, a holiday inside): the last day named is a day of leave all the same.
    #[test]
    fn a_range_of_whole_days_runs_through_its_last_day_whatever_the_interval() {
        let doc = period(
            "2019-10-01T08:12:01+08:00",
            "2019-10-02T08:12:01+08:00",
            2.0,
        );
        assert_eq!(
            (doc.start, doc.end, doc.unit),
            (
                date(2019, 10, 1).at(0, 0, 0, 0),
                date(2019, 10, 3).at(0, 0, 0, 0),
                LeaveUnit::Day
            )
        );
        let weekend = period(
            "2026-12-04T00:00:00+08:00",
            "2026-12-07T00:00:00+08:00",
            2.0,
        );
        assert_eq!(weekend.end, date(2026, 12, 8).at(0, 0, 0, 0), "Monday kept");
        assert_eq!(
            weekend.interval_secs, 172_800,
            "the interval as Feishu counts it"
        );
        let holiday = period(
            "2026-12-30T00:00:00+08:00",
            "2027-01-01T00:00:00+08:00",
            2.0,
        );
        assert_eq!(holiday.end, date(2027, 1, 2).at(0, 0, 0, 0), "the 1st kept");
    }

    #[test]
    fn an_end_that_names_the_last_half_day_keeps_that_half() {
        let l = period(
            "2026-12-01T12:00:00+08:00",
            "2026-12-02T12:00:00+08:00",
            1.5,
        );
        assert_eq!(l.start, date(2026, 12, 1).at(12, 0, 0, 0));
        assert_eq!(
            l.end,
            date(2026, 12, 3).at(0, 0, 0, 0),
            "through the 2nd's afternoon"
        );
        assert_eq!((l.unit, l.interval_secs), (LeaveUnit::HalfDay, 129_600));
        let morning = period(
            "2026-12-01T00:00:00+08:00",
            "2026-12-01T00:00:00+08:00",
            0.5,
        );
        assert_eq!(morning.end, date(2026, 12, 1).at(12, 0, 0, 0));
        assert_eq!(morning.unit, LeaveUnit::HalfDay);
    }

    #[test]
    fn an_hour_range_ends_where_it_says() {
        let l = period(
            "2026-12-10T14:00:00+08:00",
            "2026-12-10T17:00:00+08:00",
            0.125,
        );
        assert_eq!(l.end, date(2026, 12, 10).at(17, 0, 0, 0));
        assert_eq!((l.unit, l.interval_secs), (LeaveUnit::Hour, 10_800));
    }

    #[test]
    fn missing_period_widget_names_the_setting_and_the_widgets_found() {
        let form = serde_json::json!([{"id": "w", "custom_id": "when", "type": "dateInterval", "value": {}}]);
        let e = leave_from_instance(&instance(form), &forms(), &shanghai()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains("CUSTOM_FORM_PERIOD_WIDGET") && msg.contains("when (dateInterval)"),
            "{msg}"
        );
    }

    #[test]
    fn bad_values_are_reported() {
        let form = serde_json::json!([{"custom_id": "timeInfo", "type": "dateInterval",
            "value": {"start": "yesterday", "end": "2026-12-01T00:00:00+08:00", "interval": 1}}]);
        assert!(matches!(
            leave_from_instance(&instance(form), &forms(), &shanghai()),
            Err(FormError::BadValue { .. })
        ));
        assert!(matches!(
            leave_from_instance(&instance(serde_json::json!("nope")), &forms(), &shanghai()),
            Err(FormError::NotJson(_))
        ));
    }
}
