use jiff::civil::{Date, Time, date, time};
use proptest::prelude::*;

use super::*;

/// A Monday.
const TODAY: Date = date(2026, 11, 23);

fn d(month: i8, day: i8) -> Date {
    date(2026, month, day)
}

fn t(hour: i8, minute: i8) -> Time {
    time(hour, minute, 0, 0)
}

fn days(first: Date, last: Date) -> Period {
    Period::Days { first, last }
}

fn halves(first: (Date, HalfDay), last: (Date, HalfDay)) -> Period {
    Period::HalfDays { first, last }
}

fn hours(date: Date, from: Time, to: Time) -> Period {
    Period::Hours { date, from, to }
}

fn leave(period: Period, rest: &str) -> Command {
    apply(Kind::Leave, period, rest)
}

fn overtime(period: Period, rest: &str) -> Command {
    apply(Kind::Overtime, period, rest)
}

fn apply(kind: Kind, period: Period, rest: &str) -> Command {
    Command::Apply(Application {
        kind,
        period,
        rest: rest.to_string(),
    })
}

fn out(first: Date, last: Date) -> Command {
    Command::WhoIsOut { first, last }
}

fn invalid(kind: Kind, problem: Problem) -> Command {
    Command::Invalid { kind, problem }
}

fn bad_date(text: &str) -> Problem {
    Problem::BadDate(text.to_string())
}

use HalfDay::{Afternoon as Pm, Morning as Am};
use Kind::{Leave, Overtime};
use Lang::{En, Zh};

