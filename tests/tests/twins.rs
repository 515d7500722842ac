//! What the two events of one approval say, whichever comes first: the doc's own pair,
//! working-time segments, and leave-cancellation forms (销假), whose V1 twin cannot say
//! that it is one.

use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::TestStack;
use leave_sync_tests::sim::Snapshot;
use serde_json::Value;
use shared::ledger::State;

/// V1 first (it waits for its twin), or V2 first (V1 comes later and waits too); then the
/// waiting V1 comes back.
async fn deliver_pair(stack: &TestStack, (v1, v2): (Value, Value), v1_first: bool) {
    let order = if v1_first { [v1, v2] } else { [v2, v1] };
    for body in order {
        stack.deliver(&body).await.assert_done();
    }
    stack.send_batch(stack.deferred().await).await.assert_done();
}

/// What Feishu holds for one user, without the ids it issued.
fn written_for(s: &Snapshot, user: &str) -> (Vec<Value>, Vec<(String, String)>) {
    let attendance = s
        .attendance
        .iter()
        .filter(|a| a.user_id == format!("u_{user}"))
        .map(|a| {
            let mut l = a.leave.clone();
            for volatile in ["approval_id", "idempotent_id"] {
                l.as_object_mut().unwrap().remove(volatile);
            }
            l
        })
        .collect();
    let timeoff = s
        .timeoff_events
        .iter()
        .filter(|t| t.open_id == format!("ou_{user}"))
        .map(|t| (t.start_time.clone(), t.end_time.clone()))
        .collect();
    (attendance, timeoff)
}

#[tokio::test]
async fn the_doc_pair_gives_the_same_records_in_either_order() {
    let stack = TestStack::start().await;
    deliver_pair(&stack, events::doc_twins("DOC-V1-FIRST", "lina"), true).await;
    deliver_pair(&stack, events::doc_twins("DOC-V2-FIRST", "wangfang"), false).await;

    let s = stack.sim.snapshot();
    let (v1_first, v2_first) = (written_for(&s, "lina"), written_for(&s, "wangfang"));
    assert_eq!(v1_first, v2_first);
    let (attendance, timeoff) = v1_first;
    assert_eq!(attendance.len(), 1);
    let a = &attendance[0];
    assert_eq!(
        a["start_time"], "2024-09-05 12:00:00",
        "the 5th's morning is worked"
    );
    assert_eq!(a["end_time"], "2024-09-07 00:00:00");
    assert_eq!(
        (a["unit"].as_i64(), a["interval"].as_i64()),
        (Some(3), Some(129_600))
    );
    // One time-off event per working-time segment: 13:30–18:00 and 09:00–18:00 (+08:00).
    let utc = |s: &str| {
        jiff::Timestamp::from_second(s.parse().unwrap())
            .unwrap()
            .to_string()
    };
    let segments: Vec<(String, String)> = timeoff.iter().map(|(s, e)| (utc(s), utc(e))).collect();
    assert_eq!(
        segments,
        vec![
            (
                "2024-09-05T05:30:00Z".to_owned(),
                "2024-09-05T10:00:00Z".to_owned()
            ),
            (
                "2024-09-06T01:00:00Z".to_owned(),
                "2024-09-06T10:00:00Z".to_owned()
            ),
        ]
    );
}

#[tokio::test]
async fn a_revoke_deletes_every_segment() {
    let stack = TestStack::start().await;
    deliver_pair(&stack, events::doc_twins("DOC-SEGMENTS", "lina"), false).await;
    let r = stack.record("DOC-SEGMENTS").await.unwrap();
    assert_eq!(r.timeoff_event_ids.len(), 2);

    stack
        .deliver(&events::revert("DOC-SEGMENTS", "rv"))
        .await
        .assert_done();

    let s = stack.sim.snapshot();
    assert!(
        s.timeoff_events.iter().all(|t| t.deleted),
        "{:?}",
        s.timeoff_events
    );
    let r = stack.record("DOC-SEGMENTS").await.unwrap();
    assert_eq!(r.state, State::Revoked);
    let mut deleted = r.timeoff_deleted_ids.clone();
    deleted.sort();
    let mut made = r.timeoff_event_ids.clone();
    made.sort();
    assert_eq!(deleted, made);
}

