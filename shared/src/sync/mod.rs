//! The leave-sync workflow: sync an approved leave into attendance, the time-off calendar
//! and chat, undo it on revoke, and read custom forms' instances. Each entry point runs only
//! the steps the ledger does not show as done, under the instance's lease, recording every
//! result as soon as Feishu confirms it.
//!
//! - [`approve`]: the sync steps; [`timeoff`]: the one create without an idempotency
//!   key, and what happens when its outcome is unknown. [`revoke`]: the plan of what is left to undo, and its
//!   steps. [`notify`]: the employee's card. [`lookup`]: reading back what an earlier
//!   attempt wrote. [`outcome`]: outcomes, errors, steps.
//! - [`mapping`], [`cards`], [`custom_form`]: pure conversions to Feishu's shapes.

mod approve;
mod cancellation;
pub mod cards;
pub mod custom_form;
mod lookup;
pub mod mapping;
mod notify;
pub mod outcome;
pub mod revoke;
pub mod team;
mod timeoff;
pub mod twin;

use std::future::Future;
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;
use tracing::warn;

use crate::config::{CustomFormConfig, ProcessorConfig, TeamCalendar};
use crate::event::{ApprovalStatus, InstanceRef, ReconcileAction};
use crate::feishu::FeishuClient;
use crate::ledger::{Claim, Lease, Ledger, LedgerError, Record};
use crate::workflow::Attempt;
use mapping::TenantZone;
pub use outcome::{Outcome, Step, SyncError};

/// Which reading a definition's instances get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FormKind {
    Leave,
    Overtime,
}

/// How long a claim waits for a twin's live lease before the message is retried later.
pub const BUSY_PATIENCE: Duration = Duration::from_secs(10);

pub struct LeaveSync {
    feishu: FeishuClient,
    ledger: Ledger,
    zone: TenantZone,
    forms: CustomFormConfig,
    team: Option<TeamCalendar>,
}

impl LeaveSync {
    pub fn new(
        feishu: FeishuClient,
        ledger: Ledger,
        zone: TenantZone,
        forms: CustomFormConfig,
    ) -> Self {
        Self {
            feishu,
            ledger,
            zone,
            forms,
            team: None,
        }
    }

    /// Every synced leave also goes on `team` (off by default).
    pub fn with_team_calendar(mut self, team: Option<TeamCalendar>) -> Self {
        self.team = team;
        self
    }

