//! The ledger's protocol on one screen: the states an instance's item moves through, and
//! every condition and update DynamoDB applies to it. Everything else in `ledger/` only
//! fills in the placeholders (`:now`, `:owner`, ...) and maps the item to a [`Record`].
//!
//! ```text
//!                 claim_sync                       complete (synced)
//!   (absent) ─────────────────▶ syncing ─────────────────────────▶ synced
//!      │                         │  ▲ lease ran out: claim_sync        │
//!      │ claim_revoke            │  └─────────────────────           │ claim_revoke
//!      ▼                         │ permanent error                   ▼
//!   tombstone                    └──────────▶ failed ──claim_revoke─▶ revoking ──▶ revoked
//!  (a late approval is skipped)              (redrive: claim_sync)  complete (revoked)
//! ```
//!
//! The whole rule, as in Powertools' idempotency: **a claim succeeds only where the item is
//! absent, or in a state the claim may leave, with no live lease on it.** Every step's
//! result is then written on condition that the writer still holds the lease, so a twin, a
//! redelivery or a concurrent invocation finds the step done or the instance busy, never
//! half-done by two. A refused write returns the item it saw (ReturnValuesOnConditionCheck-
//! Failure), so deciding what to do next costs no extra read.
//!
//! [`Record`]: super::Record

