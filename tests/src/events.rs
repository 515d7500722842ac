//! Webhook bodies (plain, as Feishu sends them before encryption) for the scenarios.

use serde_json::{Value, json};

pub const TOKEN: &str = "demo-verification-token";
pub const TENANT: &str = "demo-tenant";
pub const LEAVE_FORM: &str = "7C468A54-8745-2245-9675-08654A59C265";
pub const CUSTOM_FORM: &str = "CUSTOM-PTO-0001";
/// A custom overtime form: a date range and a reason, like the tutorial's leave form.
pub const OVERTIME_FORM: &str = "OVERTIME-0001";

/// One approved leave, in the event's terms.
#[derive(Debug, Clone)]
pub struct LeaveSpec {
    pub instance: String,
    /// Simulator user key: `u_<key>` / `ou_<key>`.
    pub user: String,
    pub type_zh: String,
    pub type_en: String,
    pub start: String,
    pub end: String,
    pub interval: i64,
    /// `leave_approval`'s integer unit.
    pub unit_v1: i64,
    /// `leave_approvalV2`'s string unit.
    pub unit_v2: String,
    pub reason: String,
}

impl LeaveSpec {
    pub fn day(instance: &str, user: &str) -> Self {
        Self {
            instance: instance.into(),
            user: user.into(),
            type_zh: "年假".into(),
            type_en: "Annual leave".into(),
            start: "2026-12-01 00:00:00".into(),
            end: "2026-12-03 00:00:00".into(),
            interval: 172_800,
            unit_v1: 1,
            unit_v2: "DAY".into(),
            reason: "Family trip".into(),
        }
    }

    pub fn half_day(instance: &str, user: &str) -> Self {
        Self {
            type_zh: "事假".into(),
            type_en: "Personal leave".into(),
            start: "2026-12-07 12:00:00".into(),
            end: "2026-12-08 00:00:00".into(),
            interval: 43_200,
            unit_v1: 2,
            unit_v2: "HALF_DAY".into(),
            reason: "Moving house".into(),
            ..Self::day(instance, user)
        }
    }

    pub fn hour(instance: &str, user: &str) -> Self {
        Self {
            type_zh: "病假".into(),
            type_en: "Sick leave".into(),
            start: "2026-12-10 14:00:00".into(),
            end: "2026-12-10 17:00:00".into(),
            interval: 10_800,
            unit_v1: 3,
            unit_v2: "HOUR".into(),
            reason: "Dentist".into(),
            ..Self::day(instance, user)
        }
    }
}

/// `leave_approval` (schema 1.0).
pub fn leave_v1(spec: &LeaveSpec, event_id: &str) -> Value {
    json!({
        "ts": "1796000000.1234567", "uuid": event_id, "token": TOKEN, "type": "event_callback",
        "event": {
            "app_id": "cli_demo0000000001", "approval_code": LEAVE_FORM,
            "instance_code": spec.instance, "employee_id": format!("u_{}", spec.user),
            "open_id": format!("ou_{}", spec.user), "start_time": 1795990000, "end_time": 1795999000,
            "leave_type": spec.type_zh, "leave_start_time": spec.start, "leave_end_time": spec.end,
            "leave_interval": spec.interval, "leave_unit": spec.unit_v1, "leave_reason": spec.reason,
            "tenant_key": TENANT, "type": "leave_approval"
        }
    })
}

/// `leave_approvalV2` (schema 1.0), with the doc sample's odd string formats.
pub fn leave_v2(spec: &LeaveSpec, event_id: &str) -> Value {
    let key = "@i18n@7276381556766212099";
    json!({
        "ts": "1796000000.2234567", "uuid": event_id, "token": TOKEN, "type": "event_callback",
        "event": {
            "app_id": "cli_demo0000000001", "approval_code": LEAVE_FORM,
            "instance_code": spec.instance, "start_time": 1795990000, "end_time": 1795999000,
            "i18n_resources": format!(
                "[{{is_default=true,locale=zh_cn,texts={{{key}={}}}}},{{is_default=false,locale=en_us,texts={{{key}={}}}}}]",
                spec.type_zh, spec.type_en
            ),
            "leave_name": key, "leave_certification": [],
            "leave_range": format!("[[{},{}]]", spec.start, spec.end),
            "leave_detail": format!("[[{},{}]]", spec.start, spec.end),
            "leave_start_time": spec.start, "leave_end_time": spec.end,
            "leave_interval": spec.interval, "leave_unit": spec.unit_v2, "leave_reason": spec.reason,
            "user_id": format!("u_{}", spec.user), "open_id": format!("ou_{}", spec.user),
            "origin_instance_code": "", "tenant_key": TENANT, "type": "leave_approvalV2"
        }
    })
}

