//! The workflows: sync an approved leave, revoke it, react to a custom form's status.
//! Each runs only the steps the ledger does not show as done, under the instance's lease,
//! recording every result as soon as Feishu confirms it.

pub mod cards;
pub mod custom_form;
pub mod mapping;

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;
use tracing::{Span, info, warn};

use crate::config::{CustomFormConfig, ProcessorConfig};
use crate::event::{ApprovalStatus, DomainEvent, EventError, FeishuEvent, InstanceRef, Leave};
use crate::feishu::attendance::{ApprovalType, EmployeeType, STATUS_REVOKED, UserApprovalQuery};
use crate::feishu::calendar::UserIdType;
use crate::feishu::im::{OutgoingMessage, ReceiveIdType};
use crate::feishu::{FeishuClient, FeishuError};
use crate::ledger::{Claim, Lease, Ledger, LedgerError, Notified, Record, State, Step};
use crate::queue::QueuedEvent;
use cards::Purpose;
use custom_form::FormError;
use mapping::{MappingError, TenantZone};

/// One attempt at one event.
#[derive(Debug, Clone)]
pub struct Run {
    /// Unique per attempt (invocation id / message id): the lease owner.
    pub owner: String,
    /// When the invocation ends; Feishu calls give up in time to record their result.
    pub deadline: Instant,
    pub lease_until: Timestamp,
    /// Set on events redriven by `leave-sync redrive`: retry a permanent failure.
    pub redrive: bool,
}

impl Run {
    pub fn new(owner: impl Into<String>, remaining: Duration, redrive: bool) -> Self {
        let remaining_signed =
            jiff::SignedDuration::try_from(remaining).unwrap_or(jiff::SignedDuration::ZERO);
        Self {
            owner: owner.into(),
            deadline: Instant::now() + remaining,
            // The lease lasts exactly as long as the invocation can: if the function is
            // killed, the next delivery (after the visibility timeout, which is longer)
            // finds it expired.
            lease_until: Timestamp::now()
                .checked_add(remaining_signed)
                .unwrap_or_else(|_| Timestamp::now()),
            redrive,
        }
    }

    fn lease(&self) -> Lease {
        Lease {
            owner: self.owner.clone(),
            until: self.lease_until,
        }
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
    /// An earlier event for the instance failed permanently; see the dead-letter queue.
    SkippedFailed {
        reason: String,
    },
    Ignored {
        reason: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error("{step}: {source}")]
    Feishu {
        step: &'static str,
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
}

impl SyncError {
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Feishu { source, .. } => source.is_retryable(),
            Self::Ledger(e) => e.is_retryable(),
            Self::Busy { .. } | Self::AttendanceNotVisible => true,
            Self::Event(_) | Self::Form(_) | Self::Mapping(_) => false,
        }
    }

