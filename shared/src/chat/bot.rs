//! The bot's entry point: one chat message, handled once. The message is claimed in the
//! ledger (`ledger/chat.rs`), each Feishu write is recorded under the lease as soon as it
//! is confirmed, and both writes carry a `uuid` derived from the message, so a redelivery
//! or a crash between a write and its record creates no second instance and no second
//! answer.

use jiff::Timestamp;
use serde_json::Value;

use super::command::{self, Command, Kind, Lang, Parsed};
use super::replies;
use crate::config::{ChatConfig, CustomFormConfig};
use crate::event::ChatMessage;
use crate::feishu::im::Reply;
use crate::feishu::{FeishuClient, FeishuError};
use crate::ledger::chat::{ChatClaim, ChatRecord, ChatStep};
use crate::ledger::{Lease, Ledger, LedgerError};
use crate::sync::mapping::TenantZone;
use crate::workflow::{Attempt, Verdict};

pub struct ChatBot {
    pub(super) feishu: FeishuClient,
    pub(super) ledger: Ledger,
    pub(super) zone: TenantZone,
    pub(super) config: ChatConfig,
    pub(super) forms: CustomFormConfig,
}

#[derive(Debug, thiserror::Error)]
pub enum ChatError {
    #[error("{step}: {source}")]
    Feishu {
        step: &'static str,
        #[source]
        source: FeishuError,
    },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("another attempt is answering this message")]
    Busy,
}

impl From<Result<String, ChatError>> for Verdict {
    fn from(result: Result<String, ChatError>) -> Self {
        let retryable = |e: &ChatError| match e {
            ChatError::Feishu { source, .. } => source.is_retryable(),
            ChatError::Ledger(e) => e.is_retryable(),
            ChatError::Busy => true,
        };
        match result {
            Ok(outcome) => Verdict::Done { outcome },
            Err(e) if retryable(&e) => Verdict::Retry {
                after: match &e {
                    ChatError::Feishu { source, .. } => source.retry_after(),
                    _ => None,
                },
                reason: crate::error_chain(&e),
            },
            Err(e) => Verdict::DeadLetter {
                reason: crate::error_chain(&e),
            },
        }
    }
}

/// One message being handled: who wrote, what they asked, and the lease it is held under.
pub(super) struct Turn<'a> {
    pub message: &'a ChatMessage,
    pub lang: Lang,
    pub record: ChatRecord,
    pub lease: Lease,
    pub feishu: FeishuClient,
}

impl ChatBot {
    pub fn new(
        feishu: FeishuClient,
        ledger: Ledger,
        zone: TenantZone,
        config: ChatConfig,
        forms: CustomFormConfig,
    ) -> Self {
        Self {
            feishu,
            ledger,
            zone,
            config,
            forms,
        }
    }

    /// Handles one message; the answer says what came of it (for the log).
    pub async fn handle(
        &self,
        message: &ChatMessage,
        attempt: &Attempt,
    ) -> Result<String, ChatError> {
        if message.chat_type != "p2p" && !message.mentions_someone {
            return Ok("ignored: a group message that does not @mention the bot".into());
        }
        let now = Timestamp::now();
        let today = now.to_zoned(self.zone.tz.clone()).date();
        let Parsed { lang, command } = match &message.text {
            Some(text) => command::parse(text, today),
            // A picture or a file: the help card says what the bot reads.
            None => Parsed {
                lang: Lang::Zh,
                command: Command::Unknown,
            },
        };
        let lease = attempt.lease();
        let record = match self
            .ledger
            .claim_chat(&message.tenant_key, &message.message_id, &lease, now)
            .await?
        {
            ChatClaim::Acquired(record) => record,
            ChatClaim::Refused(r) if r.done => {
                return Ok(format!(
                    "duplicate: already answered ({})",
                    r.outcome.unwrap_or_default()
                ));
            }
            ChatClaim::Refused(_) => return Err(ChatError::Busy),
        };
        let mut turn = Turn {
            message,
            lang,
            record,
            lease,
            feishu: self.feishu.until(attempt.deadline.instant),
        };
        let outcome = self.act(&mut turn, command).await?;
        self.ledger
            .finish_chat(
                &message.tenant_key,
                &message.message_id,
                &turn.lease,
                &outcome,
                Timestamp::now(),
            )
            .await?;
        Ok(outcome)
    }

    async fn act(&self, turn: &mut Turn<'_>, command: Command) -> Result<String, ChatError> {
        let lang = turn.lang;
        let (card, outcome) = match command {
            Command::Apply(application) if application.kind == Kind::Leave => {
                return self.apply_leave(turn, application).await;
            }
            Command::Help => (replies::help(lang, false), "answered: help"),
            Command::Unknown => (replies::help(lang, true), "answered: help (not understood)"),
            Command::Invalid { problem, .. } => (
                replies::problem(lang, &problem),
                "answered: could not read the request",
            ),
            // Issue 13, still open: the form card, overtime, my leave and withdraw.
            Command::Form(_) | Command::Apply(_) | Command::MyLeave | Command::Withdraw { .. } => (
                replies::notice(
                    lang,
                    "暂不支持",
                    "Not available yet",
                    &match lang {
                        Lang::Zh => "这个功能还在开发中。现在可以用一条消息请假：".to_owned(),
                        Lang::En => {
                            "This is not available yet. You can apply for leave with one message:"
                                .to_owned()
                        }
                    },
                ),
                "answered: not available yet",
            ),
        };
        self.answer(turn, &card).await?;
        Ok(outcome.into())
    }

    /// Replies to the message once: the reply's uuid makes a resend within Feishu's hour a
    /// no-op, the ledger makes a later one never happen.
    pub(super) async fn answer(&self, turn: &mut Turn<'_>, card: &Value) -> Result<(), ChatError> {
        if turn.record.reply_message_id.is_some() {
            return Ok(());
        }
        let m = turn.message;
        let reply = Reply {
            msg_type: "interactive".into(),
            content: card.to_string(),
            reply_in_thread: false,
            uuid: Some(replies::uuid_for(&m.tenant_key, &m.message_id, "reply")),
        };
        let sent = turn
            .feishu
            .reply_message(&m.message_id, &reply)
            .await
            .map_err(|source| ChatError::Feishu {
                step: "reply",
                source,
            })?;
        self.ledger
            .record_chat(
                &m.tenant_key,
                &m.message_id,
                &turn.lease,
                &ChatStep::Reply(sent.message_id.clone()),
            )
            .await?;
        turn.record.reply_message_id = Some(sent.message_id);
        Ok(())
    }
}
