//! The time-off event, the one write Feishu gives no idempotency key for: created at most
//! once per leave. A create whose outcome is unknown is parked for an operator, never
//! repeated silently (README, Guarantees).

use std::time::Duration;

use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::{Msg, StackOptions, TestStack, test_retry_policy, writes};
use leave_sync_tests::sim::api::*;
use leave_sync_tests::sim::{Fault, FaultKind};
use shared::ledger::State;
use shared::ledger::TimeoffResolution;

const UNKNOWN: &str = "timeoff_outcome_unknown";

/// The approval of a leave whose time-off create meets `fault`: the delivery is done
/// (synced or parked).
async fn sync_with_timeoff_fault(stack: &TestStack, spec: &LeaveSpec, fault: FaultKind) -> Msg {
    stack.sim.inject(Fault::new(TIMEOFF_CREATE, fault));
    stack.approve(spec).await.assert_done()
}

#[tokio::test]
async fn a_lost_time_off_answer_is_parked_for_an_operator_not_repeated() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-TO-LOST", "zhangwei");

    let msg = sync_with_timeoff_fault(&stack, &spec, FaultKind::CommitThenFail).await;
    stack.approve_v1(&spec).await.assert_done();
    stack.redeliver(&msg).await.assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(s.calls[TIMEOFF_CREATE], 1, "never sent again");
    assert_eq!(s.timeoff_events.len(), 1);
    assert_eq!(s.attendance.len(), 1, "attendance is written");
    assert_eq!(
        s.messages.len(),
        0,
        "the employee is told once it is resolved"
    );
    let r = stack.record("INST-TO-LOST").await.unwrap();
    assert_eq!(
        (r.state, r.failed_step.as_deref()),
        (State::Failed, Some("timeoff"))
    );
    assert!(r.timeoff_attempted_at.is_some() && r.timeoff_event_ids.is_empty());
    let dead = stack.dead_letters().await;
    assert_eq!(dead.len(), 3, "the approval, its twin and the redelivery");
    for (_, attrs) in &dead {
        let reason = &attrs["failure_reason"];
        assert!(reason.contains(UNKNOWN), "{reason}");
        assert!(
            reason.contains("--timeoff-exists"),
            "says how to fix it: {reason}"
        );
    }
}

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_an_unknown_outcome() {
    let stack = TestStack::with(StackOptions {
        retry: shared::feishu::RetryPolicy {
            request_timeout: Duration::from_millis(800),
            ..test_retry_policy()
        },
        ..StackOptions::default()
    })
    .await;
    let spec = LeaveSpec::hour("INST-TO-SLOW", "lina");

    sync_with_timeoff_fault(&stack, &spec, FaultKind::Slow { ms: 1500 }).await;

    let s = stack.sim.snapshot();
    assert_eq!((s.calls[TIMEOFF_CREATE], s.timeoff_events.len()), (1, 1));
    assert_eq!(
        stack.record("INST-TO-SLOW").await.unwrap().state,
        State::Failed
    );
    assert!(stack.dead_letters().await[0].1["failure_reason"].contains(UNKNOWN));
}

#[tokio::test]
async fn a_create_refused_before_it_ran_is_retried_and_made_once() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-TO-429", "wangfang");
    // Rate limits and refused tokens prove Feishu did not act: safe to send again.
    let busy = FaultKind::Answer {
        status: 429,
        code: 190005,
        msg: "concurrency limit".into(),
    };
    stack.sim.inject(Fault::new(TIMEOFF_CREATE, busy).times(2));
    stack.sim.inject(Fault::new(
        TIMEOFF_CREATE,
        FaultKind::InvalidToken { in_200: true },
    ));

    stack.approve(&spec).await.assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(s.calls[TIMEOFF_CREATE], 4);
    assert_eq!(writes(&s, TIMEOFF_CREATE), 1);
    let r = stack.record("INST-TO-429").await.unwrap();
    assert_eq!(r.state, State::Synced);
    assert_eq!(
        r.timeoff_event_ids,
        vec![s.timeoff_events[0].timeoff_event_id.clone()]
    );
}

#[tokio::test]
async fn a_create_is_not_started_without_its_whole_timeout_left() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-TO-LATE", "zhaolei");
    let msg = stack.msg(&events::leave_v2(&spec, "ev"));
    // Less than the request timeout (5 s) plus the reserve: attendance yes, time-off no.
    let failed = stack
        .invoke_with(std::slice::from_ref(&msg), Duration::from_secs(3), "late")
        .await;

    assert_eq!(failed, vec![msg.id.clone()], "retried");
    let s = stack.sim.snapshot();
    assert_eq!(s.attendance.len(), 1);
    assert!(!s.calls.contains_key(TIMEOFF_CREATE), "never started");
    let r = stack.record("INST-TO-LATE").await.unwrap();
    assert!(
        r.timeoff_attempted_at.is_none(),
        "the marker goes with a create that never ran"
    );
    stack.send(msg).await.assert_done();
    assert_eq!(stack.sim.snapshot().timeoff_events.len(), 1);
}

