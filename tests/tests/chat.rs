//! The chat bot end to end against moto and the simulator: what the employee sees in chat,
//! the instances Feishu Approval holds, and what is synced once they are approved.

use leave_sync_tests::events::{self, CUSTOM_FORM, LEAVE_FORM, LeaveSpec, chat_message};
use leave_sync_tests::harness::{Msg, StackOptions, TestStack};
use leave_sync_tests::sim::SimConfig;
use leave_sync_tests::sim::api::{INSTANCE_CANCEL, INSTANCE_CREATE, MESSAGE_PATCH, MESSAGE_REPLY};
use leave_sync_tests::sim::faults::{Fault, FaultKind};
use leave_sync_tests::sim::state::MessageRecord;
use serde_json::Value;

async fn bot(chat_leave_code: Option<&str>, types: Option<&str>) -> TestStack {
    TestStack::with(StackOptions {
        chat_leave_code: chat_leave_code.map(str::to_owned),
        chat_leave_types: types.map(str::to_owned),
        ..StackOptions::default()
    })
    .await
}

/// The answers to one message, as the employee sees them.
fn replies_to(stack: &TestStack, message_id: &str) -> Vec<MessageRecord> {
    stack
        .sim
        .snapshot()
        .messages
        .into_iter()
        .filter(|m| m.reply_to.as_deref() == Some(message_id))
        .collect()
}

fn instances_of(stack: &TestStack, open_id: &str) -> Vec<Value> {
    stack
        .sim
        .snapshot()
        .instances
        .into_values()
        .filter(|i| i["open_id"] == open_id)
        .collect()
}

fn form(instance: &Value) -> Vec<Value> {
    serde_json::from_str(instance["form"].as_str().unwrap()).unwrap()
}

fn card_text(m: &MessageRecord) -> String {
    m.content.to_string()
}

#[tokio::test]
async fn a_leave_applied_for_in_chat_is_created_once_answered_once_and_synced_when_approved() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    let text = "请假 2026-12-01 2026-12-03 家里有事";
    let msg = stack
        .deliver(&chat_message("om_apply1", "zhangwei", text, "p2p", false))
        .await
        .assert_done();
    stack.redeliver(&msg).await.assert_done();
    stack.redeliver(&msg).await.assert_done();

    let created = instances_of(&stack, "ou_zhangwei");
    assert_eq!(
        created.len(),
        1,
        "one instance however often the message arrives"
    );
    let period = &form(&created[0])[0];
    assert_eq!(period["custom_id"], "timeInfo");
    assert_eq!(period["value"]["start"], "2026-12-01T00:00:00+08:00");
    assert_eq!(period["value"]["end"], "2026-12-03T00:00:00+08:00");
    assert_eq!(period["value"]["interval"], 3.0);
    assert_eq!(form(&created[0])[1]["value"], "家里有事");

    let replies = replies_to(&stack, "om_apply1");
    assert_eq!(replies.len(), 1, "one answer: {replies:?}");
    let code = created[0]["instance_code"].as_str().unwrap().to_owned();
    assert!(
        card_text(&replies[0]).contains(&code),
        "the card names the instance"
    );
    assert!(
        card_text(&replies[0]).contains("审批中"),
        "answered in Chinese"
    );

    // The approval flows; its event syncs the leave like any other.
    let mut approved = created[0].clone();
    approved["status"] = "APPROVED".into();
    approved["end_time"] = "1796299990000".into();
    stack.sim.put_instance(approved);
    stack
        .deliver(&events::approval_instance(
            &code,
            "APPROVED",
            "ev-approved-1",
        ))
        .await
        .assert_done();
    let attendance = stack.sim.snapshot().attendance;
    assert_eq!(attendance.len(), 1);
    assert_eq!(attendance[0].leave["start_time"], "2026-12-01 00:00:00");
    assert_eq!(attendance[0].leave["end_time"], "2026-12-04 00:00:00");
    // The reply card followed: replaced in place, now saying it is synced.
    let card = &replies_to(&stack, "om_apply1")[0];
    assert_eq!(card.updates, 1);
    assert!(card_text(card).contains("已同步"), "{}", card_text(card));

    // Revoked later: the sync is undone and the card says so.
    let mut revoked = approved_instance(&stack, &code);
    revoked["reverted"] = true.into();
    revoked["status"] = "CANCELED".into();
    stack.sim.put_instance(revoked);
    stack
        .deliver(&events::approval_instance(
            &code,
            "REVERTED",
            "ev-reverted-1",
        ))
        .await
        .assert_done();
    let card = &replies_to(&stack, "om_apply1")[0];
    assert_eq!(card.updates, 2);
    assert!(card_text(card).contains("已撤销"), "{}", card_text(card));
}

