//! What the bot answers, in the language the employee wrote in. Cards use the same JSON
//! 1.0 layout as the sync's cards (`sync/cards.rs`); every reply carries a `uuid` derived
//! from the message it answers, so a redelivery answers once (pitfall 13).

use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::command::{HalfDay, Lang, Period, Problem};
use crate::ledger::State;
use crate::ledger::by_user::UserLeave;
use crate::ledger::chat::AppliedLeave;
use crate::sync::cards::{describe_duration, describe_period, leave_name};

/// A uuid ≤ 50 characters for the answer to one message, or for an instance created from
/// it, in the form the instance create page suggests (`XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX`,
/// 1–64 characters allowed; reference 7.4); the reply's uuid (≤ 50) takes the same form.
pub fn uuid_for(tenant_key: &str, message_id: &str, purpose: &str) -> String {
    let digest = Sha256::digest(format!("{tenant_key}\n{message_id}\n{purpose}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

/// The text in the employee's language.
pub(super) fn t(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

fn card(title: &str, template: &str, elements: Vec<Value>) -> Value {
    json!({
        // Without update_multi in the sent card, the card update API refuses to replace it
        // (JSON 1.0, reference 7.5).
        "config": { "wide_screen_mode": true, "update_multi": true },
        "header": { "template": template, "title": { "tag": "plain_text", "content": title } },
        "elements": elements,
    })
}

fn md(content: &str) -> Value {
    json!({ "tag": "div", "text": { "tag": "lark_md", "content": content } })
}

fn field(label: &str, value: &str, short: bool) -> Value {
    json!({ "is_short": short, "text": { "tag": "lark_md", "content": format!("**{label}**\n{value}") } })
}

/// The examples every help answer shows.
fn examples(lang: Lang) -> String {
    t(
        lang,
        "**请假**：`请假 2026-12-01 2026-12-03 年假 家里有事`、`请假 明天下午 事假`、`请假 12月5日 14:00-17:00 事假 看病`\n\
         **加班**：`加班 2026-12-06 10:00-18:00 项目上线`\n\
         **用表单**：只发 `请假`　**我的假期**：`我的假期`　**撤回**：`撤回`　**谁请假**：`谁请假`、`谁请假 本周`",
        "**Leave**: `leave 2026-12-01 to 2026-12-03 annual family matters`, `leave tomorrow pm personal`, \
         `leave 2026-12-05 14:00-17:00 personal doctor`\n**Overtime**: `overtime 2026-12-06 10:00-18:00 release`\n**With a form**: send `leave` alone  **My leave**: `my leave`  **Withdraw**: `withdraw`  **Who's out**: `who's out`, `who's out this week`",
    )
}

/// Help: for `帮助`/`help` and for anything the bot does not understand.
pub fn help(lang: Lang, not_understood: bool) -> Value {
    let intro = match (not_understood, lang) {
        (true, Lang::Zh) => "没看懂这条消息。可以这样请假：",
        (true, Lang::En) => "I did not understand that. You can apply for leave like this:",
        (false, Lang::Zh) => "在这里发一条消息即可请假，审批通过后会自动同步到考勤和日历：",
        (false, Lang::En) => {
            "Apply for leave with one message; once approved it is synced to attendance and your calendar:"
        }
    };
    card(
        &t(lang, "请假助手", "Leave assistant"),
        "blue",
        vec![md(intro), md(&examples(lang))],
    )
}

/// The message names a known command but cannot be read: say what is wrong.
pub fn problem(lang: Lang, problem: &Problem) -> Value {
    card(
        &t(lang, "没能提交", "Not submitted"),
        "orange",
        vec![md(&problem.message(lang)), md(&examples(lang))],
    )
}

/// A text answer in a card (not set up, unknown leave type, Feishu refused, ...).
pub fn notice(lang: Lang, title_zh: &str, title_en: &str, body: &str) -> Value {
    card(
        &t(lang, title_zh, title_en),
        "orange",
        vec![md(body), md(&examples(lang))],
    )
}

/// Where an application stands, as its card shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Pending,
    /// Approved and written to attendance and the calendar.
    Synced,
    /// Approved, then revoked: the sync was undone.
    Revoked,
    /// Withdrawn by the employee before approval.
    Withdrawn,
}

pub fn lang_of(code: &str) -> Lang {
    if code == "en" { Lang::En } else { Lang::Zh }
}

pub fn lang_code(lang: Lang) -> &'static str {
    match lang {
        Lang::Zh => "zh",
        Lang::En => "en",
    }
}

/// `加班` / `overtime` alone: how to apply in one message (the form card's date pickers
/// have no time of day, and overtime is counted in hours).
pub fn overtime_how(lang: Lang) -> Value {
    let body = t(
        lang,
        "发一条消息即可申请加班，写明日期和时间段，事由可选：\n`加班 2026-12-06 10:00-18:00 项目上线`\n`加班 明天 19:00-22:00`\n审批通过后会自动记入考勤。",
        "Apply for overtime with one message: the date and the hours, then a reason if you like:\n`overtime 2026-12-06 10:00-18:00 release`\n`overtime tomorrow 7pm-10pm`\nOnce approved it is written to attendance.",
    );
    info(lang, "申请加班", "Apply for overtime", &body)
}

/// An overtime stage's title, colour and words: attendance only, no calendar.
fn overtime_stage_text(lang: Lang, stage: Stage) -> (String, &'static str, String) {
    let (zh_title, en_title, template, zh, en) = match stage {
        Stage::Pending => (
            "加班已提交 · 审批中",
            "Overtime submitted · pending approval",
            "wathet",
            "审批通过后会自动记入考勤，并在这里更新。要撤回，回复 `撤回`。",
            "Once approved it is written to attendance, and this card says so. To withdraw it, reply `withdraw`.",
        ),
        Stage::Synced => (
            "加班已通过 · 已写入考勤",
            "Overtime approved · recorded",
            "green",
            "✅ 已写入考勤。",
            "✅ Written to attendance.",
        ),
        Stage::Revoked => (
            "加班已撤销",
            "Overtime revoked",
            "grey",
            "↩️ 审批已撤销，考勤中的加班记录已撤回。",
            "↩️ The approval was revoked: attendance no longer shows this overtime.",
        ),
        Stage::Withdrawn => (
            "加班申请已撤回",
            "Overtime withdrawn",
            "grey",
            "已按你的要求撤回这次申请。",
            "You withdrew this application.",
        ),
    };
    (t(lang, zh_title, en_title), template, t(lang, zh, en))
}

/// A stage's title, colour and words.
fn stage_text(lang: Lang, stage: Stage) -> (String, &'static str, String) {
    match stage {
        Stage::Pending => (
            t(
                lang,
                "请假已提交 · 审批中",
                "Leave submitted · pending approval",
            ),
            "wathet",
            t(
                lang,
                "审批通过后会自动记入考勤和日历，并在这里更新。要撤回，回复 `撤回`。",
                "Once approved it is written to attendance and your calendar, and this card says so. To withdraw it, reply `withdraw`.",
            ),
        ),
        Stage::Synced => (
            t(lang, "请假已通过 · 已同步", "Leave approved · synced"),
            "green",
            t(
                lang,
                "✅ 已记入考勤和日历。",
                "✅ Written to attendance and your calendar.",
            ),
        ),
        Stage::Revoked => (
            t(lang, "请假已撤销", "Leave revoked"),
            "grey",
            t(
                lang,
                "↩️ 审批已撤销，考勤和日历中的请假已撤回。",
                "↩️ The approval was revoked: attendance and calendar no longer show this leave.",
            ),
        ),
        Stage::Withdrawn => (
            t(lang, "请假已撤回", "Leave withdrawn"),
            "grey",
            t(
                lang,
                "已按你的要求撤回这次申请。",
                "You withdrew this application.",
            ),
        ),
    }
}

/// The reply card of an application, at `stage`. The bot sends it when it creates the
/// instance and replaces it (same layout) as the approval moves.
pub fn application_card(app: &AppliedLeave, stage: Stage) -> Value {
    let lang = lang_of(&app.lang);
    let duration = match (&app.hours, lang) {
        (Some(hours), Lang::Zh) => format!("{hours} 小时"),
        (Some(hours), Lang::En) => format!("{hours} hours"),
        (None, Lang::Zh) => format!("{} 天", app.days),
        (None, Lang::En) => format!("{} days", app.days),
    };
    let reason: String = app.reason.chars().take(300).collect();
    let mut fields = vec![
        field(&t(lang, "类型", "Type"), &app.type_name, true),
        field(&t(lang, "时长", "Duration"), &duration, true),
        field(&t(lang, "时间", "Period"), &app.period, false),
    ];
    if !reason.trim().is_empty() {
        fields.push(field(&t(lang, "事由", "Reason"), &reason, false));
    }
    let (title, template, body) = match app.hours {
        Some(_) => overtime_stage_text(lang, stage),
        None => stage_text(lang, stage),
    };
    card(
        &title,
        template,
        vec![
            json!({ "tag": "div", "fields": fields }),
            md(&body),
            json!({ "tag": "note", "elements": [
                { "tag": "plain_text", "content": format!("{} {}", t(lang, "审批", "Approval"), app.instance_code) }
            ] }),
        ],
    )
}

/// "2026-12-01 → 2026-12-03", "2026-12-01 下午 → 2026-12-02 上午", "2026-12-05 14:00–17:00".
pub fn period_text(lang: Lang, period: &Period) -> String {
    let half = |h: HalfDay| match (h, lang) {
        (HalfDay::Morning, Lang::Zh) => "上午",
        (HalfDay::Afternoon, Lang::Zh) => "下午",
        (HalfDay::Morning, Lang::En) => "am",
        (HalfDay::Afternoon, Lang::En) => "pm",
    };
    match *period {
        Period::Days { first, last } if first == last => first.to_string(),
        Period::Days { first, last } => format!("{first} → {last}"),
        Period::HalfDays { first, last } if first == last => {
            format!("{} {}", first.0, half(first.1))
        }
        Period::HalfDays { first, last } => {
            format!(
                "{} {} → {} {}",
                first.0,
                half(first.1),
                last.0,
                half(last.1)
            )
        }
        Period::Hours { date, from, to } => {
            format!("{date} {}–{}", from.strftime("%H:%M"), to.strftime("%H:%M"))
        }
    }
}

/// A plain answer (something done, or nothing to do), without the examples.
pub fn info(lang: Lang, title_zh: &str, title_en: &str, body: &str) -> Value {
    card(&t(lang, title_zh, title_en), "blue", vec![md(body)])
}

fn state_name(lang: Lang, state: State) -> &'static str {
    match (state, lang) {
        (State::Synced, Lang::Zh) => "已同步",
        (State::Synced, Lang::En) => "synced",
        (State::Syncing, Lang::Zh) => "同步中",
        (State::Syncing, Lang::En) => "syncing",
        (State::Failed, Lang::Zh) => "同步失败，管理员处理中",
        (State::Failed, Lang::En) => "sync failed, with an admin",
        (State::Revoking | State::Revoked | State::Tombstone, Lang::Zh) => "已撤销",
        (State::Revoking | State::Revoked | State::Tombstone, Lang::En) => "revoked",
    }
}

/// 我的假期 / my leave: the employee's upcoming and recent leave as the ledger knows it.
pub fn my_leave(lang: Lang, leaves: &[UserLeave]) -> Value {
    let lines: Vec<String> = leaves
        .iter()
        .take(MY_LEAVE_LINES)
        .map(|l| {
            format!(
                "- **{}** {} · {} · {}",
                leave_name(&l.leave),
                describe_period(&l.leave),
                describe_duration(&l.leave),
                state_name(lang, l.state)
            )
        })
        .collect();
    let body = if lines.is_empty() {
        t(
            lang,
            "最近 30 天和之后没有同步过的请假。",
            "No leave synced for the last 30 days or ahead.",
        )
    } else {
        lines.join("\n")
    };
    card(
        &t(lang, "我的假期", "My leave"),
        "blue",
        vec![
            md(&body),
            json!({ "tag": "note", "elements": [{ "tag": "plain_text", "content": t(
                lang,
                "考勤中的记录以飞书考勤为准；这里是本服务同步过的请假。",
                "Attendance is the record; this lists the leave this service synced."
            ) }] }),
        ],
    )
}

/// How many leaves the card lists (cards are capped at 30 KB).
const MY_LEAVE_LINES: usize = 20;