/// What `leave-sync redrive --instance <code> --timeoff-missing | --timeoff-exists`
/// does: the finding is recorded for the attempt that was parked, then the message goes
/// back marked as redriven.
async fn operator_redrives(
    stack: &TestStack,
    code: &str,
    body: &str,
    resolution: TimeoffResolution,
) {
    let instance = TestStack::instance(code);
    let seen = stack
        .record(code)
        .await
        .unwrap()
        .timeoff_attempted_at
        .unwrap();
    stack
        .ledger
        .resolve_timeoff(&instance, &seen, &resolution)
        .await
        .unwrap();
    stack.send(Msg::new(body).redriven()).await.assert_done();
}

const EXISTS: TimeoffResolution = TimeoffResolution::Exists {
    timeoff_event_id: None,
};

#[tokio::test]
async fn the_operator_confirms_the_event_and_the_sync_completes_without_a_second() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-TO-SEEN", "zhangwei");
    let msg = sync_with_timeoff_fault(&stack, &spec, FaultKind::CommitThenFail).await;
    stack.dead_letters().await;

    operator_redrives(&stack, "INST-TO-SEEN", &msg.body, EXISTS).await;

    let s = stack.sim.snapshot();
    assert_eq!(s.timeoff_events.len(), 1, "none created again");
    assert_eq!(s.messages.len(), 1, "the employee is told now");
    let r = stack.record("INST-TO-SEEN").await.unwrap();
    assert_eq!(r.state, State::Synced);
    assert_eq!(r.timeoff_unrecorded, 1);

    // Revoked later: the attendance is undone; the event whose id was lost cannot be, and
    // an operator is told.
    stack.revoke(&spec).await.assert_done();
    let s = stack.sim.snapshot();
    assert_eq!(s.attendance[0].status, 4);
    let r = stack.record("INST-TO-SEEN").await.unwrap();
    assert_eq!(r.state, State::Revoked);
    assert!(r.attention.unwrap().starts_with("timeoff_left_behind"));
}

#[tokio::test]
async fn an_event_whose_id_the_operator_has_is_recorded_and_deleted_on_revoke() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-TO-ID", "zhangwei");
    let msg = sync_with_timeoff_fault(&stack, &spec, FaultKind::CommitThenFail).await;
    stack.dead_letters().await;
    let id = stack.sim.snapshot().timeoff_events[0]
        .timeoff_event_id
        .clone();

    let with_id = TimeoffResolution::Exists {
        timeoff_event_id: Some(id.clone()),
    };
    operator_redrives(&stack, "INST-TO-ID", &msg.body, with_id).await;
    stack.revoke(&spec).await.assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(s.timeoff_events.len(), 1);
    assert!(
        s.timeoff_events[0].deleted,
        "the revoke deleted it by its recorded id"
    );
    assert_eq!(
        stack.record("INST-TO-ID").await.unwrap().timeoff_event_ids,
        vec![id]
    );
}

fn short_timeouts() -> StackOptions {
    StackOptions {
        retry: shared::feishu::RetryPolicy {
            request_timeout: Duration::from_millis(500),
            ..test_retry_policy()
        },
        ..StackOptions::default()
    }
}

#[tokio::test]
async fn the_operator_finds_no_event_and_the_redrive_creates_it() {
    let stack = TestStack::with(short_timeouts()).await;
    let spec = LeaveSpec::day("INST-TO-NONE", "lina");
    // The call reached Feishu, which neither acted nor answered before the timeout.
    let msg = sync_with_timeoff_fault(&stack, &spec, FaultKind::Stall).await;
    assert_eq!(stack.sim.snapshot().timeoff_events.len(), 0);
    stack.dead_letters().await;

    operator_redrives(
        &stack,
        "INST-TO-NONE",
        &msg.body,
        TimeoffResolution::Missing,
    )
    .await;

    let s = stack.sim.snapshot();
    assert_eq!(s.timeoff_events.len(), 1);
    let r = stack.record("INST-TO-NONE").await.unwrap();
    assert_eq!(r.state, State::Synced);
    assert_eq!(
        r.timeoff_event_ids,
        vec![s.timeoff_events[0].timeoff_event_id.clone()]
    );
    assert!(r.attention.is_none());
}

