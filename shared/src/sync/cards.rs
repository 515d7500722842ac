//! The interactive cards sent to the employee, and the IM `uuid`s that make each send
//! happen at most once (pitfall 13).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::mapping::inclusive_end_date;
use crate::event::{InstanceRef, Leave, LeaveUnit};

/// Why a message is sent; part of its uuid, so the sync card and the withdrawal card of
/// one instance are different messages.
#[derive(Debug, Clone, Copy)]
pub enum Purpose {
    Synced,
    Revoked,
    Cancellation,
}

/// A uuid ≤ 50 characters derived from the instance and the purpose: a resend within
/// Feishu's one-hour window delivers nothing new.
pub fn message_uuid(instance: &InstanceRef, purpose: Purpose) -> String {
    let tag = match purpose {
        Purpose::Synced => "sync",
        Purpose::Revoked => "revoke",
        Purpose::Cancellation => "cancel",
    };
    let digest =
        Sha256::digest(format!("{}\n{}", instance.tenant_key, instance.instance_code).as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("ls-{tag}-{hex}")
}

pub fn leave_name(leave: &Leave) -> String {
    let names = &leave.leave_type.names;
    match (names.primary(), names.english()) {
        (Some(zh), Some(en)) if zh != en => format!("{zh} · {en}"),
        (Some(name), _) => name.to_owned(),
        _ if leave.is_overtime() => "加班 · Overtime".to_owned(),
        _ => "请假 · Leave".to_owned(),
    }
}

/// "2026-12-01 → 2026-12-02" for day leaves, exact times otherwise.
pub fn describe_period(leave: &Leave) -> String {
    match leave.unit {
        LeaveUnit::Day => {
            let last = inclusive_end_date(leave);
            if last == leave.start.date() {
                last.to_string()
            } else {
                format!("{} → {}", leave.start.date(), last)
            }
        }
        _ => format!(
            "{} → {}",
            leave.start.strftime("%Y-%m-%d %H:%M"),
            leave.end.strftime("%Y-%m-%d %H:%M")
        ),
    }
}

pub fn describe_duration(leave: &Leave) -> String {
    let secs = leave.interval_secs as f64;
    let trim = |x: f64| {
        let s = format!("{x:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    };
    match leave.unit {
        LeaveUnit::Day | LeaveUnit::HalfDay => format!("{} 天 / days", trim(secs / 86_400.0)),
        LeaveUnit::Minute if secs < 3_600.0 => format!("{} 分钟 / minutes", trim(secs / 60.0)),
        _ => format!("{} 小时 / hours", trim(secs / 3_600.0)),
    }
}

fn field(label: &str, value: &str, short: bool) -> Value {
    json!({ "is_short": short, "text": { "tag": "lark_md", "content": format!("**{label}**\n{value}") } })
}

fn card(title: &str, template: &str, leave: &Leave, body: &str, instance: &InstanceRef) -> Value {
    // Cards are capped at 30 KB; a reason is shown, not archived.
    let reason: String = leave.reason.chars().take(300).collect();
    let mut fields = vec![
        field("类型 Type", &leave_name(leave), true),
        field("时长 Duration", &describe_duration(leave), true),
        field("时间 Period", &describe_period(leave), false),
    ];
    if !reason.trim().is_empty() {
        fields.push(field("事由 Reason", &reason, false));
    }
    json!({
        "config": { "wide_screen_mode": true },
        "header": { "template": template, "title": { "tag": "plain_text", "content": title } },
        "elements": [
            { "tag": "div", "fields": fields },
            { "tag": "hr" },
            { "tag": "div", "text": { "tag": "lark_md", "content": body } },
            { "tag": "note", "elements": [
                { "tag": "plain_text", "content": format!("审批 Approval {}", instance.instance_code) }
            ] }
        ]
    })
}

pub fn synced_card(instance: &InstanceRef, leave: &Leave) -> Value {
    if leave.is_overtime() {
        return card(
            "加班已记录 · Overtime recorded",
            "green",
            leave,
            "✅ 这次加班已写入考勤 · This overtime is written to attendance",
            instance,
        );
    }
    card(
        "请假已同步 · Leave synced",
        "green",
        leave,
        "✅ 考勤已记为请假，期间不会提醒打卡 · Attendance records your leave: no clock-in reminders\n\
         ✅ 日历和个人资料显示请假中 · Your calendar and profile show you as on leave",
        instance,
    )
}

pub fn revoked_card(instance: &InstanceRef, leave: &Leave) -> Value {
    if leave.is_overtime() {
        return card(
            "加班已撤销 · Overtime withdrawn",
            "grey",
            leave,
            "↩️ 审批已撤销：考勤中的加班记录已撤销 · The approval was revoked: the overtime \
             record in attendance is withdrawn",
            instance,
        );
    }
    card(
        "请假已撤销 · Leave withdrawn",
        "grey",
        leave,
        "↩️ 审批已撤销：考勤中的请假记录已撤销，日历中的请假已删除 · The approval was revoked: the \
         attendance record is withdrawn and the time-off event removed",
        instance,
    )
}

/// A leave-cancellation form (销假) was approved. What it changes is not applied by itself
/// (README, "Leave cancellations"): the employee is told so.
pub fn cancellation_card(instance: &InstanceRef, leave: &Leave, original: &str) -> Value {
    card(
        "销假已记录 · Leave cancellation recorded",
        "blue",
        leave,
        &format!(
            "📝 销假已通过，已记录在原请假 {original} 上。原请假的考勤记录和日历不会自动修改，如需调整请联系考勤管理员 · \
             Your leave cancellation is approved and noted on the original leave {original}. The \
             original's attendance record and calendar entry are not changed automatically: ask \
             your attendance admin if they need correcting"
        ),
        instance,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{LeaveType, Locale, LocalizedNames};
    use jiff::civil::date;

    fn leave(unit: LeaveUnit, interval: i64) -> Leave {
        Leave {
            user_id: "u".into(),
            open_id: "ou".into(),
            leave_type: LeaveType {
                key: "k".into(),
                names: LocalizedNames {
                    ch: Some("年假".into()),
                    en: Some("Annual leave".into()),
                    ja: None,
                },
                default_locale: Locale::Ch,
            },
            start: date(2026, 12, 1).at(0, 0, 0, 0),
            end: date(2026, 12, 3).at(0, 0, 0, 0),
            interval_secs: interval,
            unit,
            reason: "Family trip".into(),
            segments: vec![],
            overtime: None,
        }
    }

    fn instance(code: &str) -> InstanceRef {
        InstanceRef {
            tenant_key: "t".into(),
            approval_code: "a".into(),
            instance_code: code.into(),
        }
    }

    #[test]
    fn uuids_are_stable_short_and_distinct() {
        let i = instance(&"X".repeat(200));
        let a = message_uuid(&i, Purpose::Synced);
        assert!(a.len() <= 50, "{a}");
        assert_eq!(a, message_uuid(&i, Purpose::Synced));
        assert_ne!(a, message_uuid(&i, Purpose::Revoked));
        assert_ne!(a, message_uuid(&instance("Y"), Purpose::Synced));
    }

    #[test]
    fn card_shows_type_period_and_duration() {
        let c = synced_card(&instance("I-1"), &leave(LeaveUnit::Day, 172_800));
        let text = c.to_string();
        assert!(text.contains("年假 · Annual leave"), "{text}");
        assert!(text.contains("2026-12-01 → 2026-12-02"), "{text}");
        assert!(text.contains("2 天 / days"), "{text}");
        assert!(text.contains("Family trip"));
        assert_eq!(c["header"]["template"], "green");
        assert_eq!(
            revoked_card(&instance("I-1"), &leave(LeaveUnit::Day, 172_800))["header"]["template"],
            "grey"
        );
    }

    #[test]
    fn durations() {
        assert_eq!(
            describe_duration(&leave(LeaveUnit::HalfDay, 129_600)),
            "1.5 天 / days"
        );
        assert_eq!(
            describe_duration(&leave(LeaveUnit::Hour, 10_800)),
            "3 小时 / hours"
        );
        assert_eq!(
            describe_duration(&leave(LeaveUnit::Minute, 1_800)),
            "30 分钟 / minutes"
        );
    }
}
