//! `Record` ⇄ DynamoDB item, and the attribute values each write of `rules` fills in.
//! Pure: no I/O, so the mapping is unit-tested and benchmarked without a table.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use jiff::{SignedDuration, Timestamp};

use super::rules::{State, condition};
use super::{Lease, LedgerError};
use crate::event::{InstanceRef, Leave};

/// Table layout, shared by `leave-sync dev` and checked against template.yaml in a test.
pub const PARTITION_KEY: &str = "pk";
pub const TTL_ATTRIBUTE: &str = "expires_at";
/// An approved leave can be revoked long after it was taken; keep its record two years.
pub const INSTANCE_RETENTION: SignedDuration = SignedDuration::from_hours(24 * 730);

pub(crate) type Item = HashMap<String, AttributeValue>;

/// One instance's item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub state: State,
    pub tenant_key: String,
    pub instance_code: String,
    pub approval_code: String,
    pub updated_at: Option<String>,
    /// When the instance was first claimed (RFC 3339): about when anything was written.
    pub created_at: Option<String>,
    pub leave: Option<Leave>,
    pub approval_id: Option<String>,
    /// Set just before each time-off create (which has no idempotency key) and removed
    /// with the id it yields: present, the last create's outcome is unknown.
    pub timeoff_attempted_at: Option<String>,
    /// The time-off events made, in the order of the leave's segments.
    pub timeoff_event_ids: Vec<String>,
    /// Time-off events that exist but whose ids were lost (an operator confirmed them).
    pub timeoff_unrecorded: u32,
    pub message_id: Option<String>,
    /// Why the notification could not be sent (the leave itself is synced).
    pub message_error: Option<String>,
    pub revoke_requested: bool,
    /// Lookups of an attendance record written without its id that found none.
    pub attendance_lookup_misses: u32,
    pub attendance_revoked: bool,
    /// The time-off events deleted by a revoke.
    pub timeoff_deleted_ids: Vec<String>,
    pub revoke_message_id: Option<String>,
    /// The card telling the employee their cancellation form (销假) is recorded.
    pub cancellation_message_id: Option<String>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub failure: Option<String>,
    pub failed_step: Option<String>,
    pub last_error: Option<String>,
    /// What an operator must look at, if anything (`leave-sync ledger --attention`).
    pub attention: Option<String>,
    /// Approved leave-cancellation forms (销假) for this leave: "code: period".
    pub cancellations: Vec<String>,
    /// The leave's entry on the team calendar, and whether a revoke deleted it.
    pub team_event: Option<super::TeamEventRef>,
    pub team_event_deleted: bool,
    pub events: Vec<String>,
}

impl Record {
    /// True when another invocation holds a lease that has not run out.
    pub fn is_leased(&self, now: Timestamp) -> bool {
        self.lease_owner.is_some() && self.lease_until.is_some_and(|t| t > now)
    }

    /// Time-off events accounted for: recorded, or confirmed to exist without an id.
    pub fn timeoff_done(&self) -> usize {
        self.timeoff_event_ids.len() + self.timeoff_unrecorded as usize
    }
}

pub fn key_of(instance: &InstanceRef) -> String {
    format!("inst#{}#{}", instance.tenant_key, instance.instance_code)
}

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: i64) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn state_name() -> HashMap<String, String> {
    HashMap::from([("#state".to_owned(), "state".to_owned())])
}

