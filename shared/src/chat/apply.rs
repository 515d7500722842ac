//! Applying for leave from one message: pick the leave type, build the form, create the
//! approval instance on the employee's behalf (once: `uuid` from the message id), and
//! answer with what was submitted. Feishu's refusals of the form (`leave is conflict`,
//! `balance is not enough`, ...) are answered, not retried.

use super::bot::{ChatBot, ChatError, Turn};
use super::command::{Application, ChatLeaveType, Lang, TypeMatch, match_type};
use super::{form, replies};
use crate::config::ChatForm;
use crate::feishu::FeishuError;
use crate::feishu::approval::NewInstance;
use crate::ledger::chat::ChatStep;

/// "uuid conflict" (doc "创建审批实例"): an earlier attempt created the instance.
const UUID_CONFLICT: i64 = 60012;

fn t(lang: Lang, zh: &str, en: &str) -> String {
    match lang {
        Lang::Zh => zh.to_owned(),
        Lang::En => en.to_owned(),
    }
}

fn names(types: &[&ChatLeaveType]) -> String {
    types
        .iter()
        .map(|t| t.names.join(" / "))
        .collect::<Vec<_>>()
        .join("\n- ")
}

impl ChatBot {
    pub(super) async fn apply_leave(
        &self,
        turn: &mut Turn<'_>,
        application: Application,
    ) -> Result<String, ChatError> {
        let lang = turn.lang;
        let Some(chat_form) = self.config.leave.clone() else {
            return self.not_set_up(turn).await;
        };
        let (type_name, leave_type, reason) = match self.pick_type(&chat_form, &application) {
            Ok(picked) => picked,
            Err(body) => {
                let card = replies::notice(lang, "请假类型不对", "Which leave type?", &body);
                self.answer(turn, &card).await?;
                return Ok("answered: unknown or ambiguous leave type".into());
            }
        };
        let span = form::span(&application.period);
        let built = self.build_form(leave_type.as_ref(), &span, &reason);
        let form_json = match built {
            Ok(f) => f,
            Err(e) => {
                let card = replies::notice(lang, "时间不对", "Check the times", &e.to_string());
                self.answer(turn, &card).await?;
                return Ok(format!("answered: {e}"));
            }
        };
        let instance_code = match self.create(turn, &chat_form, form_json).await? {
            Ok(code) => code,
            Err(refusal) => {
                let body = format!(
                    "{}\n> {refusal}",
                    t(
                        lang,
                        "飞书审批没有接受这次申请：",
                        "Feishu Approval did not accept it:"
                    )
                );
                let card = replies::notice(lang, "没能提交", "Not submitted", &body);
                self.answer(turn, &card).await?;
                return Ok(format!(
                    "answered: Feishu refused the application ({refusal})"
                ));
            }
        };
        let card = replies::applied(
            lang,
            &type_name,
            &application.period,
            &span,
            &reason,
            &instance_code,
        );
        self.answer(turn, &card).await?;
        Ok(format!("applied: instance {instance_code}"))
    }

    async fn not_set_up(&self, turn: &mut Turn<'_>) -> Result<String, ChatError> {
        let lang = turn.lang;
        let body = t(
            lang,
            "管理员还没有开启聊天请假（CHAT_LEAVE_APPROVAL_CODE 未设置）。请在飞书审批中提交请假。",
            "Applying by chat is not set up (CHAT_LEAVE_APPROVAL_CODE is not set): apply in Feishu Approval.",
        );
        self.answer(turn, &replies::notice(lang, "未开启", "Not set up", &body))
            .await?;
        Ok("answered: applying by chat is not set up".into())
    }

    fn build_form(
        &self,
        leave_type: Option<&ChatLeaveType>,
        span: &form::Span,
        reason: &str,
    ) -> Result<String, form::NoSuchTime> {
        let tz = &self.zone.tz;
        match leave_type {
            Some(lt) => form::native(lt, span, reason, tz),
            None => {
                let f = &self.forms;
                form::custom(&f.period_widget, &f.reason_widget, span, reason, tz)
            }
        }
    }

    /// The leave type a native form needs (with the reason after it), or what to answer.
    fn pick_type(
        &self,
        chat_form: &ChatForm,
        application: &Application,
    ) -> Result<(String, Option<ChatLeaveType>, String), String> {
        if !chat_form.native {
            return Ok(("请假 · Leave".into(), None, application.rest.clone()));
        }
        let all: Vec<&ChatLeaveType> = chat_form.leave_types.iter().collect();
        match match_type(&application.rest, &chat_form.leave_types) {
            TypeMatch::Found { leave_type, reason } => Ok((
                leave_type.names.join(" · "),
                Some(leave_type.clone()),
                reason,
            )),
            TypeMatch::Ambiguous(candidates) => {
                Err(format!("Which one? 是哪一种？\n- {}", names(&candidates)))
            }
            TypeMatch::Unknown => Err(format!(
                "Name a leave type after the dates. 请在日期后写上请假类型：\n- {}",
                names(&all)
            )),
        }
    }

    /// The instance's code: the one recorded, or a new one. `Ok(Err(msg))` when Feishu
    /// refused the form for a reason the employee can fix.
    async fn create(
        &self,
        turn: &mut Turn<'_>,
        chat_form: &ChatForm,
        form: String,
    ) -> Result<Result<String, String>, ChatError> {
        if let Some(code) = &turn.record.instance_code {
            return Ok(Ok(code.clone()));
        }
        let m = turn.message;
        let uuid = replies::uuid_for(&m.tenant_key, &m.message_id, "instance");
        let request = NewInstance {
            approval_code: chat_form.approval_code.clone(),
            user_id: None,
            open_id: m.sender.open_id.clone(),
            form,
            uuid: Some(uuid.clone()),
        };
        let created = match turn.feishu.create_instance(&request).await {
            Ok(code) => code,
            // The uuid was used: by an earlier attempt at this very message (the instance
            // detail accepts the creation uuid in place of the code, reference §4.11).
            Err(e) if e.code() == Some(UUID_CONFLICT) => {
                turn.feishu
                    .get_instance(&uuid)
                    .await
                    .map_err(|source| ChatError::Feishu {
                        step: "instance",
                        source,
                    })?
                    .instance_code
            }
            Err(e) if refused_form(&e) => return Ok(Err(e.msg().to_owned())),
            Err(source) => {
                return Err(ChatError::Feishu {
                    step: "instance",
                    source,
                });
            }
        };
        self.ledger
            .record_chat(
                &m.tenant_key,
                &m.message_id,
                &turn.lease,
                &ChatStep::Instance(created.clone()),
            )
            .await?;
        turn.record.instance_code = Some(created.clone());
        Ok(Ok(created))
    }
}

/// A refusal the employee can act on: the form is invalid for this leave (1390001 "param
/// is invalid" carries `leave is conflict`, `balance is not enough`, ...; 60006 form
/// validation failed; 1390004 user not found). Retrying would give the same answer.
fn refused_form(e: &FeishuError) -> bool {
    matches!(e.code(), Some(1390001 | 60006 | 60001 | 1390004))
}
