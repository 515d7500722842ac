//! One item per chat message the bot acts on (`chat#<tenant>#<message_id>`): Feishu keeps
//! a message's id across redeliveries, so this item is what makes "one instance, one
//! reply" hold however often the message arrives.
//!
//! ```text
//!            claim (absent, or working with its lease run out)
//!   (absent) ───────────────▶ working ──record instance / reply──▶ working ──finish──▶ done
//! ```
//!
//! The same rule as instance items: a claim succeeds only where the item is absent or
//! abandoned (no live lease), each step's result is written only by the lease holder, and
//! a refused claim returns what it saw. The state lives in `chat_state`, not `state`, so
//! chat items stay out of the `by_state` index the reconciler reads; they expire after
//! [`CHAT_ITEM_DAYS`] (TTL), instance items never do.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use jiff::{SignedDuration, Timestamp};

use super::item::{Item, PARTITION_KEY, n, s};
use super::store::Conditional;
use super::{Lease, Ledger, LedgerError};

/// How long a chat item is kept: longer than Feishu's retries (~7 h) and SQS's retention
/// (4 days), so no redelivery can outlive it.
pub const CHAT_ITEM_DAYS: i64 = 7;

const CLAIM: &str = "attribute_not_exists(pk) \
     OR (chat_state = :working AND (attribute_not_exists(lease_until) OR lease_until < :now))";
const HOLDS_LEASE: &str = "lease_owner = :owner";

/// A chat message's item, as far as the bot got with it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatRecord {
    pub done: bool,
    /// The approval instance the message created.
    pub instance_code: Option<String>,
    /// The bot's answer.
    pub reply_message_id: Option<String>,
    /// What the bot concluded, in a few words (for the log and `leave-sync ledger`).
    pub outcome: Option<String>,
}

#[derive(Debug)]
pub enum ChatClaim {
    Acquired(ChatRecord),
    /// Done already, or another attempt holds it.
    Refused(ChatRecord),
}

/// A step's result, recorded under the lease.
#[derive(Debug, Clone)]
pub enum ChatStep {
    Instance(String),
    Reply(String),
}

fn key(tenant_key: &str, message_id: &str) -> String {
    format!("chat#{tenant_key}#{message_id}")
}

fn parse(item: &Item) -> ChatRecord {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
    ChatRecord {
        done: text("chat_state").as_deref() == Some("done"),
        instance_code: text("instance_code"),
        reply_message_id: text("reply_message_id"),
        outcome: text("outcome"),
    }
}

