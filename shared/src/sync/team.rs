//! The team's shared leave calendar (README, "Team calendar"): with `TEAM_CALENDAR_ID` set,
//! every synced leave also gets an entry there ("张伟 · 年假"), free not busy, telling no
//! one, and a revoke deletes it. The entry is a courtesy to colleagues: a failure that
//! retrying will not change is noted in the ledger and alarmed, never made the leave's
//! failure. A lost answer is covered by the create's `idempotency_key` (doc "创建日程":
//! 「该 key 在应用和日历维度下唯一，用于避免重复创建资源」). (assumption) what a repeated key
//! answers is not documented: the simulator answers the first event; any other answer is
//! a refusal here, noted like the others.

use sha2::{Digest, Sha256};
use tracing::error;

use super::LeaveSync;
use super::mapping::{MappingError, TenantZone, inclusive_end_date, unix_seconds};
use super::outcome::{Step, SyncError, feishu_err};
use crate::config::TeamShows;
use crate::event::{InstanceRef, Leave, LeaveUnit};
use crate::feishu::calendar::{CalendarEvent, EventTime};
use crate::feishu::contact::UserName;
use crate::feishu::{FeishuClient, FeishuError};
use crate::ledger::{Lease, Record, StepResult, TeamEventRef};
use crate::telemetry::alert;

impl LeaveSync {
    /// Puts `leave` on the team calendar unless the ledger shows it there (or none is
    /// configured, or it is overtime).
    pub(super) async fn add_to_team_calendar(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        leave: &Leave,
        (record, lease): (&Record, &Lease),
    ) -> Result<(), SyncError> {
        let Some(team) = &self.team else {
            return Ok(());
        };
        if leave.is_overtime() || record.team_event.is_some() {
            return Ok(());
        }
        Step::TeamCalendar.enter();
        let who = match team.shows {
            TeamShows::Busy => None,
            _ => match feishu.user_name(&leave.open_id).await {
                Ok(name) => Some(name),
                Err(e) => {
                    return self
                        .team_refused(instance, lease, Step::TeamCalendar, e)
                        .await;
                }
            },
        };
        let event = team_event(instance, leave, who.as_ref(), team.shows, &self.zone)?;
        let key = idempotency_key(instance);
        match feishu
            .create_calendar_event(&team.calendar_id, &event, Some(&key))
            .await
        {
            Ok(created) => {
                let entry = TeamEventRef {
                    calendar_id: team.calendar_id.clone(),
                    event_id: created.event_id,
                };
                let step = StepResult::TeamEvent(entry);
                Ok(self.ledger.record(instance, lease, &step).await?)
            }
            Err(e) => {
                self.team_refused(instance, lease, Step::TeamCalendar, e)
                    .await
            }
        }
    }

    /// Deletes the leave's team-calendar entry, where it was made.
    pub(super) async fn remove_from_team_calendar(
        &self,
        feishu: &FeishuClient,
        instance: &InstanceRef,
        entry: &TeamEventRef,
        lease: &Lease,
    ) -> Result<(), SyncError> {
        Step::TeamCalendarDelete.enter();
        let deleted = feishu
            .delete_calendar_event(&entry.calendar_id, &entry.event_id)
            .await;
        match deleted {
            Ok(()) => Ok(self
                .ledger
                .record(instance, lease, &StepResult::TeamEventDeleted)
                .await?),
            Err(e) => {
                self.team_refused(instance, lease, Step::TeamCalendarDelete, e)
                    .await?;
                // Not retried: recorded as done so that the revoke completes.
                Ok(self
                    .ledger
                    .record(instance, lease, &StepResult::TeamEventDeleted)
                    .await?)
            }
        }
    }

    /// A retryable error is retried like any step's; any other is alarmed and noted for
    /// an operator, and the sync or revoke goes on without the team calendar.
    async fn team_refused(
        &self,
        instance: &InstanceRef,
        lease: &Lease,
        step: Step,
        e: FeishuError,
    ) -> Result<(), SyncError> {
        if e.is_retryable() {
            return Err(feishu_err(step, e));
        }
        let said = match e.hint() {
            Some(hint) => format!("{e} — {hint}"),
            None => e.to_string(),
        };
        error!(alert = alert::TEAM_CALENDAR_FAILED, step = %step, "team calendar: {said}");
        let fix = match step {
            Step::TeamCalendarDelete => "delete its entry from the team calendar by hand",
            _ => "leave synced from now on gets its entry; add this one by hand if it matters",
        };
        let note = format!(
            "{}: {step}: {said}; the leave itself is {}. Fix the cause; {fix}",
            alert::TEAM_CALENDAR_FAILED,
            if step == Step::TeamCalendarDelete {
                "revoked"
            } else {
                "synced"
            }
        );
        Ok(self
            .ledger
            .record(instance, lease, &StepResult::Attention(note))
            .await?)
    }
}

