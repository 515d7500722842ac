//! The who's-out card (pure): the synced leave of a range of days, grouped by day, each
//! leave shown for the part of the day it covers (all day, morning, afternoon, or its
//! hours), names as Feishu's person element (it shows the name and pings no one, unlike
//! `<at>`: doc "富文本（Markdown）" 「人员和人员列表组件仅作为展示，用户不会收到提及通知」).
//! JSON 1.0, like the bot's other cards. Days and times are the leave's own (the
//! employee's attendance zone), never converted.

use jiff::civil::{Date, DateTime, Time, Weekday};
use serde_json::{Value, json};

use crate::config::TeamShows;
use crate::event::{Leave, LeaveUnit};
use crate::ledger::out_index::OutLeave;

/// The part of a day a leave covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Portion {
    AllDay,
    Morning,
    Afternoon,
    /// From, to (`None`: the end of the day).
    Hours(Time, Option<Time>),
}

/// What of `day` the leave covers, or `None` if it does not touch it.
pub fn portion(leave: &Leave, day: Date) -> Option<Portion> {
    if day < leave.start.date() || day > leave.last_day() {
        return None;
    }
    if leave.unit == LeaveUnit::Day {
        return Some(Portion::AllDay);
    }
    let (midnight, next) = (day.to_datetime(Time::midnight()), next_midnight(day));
    let from = leave.start.max(midnight);
    let to = leave.end.min(next);
    if from >= to {
        return None;
    }
    if from == midnight && to == next {
        return Some(Portion::AllDay);
    }
    let noon = day.to_datetime(Time::constant(12, 0, 0, 0));
    if leave.unit == LeaveUnit::HalfDay {
        return Some(match (from >= noon, to <= noon) {
            (true, _) => Portion::Afternoon,
            (_, true) => Portion::Morning,
            _ => Portion::AllDay,
        });
    }
    Some(Portion::Hours(from.time(), (to != next).then(|| to.time())))
}

fn next_midnight(day: Date) -> DateTime {
    day.tomorrow().unwrap_or(day).to_datetime(Time::midnight())
}

fn portion_text(p: Portion) -> String {
    match p {
        Portion::AllDay => "全天 all day".into(),
        Portion::Morning => "上午 am".into(),
        Portion::Afternoon => "下午 pm".into(),
        Portion::Hours(from, to) => format!(
            "{}–{}",
            from.strftime("%H:%M"),
            to.map_or("24:00".to_owned(), |t| t.strftime("%H:%M").to_string())
        ),
    }
}

fn weekday(day: Date) -> &'static str {
    match day.weekday() {
        Weekday::Monday => "周一 Mon",
        Weekday::Tuesday => "周二 Tue",
        Weekday::Wednesday => "周三 Wed",
        Weekday::Thursday => "周四 Thu",
        Weekday::Friday => "周五 Fri",
        Weekday::Saturday => "周六 Sat",
        Weekday::Sunday => "周日 Sun",
    }
}

/// One line: the person, what they are out for (as `shows` allows), and when.
fn line(out: &OutLeave, p: Portion, shows: TeamShows) -> String {
    // Open ids are Feishu's (`ou_` + hex); anything else would break the element.
    let id: String = out
        .leave
        .open_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let person = format!("<person id='{id}' show_name=true show_avatar=false></person>");
    let what = match shows {
        TeamShows::NameAndType => out.leave.leave_type.default_name().to_owned(),
        TeamShows::Name | TeamShows::Busy => "外出 out".to_owned(),
    };
    format!("{person} · {what} · {}", portion_text(p))
}

