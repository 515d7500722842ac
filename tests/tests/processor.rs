//! The processor end to end: real SQS-event handler, real DynamoDB ledger on moto, the
//! Feishu simulator. Each scenario asserts on what Feishu received and on the ledger.

use std::time::Duration;

use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::{Msg, StackOptions, TestStack, assert_synced_once, writes};
use leave_sync_tests::sim::api::*;
use leave_sync_tests::sim::{Fault, FaultKind, SimConfig};
use serde_json::Value;
use shared::ledger::State;

#[tokio::test]
async fn approve_once_writes_attendance_timeoff_and_a_card() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-DAY-1", "zhangwei");

    stack.approve(&spec).await.assert_done();

    let s = stack.sim.snapshot();
    assert_synced_once(&s);
    let a = &s.attendance[0];
    assert_eq!(
        (a.user_id.as_str(), a.date.as_str(), a.status),
        ("u_zhangwei", "20261201", 2)
    );
    assert_eq!(a.leave["unit"], 1);
    assert_eq!(a.leave["interval"], 172_800);
    assert_eq!(a.leave["start_time"], "2026-12-01 00:00:00");
    assert_eq!(a.leave["end_time"], "2026-12-03 00:00:00");
    assert_eq!(a.leave["idempotent_id"], "INST-DAY-1");
    assert_eq!(a.leave["i18n_names"]["ch"], "年假");
    let t = &s.timeoff_events[0];
    assert_eq!(
        (
            t.open_id.as_str(),
            t.start_time.as_str(),
            t.end_time.as_str()
        ),
        ("ou_zhangwei", "2026-12-01", "2026-12-02")
    );
    assert_eq!(t.timezone, "Asia/Shanghai");
    let m = &s.messages[0];
    assert_eq!(
        (
            m.receive_id_type.as_str(),
            m.receive_id.as_str(),
            m.msg_type.as_str()
        ),
        ("open_id", "ou_zhangwei", "interactive")
    );
    assert!(m.content.to_string().contains("2026-12-01 → 2026-12-02"));
    assert!(m.uuid.as_deref().is_some_and(|u| u.len() <= 50));
    assert_eq!(s.tokens_issued, 1);

    let r = stack.record("INST-DAY-1").await.unwrap();
    assert_eq!(r.state, State::Synced);
    assert_eq!(r.approval_id.as_deref(), Some(a.approval_id.as_str()));
    assert_eq!(r.timeoff_event_ids, vec![t.timeoff_event_id.clone()]);
    assert_eq!(r.message_id.as_deref(), Some(m.message_id.as_str()));
    assert!(r.lease_owner.is_none(), "lease released");
    // Claim, attendance, the time-off marker, time-off, final: five conditional writes,
    // no reads; the final one a transaction that also lists the leave as out (the team
    // view's index).
    assert_eq!(
        stack.dynamo.ops(),
        [
            "UpdateItem",
            "UpdateItem",
            "UpdateItem",
            "UpdateItem",
            "TransactWriteItems"
        ]
    );
}