    /// The step that failed, for the ledger and the dead-letter reason.
    pub fn step(&self) -> &'static str {
        match self {
            Self::Feishu { step, .. } => step,
            Self::Ledger(_) | Self::Busy { .. } => "ledger",
            Self::Event(_) => "parse",
            Self::Form(_) => "custom_form",
            Self::Mapping(_) => "mapping",
            Self::AttendanceNotVisible => "attendance",
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
}

fn set_step(step: &'static str) {
    Span::current().record("step", step);
}

pub struct LeaveSync {
    feishu: FeishuClient,
    ledger: Ledger,
    zone: TenantZone,
    forms: CustomFormConfig,
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
        }
    }

    pub fn from_config(config: &ProcessorConfig, feishu: FeishuClient, ledger: Ledger) -> Self {
        Self::new(
            feishu,
            ledger,
            TenantZone::new(config.tenant_timezone.clone()),
            config.custom_forms.clone(),
        )
    }

    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// Processes one queued event.
    pub async fn handle(&self, event: &QueuedEvent, run: &Run) -> Result<Outcome, SyncError> {
        set_step("parse");
        let Some(parsed) = FeishuEvent::parse(&event.event_type, event.event.get())? else {
            return Ok(Outcome::Ignored {
                reason: format!("event type {} is not handled", event.event_type),
            });
        };
        let domain = parsed.into_domain(event.tenant_key.as_deref())?;
        if let Some(instance) = domain.instance() {
            Span::current().record("instance_code", instance.instance_code.as_str());
        }
        match domain {
            DomainEvent::LeaveApproved { instance, leave } => {
                self.sync(&instance, &leave, run, &event.event_id).await
            }
            DomainEvent::LeaveRevoked { instance } => {
                self.revoke(&instance, run, &event.event_id).await
            }
            DomainEvent::ApprovalStatusChanged { instance, status } => {
                self.status_changed(&instance, status, run, &event.event_id)
                    .await
            }
            DomainEvent::ChatMessage(_) => Ok(Outcome::Ignored {
                reason: "chat commands are not enabled yet".into(),
            }),
            DomainEvent::Unsupported { reason, .. } => Ok(Outcome::Ignored { reason }),
        }
    }

    /// A custom form's instance changed status (only for CUSTOM_APPROVAL_CODES).
    async fn status_changed(
        &self,
        instance: &InstanceRef,
        status: ApprovalStatus,
        run: &Run,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        if !self.forms.approval_codes.contains(&instance.approval_code) {
            return Ok(Outcome::Ignored {
                reason: format!(
                    "approval code {} is not in CUSTOM_APPROVAL_CODES",
                    instance.approval_code
                ),
            });
        }
        match status {
            ApprovalStatus::Approved => {
                set_step("approval.get");
                let fetched = self
                    .feishu
                    .until(run.deadline)
                    .get_instance(&instance.instance_code)
                    .await
                    .map_err(at_step("approval.get"))?;
                if fetched.reverted || fetched.status == ApprovalStatus::Reverted {
                    // Revoked since: record that instead of syncing and then undoing.
                    return self.revoke(instance, run, event_id).await;
                }
                let leave = custom_form::leave_from_instance(&fetched, &self.forms, &self.zone)?;
                self.sync(instance, &leave, run, event_id).await
            }
            // A cancellation only matters after a sync; before one it leaves a tombstone.
            ApprovalStatus::Reverted | ApprovalStatus::Canceled => {
                self.revoke(instance, run, event_id).await
            }
            other => Ok(Outcome::Ignored {
                reason: format!("status {other:?} needs no action"),
            }),
        }
    }

    async fn sync(
        &self,
        instance: &InstanceRef,
        leave: &Leave,
        run: &Run,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        set_step("claim");
        let lease = run.lease();
        let record = match self
            .ledger
            .claim_sync(instance, leave, &lease, event_id, run.redrive)
            .await?
        {
            Claim::Acquired(r) => r,
            Claim::Refused(r) => return refused_sync(&r),
            Claim::Tombstoned => {
                return Err(LedgerError::Corrupt {
                    instance_code: instance.instance_code.clone(),
                    detail: "a sync claim left a tombstone".into(),
                }
                .into());
            }
        };
        // The leave stored by the first event wins, so V1/V2 twins write the same thing.
        let leave = record.leave.clone().unwrap_or_else(|| leave.clone());
        let result = self
            .sync_steps(instance, &leave, &record, &lease, run)
            .await;
        self.settle(instance, &lease, result).await
    }

    async fn sync_steps(
        &self,
        instance: &InstanceRef,
        leave: &Leave,
        record: &Record,
        lease: &Lease,
        run: &Run,
    ) -> Result<Outcome, SyncError> {
        let feishu = self.feishu.until(run.deadline);
        if record.approval_id.is_none() {
            set_step("attendance");
            let approval_id = self.write_attendance(&feishu, instance, leave).await?;
            self.ledger
                .record(instance, lease, &Step::Attendance { approval_id })
                .await?;
        }
        if record.timeoff_event_id.is_none() {
            set_step("timeoff");
            let event = mapping::timeoff_event(instance, leave, &self.zone)?;
            let created = feishu
                .create_timeoff_event(UserIdType::OpenId, &event)
                .await
                .map_err(at_step("timeoff"))?;
            self.ledger
                .record(
                    instance,
                    lease,
                    &Step::Timeoff {
                        timeoff_event_id: created.timeoff_event_id,
                    },
                )
                .await?;
        }
        set_step("notify");
        let notified = self
            .notify(&feishu, instance, leave, Purpose::Synced)
            .await?;
        self.ledger
            .complete_sync(instance, lease, &notified)
            .await?;
        Ok(Outcome::Synced)
    }

    /// Writes the attendance record; after a lost response the retry meets "already
    /// exists" and reads the approval_id back instead of writing a duplicate.
    async fn write_attendance(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
    ) -> Result<String, SyncError> {
        let record = mapping::attendance_record(instance, leave);
        match feishu
            .create_user_approval(EmployeeType::EmployeeId, &record)
            .await
        {
            Ok(written) => written
                .leaves
                .into_iter()
                .find_map(|l| l.approval_id)
                .ok_or_else(|| SyncError::Feishu {
                    step: "attendance",
                    source: FeishuError::Protocol {
                        api: "attendance.user_approvals.create",
                        status: 200,
                        detail: "the answer carries no approval_id".into(),
                        log_id: None,
                    },
                }),
            Err(e) if e.is_already_exists() => {
                info!(
                    "attendance record already exists (an earlier attempt wrote it), reading its approval_id"
                );
                self.find_attendance(feishu, instance, leave, 2)
                    .await?
                    .ok_or(SyncError::AttendanceNotVisible)
            }
            Err(e) => Err(feishu_err("attendance", e)),
        }
    }

    /// The approval_id of the record this service wrote for `instance`, by
    /// `idempotent_id`, among records in `status` (2 approved, 4 reverted).
    async fn find_attendance(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        status: i32,
    ) -> Result<Option<String>, SyncError> {
        let from = leave.start.date();
        // The query spans at most 30 days; the record sits on the leave's first day.
        let to = leave
            .end
            .date()
            .min(from.saturating_add(jiff::Span::new().days(29)));
        let ymd = |d: jiff::civil::Date| {
            u32::try_from(
                i32::from(d.year()) * 10_000 + i32::from(d.month()) * 100 + i32::from(d.day()),
            )
            .unwrap_or_default()
        };
        let found = feishu
            .query_user_approvals(
                EmployeeType::EmployeeId,
                &UserApprovalQuery {
                    user_ids: vec![leave.user_id.clone()],
                    check_date_from: ymd(from),
                    check_date_to: ymd(to.max(from)),
                    check_date_type: None,
                    status: Some(status),
                },
            )
            .await
            .map_err(at_step("attendance.query"))?;
        let ours = mapping::idempotent_id(instance);
        Ok(found
            .into_iter()
            .flat_map(|a| a.leaves)
            .find(|l| l.idempotent_id.as_deref() == Some(ours.as_str()))
            .and_then(|l| l.approval_id))
    }

    async fn notify(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        purpose: Purpose,
    ) -> Result<Notified, SyncError> {
        let card = match purpose {
            Purpose::Synced => cards::synced_card(instance, leave),
            Purpose::Revoked => cards::revoked_card(instance, leave),
        };
        let message = OutgoingMessage::card(
            leave.open_id.clone(),
            &card,
            Some(cards::message_uuid(instance, purpose)),
        );
        match feishu.send_message(ReceiveIdType::OpenId, &message).await {
            Ok(sent) => Ok(Notified::Sent(sent.message_id)),
            Err(e) if e.is_retryable() => Err(feishu_err("notify", e)),
            Err(e) => {
                // The leave is synced; a message that can never be delivered must not undo
                // that or block the queue. Recorded in the ledger and logged.
                let reason = match e.hint() {
                    Some(hint) => format!("{e} — {hint}"),
                    None => e.to_string(),
                };
                warn!("could not notify the employee: {reason}");
                Ok(Notified::Failed(reason))
            }
        }
    }

    async fn revoke(
        &self,
        instance: &InstanceRef,
        run: &Run,
        event_id: &str,
    ) -> Result<Outcome, SyncError> {
        set_step("claim");
        let lease = run.lease();
        let record = match self.ledger.claim_revoke(instance, &lease, event_id).await? {
            Claim::Acquired(r) => r,
            Claim::Tombstoned => {
                info!(
                    "revoke for an instance not synced (yet): recorded; a later approval will be skipped"
                );
                return Ok(Outcome::RevokeRecorded);
            }
            Claim::Refused(r) => {
                return match r.state {
                    State::Revoked | State::Tombstone => Ok(Outcome::AlreadyRevoked),
                    _ => Err(busy(&r)),
                };
            }
        };
        let result = self.revoke_steps(instance, &record, &lease, run).await;
        self.settle(instance, &lease, result).await
    }

    async fn revoke_steps(
        &self,
        instance: &InstanceRef,
        record: &Record,
        lease: &Lease,
        run: &Run,
    ) -> Result<Outcome, SyncError> {
        let feishu = self.feishu.until(run.deadline);
        let leave = record.leave.as_ref();
        if !record.attendance_revoked {
            set_step("attendance_revoke");
            let approval_id = match (&record.approval_id, leave) {
                (Some(id), _) => Some(id.clone()),
                // A sync interrupted between writing attendance and recording it (not one
                // that failed at the attendance step: then nothing was written).
                (None, Some(leave)) if record.failed_step.as_deref() != Some("attendance") => {
                    self.find_attendance(&feishu, instance, leave, 2).await?
                }
                _ => None,
            };
            if let Some(id) = approval_id {
                if let Err(e) = feishu
                    .process_approval_info(&id, ApprovalType::Leave, STATUS_REVOKED)
                    .await
                {
                    // Only approved records can be revoked: after a lost response the
                    // retry is refused. Check before calling it a failure.
                    let already = !e.is_retryable()
                        && match leave {
                            Some(l) => {
                                self.find_attendance(&feishu, instance, l, STATUS_REVOKED)
                                    .await?
                                    == Some(id.clone())
                            }
                            None => false,
                        };
                    if !already {
                        return Err(feishu_err("attendance_revoke", e));
                    }
                }
                self.ledger
                    .record(instance, lease, &Step::AttendanceRevoked)
                    .await?;
            }
        }
        if let Some(timeoff_id) = &record.timeoff_event_id
            && !record.timeoff_deleted
        {
            set_step("timeoff_delete");
            match feishu.delete_timeoff_event(timeoff_id).await {
                Ok(()) => {}
                Err(e) if is_not_found(&e) => {
                    info!("time-off event {timeoff_id} was already deleted");
                }
                Err(e) => return Err(feishu_err("timeoff_delete", e)),
            }
            self.ledger
                .record(instance, lease, &Step::TimeoffDeleted)
                .await?;
        }
        set_step("notify");
        // Tell the employee only if they were told about the sync (or could have been).
        let was_synced = record.approval_id.is_some() || record.timeoff_event_id.is_some();
        let notified = match leave {
            Some(leave) if was_synced => {
                self.notify(&feishu, instance, leave, Purpose::Revoked)
                    .await?
            }
            _ => Notified::Nothing,
        };
        self.ledger
            .complete_revoke(instance, lease, &notified)
            .await?;
        Ok(Outcome::Revoked)
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
                .fail(instance, lease, e.step(), &e.describe())
                .await
        };
        if let Err(le) = recorded {
            // The lease ran out meanwhile; the next attempt sees the steps recorded so far.
            warn!("could not record the failure in the ledger: {le}");
        }
        Err(e)
    }
}

