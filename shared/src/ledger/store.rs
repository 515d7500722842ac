//! The ledger's DynamoDB calls: each one is a rule of [`rules`](super::rules) with its
//! placeholders filled in by [`item`](super::item).

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue, ReturnValuesOnConditionCheckFailure};
use jiff::Timestamp;

use super::item::{self, Item, PARTITION_KEY, key_of, s};
use super::out_index::Listing;
use super::rules::{State, condition, update};
use super::{Claim, Lease, LedgerError, Notified, Record, StepResult, TimeoffResolution};
use crate::event::{InstanceRef, Leave};

#[derive(Debug, Clone)]
pub struct Ledger {
    pub(super) client: Client,
    pub(super) table: String,
}

/// How a conditional write ended.
enum Written<T> {
    Done(T),
    /// The condition failed; the item the refused write saw (`None`: there was none),
    /// caught whole.
    Refused(Option<Item>),
}

/// The errors of the write operations that can be refused by their condition.
pub(super) trait Conditional {
    /// `Some(the item returned with the refusal, if any)` when the condition failed.
    fn refused(&self) -> Option<Option<&Item>>;
}

impl Conditional for UpdateItemError {
    fn refused(&self) -> Option<Option<&Item>> {
        match self {
            Self::ConditionalCheckFailedException(c) => Some(c.item()),
            _ => None,
        }
    }
}

impl Conditional for PutItemError {
    fn refused(&self) -> Option<Option<&Item>> {
        match self {
            Self::ConditionalCheckFailedException(c) => Some(c.item()),
            _ => None,
        }
    }
}