fn table() -> Vec<(&'static str, Lang, Command)> {
    let (mon, tue, wed, thu) = (d(11, 23), d(11, 24), d(11, 25), d(11, 26));
    let dec1_3 = days(d(12, 1), d(12, 3));
    vec![
        // The examples.
        (
            "请假 2026-12-01 2026-12-03 年假 家里有事",
            Zh,
            leave(dec1_3, "年假 家里有事"),
        ),
        (
            "请假 明天下午 事假",
            Zh,
            leave(halves((tue, Pm), (tue, Pm)), "事假"),
        ),
        (
            "leave 2026-12-01 to 2026-12-03 annual family matters",
            En,
            leave(dec1_3, "annual family matters"),
        ),
        (
            "加班 2026-12-06 10:00-18:00 项目上线",
            Zh,
            overtime(hours(d(12, 6), t(10, 0), t(18, 0)), "项目上线"),
        ),
        (
            "overtime tomorrow 18:00-21:00 release",
            En,
            overtime(hours(tue, t(18, 0), t(21, 0)), "release"),
        ),
        ("我的假期", Zh, Command::MyLeave),
        ("my leave", En, Command::MyLeave),
        (
            "撤回",
            Zh,
            Command::Withdraw {
                instance_code: None,
            },
        ),
        (
            "withdraw 81D31358-93AF-92D6-7425-01A5D67C4E71",
            En,
            Command::Withdraw {
                instance_code: Some("81D31358-93AF-92D6-7425-01A5D67C4E71".into()),
            },
        ),
        ("帮助", Zh, Command::Help),
        ("help", En, Command::Help),
        ("你好", Zh, Command::Unknown),
        ("hello", En, Command::Unknown),
        // Forms.
        ("请假", Zh, Command::Form(Leave)),
        ("  leave  ", En, Command::Form(Leave)),
        ("加班", Zh, Command::Form(Overtime)),
        ("Overtime", En, Command::Form(Overtime)),
        ("请假：", Zh, Command::Form(Leave)),
        // Other keywords.
        ("？", Zh, Command::Help),
        ("?", En, Command::Help),
        ("? 怎么请假", Zh, Command::Help),
        ("HELP me", En, Command::Help),
        ("My  Leaves", En, Command::MyLeave),
        // Who is out (today is a Monday).
        ("谁请假", Zh, out(mon, mon)),
        ("谁请假了？", Zh, out(mon, mon)),
        ("谁请假 本周?", Zh, out(mon, d(11, 27))),
        ("谁请假 明天", Zh, out(tue, tue)),
        ("谁请假 本周", Zh, out(mon, d(11, 27))),
        ("谁休假 12月1日到3日", Zh, out(d(12, 1), d(12, 3))),
        ("who's out", En, out(mon, mon)),
        ("Who is out this week", En, out(mon, d(11, 27))),
        ("whos out 2026-12-01", En, out(d(12, 1), d(12, 1))),
        ("who’s out tomorrow", En, out(tue, tue)),
        ("who's out next year", En, Command::Unknown),
        ("我的假期 本月", Zh, Command::MyLeave),
        (
            "撤回 81D31358-93AF",
            Zh,
            Command::Withdraw {
                instance_code: Some("81D31358-93AF".into()),
            },
        ),
        (
            "withdraw it",
            En,
            Command::Withdraw {
                instance_code: None,
            },
        ),
        ("", En, Command::Unknown),
        ("leaves", En, Command::Unknown),
        ("hi 请假", Zh, Command::Unknown),
        // Dates.
        (
            "请假明天下午 事假",
            Zh,
            leave(halves((tue, Pm), (tue, Pm)), "事假"),
        ),
        ("请假 12月1号", Zh, leave(days(d(12, 1), d(12, 1)), "")),
        (
            "请假 2026年12月1日 至 2026年12月3日 年假",
            Zh,
            leave(dec1_3, "年假"),
        ),
        ("请假 2026/12/01~2026/12/03 病假", Zh, leave(dec1_3, "病假")),
        ("请假 2026-12-01-2026-12-03", Zh, leave(dec1_3, "")),
        (
            "请假 2026-12-01 - 2026-12-03，年假",
            Zh,
            leave(dec1_3, "年假"),
        ),
        ("请假 12月1日——12月3日 年假", Zh, leave(dec1_3, "年假")),
        ("请假 12月1日到3日 年假", Zh, leave(dec1_3, "年假")),
        (
            "请假 12月30日到2日",
            Zh,
            leave(days(d(12, 30), date(2027, 1, 2)), ""),
        ),
        ("请假 后天", Zh, leave(days(wed, wed), "")),
        ("请假 大后天", Zh, leave(days(thu, thu), "")),
        ("请假 今天 到 后天 事假", Zh, leave(days(mon, wed), "事假")),
        ("请假 从明天到后天 事假", Zh, leave(days(tue, wed), "事假")),
        ("请假：明天，事假", Zh, leave(days(tue, tue), "事假")),
        (
            "请假 明天到医院看病",
            Zh,
            leave(days(tue, tue), "到医院看病"),
        ),
        (
            "ＬＥＡＶＥ　２０２６－１２－０１　ａｍ",
            En,
            leave(halves((d(12, 1), Am), (d(12, 1), Am)), ""),
        ),
        ("Leave 2026-12-01 TO 2026-12-03", En, leave(dec1_3, "")),
        (
            "leave 2026-12-01 until 2026-12-03 annual",
            En,
            leave(dec1_3, "annual"),
        ),
        ("leave 2026-12-01 2026-12-03", En, leave(dec1_3, "")),
        (
            "leave 2026-12-01 2026-12-01",
            En,
            leave(days(d(12, 1), d(12, 1)), ""),
        ),
        (
            "leave on 2026-12-01 annual",
            En,
            leave(days(d(12, 1), d(12, 1)), "annual"),
        ),
        ("leave today", En, leave(days(mon, mon), "")),
        (
            "leave tomorrow to see a doctor",
            En,
            leave(days(tue, tue), "to see a doctor"),
        ),
        (
            "leave tomorrow amazing",
            En,
            leave(days(tue, tue), "amazing"),
        ),
        // Half days.
        (
            "请假 12月1日下午 到 12月3日上午 年假",
            Zh,
            leave(halves((d(12, 1), Pm), (d(12, 3), Am)), "年假"),
        ),
        (
            "请假 12月1日下午 到 12月3日",
            Zh,
            leave(halves((d(12, 1), Pm), (d(12, 3), Pm)), ""),
        ),
        (
            "请假 12月1日 到 12月3日上午",
            Zh,
            leave(halves((d(12, 1), Am), (d(12, 3), Am)), ""),
        ),
        (
            "请假 12月1日上午 到 12月1日下午",
            Zh,
            leave(halves((d(12, 1), Am), (d(12, 1), Pm)), ""),
        ),
        (
            "leave 2026-12-01 am",
            En,
            leave(halves((d(12, 1), Am), (d(12, 1), Am)), ""),
        ),
        (
            "leave 2026-12-01PM sick",
            En,
            leave(halves((d(12, 1), Pm), (d(12, 1), Pm)), "sick"),
        ),
        (
            "leave tomorrow morning doctor",
            En,
            leave(halves((tue, Am), (tue, Am)), "doctor"),
        ),
        (
            "leave today afternoon",
            En,
            leave(halves((mon, Pm), (mon, Pm)), ""),
        ),
        (
            "leave 2026-12-01 pm to 2026-12-03 a.m.",
            En,
            leave(halves((d(12, 1), Pm), (d(12, 3), Am)), ""),
        ),
        // Hours.
        (
            "加班 明天 14点-17点 周报",
            Zh,
            overtime(hours(tue, t(14, 0), t(17, 0)), "周报"),
        ),
        (
            "加班 明天 9点半到12点 周报",
            Zh,
            overtime(hours(tue, t(9, 30), t(12, 0)), "周报"),
        ),
        (
            "加班 18:00-21:00 发布",
            Zh,
            overtime(hours(mon, t(18, 0), t(21, 0)), "发布"),
        ),
        (
            "加班 2026-12-06 10：00 到 18：00 上线",
            Zh,
            overtime(hours(d(12, 6), t(10, 0), t(18, 0)), "上线"),
        ),
        (
            "加班 12月6日 10:00~18:00",
            Zh,
            overtime(hours(d(12, 6), t(10, 0), t(18, 0)), ""),
        ),
        (
            "overtime tomorrow 6pm-9pm release",
            En,
            overtime(hours(tue, t(18, 0), t(21, 0)), "release"),
        ),
        (
            "overtime 2026-12-06 9:30 to 12:00",
            En,
            overtime(hours(d(12, 6), t(9, 30), t(12, 0)), ""),
        ),
        (
            "请假 明天 14:00-17:00 看病",
            Zh,
            leave(hours(tue, t(14, 0), t(17, 0)), "看病"),
        ),
        (
            "加班 明天下午2点到5点 周报",
            Zh,
            overtime(hours(tue, t(14, 0), t(17, 0)), "周报"),
        ),
        (
            "加班 明天晚上7点-10点半",
            Zh,
            overtime(hours(tue, t(19, 0), t(22, 30)), ""),
        ),
        (
            "加班 明天 上午9点到下午3点",
            Zh,
            overtime(hours(tue, t(9, 0), t(15, 0)), ""),
        ),
        (
            "加班 明天 3-5点",
            Zh,
            overtime(hours(tue, t(3, 0), t(5, 0)), ""),
        ),
        (
            "overtime tomorrow 6-9pm",
            En,
            overtime(hours(tue, t(18, 0), t(21, 0)), ""),
        ),
        (
            "overtime tomorrow 11-1pm",
            En,
            overtime(hours(tue, t(11, 0), t(13, 0)), ""),
        ),
        (
            "overtime tomorrow 10am to 12pm",
            En,
            overtime(hours(tue, t(10, 0), t(12, 0)), ""),
        ),
        (
            "请假 下午 事假",
            Zh,
            leave(halves((mon, Pm), (mon, Pm)), "事假"),
        ),
        ("请假 明天 3天", Zh, leave(days(tue, tue), "3天")),
        // Overtime in days is the approval's business, not the parser's.
        (
            "加班 2026-12-06",
            Zh,
            overtime(days(d(12, 6), d(12, 6)), ""),
        ),
        (
            "overtime 2026-12-06 pm",
            En,
            overtime(halves((d(12, 6), Pm), (d(12, 6), Pm)), ""),
        ),
        // Problems.
        ("请假 年假 家里有事", Zh, invalid(Leave, Problem::NoPeriod)),
        ("leave annual", En, invalid(Leave, Problem::NoPeriod)),
        ("请假条", Zh, invalid(Leave, Problem::NoPeriod)),
        (
            "overtime next week",
            En,
            invalid(Overtime, Problem::NoPeriod),
        ),
        (
            "请假 2026-02-30 年假",
            Zh,
            invalid(Leave, bad_date("2026-02-30")),
        ),
        ("请假 13月1日", Zh, invalid(Leave, bad_date("13月1日"))),
        ("请假 2月29日", Zh, invalid(Leave, bad_date("2月29日"))),
        (
            "leave 2026-12-01 to 2026-12-32",
            En,
            invalid(Leave, bad_date("2026-12-32")),
        ),
        (
            "请假 2026-12-03 到 2026-12-01",
            Zh,
            invalid(Leave, Problem::EndBeforeStart),
        ),
        (
            "请假 12月3日 到 12月1日",
            Zh,
            invalid(Leave, Problem::EndBeforeStart),
        ),
        (
            "请假 12月1日下午 到 12月1日上午",
            Zh,
            invalid(Leave, Problem::EndBeforeStart),
        ),
        (
            "加班 明天 18:00-17:00",
            Zh,
            invalid(Overtime, Problem::EndBeforeStart),
        ),
        (
            "overtime tomorrow 18:00-18:00",
            En,
            invalid(Overtime, Problem::EndBeforeStart),
        ),
        (
            "请假 2026-01-01 到 2027-12-31",
            Zh,
            invalid(Leave, Problem::TooLong),
        ),
        (
            "leave 2027-01-01 to 2028-01-02",
            En,
            invalid(Leave, Problem::TooLong),
        ),
        (
            "加班 明天 18:00 加班",
            Zh,
            invalid(Overtime, Problem::NoEndTime),
        ),
        (
            "请假 明天下午3点 事假",
            Zh,
            invalid(Leave, Problem::NoEndTime),
        ),
        (
            "加班 明天 25:00",
            Zh,
            invalid(Overtime, Problem::BadTime("25:00".into())),
        ),
        (
            "加班 明天 24:00-25:00",
            Zh,
            invalid(Overtime, Problem::BadTime("24:00".into())),
        ),
        (
            "加班 明天 25:00-26:00",
            Zh,
            invalid(Overtime, Problem::BadTime("25:00".into())),
        ),
        (
            "overtime tomorrow 6pm-13pm",
            En,
            invalid(Overtime, Problem::BadTime("13pm".into())),
        ),
    ]
}

