//! Applying for leave from one message: pick the leave type, build the form, create the
//! approval instance on the employee's behalf (once: `uuid` from the message id), and
//! answer with what was submitted. Feishu's refusals of the form (`leave is conflict`,
//! `balance is not enough`, ...) are answered, not retried.

use super::bot::{ChatBot, ChatError, Turn};
use super::command::{Application, ChatLeaveType, Kind, Period, TypeMatch, match_type};
use super::replies::Stage;
use super::replies::t;
use super::{form, replies};
use crate::config::ChatForm;
use crate::feishu::FeishuError;
use crate::feishu::approval::NewInstance;
use crate::ledger::chat::{AppliedLeave, ChatStep};
use crate::telemetry::alert;
use tracing::error;

/// "uuid conflict" (doc "创建审批实例"): an earlier attempt created the instance.
const UUID_CONFLICT: i64 = 60012;

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
            return self.not_set_up(turn, Kind::Leave).await;
        };
        let (type_name, leave_type, reason) = match self.pick_type(&chat_form, &application) {
            Ok(picked) => picked,
            Err(body) => {
                let card = replies::notice(lang, "请假类型不对", "Which leave type?", &body);
                self.answer(turn, &card).await?;
                return Ok("answered: unknown or ambiguous leave type".into());
            }
        };
        let request = Request {
            kind: Kind::Leave,
            period: application.period,
            type_name,
            leave_type,
            reason,
        };
        self.submit(turn, &chat_form, request).await
    }

    /// Overtime against `CHAT_OVERTIME_APPROVAL_CODE`, a custom form like the tutorial's
    /// leave form. Only hours: attendance counts overtime by the clock, so a day would be
    /// written as 24 hours.
    pub(super) async fn apply_overtime(
        &self,
        turn: &mut Turn<'_>,
        application: Application,
    ) -> Result<String, ChatError> {
        let lang = turn.lang;
        let Some(chat_form) = self.config.overtime.clone() else {
            return self.not_set_up(turn, Kind::Overtime).await;
        };
        if !matches!(application.period, Period::Hours { .. }) {
            let body = t(
                lang,
                "加班请写明时间段，例如：`加班 2026-12-06 10:00-18:00 项目上线`",
                "Give overtime as hours, e.g. `overtime 2026-12-06 10:00-18:00 release`",
            );
            let card = replies::notice(lang, "加班时间", "Overtime hours", &body);
            self.answer(turn, &card).await?;
            return Ok("answered: overtime needs hours".into());
        }
        let request = Request {
            kind: Kind::Overtime,
            period: application.period,
            type_name: "加班 · Overtime".into(),
            leave_type: None,
            reason: application.rest,
        };
        self.submit(turn, &chat_form, request).await
    }

    /// Creates the instance for `request` and answers with its card.
    pub(super) async fn submit(
        &self,
        turn: &mut Turn<'_>,
        chat_form: &ChatForm,
        request: Request,
    ) -> Result<String, ChatError> {
        let lang = turn.lang;
        let span = form::span(&request.period);
        let built = self.build_form(
            request.leave_type.as_ref(),
            &request.period,
            &span,
            &request.reason,
        );
        let form_json = match built {
            Ok(f) => f,
            Err(e) => {
                let card = replies::notice(lang, "时间不对", "Check the times", &e.to_string());
                self.answer(turn, &card).await?;
                return Ok(format!("answered: {e}"));
            }
        };
        let instance_code = match self.create(turn, chat_form, form_json).await? {
            Ok(code) => code,
            Err(refusal) => return self.refused(turn, refusal).await,
        };
        let days = (span.days * 100.0).round() / 100.0;
        let hours = span.start.duration_until(span.end).as_secs_f64() / 3_600.0;
        let mut applied = AppliedLeave {
            hours: (request.kind == Kind::Overtime)
                .then(|| ((hours * 100.0).round() / 100.0).to_string()),
            instance_code: instance_code.clone(),
            approval_code: chat_form.approval_code.clone(),
            open_id: turn.message.sender.open_id.clone().unwrap_or_default(),
            reply_message_id: String::new(),
            lang: replies::lang_code(lang).into(),
            type_name: request.type_name,
            period: replies::period_text(lang, &request.period),
            days: days.to_string(),
            reason: request.reason,
        };
        let card = replies::application_card(&applied, Stage::Pending);
        self.answer(turn, &card).await?;
        applied.reply_message_id = turn.record.reply_message_id.clone().unwrap_or_default();
        self.ledger
            .put_application(&turn.message.tenant_key, &applied, jiff::Timestamp::now())
            .await?;
        Ok(format!("applied: instance {instance_code}"))
    }

    async fn refused(&self, turn: &mut Turn<'_>, refusal: Refusal) -> Result<String, ChatError> {
        let lang = turn.lang;
        let (lead, msg) = match &refusal {
            Refusal::Form(msg) => (
                t(
                    lang,
                    "飞书审批没有接受这次申请：",
                    "Feishu Approval did not accept it:",
                ),
                msg,
            ),
            Refusal::Setup(msg) => {
                error!(
                    alert = alert::CHAT_MISCONFIGURED,
                    feishu_says = %msg,
                    "chat: Feishu refused the bot's application for a setup reason; check \
                     ChatLeaveApprovalCode, the custom form widget ids and the app's scopes"
                );
                (
                    t(
                        lang,
                        "聊天请假的审批设置有问题，已通知管理员。请先在飞书审批中提交：",
                        "Applying by chat is misconfigured; your admin has been alerted. Apply in Feishu Approval for now:",
                    ),
                    msg,
                )
            }
            Refusal::Unavailable(msg) => (
                t(
                    lang,
                    "飞书审批暂时没有响应，这次申请没有提交。请稍后再发一次，或在飞书审批中提交：",
                    "Feishu Approval is not answering; nothing was submitted. Send it again later, or apply in Feishu Approval:",
                ),
                msg,
            ),
        };
        let body = format!("{lead}\n> {msg}");
        self.answer(
            turn,
            &replies::notice(lang, "没能提交", "Not submitted", &body),
        )
        .await?;
        Ok(format!("answered: not submitted ({refusal:?})"))
    }

    pub(super) async fn not_set_up(
        &self,
        turn: &mut Turn<'_>,
        kind: Kind,
    ) -> Result<String, ChatError> {
        let lang = turn.lang;
        let body = match kind {
            Kind::Leave => t(
                lang,
                "管理员还没有开启聊天请假（CHAT_LEAVE_APPROVAL_CODE 未设置）。请在飞书审批中提交请假。",
                "Applying by chat is not set up (CHAT_LEAVE_APPROVAL_CODE is not set): apply in Feishu Approval.",
            ),
            Kind::Overtime => t(
                lang,
                "管理员还没有开启聊天申请加班（CHAT_OVERTIME_APPROVAL_CODE 未设置）。请在飞书审批中提交加班。",
                "Applying for overtime by chat is not set up (CHAT_OVERTIME_APPROVAL_CODE is not set): apply in Feishu Approval.",
            ),
        };
        self.answer(turn, &replies::notice(lang, "未开启", "Not set up", &body))
            .await?;
        Ok("answered: applying by chat is not set up".into())
    }

    fn build_form(
        &self,
        leave_type: Option<&ChatLeaveType>,
        period: &Period,
        span: &form::Span,
        reason: &str,
    ) -> Result<String, form::NoSuchTime> {
        let tz = &self.zone.tz;
        match leave_type {
            Some(lt) => form::native(lt, period, reason, tz),
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

    /// The instance's code: the one recorded, or a new one; `Ok(Err(_))` when Feishu
    /// refused it in a way retrying would not change.
    async fn create(
        &self,
        turn: &mut Turn<'_>,
        chat_form: &ChatForm,
        form: String,
    ) -> Result<Result<String, Refusal>, ChatError> {
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
            Err(e) => match refusal(&e, turn.delivery) {
                // Before saying "not submitted" after errors that may have hidden a
                // success, ask Feishu for the uuid's instance.
                Some(r @ Refusal::Unavailable(_)) => match turn.feishu.get_instance(&uuid).await {
                    Ok(found) => found.instance_code,
                    Err(_) => return Ok(Err(r)),
                },
                Some(r) => return Ok(Err(r)),
                None => {
                    return Err(ChatError::Feishu {
                        step: "instance",
                        source: e,
                    });
                }
            },
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

/// What to apply for, however it was asked (a message or the form card).
pub(super) struct Request {
    pub kind: Kind,
    pub period: Period,
    pub type_name: String,
    /// Set for a native leave form.
    pub leave_type: Option<ChatLeaveType>,
    pub reason: String,
}

/// Why no instance was created, when retrying would not change it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The form is invalid for this leave: the employee can change it.
    Form(String),
    /// The bot's definition or settings: only an admin can fix it.
    Setup(String),
    /// Feishu kept failing; the employee is asked to try again later.
    Unavailable(String),
}

/// Deliveries after which a transient failure is answered instead of retried: the
/// employee is waiting in the chat.
const GIVE_UP_AFTER: u32 = 3;

/// Classifies a create error (doc "创建审批实例" error table, reference 7.2; the FAQ of
/// "审批实例表单控件参数": 「返回 60006、1390001 之类的错误码，并提示"控件值不合法或者为空。
/// 控件=xxx"」). A message naming a widget (`控件=`) is the form's setup, not the leave.
fn refusal(e: &FeishuError, delivery: u32) -> Option<Refusal> {
    let msg = e.msg().to_owned();
    match e.code() {
        Some(1390001 | 60006) if msg.contains("控件=") => Some(Refusal::Setup(msg)),
        Some(1390001 | 60006 | 60001 | 1390004) => Some(Refusal::Form(msg)),
        // Definition not found / no permission / free process / inactive / deleted, a
        // missing scope.
        Some(1390002 | 1390009 | 1390013 | 1390015 | 1390016 | 99991672 | 99991679) => {
            Some(Refusal::Setup(msg))
        }
        _ if e.is_retryable() && delivery >= GIVE_UP_AFTER => Some(Refusal::Unavailable(msg)),
        _ => None,
    }
}