impl Ledger {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    pub(super) fn unavailable<E>(
        &self,
        op: &'static str,
        e: SdkError<E, HttpResponse>,
    ) -> LedgerError
    where
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        LedgerError::Unavailable {
            op,
            table: self.table.clone(),
            detail: crate::aws::describe(&e),
        }
    }

    /// Takes the instance to sync `leave`. `retry_failed` lets a redriven event retry a
    /// permanent failure.
    pub async fn claim_sync(
        &self,
        instance: &InstanceRef,
        leave: &Leave,
        lease: &Lease,
        event_id: &str,
        retry_failed: bool,
    ) -> Result<Claim, LedgerError> {
        let (values, condition) = item::claim_sync_values(
            instance,
            leave,
            lease,
            event_id,
            retry_failed,
            Timestamp::now(),
        )?;
        match self
            .claim(instance, update::CLAIM_SYNC, condition, values)
            .await?
        {
            Written::Done(record) => Ok(Claim::Acquired(record)),
            Written::Refused(Some(current)) => Ok(Claim::Refused(item::parse(instance, current)?)),
            // Refused, yet no item: it was deleted in between. Try again.
            Written::Refused(None) => Err(contended(instance)),
        }
    }

    /// Takes the instance to undo what was synced, or leaves a tombstone when the approval
    /// has not been seen (yet).
    pub async fn claim_revoke(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        event_id: &str,
    ) -> Result<Claim, LedgerError> {
        let now = Timestamp::now();
        let values = item::claim_revoke_values(lease, event_id, now);
        match self
            .claim(
                instance,
                update::CLAIM_REVOKE,
                condition::START_REVOKE,
                values,
            )
            .await?
        {
            Written::Done(record) => Ok(Claim::Acquired(record)),
            Written::Refused(Some(current)) => Ok(Claim::Refused(item::parse(instance, current)?)),
            Written::Refused(None) => self.tombstone(instance, event_id, now).await,
        }
    }

    /// A claim: the conditional update, returning the item as it is now (or as the refusal
    /// saw it).
    async fn claim(
        &self,
        instance: &InstanceRef,
        update: &str,
        condition: &str,
        values: Item,
    ) -> Result<Written<Record>, LedgerError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression(update)
            .condition_expression(condition)
            .set_expression_attribute_names(Some(item::state_name()))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match self.conditional(instance, "UpdateItem", result).await? {
            Written::Done(out) => Ok(Written::Done(item::parse(
                instance,
                out.attributes.unwrap_or_default(),
            )?)),
            Written::Refused(current) => Ok(Written::Refused(current)),
        }
    }

    async fn tombstone(
        &self,
        instance: &InstanceRef,
        event_id: &str,
        now: Timestamp,
    ) -> Result<Claim, LedgerError> {
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item::tombstone(instance, event_id, now)))
            .condition_expression(condition::TOMBSTONE)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match self.conditional(instance, "PutItem", result).await? {
            Written::Done(_) => Ok(Claim::Tombstoned),
            // The approval arrived in between: report what is there now.
            Written::Refused(Some(current)) => Ok(Claim::Refused(item::parse(instance, current)?)),
            Written::Refused(None) => Err(contended(instance)),
        }
    }

    /// Classifies a conditional write's result: done, refused (with the item it saw), or
    /// failed. The item comes from the refusal itself (ReturnValuesOnConditionCheckFailure)
    /// or, where the store did not return it, from a consistent read.
    async fn conditional<T, E>(
        &self,
        instance: &InstanceRef,
        op: &'static str,
        result: Result<T, SdkError<E, HttpResponse>>,
    ) -> Result<Written<T>, LedgerError>
    where
        E: Conditional + std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        let e = match result {
            Ok(out) => return Ok(Written::Done(out)),
            Err(e) => e,
        };
        let returned = match e.as_service_error().and_then(Conditional::refused) {
            Some(returned) => returned.cloned(),
            None => return Err(self.unavailable(op, e)),
        };
        let item = match returned {
            Some(item) if item::is_whole(&item) => Some(item),
            _ => self.read(instance).await?,
        };
        match item {
            None => Ok(Written::Refused(None)),
            Some(item) if !item::is_whole(&item) => Err(contended(instance)),
            Some(item) => Ok(Written::Refused(Some(item))),
        }
    }

    /// Records one step's result, only while holding the lease.
    pub async fn record(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        step: &StepResult,
    ) -> Result<(), LedgerError> {
        let (expression, attribute, values) = step_write(step);
        let names = attribute
            .map(|a| HashMap::from([("#attr".to_owned(), a.to_owned())]))
            .unwrap_or_default();
        if let StepResult::Timeoff { timeoff_event_id } = step {
            return self
                .record_timeoff(instance, lease, timeoff_event_id, values)
                .await;
        }
        self.leased_update(instance, lease, expression, names, values)
            .await
    }

    /// Appends a time-off id once: a refusal whose item already holds it under our lease
    /// was a replay of this very write, which took effect.
    async fn record_timeoff(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        id: &str,
        mut values: Item,
    ) -> Result<(), LedgerError> {
        values.insert(":owner".to_owned(), s(&lease.owner));
        values.insert(":now_iso".to_owned(), s(Timestamp::now().to_string()));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression(update::RECORD_TIMEOFF)
            .condition_expression(condition::RECORD_TIMEOFF)
            .set_expression_attribute_values(Some(values))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let lost = || LedgerError::LostLease {
            instance_code: instance.instance_code.clone(),
        };
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error().and_then(Conditional::refused) {
                Some(Some(seen)) => {
                    let current = item::parse(instance, seen.clone())?;
                    let ours = current.lease_owner.as_deref() == Some(lease.owner.as_str());
                    if ours && current.timeoff_event_ids.iter().any(|t| t == id) {
                        Ok(())
                    } else {
                        Err(lost())
                    }
                }
                Some(None) => Err(lost()),
                None => Err(self.unavailable("UpdateItem", e)),
            },
        }
    }

    /// Records an operator's word on a time-off create whose outcome was unknown, for the
    /// attempt they looked at (`seen`, the marker `leave-sync ledger` showed them).
    pub async fn resolve_timeoff(
        &self,
        instance: &InstanceRef,
        seen: &str,
        resolution: &TimeoffResolution,
    ) -> Result<(), LedgerError> {
        let mut values = HashMap::from([
            (":now_iso".to_owned(), s(Timestamp::now().to_string())),
            (":failed".to_owned(), s(State::Failed.as_str())),
            (":seen".to_owned(), s(seen)),
        ]);
        let expression = match resolution {
            TimeoffResolution::Missing => update::TIMEOFF_MISSING,
            TimeoffResolution::Exists {
                timeoff_event_id: Some(id),
            } => {
                values.extend(appended(id));
                update::TIMEOFF_EXISTS_WITH_ID
            }
            TimeoffResolution::Exists {
                timeoff_event_id: None,
            } => {
                values.insert(":one".to_owned(), item::n(1));
                update::TIMEOFF_EXISTS
            }
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression(expression)
            .condition_expression(condition::TIMEOFF_UNRESOLVED)
            .set_expression_attribute_names(Some(item::state_name()))
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
                Err(LedgerError::NothingToResolve {
                    instance_code: instance.instance_code.clone(),
                })
            }
            Err(e) => Err(self.unavailable("UpdateItem", e)),
        }
    }

    /// Notes an approved cancellation (销假) on the leave it cancels. Returns whether that
    /// leave is in the ledger (a leave this service never synced has no item to note on).
    pub async fn note_cancellation(
        &self,
        original: &InstanceRef,
        note: &str,
    ) -> Result<bool, LedgerError> {
        let values = HashMap::from([
            (":now_iso".to_owned(), s(Timestamp::now().to_string())),
            (
                ":notes".to_owned(),
                AttributeValue::Ss(vec![note.to_owned()]),
            ),
        ]);
        self.unleased_update(
            original,
            update::NOTE_CANCELLATION,
            condition::EXISTS,
            values,
        )
        .await
    }

    /// Records the message that told the employee about an item without steps (a
    /// cancellation's), once. Returns false when one was recorded already.
    pub async fn record_told(
        &self,
        instance: &InstanceRef,
        message_id: &str,
    ) -> Result<bool, LedgerError> {
        let values = HashMap::from([
            (":now_iso".to_owned(), s(Timestamp::now().to_string())),
            (":m".to_owned(), s(message_id)),
        ]);
        self.unleased_update(
            instance,
            update::RECORD_TOLD,
            condition::NOT_YET_TOLD,
            values,
        )
        .await
    }

    /// An update that needs no lease; `Ok(false)` when its condition refused it.
    async fn unleased_update(
        &self,
        instance: &InstanceRef,
        expression: &str,
        condition: &str,
        values: Item,
    ) -> Result<bool, LedgerError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression(expression)
            .condition_expression(condition)
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e)
                if e.as_service_error()
                    .and_then(Conditional::refused)
                    .is_some() =>
            {
                Ok(false)
            }
            Err(e) => Err(self.unavailable("UpdateItem", e)),
        }
    }

    /// All steps done: `synced`, lease released, and `leave` listed as out (the team
    /// view's index), in one transaction.
    pub async fn complete_sync(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        notified: &Notified,
        leave: Option<&Leave>,
    ) -> Result<(), LedgerError> {
        let listing = Listing::put(instance, leave)?;
        self.complete(
            instance,
            lease,
            (State::Synced, "message_id"),
            notified,
            listing,
        )
        .await
    }

    /// Everything undone: `revoked`, lease released, and `leave` off the index, in one
    /// transaction.
    pub async fn complete_revoke(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        notified: &Notified,
        leave: Option<&Leave>,
    ) -> Result<(), LedgerError> {
        let listing = Listing::delete(instance, leave);
        let last = (State::Revoked, "revoke_message_id");
        self.complete(instance, lease, last, notified, listing)
            .await
    }

    /// The last write of a workflow: its final state, how the employee was told (the sent
    /// message's id in `sent_attribute`, or why not), and the lease released.
    async fn complete(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        (state, sent_attribute): (State, &str),
        notified: &Notified,
        listing: Listing,
    ) -> Result<(), LedgerError> {
        let mut names = item::state_name();
        let mut values = HashMap::from([(":final".to_owned(), s(state.as_str()))]);
        let expression = match notified {
            Notified::Sent(id) => {
                names.insert("#sent".to_owned(), sent_attribute.to_owned());
                values.insert(":m".to_owned(), s(id));
                update::COMPLETE_SENT
            }
            Notified::Failed(reason) => {
                values.insert(":m".to_owned(), s(reason));
                update::COMPLETE_UNSENT
            }
            Notified::Nothing => update::COMPLETE,
        };
        if let Listing::Unchanged = listing {
            return self
                .leased_update(instance, lease, expression, names, values)
                .await;
        }
        self.leased_update_listing(instance, lease, (expression, names, values), listing)
            .await
    }

    /// A permanent error: `failed` with the reason, lease released. Twins and
    /// redeliveries then skip the instance until it is redriven.
    pub async fn fail(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        step: &str,
        reason: &str,
    ) -> Result<(), LedgerError> {
        self.leased_update(
            instance,
            lease,
            update::FAIL,
            item::state_name(),
            HashMap::from([
                (":failed".to_owned(), s(State::Failed.as_str())),
                (":reason".to_owned(), s(reason)),
                (":step".to_owned(), s(step)),
            ]),
        )
        .await
    }

    /// A retryable error: keep the state, note the error, release the lease so the retry
    /// does not wait for it to run out.
    pub async fn release(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        last_error: &str,
    ) -> Result<(), LedgerError> {
        self.leased_update(
            instance,
            lease,
            update::RELEASE,
            HashMap::new(),
            HashMap::from([(":e".to_owned(), s(last_error))]),
        )
        .await
    }

    /// An update under [`condition::HOLDS_LEASE`]; refused means the lease was lost.
    async fn leased_update(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        expression: &str,
        names: HashMap<String, String>,
        mut values: Item,
    ) -> Result<(), LedgerError> {
        values.insert(":owner".to_owned(), s(&lease.owner));
        values.insert(":now_iso".to_owned(), s(Timestamp::now().to_string()));
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression(expression)
            .condition_expression(condition::HOLDS_LEASE)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
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
                    instance_code: instance.instance_code.clone(),
                })
            }
            Err(e) => Err(self.unavailable("UpdateItem", e)),
        }
    }

    /// A note for an operator on an item that exists, outside any lease (after the
    /// workflow's last write): `leave-sync ledger --attention` lists it.
    pub async fn note_attention(
        &self,
        instance: &InstanceRef,
        note: &str,
    ) -> Result<bool, LedgerError> {
        let values = HashMap::from([
            (":now_iso".to_owned(), s(Timestamp::now().to_string())),
            (":note".to_owned(), s(note)),
        ]);
        self.unleased_update(instance, update::NOTE_ATTENTION, condition::EXISTS, values)
            .await
    }

    /// Strongly consistent read of one instance (the CLI, the tests, and a
    /// `leave_approval` asking whether its twin got there).
    pub async fn get(&self, instance: &InstanceRef) -> Result<Option<Record>, LedgerError> {
        self.read(instance)
            .await?
            .map(|item| item::parse(instance, item))
            .transpose()
    }

    async fn read(&self, instance: &InstanceRef) -> Result<Option<Item>, LedgerError> {
        self.read_key(key_of(instance)).await
    }

    /// A strongly consistent read of the item with partition key `pk`.
    pub(super) async fn read_key(&self, pk: String) -> Result<Option<Item>, LedgerError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.unavailable("GetItem", e))?;
        Ok(out.item)
    }
}