#[test]
fn reads_every_form_in_both_languages() {
    let table = table();
    assert!(table.len() >= 40);
    for (text, lang, command) in table {
        assert_eq!(parse(text, TODAY), Parsed { lang, command }, "{text:?}");
    }
}

#[test]
fn a_year_is_366_days_at_most() {
    // 2028 is a leap year: 2028-01-01..=2028-12-31 is exactly 366 days.
    let parsed = parse("leave 2028-01-01 to 2028-12-31", TODAY);
    assert_eq!(
        parsed.command,
        leave(days(date(2028, 1, 1), date(2028, 12, 31)), "")
    );
}

#[test]
fn month_days_take_the_year_nearest_today() {
    let late_december = date(2026, 12, 28);
    let cases = [
        (
            "请假 1月2日 到 1月4日",
            days(date(2027, 1, 2), date(2027, 1, 4)),
        ),
        (
            "请假 12月30日 到 1月2日",
            days(date(2026, 12, 30), date(2027, 1, 2)),
        ),
        ("请假 12月1日", days(date(2026, 12, 1), date(2026, 12, 1))),
    ];
    for (text, period) in cases {
        assert_eq!(
            parse(text, late_december).command,
            leave(period, ""),
            "{text}"
        );
    }
    let early_january = date(2027, 1, 2);
    assert_eq!(
        parse("请假 12月30日", early_january).command,
        leave(days(date(2026, 12, 30), date(2026, 12, 30)), "")
    );
    // A leap day exists only in the leap year near today.
    assert_eq!(
        parse("请假 2月29日", date(2027, 12, 1)).command,
        leave(days(date(2028, 2, 29), date(2028, 2, 29)), "")
    );
}

