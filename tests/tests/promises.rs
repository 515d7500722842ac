//! The promise kept where it is easiest to break: deadlines shared by a batch, failures
//! that must reach the dead-letter queue, revokes that must not leave attendance behind,
//! and records that fail alone. Each scenario failed before its fix.

use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::{StackOptions, TestStack, test_retry_policy};
use leave_sync_tests::sim::api::*;
use leave_sync_tests::sim::{Fault, FaultKind};

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
            stack.msg(&events::leave_v1(&spec, &format!("ev-{i}")))
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
