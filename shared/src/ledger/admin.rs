//! The operator's view of the ledger and the table's creation: not on the hot path.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    TimeToLiveSpecification,
};

use super::item::{self, PARTITION_KEY, TTL_ATTRIBUTE};
use super::{Ledger, LedgerError, Record};
use crate::event::InstanceRef;

/// What `leave-sync doctor` checks of a deployed table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLayout {
    pub partition_key: Option<String>,
    pub ttl_attribute: Option<String>,
}

impl Ledger {
    /// The table's key and TTL attribute; `None` when the table does not exist.
    pub async fn layout(client: &Client, table: &str) -> Result<Option<TableLayout>, LedgerError> {
        let unavailable = |op: &'static str, detail: String| LedgerError::Unavailable {
            op,
            table: table.to_owned(),
            detail,
        };
        let described = match client.describe_table().table_name(table).send().await {
            Ok(d) => d,
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_not_found_exception()) =>
            {
                return Ok(None);
            }
            Err(e) => return Err(unavailable("DescribeTable", crate::aws::describe(&e))),
        };
        let partition_key = described.table().and_then(|t| {
            t.key_schema()
                .iter()
                .find(|k| k.key_type() == &KeyType::Hash)
                .map(|k| k.attribute_name().to_owned())
        });
        let ttl_attribute = client
            .describe_time_to_live()
            .table_name(table)
            .send()
            .await
            .map_err(|e| unavailable("DescribeTimeToLive", crate::aws::describe(&e)))?
            .time_to_live_description()
            .and_then(|d| d.attribute_name().map(str::to_owned));
        Ok(Some(TableLayout {
            partition_key,
            ttl_attribute,
        }))
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
                // Named by its key in errors; the item carries the real fields.
                let instance = InstanceRef {
                    tenant_key: String::new(),
                    approval_code: String::new(),
                    instance_code: item
                        .get(PARTITION_KEY)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default(),
                };
                out.push(item::parse(&instance, item)?);
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
    /// tests; production tables come from the template). An existing table is fine.
    pub async fn create_table(client: &Client, table: &str) -> Result<(), LedgerError> {
        let unavailable = |op: &'static str, detail: String| LedgerError::Unavailable {
            op,
            table: table.to_owned(),
            detail,
        };
        let key =
            |e: aws_sdk_dynamodb::error::BuildError| unavailable("CreateTable", e.to_string());
        let created = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(PARTITION_KEY)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(key)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(PARTITION_KEY)
                    .key_type(KeyType::Hash)
                    .build()
                    .map_err(key)?,
            )
            .send()
            .await;
        if let Err(e) = created
            && !e
                .as_service_error()
                .is_some_and(|s| s.is_resource_in_use_exception())
        {
            return Err(unavailable("CreateTable", crate::aws::describe(&e)));
        }
        let ttl = TimeToLiveSpecification::builder()
            .attribute_name(TTL_ATTRIBUTE)
            .enabled(true)
            .build()
            .map_err(|e| unavailable("UpdateTimeToLive", e.to_string()))?;
        match client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(ttl)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            // Already enabled is fine.
            Err(e) if crate::aws::describe(&e).contains("already enabled") => Ok(()),
            Err(e) => Err(unavailable("UpdateTimeToLive", crate::aws::describe(&e))),
        }
    }
}