#[test]
fn every_problem_explains_itself_with_an_example() {
    let problems = [
        Problem::NoPeriod,
        bad_date("2026-02-30"),
        Problem::BadTime("25:00".into()),
        Problem::NoEndTime,
        Problem::EndBeforeStart,
        Problem::TooLong,
    ];
    for problem in problems {
        let zh = problem.message(Zh);
        let en = problem.message(En);
        assert!(zh.contains("例如") && zh.chars().any(scan::is_cjk), "{zh}");
        assert!(
            en.contains("example") && !en.chars().any(scan::is_cjk),
            "{en}"
        );
    }
    assert!(bad_date("2026-02-30").message(Zh).contains("2026-02-30"));
    assert!(bad_date("2026-02-30").message(En).contains("2026-02-30"));
}

fn leave_types() -> Vec<ChatLeaveType> {
    let leave_type = |id: &str, names: &[&str]| ChatLeaveType {
        id: id.into(),
        names: names.iter().map(|n| n.to_string()).collect(),
    };
    vec![
        leave_type("annual", &["年假", "Annual Leave"]),
        leave_type("annual-extra", &["Annual"]),
        leave_type("personal", &["事假", "Personal Leave"]),
        leave_type("paternity", &["陪产假", "Paternity Leave"]),
        leave_type("sick", &["病假", "Sick Leave"]),
        leave_type("parental", &["育儿假", "Parental Leave"]),
    ]
}

