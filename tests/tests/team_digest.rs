//! Who's out end to end against moto and the simulator: leaves synced through the
//! pipeline, the card the digest posts for a week (day, half-day, hours, multi-day and
//! cross-month leave; a revoked one absent), exactly one card per chat per day, the index
//! read instead of the table, and the bot's `谁请假` answering with the same card.

use jiff::civil::date;
use leave_sync_tests::events::{self, LeaveSpec, chat_message};
use leave_sync_tests::harness::TestStack;
use leave_sync_tests::sim::api::MESSAGE_SEND;
use leave_sync_tests::sim::faults::{Fault, FaultKind};
use leave_sync_tests::sim::state::{MessageRecord, TEAM_CHAT};
use shared::config::TeamShows;

fn spec(base: LeaveSpec, start: &str, end: &str, interval: i64) -> LeaveSpec {
    LeaveSpec {
        start: start.into(),
        end: end.into(),
        interval,
        ..base
    }
}

/// The week of Monday 2026-12-07, as the approvals went.
async fn week() -> TestStack {
    let stack = TestStack::start().await;
    let leaves = [
        spec(
            LeaveSpec::day("INST-OUT-A", "zhangwei"),
            "2026-12-07 00:00:00",
            "2026-12-09 00:00:00",
            172_800,
        ),
        LeaveSpec::half_day("INST-OUT-B", "lina"), // 12-07 afternoon
        LeaveSpec::hour("INST-OUT-C", "wangfang"), // 12-10 14:00–17:00
        spec(
            LeaveSpec::day("INST-OUT-X", "zhaolei"),
            "2026-11-30 00:00:00",
            "2026-12-09 00:00:00",
            777_600,
        ),
        spec(
            LeaveSpec::day("INST-OUT-J", "lina"),
            "2027-01-05 00:00:00",
            "2027-01-06 00:00:00",
            86_400,
        ),
    ];
    for leave in &leaves {
        stack.approve(leave).await.assert_done();
    }
    let revoked = spec(
        LeaveSpec::day("INST-OUT-D", "wangfang"),
        "2026-12-09 00:00:00",
        "2026-12-10 00:00:00",
        86_400,
    );
    stack.approve(&revoked).await.assert_done();
    stack.revoke(&revoked).await.assert_done();
    stack
}

fn cards_in(stack: &TestStack, chat: &str) -> Vec<MessageRecord> {
    let messages = stack.sim.snapshot().messages;
    messages
        .into_iter()
        .filter(|m| m.receive_id == chat)
        .collect()
}

