//! Applying with a form: `请假` / `leave` alone answers with a card holding a form (leave
//! type for a native form, first and last day, reason); its submit arrives as a
//! `card.action.trigger` callback (reference 7.6), which the ingress queues and answers
//! with a toast, and which becomes an application here, once per form card. The form card
//! is then replaced by the application's card, which follows the approval as a reply does.
//!
//! Card layout: JSON 1.0 with a form container (doc "表单容器": `tag: form` at the root,
//! every interactive component named, the submit button `action_type: form_submit`), so
//! that the card can later be replaced by the 1.0 application card (a 2.0 card cannot be
//! updated to 1.0, 200830).

use jiff::Timestamp;
use jiff::civil::Date;
use serde_json::{Map, Value, json};

use super::apply::Request;
use super::bot::{ChatBot, ChatError, Job, Turn};
use super::command::{ChatLeaveType, Kind, Lang, Period};
use super::replies::t;
use super::replies::{self, lang_code, lang_of};
use crate::event::{CardSubmission, ChatMessage, UserIds};
use crate::workflow::Attempt;

/// What the submit button sends back (`action.value`).
pub const APPLY_LEAVE: &str = "apply_leave";

fn plain(text: &str) -> Value {
    json!({ "tag": "plain_text", "content": text })
}

/// The leave form card; `types` empty for a custom form (no type select).
pub fn leave_form(lang: Lang, types: &[ChatLeaveType], today: Date) -> Value {
    let mut fields = Vec::new();
    if !types.is_empty() {
        let options: Vec<Value> = types
            .iter()
            .map(|lt| json!({ "text": plain(&lt.names.join(" · ")), "value": lt.id }))
            .collect();
        fields.push(
            json!({ "tag": "select_static", "name": "type", "required": true,
            "placeholder": plain(&t(lang, "请假类型", "Leave type")), "options": options }),
        );
    }
    let day = today.to_string();
    fields.push(
        json!({ "tag": "date_picker", "name": "start", "required": true,
        "initial_date": day, "placeholder": plain(&t(lang, "第一天", "First day")) }),
    );
    fields.push(
        json!({ "tag": "date_picker", "name": "end", "required": true,
        "initial_date": day, "placeholder": plain(&t(lang, "最后一天", "Last day")) }),
    );
    fields.push(json!({ "tag": "input", "name": "reason", "max_length": 300,
        "placeholder": plain(&t(lang, "事由（可选）", "Reason (optional)")) }));
    fields.push(
        json!({ "tag": "button", "name": "submit", "type": "primary",
        "action_type": "form_submit", "text": plain(&t(lang, "提交", "Submit")),
        "value": { "action": APPLY_LEAVE, "lang": lang_code(lang) } }),
    );
    json!({
        "config": { "wide_screen_mode": true, "update_multi": true },
        "header": { "template": "blue", "title": plain(&t(lang, "请假申请", "Apply for leave")) },
        "elements": [
            { "tag": "div", "text": { "tag": "lark_md", "content": t(lang,
                "按天请假；半天或按小时请直接发消息，例如 `请假 明天下午 事假`。",
                "Whole days here; for half days or hours write a message, e.g. `leave tomorrow pm personal`.") } },
            { "tag": "form", "name": "leave_form", "elements": fields },
        ],
    })
}

