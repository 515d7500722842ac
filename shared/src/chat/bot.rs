//! The bot's entry point: one chat message, handled once. The message is claimed in the
//! ledger (`ledger/chat.rs`), each Feishu write is recorded under the lease as soon as it
//! is confirmed, and both writes carry a `uuid` derived from the message, so a redelivery
//! or a crash between a write and its record creates no second instance and no second
//! answer.

use jiff::Timestamp;

use super::command::{self, Command, Kind, Lang, Parsed};
use super::replies;
use crate::config::{ChatConfig, CustomFormConfig};
use crate::event::ChatMessage;
use crate::feishu::{FeishuClient, FeishuError};
use crate::ledger::chat::{ChatClaim, ChatRecord};
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
            Command::Apply(application) => {
                return match application.kind {
                    Kind::Leave => self.apply_leave(turn, application).await,
                    Kind::Overtime => self.apply_overtime(turn, application).await,
                };
            }
            Command::Help => (replies::help(lang, false), "answered: help"),
            Command::Unknown => (replies::help(lang, true), "answered: help (not understood)"),
            Command::Invalid { problem, .. } => (
                replies::problem(lang, &problem),
                "answered: could not read the request",
            ),
            Command::Withdraw { instance_code } => return self.withdraw(turn, instance_code).await,
            Command::MyLeave => return self.my_leave(turn).await,
            Command::WhoIsOut { first, last } => return self.who_is_out(turn, first, last).await,
            Command::Form(Kind::Leave) => return self.send_form(turn).await,
            // Overtime needs a time of day, which the form card's date pickers do not
            // give: the answer shows the one-message form instead.
            Command::Form(Kind::Overtime) if self.config.overtime.is_none() => {
                return self.not_set_up(turn, Kind::Overtime).await;
            }
            Command::Form(Kind::Overtime) => (
                replies::overtime_how(lang),
                "answered: how to apply for overtime",
            ),
        };
        self.answer(turn, &card).await?;
        Ok(outcome.into())
    }
}