impl Ledger {
    /// Takes a chat message for this attempt.
    pub async fn claim_chat(
        &self,
        tenant_key: &str,
        message_id: &str,
        lease: &Lease,
        now: Timestamp,
    ) -> Result<ChatClaim, LedgerError> {
        let expires = now
            .checked_add(SignedDuration::from_hours(24 * CHAT_ITEM_DAYS))
            .unwrap_or(now);
        let values = HashMap::from([
            (":working".to_owned(), s("working")),
            (":now".to_owned(), n(now.as_millisecond())),
            (":owner".to_owned(), s(&lease.owner)),
            (":until".to_owned(), n(lease.until.as_millisecond())),
            (":message".to_owned(), s(message_id)),
            (":at".to_owned(), s(now.to_string())),
            (":expires".to_owned(), n(expires.as_second())),
        ]);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key(tenant_key, message_id)))
            .update_expression(
                "SET chat_state = :working, lease_owner = :owner, lease_until = :until, \
                 message_id = :message, created_at = if_not_exists(created_at, :at), \
                 updated_at = :at, expires_at = :expires",
            )
            .condition_expression(CLAIM)
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(ChatClaim::Acquired(parse(
                &out.attributes.unwrap_or_default(),
            ))),
            Err(e) => match e.as_service_error().and_then(Conditional::refused) {
                Some(Some(item)) if !item.is_empty() => Ok(ChatClaim::Refused(parse(item))),
                // Refused, but the store did not say what it saw: read it.
                Some(_) => Ok(ChatClaim::Refused(
                    self.read_chat(tenant_key, message_id)
                        .await?
                        .unwrap_or_default(),
                )),
                None => Err(self.unavailable("UpdateItem", e)),
            },
        }
    }

    /// A chat message's item, if the bot has seen the message.
    pub async fn read_chat(
        &self,
        tenant_key: &str,
        message_id: &str,
    ) -> Result<Option<ChatRecord>, LedgerError> {
        let item = self.read_key(key(tenant_key, message_id)).await?;
        Ok(item.as_ref().map(parse))
    }

    /// Records a step's result while holding the lease.
    pub async fn record_chat(
        &self,
        tenant_key: &str,
        message_id: &str,
        lease: &Lease,
        step: &ChatStep,
    ) -> Result<(), LedgerError> {
        let (attribute, value) = match step {
            ChatStep::Instance(code) => ("instance_code", code),
            ChatStep::Reply(id) => ("reply_message_id", id),
        };
        self.chat_update(
            tenant_key,
            message_id,
            lease,
            &format!("SET {attribute} = :v"),
            HashMap::from([(":v".to_owned(), s(value))]),
        )
        .await
    }

    /// Marks the message handled, with what came of it, and releases the lease.
    pub async fn finish_chat(
        &self,
        tenant_key: &str,
        message_id: &str,
        lease: &Lease,
        outcome: &str,
        now: Timestamp,
    ) -> Result<(), LedgerError> {
        self.chat_update(
            tenant_key,
            message_id,
            lease,
            "SET chat_state = :done, outcome = :outcome, updated_at = :at \
             REMOVE lease_owner, lease_until",
            HashMap::from([
                (":done".to_owned(), s("done")),
                (":outcome".to_owned(), s(outcome)),
                (":at".to_owned(), s(now.to_string())),
            ]),
        )
        .await
    }

    /// Gives the lease back after a retryable failure, so the next delivery need not wait
    /// for it to run out.
    pub async fn release_chat(
        &self,
        tenant_key: &str,
        message_id: &str,
        lease: &Lease,
    ) -> Result<(), LedgerError> {
        self.chat_update(
            tenant_key,
            message_id,
            lease,
            "REMOVE lease_owner, lease_until",
            HashMap::new(),
        )
        .await
    }

    async fn chat_update(
        &self,
        tenant_key: &str,
        message_id: &str,
        lease: &Lease,
        update: &str,
        mut values: Item,
    ) -> Result<(), LedgerError> {
        values.insert(":owner".to_owned(), s(&lease.owner));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key(tenant_key, message_id)))
            .update_expression(update)
            .condition_expression(HOLDS_LEASE)
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .and_then(Conditional::refused)
                    .is_some() =>
            {
                Err(LedgerError::LostLease {
                    instance_code: format!("chat message {message_id}"),
                })
            }
            Err(e) => Err(self.unavailable("UpdateItem", e)),
        }
    }
}

/// How long what the bot applied for is kept: a sent card can be updated for 14 days
/// (reference 7.5); an approval rarely takes longer than this.
pub const APPLICATION_DAYS: i64 = 30;

/// What the bot applied for (`chatapp#<tenant>#<instance_code>`), kept so that its reply
/// card can follow the approval and the employee can withdraw it by chat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppliedLeave {
    pub instance_code: String,
    pub approval_code: String,
    pub open_id: String,
    pub reply_message_id: String,
    /// `zh` or `en`: the language the employee wrote in.
    pub lang: String,
    pub type_name: String,
    pub period: String,
    pub days: String,
    pub reason: String,
    /// Set for overtime, which is counted in hours: its length.
    pub hours: Option<String>,
}

fn application_key(tenant_key: &str, instance_code: &str) -> String {
    format!("chatapp#{tenant_key}#{instance_code}")
}