fn found<'a>(id: &str, reason: &str, types: &'a [ChatLeaveType]) -> TypeMatch<'a> {
    let leave_type = types.iter().find(|t| t.id == id).expect("a test type");
    TypeMatch::Found {
        leave_type,
        reason: reason.into(),
    }
}

#[test]
fn matches_leave_types() {
    let types = leave_types();
    let by_id = |id: &str| types.iter().find(|t| t.id == id).expect("a test type");
    let cases = [
        ("年假 家里有事", found("annual", "家里有事", &types)),
        ("年假家里有事", found("annual", "家里有事", &types)),
        ("年假，家里有事", found("annual", "家里有事", &types)),
        (
            "annual leave family matters",
            found("annual", "family matters", &types),
        ),
        ("ANNUAL   LEAVE", found("annual", "", &types)),
        // An exact name beats the longer name it starts.
        (
            "annual family matters",
            found("annual-extra", "family matters", &types),
        ),
        ("sick flu", found("sick", "flu", &types)),
        (
            "Personal: moving house",
            found("personal", "moving house", &types),
        ),
        ("pat newborn", found("paternity", "newborn", &types)),
        ("陪产 宝宝出生", found("paternity", "宝宝出生", &types)),
        (
            "pa reason",
            TypeMatch::Ambiguous(vec![by_id("paternity"), by_id("parental")]),
        ),
        ("p reason", TypeMatch::Unknown),
        ("年 家里有事", TypeMatch::Unknown),
        ("婚假 结婚", TypeMatch::Unknown),
        ("sickness", TypeMatch::Unknown),
        ("", TypeMatch::Unknown),
    ];
    for (text, expected) in cases {
        assert_eq!(match_type(text, &types), expected, "{text:?}");
    }
}