fn yes() -> AttributeValue {
    AttributeValue::Bool(true)
}

/// The update, the attribute it names (`#attr`) if any, and its values, for one step.
fn step_write(step: &StepResult) -> (&'static str, Option<&'static str>, Item) {
    let now = || s(Timestamp::now().to_string());
    let one = |k: &str, v: AttributeValue| HashMap::from([(k.to_owned(), v)]);
    let set = |attribute, v| (update::RECORD_STEP, Some(attribute), one(":v", v));
    let clear = |attribute| (update::CLEAR_STEP, Some(attribute), Item::new());
    match step {
        StepResult::Attendance { approval_id } => set("approval_id", s(approval_id)),
        StepResult::TimeoffAttempted => set("timeoff_attempted_at", now()),
        StepResult::TimeoffNotApplied => clear("timeoff_attempted_at"),
        StepResult::Timeoff { timeoff_event_id } => {
            (update::RECORD_TIMEOFF, None, appended(timeoff_event_id))
        }
        StepResult::AttendanceRevoked => set("attendance_revoked", yes()),
        StepResult::TimeoffDeleted { timeoff_event_id } => (
            update::RECORD_TIMEOFF_DELETED,
            None,
            one(":ids", AttributeValue::Ss(vec![timeoff_event_id.clone()])),
        ),
        StepResult::Attention(what) => set("attention", s(what)),
        StepResult::AttentionResolved => clear("attention"),
        StepResult::TeamEvent(entry) => set(
            "team_event_json",
            s(serde_json::to_string(entry).unwrap_or_default()),
        ),
        StepResult::TeamEventDeleted => set("team_event_deleted", yes()),
        StepResult::AttendanceLookupMissed => (
            update::COUNT_STEP,
            Some("attendance_lookup_misses"),
            one(":one", item::n(1)),
        ),
    }
}

/// The values that append `id` to the list of time-off ids.
fn appended(id: &str) -> Item {
    HashMap::from([
        (":empty".to_owned(), AttributeValue::L(Vec::new())),
        (":ids".to_owned(), AttributeValue::L(vec![s(id)])),
    ])
}

fn contended(instance: &InstanceRef) -> LedgerError {
    LedgerError::Contended {
        instance_code: instance.instance_code.clone(),
    }
}
