//! The reply card follows the approval: when an instance the bot created is synced or
//! revoked, or the employee withdraws it, its card is replaced in place (doc "更新已发送的
//! 消息卡片", reference 7.5), so the chat shows where the application stands.

use tracing::{info, warn};

use super::bot::{ChatBot, ChatError};
use super::replies::{self, Stage};
use crate::event::InstanceRef;
use crate::feishu::FeishuClient;
use crate::workflow::Attempt;

impl ChatBot {
    /// Best effort: the sync's own card has told the employee already, so a card that
    /// cannot be updated (older than 14 days, recalled) is logged, not retried.
    pub async fn follow(&self, instance: &InstanceRef, stage: Stage, attempt: &Attempt) {
        let feishu = self.feishu.until(attempt.deadline.instant);
        self.follow_with(&feishu, instance, stage).await;
    }

    pub(super) async fn follow_with(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        stage: Stage,
    ) {
        match self.update_application_card(feishu, instance, stage).await {
            Ok(true) => info!(stage = ?stage, "chat: the application's card was updated"),
            Ok(false) => {}
            Err(e) => warn!(
                stage = ?stage,
                error = %crate::error_chain(&e),
                "chat: could not update the application's card"
            ),
        }
    }

    /// `Ok(false)` when the bot did not create this instance.
    async fn update_application_card(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        stage: Stage,
    ) -> Result<bool, ChatError> {
        // The bot only creates instances of its own definitions: others cost no read.
        let mut ours = [&self.config.leave, &self.config.overtime]
            .into_iter()
            .flatten()
            .map(|f| f.approval_code.as_str());
        if !ours.any(|code| code == instance.approval_code) {
            return Ok(false);
        }
        let Some(app) = self
            .ledger
            .application(&instance.tenant_key, &instance.instance_code)
            .await?
        else {
            return Ok(false);
        };
        if app.reply_message_id.is_empty() {
            return Ok(false);
        }
        feishu
            .update_card(
                &app.reply_message_id,
                &replies::application_card(&app, stage),
            )
            .await
            .map_err(|source| ChatError::Feishu {
                step: "card update",
                source,
            })?;
        Ok(true)
    }
}
