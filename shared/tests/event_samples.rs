//! Every documented event sample parses and normalises to what a user would expect.

use jiff::civil::date;
use serde_json::Value;
use shared::event::{ApprovalStatus, DomainEvent, FeishuEvent, LeaveUnit, Locale, OrderingKey};
use shared::sync::mapping::uniq_id;

fn sample(name: &str) -> (String, String, Option<String>) {
    let path = format!(
        "{}/tests/fixtures/doc_samples/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let event_type = doc["header"]["event_type"]
        .as_str()
        .or(doc["event"]["type"].as_str())
        .unwrap()
        .to_owned();
    let tenant = doc["header"]["tenant_key"].as_str().map(str::to_owned);
    (event_type, doc["event"].to_string(), tenant)
}

fn domain(name: &str) -> DomainEvent {
    let (t, event, tenant) = sample(name);
    FeishuEvent::parse(&t, &event)
        .unwrap()
        .expect("a handled type")
        .into_domain(tenant.as_deref())
        .unwrap()
}

#[test]
fn leave_approval_v1_doc_sample() {
    let DomainEvent::LeaveApproved {
        instance, leave, ..
    } = domain("leave_approval.json")
    else {
        panic!("not an approval")
    };
    assert_eq!(
        instance.instance_code,
        "CEF48CEE-CEF4-45C9-1234-DCBF8BEC1234"
    );
    assert_eq!(instance.tenant_key, "bd6ae59e1xxx");
    assert_eq!(leave.user_id, "g6964xxx");
    assert_eq!(leave.open_id, "ou_xxx");
    assert_eq!(
        leave.unit,
        LeaveUnit::HalfDay,
        "V1 leave_unit 2 is half-day"
    );
    assert_eq!(leave.interval_secs, 129_600);
    assert_eq!(leave.start, date(2024, 9, 5).at(12, 0, 0, 0));
    assert_eq!(leave.end, date(2024, 9, 7).at(0, 0, 0, 0));
    assert_eq!(leave.leave_type.names.ch.as_deref(), Some("事假"));
    assert_eq!(leave.reason, "请假审批");
}

#[test]
fn leave_approval_v2_doc_sample_with_its_odd_formats() {
    let DomainEvent::LeaveApproved {
        instance, leave, ..
    } = domain("leave_approvalV2.json")
    else {
        panic!("not an approval")
    };
    assert_eq!(
        instance.instance_code,
        "CEF48CEE-CEF4-45C9-1234-DCBF8BEC1234"
    );
    assert_eq!(leave.user_id, "g6964xxx");
    assert_eq!(leave.unit, LeaveUnit::HalfDay);
    // i18n_resources is a Java-map-style string in the sample.
    assert_eq!(leave.leave_type.names.ch.as_deref(), Some("事假"));
    assert_eq!(leave.leave_type.default_locale, Locale::Ch);
    assert_eq!(leave.leave_type.key, "@i18n@7276381556766212099");
    // leave_range is one string of unquoted datetimes in the sample.
    assert_eq!(
        leave.segments,
        vec![
            (
                date(2024, 9, 5).at(13, 30, 0, 0),
                date(2024, 9, 5).at(18, 0, 0, 0)
            ),
            (
                date(2024, 9, 6).at(9, 0, 0, 0),
                date(2024, 9, 6).at(18, 0, 0, 0)
            ),
        ]
    );
}

#[test]
fn twins_share_their_ordering_key() {
    assert_eq!(
        domain("leave_approval.json").ordering_key(),
        domain("leave_approvalV2.json").ordering_key()
    );
}

#[test]
fn revert_doc_sample_with_numeric_operate_time() {
    let ev = domain("leave_approval_revert.json");
    let DomainEvent::LeaveRevoked { instance } = &ev else {
        panic!("not a revoke")
    };
    assert_eq!(
        instance.instance_code,
        "3CC91234-E23E-4DD7-1234-164D737C1234"
    );
    assert!(matches!(ev.ordering_key(), Some(OrderingKey::Instance(_))));
}

#[test]
fn approval_instance_status_as_string_or_int_operate_time() {
    for (file, status) in [
        ("approval_instance.approved.json", ApprovalStatus::Approved),
        ("approval_instance.reverted.json", ApprovalStatus::Reverted),
    ] {
        let DomainEvent::ApprovalStatusChanged {
            instance,
            status: s,
        } = domain(file)
        else {
            panic!("{file}")
        };
        assert_eq!(s, status, "{file}");
        assert_eq!(
            instance.instance_code,
            "CEF48CEE-CEF4-45C9-1234-DCBF8BEC1234"
        );
    }
}

#[test]
fn status_changed_v4_takes_the_tenant_from_the_header() {
    let DomainEvent::ApprovalStatusChanged { instance, status } =
        domain("approval.instance.status_changed_v4.json")
    else {
        panic!()
    };
    assert_eq!(status, ApprovalStatus::Approved);
    assert_eq!(instance.tenant_key, "2ca1d211f64f6438");
}

#[test]
fn chat_message_dedupes_on_message_id_and_strips_mentions() {
    let ev = domain("im.message.receive_v1.json");
    assert_eq!(
        ev.ordering_key(),
        Some(OrderingKey::Message(
            "om_5ce6d572455d361153b7cb51da133945".into()
        ))
    );
    let DomainEvent::ChatMessage(m) = ev else {
        panic!()
    };
    assert_eq!(m.text.as_deref(), Some("hello"));
    assert_eq!(
        m.sender.open_id.as_deref(),
        Some("ou_84aad35d084aa403a838cf73ee18467")
    );
}

#[test]
fn unknown_status_and_unknown_types_are_not_errors() {
    let ev = FeishuEvent::parse(
        "approval_instance",
        r#"{"approval_code":"A","instance_code":"I","status":"SOMETHING_NEW"}"#,
    )
    .unwrap()
    .unwrap()
    .into_domain(None)
    .unwrap();
    assert!(matches!(
        ev,
        DomainEvent::ApprovalStatusChanged { status: ApprovalStatus::Other(ref s), .. } if s == "SOMETHING_NEW"
    ));
    assert!(
        FeishuEvent::parse("contact.user.created_v3", "{}")
            .unwrap()
            .is_none()
    );
}

#[test]
fn invalid_leaves_are_rejected_with_the_field_named() {
    let (t, event, _) = sample("leave_approval.json");
    let bad_unit = event.replace(r#""leave_unit":2"#, r#""leave_unit":9"#);
    let e = FeishuEvent::parse(&t, &bad_unit)
        .unwrap()
        .unwrap()
        .into_domain(None)
        .unwrap_err();
    assert!(e.to_string().contains("leave_unit"), "{e}");
    let backwards = event.replace("2024-09-07 00:00:00", "2024-09-01 00:00:00");
    let e = FeishuEvent::parse(&t, &backwards)
        .unwrap()
        .unwrap()
        .into_domain(None)
        .unwrap_err();
    assert!(e.to_string().contains("leave_end_time"), "{e}");
    let missing = event.replace(r#""instance_code""#, r#""x""#);
    let e = FeishuEvent::parse(&t, &missing).unwrap_err();
    assert!(e.to_string().contains("instance_code"), "{e}");
}

#[test]
fn cancellation_forms_are_recognised_with_the_leave_they_cancel() {
    let (t, event, _) = sample("leave_approvalV2.json");
    let cancel = event.replace(
        r#""origin_instance_code":"""#,
        r#""origin_instance_code":"ORIG-1""#,
    );
    let ev = FeishuEvent::parse(&t, &cancel)
        .unwrap()
        .unwrap()
        .into_domain(None)
        .unwrap();
    let DomainEvent::LeaveCancelled {
        instance,
        origin_instance_code,
        leave,
    } = ev
    else {
        panic!("not a cancellation: {ev:?}")
    };
    assert_eq!(origin_instance_code, "ORIG-1");
    assert_eq!(
        instance.instance_code,
        "CEF48CEE-CEF4-45C9-1234-DCBF8BEC1234"
    );
    assert_eq!(leave.interval_secs, 129_600, "the cancelled period");
}

/// An unreadable V2 would leave a cancellation's V1 twin to be taken for a leave: what
/// is not needed to recognise a cancellation may be odd without making it unreadable.
#[test]
fn a_cancellation_with_odd_details_is_still_a_cancellation() {
    let (t, event, _) = sample("leave_approvalV2.json");
    let mut v: Value = serde_json::from_str(&event).unwrap();
    v["origin_instance_code"] = "ORIG-2".into();
    v["leave_unit"] = "FORTNIGHT".into();
    v["leave_range"] = "[[2024-09-05 13:30:00]]".into();
    v["leave_detail"] = "not even dates".into();
    let ev = FeishuEvent::parse(&t, &v.to_string())
        .unwrap()
        .unwrap()
        .into_domain(None)
        .unwrap();
    assert!(
        matches!(&ev, DomainEvent::LeaveCancelled { origin_instance_code, .. } if origin_instance_code == "ORIG-2"),
        "{ev:?}"
    );
    // Without the origin, an unknown unit is still an error that names the field.
    v["origin_instance_code"] = "".into();
    let e = FeishuEvent::parse(&t, &v.to_string())
        .unwrap()
        .unwrap()
        .into_domain(None)
        .unwrap_err();
    assert!(e.to_string().contains("leave_unit"), "{e}");
}

/// The doc's V1/V2 pair, as an English-default tenant would send it: V1's `leave_type` is
/// the tenant-default-language text, V2 marks that locale `is_default`.
fn english_tenant_twins() -> (DomainEvent, DomainEvent) {
    let (t1, v1, tenant) = sample("leave_approval.json");
    let v1 = v1.replace("\"事假\"", "\"Personal Leave\"");
    let (t2, v2, _) = sample("leave_approvalV2.json");
    let v2 = v2.replace(
        "[{is_default=true,locale=zh_cn,texts={@i18n@7276381556766212099=事假}}]",
        "[{is_default=false,locale=zh_cn,texts={@i18n@7276381556766212099=事假}},{is_default=true,locale=en_us,texts={@i18n@7276381556766212099=Personal Leave}}]",
    );
    let domain_of = |t: &str, e: &str| {
        FeishuEvent::parse(t, e)
            .unwrap()
            .unwrap()
            .into_domain(tenant.as_deref())
            .unwrap()
    };
    (domain_of(&t1, &v1), domain_of(&t2, &v2))
}

#[test]
fn twins_give_one_uniq_id_whichever_language_the_tenant_defaults_to() {
    let leave_of = |e: DomainEvent| match e {
        DomainEvent::LeaveApproved { leave, .. } => leave,
        other => panic!("{other:?}"),
    };
    for (v1, v2) in [
        (
            domain("leave_approval.json"),
            domain("leave_approvalV2.json"),
        ),
        english_tenant_twins(),
    ] {
        let (v1, v2) = (leave_of(v1), leave_of(v2));
        assert_eq!(
            uniq_id(&v1.leave_type),
            uniq_id(&v2.leave_type),
            "{:?} vs {:?}",
            v1.leave_type,
            v2.leave_type
        );
        assert_eq!(v1.leave_type.default_locale, v2.leave_type.default_locale);
    }
}

#[test]
fn the_doc_twins_describe_the_same_period() {
    // Seed 001: V1 12:00 → 07 00:00; V2 00:00 → 07 00:00 with leave_range 13:30–18:00 on
    // the 5th and 09:00–18:00 on the 6th; 1.5 days either way.
    let leave_of = |e: DomainEvent| match e {
        DomainEvent::LeaveApproved { leave, .. } => leave,
        other => panic!("{other:?}"),
    };
    let v1 = leave_of(domain("leave_approval.json"));
    let v2 = leave_of(domain("leave_approvalV2.json"));
    assert_eq!((v2.start, v2.end), (v1.start, v1.end));
    assert_eq!(
        v2.start,
        date(2024, 9, 5).at(12, 0, 0, 0),
        "the 5th's morning is worked"
    );
    assert_eq!((v2.interval_secs, v2.unit), (v1.interval_secs, v1.unit));
}
