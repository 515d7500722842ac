//! How a leave-sync event ends: the outcome, the error, and the step each happened at.

use tracing::Span;

use crate::event::EventError;
use crate::feishu::FeishuError;
use crate::ledger::{LedgerError, Record};
use crate::workflow::Verdict;

use super::custom_form::FormError;
use super::mapping::MappingError;

/// The steps of the leave workflows, as logged (span field `step`) and recorded in the
/// ledger's `failed_step`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    Parse,
    Claim,
    ApprovalGet,
    CustomForm,
    Mapping,
    Attendance,
    AttendanceQuery,
    Timeoff,
    Notify,
    AttendanceRevoke,
    TimeoffDelete,
    TeamCalendar,
    TeamCalendarDelete,
    Ledger,
}

impl Step {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Parse => "parse",
            Self::Claim => "claim",
            Self::ApprovalGet => "approval.get",
            Self::CustomForm => "custom_form",
            Self::Mapping => "mapping",
            Self::Attendance => "attendance",
            Self::AttendanceQuery => "attendance.query",
            Self::Timeoff => "timeoff",
            Self::Notify => "notify",
            Self::AttendanceRevoke => "attendance_revoke",
            Self::TimeoffDelete => "timeoff_delete",
            Self::TeamCalendar => "team_calendar",
            Self::TeamCalendarDelete => "team_calendar_delete",
            Self::Ledger => "ledger",
        }
    }

    /// Marks the current span as being at this step.
    pub fn enter(self) {
        Span::current().record("step", self.as_str());
    }

    /// Whether the ledger records this step as the one that failed.
    pub fn failed_in(self, record: &Record) -> bool {
        record.failed_step.as_deref() == Some(self.as_str())
    }
}

impl std::fmt::Display for Step {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How an event ended, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Synced,
    AlreadySynced,
    Revoked,
    AlreadyRevoked,
    /// The revoke arrived first: recorded, so the approval will be skipped.
    RevokeRecorded,
    /// The approval arrived after its revoke.
    SkippedRevoked,
    /// An earlier event for the instance failed permanently. This one goes to the
    /// dead-letter queue too, with the recorded reason: whatever became of the first (its
    /// own dead-lettering may have failed), the failure cannot vanish.
    SkippedFailed {
        reason: String,
    },
    Ignored {
        reason: String,
    },
    /// A leave-cancellation form: noted on the original leave, the employee told.
    CancellationRecorded {
        original: String,
    },
    /// A `leave_approval` whose twin has not got there yet (see `sync::twin`).
    AwaitingTwin {
        waited: Option<std::time::Duration>,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The step is not repeated here: the API the source names says where, and the ledger
    /// and the dead-letter reason carry the step beside it.
    #[error("{source}")]
    Feishu {
        step: Step,
        #[source]
        source: FeishuError,
    },
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("instance {instance_code} is being processed by another invocation until {until}")]
    Busy {
        instance_code: String,
        until: String,
    },
    #[error(transparent)]
    Event(#[from] EventError),
    #[error("custom form: {0}")]
    Form(#[from] FormError),
    #[error(transparent)]
    Mapping(#[from] MappingError),
    #[error(
        "attendance: the record exists (duplicate idempotent_id) but user_approvals/query does \
         not return it yet"
    )]
    AttendanceNotVisible,
    #[error(
        "[{code}] the time-off create for {period} has an unknown outcome ({detail}): Feishu \
         may or may not have made the event, and offers no way to look it up. The \
         attendance record is written; the employee has not been told yet. Ask the employee \
         whether their Feishu calendar shows an entry \"Synced by leave-sync from approval \
         <instance code>\" on those dates (the profile badge only shows during the leave): \
         if it does, run `leave-sync redrive --instance <instance code> --timeoff-exists`; \
         if not, `leave-sync redrive --instance <instance code> --timeoff-missing` creates it",
        code = crate::telemetry::alert::TIMEOFF_OUTCOME_UNKNOWN
    )]
    TimeoffOutcomeUnknown { detail: String, period: String },
    #[error(
        "[{code}] the time-off event {id} for {period} was created but its id could not be \
         recorded ({source}); run `leave-sync redrive --instance <instance code> \
         --timeoff-exists --timeoff-id {id}` so that a revoke can delete it",
        code = crate::telemetry::alert::TIMEOFF_OUTCOME_UNKNOWN
    )]
    TimeoffIdUnrecorded {
        id: String,
        period: String,
        #[source]
        source: LedgerError,
    },
}

impl SyncError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Feishu { source, .. } => source.is_retryable(),
            Self::Ledger(e) => e.is_retryable(),
            Self::Busy { .. } | Self::AttendanceNotVisible => true,
            Self::Event(_)
            | Self::Form(_)
            | Self::Mapping(_)
            | Self::TimeoffOutcomeUnknown { .. }
            | Self::TimeoffIdUnrecorded { .. } => false,
        }
    }

    /// How long the failure itself says to wait: a rate limit's reset, or the end of
    /// another invocation's lease.
    pub fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Feishu { source, .. } => source.retry_after(),
            Self::Busy { until, .. } => until
                .parse::<jiff::Timestamp>()
                .ok()
                .and_then(|t| jiff::Timestamp::now().duration_until(t).try_into().ok()),
            _ => None,
        }
    }

    /// The step that failed, for the ledger and the dead-letter reason.
    pub fn step(&self) -> Step {
        match self {
            Self::Feishu { step, .. } => *step,
            Self::Ledger(_) | Self::Busy { .. } => Step::Ledger,
            Self::Event(_) => Step::Parse,
            Self::Form(_) => Step::CustomForm,
            Self::Mapping(_) => Step::Mapping,
            Self::AttendanceNotVisible => Step::Attendance,
            Self::TimeoffOutcomeUnknown { .. } | Self::TimeoffIdUnrecorded { .. } => Step::Timeoff,
        }
    }

    /// The message plus the operator's fix where one is known.
    pub fn describe(&self) -> String {
        match self {
            Self::Feishu { source, .. } => match source.hint() {
                Some(hint) => format!("{self} — {hint}"),
                None => self.to_string(),
            },
            _ => self.to_string(),
        }
    }

    pub(super) fn busy(r: &Record) -> Self {
        Self::Busy {
            instance_code: r.instance_code.clone(),
            until: r
                .lease_until
                .map(|t| t.to_string())
                .unwrap_or_else(|| "unknown".into()),
        }
    }
}

pub(super) fn feishu_err(step: Step, source: FeishuError) -> SyncError {
    SyncError::Feishu { step, source }
}

pub(super) fn at_step(step: Step) -> impl FnOnce(FeishuError) -> SyncError {
    move |source| feishu_err(step, source)
}

impl From<Result<Outcome, SyncError>> for Verdict {
    fn from(result: Result<Outcome, SyncError>) -> Self {
        match result {
            Ok(Outcome::SkippedFailed { reason }) => Verdict::DeadLetter { reason },
            Ok(outcome) => Verdict::Done {
                outcome: format!("{outcome:?}"),
            },
            Err(e) if e.is_retryable() => Verdict::Retry {
                after: e.retry_after(),
                reason: e.describe(),
            },
            Err(e) => Verdict::DeadLetter {
                reason: format!("{}: {}", e.step(), e.describe()),
            },
        }
    }
}
