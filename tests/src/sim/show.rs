//! A readable account of what the simulated tenant received, per employee
//! (`feishu-sim show`, the demo's output).

use std::fmt::Write;

use serde_json::Value;

use super::api;
use super::state::Snapshot;

fn unit_name(unit: i64) -> &'static str {
    match unit {
        1 => "day",
        2 => "hour",
        3 => "half-day",
        4 => "half-hour",
        _ => "?",
    }
}

/// Unix seconds as wall-clock time in `zone`, or the value as is (all-day dates).
fn local(value: &str, zone: &str) -> String {
    match (value.parse::<i64>(), jiff::tz::TimeZone::get(zone)) {
        (Ok(secs), Ok(tz)) => jiff::Timestamp::from_second(secs)
            .map(|t| t.to_zoned(tz).strftime("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|_| value.to_owned()),
        _ => value.to_owned(),
    }
}

fn card_summary(content: &Value) -> String {
    let title = content["header"]["title"]["content"]
        .as_str()
        .unwrap_or("(card)");
    let fields: Vec<String> = content["elements"][0]["fields"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| f["text"]["content"].as_str())
                .filter_map(|t| t.split_once('\n').map(|(_, v)| v.to_owned()))
                .take(3)
                .collect()
        })
        .unwrap_or_default();
    if fields.is_empty() {
        title.to_owned()
    } else {
        format!("{title} — {}", fields.join(" | "))
    }
}

pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    for u in &s.users {
        let att: Vec<_> = s
            .attendance
            .iter()
            .filter(|a| a.user_id == u.user_id)
            .collect();
        let off: Vec<_> = s
            .timeoff_events
            .iter()
            .filter(|t| t.open_id == u.open_id)
            .collect();
        let msgs: Vec<_> = s
            .messages
            .iter()
            .filter(|m| m.open_id.as_deref() == Some(u.open_id.as_str()))
            .collect();
        if att.is_empty() && off.is_empty() && msgs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "{} ({} / {})", u.name, u.user_id, u.open_id);
        for a in att {
            let l = &a.leave;
            if a.kind == "overtime" {
                let _ = writeln!(out, "{}", overtime_line(a));
                continue;
            }
            let _ = writeln!(
                out,
                "  attendance  {}  {} → {}  unit {} ({}), {} s  approval_id {}{}",
                l["i18n_names"]["ch"]
                    .as_str()
                    .or(l["i18n_names"]["en"].as_str())
                    .unwrap_or("?"),
                l["start_time"].as_str().unwrap_or("?"),
                l["end_time"].as_str().unwrap_or("?"),
                l["unit"].as_i64().unwrap_or(0),
                unit_name(l["unit"].as_i64().unwrap_or(0)),
                l["interval"].as_i64().unwrap_or(0),
                a.approval_id,
                if a.status == 4 { "  [REVOKED]" } else { "" },
            );
        }
        for t in off {
            let all_day = !t.start_time.chars().all(|c| c.is_ascii_digit());
            let _ = writeln!(
                out,
                "  time-off    {} → {}  {} {}  \"{}\"{}",
                local(&t.start_time, &t.timezone),
                local(&t.end_time, &t.timezone),
                if all_day { "all day," } else { "timed," },
                t.timezone,
                t.title,
                if t.deleted { "  [DELETED]" } else { "" },
            );
        }
        for m in msgs {
            let text = match m.msg_type.as_str() {
                "interactive" => card_summary(&m.content),
                _ => m.content.to_string(),
            };
            let _ = writeln!(out, "  message     {text}");
        }
    }
    chat(&mut out, s);
    team(&mut out, s);
    if out.is_empty() {
        out.push_str("nothing received yet\n");
    }
    let n = |api: &str| s.writes.get(api).copied().unwrap_or(0);
    let _ = writeln!(
        out,
        "\nFeishu API writes: attendance {}, attendance revokes {}, time-off created {}, time-off deleted {}, messages {}; token fetches {}",
        n(api::ATTENDANCE_CREATE),
        n(api::ATTENDANCE_PROCESS),
        n(api::TIMEOFF_CREATE),
        n(api::TIMEOFF_DELETE),
        n(api::MESSAGE_SEND),
        s.calls.get(api::TOKEN).copied().unwrap_or(0),
    );
    out
}