fn days_of(card: &MessageRecord) -> Vec<String> {
    card.content["elements"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["content"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn the_card_lists_the_week_by_day_from_the_index_alone() {
    let stack = week().await;
    let report = stack.post_digest(date(2026, 12, 7), "run-1").await;
    assert_eq!(report.posted, [TEAM_CHAT]);
    assert_eq!(
        report.items_read, 4,
        "December's index items that start by Friday: not the table, not January"
    );
    let cards = cards_in(&stack, TEAM_CHAT);
    assert_eq!(cards.len(), 1);
    let days = days_of(&cards[0]);
    assert_eq!(days.len(), 5, "Monday to Friday: {days:?}");
    let person = |who: &str| format!("<person id='ou_{who}' show_name=true");
    assert!(
        days[0].starts_with("**今天 Today · 12-07 周一 Mon**"),
        "{}",
        days[0]
    );
    assert!(
        days[0].contains(&format!(
            "{} show_avatar=false></person> · 年假 · 全天 all day",
            person("zhangwei")
        )),
        "{}",
        days[0]
    );
    assert!(
        days[0].contains(&format!(
            "{} show_avatar=false></person> · 事假 · 下午 pm",
            person("lina")
        )),
        "{}",
        days[0]
    );
    assert!(
        days[0].contains(&person("zhaolei")),
        "the cross-month leave: {}",
        days[0]
    );
    assert!(days[1].contains(&person("zhangwei")) && days[1].contains(&person("zhaolei")));
    assert!(!days[1].contains(&person("lina")), "{}", days[1]);
    assert!(
        days[2].ends_with("没有人请假 · Nobody is out"),
        "revoked: {}",
        days[2]
    );
    assert!(days[3].contains("病假 · 14:00–17:00"), "{}", days[3]);
    assert!(
        days[4].ends_with("没有人请假 · Nobody is out"),
        "{}",
        days[4]
    );
    let text = cards[0].content.to_string();
    for reason in ["Family trip", "Moving house", "Dentist"] {
        assert!(!text.contains(reason), "never the reason");
    }
}

#[tokio::test]
async fn one_card_per_chat_per_day_whatever_the_retries() {
    let stack = week().await;
    // The send is carried out, then answered with an error: the run fails for that chat.
    let lost = FaultKind::CommitThenAnswer {
        status: 400,
        code: 230001,
        msg: "invalid request".into(),
    };
    stack.sim.inject(Fault::new(MESSAGE_SEND, lost));
    let first = stack.post_digest(date(2026, 12, 8), "run-1").await;
    assert_eq!(first.failed.len(), 1, "{first:?}");
    // The scheduler's retry, and a second one: the uuid, then the ledger, stop repeats.
    let retry = stack.post_digest(date(2026, 12, 8), "run-2").await;
    assert_eq!(retry.posted, [TEAM_CHAT], "{retry:?}");
    let again = stack.post_digest(date(2026, 12, 8), "run-3").await;
    assert_eq!(again.already_posted, [TEAM_CHAT]);
    assert_eq!(cards_in(&stack, TEAM_CHAT).len(), 1, "one card");
    // The next day is another card.
    stack.post_digest(date(2026, 12, 9), "run-4").await;
    assert_eq!(cards_in(&stack, TEAM_CHAT).len(), 2);
}

#[tokio::test]
async fn a_chat_without_the_bot_is_reported_and_the_others_still_get_their_card() {
    let stack = week().await;
    let lease = shared::ledger::Lease {
        owner: "run-1".into(),
        until: jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30),
    };
    let elsewhere = "oc_elsewhere00000000000000000000001";
    let report = stack
        .digest(&[elsewhere, TEAM_CHAT], TeamShows::Name)
        .post(date(2026, 12, 7), &lease)
        .await
        .unwrap();
    assert_eq!(report.posted, [TEAM_CHAT]);
    assert_eq!(report.failed.len(), 1);
    assert!(report.failed[0].1.contains("230002"), "{:?}", report.failed);
    let text = cards_in(&stack, TEAM_CHAT)[0].content.to_string();
    assert!(
        text.contains("外出 out") && !text.contains("年假"),
        "name only: {text}"
    );
}

#[tokio::test]
async fn the_bot_answers_who_is_out_with_the_same_card() {
    let stack = week().await;
    let ask = chat_message("om_who1", "lina", "谁请假 2026-12-10", "p2p", false);
    stack.deliver(&ask).await.assert_done();
    let messages = stack.sim.snapshot().messages;
    let answer: Vec<_> = messages
        .iter()
        .filter(|m| m.reply_to.as_deref() == Some("om_who1"))
        .collect();
    assert_eq!(answer.len(), 1);
    let text = answer[0].content.to_string();
    assert!(
        text.contains("<person id='ou_wangfang'") && text.contains("14:00–17:00"),
        "{text}"
    );
    assert!(!text.contains("ou_zhangwei"), "{text}");
    let _ = events::TENANT;
}

#[tokio::test]
async fn a_sync_that_lost_its_lease_cannot_list_a_leave_its_revoke_undid() {
    let stack = TestStack::start().await;
    let leave = LeaveSpec::day("INST-OUT-LATE", "zhangwei"); // Dec 1–2
    stack.approve(&leave).await.assert_done();
    stack.revoke(&leave).await.assert_done();
    let record = stack.record("INST-OUT-LATE").await.unwrap();
    // An attempt whose lease ran out while the revoke ran comes to its last write.
    let late = shared::ledger::Lease {
        owner: "an-earlier-attempt".into(),
        until: jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30),
    };
    let done = shared::ledger::Notified::Nothing;
    let instance = TestStack::instance("INST-OUT-LATE");
    let written = (stack.ledger)
        .complete_sync(&instance, &late, &done, record.leave.as_ref())
        .await;
    assert!(
        matches!(written, Err(shared::ledger::LedgerError::LostLease { .. })),
        "{written:?}"
    );
    let out = (stack.ledger)
        .out_between(events::TENANT, date(2026, 12, 1), date(2026, 12, 2))
        .await
        .unwrap();
    assert!(out.leaves.is_empty(), "not listed: {:?}", out.leaves);
}
