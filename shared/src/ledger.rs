//! The DynamoDB idempotency ledger: one item per approval instance, the single source of
//! truth for what has been done to Feishu on its behalf.
//!
//! ```text
//!                 claim_sync                       complete_sync
//!   (absent) ─────────────────▶ syncing ─────────────────────────▶ synced
//!      │                         │  ▲ lease ran out: claim_sync        │
//!      │ claim_revoke            │  └─────────────────────           │ claim_revoke
//!      ▼                         │ permanent error                   ▼
//!   tombstone                    └──────────▶ failed ──claim_revoke─▶ revoking ──▶ revoked
//!  (a late approval is skipped)              (redrive: claim_sync)  complete_revoke
//! ```
//!
//! Every side effect runs under a lease (owner + expiry tied to the Lambda's remaining
//! time) and its result is recorded with a condition on that lease, so a redelivered,
//! twin or concurrent event finds the step done or the instance busy. A refused claim
//! returns the current item (ReturnValuesOnConditionCheckFailure), so deciding what to do
//! next costs no extra read.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::ProvideErrorMetadata;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, KeySchemaElement, KeyType, ReturnValue,
    ReturnValuesOnConditionCheckFailure, ScalarAttributeType, TimeToLiveSpecification,
};
use jiff::{SignedDuration, Timestamp};

use crate::event::{InstanceRef, Leave};

/// Table layout, shared by `leave-sync dev` and checked against template.yaml in a test.
pub const PARTITION_KEY: &str = "pk";
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// An approved leave can be revoked long after it was taken; keep its record two years.
pub const INSTANCE_RETENTION: SignedDuration = SignedDuration::from_hours(24 * 730);

/// The instance is new, or a sync was interrupted and its lease has run out.
const CAN_START_SYNC: &str = "attribute_not_exists(pk) \
     OR (#state = :syncing AND (attribute_not_exists(lease_until) OR lease_until < :now))";
/// As above, or a permanent failure is being retried on purpose (`leave-sync redrive`) and
/// no revoke has been asked for since.
const CAN_RETRY_SYNC: &str = "attribute_not_exists(pk) \
     OR (#state = :syncing AND (attribute_not_exists(lease_until) OR lease_until < :now)) \
     OR (#state = :failed AND attribute_not_exists(revoke_requested))";
/// There is something to undo and nobody holds the instance.
const CAN_START_REVOKE: &str = "attribute_exists(pk) AND (#state IN (:synced, :failed) \
     OR (#state IN (:syncing, :revoking) AND (attribute_not_exists(lease_until) OR lease_until < :now)))";
/// Only the lease holder records results.
const HOLDS_LEASE: &str = "lease_owner = :owner";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Syncing,
    Synced,
    Failed,
    Revoking,
    Revoked,
    /// Revoked before its approval arrived.
    Tombstone,
}

impl State {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Syncing => "syncing",
            Self::Synced => "synced",
            Self::Failed => "failed",
            Self::Revoking => "revoking",
            Self::Revoked => "revoked",
            Self::Tombstone => "tombstone",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "syncing" => Self::Syncing,
            "synced" => Self::Synced,
            "failed" => Self::Failed,
            "revoking" => Self::Revoking,
            "revoked" => Self::Revoked,
            "tombstone" => Self::Tombstone,
            _ => return None,
        })
    }
}

/// One instance's item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub state: State,
    pub tenant_key: String,
    pub instance_code: String,
    pub approval_code: String,
    pub updated_at: Option<String>,
    pub leave: Option<Leave>,
    pub approval_id: Option<String>,
    pub timeoff_event_id: Option<String>,
    pub message_id: Option<String>,
    /// Why the notification could not be sent (the leave itself is synced).
    pub message_error: Option<String>,
    pub revoke_requested: bool,
    pub attendance_revoked: bool,
    pub timeoff_deleted: bool,
    pub revoke_message_id: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub failure: Option<String>,
    pub failed_step: Option<String>,
    pub last_error: Option<String>,
    pub events: Vec<String>,
}

impl Record {
    /// True when another invocation holds a lease that has not run out.
    pub fn is_leased(&self, now: Timestamp) -> bool {
        self.lease_owner.is_some() && self.lease_until.is_some_and(|t| t > now)
    }
}

