//! Who is out on a day, without scanning the table: one small item per synced leave and
//! calendar month it touches (`out#<tenant>#<instance>#<YYYY-MM>`), read through the
//! `by_month` index (`out_month` = `<tenant>#<YYYY-MM>`, `out_start` = the leave's start).
//! "Leave overlapping day D" is then one query: D's month, starting no later than D's end,
//! filtered to those whose last day is D or later.
//!
//! A sync's last write puts its entries and a revoke's last write deletes them, each in one
//! transaction with the state change and under the same lease condition: entries exist
//! exactly while a leave is synced, whatever crashes or late attempts (a sync whose lease
//! ran out cannot list a leave a revoke has since undone). Overtime is not absence and has
//! none. Dates are the leave's own (the employee's attendance zone).

use std::collections::HashMap;

use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update,
};
use jiff::civil::{Date, DateTime};

use super::item::{Item, PARTITION_KEY, key_of, n, s};
use super::rules::{State, condition};
use super::{Lease, Ledger, LedgerError};
use crate::event::{InstanceRef, Leave};

pub const MONTH_INDEX: &str = "by_month";
/// What the index projects besides its keys and the table's key.
pub const MONTH_INDEX_ATTRIBUTES: [&str; 2] = ["instance_code", "leave_json"];
/// Entries outlive their leave by this many days (TTL), then go by themselves.
const KEEP_DAYS: i64 = 400;

/// A synced leave, as the index gives it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutLeave {
    pub instance_code: String,
    pub leave: Leave,
}

/// What a question read: the leaves, and how many index items it took (the README's
/// figure for the digest's cost).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutQuery {
    pub leaves: Vec<OutLeave>,
    pub items_read: usize,
    pub queries: usize,
}

/// The first day of each calendar month from `from`'s to `to`'s.
pub fn months(from: Date, to: Date) -> Vec<Date> {
    let mut month = from.first_of_month();
    let mut all = Vec::new();
    while month <= to {
        all.push(month);
        match month.last_of_month().tomorrow() {
            Ok(next) => month = next,
            Err(_) => break,
        }
    }
    all
}

fn month_key(tenant_key: &str, month: Date) -> String {
    format!("{tenant_key}#{}", month.strftime("%Y-%m"))
}

fn sortable(dt: DateTime) -> String {
    dt.strftime("%Y-%m-%dT%H:%M:%S").to_string()
}

fn entry_key(instance: &InstanceRef, month: Date) -> String {
    format!(
        "out#{}#{}#{}",
        instance.tenant_key,
        instance.instance_code,
        month.strftime("%Y-%m")
    )
}

/// The index items of `leave`, one per month it touches (what a completed sync puts; the
/// bench writes them in batches).
pub fn index_items(
    instance: &InstanceRef,
    leave: &Leave,
) -> Result<Vec<HashMap<String, AttributeValue>>, LedgerError> {
    months(leave.start.date(), leave.last_day())
        .into_iter()
        .map(|month| entry(instance, leave, month))
        .collect()
}

fn entry(instance: &InstanceRef, leave: &Leave, month: Date) -> Result<Item, LedgerError> {
    let leave_json = serde_json::to_string(leave).map_err(|e| LedgerError::Corrupt {
        instance_code: instance.instance_code.clone(),
        detail: format!("leave: {e}"),
    })?;
    let expires = leave
        .last_day()
        .saturating_add(jiff::Span::new().days(KEEP_DAYS))
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map(|z| z.timestamp().as_second())
        .unwrap_or_default();
    Ok(Item::from([
        (PARTITION_KEY.to_owned(), s(entry_key(instance, month))),
        (
            "out_month".to_owned(),
            s(month_key(&instance.tenant_key, month)),
        ),
        ("out_start".to_owned(), s(sortable(leave.start))),
        ("instance_code".to_owned(), s(&instance.instance_code)),
        ("leave_json".to_owned(), s(leave_json)),
        ("expires_at".to_owned(), n(expires)),
    ]))
}

/// What a workflow's last write does to the index, in the same transaction.
#[derive(Debug, Clone)]
pub(super) enum Listing {
    Unchanged,
    /// A sync completes: the leave's entries.
    Put(Vec<Item>),
    /// A revoke completes: the keys of the leave's entries.
    Delete(Vec<String>),
}

impl Listing {
    pub(super) fn put(instance: &InstanceRef, leave: Option<&Leave>) -> Result<Self, LedgerError> {
        match leave.filter(|l| !l.is_overtime()) {
            Some(leave) => Ok(Self::Put(index_items(instance, leave)?)),
            None => Ok(Self::Unchanged),
        }
    }

    pub(super) fn delete(instance: &InstanceRef, leave: Option<&Leave>) -> Self {
        match leave.filter(|l| !l.is_overtime()) {
            Some(leave) => Self::Delete(
                months(leave.start.date(), leave.last_day())
                    .into_iter()
                    .map(|month| entry_key(instance, month))
                    .collect(),
            ),
            None => Self::Unchanged,
        }
    }

    fn writes(self, table: &str) -> Result<Vec<TransactWriteItem>, LedgerError> {
        let build = |e: aws_sdk_dynamodb::error::BuildError| LedgerError::Unavailable {
            op: "TransactWriteItems",
            table: table.to_owned(),
            detail: e.to_string(),
        };
        let mut writes = Vec::new();
        match self {
            Self::Unchanged => {}
            Self::Put(items) => {
                for item in items {
                    let put = Put::builder().table_name(table).set_item(Some(item));
                    writes.push(
                        TransactWriteItem::builder()
                            .put(put.build().map_err(build)?)
                            .build(),
                    );
                }
            }
            Self::Delete(keys) => {
                for key in keys {
                    let delete = Delete::builder()
                        .table_name(table)
                        .key(PARTITION_KEY, s(key));
                    writes.push(
                        TransactWriteItem::builder()
                            .delete(delete.build().map_err(build)?)
                            .build(),
                    );
                }
            }
        }
        Ok(writes)
    }
}