/// The `idempotency_key` of an instance's entry: 32–128 characters (doc "创建日程").
pub fn idempotency_key(instance: &InstanceRef) -> String {
    let digest =
        Sha256::digest(format!("{}\n{}", instance.tenant_key, instance.instance_code).as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("leave-sync-team-{hex}")
}

/// The entry: all-day for day leave (the last day inclusive, as the time-off event), timed
/// otherwise; free, not busy; public, so that every subscriber sees its title (doc
/// "日历常见问题": 「当日程公开范围为 public，用户对当前日历无论为何种权限均可见标题」); no
/// notification, no meeting link. The reason is never shown.
pub fn team_event(
    instance: &InstanceRef,
    leave: &Leave,
    who: Option<&UserName>,
    shows: TeamShows,
    zone: &TenantZone,
) -> Result<CalendarEvent, MappingError> {
    let (start_time, end_time) = match leave.unit {
        LeaveUnit::Day => (
            EventTime::Date {
                date: leave.start.date().to_string(),
            },
            EventTime::Date {
                date: inclusive_end_date(leave).to_string(),
            },
        ),
        _ => {
            let at = |dt| -> Result<EventTime, MappingError> {
                Ok(EventTime::Timestamp {
                    timestamp: unix_seconds(dt, zone)?,
                    timezone: zone.name.clone(),
                })
            };
            (at(leave.start)?, at(leave.end)?)
        }
    };
    Ok(CalendarEvent {
        summary: summary(leave, who, shows),
        description: Some(format!(
            "leave-sync · 审批 Approval {}",
            instance.instance_code
        )),
        start_time,
        end_time,
        need_notification: Some(false),
        free_busy_status: Some("free".into()),
        visibility: Some("public".into()),
        vchat: Some(serde_json::json!({ "vc_type": "no_meeting" })),
    })
}

fn summary(leave: &Leave, who: Option<&UserName>, shows: TeamShows) -> String {
    let name = who
        .map(|w| match (w.name.as_str(), w.en_name.as_str()) {
            ("", en) => en.to_owned(),
            (zh, "") => zh.to_owned(),
            (zh, en) if zh == en => zh.to_owned(),
            (zh, en) => format!("{zh} {en}"),
        })
        .filter(|n| !n.is_empty());
    let kind = leave
        .leave_type
        .names
        .primary()
        .unwrap_or("请假")
        .to_owned();
    match (shows, name) {
        (TeamShows::Busy, _) | (_, None) => "忙碌 Busy".to_owned(),
        (TeamShows::Name, Some(name)) => format!("{name} · 外出 Out"),
        (TeamShows::NameAndType, Some(name)) => format!("{name} · {kind}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use jiff::tz::TimeZone;

    fn instance() -> InstanceRef {
        InstanceRef {
            tenant_key: "t".into(),
            approval_code: "A".into(),
            instance_code: "I-1".into(),
        }
    }

    fn zone() -> TenantZone {
        TenantZone::new(TimeZone::get("Asia/Shanghai").unwrap())
    }

    fn zhang() -> UserName {
        UserName {
            name: "张伟".into(),
            en_name: "Wei Zhang".into(),
        }
    }

    #[test]
    fn an_entry_shows_what_the_privacy_setting_allows_and_never_the_reason() {
        let mut leave = Leave::sample(); // 年假, 2026-12-01 → 12-03 (two days)
        leave.reason = "家里有事".into();
        let shown = |who, shows| {
            let e = team_event(&instance(), &leave, who, shows, &zone()).unwrap();
            let body = serde_json::to_value(&e).unwrap();
            assert!(!body.to_string().contains("家里有事"), "{body}");
            e.summary
        };
        let z = zhang();
        assert_eq!(
            shown(Some(&z), TeamShows::NameAndType),
            "张伟 Wei Zhang · 年假"
        );
        assert_eq!(
            shown(Some(&z), TeamShows::Name),
            "张伟 Wei Zhang · 外出 Out"
        );
        assert_eq!(shown(Some(&z), TeamShows::Busy), "忙碌 Busy");
        assert_eq!(shown(None, TeamShows::Busy), "忙碌 Busy");
    }

    #[test]
    fn day_leave_is_all_day_to_its_last_day_and_shorter_leave_is_timed() {
        let leave = Leave::sample();
        let e = team_event(&instance(), &leave, None, TeamShows::Busy, &zone()).unwrap();
        let body = serde_json::to_value(&e).unwrap();
        assert_eq!(
            body["start_time"],
            serde_json::json!({ "date": "2026-12-01" })
        );
        assert_eq!(
            body["end_time"],
            serde_json::json!({ "date": "2026-12-02" })
        );
        assert_eq!(
            (
                &body["free_busy_status"],
                &body["visibility"],
                &body["need_notification"]
            ),
            (&"free".into(), &"public".into(), &false.into())
        );
        let mut hours = Leave::sample();
        hours.unit = LeaveUnit::Hour;
        hours.start = date(2026, 12, 5).at(14, 0, 0, 0);
        hours.end = date(2026, 12, 5).at(17, 0, 0, 0);
        let e = team_event(&instance(), &hours, None, TeamShows::Busy, &zone()).unwrap();
        let body = serde_json::to_value(&e).unwrap();
        assert_eq!(body["start_time"]["timestamp"], "1796450400");
        assert_eq!(body["start_time"]["timezone"], "Asia/Shanghai");
        let key = idempotency_key(&instance());
        assert!((32..=128).contains(&key.len()), "{key}");
    }
}
