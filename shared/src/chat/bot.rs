//! The bot's entry point: one chat message, handled once. The message is claimed in the
//! ledger (`ledger/chat.rs`), each Feishu write is recorded under the lease as soon as it
//! is confirmed, and both writes carry a `uuid` derived from the message, so a redelivery
//! or a crash between a write and its record creates no second instance and no second
//! answer.

use jiff::Timestamp;
use serde_json::Value;
use tracing::warn;

use super::command::{self, Command, Kind, Lang, Parsed};
use super::replies;
use crate::config::{ChatConfig, CustomFormConfig};
use crate::event::ChatMessage;
use crate::feishu::im::{OutgoingMessage, ReceiveIdType, Reply};
use crate::feishu::{FeishuClient, FeishuError};
use crate::ledger::chat::{ChatClaim, ChatRecord, ChatStep};
use crate::ledger::{Lease, Ledger, LedgerError};
use crate::sync::mapping::TenantZone;
use crate::workflow::{Attempt, Verdict};

/// Reply errors after which there is nobody to answer (doc "回复消息", reference 4.8,
/// 7.5): bot not in the group, recalled, invisible, self-destructing, no permission to
/// send, outside the availability range, chat dissolved, the user stopped the bot.
const REPLY_IMPOSSIBLE: [i64; 9] = [
    230002, 230011, 230013, 230018, 230035, 230050, 230053, 230111, 232009,
];
/// The submitted card can no longer be updated: too old (230031), recalled (230011),
/// deleted (230110).
const CARD_GONE: [i64; 3] = [230031, 230011, 230110];
/// "The message is being sent": a concurrent request with the same uuid; try again.
const REPLY_IN_FLIGHT: i64 = 230049;

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
    /// How many times SQS has delivered the message (1 the first time).
    pub delivery: u32,
    /// The day the message was written, in the tenant's zone.
    pub today: jiff::civil::Date,
    /// Answer by replacing this card (the form card that was submitted), not by a reply.
    pub update_card: Option<String>,
}