fn out_leave(item: &Item) -> Option<OutLeave> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
    Some(OutLeave {
        instance_code: text("instance_code")?.clone(),
        leave: serde_json::from_str(text("leave_json")?).ok()?,
    })
}

/// Whether a transaction was cancelled because its first write's condition failed.
fn condition_failed(e: &TransactWriteItemsError) -> bool {
    match e {
        TransactWriteItemsError::TransactionCanceledException(c) => c
            .cancellation_reasons()
            .first()
            .and_then(|r| r.code())
            .is_some_and(|code| code == "ConditionalCheckFailed"),
        _ => false,
    }
}

impl Ledger {
    /// A workflow's last write (`expression` on the instance, under its lease) and the
    /// index change, as one transaction.
    pub(super) async fn leased_update_listing(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        (expression, names, mut values): (&str, HashMap<String, String>, Item),
        listing: Listing,
    ) -> Result<(), LedgerError> {
        values.insert(":owner".to_owned(), s(&lease.owner));
        values.insert(":now_iso".to_owned(), s(jiff::Timestamp::now().to_string()));
        let update = Update::builder()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .update_expression(expression)
            .condition_expression(condition::HOLDS_LEASE)
            .set_expression_attribute_names((!names.is_empty()).then_some(names))
            .set_expression_attribute_values(Some(values))
            .build()
            .map_err(|e| self.build_error(e))?;
        let mut writes = vec![TransactWriteItem::builder().update(update).build()];
        writes.extend(listing.writes(&self.table)?);
        if self.transact(writes).await? {
            Ok(())
        } else {
            Err(LedgerError::LostLease {
                instance_code: instance.instance_code.clone(),
            })
        }
    }

    /// Runs `writes` as one transaction; `Ok(false)` when its first write's condition
    /// failed (nothing was written).
    async fn transact(&self, writes: Vec<TransactWriteItem>) -> Result<bool, LedgerError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(writes))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(e) if e.as_service_error().is_some_and(condition_failed) => Ok(false),
            Err(e) => Err(self.unavailable("TransactWriteItems", e)),
        }
    }

    fn build_error(&self, e: aws_sdk_dynamodb::error::BuildError) -> LedgerError {
        LedgerError::Unavailable {
            op: "TransactWriteItems",
            table: self.table.clone(),
            detail: e.to_string(),
        }
    }

    /// Lists `leave` if, and only while, its instance is synced: `leave-sync reindex`,
    /// for leave synced before the index existed. `Ok(false)`: not synced (any more).
    pub async fn index_if_synced(
        &self,
        instance: &InstanceRef,
        leave: &Leave,
    ) -> Result<bool, LedgerError> {
        let check = ConditionCheck::builder()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key_of(instance)))
            .condition_expression("#state = :synced")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":synced", s(State::Synced.as_str()))
            .build()
            .map_err(|e| self.build_error(e))?;
        let mut writes = vec![TransactWriteItem::builder().condition_check(check).build()];
        writes.extend(Listing::put(instance, Some(leave))?.writes(&self.table)?);
        self.transact(writes).await
    }

    /// The synced leave of `tenant_key` that covers any day from `from` to `to`: one
    /// query per month the range touches (a page at a time).
    pub async fn out_between(
        &self,
        tenant_key: &str,
        from: Date,
        to: Date,
    ) -> Result<OutQuery, LedgerError> {
        let mut out = OutQuery::default();
        let latest_start = sortable(to.at(23, 59, 59, 0));
        for month in months(from, to) {
            let mut start_key: Option<Item> = None;
            loop {
                let page = self
                    .client
                    .query()
                    .table_name(&self.table)
                    .index_name(MONTH_INDEX)
                    .key_condition_expression("out_month = :m AND out_start <= :latest")
                    .expression_attribute_values(":m", s(month_key(tenant_key, month)))
                    .expression_attribute_values(":latest", AttributeValue::S(latest_start.clone()))
                    .set_exclusive_start_key(start_key.take())
                    .send()
                    .await
                    .map_err(|e| self.unavailable("Query", e))?;
                out.queries += 1;
                out.items_read += page.items().len();
                let overlapping = page
                    .items()
                    .iter()
                    .filter_map(out_leave)
                    .filter(|o| o.leave.last_day() >= from);
                for leave in overlapping {
                    if !out
                        .leaves
                        .iter()
                        .any(|o| o.instance_code == leave.instance_code)
                    {
                        out.leaves.push(leave);
                    }
                }
                match page.last_evaluated_key() {
                    Some(key) if !key.is_empty() => start_key = Some(key.clone()),
                    _ => break,
                }
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_leave_is_listed_under_every_month_it_touches() {
        assert_eq!(
            months(date(2026, 12, 30), date(2027, 2, 1)),
            [date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
        );
        assert_eq!(
            months(date(2026, 12, 3), date(2026, 12, 5)),
            [date(2026, 12, 1)]
        );
        let instance = InstanceRef {
            tenant_key: "t".into(),
            approval_code: "A".into(),
            instance_code: "I".into(),
        };
        let item = entry(&instance, &Leave::sample(), date(2026, 12, 1)).unwrap();
        assert_eq!(item["out_month"].as_s().unwrap(), "t#2026-12");
        assert_eq!(item["out_start"].as_s().unwrap(), "2026-12-01T00:00:00");
        assert_eq!(item[PARTITION_KEY].as_s().unwrap(), "out#t#I#2026-12");
    }
}