#[tokio::test]
async fn twins_and_redeliveries_write_each_thing_once() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::half_day("INST-TWIN", "lina");
    // Feishu sends V1 and V2 together: V1 waits for its twin (put back, due later).
    let v1 = stack
        .deliver(&events::leave_v1(&spec, "ev-v1"))
        .await
        .assert_done();
    assert!(stack.sim.snapshot().writes.is_empty(), "V1 waited");
    let v2 = stack
        .deliver(&events::leave_v2(&spec, "ev-v2"))
        .await
        .assert_done();
    stack.dynamo.reset();

    // V1 back after its wait, Feishu's retry of V2 after a lost 200 (same event id, new
    // message), SQS delivering V2 again, and Feishu's retry of V1 (which finds the
    // instance known and goes ahead at once).
    let mut again = stack.deferred().await;
    assert_eq!(again.len(), 1);
    again.extend([Msg::new(v2.body.clone()), v2, Msg::new(v1.body.clone())]);
    stack.send_batch(again).await.assert_done();
    stack.send_batch(stack.deferred().await).await.assert_done();

    let s = stack.sim.snapshot();
    assert_synced_once(&s);
    assert_eq!(
        s.attendance[0].leave["unit"], 3,
        "event half-day → attendance 3"
    );
    let r = stack.record("INST-TWIN").await.unwrap();
    assert_eq!(r.state, State::Synced);
    assert_eq!(
        r.events,
        vec!["ev-v2".to_owned()],
        "refused claims leave the item untouched"
    );
    // Each duplicate cost one refused conditional write; each V1 first reads whether its
    // twin got there.
    let mut ops = stack.dynamo.ops();
    ops.sort();
    assert_eq!(ops, [vec!["GetItem"; 2], vec!["UpdateItem"; 4]].concat());
}

#[tokio::test]
async fn concurrent_twins_in_separate_invocations_sync_once_and_the_second_waits() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::hour("INST-RACE", "wangfang");
    // Slow Feishu answers keep the first claimant busy while the second arrives.
    stack
        .sim
        .inject(Fault::new(ATTENDANCE_CREATE, FaultKind::Slow { ms: 300 }));

    // The second arrives while the first holds the lease. (Not at the very same instant:
    // moto applies a conditional update attribute by attribute, so two claims in the
    // same millisecond can see each other half-written, which DynamoDB never shows.)
    let second = async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        stack.approve_v1(&spec).await
    };
    let (a, b) = tokio::join!(stack.approve(&spec), second);

    // The second waits for the first's lease inside its own invocation, then finds the
    // leave synced: no delivery is spent on waiting.
    a.assert_done();
    b.assert_done();
    let s = stack.sim.snapshot();
    assert_synced_once(&s);
    assert_eq!(
        s.attendance[0].leave["unit"], 2,
        "event hour 3 → attendance 2"
    );
    assert_eq!(
        stack.record("INST-RACE").await.unwrap().state,
        State::Synced
    );
}

#[tokio::test]
async fn approve_then_revoke_undoes_everything_once() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-REV", "zhangwei");
    stack.approve(&spec).await.assert_done();

    let revert = stack.revoke(&spec).await.assert_done();
    stack.redeliver(&revert).await.assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(s.attendance.len(), 1);
    assert_eq!(s.attendance[0].status, 4, "attendance record revoked");
    assert_eq!(writes(&s, ATTENDANCE_PROCESS), 1);
    assert!(s.timeoff_events[0].deleted);
    assert_eq!(writes(&s, TIMEOFF_DELETE), 1);
    assert_eq!(s.messages.len(), 2);
    assert!(
        s.messages[1]
            .content
            .to_string()
            .contains("Leave withdrawn")
    );
    let r = stack.record("INST-REV").await.unwrap();
    assert_eq!(r.state, State::Revoked);
    assert!(r.attendance_revoked);
    assert_eq!(r.timeoff_deleted_ids, r.timeoff_event_ids);
    assert_eq!(
        r.revoke_message_id.as_deref(),
        Some(s.messages[1].message_id.as_str())
    );
}

#[tokio::test]
async fn revoke_before_approve_leaves_a_tombstone_and_nothing_is_written() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-LATE", "zhangwei");

    stack.revoke(&spec).await.assert_done();
    assert_eq!(
        stack.record("INST-LATE").await.unwrap().state,
        State::Tombstone
    );
    stack.approve(&spec).await.assert_done();
    stack.approve_v1(&spec).await.assert_done();

    let s = stack.sim.snapshot();
    assert!(s.writes.is_empty(), "no Feishu writes: {:?}", s.writes);
    let r = stack.record("INST-LATE").await.unwrap();
    assert_eq!(r.state, State::Tombstone);
    assert!(r.approval_id.is_none());
}

