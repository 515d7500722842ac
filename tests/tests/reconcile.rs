//! The reconciler against moto and the simulator: approvals whose events never arrived,
//! revokes that were missed, a race with the webhook's own events, and a scan cut off by
//! Feishu in the middle.

use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::{TestStack, assert_synced_once, writes};
use leave_sync_tests::sim::api::*;
use leave_sync_tests::sim::{Fault, FaultKind};
use shared::event::ReconcileAction;
use shared::ledger::State;

const HOUR_MS: i64 = 3_600_000;

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// A native leave form approved `hours_ago` (created an hour before that), as Feishu
/// holds it; no webhook event is ever sent for it.
fn approved_silently(stack: &TestStack, spec: &LeaveSpec, hours_ago: i64) {
    let ended = now_ms() - hours_ago * HOUR_MS;
    stack.sim.put_instance(events::native_instance(
        spec,
        "APPROVED",
        ended - HOUR_MS,
        ended,
    ));
}

#[tokio::test]
async fn approvals_never_pushed_are_synced_once_and_a_second_run_does_nothing() {
    let stack = TestStack::start().await;
    let lost = [
        LeaveSpec::day("REC-LOST-DAY", "zhangwei"),
        LeaveSpec::half_day("REC-LOST-HALF", "lina"),
        LeaveSpec::hour("REC-LOST-HOUR", "wangfang"),
    ];
    for (i, spec) in lost.iter().enumerate() {
        approved_silently(&stack, spec, 30 + 20 * i as i64);
    }
    // Still pending, and withdrawn before anyone approved it: nothing to do for either.
    let created = now_ms() - 5 * HOUR_MS;
    let pending = LeaveSpec::day("REC-PENDING", "zhaolei");
    stack
        .sim
        .put_instance(events::native_instance(&pending, "PENDING", created, 0));
    let withdrawn = LeaveSpec::day("REC-WITHDRAWN", "zhaolei");
    stack.sim.put_instance(events::native_instance(
        &withdrawn,
        "CANCELED",
        created,
        created + HOUR_MS,
    ));

    let first = stack.reconcile().await;
    assert!(first.errors.is_empty(), "{first}");
    assert_eq!(first.seen, 5, "{first}");
    assert_eq!(first.count(ReconcileAction::Sync), 3, "{first}");
    assert!(first.windows.iter().all(|w| w.complete), "{first}");
    stack.drain_queue().await;

    let s = stack.sim.snapshot();
    assert_eq!(writes(&s, ATTENDANCE_CREATE), 3);
    assert_eq!(writes(&s, TIMEOFF_CREATE), 3);
    assert_eq!(writes(&s, MESSAGE_SEND), 3);
    for spec in &lost {
        let r = stack.record(&spec.instance).await.unwrap();
        assert_eq!(r.state, State::Synced, "{}", spec.instance);
    }
    let day = s
        .attendance
        .iter()
        .find(|a| a.user_id == "u_zhangwei")
        .unwrap();
    assert_eq!(
        (
            day.leave["start_time"].as_str(),
            day.leave["end_time"].as_str()
        ),
        (Some("2026-12-01 00:00:00"), Some("2026-12-03 00:00:00")),
        "the form's last day is a day of leave"
    );
    assert!(stack.record("REC-PENDING").await.is_none());
    assert!(stack.record("REC-WITHDRAWN").await.is_none());

    // Nothing new: the synced ones are re-read once for revokes, nothing is queued.
    let second = stack.reconcile().await;
    assert!(second.enqueued.is_empty(), "{second}");
    assert_eq!(second.rechecked, 3, "{second}");
    let third = stack.reconcile().await;
    assert_eq!((third.enqueued.len(), third.rechecked), (0, 0), "{third}");
    let (waiting, in_flight) = stack.depth(&stack.queue_url).await;
    assert_eq!(waiting + in_flight, 0);
    assert_eq!(
        stack.sim.snapshot().writes,
        s.writes,
        "no Feishu write since"
    );
}

