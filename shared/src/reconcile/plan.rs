//! The reconciler's decisions, as pure functions of what Feishu and the ledger say: which
//! windows to list, what an instance's detail means for its ledger state, what is due for
//! a re-read, what looks stuck.

use std::time::Duration;

use jiff::Timestamp;

use crate::event::{ApprovalStatus, ReconcileAction};
use crate::feishu::approval::{Instance, LIST_WINDOW_MS};
use crate::ledger::State;
use crate::ledger::reconcile::Indexed;

/// What to do about one instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// Queue an event for the processor.
    Act {
        action: ReconcileAction,
        reason: String,
    },
    /// Tell the operator; change nothing.
    Attention(String),
    /// Nothing to do (still pending, rejected, or fine as it is).
    Nothing,
    /// Synced and still approved: remember that it was looked at.
    StillApproved,
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Where a definition's scan starts: `since` before now if asked; else `lookback` before
/// the last scan's end; else, on the first run, `backfill` before now.
pub fn scan_from(
    checkpoint_ms: Option<i64>,
    since: Option<Duration>,
    lookback: Duration,
    backfill: Duration,
    now_ms: i64,
) -> i64 {
    match (since, checkpoint_ms) {
        (Some(since), _) => now_ms.saturating_sub(ms(since)),
        (None, Some(until)) => until.min(now_ms).saturating_sub(ms(lookback)),
        (None, None) => now_ms.saturating_sub(ms(backfill)),
    }
}

/// `[from, to]` cut into windows the list API accepts (at most 10 hours each). Neighbours
/// share their boundary millisecond: the page does not say whether its bounds are
/// inclusive, so an instance created exactly there is listed by one of them either way.
pub fn slices(from_ms: i64, to_ms: i64) -> Vec<(i64, i64)> {
    let mut out = Vec::new();
    let mut start = from_ms;
    while start < to_ms {
        let end = start.saturating_add(LIST_WINDOW_MS).min(to_ms);
        out.push((start, end));
        start = end;
    }
    out
}

fn revoked(instance: &Instance) -> bool {
    // The detail never says REVERTED: a revoked approved instance shows `reverted: true`
    // and CANCELED (doc "获取单个审批实例详情"; FAQ 「接口不会返回“REVERTED”」).
    instance.reverted
        || matches!(
            instance.status,
            ApprovalStatus::Canceled | ApprovalStatus::Deleted | ApprovalStatus::Reverted
        )
}

/// An instance the ledger has never seen.
pub fn classify_new(instance: &Instance, now_ms: i64, settle: Duration) -> Finding {
    if instance.status != ApprovalStatus::Approved || revoked(instance) {
        // Pending comes back on a later run; the rest never needed a sync.
        return Finding::Nothing;
    }
    if instance.end_time > now_ms.saturating_sub(ms(settle)) {
        // Just approved: its webhook events are on their way (and Feishu retries them).
        return Finding::Nothing;
    }
    Finding::Act {
        action: ReconcileAction::Sync,
        reason: "approved in Feishu, never synced (its events did not arrive)".into(),
    }
}

/// An instance the ledger shows synced.
pub fn classify_synced(instance: &Instance) -> Finding {
    if revoked(instance) {
        let how = if instance.reverted {
            "revoked"
        } else {
            "withdrawn or deleted"
        };
        return Finding::Act {
            action: ReconcileAction::Revoke,
            reason: format!(
                "{how} in Feishu ({:?}), still synced (the revoke event did not arrive)",
                instance.status
            ),
        };
    }
    match &instance.status {
        ApprovalStatus::Approved => Finding::StillApproved,
        // Withdrawing an approved instance can send it back to review (doc "撤回审批实例":
        // 「如果撤回的是已通过的实例，则审批实例会变更为 审批中 的状态」): not revoked, not
        // approved. Undoing it automatically could undo a leave that is approved again.
        other => Finding::Attention(format!(
            "synced, but Feishu now shows it {other:?}: check the approval; `leave-sync \
             ledger` shows what was written"
        )),
    }
}

/// Whether a synced instance is due for a re-read.
pub fn recheck_due(item: &Indexed, now: Timestamp, every: Duration) -> bool {
    let Some(last) = item
        .rechecked_at
        .as_deref()
        .and_then(|t| t.parse::<Timestamp>().ok())
    else {
        return true;
    };
    now.as_millisecond() - last.as_millisecond() >= ms(every)
}

/// How long a lease may be gone before an unfinished item counts as stuck.
pub const STUCK_AFTER: Duration = Duration::from_secs(3600);