#[tokio::test]
async fn a_redrive_without_a_decision_never_creates_and_a_decision_counts_once() {
    // Review finding: the redrive mark used to be read on every delivery, so a redriven
    // message delivered twice (an SQS duplicate, its redriven twin) created twice.
    let stack = TestStack::with(short_timeouts()).await;
    let spec = LeaveSpec::day("INST-TO-TWICE", "wangfang");
    let msg = sync_with_timeoff_fault(&stack, &spec, FaultKind::Stall).await;
    stack.dead_letters().await;

    // A plain redrive (no finding recorded): parked again, nothing created.
    stack
        .send(Msg::new(&msg.body).redriven())
        .await
        .assert_done();
    assert_eq!(
        stack.sim.snapshot().calls[TIMEOFF_CREATE],
        1,
        "only the stalled one"
    );
    stack.dead_letters().await;

    // The finding, then a create whose answer is lost again: parked again...
    stack
        .sim
        .inject(Fault::new(TIMEOFF_CREATE, FaultKind::CommitThenFail));
    operator_redrives(
        &stack,
        "INST-TO-TWICE",
        &msg.body,
        TimeoffResolution::Missing,
    )
    .await;
    assert_eq!(stack.sim.snapshot().timeoff_events.len(), 1);
    // ...and the same redriven message delivered again creates nothing.
    stack
        .send(Msg::new(&msg.body).redriven())
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(
        s.calls[TIMEOFF_CREATE], 2,
        "the stalled one and the decided one"
    );
    assert_eq!(s.timeoff_events.len(), 1);
    assert_eq!(
        stack.record("INST-TO-TWICE").await.unwrap().state,
        State::Failed
    );
}

#[tokio::test]
async fn a_token_failure_before_the_create_is_retried_not_parked() {
    // Review finding: a create that was never sent (its token fetch failed) was parked
    // as an unknown outcome.
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-TO-TOKEN", "zhaolei");
    // Attendance written; then the token is refused and the token endpoint is down.
    stack.sim.inject(Fault::new(
        TIMEOFF_CREATE,
        FaultKind::InvalidToken { in_200: false },
    ));
    stack
        .sim
        .inject(Fault::new(TOKEN, FaultKind::Unavailable).times(20));

    let msg = stack.approve(&spec).await.assert_retried();

    let r = stack.record("INST-TO-TOKEN").await.unwrap();
    assert!(r.timeoff_attempted_at.is_none(), "{r:?}");
    assert_ne!(r.state, State::Failed);
    stack.sim.clear_faults();
    stack.send(msg).await.assert_done();
    assert_eq!(stack.sim.snapshot().timeoff_events.len(), 1);
}

/// The SDK retries a write whose answer was lost; that replay must not append the same
/// time-off id twice (a doubled id would count the next segment as made).
#[tokio::test]
async fn a_replayed_time_off_record_is_recorded_once() {
    use shared::ledger::{Claim, Lease, StepResult};
    let stack = TestStack::start().await;
    let spec = LeaveSpec::hour("INST-TO-REPLAY", "lina");
    let instance = TestStack::instance(&spec.instance);
    let event = events::leave_v2(&spec, "ev");
    let leave =
        match shared::event::FeishuEvent::parse("leave_approvalV2", &event["event"].to_string())
            .unwrap()
            .unwrap()
            .into_domain(None)
            .unwrap()
        {
            shared::event::DomainEvent::LeaveApproved { leave, .. } => leave,
            other => panic!("{other:?}"),
        };
    let lease = Lease {
        owner: "replay".into(),
        until: jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60),
    };
    let claim = stack
        .ledger
        .claim_sync(&instance, &leave, &lease, "ev", false)
        .await
        .unwrap();
    assert!(matches!(claim, Claim::Acquired(_)));
    let made = StepResult::Timeoff {
        timeoff_event_id: "timeoff:A".into(),
    };
    stack
        .ledger
        .record(&instance, &lease, &StepResult::TimeoffAttempted)
        .await
        .unwrap();
    stack.ledger.record(&instance, &lease, &made).await.unwrap();
    // The same write again, as a retry after its answer was lost: accepted, not applied.
    stack.ledger.record(&instance, &lease, &made).await.unwrap();
    let r = stack.record("INST-TO-REPLAY").await.unwrap();
    assert_eq!(r.timeoff_event_ids, vec!["timeoff:A".to_owned()]);
    assert!(r.timeoff_attempted_at.is_none());
    // Another id without a marker is not a replay: refused.
    let other = StepResult::Timeoff {
        timeoff_event_id: "timeoff:B".into(),
    };
    assert!(
        stack
            .ledger
            .record(&instance, &lease, &other)
            .await
            .is_err()
    );
}

/// With several working-time segments, the operator is told which calendar entry to look
/// for.
#[tokio::test]
async fn an_unknown_outcome_names_the_segment_it_was_for() {
    let stack = TestStack::start().await;
    stack
        .sim
        .inject(Fault::new(TIMEOFF_CREATE, FaultKind::CommitThenFail).after(1));
    let (_, v2) = events::doc_twins("INST-TO-SEGMENT", "lina");
    stack.deliver(&v2).await.assert_done();
    let dead = stack.dead_letters().await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    let reason = &dead[0].1["failure_reason"];
    assert!(reason.contains("timeoff_outcome_unknown"), "{reason}");
    assert!(
        reason.contains("segment 2 of 2: 2024-09-06 09:00 → 2024-09-06 18:00"),
        "{reason}"
    );
}
