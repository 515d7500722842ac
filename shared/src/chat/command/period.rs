//! Reading the period at the front of an application: dates, half days, hours, ranges.

use jiff::ToSpan;
use jiff::civil::{Date, Time};

use super::scan::Scanner;
use super::{HalfDay, Period, Problem};

/// The longest period one message may ask for: a year, leap day included.
const MAX_DAYS: i64 = 366;

/// What a date is written as, before knowing whether it exists.
#[derive(Debug, Clone, Copy)]
enum Written {
    Full {
        year: u32,
        month: u32,
        day: u32,
    },
    /// `12月1日`: the year is the one that puts it nearest to the anchor.
    MonthDay {
        month: u32,
        day: u32,
    },
    /// `3日` in `12月1日到3日`: month and year nearest to the anchor.
    Day {
        day: u32,
    },
}

/// Where dates without a year are placed.
#[derive(Debug, Clone, Copy)]
struct Context {
    today: Date,
    /// Today for the start of a period; the start for its end, so that `12月28日到1月3日`
    /// crosses the new year and `12月3日到12月1日` is an end before its start, not a year.
    anchor: Date,
    /// Whether `3日` alone counts as a date: only after an explicit range separator, where
    /// nothing else could be meant (`12月1日 3号楼` is a date and a reason).
    day_only: bool,
}

/// A date and, when written, which half of it.
#[derive(Debug, Clone, Copy)]
struct Point {
    date: Date,
    half: Option<HalfDay>,
}

/// `Ok(None)`: the text is not this at all, and the cursor is back where it was.
/// `Err`: it is, but it names something impossible (`2026-02-30`, `25:00`).
type Read<T> = Result<Option<T>, Problem>;

/// Reads the period the message starts with, leaving the cursor after it. Without a
/// date, hours or a half day are today's (`加班 18:00-21:00`, `请假 下午`).
pub(super) fn period(sc: &mut Scanner<'_>, today: Date) -> Read<Period> {
    let ctx = Context {
        today,
        anchor: today,
        day_only: false,
    };
    let date = date(sc, ctx)?;
    // Hours before half days: `明天下午3点到5点` is hours, `明天下午` a half day.
    if let Some((from, to)) = hours(sc)? {
        return hours_on(date.unwrap_or(today), from, to).map(Some);
    }
    let half = half_day(sc);
    if date.is_none() && half.is_none() {
        return Ok(None);
    }
    let first = Point {
        date: date.unwrap_or(today),
        half,
    };
    let last = range_end(sc, today, first.date)?.unwrap_or(first);
    between(first, last).map(Some)
}

fn point(sc: &mut Scanner<'_>, ctx: Context) -> Read<Point> {
    let Some(date) = date(sc, ctx)? else {
        return Ok(None);
    };
    Ok(Some(Point {
        date,
        half: half_day(sc),
    }))
}

/// The second date of a range, after `到`, `至`, `-`, `~`, `to` or just a space. A
/// separator with no date after it is not one: `leave tomorrow to see a doctor`.
fn range_end(sc: &mut Scanner<'_>, today: Date, start: Date) -> Read<Point> {
    let save = sc.pos();
    sc.skip_ws();
    let explicit = separator(sc);
    sc.skip_ws();
    let ctx = Context {
        today,
        anchor: start,
        day_only: explicit,
    };
    let end = point(sc, ctx)?;
    if end.is_none() {
        sc.reset(save);
    }
    Ok(end)
}

fn separator(sc: &mut Scanner<'_>) -> bool {
    if sc.eat('-') {
        // `——` is how a Chinese keyboard types a dash.
        while sc.eat('-') {}
        return true;
    }
    sc.eat_any(&["~", "到", "至", "to", "until", "till", "through", "thru"])
}

fn half_day(sc: &mut Scanner<'_>) -> Option<HalfDay> {
    let save = sc.pos();
    sc.skip_ws();
    if sc.eat_any(&["上午", "上半天", "a.m.", "am", "morning"]) {
        return Some(HalfDay::Morning);
    }
    if sc.eat_any(&["下午", "下半天", "p.m.", "pm", "afternoon"]) {
        return Some(HalfDay::Afternoon);
    }
    sc.reset(save);
    None
}

fn date(sc: &mut Scanner<'_>, ctx: Context) -> Read<Date> {
    let start = sc.pos();
    if let Some(days) = relative_day(sc) {
        return match ctx.today.checked_add(days.days()) {
            Ok(date) => Ok(Some(date)),
            Err(_) => Err(Problem::BadDate(sc.since(start).to_string())),
        };
    }
    let Some(written) = written(sc, ctx.day_only) else {
        sc.reset(start);
        return Ok(None);
    };
    match resolve(written, ctx.anchor) {
        Some(date) => Ok(Some(date)),
        None => Err(Problem::BadDate(sc.since(start).to_string())),
    }
}