#[tokio::test]
async fn transient_faults_are_retried_and_still_write_once() {
    let stack = TestStack::start().await;
    let sim = &stack.sim;
    sim.inject(Fault::new(
        ATTENDANCE_CREATE,
        FaultKind::RateLimited { reset_secs: 1 },
    ));
    // Time-off creates have no idempotency key: only errors that prove Feishu did not act
    // are retried (tests/tests/timeoff.rs has the others).
    let busy = FaultKind::Answer {
        status: 429,
        code: 190004,
        msg: "request trigger frequency limit".into(),
    };
    sim.inject(Fault::new(TIMEOFF_CREATE, busy).times(2));
    sim.inject(Fault::new(MESSAGE_SEND, FaultKind::Internal));
    let started = std::time::Instant::now();

    stack
        .approve(&LeaveSpec::day("INST-FAULTS", "zhaolei"))
        .await
        .assert_done();

    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited x-ogw-ratelimit-reset"
    );
    let s = sim.snapshot();
    assert_synced_once(&s);
    assert_eq!(s.calls[ATTENDANCE_CREATE], 2);
    assert_eq!(s.calls[TIMEOFF_CREATE], 3);
    assert_eq!(s.calls[MESSAGE_SEND], 2);
}

#[tokio::test]
async fn a_refused_token_is_refreshed_once_even_inside_an_http_200() {
    let stack = TestStack::start().await;
    stack.sim.inject(Fault::new(
        TIMEOFF_CREATE,
        FaultKind::InvalidToken { in_200: true },
    ));

    stack
        .approve(&LeaveSpec::day("INST-TOKEN", "zhangwei"))
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    assert_synced_once(&s);
    assert_eq!(s.tokens_issued, 2, "one refresh");
    assert_eq!(s.calls[TOKEN], 2);
}

#[tokio::test]
async fn an_expired_token_is_replaced() {
    let stack = TestStack::start().await;
    stack
        .approve(&LeaveSpec::day("INST-E1", "zhangwei"))
        .await
        .assert_done();
    stack.sim.expire_tokens();

    stack
        .approve(&LeaveSpec::day("INST-E2", "lina"))
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(s.attendance.len(), 2);
    assert_eq!(s.tokens_issued, 2);
}

#[tokio::test]
async fn lost_attendance_response_is_recovered_without_a_duplicate() {
    let stack = TestStack::start().await;
    // Feishu writes the record but the answer never arrives: the retry meets
    // "the object already exists" and reads the approval_id back.
    stack
        .sim
        .inject(Fault::new(ATTENDANCE_CREATE, FaultKind::CommitThenFail));

    stack
        .approve(&LeaveSpec::day("INST-LOST", "zhangwei"))
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    assert_synced_once(&s);
    assert_eq!(s.calls[ATTENDANCE_CREATE], 2);
    assert_eq!(s.calls[ATTENDANCE_QUERY], 1);
    let r = stack.record("INST-LOST").await.unwrap();
    assert_eq!(
        r.approval_id.as_deref(),
        Some(s.attendance[0].approval_id.as_str())
    );
}

/// The query refuses a start later than tomorrow (doc "获取审批数据"), and leave is
/// approved ahead: a record of a leave months away is found by when it was written.
#[tokio::test]
async fn a_lost_answer_for_a_leave_months_ahead_is_recovered_too() {
    let stack = TestStack::start().await;
    stack
        .sim
        .inject(Fault::new(ATTENDANCE_CREATE, FaultKind::CommitThenFail));
    let ahead = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap())
        .date()
        .saturating_add(jiff::Span::new().days(90));
    let spec = LeaveSpec {
        start: format!("{ahead} 00:00:00"),
        end: format!("{} 00:00:00", ahead.tomorrow().unwrap()),
        interval: 86_400,
        ..LeaveSpec::day("INST-LOST-AHEAD", "wangfang")
    };
    stack.approve(&spec).await.assert_done();

    let s = stack.sim.snapshot();
    assert_synced_once(&s);
    let r = stack.record("INST-LOST-AHEAD").await.unwrap();
    assert_eq!(
        r.approval_id.as_deref(),
        Some(s.attendance[0].approval_id.as_str())
    );
}