    pub fn from_config(config: &ProcessorConfig, feishu: FeishuClient, ledger: Ledger) -> Self {
        Self::new(
            feishu,
            ledger,
            TenantZone::new(config.tenant_timezone.clone()),
            config.custom_forms.clone(),
        )
        .with_team_calendar(config.team_calendar.clone())
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// A custom form's instance changed status (only for CUSTOM_APPROVAL_CODES and
    /// OVERTIME_APPROVAL_CODES).
    pub async fn status_changed(
        &self,
        instance: &InstanceRef,
        status: ApprovalStatus,
        attempt: &Attempt,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        let code = &instance.approval_code;
        // A native leave form's results come as `leave_approval*` events, never this one.
        let generic = self.forms.approval_codes.contains(code)
            || self.forms.overtime_approval_codes.contains(code);
        if !generic {
            return Ok(Outcome::Ignored {
                reason: format!(
                    "approval code {code} is in neither CUSTOM_APPROVAL_CODES nor \
                     OVERTIME_APPROVAL_CODES"
                ),
            });
        }
        match status {
            ApprovalStatus::Approved => self.sync_from_instance(instance, attempt, event_id).await,
            // A cancellation only matters after a sync; before one it leaves a tombstone.
            ApprovalStatus::Reverted | ApprovalStatus::Canceled => {
                self.revoke(instance, attempt, event_id).await
            }
            other => Ok(Outcome::Ignored {
                reason: format!("status {other:?} needs no action"),
            }),
        }
    }

    /// The reconciler found `instance` approved but not synced, or revoked but synced
    /// (native leave forms of LEAVE_APPROVAL_CODES and custom forms alike).
    pub async fn reconciled(
        &self,
        instance: &InstanceRef,
        action: ReconcileAction,
        attempt: &Attempt,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        let code = &instance.approval_code;
        match action {
            ReconcileAction::Sync if self.form_of(code).is_none() => Ok(Outcome::Ignored {
                reason: format!(
                    "approval code {code} is in none of LEAVE_APPROVAL_CODES, \
                     CUSTOM_APPROVAL_CODES and OVERTIME_APPROVAL_CODES: the processor does \
                     not read its form"
                ),
            }),
            ReconcileAction::Sync => self.sync_from_instance(instance, attempt, event_id).await,
            // Revoked is final, whatever the form: undo what the ledger says was done.
            ReconcileAction::Revoke => self.revoke(instance, attempt, event_id).await,
        }
    }

    /// Reads the instance and syncs the leave its form holds, unless it is no longer
    /// approved by now.
    async fn sync_from_instance(
        &self,
        instance: &InstanceRef,
        attempt: &Attempt,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        Step::ApprovalGet.enter();
        let fetched = self
            .feishu
            .until(attempt.deadline.instant)
            .get_instance(&instance.instance_code)
            .await
            .map_err(outcome::at_step(Step::ApprovalGet))?;
        // Revoked or withdrawn since: the instance detail never says REVERTED; a revoked
        // approved instance shows `reverted: true` and CANCELED (doc "获取单个审批实例详情",
        // FAQ 「接口不会返回“REVERTED”」). Record a revoke instead of syncing and undoing.
        let gone = matches!(
            fetched.status,
            ApprovalStatus::Canceled | ApprovalStatus::Deleted | ApprovalStatus::Reverted
        );
        if fetched.reverted || gone {
            return self.revoke(instance, attempt, event_id).await;
        }
        if fetched.status != ApprovalStatus::Approved {
            return Ok(Outcome::Ignored {
                reason: format!("the instance is {:?} now, not approved", fetched.status),
            });
        }
        let leave = match self.form_of(&instance.approval_code) {
            Some(FormKind::Overtime) => {
                custom_form::overtime_from_instance(&fetched, &self.forms, &self.zone)?
            }
            _ => custom_form::leave_from_instance(&fetched, &self.forms, &self.zone)?,
        };
        self.approve(instance, &leave, attempt, event_id).await
    }

    /// What the definition `code` holds, as configured; `None` if it is not ours to read.
    fn form_of(&self, code: &str) -> Option<FormKind> {
        let f = &self.forms;
        if f.overtime_approval_codes.contains(code) {
            Some(FormKind::Overtime)
        } else if f.approval_codes.contains(code) || f.leave_approval_codes.contains(code) {
            Some(FormKind::Leave)
        } else {
            None
        }
    }

    /// Runs `claim` and, while another invocation holds a live lease on the instance
    /// (`busy` says which refusals mean that: a twin in another batch), tries again within
    /// this attempt instead of spending one of the message's deliveries on a wait. Waits
    /// at most [`BUSY_PATIENCE`], and never more than half the time the attempt has left.
    async fn claim_patiently<Fut>(
        &self,
        attempt: &Attempt,
        busy: impl Fn(&Record) -> bool,
        claim: impl Fn() -> Fut,
    ) -> Result<Claim, LedgerError>
    where
        Fut: Future<Output = Result<Claim, LedgerError>>,
    {
        let patience = BUSY_PATIENCE.min(attempt.deadline.remaining() / 2);
        let give_up = Instant::now() + patience;
        let mut pause = Duration::from_millis(100);
        loop {
            let result = claim().await;
            let waiting = matches!(
                &result,
                Ok(Claim::Refused(r)) if r.is_leased(Timestamp::now()) && busy(r)
            );
            if !waiting || Instant::now() + pause >= give_up {
                return result;
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(1));
        }
    }

    /// On failure, leaves the ledger right for the next attempt: a retryable error
    /// releases the lease (noting the error), a permanent one marks the instance failed.
    async fn settle(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        result: Result<Outcome, SyncError>,
    ) -> Result<Outcome, SyncError> {
        let Err(e) = result else {
            return result;
        };
        let recorded = if e.is_retryable() {
            self.ledger.release(instance, lease, &e.describe()).await
        } else {
            self.ledger
                .fail(instance, lease, e.step().as_str(), &e.describe())
                .await
        };
        if let Err(le) = recorded {
            // The lease ran out meanwhile; the next attempt sees the steps recorded so far.
            warn!("could not record the failure in the ledger: {le}");
        }
        Err(e)
    }
}
