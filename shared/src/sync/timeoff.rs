//! The time-off event: the one write Feishu gives no idempotency key for, and no way to
//! list or read back (reference §4.5, 7.9). A retry after Feishu stored one would make a
//! second badge that a revoke never deletes, so the create runs at most once per leave
//! unless an operator says otherwise:
//!
//! - a leave may need several events (one per working-time segment); each is made in turn;
//! - the token is fetched first (a token failure is not an unknown outcome), then a marker
//!   (`timeoff_attempted_at`) is recorded under the lease, then the POST, then the id is
//!   appended and the marker removed in one write;
//! - the POST is retried only after an error that proves Feishu did not act on it
//!   (`FeishuError::proves_not_applied` with the API's documented refusals), and then
//!   the marker goes;
//! - any other failure, or a marker found by a later attempt, is an *unknown outcome*:
//!   the instance is parked (failed at `timeoff`, dead-lettered with the fix) and nothing
//!   is created until an operator records what they found in the ledger
//!   (`leave-sync redrive --instance X --timeoff-missing | --timeoff-exists`). That
//!   decision clears the marker once; a marker written after it parks again.
//!
//! The event is a calendar entry (日程) on the employee's calendar with the title and
//! description we give it; deleting it removes the profile's "请假" badge (doc "创建请假日
//! 程": 「若删除此日程，飞书中相应的“请假”标签将自动消失」). So the employee can tell
//! whether one exists, on any date, by its description "Synced by leave-sync from
//! approval <code>"; the badge itself only shows while the leave runs.

use tracing::error;

use super::cards::describe_period;
use super::outcome::{Step, SyncError, feishu_err};
use super::{LeaveSync, mapping};
use crate::event::{InstanceRef, Leave};
use crate::feishu::FeishuClient;
use crate::feishu::calendar::{TIMEOFF_CREATE_REFUSALS, TimeoffEvent, UserIdType};
use crate::ledger::{Lease, Record, StepResult};
use crate::telemetry::alert;

impl LeaveSync {
    /// Creates the leave's time-off events (one, or one per working-time segment) that the
    /// ledger does not show as made, once each, recording each id.
    pub(super) async fn create_timeoffs(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        (record, lease): (&Record, &Lease),
    ) -> Result<(), SyncError> {
        Step::Timeoff.enter();
        let events = mapping::timeoff_events(instance, leave, &self.zone)?;
        // What the operator looks for on the employee's calendar if an outcome is unknown.
        let period = |i: usize| match events.get(i) {
            Some(e) if events.len() > 1 => format!(
                "{}, segment {} of {}: {}",
                describe_period(leave),
                i + 1,
                events.len(),
                self.describe_event(e)
            ),
            _ => describe_period(leave),
        };
        if let Some(since) = &record.timeoff_attempted_at {
            let detail = format!("an attempt at {since} left no id");
            return Err(unknown(detail, period(record.timeoff_done())));
        }
        for (i, event) in events.iter().enumerate().skip(record.timeoff_done()) {
            self.create_timeoff(feishu, instance, event, lease, &period(i))
                .await?;
        }
        Ok(())
    }

    /// A timed event's local times (all-day events name their dates).
    fn describe_event(&self, event: &TimeoffEvent) -> String {
        let local = |secs: &str| {
            secs.parse::<i64>()
                .ok()
                .and_then(|s| jiff::Timestamp::from_second(s).ok())
                .map(|t| {
                    t.to_zoned(self.zone.tz.clone())
                        .strftime("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .unwrap_or_else(|| secs.to_owned())
        };
        format!("{} → {}", local(&event.start_time), local(&event.end_time))
    }

    /// One create: the token first (a token failure is not an unknown outcome), the marker,
    /// the POST, then the id recorded with the marker removed.
    async fn create_timeoff(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        event: &TimeoffEvent,
        lease: &Lease,
        period: &str,
    ) -> Result<(), SyncError> {
        feishu
            .check_token()
            .await
            .map_err(|e| feishu_err(Step::Timeoff, e))?;
        let ledger = &self.ledger;
        ledger
            .record(instance, lease, &StepResult::TimeoffAttempted)
            .await?;
        match feishu.create_timeoff_event(UserIdType::OpenId, event).await {
            Ok(created) => {
                let timeoff_event_id = created.timeoff_event_id;
                let recorded = StepResult::Timeoff {
                    timeoff_event_id: timeoff_event_id.clone(),
                };
                ledger
                    .record(instance, lease, &recorded)
                    .await
                    .map_err(|source| unrecorded(timeoff_event_id, period.to_owned(), source))
            }
            Err(e) if e.proves_not_applied(TIMEOFF_CREATE_REFUSALS) => {
                ledger
                    .record(instance, lease, &StepResult::TimeoffNotApplied)
                    .await?;
                Err(feishu_err(Step::Timeoff, e))
            }
            Err(e) => Err(unknown(e.to_string(), period.to_owned())),
        }
    }
}

fn unknown(detail: String, period: String) -> SyncError {
    error!(
        alert = alert::TIMEOFF_OUTCOME_UNKNOWN,
        "time-off create for {period}: outcome unknown ({detail}); parked for an operator"
    );
    SyncError::TimeoffOutcomeUnknown { detail, period }
}

/// The event was made but its id could not be recorded: kept in the log and the parked
/// reason, so an operator can record it and a revoke can still delete it.
fn unrecorded(id: String, period: String, source: crate::ledger::LedgerError) -> SyncError {
    error!(
        alert = alert::TIMEOFF_OUTCOME_UNKNOWN,
        timeoff_event_id = %id,
        "time-off event {id} for {period} was created but its id could not be recorded: {source}"
    );
    SyncError::TimeoffIdUnrecorded { id, period, source }
}
