//! Pure mappings from a [`Leave`] to what Feishu's write APIs take.

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use sha2::{Digest, Sha256};

use crate::event::{InstanceRef, Leave, LeaveType, LeaveUnit, OvertimeTerms};
use crate::feishu::attendance::{AttendanceUnit, UserApproval, UserLeave, UserOvertimeWork};
use crate::feishu::calendar::TimeoffEvent;

/// The tenant's zone, by name (Feishu wants the name) and resolved.
#[derive(Debug, Clone)]
pub struct TenantZone {
    pub name: String,
    pub tz: TimeZone,
}

impl TenantZone {
    pub fn new(tz: TimeZone) -> Self {
        let name = tz.iana_name().unwrap_or("UTC").to_owned();
        Self { name, tz }
    }
}

/// Event unit → attendance unit. They are numbered differently (event 2 = half-day,
/// 3 = hour; attendance 3 = half-day, 2 = hour) and attendance has no minute: a minute
/// leave is written in hours, with its exact `interval` in seconds.
pub fn attendance_unit(unit: LeaveUnit) -> AttendanceUnit {
    match unit {
        LeaveUnit::Day => AttendanceUnit::Day,
        LeaveUnit::HalfDay => AttendanceUnit::HalfDay,
        LeaveUnit::Hour | LeaveUnit::Minute => AttendanceUnit::Hour,
        LeaveUnit::HalfHour => AttendanceUnit::HalfHour,
    }
}

/// The attendance record's `uniq_id`: a stable key of the leave *type*, under 14
/// characters ("假期类型唯一 ID…长度小于 14", doc "写入审批结果"). Derived from the name in the
/// tenant's default language, which the V1 and V2 twins agree on whichever language that
/// is (V1 gives "事假", V2 an i18n key whose default resource is "事假"). (assumption) seed
/// 001 says only 「请假类型。」 of V1's `leave_type`; the doc pair shows it equal to V2's
/// default resource, which is what this relies on. Releases before this one took the
/// Chinese name: for a tenant whose default language is not Chinese, a type synced by
/// both shows two `uniq_id`s in attendance (README, "Upgrading").
pub fn uniq_id(leave_type: &LeaveType) -> String {
    let name = leave_type.default_name();
    let digest = Sha256::digest(name.as_bytes());
    let hex: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("lt{}", &hex[..11])
}

/// The attendance `idempotent_id`: the instance code, the third-party record id Feishu's
/// guide suggests. A retry after a lost response then fails with "already exists"
/// instead of writing a duplicate.
pub fn idempotent_id(instance: &InstanceRef) -> String {
    instance.instance_code.clone()
}

fn yyyymmdd(d: Date) -> String {
    d.strftime("%Y%m%d").to_string()
}

fn naive(dt: DateTime) -> String {
    dt.strftime("%Y-%m-%d %H:%M:%S").to_string()
}

/// The attendance record of `leave`: a `leaves` entry, or for overtime an
/// `overtime_works` one.
pub fn attendance_record(instance: &InstanceRef, leave: &Leave) -> UserApproval {
    let mut record = UserApproval {
        user_id: leave.user_id.clone(),
        // The doc sample uses the first day of the leave.
        date: yyyymmdd(leave.start.date()),
        time_zone: None,
        leaves: Vec::new(),
        overtime_works: Vec::new(),
    };
    match leave.overtime {
        Some(terms) => record
            .overtime_works
            .push(overtime_work(instance, leave, terms)),
        None => record.leaves.push(user_leave(instance, leave)),
    }
    record
}

/// `user_overtime_work`: hours (unit 2), the length the ends give, the category and
/// compensation fixed when the form was read. The reason is optional for overtime.
fn overtime_work(instance: &InstanceRef, leave: &Leave, terms: OvertimeTerms) -> UserOvertimeWork {
    let hours = leave.interval_secs as f64 / 3_600.0;
    UserOvertimeWork {
        duration: (hours * 100.0).round() / 100.0,
        unit: AttendanceUnit::Hour,
        category: terms.category.code(),
        kind: terms.compensation.code(),
        start_time: naive(leave.start),
        end_time: naive(leave.end),
        reason: Some(leave.reason.clone()).filter(|r| !r.trim().is_empty()),
        idempotent_id: Some(idempotent_id(instance)),
        approval_id: None,
    }
}