#[tokio::test]
async fn crash_after_the_attendance_write_before_it_is_recorded() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-CRASH", "lina");
    let msg = stack.msg(&events::leave_v2(&spec, "ev"));
    // Feishu does the write, then answers slowly; the invocation dies meanwhile.
    stack
        .sim
        .inject(Fault::new(ATTENDANCE_CREATE, FaultKind::Slow { ms: 2_000 }));
    let crashed = tokio::time::timeout(
        Duration::from_millis(400),
        stack.invoke_with(std::slice::from_ref(&msg), Duration::from_secs(1), "doomed"),
    )
    .await;
    assert!(crashed.is_err(), "the invocation was cut off");
    assert_eq!(
        stack.sim.snapshot().attendance.len(),
        1,
        "Feishu has the record"
    );
    let r = stack.record("INST-CRASH").await.unwrap();
    assert_eq!(r.state, State::Syncing);
    assert!(r.approval_id.is_none(), "…but the ledger does not");

    // SQS delivers the message again after the visibility timeout, when the dead
    // invocation's lease (its deadline) has passed.
    tokio::time::sleep(Duration::from_millis(700)).await;
    stack.send(msg).await.assert_done();

    let s = stack.sim.snapshot();
    assert_synced_once(&s);
    let r = stack.record("INST-CRASH").await.unwrap();
    assert_eq!(r.state, State::Synced);
    assert_eq!(
        r.approval_id.as_deref(),
        Some(s.attendance[0].approval_id.as_str())
    );
}

#[tokio::test]
async fn permanent_error_is_recorded_parked_with_its_reason_and_not_retried() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-NOUSER", "ghost"); // not in the tenant

    let msg = stack.approve(&spec).await.assert_done();

    let r = stack.record("INST-NOUSER").await.unwrap();
    assert_eq!(r.state, State::Failed);
    assert_eq!(r.failed_step.as_deref(), Some("attendance"));
    assert!(
        r.failure.as_deref().unwrap().contains("1220004"),
        "{:?}",
        r.failure
    );
    let dead = stack.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, msg.body, "body intact");
    assert!(dead[0].1["failure_reason"].contains("1220004"));
    assert!(
        dead[0].1["failure_reason"].contains("attendance group"),
        "carries the fix"
    );

    // The V2 twin arrives: no second attempt at Feishu; parked too, with the recorded
    // reason, so that no delivery of a failed instance is ever dropped silently.
    stack.approve_v1(&spec).await.assert_done();
    let twin = stack.dead_letters().await;
    assert_eq!(twin.len(), 1);
    assert!(
        twin[0].1["failure_reason"].starts_with("attendance: "),
        "{:?}",
        twin[0].1
    );
    assert!(twin[0].1["failure_reason"].contains("1220004"));
    assert_eq!(stack.sim.snapshot().calls[ATTENDANCE_CREATE], 1);
}

