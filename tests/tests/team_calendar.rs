//! The team's shared leave calendar end to end against moto and the simulator: each
//! synced leave gets one entry there, as the privacy setting allows; a revoke deletes it;
//! a lost answer makes no second entry; a refusal never fails the leave's sync.

use leave_sync_tests::events::LeaveSpec;
use leave_sync_tests::harness::{StackOptions, TestStack};
use leave_sync_tests::sim::api::{CALENDAR_EVENT_CREATE, CONTACT_USER_GET};
use leave_sync_tests::sim::faults::{Fault, FaultKind};
use leave_sync_tests::sim::state::{CalendarEventRecord, TEAM_CALENDAR};
use shared::ledger::State;

async fn stack(shows: Option<&str>) -> TestStack {
    TestStack::with(StackOptions {
        team_calendar: Some(TEAM_CALENDAR.into()),
        team_view_shows: shows.map(str::to_owned),
        ..StackOptions::default()
    })
    .await
}

fn entries(stack: &TestStack) -> Vec<CalendarEventRecord> {
    let events = stack.sim.snapshot().calendar_events;
    events
        .into_iter()
        .filter(|e| e.calendar_id == TEAM_CALENDAR)
        .collect()
}

#[tokio::test]
async fn a_synced_leave_gets_one_entry_and_its_revoke_deletes_it() {
    let stack = stack(None).await;
    let leave = LeaveSpec::day("INST-TEAM1", "zhangwei"); // 年假, Dec 1–2
    stack.approve(&leave).await.assert_done();
    stack.approve(&leave).await.assert_done(); // redelivered: nothing new

    let made = entries(&stack);
    assert_eq!(made.len(), 1, "{made:?}");
    let body = &made[0].body;
    assert_eq!(body["summary"], "张伟 · 年假");
    assert_eq!(body["start_time"]["date"], "2026-12-01");
    assert_eq!(
        body["end_time"]["date"], "2026-12-02",
        "the last day, inclusive"
    );
    assert_eq!(body["free_busy_status"], "free");
    assert_eq!(body["visibility"], "public");
    assert_eq!(body["need_notification"], false);
    assert!(
        !body.to_string().contains("Family trip"),
        "never the reason"
    );
    let r = stack.record("INST-TEAM1").await.unwrap();
    assert_eq!(r.state, State::Synced);
    let entry = r.team_event.expect("recorded");
    assert_eq!(entry.event_id, made[0].event_id);

    stack.revoke(&leave).await.assert_done();
    assert!(entries(&stack)[0].deleted, "deleted with the revoke");
    let r = stack.record("INST-TEAM1").await.unwrap();
    assert_eq!(r.state, State::Revoked);
    assert!(r.team_event_deleted);
}

#[tokio::test]
async fn a_lost_answer_makes_no_second_entry() {
    let stack = stack(Some("name")).await;
    stack
        .sim
        .inject(Fault::new(CALENDAR_EVENT_CREATE, FaultKind::CommitThenFail));
    let leave = LeaveSpec::hour("INST-TEAM2", "lina");
    let body = leave_sync_tests::events::leave_v2(&leave, "ev-team2");
    stack.deliver_until_done(&body, 4).await;

    let made = entries(&stack);
    assert_eq!(
        made.len(),
        1,
        "the idempotency_key found the first: {made:?}"
    );
    assert_eq!(made[0].body["summary"], "李娜 · 外出 Out", "name only");
    assert!(made[0].body["start_time"]["timestamp"].is_string(), "timed");
    let r = stack.record("INST-TEAM2").await.unwrap();
    assert_eq!(r.team_event.unwrap().event_id, made[0].event_id);
}

#[tokio::test]
async fn busy_mode_reads_no_name_and_a_refusal_never_fails_the_sync() {
    let busy = stack(Some("busy")).await;
    let leave = LeaveSpec::day("INST-TEAM3", "wangfang");
    busy.approve(&leave).await.assert_done();
    assert_eq!(entries(&busy)[0].body["summary"], "忙碌 Busy");
    assert_eq!(busy.sim.snapshot().calls.get(CONTACT_USER_GET), None);

    // The employee is outside the app's contact range: synced, noted, no entry.
    let named = stack(None).await;
    named.sim.inject(Fault::new(
        CONTACT_USER_GET,
        FaultKind::Answer {
            status: 400,
            code: 41050,
            msg: "no user authority error".into(),
        },
    ));
    let leave = LeaveSpec::day("INST-TEAM4", "zhaolei");
    named.approve(&leave).await.assert_done();
    assert!(entries(&named).is_empty());
    let r = named.record("INST-TEAM4").await.unwrap();
    assert_eq!(r.state, State::Synced, "the leave itself is synced");
    assert!(r.message_id.is_some(), "and the employee told");
    let note = r.attention.unwrap_or_default();
    assert!(
        note.contains("team_calendar_failed") && note.contains("41050"),
        "{note}"
    );
}

#[tokio::test]
async fn without_a_team_calendar_no_call_is_made() {
    let stack = TestStack::start().await;
    stack
        .approve(&LeaveSpec::day("INST-TEAM5", "zhangwei"))
        .await
        .assert_done();
    let calls = stack.sim.snapshot().calls;
    assert_eq!(calls.get(CALENDAR_EVENT_CREATE), None);
    assert_eq!(calls.get(CONTACT_USER_GET), None);
}