fn user_leave(instance: &InstanceRef, leave: &Leave) -> UserLeave {
    let names = if leave.leave_type.names.is_empty() {
        crate::event::leave::fallback_names()
    } else {
        leave.leave_type.names.clone()
    };
    // `reason` is required by the API; an empty reason is replaced by the type's name.
    let reason = if leave.reason.trim().is_empty() {
        names.primary().unwrap_or("请假").to_owned()
    } else {
        leave.reason.clone()
    };
    UserLeave {
        uniq_id: Some(uniq_id(&leave.leave_type)),
        unit: attendance_unit(leave.unit),
        interval: leave.interval_secs,
        start_time: naive(leave.start),
        end_time: naive(leave.end),
        i18n_names: names,
        default_locale: leave.leave_type.default_locale,
        reason,
        idempotent_id: Some(idempotent_id(instance)),
        approval_id: None,
        approve_pass_time: None,
        approve_apply_time: None,
    }
}

/// The last calendar day a leave covers (the time-off API wants inclusive end dates):
/// [`Leave::last_day`].
pub fn inclusive_end_date(leave: &Leave) -> Date {
    leave.last_day()
}

#[derive(Debug, thiserror::Error)]
#[error("cannot place {datetime} in time zone {zone}: {source}")]
pub struct MappingError {
    datetime: DateTime,
    zone: String,
    #[source]
    source: jiff::Error,
}

pub(crate) fn unix_seconds(dt: DateTime, zone: &TenantZone) -> Result<String, MappingError> {
    // DST gaps and folds resolve "compatibly" (as most calendars do).
    dt.to_zoned(zone.tz.clone())
        .map(|z| z.timestamp().as_second().to_string())
        .map_err(|source| MappingError {
            datetime: dt,
            zone: zone.name.clone(),
            source,
        })
}

/// The time-off events that show `leave`: one all-day event for day leave; for shorter
/// units, one timed event per working-time segment when Feishu names them (V2's
/// `leave_range`: the afternoon of the 5th from 13:30 and the 6th's working day, say),
/// else one for the whole period (V1 alone, custom forms).
pub fn timeoff_events(
    instance: &InstanceRef,
    leave: &Leave,
    zone: &TenantZone,
) -> Result<Vec<TimeoffEvent>, MappingError> {
    if leave.unit == LeaveUnit::Day {
        return Ok(vec![timeoff_event(instance, leave, zone)?]);
    }
    let mut periods: Vec<_> = leave
        .segments
        .iter()
        .copied()
        .filter(|(start, end)| start < end)
        .collect();
    if periods.is_empty() {
        periods.push((leave.start, leave.end));
    }
    periods
        .into_iter()
        .map(|(start, end)| timed(instance, leave, zone, (start, end)))
        .collect()
}

/// The one event for the whole leave: all-day for day leave, timed otherwise.
pub fn timeoff_event(
    instance: &InstanceRef,
    leave: &Leave,
    zone: &TenantZone,
) -> Result<TimeoffEvent, MappingError> {
    match leave.unit {
        LeaveUnit::Day => Ok(titled(
            instance,
            leave,
            zone,
            (
                leave.start.date().to_string(),
                inclusive_end_date(leave).to_string(),
            ),
        )),
        _ => timed(instance, leave, zone, (leave.start, leave.end)),
    }
}

fn timed(
    instance: &InstanceRef,
    leave: &Leave,
    zone: &TenantZone,
    (start, end): (DateTime, DateTime),
) -> Result<TimeoffEvent, MappingError> {
    let times = (unix_seconds(start, zone)?, unix_seconds(end, zone)?);
    Ok(titled(instance, leave, zone, times))
}