/// What a claimed message asks for.
pub(super) enum Job {
    Command(Command),
    /// The leave form card's submit: what it asks for, or why it cannot be read.
    Form {
        card_message_id: String,
        request: Result<super::apply::Request, String>,
    },
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
        let written = message
            .create_time_ms
            .and_then(|ms| Timestamp::from_millisecond(ms).ok())
            .unwrap_or(now);
        let today = written.to_zoned(self.zone.tz.clone()).date();
        let Parsed { lang, command } = match &message.text {
            Some(text) => command::parse(text, today),
            // A picture or a file: the help card says what the bot reads.
            None => Parsed {
                lang: Lang::Zh,
                command: Command::Unknown,
            },
        };
        self.run(message, lang, today, Job::Command(command), attempt)
            .await
    }

    /// Claims `message`, does `job` under the lease, and marks it handled.
    pub(super) async fn run(
        &self,
        message: &ChatMessage,
        lang: Lang,
        today: jiff::civil::Date,
        job: Job,
        attempt: &Attempt,
    ) -> Result<String, ChatError> {
        let lease = attempt.lease();
        let record = match self.claim(message, &lease, Timestamp::now()).await? {
            Ok(record) => record,
            Err(done) => return Ok(done),
        };
        let mut turn = Turn {
            message,
            lang,
            record,
            lease,
            feishu: self.feishu.until(attempt.deadline.instant),
            delivery: attempt.delivery,
            today,
            update_card: match &job {
                Job::Form {
                    card_message_id, ..
                } => Some(card_message_id.clone()),
                Job::Command(_) => None,
            },
        };
        let done = match job {
            Job::Command(command) => self.act(&mut turn, command).await,
            Job::Form { request, .. } => self.submit_form(&mut turn, request).await,
        };
        let outcome = match done {
            Ok(outcome) => outcome,
            Err(e) => {
                // Best effort: a lease that stays runs out at the invocation's end anyway.
                let _ = (self.ledger)
                    .release_chat(&message.tenant_key, &message.message_id, &turn.lease)
                    .await;
                return Err(e);
            }
        };
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

    /// The message's record, or `Err(outcome)` when it was answered already.
    async fn claim(
        &self,
        message: &ChatMessage,
        lease: &Lease,
        now: Timestamp,
    ) -> Result<Result<ChatRecord, String>, ChatError> {
        let claim = (self.ledger)
            .claim_chat(&message.tenant_key, &message.message_id, lease, now)
            .await?;
        match claim {
            ChatClaim::Acquired(record) => Ok(Ok(record)),
            ChatClaim::Refused(r) if r.done => Ok(Err(format!(
                "duplicate: already answered ({})",
                r.outcome.unwrap_or_default()
            ))),
            ChatClaim::Refused(_) => Err(ChatError::Busy),
        }
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
            Command::Withdraw { instance_code } => return self.withdraw(turn, instance_code).await,
            Command::MyLeave => return self.my_leave(turn).await,
            Command::Form(Kind::Leave) => return self.send_form(turn).await,
            // Issue 13, still open: overtime.
            Command::Form(Kind::Overtime) | Command::Apply(_) => (
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

    /// Answers by replacing the submitted form card. It can be submitted for 30 days but
    /// updated for 14, and may be recalled or deleted (reference 7.5): then in a new
    /// message to the sender instead.
    async fn answer_on_card(
        &self,
        turn: &mut Turn<'_>,
        card_id: &str,
        card: &Value,
    ) -> Result<(), ChatError> {
        let m = turn.message;
        let answered = match turn.feishu.update_card(card_id, card).await {
            Ok(()) => card_id.to_owned(),
            Err(e) if e.code().is_some_and(|c| CARD_GONE.contains(&c)) => {
                let Some(open_id) = m.sender.open_id.clone() else {
                    return Ok(());
                };
                let uuid = replies::uuid_for(&m.tenant_key, &m.message_id, "reply");
                let message = OutgoingMessage::card(open_id, card, Some(uuid));
                (turn.feishu)
                    .send_message(ReceiveIdType::OpenId, &message)
                    .await
                    .map_err(|source| ChatError::Feishu {
                        step: "message",
                        source,
                    })?
                    .message_id
            }
            Err(source) => {
                return Err(ChatError::Feishu {
                    step: "card update",
                    source,
                });
            }
        };
        let step = ChatStep::Reply(answered.clone());
        (self.ledger)
            .record_chat(&m.tenant_key, &m.message_id, &turn.lease, &step)
            .await?;
        turn.record.reply_message_id = Some(answered);
        Ok(())
    }

    /// 我的假期: the sender's leave ending 30 days ago or later, from the `by_user` index.
    async fn my_leave(&self, turn: &mut Turn<'_>) -> Result<String, ChatError> {
        let m = turn.message;
        let since = (turn.today)
            .checked_sub(jiff::Span::new().days(30))
            .unwrap_or(turn.today);
        let leaves = match &m.sender.open_id {
            Some(open_id) => self.ledger.leave_of(&m.tenant_key, open_id, since).await?,
            None => Vec::new(),
        };
        let card = replies::my_leave(turn.lang, &leaves);
        self.answer(turn, &card).await?;
        Ok(format!("answered: my leave ({} listed)", leaves.len()))
    }

    /// Replies to the message once: the reply's uuid makes a resend within Feishu's hour a
    /// no-op, the ledger makes a later one never happen.
    pub(super) async fn answer(&self, turn: &mut Turn<'_>, card: &Value) -> Result<(), ChatError> {
        if turn.record.reply_message_id.is_some() {
            return Ok(());
        }
        let m = turn.message;
        if let Some(card_id) = turn.update_card.clone() {
            return self.answer_on_card(turn, &card_id, card).await;
        }
        let reply = Reply {
            msg_type: "interactive".into(),
            content: card.to_string(),
            reply_in_thread: false,
            uuid: Some(replies::uuid_for(&m.tenant_key, &m.message_id, "reply")),
        };
        let sent = match turn.feishu.reply_message(&m.message_id, &reply).await {
            Ok(sent) => sent,
            Err(e) if e.code().is_some_and(|c| REPLY_IMPOSSIBLE.contains(&c)) => {
                // Nobody to answer any more: retrying cannot help, and whatever was
                // created stays recorded.
                warn!(code = e.code(), error = %e, "chat: the message can no longer be answered");
                return Ok(());
            }
            Err(e) if e.code() == Some(REPLY_IN_FLIGHT) => {
                return Err(ChatError::Busy);
            }
            Err(source) => {
                return Err(ChatError::Feishu {
                    step: "reply",
                    source,
                });
            }
        };
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