fn feishu_err(step: &'static str, source: FeishuError) -> SyncError {
    SyncError::Feishu { step, source }
}

fn at_step(step: &'static str) -> impl FnOnce(FeishuError) -> SyncError {
    move |source| feishu_err(step, source)
}

fn busy(r: &Record) -> SyncError {
    SyncError::Busy {
        instance_code: r.instance_code.clone(),
        until: r
            .lease_until
            .map(|t| t.to_string())
            .unwrap_or_else(|| "unknown".into()),
    }
}

fn refused_sync(r: &Record) -> Result<Outcome, SyncError> {
    match r.state {
        State::Synced => Ok(Outcome::AlreadySynced),
        State::Tombstone | State::Revoking | State::Revoked => Ok(Outcome::SkippedRevoked),
        State::Failed if r.revoke_requested => Ok(Outcome::SkippedRevoked),
        State::Failed => Ok(Outcome::SkippedFailed {
            reason: r.failure.clone().unwrap_or_default(),
        }),
        State::Syncing => Err(busy(r)),
    }
}

/// Deleting a time-off event that no longer exists. The API's code for this is not
/// documented; a 404 or a "not found"/"not exist" message is taken to mean it.
fn is_not_found(e: &FeishuError) -> bool {
    match e {
        FeishuError::Api { status, msg, .. } => {
            *status == 404 || msg.contains("not found") || msg.contains("not exist")
        }
        _ => false,
    }
}
