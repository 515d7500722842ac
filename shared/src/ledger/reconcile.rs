//! What the reconciler reads and writes in the ledger: the states of many instances at
//! once, the `by_state` index (every item by state and creation time), when a synced
//! instance was last re-checked in Feishu, and how far each definition's scan got.
//!
//! None of this takes a lease or changes an instance's state: the reconciler only reads
//! and reports, and feeds the queue; the processor does the rest.

use std::collections::HashMap;

use aws_sdk_dynamodb::config::http::HttpResponse;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, KeysAndAttributes};
use jiff::Timestamp;

use super::item::{Item, PARTITION_KEY, key_of, n, s};
use super::{Ledger, LedgerError, State};
use crate::event::InstanceRef;

/// The global secondary index over `state` (partition) and `created_at` (sort).
pub const STATE_INDEX: &str = "by_state";
/// What the index projects besides its keys and the table's key.
pub const STATE_INDEX_ATTRIBUTES: [&str; 6] = [
    "tenant_key",
    "instance_code",
    "approval_code",
    "rechecked_at",
    "lease_until",
    "failed_step",
];
/// BatchGetItem's limit.
const BATCH: usize = 100;

/// An instance as the index shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indexed {
    pub instance: InstanceRef,
    pub state: State,
    pub created_at: String,
    /// When the reconciler last read it in Feishu (RFC 3339), if ever.
    pub rechecked_at: Option<String>,
    /// The lease's end in ms, if one is held (or was, and never released).
    pub lease_until_ms: Option<i64>,
    pub failed_step: Option<String>,
}

fn text(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn checkpoint_key(approval_code: &str) -> String {
    format!("reconcile#{approval_code}")
}

impl Ledger {
    /// The state of each of `instances` that has an item (one read per 100).
    pub async fn states(
        &self,
        instances: &[InstanceRef],
    ) -> Result<HashMap<String, State>, LedgerError> {
        let mut found = HashMap::new();
        for chunk in instances.chunks(BATCH) {
            let keys = chunk
                .iter()
                .map(|i| HashMap::from([(PARTITION_KEY.to_owned(), s(key_of(i)))]))
                .collect::<Vec<_>>();
            let mut pending = Some(self.keys(keys)?);
            while let Some(request) = pending.take() {
                let out = self
                    .client
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .send()
                    .await
                    .map_err(|e| self.unavailable("BatchGetItem", e))?;
                for item in out
                    .responses
                    .and_then(|mut r| r.remove(&self.table))
                    .unwrap_or_default()
                {
                    if let (Some(pk), Some(state)) = (
                        text(&item, PARTITION_KEY),
                        text(&item, "state").as_deref().and_then(State::parse),
                    ) {
                        found.insert(pk, state);
                    }
                }
                // Throttled keys come back unprocessed: ask again for those.
                pending = out
                    .unprocessed_keys
                    .and_then(|mut u| u.remove(&self.table))
                    .filter(|k| !k.keys().is_empty());
            }
        }
        Ok(instances
            .iter()
            .filter_map(|i| {
                found
                    .get(&key_of(i))
                    .map(|st| (i.instance_code.clone(), *st))
            })
            .collect())
    }

    fn keys(&self, keys: Vec<Item>) -> Result<KeysAndAttributes, LedgerError> {
        KeysAndAttributes::builder()
            .set_keys(Some(keys))
            .projection_expression("#pk, #state")
            .expression_attribute_names("#pk", PARTITION_KEY)
            .expression_attribute_names("#state", "state")
            .build()
            .map_err(|e| LedgerError::Unavailable {
                op: "BatchGetItem",
                table: self.table.clone(),
                detail: e.to_string(),
            })
    }

    /// Every item in `state` created at or after `created_from` (RFC 3339), from the index.
    pub async fn in_state(
        &self,
        state: State,
        created_from: Timestamp,
    ) -> Result<Vec<Indexed>, LedgerError> {
        let mut out = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(STATE_INDEX)
                .key_condition_expression("#state = :state AND created_at >= :from")
                .expression_attribute_names("#state", "state")
                .expression_attribute_values(":state", s(state.as_str()))
                .expression_attribute_values(":from", s(created_from.to_string()))
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| self.unavailable("Query", e))?;
            out.extend(page.items().iter().filter_map(|i| indexed(i, state)));
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Notes that a synced instance was read in Feishu and found still approved.
    /// `Ok(false)` when it is no longer synced (a revoke got there meanwhile).
    pub async fn mark_rechecked(
        &self,
        instance: &InstanceRef,
        now: Timestamp,
    ) -> Result<bool, LedgerError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression("SET rechecked_at = :at")
            .condition_expression("#state = :synced")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":at", s(now.to_string()))
            .expression_attribute_values(":synced", s(State::Synced.as_str()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if refused(&e) => Ok(false),
            Err(e) => Err(self.unavailable("UpdateItem", e)),
        }
    }

    /// How far the scan of `approval_code`'s instances got (ms), if it ever ran.
    pub async fn checkpoint(&self, approval_code: &str) -> Result<Option<i64>, LedgerError> {
        let item = self.read_key(checkpoint_key(approval_code)).await?;
        Ok(item
            .and_then(|i| i.get("scanned_until").cloned())
            .and_then(|v| v.as_n().ok().and_then(|n| n.parse().ok())))
    }

    /// Moves the checkpoint forward to `until_ms`; never back (two runs at once, or a run
    /// over an older window, leave the furthest point).
    pub async fn advance_checkpoint(
        &self,
        approval_code: &str,
        until_ms: i64,
        now: Timestamp,
    ) -> Result<(), LedgerError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(checkpoint_key(approval_code)))
            .update_expression("SET scanned_until = :until, updated_at = :now")
            .condition_expression("attribute_not_exists(scanned_until) OR scanned_until < :until")
            .expression_attribute_values(":until", n(until_ms))
            .expression_attribute_values(":now", s(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(e) if refused(&e) => Ok(()),
            Err(e) => Err(self.unavailable("UpdateItem", e)),
        }
    }
}

fn refused(e: &SdkError<UpdateItemError, HttpResponse>) -> bool {
    e.as_service_error()
        .is_some_and(UpdateItemError::is_conditional_check_failed_exception)
}

fn indexed(item: &Item, state: State) -> Option<Indexed> {
    let num = |name: &str| {
        item.get(name)
            .and_then(|v: &AttributeValue| v.as_n().ok())
            .and_then(|v| v.parse::<i64>().ok())
    };
    Some(Indexed {
        instance: InstanceRef {
            tenant_key: text(item, "tenant_key")?,
            approval_code: text(item, "approval_code").unwrap_or_default(),
            instance_code: text(item, "instance_code")?,
        },
        state,
        created_at: text(item, "created_at")?,
        rechecked_at: text(item, "rechecked_at"),
        lease_until_ms: num("lease_until"),
        failed_step: text(item, "failed_step"),
    })
}