#[tokio::test]
async fn a_leave_cancellation_never_writes_a_leave_in_either_order() {
    let stack = TestStack::start().await;
    let original = LeaveSpec::day("INST-ORIGINAL", "zhaolei");
    stack.approve(&original).await.assert_done();
    let before = stack.sim.snapshot();

    for (cancel, v1_first) in [("INST-CANCEL-A", true), ("INST-CANCEL-B", false)] {
        let period = LeaveSpec::day(cancel, "zhaolei");
        let v1 = events::leave_v1(&period, &format!("{cancel}-v1"));
        let v2 = events::cancellation_v2(cancel, "INST-ORIGINAL", &period, &format!("{cancel}-v2"));
        deliver_pair(&stack, (v1, v2), v1_first).await;
    }

    let s = stack.sim.snapshot();
    assert_eq!(
        s.attendance.len(),
        before.attendance.len(),
        "no attendance record"
    );
    assert_eq!(
        s.timeoff_events.len(),
        before.timeoff_events.len(),
        "no time-off event"
    );
    let told: Vec<&str> = s.messages[before.messages.len()..]
        .iter()
        .map(|m| m.content["header"]["title"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(told, vec!["销假已记录 · Leave cancellation recorded"; 2]);
    let r = stack.record("INST-ORIGINAL").await.unwrap();
    assert_eq!(
        r.state,
        State::Synced,
        "the original is not changed by itself"
    );
    assert_eq!(r.cancellations.len(), 2, "{:?}", r.cancellations);
    assert!(r.cancellations[0].starts_with("INST-CANCEL-A: 2026-12-01"));
    for cancel in ["INST-CANCEL-A", "INST-CANCEL-B"] {
        let r = stack.record(cancel).await.unwrap();
        assert_eq!(r.state, State::Tombstone, "{cancel}: {r:?}");
        assert!(r.cancellation_message_id.is_some(), "the card is recorded");
    }
}

/// V2 can come much later than V1's first wait: Feishu retries a failed push after 5 min,
/// 1 h and 6 h, and the processor's own retries wait too. A cancellation's V1 keeps waiting
/// for it, longer each time, and never writes a leave.
#[tokio::test]
async fn a_cancellations_v1_keeps_waiting_for_a_late_v2() {
    let stack = TestStack::start().await;
    let original = LeaveSpec::day("INST-ORIG-LATE", "zhaolei");
    stack.approve(&original).await.assert_done();
    let before = stack.sim.snapshot();
    let period = LeaveSpec::day("INST-CANCEL-LATE", "zhaolei");

    stack
        .deliver(&events::leave_v1(&period, "late-v1"))
        .await
        .assert_done();
    // Back from its first wait, twice: still no V2, so it waits again each time.
    for round in 0..2 {
        let back = stack.deferred().await;
        assert_eq!(back.len(), 1, "round {round}");
        let started = back[0].attrs[shared::queue::ATTR_DEFERRED].clone();
        stack.send_batch(back).await.assert_done();
        let s = stack.sim.snapshot();
        assert_eq!(
            s.attendance.len(),
            before.attendance.len(),
            "round {round}: no leave"
        );
        assert!(stack.record("INST-CANCEL-LATE").await.is_none());
        // The mark keeps when it started waiting (Unix seconds).
        assert!(started.parse::<i64>().is_ok(), "{started}");
    }

    let v2 = events::cancellation_v2("INST-CANCEL-LATE", "INST-ORIG-LATE", &period, "late-v2");
    stack.deliver(&v2).await.assert_done();
    stack.send_batch(stack.deferred().await).await.assert_done();

    let s = stack.sim.snapshot();
    assert_eq!(
        s.attendance.len(),
        before.attendance.len(),
        "no leave written"
    );
    assert_eq!(s.timeoff_events.len(), before.timeoff_events.len());
    let told: Vec<&str> = s.messages[before.messages.len()..]
        .iter()
        .map(|m| m.content["header"]["title"]["content"].as_str().unwrap())
        .collect();
    assert_eq!(told, vec!["销假已记录 · Leave cancellation recorded"]);
    assert_eq!(
        stack.record("INST-CANCEL-LATE").await.unwrap().state,
        State::Tombstone
    );
}

/// When Feishu has stopped retrying and V2 never came, V1 is applied alone, with a note.
#[tokio::test]
async fn a_v1_whose_twin_never_comes_is_applied_alone_with_a_note() {
    let stack = TestStack::start().await;
    let spec = LeaveSpec::day("INST-V1-ALONE", "wangfang");
    stack.approve_v1(&spec).await.assert_done();
    let s = stack.sim.snapshot();
    assert_eq!(s.attendance.len(), 1);
    let r = stack.record("INST-V1-ALONE").await.unwrap();
    assert_eq!(r.state, State::Synced);
    let note = r.attention.unwrap_or_default();
    assert!(note.contains("leave_approval alone"), "{note}");
}