/// What an operator should know about an item that is failed or stuck mid-way.
pub fn needs_operator(item: &Indexed, now_ms: i64) -> Option<String> {
    match item.state {
        State::Failed => Some(format!(
            "failed at {}: fix the cause, then `leave-sync redrive --instance {}`",
            item.failed_step.as_deref().unwrap_or("?"),
            item.instance.instance_code
        )),
        State::Syncing | State::Revoking => {
            let lapsed = item.lease_until_ms.unwrap_or(0) < now_ms - ms(STUCK_AFTER);
            lapsed.then(|| {
                format!(
                    "{} with no live lease for over an hour: its message is probably in the \
                     dead-letter queue (`leave-sync redrive --dry-run`)",
                    item.state.as_str()
                )
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::InstanceRef;

    fn instance(status: ApprovalStatus, reverted: bool, end_time: i64) -> Instance {
        Instance {
            approval_name: String::new(),
            approval_code: "A".into(),
            instance_code: "I".into(),
            status,
            reverted,
            user_id: "u".into(),
            open_id: "ou".into(),
            form: "[]".into(),
            serial_number: None,
            uuid: None,
            start_time: 0,
            end_time,
        }
    }

    const H: i64 = 3_600_000;

    #[test]
    fn windows_cover_the_range_in_ten_hour_slices_sharing_their_bounds() {
        assert_eq!(
            slices(0, 25 * H),
            vec![(0, 10 * H), (10 * H, 20 * H), (20 * H, 25 * H)]
        );
        assert_eq!(slices(5, 5), vec![]);
        assert_eq!(slices(0, 1), vec![(0, 1)]);
    }

    #[test]
    fn a_scan_starts_from_since_else_the_checkpoint_minus_lookback_else_the_backfill() {
        let day = Duration::from_secs(86_400);
        let now = 100 * 24 * H;
        assert_eq!(
            scan_from(Some(80 * 24 * H), Some(day), 7 * day, 30 * day, now),
            now - 24 * H
        );
        assert_eq!(
            scan_from(Some(now - H), None, 7 * day, 30 * day, now),
            now - H - 7 * 24 * H
        );
        assert_eq!(
            scan_from(None, None, 7 * day, 30 * day, now),
            now - 30 * 24 * H
        );
        // A checkpoint from a clock ahead of this one: never start in the future.
        assert_eq!(scan_from(Some(now + H), None, day, day, now), now - 24 * H);
    }

    #[test]
    fn a_new_instance_is_synced_only_once_approved_and_settled() {
        let now = 10 * H;
        let settle = Duration::from_secs(600);
        let approved = |end| instance(ApprovalStatus::Approved, false, end);
        assert!(matches!(
            classify_new(&approved(now - H), now, settle),
            Finding::Act {
                action: ReconcileAction::Sync,
                ..
            }
        ));
        assert_eq!(
            classify_new(&approved(now - 60_000), now, settle),
            Finding::Nothing
        );
        for status in [
            ApprovalStatus::Pending,
            ApprovalStatus::Rejected,
            ApprovalStatus::Canceled,
        ] {
            assert_eq!(
                classify_new(&instance(status, false, 0), now, settle),
                Finding::Nothing
            );
        }
        let revoked_before_sync = instance(ApprovalStatus::Canceled, true, now - H);
        assert_eq!(
            classify_new(&revoked_before_sync, now, settle),
            Finding::Nothing
        );
    }

    #[test]
    fn a_synced_instance_is_revoked_when_feishu_shows_it_revoked_or_withdrawn() {
        for (status, reverted) in [
            (ApprovalStatus::Canceled, true),
            (ApprovalStatus::Canceled, false),
            (ApprovalStatus::Deleted, false),
            (ApprovalStatus::Approved, true),
        ] {
            assert!(
                matches!(
                    classify_synced(&instance(status.clone(), reverted, 1)),
                    Finding::Act {
                        action: ReconcileAction::Revoke,
                        ..
                    }
                ),
                "{status:?} reverted={reverted}"
            );
        }
        assert_eq!(
            classify_synced(&instance(ApprovalStatus::Approved, false, 1)),
            Finding::StillApproved
        );
        assert!(matches!(
            classify_synced(&instance(ApprovalStatus::Pending, false, 0)),
            Finding::Attention(_)
        ));
    }

    fn indexed(state: State, rechecked_at: Option<&str>, lease_until_ms: Option<i64>) -> Indexed {
        Indexed {
            instance: InstanceRef {
                tenant_key: "t".into(),
                approval_code: "A".into(),
                instance_code: "I".into(),
            },
            state,
            created_at: "2026-11-01T00:00:00Z".into(),
            rechecked_at: rechecked_at.map(str::to_owned),
            lease_until_ms,
            failed_step: Some("attendance".into()),
        }
    }

    #[test]
    fn rechecks_are_spaced_and_stuck_items_reported() {
        let now: Timestamp = "2026-11-23T12:00:00Z".parse().unwrap();
        let day = Duration::from_secs(86_400);
        assert!(recheck_due(&indexed(State::Synced, None, None), now, day));
        assert!(!recheck_due(
            &indexed(State::Synced, Some("2026-11-23T00:00:00Z"), None),
            now,
            day
        ));
        assert!(recheck_due(
            &indexed(State::Synced, Some("2026-11-22T11:00:00Z"), None),
            now,
            day
        ));

        let now_ms = now.as_millisecond();
        assert!(
            needs_operator(&indexed(State::Failed, None, None), now_ms)
                .unwrap()
                .contains("redrive --instance I")
        );
        assert!(
            needs_operator(&indexed(State::Syncing, None, Some(now_ms - 2 * H)), now_ms).is_some()
        );
        assert!(
            needs_operator(
                &indexed(State::Syncing, None, Some(now_ms - 60_000)),
                now_ms
            )
            .is_none()
        );
        assert!(needs_operator(&indexed(State::Synced, None, None), now_ms).is_none());
    }
}