/// The attribute values and condition of a sync claim: everything but the I/O (pure, and
/// benchmarked as part of the processor's CPU per event).
pub fn claim_sync_values(
    instance: &InstanceRef,
    leave: &Leave,
    lease: &Lease,
    event_id: &str,
    retry_failed: bool,
    now: Timestamp,
) -> Result<(HashMap<String, AttributeValue>, &'static str), LedgerError> {
    let leave_json = serde_json::to_string(leave).map_err(|e| LedgerError::Corrupt {
        instance_code: instance.instance_code.clone(),
        detail: e.to_string(),
    })?;
    let mut values = Ledger::common_values(instance, now);
    values.extend([
        (":syncing".to_owned(), s(State::Syncing.as_str())),
        (":owner".to_owned(), s(&lease.owner)),
        (":until".to_owned(), n(lease.until.as_millisecond())),
        (":leave".to_owned(), s(leave_json)),
        (
            ":events".to_owned(),
            AttributeValue::Ss(vec![event_id.to_owned()]),
        ),
    ]);
    let condition = if retry_failed {
        values.insert(":failed".to_owned(), s(State::Failed.as_str()));
        CAN_RETRY_SYNC
    } else {
        CAN_START_SYNC
    };
    Ok((values, condition))
}

/// The right to run steps on one instance until `until`.
#[derive(Debug, Clone)]
pub struct Lease {
    pub owner: String,
    pub until: Timestamp,
}

#[derive(Debug)]
pub enum Claim {
    Acquired(Record),
    /// Someone else holds it, or there is nothing to do; the current item says which.
    Refused(Record),
    /// A revoke found no item and left a tombstone.
    Tombstoned,
}

/// A step's result, recorded as soon as Feishu confirms it.
#[derive(Debug, Clone)]
pub enum Step {
    Attendance { approval_id: String },
    Timeoff { timeoff_event_id: String },
    AttendanceRevoked,
    TimeoffDeleted,
}

/// How the notification step ended.
#[derive(Debug, Clone)]
pub enum Notified {
    Sent(String),
    /// A permanent IM error (user outside the app's range, bot stopped...): recorded, not
    /// retried, because the leave itself is synced.
    Failed(String),
    /// Nothing to tell (a revoke of an instance that never got synced).
    Nothing,
}

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error("DynamoDB {op} on table {table} failed: {detail}")]
    Unavailable {
        op: &'static str,
        table: String,
        detail: String,
    },
    #[error("lost the lease on instance {instance_code}: another invocation took over")]
    LostLease { instance_code: String },
    #[error("instance {instance_code} changed while it was being claimed; will retry")]
    Contended { instance_code: String },
    #[error("ledger item for {instance_code} is unreadable: {detail}")]
    Corrupt {
        instance_code: String,
        detail: String,
    },
}

impl LedgerError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Corrupt { .. })
    }
}

