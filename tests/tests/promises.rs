//! The promise kept where it is easiest to break: deadlines shared by a batch, failures
//! that must reach the dead-letter queue, revokes that must not leave attendance behind,
//! and records that fail alone. Each scenario failed before its fix.

use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::{StackOptions, TestStack, test_retry_policy};
use leave_sync_tests::sim::api::*;
use leave_sync_tests::sim::{Fault, FaultKind};
use shared::ledger::State;

#[tokio::test]
async fn records_that_wait_behind_others_keep_the_invocation_deadline() {
    // One record at a time, 3 s left, Feishu slow on the attendance write: the third
    // record starts when the invocation is nearly over.
    let stack = TestStack::with(StackOptions {
        concurrency: 1,
        ..StackOptions::default()
    })
    .await;
    stack
        .sim
        .inject(Fault::new(ATTENDANCE_CREATE, FaultKind::Slow { ms: 1000 }).times(3));
    let msgs: Vec<_> = ["zhangwei", "lina", "wangfang"]
        .iter()
        .enumerate()
        .map(|(i, user)| {
            let spec = LeaveSpec::day(&format!("INST-DEADLINE-{i}"), user);
            stack.msg(&events::leave_v2(&spec, &format!("ev-{i}")))
        })
        .collect();
    let deadline_ms = jiff::Timestamp::now().as_millisecond() + 3_000;

    stack.invoke_until(&msgs, deadline_ms, "tight").await;

    let reserve_ms = test_retry_policy().reserve.as_millis() as i64;
    for call in stack.sim.calls() {
        assert!(
            call.at_ms <= deadline_ms - reserve_ms,
            "{} started {} ms after the reserve began",
            call.api,
            call.at_ms - (deadline_ms - reserve_ms)
        );
    }
    let leases = stack.dynamo.lease_ends();
    assert_eq!(leases.len(), 3, "each record claimed once: {leases:?}");
    for until in leases {
        assert!(
            until <= deadline_ms,
            "a lease ends {} ms after the invocation",
            until - deadline_ms
        );
    }
}

#[tokio::test]
async fn a_failure_whose_dead_letter_was_lost_is_dead_lettered_on_the_next_delivery() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-LOSTDLQ", "ghost"); // not in the tenant: permanent
    let dlq_name = stack.dlq_url.rsplit('/').next().unwrap().to_owned();
    let sqs = &stack.sqs;
    sqs.delete_queue()
        .queue_url(&stack.dlq_url)
        .send()
        .await
        .unwrap();

    // The instance is marked failed, but the DLQ cannot be reached: left on the queue.
    let msg = stack.approve(&spec).await.assert_retried();
    sqs.create_queue()
        .queue_name(&dlq_name)
        .send()
        .await
        .unwrap();
    // SQS delivers it again: the instance is known to have failed.
    stack.send(msg).await.assert_done();

    let dead = stack.dead_letters().await;
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert!(
        dead[0].1["failure_reason"].contains("1220004"),
        "{:?}",
        dead[0].1
    );
    assert!(
        dead[0].1["failure_reason"].contains("attendance"),
        "the recorded step"
    );
}

/// The approval's sync failed at the attendance step after Feishu had stored the record;
/// then the approval is revoked.
async fn revoke_after_attendance_failed(stack: &TestStack, spec: &LeaveSpec, fault: FaultKind) {
    stack.sim.inject(Fault::new(ATTENDANCE_CREATE, fault));
    stack.approve(spec).await.assert_done();
    let r = stack.record(&spec.instance).await.unwrap();
    assert_eq!(
        (r.state, r.failed_step.as_deref()),
        (State::Failed, Some("attendance"))
    );
    assert!(r.approval_id.is_none());
    assert_eq!(stack.sim.snapshot().attendance.len(), 1, "Feishu stored it");

    stack.revoke(spec).await.assert_done();
}

#[tokio::test]
async fn a_write_answered_200_without_an_id_is_read_back_and_later_revoked() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-NOID", "zhangwei");
    let no_data = FaultKind::CommitThenAnswer {
        status: 200,
        code: 0,
        msg: "success".into(),
    };
    stack.sim.inject(Fault::new(ATTENDANCE_CREATE, no_data));
    stack.approve(&spec).await.assert_done();
    // The answer said stored: the id is read back, not the sync failed.
    let s = stack.sim.snapshot();
    assert_eq!(s.attendance.len(), 1, "written once");
    let r = stack.record("INST-NOID").await.unwrap();
    assert_eq!(r.state, State::Synced);
    assert_eq!(
        r.approval_id.as_deref(),
        Some(s.attendance[0].approval_id.as_str())
    );

    stack.revoke(&spec).await.assert_done();
    assert_eq!(stack.sim.snapshot().attendance[0].status, 4, "revoked");
    let r = stack.record("INST-NOID").await.unwrap();
    assert_eq!(r.state, State::Revoked);
    assert!(r.attendance_revoked);
}

#[tokio::test]
async fn a_revoke_finds_a_record_whose_write_failed_after_storing_it() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-STORED", "lina");
    // Stored, then answered with a permanent error (as a gateway might after a timeout
    // inside Feishu): the sync is marked failed at the attendance step.
    let stored_then_refused = FaultKind::CommitThenAnswer {
        status: 400,
        code: 1220001,
        msg: "param invalid".into(),
    };

    revoke_after_attendance_failed(&stack, &spec, stored_then_refused).await;

    assert_eq!(stack.sim.snapshot().attendance[0].status, 4);
    assert_eq!(
        stack.record("INST-STORED").await.unwrap().state,
        State::Revoked
    );
}

#[tokio::test]
async fn a_revoke_that_finds_no_record_looks_again_a_few_times_then_completes() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-NOTHING", "wangfang");
    // The write is refused: nothing is stored.
    stack.sim.inject(Fault::new(
        ATTENDANCE_CREATE,
        FaultKind::Answer {
            status: 400,
            code: 1220600,
            msg: "the attendance result has been sealed and can not modify".into(),
        },
    ));
    stack.approve(&spec).await.assert_done();

    let revoke = stack.revoke(&spec).await.assert_retried();
    let mut again = revoke.clone();
    again.receive_count = 2;
    let again = stack.send(again).await.assert_retried();
    let mut last = again;
    last.receive_count = 3;
    stack.send(last).await.assert_done();

    assert_eq!(stack.sim.snapshot().calls[ATTENDANCE_QUERY], 3);
    let r = stack.record("INST-NOTHING").await.unwrap();
    assert_eq!(r.state, State::Revoked);
    // Counted in the ledger (deliveries spent waiting for a lease do not count), and
    // noted for an operator when given up.
    assert_eq!(r.attendance_lookup_misses, 3);
    assert!(r.attention.unwrap().starts_with("attendance_not_found"));
}

#[tokio::test]
async fn a_revoke_for_an_applicant_attendance_does_not_know_completes_at_once() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-GHOST-REVOKE", "ghost");
    stack.approve(&spec).await.assert_done();

    stack.revoke(&spec).await.assert_done();

    assert_eq!(
        stack.record("INST-GHOST-REVOKE").await.unwrap().state,
        State::Revoked
    );
}