/// `leave_approval_revert`.
pub fn revert(instance: &str, event_id: &str) -> Value {
    json!({
        "ts": "1796200000.42", "uuid": event_id, "token": TOKEN, "type": "event_callback",
        "event": {
            "app_id": "cli_demo0000000001", "tenant_key": TENANT, "type": "leave_approval_revert",
            "instance_code": instance, "approval_code": LEAVE_FORM, "operate_time": "1796199990"
        }
    })
}

/// `approval_instance` (schema 1.0) for a custom form.
pub fn approval_instance(instance: &str, status: &str, event_id: &str) -> Value {
    approval_instance_of(CUSTOM_FORM, instance, status, event_id)
}

/// `approval_instance` (schema 1.0) for an instance of definition `approval_code`.
pub fn approval_instance_of(
    approval_code: &str,
    instance: &str,
    status: &str,
    event_id: &str,
) -> Value {
    json!({
        "ts": "1796300000.77", "uuid": event_id, "token": TOKEN, "type": "event_callback",
        "event": {
            "app_id": "cli_demo0000000001", "tenant_key": TENANT, "type": "approval_instance",
            "approval_code": approval_code, "instance_code": instance, "status": status,
            "operate_time": 1796299990000u64, "instance_operate_time": "1796299990000", "uuid": ""
        }
    })
}

/// The tutorial's custom form instance, as the get-instance API returns it.
pub fn custom_instance(
    instance: &str,
    user: &str,
    start: &str,
    end: &str,
    days: f64,
    status: &str,
) -> Value {
    let form = json!([
        {"id": "widget16", "custom_id": "timeInfo", "name": "休假时间", "type": "dateInterval",
         "value": {"start": start, "end": end, "interval": days}},
        {"id": "widget17", "custom_id": "reason", "name": "事由", "type": "textarea", "value": "Wedding"}
    ]);
    json!({
        "approval_name": "带薪休假审批", "approval_code": CUSTOM_FORM, "instance_code": instance,
        "start_time": "1796299000000", "end_time": "1796299990000",
        "user_id": format!("u_{user}"), "open_id": format!("ou_{user}"), "department_id": "od-1",
        "serial_number": "202612010001", "status": status, "reverted": false, "uuid": "",
        "form": form.to_string(), "task_list": [], "comment_list": [], "timeline": []
    })
}

/// Seed 001's own V1/V2 pair (a half-day leave: the afternoon of 2024-09-05 and the 6th,
/// `leave_range` 13:30–18:00 and 09:00–18:00), for `user`'s instance `instance`.
pub fn doc_twins(instance: &str, user: &str) -> (Value, Value) {
    let read = |name: &str| {
        let path = crate::moto::workspace_root()
            .join("shared/tests/fixtures/doc_samples")
            .join(name);
        let text = std::fs::read_to_string(path)
            .expect("a doc sample")
            .replace("CEF48CEE-CEF4-45C9-1234-DCBF8BEC1234", instance)
            .replace("\"g6964xxx\"", &format!("\"u_{user}\""))
            .replace("\"ou_xxx\"", &format!("\"ou_{user}\""))
            .replace("41a9425ea7df4536a7623e38fa321bae", TOKEN)
            .replace("bd6ae59e1xxx", TENANT);
        let mut v: Value = serde_json::from_str(&text).expect("JSON");
        v["uuid"] = json!(format!("{instance}-{name}"));
        v
    };
    (read("leave_approval.json"), read("leave_approvalV2.json"))
}

/// The V2 twin of an approved leave-cancellation form (销假) `instance`, cancelling
/// `origin` for `spec`'s period.
pub fn cancellation_v2(instance: &str, origin: &str, spec: &LeaveSpec, event_id: &str) -> Value {
    let mut v = leave_v2(spec, event_id);
    v["event"]["instance_code"] = json!(instance);
    v["event"]["origin_instance_code"] = json!(origin);
    v
}