/// Where an instance's item stands.
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

    pub fn parse(s: &str) -> Option<Self> {
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

/// When a write may happen. `#state` names the `state` attribute; `:now` is the current
/// time in milliseconds, `:owner` the writer's lease owner.
pub mod condition {
    /// A sync may start: the instance is new, or a sync was interrupted and its lease has
    /// run out.
    pub const START_SYNC: &str = "attribute_not_exists(pk) \
         OR (#state = :syncing AND (attribute_not_exists(lease_until) OR lease_until < :now))";
    /// As [`START_SYNC`], or a permanent failure is retried on purpose (`leave-sync
    /// redrive`) and no revoke has been asked for since.
    pub const RETRY_SYNC: &str = "attribute_not_exists(pk) \
         OR (#state = :syncing AND (attribute_not_exists(lease_until) OR lease_until < :now)) \
         OR (#state = :failed AND attribute_not_exists(revoke_requested))";
    /// A revoke may start: there is something to undo and nobody holds the instance.
    pub const START_REVOKE: &str = "attribute_exists(pk) AND (#state IN (:synced, :failed) \
         OR (#state IN (:syncing, :revoking) AND (attribute_not_exists(lease_until) OR lease_until < :now)))";
    /// A revoke found no item: it leaves a tombstone, unless the approval got there first.
    pub const TOMBSTONE: &str = "attribute_not_exists(pk)";
    /// Only the lease holder records results.
    pub const HOLDS_LEASE: &str = "lease_owner = :owner";
    /// A time-off id is recorded by the write that also removes the create's marker, so a
    /// replay of it (an SDK retry after a lost answer) is refused instead of appending the
    /// id twice, which would count a segment as made that never was.
    pub const RECORD_TIMEOFF: &str =
        "lease_owner = :owner AND attribute_exists(timeoff_attempted_at)";
    /// An operator's word on a time-off create whose outcome was unknown applies only to
    /// the attempt they looked at: the instance is parked (failed, unleased), that marker is
    /// still there, and no id was recorded since.
    /// A note on an item that exists (no lease: an idempotent addition to a set).
    pub const EXISTS: &str = "attribute_exists(pk)";
    /// The card telling of a cancellation form, recorded once (its own attribute: the
    /// instance may carry a sync card too, if its V1 event was applied alone).
    pub const NOT_YET_TOLD: &str =
        "attribute_exists(pk) AND attribute_not_exists(cancellation_message_id)";
    pub const TIMEOFF_UNRESOLVED: &str =
        "#state = :failed AND timeoff_attempted_at = :seen AND attribute_not_exists(lease_owner)";
}

/// What each write sets. `:now_iso` is the current time as RFC 3339, `:until` the lease's
/// end in milliseconds, `:ttl` the item's expiry in seconds.
pub mod update {
    /// Take the instance to sync it. The leave stored by the first claim wins, so twins
    /// write the same thing; a redriven failure loses its failure.
    pub const CLAIM_SYNC: &str = "SET #state = :syncing, lease_owner = :owner, lease_until = :until, \
         leave_json = if_not_exists(leave_json, :leave), tenant_key = :tenant, \
         user_key = if_not_exists(user_key, :user), \
         instance_code = :ic, approval_code = :ac, \
         created_at = if_not_exists(created_at, :now_iso), updated_at = :now_iso, \
         expires_at = :ttl \
         REMOVE failure, failed_step \
         ADD events :events";
    /// Take the instance to undo it; `revoke_requested` stays, so a redrive of the failed
    /// sync can never resurrect it.
    pub const CLAIM_REVOKE: &str = "SET #state = :revoking, lease_owner = :owner, lease_until = :until, \
         revoke_requested = :yes, updated_at = :now_iso, expires_at = :ttl \
         ADD events :events";
    /// One step's result (`#attr` = `:v`), under the lease.
    pub const RECORD_STEP: &str = "SET #attr = :v, updated_at = :now_iso";
    /// A marker a step no longer needs (`#attr`), under the lease.
    pub const CLEAR_STEP: &str = "SET updated_at = :now_iso REMOVE #attr";
    /// One more of something counted (`#attr`), under the lease.
    pub const COUNT_STEP: &str = "SET updated_at = :now_iso ADD #attr :one";
    /// A time-off event made: its id appended, the create's marker removed, in one write.
    pub const RECORD_TIMEOFF: &str = "SET timeoff_event_ids = \
         list_append(if_not_exists(timeoff_event_ids, :empty), :ids), updated_at = :now_iso \
         REMOVE timeoff_attempted_at";
    /// A leave-cancellation form (销假) approved for this leave: noted on the original.
    pub const NOTE_CANCELLATION: &str = "SET updated_at = :now_iso ADD cancellations :notes";
    /// A note for an operator, written after the workflow's last write.
    pub const NOTE_ATTENTION: &str = "SET attention = :note, updated_at = :now_iso";
    /// The message that told the employee about a cancellation.
    pub const RECORD_TOLD: &str = "SET cancellation_message_id = :m, updated_at = :now_iso";
    /// A time-off event deleted by a revoke.
    pub const RECORD_TIMEOFF_DELETED: &str =
        "SET updated_at = :now_iso ADD timeoff_deleted_ids :ids";
    /// The operator saw no time-off event: the marker goes, so the next delivery creates
    /// one. A marker written after this parks again.
    pub const TIMEOFF_MISSING: &str = "SET updated_at = :now_iso REMOVE timeoff_attempted_at";
    /// The operator saw the time-off event: it is counted as made, with its id when the
    /// operator knows it (a log line or a parked reason gives it), so no other is made.
    pub const TIMEOFF_EXISTS: &str =
        "SET updated_at = :now_iso ADD timeoff_unrecorded :one REMOVE timeoff_attempted_at";
    pub const TIMEOFF_EXISTS_WITH_ID: &str = "SET timeoff_event_ids = \
         list_append(if_not_exists(timeoff_event_ids, :empty), :ids), updated_at = :now_iso \
         REMOVE timeoff_attempted_at";
    /// The workflow's last write: its final state and how the employee was told.
    pub const COMPLETE: &str =
        "SET #state = :final, updated_at = :now_iso REMOVE lease_owner, lease_until, last_error";
    /// As [`COMPLETE`], with the sent message's id in `#sent`.
    pub const COMPLETE_SENT: &str = "SET #state = :final, updated_at = :now_iso, #sent = :m \
         REMOVE lease_owner, lease_until, last_error";
    /// As [`COMPLETE`], with why the employee could not be told.
    pub const COMPLETE_UNSENT: &str = "SET #state = :final, updated_at = :now_iso, message_error = :m \
         REMOVE lease_owner, lease_until, last_error";
    /// A permanent error: `failed` with its reason; twins skip it until it is redriven.
    pub const FAIL: &str = "SET #state = :failed, failure = :reason, failed_step = :step, \
         updated_at = :now_iso REMOVE lease_owner, lease_until";
    /// A retryable error: same state, the error noted, the lease released so the retry
    /// need not wait for it to run out.
    pub const RELEASE: &str =
        "SET last_error = :e, updated_at = :now_iso REMOVE lease_owner, lease_until";
}