/// Days after today named by a word (`明天`, `tomorrow`).
fn relative_day(sc: &mut Scanner<'_>) -> Option<i64> {
    const WORDS: [(&str, i64); 8] = [
        ("今天", 0),
        ("今日", 0),
        ("明天", 1),
        ("明日", 1),
        ("大后天", 3),
        ("后天", 2),
        ("today", 0),
        ("tomorrow", 1),
    ];
    WORDS
        .iter()
        .find(|(word, _)| sc.eat_any(&[word]))
        .map(|&(_, days)| days)
}

/// Reads the shape of a numeric date; `None` (cursor anywhere) when it is not one.
fn written(sc: &mut Scanner<'_>, day_only: bool) -> Option<Written> {
    let first = sc.number()?;
    if first.len == 4 {
        let year = first.value;
        if sc.eat('年') {
            let (month, day) = month_day(sc)?;
            return Some(Written::Full { year, month, day });
        }
        sc.eat_one_of(&['-', '/', '.'])?;
        let month = short_number(sc)?;
        sc.eat_one_of(&['-', '/', '.'])?;
        let day = short_number(sc)?;
        return Some(Written::Full { year, month, day });
    }
    if first.len > 2 {
        return None;
    }
    if sc.eat('月') {
        let day = short_number(sc)?;
        sc.eat_one_of(&['日', '号']);
        return Some(Written::MonthDay {
            month: first.value,
            day,
        });
    }
    if day_only && sc.eat_one_of(&['日', '号']).is_some() {
        return Some(Written::Day { day: first.value });
    }
    None
}

fn month_day(sc: &mut Scanner<'_>) -> Option<(u32, u32)> {
    let month = short_number(sc)?;
    if !sc.eat('月') {
        return None;
    }
    let day = short_number(sc)?;
    sc.eat_one_of(&['日', '号']);
    Some((month, day))
}

/// One or two digits: a month, a day, an hour or a minute.
fn short_number(sc: &mut Scanner<'_>) -> Option<u32> {
    sc.number().filter(|n| n.len <= 2).map(|n| n.value)
}

/// The date `written` names, or `None` when there is no such day.
fn resolve(written: Written, anchor: Date) -> Option<Date> {
    let year = i32::from(anchor.year());
    let month = i32::from(anchor.month());
    match written {
        Written::Full { year, month, day } => civil(i64::from(year), month, day),
        // Current year first, then the next: on a tie the bot assumes the future.
        Written::MonthDay { month, day } => nearest(
            anchor,
            [0, 1, -1].map(|dy| civil(i64::from(year + dy), month, day)),
        ),
        Written::Day { day } => nearest(
            anchor,
            [0, 1, -1].map(|dm| {
                // Months counted from year 0 so that December + 1 is next January.
                let index = year * 12 + (month - 1) + dm;
                let month = u32::try_from(index.rem_euclid(12) + 1).ok()?;
                civil(i64::from(index.div_euclid(12)), month, day)
            }),
        ),
    }
}

fn civil(year: i64, month: u32, day: u32) -> Option<Date> {
    Date::new(
        i16::try_from(year).ok()?,
        i8::try_from(month).ok()?,
        i8::try_from(day).ok()?,
    )
    .ok()
}

fn nearest(anchor: Date, candidates: [Option<Date>; 3]) -> Option<Date> {
    candidates
        .into_iter()
        .flatten()
        .min_by_key(|d| anchor.duration_until(*d).as_secs().unsigned_abs())
}

/// The period from `first` to `last`: whole days unless either end names a half, in
/// which case a bare end stands for the whole of its day.
fn between(first: Point, last: Point) -> Result<Period, Problem> {
    let from = (first.date, first.half.unwrap_or(HalfDay::Morning));
    let to = (last.date, last.half.unwrap_or(HalfDay::Afternoon));
    if to < from {
        return Err(Problem::EndBeforeStart);
    }
    let days = first.date.duration_until(last.date).as_hours() / 24 + 1;
    if days > MAX_DAYS {
        return Err(Problem::TooLong);
    }
    Ok(match (first.half, last.half) {
        (None, None) => Period::Days {
            first: first.date,
            last: last.date,
        },
        _ => Period::HalfDays {
            first: from,
            last: to,
        },
    })
}

fn hours_on(date: Date, from: Time, to: Time) -> Result<Period, Problem> {
    if to <= from {
        return Err(Problem::EndBeforeStart);
    }
    Ok(Period::Hours { date, from, to })
}

/// A time of day as written, before knowing which clock it is on.
#[derive(Debug, Clone, Copy)]
struct Clock {
    hour: u32,
    minute: u32,
    /// `下午`/`晚上` (true) or `上午`/`早上` (false) before it, on a 24-hour day.
    evening: Option<bool>,
    /// `pm` (true) or `am` (false) after it: a 12-hour clock.
    meridiem: Option<bool>,
    /// Whether `:` or `点` follows the hour. Bare digits are a time only at the start of a
    /// range whose end is one (`6-9pm`, `3-5点`); elsewhere they are a count (`3天`).
    unit: bool,
}

impl Clock {
    fn bare(self) -> bool {
        !self.unit && self.evening.is_none() && self.meridiem.is_none()
    }

    fn unmarked(self) -> bool {
        self.evening.is_none() && self.meridiem.is_none()
    }

