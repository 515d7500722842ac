//! One who's-out card per chat per day, whatever the retries: an item per (chat, day)
//! claimed under a lease before the card is sent, and marked with the card's message id
//! once Feishu has it. The send itself carries a `uuid` from the same (chat, day), which
//! covers a crash between the send and its record for Feishu's hour (doc "发送消息":
//! 「持有相同 uuid 的请求，在 1 小时内至多成功发送一条消息」).

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};

use super::item::{Item, PARTITION_KEY, n, s};
use super::store::Conditional;
use super::{Lease, Ledger, LedgerError};

/// Kept a month: long after any retry.
const KEEP: SignedDuration = SignedDuration::from_hours(24 * 31);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DigestClaim {
    /// Ours to send.
    Acquired,
    /// Sent already: its message id.
    Sent(String),
    /// Another run holds it now.
    Busy,
}

fn key(tenant_key: &str, chat_id: &str, day: Date) -> String {
    format!("digest#{tenant_key}#{chat_id}#{day}")
}

impl Ledger {
    pub async fn claim_digest(
        &self,
        tenant_key: &str,
        chat_id: &str,
        day: Date,
        lease: &Lease,
    ) -> Result<DigestClaim, LedgerError> {
        let now = Timestamp::now();
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key(tenant_key, chat_id, day)))
            .update_expression("SET lease_owner = :owner, lease_until = :until, expires_at = :ttl")
            .condition_expression(
                "attribute_not_exists(message_id) AND \
                 (attribute_not_exists(lease_until) OR lease_until < :now)",
            )
            .expression_attribute_values(":owner", s(&lease.owner))
            .expression_attribute_values(":until", n(lease.until.as_millisecond()))
            .expression_attribute_values(":now", n(now.as_millisecond()))
            .expression_attribute_values(":ttl", n((now + KEEP).as_second()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(DigestClaim::Acquired),
            Err(e) => match e.as_service_error().and_then(Conditional::refused) {
                Some(seen) => Ok(sent_in(seen).map_or(DigestClaim::Busy, DigestClaim::Sent)),
                None => Err(self.unavailable("UpdateItem", e)),
            },
        }
    }

    /// The card was sent: its id, and the lease given back.
    pub async fn finish_digest(
        &self,
        tenant_key: &str,
        chat_id: &str,
        day: Date,
        lease: &Lease,
        message_id: &str,
    ) -> Result<(), LedgerError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key(tenant_key, chat_id, day)))
            .update_expression("SET message_id = :m REMOVE lease_owner, lease_until")
            .condition_expression("lease_owner = :owner")
            .expression_attribute_values(":m", s(message_id))
            .expression_attribute_values(":owner", s(&lease.owner))
            .send()
            .await
            .map(|_| ())
            .map_err(
                |e| match e.as_service_error().and_then(Conditional::refused) {
                    Some(_) => LedgerError::LostLease {
                        instance_code: key(tenant_key, chat_id, day),
                    },
                    None => self.unavailable("UpdateItem", e),
                },
            )
    }
}

impl Ledger {
    /// The send failed: the lease goes at once, so that a retry need not wait for it (a
    /// send Feishu did carry out is found again by its uuid within the hour).
    pub async fn release_digest(
        &self,
        tenant_key: &str,
        chat_id: &str,
        day: Date,
        lease: &Lease,
    ) -> Result<(), LedgerError> {
        let released = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PARTITION_KEY, s(key(tenant_key, chat_id, day)))
            .update_expression("REMOVE lease_owner, lease_until")
            .condition_expression("lease_owner = :owner")
            .expression_attribute_values(":owner", s(&lease.owner))
            .send()
            .await;
        match released {
            Ok(_) => Ok(()),
            // Not ours any more: nothing to give back.
            Err(e)
                if e.as_service_error()
                    .and_then(Conditional::refused)
                    .is_some() =>
            {
                Ok(())
            }
            Err(e) => Err(self.unavailable("UpdateItem", e)),
        }
    }
}

fn sent_in(item: Option<&Item>) -> Option<String> {
    item?.get("message_id")?.as_s().ok().cloned()
}