#[tokio::test]
async fn a_missed_revoke_is_applied() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("REC-REVOKED", "zhangwei");
    approved_silently(&stack, &spec, 48);
    stack.approve(&spec).await.assert_done();
    // Revoked in Feishu; its leave_approval_revert never arrives. The detail shows it
    // CANCELED with `reverted: true`, never REVERTED.
    let mut instance = events::native_instance(&spec, "CANCELED", 0, 0);
    instance["reverted"] = true.into();
    instance["start_time"] = (now_ms() - 49 * HOUR_MS).to_string().into();
    stack.sim.put_instance(instance);

    let report = stack.reconcile().await;
    assert_eq!(report.count(ReconcileAction::Revoke), 1, "{report}");
    assert_eq!(report.count(ReconcileAction::Sync), 0, "{report}");
    stack.drain_queue().await;

    let s = stack.sim.snapshot();
    assert_eq!(
        writes(&s, ATTENDANCE_PROCESS),
        1,
        "the attendance record revoked"
    );
    assert!(s.timeoff_events.iter().all(|t| t.deleted));
    let r = stack.record("REC-REVOKED").await.unwrap();
    assert_eq!(r.state, State::Revoked);
    assert!(r.revoke_message_id.is_some(), "the employee was told");

    let again = stack.reconcile().await;
    assert!(again.enqueued.is_empty(), "{again}");
}

#[tokio::test]
async fn a_reconcile_racing_the_webhook_twins_gives_one_of_each_write() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("REC-RACE", "lina");
    approved_silently(&stack, &spec, 0);
    // The twins are on the queue when the reconciler finds the instance unsynced.
    stack
        .enqueue(&[
            events::leave_v1(&spec, "race-v1"),
            events::leave_v2(&spec, "race-v2"),
        ])
        .await;
    let report = stack.reconcile().await;
    assert_eq!(report.count(ReconcileAction::Sync), 1, "{report}");
    // Two processors take the three messages at once.
    tokio::join!(stack.drain_queue(), stack.drain_queue());

    let s = stack.sim.snapshot();
    assert_synced_once(&s);
    assert_eq!(
        (
            writes(&s, ATTENDANCE_CREATE),
            writes(&s, TIMEOFF_CREATE),
            writes(&s, MESSAGE_SEND)
        ),
        (1, 1, 1)
    );
}

#[tokio::test]
async fn a_feishu_failure_mid_scan_resumes_from_the_checkpoint_without_gaps() {
    let stack = TestStack::start().await;
    // Nine approvals created ten hours apart over the last four days.
    let specs: Vec<LeaveSpec> = (0..9)
        .map(|i| LeaveSpec::day(&format!("REC-SCAN-{i}"), "zhaolei"))
        .collect();
    for (i, spec) in specs.iter().enumerate() {
        let created = now_ms() - (95 - 10 * i as i64) * HOUR_MS;
        stack.sim.put_instance(events::native_instance(
            spec,
            "APPROVED",
            created,
            created + HOUR_MS,
        ));
    }
    let mut config = stack.reconciler_config();
    config.custom_approval_codes.clear();
    // The fourth list call fails for good (a permanent error ends the listing).
    stack.sim.inject(
        Fault::new(
            INSTANCE_LIST,
            FaultKind::Answer {
                status: 400,
                code: 1390001,
                msg: "param is invalid".into(),
            },
        )
        .after(3),
    );
    let cut = stack
        .reconciler_with(config.clone())
        .run(Default::default())
        .await;
    assert_eq!(cut.errors.len(), 1, "{cut}");
    assert!(!cut.windows[0].complete, "{cut}");
    let first_half = cut.count(ReconcileAction::Sync);
    assert!((1..9).contains(&first_half), "{cut}");

    let resumed = stack.reconciler_with(config).run(Default::default()).await;
    assert!(resumed.errors.is_empty(), "{resumed}");
    assert!(resumed.windows[0].complete, "{resumed}");
    // It lists again only from the checkpoint (less the look-back), not from four days ago.
    assert!(resumed.windows[0].from > cut.windows[0].from, "{resumed}");
    stack.drain_queue().await;

    let s = stack.sim.snapshot();
    assert_eq!(writes(&s, ATTENDANCE_CREATE), 9, "every approval, once");
    assert_eq!(writes(&s, TIMEOFF_CREATE), 9);
    for spec in &specs {
        assert_eq!(
            stack.record(&spec.instance).await.unwrap().state,
            State::Synced
        );
    }
}

#[tokio::test]
async fn a_dry_run_queues_and_records_nothing() {
    let stack = TestStack::start().await;
    approved_silently(&stack, &LeaveSpec::day("REC-DRY", "wangfang"), 30);
    let dry = stack
        .reconciler_with(stack.reconciler_config())
        .run(shared::reconcile::RunOptions {
            dry_run: true,
            ..Default::default()
        })
        .await;
    assert_eq!(dry.count(ReconcileAction::Sync), 1, "{dry}");
    assert!(dry.to_string().contains("would queue 1 to sync"), "{dry}");
    let (waiting, _) = stack.depth(&stack.queue_url).await;
    assert_eq!(waiting, 0);
    // No checkpoint either: the real run lists the same window.
    let real = stack.reconcile().await;
    assert_eq!(real.count(ReconcileAction::Sync), 1, "{real}");
}