#[derive(Debug, Clone)]
pub struct Ledger {
    client: Client,
    table: String,
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

fn contended(instance: &InstanceRef) -> LedgerError {
    LedgerError::Contended {
        instance_code: instance.instance_code.clone(),
    }
}

pub fn key_of(instance: &InstanceRef) -> String {
    format!("inst#{}#{}", instance.tenant_key, instance.instance_code)
}

fn names() -> HashMap<String, String> {
    HashMap::from([("#state".to_owned(), "state".to_owned())])
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

    fn unavailable<E>(
        &self,
        op: &'static str,
        e: aws_sdk_dynamodb::error::SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
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

    fn common_values(instance: &InstanceRef, now: Timestamp) -> HashMap<String, AttributeValue> {
        HashMap::from([
            (":now".to_owned(), n(now.as_millisecond())),
            (":now_iso".to_owned(), s(now.to_string())),
            (":tenant".to_owned(), s(&instance.tenant_key)),
            (":ic".to_owned(), s(&instance.instance_code)),
            (":ac".to_owned(), s(&instance.approval_code)),
            (":ttl".to_owned(), n((now + INSTANCE_RETENTION).as_second())),
        ])
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
        let (values, condition) = claim_sync_values(
            instance,
            leave,
            lease,
            event_id,
            retry_failed,
            Timestamp::now(),
        )?;
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression(
                "SET #state = :syncing, lease_owner = :owner, lease_until = :until, \
                 leave_json = if_not_exists(leave_json, :leave), tenant_key = :tenant, \
                 instance_code = :ic, approval_code = :ac, \
                 created_at = if_not_exists(created_at, :now_iso), updated_at = :now_iso, \
                 expires_at = :ttl \
                 REMOVE failure, failed_step \
                 ADD events :events",
            )
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names()))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(out) => Ok(Claim::Acquired(
                self.parse(instance, out.attributes.unwrap_or_default())?,
            )),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                    match self.refused_item(instance, c.item()).await? {
                        Some(current) => Ok(Claim::Refused(current)),
                        None => Err(contended(instance)),
                    }
                }
                _ => Err(self.unavailable("UpdateItem", e)),
            },
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
        let mut values = Self::common_values(instance, now);
        values.extend([
            (":synced".to_owned(), s(State::Synced.as_str())),
            (":failed".to_owned(), s(State::Failed.as_str())),
            (":syncing".to_owned(), s(State::Syncing.as_str())),
            (":revoking".to_owned(), s(State::Revoking.as_str())),
            (":owner".to_owned(), s(&lease.owner)),
            (":until".to_owned(), n(lease.until.as_millisecond())),
            (":yes".to_owned(), AttributeValue::Bool(true)),
            (
                ":events".to_owned(),
                AttributeValue::Ss(vec![event_id.to_owned()]),
            ),
        ]);
        values.remove(":ac");
        values.remove(":tenant");
        values.remove(":ic");
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression(
                "SET #state = :revoking, lease_owner = :owner, lease_until = :until, \
                 revoke_requested = :yes, updated_at = :now_iso, expires_at = :ttl \
                 ADD events :events",
            )
            .condition_expression(CAN_START_REVOKE)
            .set_expression_attribute_names(Some(names()))
            .set_expression_attribute_values(Some(values))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let old = match result {
            Ok(out) => {
                return Ok(Claim::Acquired(
                    self.parse(instance, out.attributes.unwrap_or_default())?,
                ));
            }
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(c)) => {
                    self.refused_item(instance, c.item()).await?
                }
                _ => return Err(self.unavailable("UpdateItem", e)),
            },
        };
        match old {
            Some(current) => Ok(Claim::Refused(current)),
            None => self.tombstone(instance, event_id, now).await,
        }
    }

    async fn tombstone(
        &self,
        instance: &InstanceRef,
        event_id: &str,
        now: Timestamp,
    ) -> Result<Claim, LedgerError> {
        let item = HashMap::from([
            (PARTITION_KEY.to_owned(), s(key_of(instance))),
            ("state".to_owned(), s(State::Tombstone.as_str())),
            ("revoke_requested".to_owned(), AttributeValue::Bool(true)),
            ("tenant_key".to_owned(), s(&instance.tenant_key)),
            ("instance_code".to_owned(), s(&instance.instance_code)),
            ("approval_code".to_owned(), s(&instance.approval_code)),
            ("created_at".to_owned(), s(now.to_string())),
            ("updated_at".to_owned(), s(now.to_string())),
            (
                TTL_ATTRIBUTE.to_owned(),
                n((now + INSTANCE_RETENTION).as_second()),
            ),
            (
                "events".to_owned(),
                AttributeValue::Ss(vec![event_id.to_owned()]),
            ),
        ]);
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Claim::Tombstoned),
            Err(e) => match e.as_service_error() {
                // The approval arrived in between: report what is there now.
                Some(PutItemError::ConditionalCheckFailedException(c)) => {
                    match self.refused_item(instance, c.item()).await? {
                        Some(current) => Ok(Claim::Refused(current)),
                        None => Err(contended(instance)),
                    }
                }
                _ => Err(self.unavailable("PutItem", e)),
            },
        }
    }

    /// Records one step's result, only while holding the lease.
    pub async fn record(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        step: &Step,
    ) -> Result<(), LedgerError> {
        let (expr, value) = match step {
            Step::Attendance { approval_id } => ("SET approval_id = :v", s(approval_id)),
            Step::Timeoff { timeoff_event_id } => {
                ("SET timeoff_event_id = :v", s(timeoff_event_id))
            }
            Step::AttendanceRevoked => ("SET attendance_revoked = :v", AttributeValue::Bool(true)),
            Step::TimeoffDeleted => ("SET timeoff_deleted = :v", AttributeValue::Bool(true)),
        };
        self.leased_update(
            instance,
            lease,
            &format!("{expr}, updated_at = :now_iso"),
            HashMap::from([(":v".to_owned(), value)]),
        )
        .await
    }

    /// All steps done: `synced`, lease released.
    pub async fn complete_sync(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        notified: &Notified,
    ) -> Result<(), LedgerError> {
        self.complete(instance, lease, State::Synced, "message_id", notified)
            .await
    }

    /// Everything undone: `revoked`, lease released.
    pub async fn complete_revoke(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        notified: &Notified,
    ) -> Result<(), LedgerError> {
        self.complete(
            instance,
            lease,
            State::Revoked,
            "revoke_message_id",
            notified,
        )
        .await
    }

    /// The last write of a workflow: its final state, how the employee was told (the sent
    /// message's id in `sent_attribute`, or why not), and the lease released.
    async fn complete(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        state: State,
        sent_attribute: &str,
        notified: &Notified,
    ) -> Result<(), LedgerError> {
        let mut values = HashMap::from([(":final".to_owned(), s(state.as_str()))]);
        let set_message = match notified {
            Notified::Sent(id) => {
                values.insert(":m".to_owned(), s(id));
                format!(", {sent_attribute} = :m")
            }
            Notified::Failed(reason) => {
                values.insert(":m".to_owned(), s(reason));
                ", message_error = :m".to_owned()
            }
            Notified::Nothing => String::new(),
        };
        self.leased_update(
            instance,
            lease,
            &format!(
                "SET #state = :final, updated_at = :now_iso{set_message} \
                 REMOVE lease_owner, lease_until, last_error"
            ),
            values,
        )
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
            "SET #state = :failed, failure = :reason, failed_step = :step, \
             updated_at = :now_iso REMOVE lease_owner, lease_until",
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
            "SET last_error = :e, updated_at = :now_iso REMOVE lease_owner, lease_until",
            HashMap::from([(":e".to_owned(), s(last_error))]),
        )
        .await
    }

    async fn leased_update(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        expr: &str,
        mut values: HashMap<String, AttributeValue>,
    ) -> Result<(), LedgerError> {
        values.insert(":owner".to_owned(), s(&lease.owner));
        values.insert(":now_iso".to_owned(), s(Timestamp::now().to_string()));
        let mut names = HashMap::new();
        if expr.contains("#state") {
            names = self::names();
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression(expr)
            .condition_expression(HOLDS_LEASE)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) => match e.as_service_error() {
                Some(UpdateItemError::ConditionalCheckFailedException(_)) => {
                    Err(LedgerError::LostLease {
                        instance_code: instance.instance_code.clone(),
                    })
                }
                _ => Err(self.unavailable("UpdateItem", e)),
            },
        }
    }

    /// Strongly consistent read of one instance (tests, the CLI, and the fallback when a
    /// refused write does not return the item).
    pub async fn get(&self, instance: &InstanceRef) -> Result<Option<Record>, LedgerError> {
        match self.read(instance).await? {
            Some(item) => Ok(Some(self.parse(instance, item)?)),
            None => Ok(None),
        }
    }

    /// The item as it was when a conditional write was refused: the one the refusal
    /// returned (ReturnValuesOnConditionCheckFailure), or a consistent read where the
    /// store did not return it. `None` when there is no item; `Contended` when the item is
    /// caught without its state (never from DynamoDB, which writes an item atomically, but
    /// seen with moto under concurrent writes): a retry will see it whole.
    async fn refused_item(
        &self,
        instance: &InstanceRef,
        returned: Option<&HashMap<String, AttributeValue>>,
    ) -> Result<Option<Record>, LedgerError> {
        let item = match returned {
            Some(item) if item.contains_key("state") => Some(item.clone()),
            _ => self.read(instance).await?,
        };
        match item {
            None => Ok(None),
            Some(item) if !item.contains_key("state") => Err(contended(instance)),
            Some(item) => self.parse(instance, item).map(Some),
        }
    }

    async fn read(
        &self,
        instance: &InstanceRef,
    ) -> Result<Option<HashMap<String, AttributeValue>>, LedgerError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| self.unavailable("GetItem", e))?;
        Ok(out.item)
    }

    fn parse(
        &self,
        instance: &InstanceRef,
        item: HashMap<String, AttributeValue>,
    ) -> Result<Record, LedgerError> {
        let corrupt = |detail: String| LedgerError::Corrupt {
            instance_code: instance.instance_code.clone(),
            detail,
        };
        let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
        let flag = |k: &str| {
            item.get(k)
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false)
        };
        let state_name = text("state").ok_or_else(|| {
            corrupt("no state (the item vanished between the write and the read?)".into())
        })?;
        let state = State::parse(&state_name)
            .ok_or_else(|| corrupt(format!("unknown state {state_name:?}")))?;
        let leave = text("leave_json")
            .map(|j| serde_json::from_str::<Leave>(&j))
            .transpose()
            .map_err(|e| corrupt(format!("leave: {e}")))?;
        let lease_until = item
            .get("lease_until")
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|ms| Timestamp::from_millisecond(ms).ok());
        let mut events = item
            .get("events")
            .and_then(|v| v.as_ss().ok())
            .cloned()
            .unwrap_or_default();
        events.sort();
        Ok(Record {
            state,
            tenant_key: text("tenant_key").unwrap_or_else(|| instance.tenant_key.clone()),
            instance_code: text("instance_code").unwrap_or_else(|| instance.instance_code.clone()),
            approval_code: text("approval_code").unwrap_or_else(|| instance.approval_code.clone()),
            updated_at: text("updated_at"),
            leave,
            approval_id: text("approval_id"),
            timeoff_event_id: text("timeoff_event_id"),
            message_id: text("message_id"),
            message_error: text("message_error"),
            revoke_requested: flag("revoke_requested"),
            attendance_revoked: flag("attendance_revoked"),
            timeoff_deleted: flag("timeoff_deleted"),
            revoke_message_id: text("revoke_message_id"),
            lease_owner: text("lease_owner"),
            lease_until,
            failure: text("failure"),
            failed_step: text("failed_step"),
            last_error: text("last_error"),
            events,
        })
    }

    /// Every item (up to `limit`), for the operator's `leave-sync ledger`. A scan: fine for
    /// an occasional look, not for a hot path.
    pub async fn scan(&self, limit: usize) -> Result<Vec<Record>, LedgerError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.unavailable("Scan", e))?;
            for item in page.items.unwrap_or_default() {
                let instance = InstanceRef {
                    tenant_key: String::new(),
                    approval_code: String::new(),
                    instance_code: item
                        .get(PARTITION_KEY)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default(),
                };
                out.push(self.parse(&instance, item)?);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Creates the ledger table as template.yaml declares it (for `leave-sync dev` and the
    /// tests; production tables come from the template).
    pub async fn create_table(client: &Client, table: &str) -> Result<(), LedgerError> {
        let unavailable = |op: &'static str, detail: String| LedgerError::Unavailable {
            op,
            table: table.to_owned(),
            detail,
        };
        let created = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(PARTITION_KEY)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(|e| unavailable("CreateTable", e.to_string()))?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(PARTITION_KEY)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(|e| unavailable("CreateTable", e.to_string()))?,
            )
            .send()
            .await;
        if let Err(e) = created {
            let exists = e
                .as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception());
            if !exists {
                return Err(unavailable("CreateTable", crate::aws::describe(&e)));
            }
        }
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL_ATTRIBUTE)
                    .enabled(true)
                    .build()
                    .map_err(|e| unavailable("UpdateTimeToLive", e.to_string()))?,
            )
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                // Already enabled is fine.
                let msg = crate::aws::describe(&e);
                if msg.contains("already enabled") {
                    Ok(())
                } else {
                    Err(unavailable("UpdateTimeToLive", msg))
                }
            })
    }
}