/// A native leave form's instance as the get-instance API returns it: the leave widget
/// group (`leaveGroupV2`) holding `spec`'s period the way the widget docs give it (the end
/// names the last day or half-day for day units; `interval` in days; unit DAY or HOUR),
/// created at `created_ms` and finished at `ended_ms` (0 while pending).
pub fn native_instance(spec: &LeaveSpec, status: &str, created_ms: i64, ended_ms: i64) -> Value {
    let civil = |s: &str| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", s).expect("time");
    let rfc3339 = |t: jiff::civil::DateTime| {
        t.to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").expect("zone"))
            .expect("in zone")
            .strftime("%Y-%m-%dT%H:%M:%S%:z")
            .to_string()
    };
    let end = civil(&spec.end);
    let (named_end, unit) = match spec.unit_v2.as_str() {
        "DAY" => (end - jiff::SignedDuration::from_hours(24), "DAY"),
        "HALF_DAY" => (end - jiff::SignedDuration::from_hours(12), "DAY"),
        _ => (end, "HOUR"),
    };
    let group = json!({
        "name": spec.type_zh, "start": rfc3339(civil(&spec.start)), "end": rfc3339(named_end),
        "interval": spec.interval as f64 / 86_400.0, "unit": unit, "reason": spec.reason
    });
    let form = json!([{ "id": "widgetLeaveGroupV2", "name": "请假", "type": "leaveGroupV2", "value": group }]);
    json!({
        "approval_name": "请假", "approval_code": LEAVE_FORM, "instance_code": spec.instance,
        "start_time": created_ms.to_string(), "end_time": ended_ms.to_string(),
        "user_id": format!("u_{}", spec.user), "open_id": format!("ou_{}", spec.user),
        "department_id": "od-1", "serial_number": "202612010002", "status": status,
        "reverted": false, "uuid": "", "form": form.to_string(),
        "task_list": [], "comment_list": [], "timeline": []
    })
}

/// `im.message.receive_v1` (schema 2.0): `user` writes `text` to the bot, in a direct chat
/// (`p2p`) or a group, where `mention_bot` puts the bot's @mention in front.
pub fn chat_message(
    message_id: &str,
    user: &str,
    text: &str,
    chat_type: &str,
    mention_bot: bool,
) -> Value {
    let (text, mentions) = if mention_bot {
        (
            format!("@_user_1 {text}"),
            json!([{"key": "@_user_1", "id": {"open_id": "ou_bot"}, "name": "Leave Bot", "tenant_key": TENANT}]),
        )
    } else {
        (text.to_owned(), json!([]))
    };
    json!({
        "schema": "2.0",
        "header": {
            "event_id": format!("ev-{message_id}"), "event_type": "im.message.receive_v1",
            "create_time": "1796300000123", "token": TOKEN, "app_id": "cli_demo0000000001",
            "tenant_key": TENANT
        },
        "event": {
            "sender": {
                "sender_id": {"union_id": format!("on_{user}"), "user_id": format!("u_{user}"), "open_id": format!("ou_{user}")},
                "sender_type": "user", "tenant_key": TENANT
            },
            "message": {
                "message_id": message_id, "create_time": "1796300000000",
                "chat_id": format!("oc_{user}"), "chat_type": chat_type, "message_type": "text",
                "content": json!({ "text": text }).to_string(), "mentions": mentions
            }
        }
    })
}

/// `card.action.trigger` (schema 2.0): `user` submits the leave form card `card_message_id`
/// with `form` (component name → value; a date picker's value is `"YYYY-MM-DD +0800"`).
pub fn card_submit(event_id: &str, card_message_id: &str, user: &str, form: Value) -> Value {
    json!({
        "schema": "2.0",
        "header": {
            "event_id": event_id, "token": TOKEN, "create_time": "1796300120123456",
            "event_type": "card.action.trigger", "tenant_key": TENANT, "app_id": "cli_demo0000000001"
        },
        "event": {
            "operator": { "tenant_key": TENANT, "user_id": format!("u_{user}"), "open_id": format!("ou_{user}") },
            "token": "c-295ee57216a5dc9de90fefd0aadb4b1d7d337ef1",
            "action": { "value": { "action": "apply_leave", "lang": "zh" }, "tag": "button",
                        "name": "submit", "form_value": form },
            "context": { "open_message_id": card_message_id, "open_chat_id": format!("oc_{user}") }
        }
    })
}
