//! Overtime end to end against moto and the simulator: applied for in chat against the
//! overtime form, written to attendance as `overtime_works` once approved (no time-off
//! event), revoked as overtime, and the employee told at each step.

use leave_sync_tests::events::{self, OVERTIME_FORM, chat_message};
use leave_sync_tests::harness::{StackOptions, TestStack};
use leave_sync_tests::sim::api::{
    ATTENDANCE_CREATE, ATTENDANCE_PROCESS, INSTANCE_CREATE, TIMEOFF_CREATE,
};
use leave_sync_tests::sim::faults::{Fault, FaultKind};
use leave_sync_tests::sim::state::{AttendanceRecord, MessageRecord};
use serde_json::Value;

async fn bot(chat_overtime_code: Option<&str>) -> TestStack {
    TestStack::with(StackOptions {
        chat_overtime_code: chat_overtime_code.map(str::to_owned),
        ..StackOptions::default()
    })
    .await
}

fn replies_to(stack: &TestStack, message_id: &str) -> Vec<MessageRecord> {
    let messages = stack.sim.snapshot().messages;
    messages
        .into_iter()
        .filter(|m| m.reply_to.as_deref() == Some(message_id))
        .collect()
}

/// Cards sent to the employee directly (not replies): the sync's own notifications.
fn notices_to(stack: &TestStack, open_id: &str) -> Vec<String> {
    let messages = stack.sim.snapshot().messages;
    messages
        .into_iter()
        .filter(|m| m.reply_to.is_none() && m.receive_id == open_id)
        .map(|m| m.content.to_string())
        .collect()
}

fn instances(stack: &TestStack) -> Vec<Value> {
    stack.sim.snapshot().instances.into_values().collect()
}

/// Approval moves the instance on, then its `approval_instance` event arrives.
async fn set_status(stack: &TestStack, code: &str, status: &str, event: &str) {
    let mut instance = stack.sim.snapshot().instances[code].clone();
    match status {
        "REVERTED" => {
            instance["reverted"] = true.into();
            instance["status"] = "CANCELED".into();
        }
        s => instance["status"] = s.into(),
    }
    stack.sim.put_instance(instance);
    stack
        .deliver(&events::approval_instance_of(
            OVERTIME_FORM,
            code,
            status,
            event,
        ))
        .await
        .assert_done();
}