#[tokio::test]
async fn redrive_retries_a_permanent_failure_from_where_it_stopped() {
    let stack = TestStack::start().await;
    // A missing scope on the time-off API: attendance is written, time-off refused.
    stack.sim.inject(Fault::new(
        TIMEOFF_CREATE,
        FaultKind::Answer {
            status: 400,
            code: 99991672,
            msg: "Access denied. One of the following scopes is required: [calendar:timeoff]"
                .into(),
        },
    ));
    let msg = stack
        .approve(&LeaveSpec::day("INST-SCOPE", "zhangwei"))
        .await
        .assert_done();
    let r = stack.record("INST-SCOPE").await.unwrap();
    assert_eq!(
        (r.state, r.failed_step.as_deref()),
        (State::Failed, Some("timeoff"))
    );
    assert!(r.approval_id.is_some());
    let dead = stack.dead_letters().await;
    assert!(dead[0].1["failure_reason"].contains("publish a new app version"));

    // Redelivered as is: skipped. Redriven (after the scope is granted): completed.
    stack.redeliver(&msg).await.assert_done();
    assert_eq!(stack.sim.snapshot().timeoff_events.len(), 0);
    stack
        .send(Msg::new(dead[0].0.clone()).redriven())
        .await
        .assert_done();

    assert_synced_once(&stack.sim.snapshot());
    assert_eq!(
        stack.record("INST-SCOPE").await.unwrap().state,
        State::Synced
    );
}

#[tokio::test]
async fn a_message_that_can_never_be_delivered_does_not_block_the_sync() {
    let mut sim = SimConfig::default();
    sim.users[0].available = false; // zhangwei is outside the app's availability range
    let stack = TestStack::with(StackOptions {
        sim,
        ..StackOptions::default()
    })
    .await;

    stack
        .approve(&LeaveSpec::day("INST-NOIM", "zhangwei"))
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(
        (s.attendance.len(), s.timeoff_events.len(), s.messages.len()),
        (1, 1, 0)
    );
    let r = stack.record("INST-NOIM").await.unwrap();
    assert_eq!(r.state, State::Synced);
    assert!(r.message_error.as_deref().unwrap().contains("230013"));
    assert!(stack.dead_letters().await.is_empty());
}

#[tokio::test]
async fn poison_message_goes_to_the_dead_letter_queue_with_its_reason() {
    let stack = TestStack::start().await;

    stack
        .send(Msg::new("this is not an envelope"))
        .await
        .assert_done();

    let dead = stack.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, "this is not an envelope");
    assert!(dead[0].1["failure_reason"].contains("unreadable queue message"));
}

#[tokio::test]
async fn a_malformed_event_is_parked_not_retried() {
    let stack = TestStack::start().await;
    let mut body = events::leave_v1(&LeaveSpec::day("INST-BAD", "zhangwei"), "ev");
    body["event"]["leave_unit"] = Value::from(9);

    stack.deliver(&body).await.assert_done();

    let dead = stack.dead_letters().await;
    assert!(
        dead[0].1["failure_reason"].contains("leave_unit"),
        "{:?}",
        dead[0].1
    );
    assert!(stack.sim.snapshot().writes.is_empty());
}

#[tokio::test]
async fn day_half_day_and_hour_leaves_are_mapped_right() {
    let stack = TestStack::start().await;
    let day = LeaveSpec::day("INST-M-DAY", "zhangwei");
    let half = LeaveSpec::half_day("INST-M-HALF", "lina");
    let hour = LeaveSpec::hour("INST-M-HOUR", "wangfang");

    stack
        .send_batch(vec![
            stack.msg(&events::leave_v1(&day, "d")).after_twin_wait(),
            stack.msg(&events::leave_v2(&half, "h")),
            stack.msg(&events::leave_v2(&hour, "o")),
        ])
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    let att = |user: &str| {
        &s.attendance
            .iter()
            .find(|a| a.user_id == user)
            .unwrap()
            .leave
    };
    let off = |open_id: &str| {
        s.timeoff_events
            .iter()
            .find(|t| t.open_id == open_id)
            .unwrap()
    };
    let unit_interval = |user| (att(user)["unit"].as_i64(), att(user)["interval"].as_i64());
    assert_eq!(unit_interval("u_zhangwei"), (Some(1), Some(172_800)));
    assert_eq!(unit_interval("u_lina"), (Some(3), Some(43_200)));
    assert_eq!(unit_interval("u_wangfang"), (Some(2), Some(10_800)));
    assert_eq!(
        att("u_lina")["i18n_names"]["en"],
        "Personal leave",
        "V2 i18n resolved"
    );
    // All-day with an inclusive end; timed ones as unix seconds of Shanghai wall-clock.
    let zhang = off("ou_zhangwei");
    assert_eq!(
        (zhang.start_time.as_str(), zhang.end_time.as_str()),
        ("2026-12-01", "2026-12-02")
    );
    let utc = |s: &str| {
        jiff::Timestamp::from_second(s.parse().unwrap())
            .unwrap()
            .to_string()
    };
    assert_eq!(utc(&off("ou_lina").start_time), "2026-12-07T04:00:00Z");
    assert_eq!(utc(&off("ou_lina").end_time), "2026-12-07T16:00:00Z");
    assert_eq!(utc(&off("ou_wangfang").start_time), "2026-12-10T06:00:00Z");
    assert_eq!(utc(&off("ou_wangfang").end_time), "2026-12-10T09:00:00Z");
}

