//! `撤回` / `withdraw [instance code]`: withdraws a pending application the bot created
//! for the sender, through the approval cancel API (reference 7.4). Only pending ones: an
//! approved instance would go back to review, which is the approver's business, not a
//! chat command's. Where the definition's admin does not allow withdrawing, Feishu refuses
//! and the employee is told where that is set.

use super::bot::{ChatBot, ChatError, Turn};
use super::replies::t;
use super::replies::{self, Stage};
use crate::event::{ApprovalStatus, InstanceRef};
use crate::ledger::chat::{AppliedLeave, ChatStep};

/// How many of the sender's recent applications are looked at for a pending one.
const LOOK_AT: usize = 10;

impl ChatBot {
    pub(super) async fn withdraw(
        &self,
        turn: &mut Turn<'_>,
        code: Option<String>,
    ) -> Result<String, ChatError> {
        let lang = turn.lang;
        let Some((app, status)) = self.withdrawable(turn, code).await? else {
            let body = t(
                lang,
                "没有找到可以撤回的申请：只能撤回在这里提交、仍在审批中的申请。其他申请请在飞书审批中撤回。",
                "Nothing to withdraw: only applications made here that are still pending can be withdrawn by chat. Withdraw others in Feishu Approval.",
            );
            self.answer(
                turn,
                &replies::info(lang, "没有可撤回的申请", "Nothing to withdraw", &body),
            )
            .await?;
            return Ok("answered: nothing pending to withdraw".into());
        };
        if status == ApprovalStatus::Pending
            && let Err(e) = turn
                .feishu
                .cancel_instance(&app.approval_code, &app.instance_code, &app.open_id)
                .await
        {
            if e.is_retryable() {
                return Err(ChatError::Feishu {
                    step: "withdraw",
                    source: e,
                });
            }
            return self.not_allowed(turn, e.msg()).await;
        }
        let instance = InstanceRef {
            tenant_key: turn.message.tenant_key.clone(),
            approval_code: app.approval_code.clone(),
            instance_code: app.instance_code.clone(),
        };
        let feishu = turn.feishu.clone();
        self.follow_with(&feishu, &instance, Stage::Withdrawn).await;
        let body = format!("{} {}", t(lang, "已撤回：", "Withdrawn:"), app.period);
        self.answer(turn, &replies::info(lang, "已撤回", "Withdrawn", &body))
            .await?;
        Ok(format!("withdrew instance {}", app.instance_code))
    }

    async fn not_allowed(&self, turn: &mut Turn<'_>, says: &str) -> Result<String, ChatError> {
        let lang = turn.lang;
        let body = format!(
            "{}\n> {says}",
            t(
                lang,
                "飞书审批没有允许撤回（审批管理员可在审批设置中开启“允许撤销审批中的申请”）。请在飞书审批中处理：",
                "Feishu Approval did not allow it (the approval's admin can switch on withdrawing pending requests in the approval's settings). Handle it in Feishu Approval:",
            ),
        );
        self.answer(
            turn,
            &replies::notice(lang, "没能撤回", "Not withdrawn", &body),
        )
        .await?;
        Ok(format!("answered: Feishu refused the withdrawal ({says})"))
    }

    /// The application to withdraw and its status: the one named, or the sender's newest
    /// pending one. One this message already withdrew (a redelivery) comes back as is.
    async fn withdrawable(
        &self,
        turn: &mut Turn<'_>,
        code: Option<String>,
    ) -> Result<Option<(AppliedLeave, ApprovalStatus)>, ChatError> {
        let m = turn.message;
        let Some(open_id) = m.sender.open_id.clone() else {
            return Ok(None);
        };
        let earlier = turn.record.instance_code.clone();
        let candidates = match (earlier.clone(), code) {
            (Some(c), _) | (None, Some(c)) => vec![c],
            (None, None) => {
                self.ledger
                    .recent_applications(&m.tenant_key, &open_id)
                    .await?
            }
        };
        for c in candidates.into_iter().take(LOOK_AT) {
            let Some(app) = self.ledger.application(&m.tenant_key, &c).await? else {
                continue;
            };
            if app.open_id != open_id {
                continue;
            }
            let detail =
                turn.feishu
                    .get_instance(&c)
                    .await
                    .map_err(|source| ChatError::Feishu {
                        step: "instance",
                        source,
                    })?;
            let done_by_us =
                earlier.as_deref() == Some(c.as_str()) && detail.status == ApprovalStatus::Canceled;
            if detail.status == ApprovalStatus::Pending || done_by_us {
                self.ledger
                    .record_chat(
                        &m.tenant_key,
                        &m.message_id,
                        &turn.lease,
                        &ChatStep::Instance(c),
                    )
                    .await?;
                return Ok(Some((app, detail.status)));
            }
        }
        Ok(None)
    }
}