async fn apply(stack: &TestStack, message_id: &str, text: &str) -> String {
    stack
        .deliver(&chat_message(message_id, "zhangwei", text, "p2p", false))
        .await
        .assert_done();
    let created = instances(stack);
    assert_eq!(created.len(), 1, "{created:?}");
    created[0]["instance_code"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn overtime_applied_in_chat_is_written_as_overtime_and_undone_on_revoke() {
    let stack = bot(Some(OVERTIME_FORM)).await;
    let code = apply(&stack, "om_ot1", "加班 2026-12-06 10:00-18:00 项目上线").await;
    let instance = &instances(&stack)[0];
    assert_eq!(instance["approval_code"], OVERTIME_FORM);
    let form: Vec<Value> = serde_json::from_str(instance["form"].as_str().unwrap()).unwrap();
    assert_eq!(form[0]["value"]["start"], "2026-12-06T10:00:00+08:00");
    assert_eq!(form[0]["value"]["end"], "2026-12-06T18:00:00+08:00");
    assert_eq!(form[1]["value"], "项目上线");
    let reply = replies_to(&stack, "om_ot1");
    assert_eq!(reply.len(), 1);
    let card = reply[0].content.to_string();
    assert!(
        card.contains("加班已提交") && card.contains("8 小时"),
        "{card}"
    );

    set_status(&stack, &code, "APPROVED", "ev-ot-approved").await;
    let s = stack.sim.snapshot();
    assert_eq!(s.attendance.len(), 1);
    let record = &s.attendance[0];
    assert_eq!(record.kind, "overtime");
    assert_eq!(record.date, "20261206");
    let written = &record.leave;
    assert_eq!(
        (
            &written["start_time"],
            &written["end_time"],
            &written["duration"],
            &written["unit"],
        ),
        (
            &Value::from("2026-12-06 10:00:00"),
            &Value::from("2026-12-06 18:00:00"),
            &Value::from(8.0),
            &Value::from(2),
        )
    );
    assert_eq!(written["category"], 2, "a Sunday: rest day");
    assert_eq!(written["type"], 0, "record only, the default");
    assert_eq!(written["idempotent_id"], code.as_str());
    assert_eq!(s.calls.get(TIMEOFF_CREATE), None, "overtime is no time off");
    let told = notices_to(&stack, "ou_zhangwei");
    assert!(
        told.len() == 1 && told[0].contains("加班已记录"),
        "{told:?}"
    );
    let card = replies_to(&stack, "om_ot1")[0].content.to_string();
    assert!(
        card.contains("已写入考勤"),
        "the reply card followed: {card}"
    );
    let item = stack.record(&code).await.expect("ledger item");
    assert_eq!(
        item.approval_id.as_deref(),
        Some(record.approval_id.as_str())
    );

    set_status(&stack, &code, "REVERTED", "ev-ot-reverted").await;
    let s = stack.sim.snapshot();
    assert_eq!(s.attendance[0].status, 4, "revoked");
    let calls = stack.sim.calls();
    let revoke = calls.iter().filter(|c| c.api == ATTENDANCE_PROCESS).count();
    assert_eq!(revoke, 1);
    let told = notices_to(&stack, "ou_zhangwei");
    assert!(told.iter().any(|c| c.contains("加班已撤销")), "{told:?}");
    let card = replies_to(&stack, "om_ot1")[0].content.to_string();
    assert!(card.contains("加班已撤销"), "{card}");
}

#[tokio::test]
async fn a_lost_answer_to_the_overtime_write_is_read_back_not_written_twice() {
    let stack = bot(Some(OVERTIME_FORM)).await;
    let code = apply(&stack, "om_ot2", "overtime 2026-12-07 19:00-22:30 release").await;
    stack
        .sim
        .inject(Fault::new(ATTENDANCE_CREATE, FaultKind::CommitThenFail));
    let mut approved = stack.sim.snapshot().instances[&code].clone();
    approved["status"] = "APPROVED".into();
    stack.sim.put_instance(approved);
    let approved = events::approval_instance_of(OVERTIME_FORM, &code, "APPROVED", "ev-ot2");
    stack.deliver_until_done(&approved, 4).await;
    let s = stack.sim.snapshot();
    assert_eq!(s.attendance.len(), 1, "one record: {:?}", s.attendance);
    assert_eq!(s.attendance[0].leave["category"], 1, "a Monday: workday");
    assert_eq!(s.attendance[0].leave["duration"], 3.5);
    let item = stack.record(&code).await.expect("ledger item");
    assert_eq!(
        item.approval_id.as_deref(),
        Some(s.attendance[0].approval_id.as_str()),
        "found among the user's overtime records by its times"
    );
    let card = replies_to(&stack, "om_ot2")[0].content.to_string();
    assert!(card.contains("Overtime approved"), "in English: {card}");
}

#[tokio::test]
async fn overtime_in_days_or_without_a_definition_gets_an_answer_and_no_instance() {
    let stack = bot(Some(OVERTIME_FORM)).await;
    stack
        .deliver(&chat_message(
            "om_ot3",
            "lina",
            "加班 2026-12-06",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let answer = replies_to(&stack, "om_ot3");
    assert_eq!(answer.len(), 1);
    let text = answer[0].content.to_string();
    assert!(text.contains("时间段"), "asks for the hours: {text}");
    stack
        .deliver(&chat_message("om_ot4", "lina", "overtime", "p2p", false))
        .await
        .assert_done();
    let how = replies_to(&stack, "om_ot4")[0].content.to_string();
    assert!(how.contains("overtime 2026-12-06 10:00-18:00"), "{how}");
    assert_eq!(stack.sim.snapshot().calls.get(INSTANCE_CREATE), None);

    let unset = bot(None).await;
    unset
        .deliver(&chat_message(
            "om_ot5",
            "lina",
            "加班 2026-12-06 10:00-12:00",
            "p2p",
            false,
        ))
        .await
        .assert_done();
    let text = replies_to(&unset, "om_ot5")[0].content.to_string();
    assert!(text.contains("CHAT_OVERTIME_APPROVAL_CODE"), "{text}");
    assert!(instances(&unset).is_empty());
}

#[tokio::test]
async fn a_revoke_never_takes_the_employees_own_overtime_for_ours() {
    let stack = bot(Some(OVERTIME_FORM)).await;
    // The employee's overtime from a native form, same hours, written by Feishu itself
    // (no idempotent_id of ours).
    stack.sim.put_attendance(AttendanceRecord {
        approval_id: "6999000000000000001".into(),
        user_id: "u_zhangwei".into(),
        date: "20261206".into(),
        status: 2,
        kind: "overtime".into(),
        leave: serde_json::json!({
            "approval_id": "6999000000000000001", "duration": 8.0, "unit": 2, "category": 2,
            "type": 1, "start_time": "2026-12-06 10:00:00", "end_time": "2026-12-06 18:00:00",
        }),
        created_on: "2026-11-20".into(),
    });
    let code = apply(&stack, "om_ot6", "加班 2026-12-06 10:00-18:00").await;
    // Our write is refused for good: nothing of ours exists in attendance.
    stack.sim.inject(Fault::new(
        ATTENDANCE_CREATE,
        FaultKind::Answer {
            status: 400,
            code: 1220001,
            msg: "param is invalid".into(),
        },
    ));
    set_status(&stack, &code, "APPROVED", "ev-ot6-approved").await;
    let revert = events::approval_instance_of(OVERTIME_FORM, &code, "REVERTED", "ev-ot6-rv");
    let mut instance = stack.sim.snapshot().instances[&code].clone();
    instance["reverted"] = true.into();
    instance["status"] = "CANCELED".into();
    stack.sim.put_instance(instance);
    stack.deliver_until_done(&revert, 4).await;

    let s = stack.sim.snapshot();
    assert_eq!(s.attendance.len(), 1, "{:?}", s.attendance);
    assert_eq!(
        s.attendance[0].status, 2,
        "the employee's own overtime stands"
    );
    let item = stack.record(&code).await.expect("ledger item");
    let note = item.attention.unwrap_or_default();
    assert!(note.contains("attendance_not_found"), "{note}");
}