fn titled(
    instance: &InstanceRef,
    leave: &Leave,
    zone: &TenantZone,
    (start_time, end_time): (String, String),
) -> TimeoffEvent {
    let names = &leave.leave_type.names;
    let zh = names.primary().unwrap_or("请假");
    let en = names
        .english()
        .map(|en| format!("On leave: {en}"))
        .unwrap_or_else(|| "On leave".to_owned());
    TimeoffEvent {
        user_id: leave.open_id.clone(),
        timezone: zone.name.clone(),
        start_time,
        end_time,
        title: Some(format!("请假中：{zh} · {en}")),
        description: Some(format!(
            "由 leave-sync 根据审批 {code} 同步。\nSynced by leave-sync from approval {code}.",
            code = instance.instance_code
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{Locale, LocalizedNames};
    use jiff::civil::date;

    fn leave(unit: LeaveUnit, start: DateTime, end: DateTime, interval: i64) -> Leave {
        Leave {
            user_id: "u1".into(),
            open_id: "ou_1".into(),
            leave_type: LeaveType {
                key: "@i18n@1".into(),
                names: LocalizedNames {
                    ch: Some("事假".into()),
                    en: Some("Personal leave".into()),
                    ja: None,
                },
                default_locale: Locale::Ch,
            },
            start,
            end,
            interval_secs: interval,
            unit,
            reason: String::new(),
            segments: vec![],
            overtime: None,
        }
    }

    fn instance() -> InstanceRef {
        InstanceRef {
            tenant_key: "t".into(),
            approval_code: "A".into(),
            instance_code: "INST-1".into(),
        }
    }

    #[test]
    fn units_are_mapped_explicitly() {
        let table = [
            (LeaveUnit::Day, 1),
            (LeaveUnit::HalfDay, 3),
            (LeaveUnit::Hour, 2),
            (LeaveUnit::HalfHour, 4),
            (LeaveUnit::Minute, 2),
        ];
        for (unit, want) in table {
            assert_eq!(i32::from(attendance_unit(unit)), want, "{unit:?}");
        }
        // And from the event enums end to end: V1 2 (half-day) → attendance 3.
        assert_eq!(
            i32::from(attendance_unit(LeaveUnit::from_v1(2).unwrap())),
            3
        );
        assert_eq!(
            i32::from(attendance_unit(LeaveUnit::from_v1(3).unwrap())),
            2
        );
    }

    #[test]
    fn attendance_record_fields() {
        let l = leave(
            LeaveUnit::HalfDay,
            date(2024, 9, 5).at(12, 0, 0, 0),
            date(2024, 9, 7).at(0, 0, 0, 0),
            129_600,
        );
        let r = attendance_record(&instance(), &l);
        assert_eq!(r.user_id, "u1");
        assert_eq!(r.date, "20240905");
        let lv = &r.leaves[0];
        assert_eq!(lv.unit, AttendanceUnit::HalfDay);
        assert_eq!(lv.interval, 129_600);
        assert_eq!(lv.start_time, "2024-09-05 12:00:00");
        assert_eq!(lv.end_time, "2024-09-07 00:00:00");
        assert_eq!(lv.idempotent_id.as_deref(), Some("INST-1"));
        assert_eq!(lv.reason, "事假", "an empty reason falls back to the type");
        let uniq = lv.uniq_id.as_deref().unwrap();
        assert!(uniq.len() < 14, "{uniq}");
        let body = serde_json::to_value(&r).unwrap();
        assert_eq!(body["leaves"][0]["unit"], 3);
        assert_eq!(body["leaves"][0]["default_locale"], "ch");
        assert_eq!(body["leaves"][0]["i18n_names"]["en"], "Personal leave");
        assert!(body.get("time_zone").is_none());
    }

    #[test]
    fn overtime_is_written_as_overtime_works_in_hours() {
        let mut l = leave(
            LeaveUnit::Hour,
            date(2026, 12, 6).at(10, 0, 0, 0),
            date(2026, 12, 6).at(18, 30, 0, 0),
            30_600,
        );
        l.reason = "上线".into();
        l.overtime = Some(OvertimeTerms {
            category: crate::event::OvertimeCategory::RestDay,
            compensation: crate::event::OvertimeCompensation::DaysOff,
        });
        let body = serde_json::to_value(attendance_record(&instance(), &l)).unwrap();
        assert!(body.get("leaves").is_none(), "{body}");
        assert_eq!(body["date"], "20261206");
        assert_eq!(
            body["overtime_works"],
            serde_json::json!([{
                "duration": 8.5, "unit": 2, "category": 2, "type": 1,
                "start_time": "2026-12-06 10:00:00", "end_time": "2026-12-06 18:30:00",
                "reason": "上线", "idempotent_id": "INST-1"
            }])
        );
        l.reason = " ".into();
        let body = serde_json::to_value(attendance_record(&instance(), &l)).unwrap();
        assert!(
            body["overtime_works"][0].get("reason").is_none(),
            "optional, not padded"
        );
    }

    #[test]
    fn uniq_id_is_the_same_for_v1_and_v2_names_of_a_type() {
        let v1 = LeaveType {
            key: "事假".into(),
            names: LocalizedNames::single("事假"),
            default_locale: Locale::Ch,
        };
        let v2 = LeaveType {
            key: "@i18n@7276381556766212099".into(),
            names: LocalizedNames {
                ch: Some("事假".into()),
                en: Some("Personal".into()),
                ja: None,
            },
            default_locale: Locale::Ch,
        };
        assert_eq!(uniq_id(&v1), uniq_id(&v2));
        assert_ne!(
            uniq_id(&v1),
            uniq_id(&LeaveType {
                names: LocalizedNames::single("病假"),
                ..v1.clone()
            })
        );
    }

    #[test]
    fn day_leaves_are_all_day_with_an_inclusive_end() {
        let zone = TenantZone::new(TimeZone::get("Asia/Shanghai").unwrap());
        let cases = [
            // Feishu's midnight end: the 7th 00:00 ends on the 6th.
            (
                date(2024, 9, 5).at(0, 0, 0, 0),
                date(2024, 9, 7).at(0, 0, 0, 0),
                "2024-09-05",
                "2024-09-06",
            ),
            // One day, also ending at midnight.
            (
                date(2024, 9, 5).at(0, 0, 0, 0),
                date(2024, 9, 6).at(0, 0, 0, 0),
                "2024-09-05",
                "2024-09-05",
            ),
            // A work-hours end stays on its day.
            (
                date(2024, 9, 5).at(9, 0, 0, 0),
                date(2024, 9, 6).at(18, 0, 0, 0),
                "2024-09-05",
                "2024-09-06",
            ),
            // Start = end day (a zero-length midnight end never goes before the start).
            (
                date(2024, 9, 5).at(0, 0, 0, 0),
                date(2024, 9, 5).at(0, 0, 0, 0),
                "2024-09-05",
                "2024-09-05",
            ),
        ];
        for (start, end, want_start, want_end) in cases {
            let ev = timeoff_event(
                &instance(),
                &leave(LeaveUnit::Day, start, end, 86_400),
                &zone,
            )
            .unwrap();
            assert_eq!(
                (ev.start_time.as_str(), ev.end_time.as_str()),
                (want_start, want_end),
                "{start} → {end}"
            );
            assert_eq!(ev.timezone, "Asia/Shanghai");
            assert_eq!(ev.user_id, "ou_1");
        }
    }

    #[test]
    fn timed_leaves_are_unix_seconds_of_local_times() {
        let l = leave(
            LeaveUnit::Hour,
            date(2026, 12, 10).at(14, 0, 0, 0),
            date(2026, 12, 10).at(17, 0, 0, 0),
            10_800,
        );
        let shanghai = TenantZone::new(TimeZone::get("Asia/Shanghai").unwrap());
        let ev = timeoff_event(&instance(), &l, &shanghai).unwrap();
        // 2026-12-10 14:00 +08:00 = 06:00 UTC.
        let expected = jiff::Timestamp::from_second(ev.start_time.parse().unwrap()).unwrap();
        assert_eq!(expected.to_string(), "2026-12-10T06:00:00Z");
        assert_eq!(
            ev.end_time.parse::<i64>().unwrap() - ev.start_time.parse::<i64>().unwrap(),
            10_800
        );
        let berlin = TenantZone::new(TimeZone::get("Europe/Berlin").unwrap());
        let ev = timeoff_event(&instance(), &l, &berlin).unwrap();
        let start = jiff::Timestamp::from_second(ev.start_time.parse().unwrap()).unwrap();
        assert_eq!(start.to_string(), "2026-12-10T13:00:00Z");
        assert_eq!(ev.timezone, "Europe/Berlin");
        assert!(ev.title.unwrap().contains("Personal leave"));
    }

    #[test]
    fn a_half_day_shows_its_working_time_when_feishu_names_it() {
        let mut l = leave(
            LeaveUnit::HalfDay,
            date(2026, 12, 7).at(12, 0, 0, 0),
            date(2026, 12, 8).at(0, 0, 0, 0),
            43_200,
        );
        let zone = TenantZone::new(TimeZone::get("Asia/Shanghai").unwrap());
        let local = |ev: &TimeoffEvent| {
            let at = |s: &str| jiff::Timestamp::from_second(s.parse().unwrap()).unwrap();
            (at(&ev.start_time).to_string(), at(&ev.end_time).to_string())
        };
        // V1 alone: the half-day grid, noon to midnight.
        let whole = timeoff_events(&instance(), &l, &zone).unwrap();
        assert_eq!(
            whole.iter().map(local).collect::<Vec<_>>(),
            vec![("2026-12-07T04:00:00Z".into(), "2026-12-07T16:00:00Z".into())]
        );
        // V2's leave_range: 13:30–18:00.
        l.segments = vec![(
            date(2026, 12, 7).at(13, 30, 0, 0),
            date(2026, 12, 7).at(18, 0, 0, 0),
        )];
        let segment = timeoff_events(&instance(), &l, &zone).unwrap();
        assert_eq!(
            segment.iter().map(local).collect::<Vec<_>>(),
            vec![("2026-12-07T05:30:00Z".into(), "2026-12-07T10:00:00Z".into())]
        );
    }
}