/// The form's inputs as an application, or what is wrong with them.
pub(super) fn read(
    lang: Lang,
    form: &Map<String, Value>,
    types: &[ChatLeaveType],
) -> Result<Request, String> {
    // A date picker answers "2024-04-01 +0800" (reference 7.6): the date is the part
    // before the space.
    let date = |name: &str| {
        form.get(name)
            .and_then(Value::as_str)
            .and_then(|v| v.split_whitespace().next())
            .and_then(|d| d.parse::<Date>().ok())
    };
    let (Some(first), Some(last)) = (date("start"), date("end")) else {
        return Err(t(
            lang,
            "请选择第一天和最后一天。",
            "Pick the first and the last day.",
        ));
    };
    if last < first {
        return Err(t(
            lang,
            "最后一天在第一天之前。",
            "The last day is before the first.",
        ));
    }
    let leave_type = match types {
        [] => None,
        _ => {
            let id = form.get("type").and_then(Value::as_str).unwrap_or_default();
            let found = types.iter().find(|lt| lt.id == id);
            Some(
                found
                    .cloned()
                    .ok_or_else(|| t(lang, "请选择请假类型。", "Pick a leave type."))?,
            )
        }
    };
    let type_name = leave_type
        .as_ref()
        .map_or_else(|| "请假 · Leave".to_owned(), |lt| lt.names.join(" · "));
    let reason = form
        .get("reason")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    Ok(Request {
        kind: Kind::Leave,
        period: Period::Days { first, last },
        type_name,
        leave_type,
        reason,
    })
}

impl ChatBot {
    /// The leave form card's submit: one application per form card, however often the
    /// callback is delivered.
    pub async fn submitted(
        &self,
        submission: &CardSubmission,
        attempt: &Attempt,
    ) -> Result<String, ChatError> {
        if submission.value["action"] != APPLY_LEAVE {
            return Ok("ignored: not the leave form's submit".into());
        }
        let lang = lang_of(submission.value["lang"].as_str().unwrap_or("zh"));
        let types = self
            .config
            .leave
            .as_ref()
            .map(|f| f.leave_types.clone())
            .unwrap_or_default();
        // The card's message stands in for a chat message: its id keys the ledger item
        // and the instance's uuid.
        let message = ChatMessage {
            tenant_key: submission.tenant_key.clone(),
            message_id: format!("card:{}", submission.card_message_id),
            chat_id: String::new(),
            chat_type: "p2p".into(),
            sender: UserIds {
                open_id: submission.open_id.clone(),
                ..UserIds::default()
            },
            text: None,
            mentions_someone: false,
            create_time_ms: None,
        };
        let today = Timestamp::now().to_zoned(self.zone.tz.clone()).date();
        let job = Job::Form {
            card_message_id: submission.card_message_id.clone(),
            request: read(lang, &submission.form, &types),
        };
        self.run(&message, lang, today, job, attempt).await
    }

    pub(super) async fn submit_form(
        &self,
        turn: &mut Turn<'_>,
        request: Result<Request, String>,
    ) -> Result<String, ChatError> {
        let Some(chat_form) = self.config.leave.clone() else {
            return self.not_set_up(turn, Kind::Leave).await;
        };
        match request {
            Ok(request) => self.submit(turn, &chat_form, request).await,
            Err(problem) => {
                let lang = turn.lang;
                let body = format!(
                    "{problem}\n{}",
                    t(
                        lang,
                        "发送 `请假` 可以拿到新的表单。",
                        "Send `leave` for a new form."
                    )
                );
                let card = replies::notice(lang, "没能提交", "Not submitted", &body);
                self.answer(turn, &card).await?;
                Ok(format!("answered: the form could not be read ({problem})"))
            }
        }
    }

    /// `请假` alone: the form card, as a reply.
    pub(super) async fn send_form(&self, turn: &mut Turn<'_>) -> Result<String, ChatError> {
        let Some(chat_form) = self.config.leave.clone() else {
            return self.not_set_up(turn, Kind::Leave).await;
        };
        if turn.message.chat_type != "p2p" {
            // Anyone in a group could submit a form sent there, for its first reader.
            let lang = turn.lang;
            let body = t(
                lang,
                "请私聊我发送 `请假` 获取表单，或在这里用一条消息请假：",
                "Send me `leave` in a direct chat for the form, or apply here in one message:",
            );
            let card = replies::notice(
                lang,
                "表单在私聊中",
                "Forms are sent in direct chats",
                &body,
            );
            self.answer(turn, &card).await?;
            return Ok("answered: forms are sent in direct chats".into());
        }
        let card = leave_form(turn.lang, &chat_form.leave_types, turn.today);
        self.answer(turn, &card).await?;
        Ok("answered: the leave form".into())
    }
}
