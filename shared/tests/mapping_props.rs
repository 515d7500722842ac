//! Properties of the leave mappings over generated leaves: units, zones, inclusive ends,
//! and the lenient parsers' round trips.

use jiff::civil::{Date, DateTime, date};
use jiff::tz::TimeZone;
use proptest::prelude::*;
use shared::event::lenient::scan_datetimes;
use shared::event::{InstanceRef, Leave, LeaveType, LeaveUnit, Locale, LocalizedNames};
use shared::feishu::attendance::AttendanceUnit;
use shared::sync::mapping::{
    TenantZone, attendance_record, attendance_unit, inclusive_end_date, timeoff_event, uniq_id,
};

fn unit() -> impl Strategy<Value = LeaveUnit> {
    prop_oneof![
        Just(LeaveUnit::Day),
        Just(LeaveUnit::HalfDay),
        Just(LeaveUnit::Hour),
        Just(LeaveUnit::HalfHour),
        Just(LeaveUnit::Minute),
    ]
}

fn datetime() -> impl Strategy<Value = DateTime> {
    (
        2000i16..2100,
        1i8..=12,
        1i8..=28,
        0i8..24,
        prop_oneof![Just(0i8), Just(30)],
    )
        .prop_map(|(y, m, d, h, min)| date(y, m, d).at(h, min, 0, 0))
}

fn zone() -> impl Strategy<Value = &'static str> {
    prop_oneof![
        Just("Asia/Shanghai"),
        Just("Asia/Tokyo"),
        Just("Europe/Berlin"),
        Just("America/New_York"),
        Just("UTC"),
        Just("Australia/Lord_Howe"),
    ]
}

fn leave(unit: LeaveUnit, start: DateTime, minutes: i64, name: String) -> Leave {
    let end = start
        .checked_add(jiff::Span::new().minutes(minutes))
        .unwrap();
    Leave {
        user_id: "u".into(),
        open_id: "ou".into(),
        leave_type: LeaveType {
            key: name.clone(),
            names: LocalizedNames::single(name),
            default_locale: Locale::Ch,
        },
        start,
        end,
        interval_secs: minutes * 60,
        unit,
        reason: "r".into(),
        segments: vec![],
        overtime: None,
    }
}

fn instance() -> InstanceRef {
    InstanceRef {
        tenant_key: "t".into(),
        approval_code: "a".into(),
        instance_code: "i".into(),
    }
}

proptest! {
    #[test]
    fn event_units_map_to_attendance_units(u in unit()) {
        let want = match u {
            LeaveUnit::Day => 1,
            LeaveUnit::Hour | LeaveUnit::Minute => 2,
            LeaveUnit::HalfDay => 3,
            LeaveUnit::HalfHour => 4,
        };
        prop_assert_eq!(i32::from(attendance_unit(u)), want);
        // And the V1 integer and V2 name of a unit agree.
        let (v1, v2) = match u {
            LeaveUnit::Day => (1, "DAY"), LeaveUnit::HalfDay => (2, "HALF_DAY"), LeaveUnit::Hour => (3, "HOUR"),
            LeaveUnit::HalfHour => (4, "HALF_HOUR"), LeaveUnit::Minute => (5, "MINUTE"),
        };
        prop_assert_eq!(LeaveUnit::from_v1(v1), Some(u));
        prop_assert_eq!(LeaveUnit::from_name(v2), Some(u));
        prop_assert!(AttendanceUnit::try_from(i32::from(attendance_unit(u))).is_ok());
    }

    #[test]
    fn inclusive_end_dates_stay_within_the_leave(start in datetime(), minutes in 0i64..(40 * 24 * 60)) {
        let l = leave(LeaveUnit::Day, start, minutes, "年假".into());
        let last: Date = inclusive_end_date(&l);
        prop_assert!(last >= l.start.date());
        prop_assert!(last <= l.end.date());
        let midnight_end = l.end.time() == jiff::civil::Time::midnight() && l.end.date() > l.start.date();
        prop_assert_eq!(last < l.end.date(), midnight_end);
        let ev = timeoff_event(&instance(), &l, &TenantZone::new(TimeZone::get("Asia/Shanghai").unwrap())).unwrap();
        prop_assert_eq!(ev.start_time, l.start.date().to_string());
        prop_assert_eq!(ev.end_time, last.to_string());
    }

    #[test]
    fn timed_leaves_round_trip_through_the_zone(start in datetime(), minutes in 1i64..(3 * 24 * 60), z in zone(), u in unit()) {
        prop_assume!(u != LeaveUnit::Day);
        let tz = TimeZone::get(z).unwrap();
        let l = leave(u, start, minutes, "病假".into());
        let ev = timeoff_event(&instance(), &l, &TenantZone::new(tz.clone())).unwrap();
        prop_assert_eq!(ev.timezone.as_str(), z);
        let back = |s: &str| jiff::Timestamp::from_second(s.parse().unwrap()).unwrap().to_zoned(tz.clone()).datetime();
        let (s, e) = (back(&ev.start_time), back(&ev.end_time));
        // Wall-clock times survive unless they fall into a DST gap, which moves them forward.
        prop_assert!(s >= l.start && s <= l.start.checked_add(jiff::Span::new().hours(1)).unwrap());
        prop_assert!(e >= l.end && e <= l.end.checked_add(jiff::Span::new().hours(1)).unwrap());
        prop_assert!(ev.start_time.parse::<i64>().unwrap() <= ev.end_time.parse::<i64>().unwrap());
    }

    #[test]
    fn attendance_records_carry_the_leave_verbatim(start in datetime(), minutes in 0i64..(10 * 24 * 60), u in unit(), name in "[a-z\u{4e00}-\u{4e20}]{1,12}") {
        let l = leave(u, start, minutes, name);
        let r = attendance_record(&instance(), &l);
        prop_assert_eq!(&r.date, &l.start.date().strftime("%Y%m%d").to_string());
        let lv = &r.leaves[0];
        prop_assert_eq!(lv.interval, minutes * 60);
        prop_assert_eq!(&lv.start_time, &l.start.strftime("%Y-%m-%d %H:%M:%S").to_string());
        let uniq = lv.uniq_id.clone().unwrap();
        prop_assert!(uniq.len() < 14);
        prop_assert_eq!(uniq, uniq_id(&l.leave_type));
    }

    #[test]
    fn leave_ranges_round_trip_through_feishus_string_form(pairs in proptest::collection::vec((datetime(), datetime()), 0..5)) {
        let text = format!(
            "[{}]",
            pairs.iter().map(|(a, b)| format!("[{},{}]", a.strftime("%Y-%m-%d %H:%M:%S"), b.strftime("%Y-%m-%d %H:%M:%S"))).collect::<Vec<_>>().join(",")
        );
        let found = scan_datetimes(&text);
        let flat: Vec<DateTime> = pairs.iter().flat_map(|(a, b)| [*a, *b]).collect();
        prop_assert_eq!(found, flat);
    }
}