fn user_key(tenant_key: &str, open_id: &str) -> String {
    format!("chatuser#{tenant_key}#{open_id}")
}

impl AppliedLeave {
    fn to_item(&self, tenant_key: &str, expires: i64) -> Item {
        let mut item = HashMap::from([
            (
                PARTITION_KEY.to_owned(),
                s(application_key(tenant_key, &self.instance_code)),
            ),
            ("instance_code".to_owned(), s(&self.instance_code)),
            ("approval_code".to_owned(), s(&self.approval_code)),
            ("open_id".to_owned(), s(&self.open_id)),
            ("reply_message_id".to_owned(), s(&self.reply_message_id)),
            ("lang".to_owned(), s(&self.lang)),
            ("type_name".to_owned(), s(&self.type_name)),
            ("period".to_owned(), s(&self.period)),
            ("days".to_owned(), s(&self.days)),
            ("reason".to_owned(), s(&self.reason)),
            ("expires_at".to_owned(), n(expires)),
        ]);
        if let Some(hours) = &self.hours {
            item.insert("hours".to_owned(), s(hours));
        }
        item
    }

    fn from_item(item: &Item) -> Option<Self> {
        let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok()).cloned();
        Some(Self {
            instance_code: text("instance_code")?,
            approval_code: text("approval_code")?,
            open_id: text("open_id")?,
            reply_message_id: text("reply_message_id")?,
            lang: text("lang").unwrap_or_default(),
            type_name: text("type_name").unwrap_or_default(),
            period: text("period").unwrap_or_default(),
            days: text("days").unwrap_or_default(),
            reason: text("reason").unwrap_or_default(),
            hours: text("hours"),
        })
    }
}

impl Ledger {
    /// Keeps what the bot applied for, and adds it to the employee's recent applications.
    /// Both writes can be repeated: the same item, and a list read newest first.
    pub async fn put_application(
        &self,
        tenant_key: &str,
        application: &AppliedLeave,
        now: Timestamp,
    ) -> Result<(), LedgerError> {
        let expires = now
            .checked_add(SignedDuration::from_hours(24 * APPLICATION_DAYS))
            .unwrap_or(now)
            .as_second();
        self.client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(application.to_item(tenant_key, expires)))
            .send()
            .await
            .map_err(|e| self.unavailable("PutItem", e))?;
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(user_key(tenant_key, &application.open_id)))
            .update_expression(
                "SET recent = list_append(if_not_exists(recent, :empty), :new), expires_at = :expires",
            )
            .expression_attribute_values(":empty", AttributeValue::L(Vec::new()))
            .expression_attribute_values(":new", AttributeValue::L(vec![s(&application.instance_code)]))
            .expression_attribute_values(":expires", n(expires))
            .send()
            .await
            .map_err(|e| self.unavailable("UpdateItem", e))?;
        Ok(())
    }

    pub async fn application(
        &self,
        tenant_key: &str,
        instance_code: &str,
    ) -> Result<Option<AppliedLeave>, LedgerError> {
        let item = self
            .read_key(application_key(tenant_key, instance_code))
            .await?;
        Ok(item.as_ref().and_then(AppliedLeave::from_item))
    }

    /// The instances the bot created for an employee, newest first, each once.
    pub async fn recent_applications(
        &self,
        tenant_key: &str,
        open_id: &str,
    ) -> Result<Vec<String>, LedgerError> {
        let item = self.read_key(user_key(tenant_key, open_id)).await?;
        let mut codes: Vec<String> = item
            .and_then(|i| i.get("recent").and_then(|v| v.as_l().ok()).cloned())
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_s().ok().cloned())
            .collect();
        codes.reverse();
        let mut seen = std::collections::HashSet::new();
        codes.retain(|c| seen.insert(c.clone()));
        Ok(codes)
    }
}
