//! The operator's view of the ledger and the table's creation: not on the hot path.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, CreateGlobalSecondaryIndexAction, GlobalSecondaryIndex,
    GlobalSecondaryIndexUpdate, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};

use super::by_user::{USER_INDEX, USER_INDEX_ATTRIBUTES};
use super::item::{self, PARTITION_KEY, TTL_ATTRIBUTE, s};
use super::out_index::{MONTH_INDEX, MONTH_INDEX_ATTRIBUTES};
use super::reconcile::{STATE_INDEX, STATE_INDEX_ATTRIBUTES};

/// The table's secondary indexes, as template.yaml declares them: name, partition and
/// sort attribute, projected attributes.
const INDEXES: [(&str, &str, &str, &[&str]); 3] = [
    (STATE_INDEX, "state", "created_at", &STATE_INDEX_ATTRIBUTES),
    (USER_INDEX, "user_key", "created_at", &USER_INDEX_ATTRIBUTES),
    (
        MONTH_INDEX,
        "out_month",
        "out_start",
        &MONTH_INDEX_ATTRIBUTES,
    ),
];
use super::{Ledger, LedgerError, Record};
use crate::event::InstanceRef;

/// What `leave-sync doctor` checks of a deployed table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableLayout {
    pub partition_key: Option<String>,
    pub ttl_attribute: Option<String>,
    /// Whether the reconciler's `by_state` index exists.
    pub state_index: bool,
    /// Whether the chat bot's `by_user` index exists (`我的假期`).
    pub user_index: bool,
    /// Whether the team view's `by_month` index exists (who is out).
    pub month_index: bool,
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
        let has_index = |name: &str| {
            described.table().is_some_and(|t| {
                t.global_secondary_indexes()
                    .iter()
                    .any(|i| i.index_name() == Some(name))
            })
        };
        let (state_index, user_index) = (has_index(STATE_INDEX), has_index(USER_INDEX));
        let month_index = has_index(MONTH_INDEX);
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
            state_index,
            user_index,
            month_index,
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
                // Instances only: the reconciler's checkpoints share the table.
                .filter_expression("begins_with(#pk, :inst)")
                .expression_attribute_names("#pk", PARTITION_KEY)
                .expression_attribute_values(":inst", s("inst#"))
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

    /// A table made by an older release lacks the newer indexes: add them, one at a time
    /// as DynamoDB requires (dev tables only; template.yaml declares them for deployed ones).
    async fn add_missing_indexes(client: &Client, table: &str) -> Result<(), LedgerError> {
        let unavailable = |op: &'static str, detail: String| LedgerError::Unavailable {
            op,
            table: table.to_owned(),
            detail,
        };
        let Some(layout) = Self::layout(client, table).await? else {
            return Ok(());
        };
        let build =
            |e: aws_sdk_dynamodb::error::BuildError| unavailable("UpdateTable", e.to_string());
        for spec @ (name, hash, range, _) in INDEXES {
            let present = match name {
                STATE_INDEX => layout.state_index,
                USER_INDEX => layout.user_index,
                _ => layout.month_index,
            };
            if present {
                continue;
            }
            let index = index(spec).map_err(build)?;
            let action = CreateGlobalSecondaryIndexAction::builder()
                .index_name(name)
                .set_key_schema(Some(index.key_schema().to_vec()))
                .set_projection(index.projection().cloned())
                .build()
                .map_err(build)?;
            let mut update = client
                .update_table()
                .table_name(table)
                .global_secondary_index_updates(
                    GlobalSecondaryIndexUpdate::builder().create(action).build(),
                );
            for attribute in [hash, range] {
                update = update.attribute_definitions(string_attribute(attribute).map_err(build)?);
            }
            update
                .send()
                .await
                .map_err(|e| unavailable("UpdateTable", crate::aws::describe(&e)))?;
        }
        Ok(())
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
        let mut create = client
            .create_table()
            .table_name(table)
            .billing_mode(BillingMode::PayPerRequest)
            .key_schema(key_element(PARTITION_KEY, KeyType::Hash).map_err(key)?);
        for spec in INDEXES {
            create = create.global_secondary_indexes(index(spec).map_err(key)?);
        }
        for name in [
            PARTITION_KEY,
            "state",
            "created_at",
            "user_key",
            "out_month",
            "out_start",
        ] {
            create = create.attribute_definitions(string_attribute(name).map_err(key)?);
        }
        match create.send().await {
            Ok(_) => {}
            Err(e)
                if e.as_service_error()
                    .is_some_and(|s| s.is_resource_in_use_exception()) =>
            {
                Self::add_missing_indexes(client, table).await?;
            }
            Err(e) => return Err(unavailable("CreateTable", crate::aws::describe(&e))),
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

fn key_element(
    name: &str,
    kind: KeyType,
) -> Result<KeySchemaElement, aws_sdk_dynamodb::error::BuildError> {
    KeySchemaElement::builder()
        .attribute_name(name)
        .key_type(kind)
        .build()
}

fn string_attribute(
    name: &str,
) -> Result<AttributeDefinition, aws_sdk_dynamodb::error::BuildError> {
    AttributeDefinition::builder()
        .attribute_name(name)
        .attribute_type(ScalarAttributeType::S)
        .build()
}

/// One of [`INDEXES`], as template.yaml declares it.
fn index(
    (name, hash, range, attributes): (&str, &str, &str, &[&str]),
) -> Result<GlobalSecondaryIndex, aws_sdk_dynamodb::error::BuildError> {
    let projection = Projection::builder()
        .projection_type(ProjectionType::Include)
        .set_non_key_attributes(Some(attributes.iter().map(|a| (*a).to_owned()).collect()))
        .build();
    GlobalSecondaryIndex::builder()
        .index_name(name)
        .key_schema(key_element(hash, KeyType::Hash)?)
        .key_schema(key_element(range, KeyType::Range)?)
        .projection(projection)
        .build()
}