fn approved_instance(stack: &TestStack, code: &str) -> Value {
    stack.sim.snapshot().instances[code].clone()
}

#[tokio::test]
async fn withdraw_ends_a_pending_application_once_and_says_when_there_is_nothing_to_withdraw() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    stack
        .deliver(&chat_message(
            "om_w_apply",
            "lina",
            "请假 2026-12-21 2026-12-22 回老家",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let code = instances_of(&stack, "ou_lina")[0]["instance_code"]
        .as_str()
        .unwrap()
        .to_owned();

    let msg = stack
        .deliver(&chat_message("om_w_1", "lina", "撤回", "p2p", false))
        .await
        .assert_done();
    stack.redeliver(&msg).await.assert_done();
    let snapshot = stack.sim.snapshot();
    assert_eq!(snapshot.instances[&code]["status"], "CANCELED");
    assert_eq!(
        snapshot.calls.get(INSTANCE_CANCEL).copied(),
        Some(1),
        "withdrawn once"
    );
    let answers = replies_to(&stack, "om_w_1");
    assert_eq!(answers.len(), 1);
    assert!(card_text(&answers[0]).contains("已撤回"));
    let card = &replies_to(&stack, "om_w_apply")[0];
    assert_eq!(card.updates, 1, "the application's card says withdrawn");
    assert!(card_text(card).contains("已撤回"));

    stack
        .deliver(&chat_message("om_w_2", "lina", "withdraw", "p2p", false))
        .await
        .assert_done();
    assert!(card_text(&replies_to(&stack, "om_w_2")[0]).contains("Nothing to withdraw"));
    // Someone else's instance, named by its code, is not theirs to withdraw.
    stack
        .deliver(&chat_message(
            "om_w_3",
            "zhangwei",
            &format!("withdraw {code}"),
            "p2p",
            false,
        ))
        .await
        .assert_done();
    assert!(card_text(&replies_to(&stack, "om_w_3")[0]).contains("Nothing to withdraw"));
}

#[tokio::test]
async fn where_the_admin_does_not_allow_withdrawing_the_employee_is_told_where_that_is_set() {
    let stack = TestStack::with(StackOptions {
        chat_leave_code: Some(CUSTOM_FORM.into()),
        sim: SimConfig {
            allow_withdraw: false,
            ..SimConfig::default()
        },
        ..StackOptions::default()
    })
    .await;
    stack
        .deliver(&chat_message(
            "om_n_apply",
            "zhaolei",
            "leave 2026-12-28 ski trip",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    stack
        .deliver(&chat_message("om_n_1", "zhaolei", "withdraw", "p2p", false))
        .await
        .assert_done();
    let answer = card_text(&replies_to(&stack, "om_n_1")[0]);
    assert!(
        answer.contains("Not withdrawn") && answer.contains("settings"),
        "{answer}"
    );
    assert_eq!(instances_of(&stack, "ou_zhaolei")[0]["status"], "PENDING");
}

#[tokio::test]
async fn a_lost_answer_to_the_create_neither_duplicates_the_instance_nor_the_reply() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    // Feishu creates the instance, the answer is lost; then the reply fails once.
    stack
        .sim
        .inject(Fault::new(INSTANCE_CREATE, FaultKind::CommitThenFail));
    stack
        .sim
        .inject(Fault::new(MESSAGE_REPLY, FaultKind::Internal));
    let text = "leave 2026-12-07 am to 2026-12-08 pm moving house";
    stack
        .deliver_until_done(&chat_message("om_apply2", "lina", text, "p2p", false), 4)
        .await;
    let creates = stack.sim.snapshot().calls.get(INSTANCE_CREATE).copied();
    assert_eq!(
        creates,
        Some(2),
        "the create was tried again, and refused as a uuid conflict"
    );
    let created = instances_of(&stack, "ou_lina");
    assert_eq!(
        created.len(),
        1,
        "the uuid found the instance the lost answer made"
    );
    assert_eq!(form(&created[0])[0]["value"]["interval"], 2.0);
    let replies = replies_to(&stack, "om_apply2");
    assert_eq!(replies.len(), 1);
    assert!(
        card_text(&replies[0]).contains("pending approval"),
        "answered in English"
    );
}

#[tokio::test]
async fn what_the_bot_cannot_do_gets_one_helpful_answer_and_no_instance() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    stack
        .deliver(&chat_message(
            "om_first",
            "wangfang",
            "请假 2026-12-10 2026-12-11 旅行",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let cases = [
        ("om_baddate", "请假 2026-02-30", "p2p", false, "2026-02-30"),
        ("om_hello", "hello", "p2p", false, "did not understand"),
        ("om_help", "帮助", "p2p", false, "请假 2026-12-01"),
        ("om_group", "请假 明天 事假", "group", true, "审批中"),
    ];
    for (id, text, chat, mention, says) in cases {
        stack
            .deliver(&chat_message(id, "wangfang", text, chat, mention))
            .await
            .assert_done();
        let replies = replies_to(&stack, id);
        assert_eq!(replies.len(), 1, "{text}: {replies:?}");
        assert!(
            card_text(&replies[0]).contains(says),
            "{text}: {}",
            card_text(&replies[0])
        );
    }
    // A group message that does not @mention the bot is not for it.
    stack
        .deliver(&chat_message(
            "om_chatter",
            "wangfang",
            "请假 明天",
            "group",
            false,
        ))
        .await
        .assert_done();
    assert!(replies_to(&stack, "om_chatter").is_empty());
    assert_eq!(
        instances_of(&stack, "ou_wangfang").len(),
        2,
        "the first and the group one"
    );
}

#[tokio::test]
async fn without_a_definition_the_bot_says_chat_applications_are_not_set_up() {
    let stack = bot(None, None).await;
    stack
        .deliver(&chat_message(
            "om_nosetup",
            "zhaolei",
            "leave tomorrow",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let replies = replies_to(&stack, "om_nosetup");
    assert_eq!(replies.len(), 1);
    assert!(card_text(&replies[0]).contains("CHAT_LEAVE_APPROVAL_CODE"));
    assert!(stack.sim.snapshot().instances.is_empty());
}

#[tokio::test]
async fn a_native_leave_form_needs_a_leave_type_the_admin_listed() {
    let types =
        "年假|Annual leave|annual=7138673249737506817, 事假|Personal leave=7138673249737506818";
    let stack = bot(Some(LEAVE_FORM), Some(types)).await;
    stack
        .deliver(&chat_message(
            "om_notype",
            "zhangwei",
            "leave 2026-12-01 skiing",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let answer = card_text(&replies_to(&stack, "om_notype")[0]);
    assert!(
        answer.contains("Annual leave") && answer.contains("Personal leave"),
        "{answer}"
    );
    assert!(instances_of(&stack, "ou_zhangwei").is_empty());

    stack
        .deliver(&chat_message(
            "om_annual",
            "zhangwei",
            "leave 2026-12-01 to 2026-12-02 annual skiing",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let created = instances_of(&stack, "ou_zhangwei");
    assert_eq!(created.len(), 1);
    // Read back as the detail shows the group (the simulator checked the create shape's
    // sub-widgets: type id, start, end).
    let group = &form(&created[0])[0];
    assert_eq!(group["type"], "leaveGroupV2");
    let sub = |field: &str| group["value"][field].clone();
    assert_eq!(sub("name"), "7138673249737506817");
    assert_eq!(sub("start"), "2026-12-01T00:00:00+08:00");
    // Feishu rounds the ends by the leave type: the end is the last moment of the last day.
    assert_eq!(sub("end"), "2026-12-02T23:59:59+08:00");
    assert_eq!(sub("reason"), "skiing");

    // Overlapping leave: Feishu refuses it, the employee is told why, nothing is created.
    stack
        .deliver(&chat_message(
            "om_overlap",
            "zhangwei",
            "请假 2026-12-02下午 事假",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let answer = card_text(&replies_to(&stack, "om_overlap")[0]);
    assert!(answer.contains("leave is conflict"), "{answer}");
    // No reason given: the form still carries one (Feishu refuses empty values).
    stack
        .deliver(&chat_message(
            "om_noreason",
            "zhangwei",
            "请假 2026-12-09 年假",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let created = instances_of(&stack, "ou_zhangwei");
    assert_eq!(
        created.len(),
        2,
        "the annual leave and the one without a reason"
    );
}

#[tokio::test]
async fn a_definition_only_an_admin_can_fix_is_answered_at_once_and_alerted() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    stack.sim.inject(
        Fault::new(
            INSTANCE_CREATE,
            FaultKind::Answer {
                status: 400,
                code: 1390015,
                msg: "approval is not active".into(),
            },
        )
        .times(5),
    );
    stack
        .deliver(&chat_message(
            "om_inactive",
            "lina",
            "leave tomorrow",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let answer = card_text(&replies_to(&stack, "om_inactive")[0]);
    assert!(
        answer.contains("misconfigured") && answer.contains("approval is not active"),
        "{answer}"
    );
    assert!(instances_of(&stack, "ou_lina").is_empty());
}

#[tokio::test]
async fn feishu_failing_for_three_deliveries_gets_the_employee_an_answer_not_silence() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    stack.sim.inject(
        Fault::new(
            INSTANCE_CREATE,
            FaultKind::Answer {
                status: 400,
                code: 1395001,
                msg: "There have been some errors. Please try again later".into(),
            },
        )
        .times(100),
    );
    let body = chat_message("om_down", "wangfang", "请假 后天", "p2p", false);
    let mut msg = stack.deliver(&body).await.assert_retried();
    assert!(
        replies_to(&stack, "om_down").is_empty(),
        "the first failures are retried quietly"
    );
    msg.receive_count = 2;
    let msg = stack.send(msg).await.assert_retried();
    let third = Msg {
        receive_count: 3,
        ..msg
    };
    stack.send(third).await.assert_done();
    let answer = card_text(&replies_to(&stack, "om_down")[0]);
    assert!(answer.contains("没有响应"), "{answer}");
}

#[tokio::test]
async fn my_leave_lists_the_senders_own_leave_with_where_it_stands() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    let annual = LeaveSpec::day("ML-1", "zhangwei");
    stack.approve(&annual).await.assert_done();
    stack
        .approve(&LeaveSpec::half_day("ML-2", "zhangwei"))
        .await
        .assert_done();
    stack
        .approve(&LeaveSpec::day("ML-3", "lina"))
        .await
        .assert_done();
    stack.revoke(&annual).await.assert_done();

    stack
        .deliver(&chat_message(
            "om_mine",
            "zhangwei",
            "我的假期",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let answer = card_text(&replies_to(&stack, "om_mine")[0]);
    assert_eq!(
        answer.matches("- **").count(),
        2,
        "his two, not hers: {answer}"
    );
    assert!(
        answer.contains("2026-12-01 → 2026-12-02") && answer.contains("已撤销"),
        "{answer}"
    );
    assert!(
        answer.contains("2026-12-07 12:00") && answer.contains("已同步"),
        "{answer}"
    );

    stack
        .deliver(&chat_message(
            "om_none", "wangfang", "my leave", "p2p", false,
        ))
        .await
        .assert_done();
    assert!(card_text(&replies_to(&stack, "om_none")[0]).contains("No leave synced"));
}

#[tokio::test]
async fn feishu_rate_limits_delay_an_application_and_never_drop_it() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    // The create API allows 100 a minute per app; IM 5 a second per user (reference §4.8,
    // §4.12): both answer 99991400 with a reset.
    stack
        .sim
        .inject(Fault::new(INSTANCE_CREATE, FaultKind::RateLimited { reset_secs: 1 }).times(3));
    stack
        .sim
        .inject(Fault::new(MESSAGE_REPLY, FaultKind::RateLimited { reset_secs: 1 }).times(3));
    let body = chat_message("om_busy", "zhaolei", "请假 2026-12-16 外出", "p2p", false);
    let mut delivery = stack.deliver(&body).await;
    for n in 2..=6 {
        if !delivery.is_retried() {
            break;
        }
        let msg = delivery.assert_retried();
        delivery = stack
            .send(Msg {
                receive_count: n,
                ..msg
            })
            .await;
    }
    delivery.assert_done();
    assert_eq!(instances_of(&stack, "ou_zhaolei").len(), 1);
    assert_eq!(replies_to(&stack, "om_busy").len(), 1);
    assert!(card_text(&replies_to(&stack, "om_busy")[0]).contains("审批中"));
}

#[tokio::test]
async fn the_form_card_applies_once_and_becomes_the_applications_card() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    stack
        .deliver(&chat_message("om_form", "lina", "请假", "p2p", false))
        .await
        .assert_done();
    let form_card = replies_to(&stack, "om_form").remove(0);
    assert!(
        card_text(&form_card).contains("date_picker"),
        "{}",
        card_text(&form_card)
    );

    let inputs = serde_json::json!({
        "start": "2026-12-21 +0800", "end": "2026-12-22 +0800", "reason": "回老家"
    });
    let submit = events::card_submit("cb-1", &form_card.message_id, "lina", inputs.clone());
    let msg = stack.deliver(&submit).await.assert_done();
    stack.redeliver(&msg).await.assert_done();
    // A second press of the same card (a new callback) is the same application.
    stack
        .deliver(&events::card_submit(
            "cb-2",
            &form_card.message_id,
            "lina",
            inputs,
        ))
        .await
        .assert_done();

    let created = instances_of(&stack, "ou_lina");
    assert_eq!(created.len(), 1);
    let period = &form(&created[0])[0]["value"];
    assert_eq!(
        (period["start"].as_str(), period["interval"].as_f64()),
        (Some("2026-12-21T00:00:00+08:00"), Some(2.0))
    );
    let card = replies_to(&stack, "om_form").remove(0);
    assert_eq!(
        card.updates, 1,
        "the form became the application's card, once"
    );
    assert!(card_text(&card).contains("审批中") && card_text(&card).contains("回老家"));
}

#[tokio::test]
async fn a_form_card_that_cannot_be_read_says_why_and_creates_nothing() {
    let types = "年假|Annual leave=7138673249737506817";
    let stack = bot(Some(LEAVE_FORM), Some(types)).await;
    stack
        .deliver(&chat_message("om_form2", "zhaolei", "leave", "p2p", false))
        .await
        .assert_done();
    let form_card = replies_to(&stack, "om_form2").remove(0);
    assert!(
        card_text(&form_card).contains("Annual leave"),
        "the type select lists the types"
    );
    let no_type = serde_json::json!({ "start": "2026-12-21 +0800", "end": "2026-12-20 +0800" });
    stack
        .deliver(&events::card_submit(
            "cb-3",
            &form_card.message_id,
            "zhaolei",
            no_type,
        ))
        .await
        .assert_done();
    let card = replies_to(&stack, "om_form2").remove(0);
    assert!(
        card_text(&card).contains("没能提交"),
        "{}",
        card_text(&card)
    );
    assert!(instances_of(&stack, "ou_zhaolei").is_empty());
}

#[tokio::test]
async fn a_form_card_too_old_to_update_gets_the_answer_in_a_new_message_and_groups_get_no_form() {
    let stack = bot(Some(CUSTOM_FORM), None).await;
    stack
        .deliver(&chat_message("om_old", "wangfang", "请假", "p2p", false))
        .await
        .assert_done();
    let form_card = replies_to(&stack, "om_old").remove(0);
    // Submitted on day 20: a card can be updated for 14 days only (230031).
    stack.sim.inject(Fault::new(
        MESSAGE_PATCH,
        FaultKind::Answer {
            status: 400,
            code: 230031,
            msg: "The message has exceeded the time limit for updates".into(),
        },
    ));
    let inputs = serde_json::json!({ "start": "2026-12-24 +0800", "end": "2026-12-24 +0800" });
    stack
        .deliver(&events::card_submit(
            "cb-old",
            &form_card.message_id,
            "wangfang",
            inputs,
        ))
        .await
        .assert_done();
    assert_eq!(instances_of(&stack, "ou_wangfang").len(), 1);
    let told: Vec<_> = stack
        .sim
        .snapshot()
        .messages
        .into_iter()
        .filter(|m| m.open_id.as_deref() == Some("ou_wangfang") && m.reply_to.is_none())
        .collect();
    assert_eq!(told.len(), 1, "the application's card, as a new message");
    assert!(card_text(&told[0]).contains("审批中"));

    // In a group, anyone could submit a form for its first reader: none is sent there.
    stack
        .deliver(&chat_message(
            "om_grp_form",
            "wangfang",
            "请假",
            "group",
            true,
        ))
        .await
        .assert_done();
    let answer = card_text(&replies_to(&stack, "om_grp_form")[0]);
    assert!(
        answer.contains("私聊") && !answer.contains("date_picker"),
        "{answer}"
    );
}