fn values<const N: usize>(pairs: [(&str, AttributeValue); N]) -> Item {
    pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// The lease and the time, which every claim fills in.
fn claim_values(lease: &Lease, event_id: &str, now: Timestamp) -> Item {
    values([
        (":now", n(now.as_millisecond())),
        (":now_iso", s(now.to_string())),
        (":ttl", n((now + INSTANCE_RETENTION).as_second())),
        (":owner", s(&lease.owner)),
        (":until", n(lease.until.as_millisecond())),
        (":events", AttributeValue::Ss(vec![event_id.to_owned()])),
    ])
}

/// The values and condition of a sync claim (benchmarked as part of the processor's CPU
/// per event).
pub fn claim_sync_values(
    instance: &InstanceRef,
    leave: &Leave,
    lease: &Lease,
    event_id: &str,
    retry_failed: bool,
    now: Timestamp,
) -> Result<(Item, &'static str), LedgerError> {
    let leave_json = serde_json::to_string(leave).map_err(|e| LedgerError::Corrupt {
        instance_code: instance.instance_code.clone(),
        detail: e.to_string(),
    })?;
    let mut values = claim_values(lease, event_id, now);
    values.extend(self::values([
        (":syncing", s(State::Syncing.as_str())),
        (":tenant", s(&instance.tenant_key)),
        (":ic", s(&instance.instance_code)),
        (":ac", s(&instance.approval_code)),
        (":leave", s(leave_json)),
        (
            ":user",
            s(super::by_user::user_key(
                &instance.tenant_key,
                &leave.open_id,
            )),
        ),
    ]));
    let condition = if retry_failed {
        values.insert(":failed".to_owned(), s(State::Failed.as_str()));
        condition::RETRY_SYNC
    } else {
        condition::START_SYNC
    };
    Ok((values, condition))
}

pub(crate) fn claim_revoke_values(lease: &Lease, event_id: &str, now: Timestamp) -> Item {
    let mut values = claim_values(lease, event_id, now);
    values.extend(self::values([
        (":synced", s(State::Synced.as_str())),
        (":failed", s(State::Failed.as_str())),
        (":syncing", s(State::Syncing.as_str())),
        (":revoking", s(State::Revoking.as_str())),
        (":yes", AttributeValue::Bool(true)),
    ]));
    values
}

/// The whole item a revoke leaves when it arrives before its approval.
pub(crate) fn tombstone(instance: &InstanceRef, event_id: &str, now: Timestamp) -> Item {
    values([
        (PARTITION_KEY, s(key_of(instance))),
        ("state", s(State::Tombstone.as_str())),
        ("revoke_requested", AttributeValue::Bool(true)),
        ("tenant_key", s(&instance.tenant_key)),
        ("instance_code", s(&instance.instance_code)),
        ("approval_code", s(&instance.approval_code)),
        ("created_at", s(now.to_string())),
        ("updated_at", s(now.to_string())),
        (TTL_ATTRIBUTE, n((now + INSTANCE_RETENTION).as_second())),
        ("events", AttributeValue::Ss(vec![event_id.to_owned()])),
    ])
}

/// Reads an item back. `instance` fills in what an old item may lack and names the
/// instance in errors.
pub(crate) fn parse(instance: &InstanceRef, item: Item) -> Result<Record, LedgerError> {
    let corrupt = |detail: String| LedgerError::Corrupt {
        instance_code: instance.instance_code.clone(),
        detail,
    };
    let text = |k: &str| item.get(k).and_then(|v| v.as_s().ok()).cloned();
    let flag = |k: &str| item.get(k).and_then(|v| v.as_bool().ok()) == Some(&true);
    // An item without a state is one being created by another writer, seen half-made: a
    // store that applies an update's attributes one by one (moto does; DynamoDB's writes
    // are atomic) can show the key alone for a moment. Retrying reads it whole.
    let state_name = text("state").ok_or_else(|| LedgerError::Contended {
        instance_code: instance.instance_code.clone(),
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
    let events = sorted_set(&item, "events");
    Ok(Record {
        state,
        tenant_key: text("tenant_key").unwrap_or_else(|| instance.tenant_key.clone()),
        instance_code: text("instance_code").unwrap_or_else(|| instance.instance_code.clone()),
        approval_code: text("approval_code").unwrap_or_else(|| instance.approval_code.clone()),
        updated_at: text("updated_at"),
        created_at: text("created_at"),
        leave,
        approval_id: text("approval_id"),
        timeoff_attempted_at: text("timeoff_attempted_at"),
        timeoff_event_ids: timeoff_ids(&item),
        timeoff_unrecorded: count(&item, "timeoff_unrecorded"),
        message_id: text("message_id"),
        message_error: text("message_error"),
        revoke_requested: flag("revoke_requested"),
        attendance_lookup_misses: count(&item, "attendance_lookup_misses"),
        attendance_revoked: flag("attendance_revoked"),
        timeoff_deleted_ids: timeoff_deleted_ids(&item),
        revoke_message_id: text("revoke_message_id"),
        cancellation_message_id: text("cancellation_message_id"),
        lease_owner: text("lease_owner"),
        lease_until,
        failure: text("failure"),
        failed_step: text("failed_step"),
        last_error: text("last_error"),
        attention: text("attention"),
        cancellations: sorted_set(&item, "cancellations"),
        team_event: text("team_event_json").and_then(|j| serde_json::from_str(&j).ok()),
        team_event_deleted: flag("team_event_deleted"),
        events,
    })
}

/// A string set's members, in order (a set has none of its own).
fn sorted_set(item: &Item, name: &str) -> Vec<String> {
    let mut members = item
        .get(name)
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    members.sort();
    members
}

/// The time-off ids, from the list (and from the single `timeoff_event_id` items written
/// before leaves could have several segments).
fn timeoff_ids(item: &Item) -> Vec<String> {
    let mut ids: Vec<String> = item
        .get("timeoff_event_id")
        .and_then(|v| v.as_s().ok())
        .cloned()
        .into_iter()
        .collect();
    if let Some(list) = item.get(TIMEOFF_IDS).and_then(|v| v.as_l().ok()) {
        ids.extend(list.iter().filter_map(|v| v.as_s().ok()).cloned());
    }
    // Once each, in order: a list written twice by a replayed append must not count a
    // segment as made that never was.
    let mut seen = std::collections::HashSet::new();
    ids.retain(|id| seen.insert(id.clone()));
    ids
}

/// The deleted time-off ids (older items say `timeoff_deleted: true` for their one id).
fn timeoff_deleted_ids(item: &Item) -> Vec<String> {
    let mut ids: Vec<String> = item
        .get(TIMEOFF_DELETED_IDS)
        .and_then(|v| v.as_ss().ok())
        .cloned()
        .unwrap_or_default();
    let old_deleted = item.get("timeoff_deleted").and_then(|v| v.as_bool().ok()) == Some(&true);
    if old_deleted && let Some(id) = item.get("timeoff_event_id").and_then(|v| v.as_s().ok()) {
        ids.push(id.clone());
    }
    ids.sort();
    ids
}

/// A counter (older items may hold `true` for one).
fn count(item: &Item, key: &str) -> u32 {
    match item.get(key) {
        Some(AttributeValue::N(n)) => n.parse().unwrap_or(0),
        Some(AttributeValue::Bool(true)) => 1,
        _ => 0,
    }
}

pub(crate) const TIMEOFF_IDS: &str = "timeoff_event_ids";
pub(crate) const TIMEOFF_DELETED_IDS: &str = "timeoff_deleted_ids";

/// An item caught without its state: never from DynamoDB, which writes an item
/// atomically, but seen with moto under concurrent writes. A retry will see it whole.
pub(crate) fn is_whole(item: &Item) -> bool {
    item.contains_key("state")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_seen_half_made_is_retried_not_called_corrupt() {
        let instance = InstanceRef {
            tenant_key: "t".into(),
            approval_code: "A".into(),
            instance_code: "I".into(),
        };
        let key_only = HashMap::from([(PARTITION_KEY.to_owned(), s("inst#t#I"))]);
        let e = parse(&instance, key_only).unwrap_err();
        assert!(matches!(e, LedgerError::Contended { .. }), "{e}");
        assert!(e.is_retryable());
    }
}
