//! The DynamoDB idempotency ledger: one item per approval instance, the single source of
//! truth for what has been done to Feishu on its behalf.
//!
//! - [`rules`]: the protocol on one screen (states, every condition and update).
//! - [`item`]: `Record` ⇄ DynamoDB item, and the values each write fills in.
//! - [`store`]: the DynamoDB calls.
//! - [`admin`]: the operator's scan and the table's creation.
//! - [`reconcile`]: the reconciler's reads (many states at once, the `by_state` index)
//!   and its checkpoints.

pub mod admin;
pub mod by_user;
pub mod chat;
pub mod digest;
pub mod item;
pub mod out_index;
pub mod reconcile;
pub mod rules;
pub mod store;

use jiff::Timestamp;

pub use item::{
    INSTANCE_RETENTION, PARTITION_KEY, Record, TTL_ATTRIBUTE, claim_sync_values, key_of,
};
pub use rules::State;
pub use store::Ledger;

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
pub enum StepResult {
    Attendance {
        approval_id: String,
    },
    /// About to create the time-off event, which has no idempotency key: if no id follows,
    /// the outcome is unknown.
    TimeoffAttempted,
    /// The create was proved not carried out: the marker goes.
    TimeoffNotApplied,
    /// One more time-off event made; the marker goes with it.
    Timeoff {
        timeoff_event_id: String,
    },
    AttendanceRevoked,
    TimeoffDeleted {
        timeoff_event_id: String,
    },
    /// Something an operator must look at (`leave-sync ledger --attention`).
    Attention(String),
    /// What the operator was asked to look at is resolved.
    AttentionResolved,
    /// A revoke looked for an attendance record written without its id and found none.
    AttendanceLookupMissed,
    /// The leave's entry on the team calendar.
    TeamEvent(TeamEventRef),
    TeamEventDeleted,
}

/// An entry on the team calendar: the calendar is kept with it, so that a revoke after
/// `TEAM_CALENDAR_ID` changed still deletes it where it is.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TeamEventRef {
    pub calendar_id: String,
    pub event_id: String,
}

/// What an operator found of a time-off event whose create had an unknown outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimeoffResolution {
    /// No such event: the next delivery creates it.
    Missing,
    /// It exists; with its id if the operator has it (so a revoke can delete it).
    Exists { timeoff_event_id: Option<String> },
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
    #[error(
        "instance {instance_code} has no unknown time-off outcome to resolve (it is not \
         parked at the time-off step, a newer attempt was made, or it is being processed); \
         see `leave-sync ledger {instance_code}`"
    )]
    NothingToResolve { instance_code: String },
    #[error("ledger item for {instance_code} is unreadable: {detail}")]
    Corrupt {
        instance_code: String,
        detail: String,
    },
}

impl LedgerError {
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Corrupt { .. } | Self::NothingToResolve { .. })
    }
}