/// The days shown: `first..=last`, weekends only when someone is out on them.
fn days(first: Date, last: Date) -> Vec<Date> {
    let mut all = Vec::new();
    let mut day = first;
    while day <= last {
        all.push(day);
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    all
}

/// A day lists at most this many people, then how many more.
const MAX_PER_DAY: usize = 30;
/// Feishu refuses a card over 30 KB (230025): the days stop well short of it.
const MAX_CONTENT_BYTES: usize = 24_000;

/// The card for `first..=last` (`today` is marked as such). Revoked leave never reaches
/// here: the index holds synced leave only.
pub fn card(leaves: &[OutLeave], first: Date, last: Date, today: Date, shows: TeamShows) -> Value {
    let mut elements = Vec::new();
    let mut bytes = 0;
    for day in days(first, last) {
        let mut lines: Vec<(Portion, String)> = leaves
            .iter()
            .filter(|o| !o.leave.is_overtime())
            .filter_map(|o| portion(&o.leave, day).map(|p| (p, line(o, p, shows))))
            .collect();
        let weekend = matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday);
        if weekend && lines.is_empty() {
            continue;
        }
        lines.sort_by(|a, b| a.1.cmp(&b.1));
        let label = if day == today { "今天 Today · " } else { "" };
        let heading = format!("**{label}{} {}**", day.strftime("%m-%d"), weekday(day));
        let more = lines.len().saturating_sub(MAX_PER_DAY);
        let mut shown: Vec<String> = lines
            .into_iter()
            .take(MAX_PER_DAY)
            .map(|(_, l)| l)
            .collect();
        if more > 0 {
            shown.push(format!("…还有 {more} 人 · {more} more"));
        }
        let body = if shown.is_empty() {
            "没有人请假 · Nobody is out".to_owned()
        } else {
            shown.join("\n")
        };
        let content = format!("{heading}\n{body}");
        bytes += content.len();
        if bytes > MAX_CONTENT_BYTES {
            let rest = "…后面的日子请分开查询 · Ask for the later days separately";
            elements.push(json!({ "tag": "markdown", "content": rest }));
            break;
        }
        elements.push(json!({ "tag": "markdown", "content": content }));
    }
    if elements.is_empty() {
        // A weekend range with nobody out: still a card that says so.
        elements.push(json!({ "tag": "markdown", "content": "没有人请假 · Nobody is out" }));
    }
    let title = if first == last {
        format!("谁请假 · Who's out — {first}")
    } else {
        format!("谁请假 · Who's out — {first} → {last}")
    };
    json!({
        "config": { "wide_screen_mode": true, "update_multi": true },
        "header": { "template": "blue", "title": { "tag": "plain_text", "content": title } },
        "elements": elements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{LeaveType, Locale, LocalizedNames};
    use jiff::civil::date;

    fn out(code: &str, open_id: &str, unit: LeaveUnit, start: DateTime, end: DateTime) -> OutLeave {
        let mut leave = Leave::sample();
        leave.open_id = open_id.into();
        leave.unit = unit;
        leave.start = start;
        leave.end = end;
        leave.reason = "私事".into();
        leave.leave_type = LeaveType {
            key: "k".into(),
            names: LocalizedNames::single("事假"),
            default_locale: Locale::Ch,
        };
        OutLeave {
            instance_code: code.into(),
            leave,
        }
    }

    #[test]
    fn each_day_shows_the_part_of_it_a_leave_covers() {
        let d = |day| date(2026, 12, day);
        let day = out(
            "D",
            "ou_a",
            LeaveUnit::Day,
            d(1).at(0, 0, 0, 0),
            d(3).at(0, 0, 0, 0),
        );
        assert_eq!(portion(&day.leave, d(1)), Some(Portion::AllDay));
        assert_eq!(portion(&day.leave, d(2)), Some(Portion::AllDay));
        assert_eq!(
            portion(&day.leave, d(3)),
            None,
            "ends at midnight before the 3rd"
        );
        let half = out(
            "H",
            "ou_b",
            LeaveUnit::HalfDay,
            d(1).at(12, 0, 0, 0),
            d(3).at(12, 0, 0, 0),
        );
        assert_eq!(portion(&half.leave, d(1)), Some(Portion::Afternoon));
        assert_eq!(portion(&half.leave, d(2)), Some(Portion::AllDay));
        assert_eq!(portion(&half.leave, d(3)), Some(Portion::Morning));
        let hours = out(
            "T",
            "ou_c",
            LeaveUnit::Hour,
            d(2).at(14, 0, 0, 0),
            d(2).at(17, 0, 0, 0),
        );
        assert_eq!(
            portion(&hours.leave, d(2)),
            Some(Portion::Hours(
                Time::constant(14, 0, 0, 0),
                Some(Time::constant(17, 0, 0, 0))
            ))
        );
        let overnight = out(
            "N",
            "ou_d",
            LeaveUnit::Hour,
            d(2).at(20, 0, 0, 0),
            d(3).at(2, 0, 0, 0),
        );
        assert_eq!(
            portion(&overnight.leave, d(2)),
            Some(Portion::Hours(Time::constant(20, 0, 0, 0), None))
        );
        assert_eq!(
            portion(&overnight.leave, d(3)),
            Some(Portion::Hours(
                Time::midnight(),
                Some(Time::constant(2, 0, 0, 0))
            ))
        );
    }

    #[test]
    fn the_card_groups_by_day_says_when_nobody_is_out_and_keeps_reasons_out() {
        let d = |day| date(2026, 12, day);
        let leaves = [
            out(
                "D",
                "ou_a",
                LeaveUnit::Day,
                d(1).at(0, 0, 0, 0),
                d(2).at(0, 0, 0, 0),
            ),
            out(
                "T",
                "ou_c",
                LeaveUnit::Hour,
                d(3).at(14, 0, 0, 0),
                d(3).at(17, 0, 0, 0),
            ),
        ];
        let card = card(&leaves, d(1), d(4), d(1), TeamShows::NameAndType);
        let days: Vec<String> = card["elements"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["content"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(days.len(), 4, "{days:?}");
        assert!(
            days[0].starts_with("**今天 Today · 12-01 周二 Tue**"),
            "{}",
            days[0]
        );
        assert!(
            days[0].contains("<person id='ou_a' show_name=true"),
            "{}",
            days[0]
        );
        assert!(days[0].contains("事假 · 全天 all day"), "{}", days[0]);
        assert!(
            days[1].ends_with("没有人请假 · Nobody is out"),
            "{}",
            days[1]
        );
        assert!(days[2].contains("14:00–17:00"), "{}", days[2]);
        assert!(!card.to_string().contains("私事"), "never the reason");
        let weekend = super::card(&[], d(5), d(6), d(1), TeamShows::Busy);
        assert_eq!(
            weekend["elements"][0]["content"],
            "没有人请假 · Nobody is out"
        );
        let private = super::card(&leaves, d(1), d(1), d(1), TeamShows::Busy);
        assert!(private.to_string().contains("外出 out"));
        assert!(!private.to_string().contains("事假"));
    }

    #[test]
    fn a_crowded_range_stays_under_feishus_card_limit() {
        let d = |day| date(2026, 12, day);
        let crowd: Vec<OutLeave> = (0..200)
            .map(|i| {
                let (start, end) = (d(1).at(0, 0, 0, 0), d(31).at(0, 0, 0, 0));
                out(
                    &format!("C{i}"),
                    &format!("ou_{i:030}"),
                    LeaveUnit::Day,
                    start,
                    end,
                )
            })
            .collect();
        let big = card(&crowd, d(1), d(30), d(1), TeamShows::NameAndType);
        let text = big.to_string();
        assert!(text.len() < 30 * 1024, "{}", text.len());
        assert!(text.contains("还有 170 人 · 170 more"));
        assert!(text.contains("Ask for the later days separately"));
    }
}