#[tokio::test]
async fn custom_form_approval_is_read_from_the_instance_then_revoked() {
    let stack = TestStack::start().await;
    stack.sim.put_instance(events::custom_instance(
        "INST-CUSTOM",
        "zhaolei",
        "2026-12-14T00:00:00+08:00",
        "2026-12-15T12:00:00+08:00",
        1.5,
        "APPROVED",
    ));

    stack
        .deliver(&events::approval_instance("INST-CUSTOM", "APPROVED", "c1"))
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    assert_synced_once(&s);
    let a = &s.attendance[0];
    assert_eq!(a.user_id, "u_zhaolei");
    assert_eq!(a.leave["start_time"], "2026-12-14 00:00:00");
    assert_eq!(a.leave["end_time"], "2026-12-15 12:00:00");
    assert_eq!(a.leave["interval"], 129_600, "1.5 days in seconds");
    assert_eq!(a.leave["unit"], 3, "half-day grid");
    assert_eq!(a.leave["reason"], "Wedding");
    assert_eq!(a.leave["i18n_names"]["ch"], "带薪休假审批");

    // Revoked after approval: the instance event says REVERTED.
    stack
        .deliver(&events::approval_instance("INST-CUSTOM", "REVERTED", "c2"))
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(s.attendance[0].status, 4);
    assert!(s.timeoff_events[0].deleted);
    let instance = shared::event::InstanceRef {
        tenant_key: events::TENANT.into(),
        approval_code: events::CUSTOM_FORM.into(),
        instance_code: "INST-CUSTOM".into(),
    };
    assert_eq!(
        stack.ledger.get(&instance).await.unwrap().unwrap().state,
        State::Revoked
    );
}

#[tokio::test]
async fn custom_form_without_the_configured_widget_is_parked_with_the_fix() {
    let stack = TestStack::start().await;
    let mut inst = events::custom_instance(
        "INST-NOWIDGET",
        "zhaolei",
        "2026-12-14T00:00:00+08:00",
        "2026-12-15T00:00:00+08:00",
        1.0,
        "APPROVED",
    );
    inst["form"] = Value::String(inst["form"].as_str().unwrap().replace("timeInfo", "when"));
    stack.sim.put_instance(inst);

    stack
        .deliver(&events::approval_instance(
            "INST-NOWIDGET",
            "APPROVED",
            "c1",
        ))
        .await
        .assert_done();

    let dead = stack.dead_letters().await;
    assert!(
        dead[0].1["failure_reason"].contains("CUSTOM_FORM_PERIOD_WIDGET"),
        "{:?}",
        dead[0].1
    );
}