    /// This time with `other`'s half of the day if it names none itself.
    fn marked_like(self, other: Clock) -> Clock {
        if !self.unmarked() {
            return self;
        }
        Clock {
            evening: other.evening,
            meridiem: other.meridiem,
            ..self
        }
    }

    fn time(self) -> Option<Time> {
        let hour = match (self.meridiem, self.evening) {
            (Some(pm), _) => twelve_hour(self.hour, pm),
            (None, Some(true)) if self.hour < 12 => self.hour + 12,
            _ => self.hour,
        };
        Time::new(
            i8::try_from(hour).ok()?,
            i8::try_from(self.minute).ok()?,
            0,
            0,
        )
        .ok()
    }
}

/// A time range (`10:00-18:00`, `14点到17点`, `下午2点到5点`, `6pm-9pm`, `6-9pm`). A start
/// without an end is an error rather than a reason: no reading of it makes a period.
fn hours(sc: &mut Scanner<'_>) -> Read<(Time, Time)> {
    let save = sc.pos();
    sc.skip_ws();
    let Some((from, from_text)) = clock(sc) else {
        sc.reset(save);
        return Ok(None);
    };
    sc.skip_ws();
    separator(sc);
    sc.skip_ws();
    let Some((to, to_text)) = clock(sc).filter(|(to, _)| !to.bare()) else {
        sc.reset(save);
        return match (from.bare(), from.time()) {
            (true, _) => Ok(None),
            (false, None) => Err(Problem::BadTime(from_text.to_string())),
            (false, Some(_)) => Err(Problem::NoEndTime),
        };
    };
    let (from, to) = shared_half(from, to);
    let from = from
        .time()
        .ok_or_else(|| Problem::BadTime(from_text.to_string()))?;
    let to = to
        .time()
        .ok_or_else(|| Problem::BadTime(to_text.to_string()))?;
    Ok(Some((from, to)))
}

/// A half of the day written at one end covers the other (`下午2点到5点` is 14:00-17:00,
/// `6-9pm` is 18:00-21:00) when that keeps the range in order; otherwise the unmarked end
/// is on the 24-hour clock (`11-1pm` is 11:00-13:00).
fn shared_half(from: Clock, to: Clock) -> (Clock, Clock) {
    let shared = (from.marked_like(to), to.marked_like(from));
    match (shared.0.time(), shared.1.time()) {
        (Some(a), Some(b)) if a < b => shared,
        _ => (from, to),
    }
}

/// Reads a time's shape, with the text it was written as; the cursor stays put if none.
fn clock<'a>(sc: &mut Scanner<'a>) -> Option<(Clock, &'a str)> {
    let start = sc.pos();
    let Some(clock) = read_clock(sc) else {
        sc.reset(start);
        return None;
    };
    Some((clock, sc.since(start)))
}

fn read_clock(sc: &mut Scanner<'_>) -> Option<Clock> {
    let evening = day_part(sc);
    sc.skip_ws();
    let mut clock = Clock {
        hour: short_number(sc)?,
        minute: 0,
        evening,
        meridiem: None,
        unit: true,
    };
    if sc.eat_one_of(&['点', '时']).is_some() {
        clock.minute = chinese_minutes(sc);
    } else if sc.eat(':') {
        clock.minute = sc.number().filter(|n| n.len == 2)?.value;
    } else {
        clock.unit = false;
    }
    clock.meridiem = meridiem(sc);
    Some(clock)
}

/// `下午`/`晚上` (true) or `上午`/`早上` (false) before a time.
fn day_part(sc: &mut Scanner<'_>) -> Option<bool> {
    if sc.eat_any(&["上午", "早上"]) {
        return Some(false);
    }
    sc.eat_any(&["下午", "晚上"]).then_some(true)
}

/// `半` or `30` or `30分` after `点`; nothing means on the hour.
fn chinese_minutes(sc: &mut Scanner<'_>) -> u32 {
    if sc.eat('半') {
        return 30;
    }
    let save = sc.pos();
    match short_number(sc) {
        Some(minute) => {
            sc.eat('分');
            minute
        }
        None => {
            sc.reset(save);
            0
        }
    }
}

/// `Some(true)` for pm, after an optional space.
fn meridiem(sc: &mut Scanner<'_>) -> Option<bool> {
    let save = sc.pos();
    sc.skip_ws();
    if sc.eat_any(&["a.m.", "am"]) {
        return Some(false);
    }
    if sc.eat_any(&["p.m.", "pm"]) {
        return Some(true);
    }
    sc.reset(save);
    None
}

/// The 24-hour hour of a 12-hour clock; an hour that is not on one (`0pm`, `13am`)
/// becomes one `Time::new` rejects, so the text is reported as a bad time.
fn twelve_hour(hour: u32, pm: bool) -> u32 {
    const NOT_AN_HOUR: u32 = 99;
    match (hour, pm) {
        (12, false) => 0,
        (12, true) => 12,
        (1..=11, false) => hour,
        (1..=11, true) => hour + 12,
        _ => NOT_AN_HOUR,
    }
}