#[test]
fn the_same_name_on_two_types_is_ambiguous() {
    let types = vec![
        ChatLeaveType {
            id: "a".into(),
            names: vec!["年假".into()],
        },
        ChatLeaveType {
            id: "b".into(),
            names: vec!["年假".into()],
        },
    ];
    assert_eq!(
        match_type("年假 x", &types),
        TypeMatch::Ambiguous(types.iter().collect())
    );
}

/// Words of the grammar, glued or spaced at random, to reach deep into the parser.
const TOKENS: &[&str] = &[
    "请假",
    "加班",
    "leave",
    "overtime",
    "我的假期",
    "my",
    "撤回",
    "withdraw",
    "帮助",
    "help",
    "?",
    "？",
    "2026-12-01",
    "2026/02/30",
    "2026年12月1日",
    "12月1日",
    "13月1日",
    "3日",
    "1号",
    "今天",
    "明天",
    "后天",
    "today",
    "tomorrow",
    "上午",
    "下午",
    "am",
    "pm",
    "a.m.",
    "morning",
    "到",
    "至",
    "-",
    "——",
    "~",
    "～",
    "to",
    "until",
    "10:00",
    "18：00",
    "25:00",
    "14点",
    "9点半",
    "6pm",
    "13pm",
    "0am",
    "年假",
    "annual leave",
    "：",
    "，",
    "　",
    "2026",
    "12",
    "月",
    "日",
    ":",
    "9999-12-31",
    "0000-01-01",
    "从",
    "on",
    "from",
    "\u{200B}",
    "ｌｅａｖｅ",
];

fn grammar_soup() -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(TOKENS), 0..10),
        prop::sample::select(&["", " ", "  "][..]),
    )
        .prop_map(|(tokens, glue)| tokens.join(glue))
}

fn any_today() -> impl Strategy<Value = Date> {
    prop_oneof![
        Just(TODAY),
        Just(Date::MIN),
        Just(Date::MAX),
        (1900i16..2200, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d)),
    ]
}

/// What the bot needs of any reading: an answer it can send, and periods that make sense.
fn assert_answerable(parsed: &Parsed) {
    match &parsed.command {
        Command::Invalid { problem, .. } => {
            assert!(!problem.message(Zh).is_empty() && !problem.message(En).is_empty());
        }
        Command::Apply(Application { period, rest, .. }) => {
            assert_eq!(rest.trim(), rest);
            match *period {
                Period::Days { first, last } => assert!(first <= last),
                Period::HalfDays { first, last } => assert!(first <= last),
                Period::Hours { from, to, .. } => assert!(from < to),
            }
        }
        _ => {}
    }
}

proptest! {
    #[test]
    fn parse_answers_any_text(text in any::<String>(), today in any_today()) {
        assert_answerable(&parse(&text, today));
    }

    #[test]
    fn parse_answers_any_mix_of_its_words(text in grammar_soup(), today in any_today()) {
        assert_answerable(&parse(&text, today));
    }

    #[test]
    fn date_ranges_read_back(
        start in (2000i16..2100, 1i8..=12, 1i8..=28).prop_map(|(y, m, d)| date(y, m, d)),
        length in 0i64..366,
        separator in prop::sample::select(&[" ", " 到 ", "至", "-", " - ", "~", " to "][..]),
    ) {
        let end = start.checked_add(jiff::Span::new().days(length)).expect("in range");
        let text = format!("请假 {start}{separator}{end} 年假");
        prop_assert_eq!(parse(&text, TODAY).command, leave(days(start, end), "年假"));
    }

    #[test]
    fn match_type_takes_anything(text in any::<String>(), soup in grammar_soup()) {
        let types = leave_types();
        let _ = match_type(&text, &types);
        let _ = match_type(&soup, &types);
        let odd = vec![ChatLeaveType { id: "x".into(), names: vec![text.clone(), String::new(), " ".into()] }];
        let _ = match_type(&soup, &odd);
        let _ = match_type(&text, &odd);
    }
}