/// The bot's side: instances the app created (with a uuid) and its replies in chat, with
/// how often each reply card was replaced since.
fn chat(out: &mut String, s: &Snapshot) {
    let created: Vec<_> = s
        .instances
        .iter()
        .filter(|(_, i)| i["uuid"].as_str().is_some_and(|u| !u.is_empty()))
        .collect();
    let replies: Vec<_> = s.messages.iter().filter(|m| m.reply_to.is_some()).collect();
    if created.is_empty() && replies.is_empty() {
        return;
    }
    let _ = writeln!(out, "Chat bot");
    for (code, i) in created {
        let _ = writeln!(
            out,
            "  instance    {code}  by {}  {}",
            i["open_id"].as_str().unwrap_or("?"),
            i["status"].as_str().unwrap_or("?")
        );
    }
    for m in replies {
        let text = match m.msg_type.as_str() {
            "interactive" => card_summary(&m.content),
            _ => m.content.to_string(),
        };
        let updated = match m.updates {
            0 => String::new(),
            n => format!("  [card updated {n}×]"),
        };
        let _ = writeln!(
            out,
            "  reply to {}: {text}{updated}",
            m.reply_to.as_deref().unwrap_or("?")
        );
    }
}

/// The team view: entries on shared calendars, and the cards posted to group chats (each
/// day's lines, the person elements shown by their open_id).
fn team(out: &mut String, s: &Snapshot) {
    let entries: Vec<_> = s
        .calendar_events
        .iter()
        .filter(|e| e.calendar_id != super::state::BOT_CALENDAR)
        .collect();
    let chats: Vec<_> = s
        .messages
        .iter()
        .filter(|m| m.receive_id_type == "chat_id")
        .collect();
    if entries.is_empty() && chats.is_empty() {
        return;
    }
    let _ = writeln!(out, "Team view");
    for e in entries {
        let when = |t: &Value| {
            t["date"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| local(t["timestamp"].as_str().unwrap_or("?"), "Asia/Shanghai"))
        };
        let _ = writeln!(
            out,
            "  calendar    \"{}\"  {} → {}{}",
            e.body["summary"].as_str().unwrap_or("?"),
            when(&e.body["start_time"]),
            when(&e.body["end_time"]),
            if e.deleted { "  [DELETED]" } else { "" },
        );
    }
    for m in chats {
        let _ = writeln!(
            out,
            "  card to {}: {}",
            m.receive_id,
            card_summary(&m.content)
        );
        for element in m.content["elements"].as_array().into_iter().flatten() {
            let text = element["content"].as_str().unwrap_or_default();
            for line in text.lines() {
                let _ = writeln!(out, "    {}", people(line, &s.users));
            }
        }
    }
}

/// `<person id='ou_x' ...></person>` as the person's name, as the client shows it.
fn people(line: &str, users: &[super::state::User]) -> String {
    let mut out = String::new();
    let mut rest = line;
    while let Some(start) = rest.find("<person id='") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "<person id='".len()..];
        let id = &after[..after.find('\'').unwrap_or(after.len())];
        match users.iter().find(|u| u.open_id == id) {
            Some(u) => out.push_str(&u.name),
            None => out.push_str("未知用户"),
        }
        rest = after
            .find("</person>")
            .map_or("", |i| &after[i + "</person>".len()..]);
    }
    out.push_str(rest);
    out.replace("**", "")
}

/// An overtime record, which has no names, unit name or interval of its own.
fn overtime_line(a: &crate::sim::state::AttendanceRecord) -> String {
    let l = &a.leave;
    format!(
        "  overtime    {} → {}  {} h, category {}, type {}  approval_id {}{}",
        l["start_time"].as_str().unwrap_or("?"),
        l["end_time"].as_str().unwrap_or("?"),
        l["duration"].as_f64().unwrap_or(0.0),
        l["category"].as_i64().unwrap_or(0),
        l["type"].as_i64().unwrap_or(0),
        a.approval_id,
        if a.status == 4 { "  [REVOKED]" } else { "" },
    )
}