#[tokio::test]
async fn twins_in_one_batch_do_not_contend() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::half_day("INST-SAMEBATCH", "lina");
    let other = LeaveSpec::day("INST-OTHER", "zhangwei");
    // Slow answers keep each sync inside its lease long enough to collide if run together.
    stack
        .sim
        .inject(Fault::new(ATTENDANCE_CREATE, FaultKind::Slow { ms: 200 }).times(2));
    let v2 = stack.msg(&events::leave_v2(&spec, "ev-2"));

    // Records of one instance run in order; none has to wait for a lease. The V1s here
    // are back from their twin wait.
    stack
        .send_batch(vec![
            stack
                .msg(&events::leave_v1(&spec, "ev-1"))
                .after_twin_wait(),
            stack.msg(&events::leave_v2(&other, "ev-o")),
            v2.clone(),
            Msg::new(v2.body.clone()),
        ])
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(
        (s.attendance.len(), s.timeoff_events.len(), s.messages.len()),
        (2, 2, 2)
    );
    assert_eq!(
        stack.record("INST-SAMEBATCH").await.unwrap().state,
        State::Synced
    );
    assert_eq!(
        stack.record("INST-OTHER").await.unwrap().state,
        State::Synced
    );
}

#[tokio::test]
async fn a_claim_that_finds_an_item_caught_mid_write_is_retried_not_parked() {
    // DynamoDB writes an item atomically, but a store under concurrent writes (moto) can
    // show an item without its state; that is contention, not a permanent failure.
    let stack = TestStack::start().await;
    let instance = TestStack::instance("INST-HALFWRITTEN");
    aws_sdk_dynamodb::Client::new(&stack.aws)
        .put_item()
        .table_name(&stack.table)
        .item(
            shared::ledger::PARTITION_KEY,
            aws_sdk_dynamodb::types::AttributeValue::S(shared::ledger::key_of(&instance)),
        )
        .send()
        .await
        .unwrap();

    stack
        .approve(&LeaveSpec::day("INST-HALFWRITTEN", "zhangwei"))
        .await
        .assert_retried();

    assert!(stack.dead_letters().await.is_empty(), "not parked");
    assert!(stack.sim.snapshot().writes.is_empty());
}

#[tokio::test]
async fn an_approval_whose_instance_was_revoked_since_is_not_synced() {
    // The instance detail never says REVERTED: a revoked approved instance reads
    // `reverted: true` and CANCELED (reference 7.2).
    let stack = TestStack::start().await;
    for (code, reverted) in [("INST-GONE-1", true), ("INST-GONE-2", false)] {
        let mut inst = events::custom_instance(
            code,
            "zhaolei",
            "2026-12-14T00:00:00+08:00",
            "2026-12-15T00:00:00+08:00",
            1.0,
            "CANCELED",
        );
        inst["reverted"] = Value::Bool(reverted);
        stack.sim.put_instance(inst);

        stack
            .deliver(&events::approval_instance(code, "APPROVED", code))
            .await
            .assert_done();
    }

    assert!(stack.sim.snapshot().writes.is_empty());
}

#[tokio::test]
async fn a_three_day_custom_form_leave_keeps_its_last_day() {
    // The form's end names the last day; the interval (3 days) says so.
    let stack = TestStack::start().await;
    stack.sim.put_instance(events::custom_instance(
        "INST-3DAYS",
        "zhaolei",
        "2026-12-01T00:00:00+08:00",
        "2026-12-03T00:00:00+08:00",
        3.0,
        "APPROVED",
    ));

    stack
        .deliver(&events::approval_instance("INST-3DAYS", "APPROVED", "c3"))
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    let a = &s.attendance[0].leave;
    assert_eq!(
        (a["start_time"].as_str(), a["end_time"].as_str()),
        (Some("2026-12-01 00:00:00"), Some("2026-12-04 00:00:00"))
    );
    assert_eq!(
        (a["unit"].as_i64(), a["interval"].as_i64()),
        (Some(1), Some(259_200))
    );
    let t = &s.timeoff_events[0];
    assert_eq!(
        (t.start_time.as_str(), t.end_time.as_str()),
        ("2026-12-01", "2026-12-03")
    );
}
