//! The processor's CPU per event, without I/O: decode the queue envelope, parse and
//! normalise the event, build the ledger claim, map the attendance record and the time-off
//! event, build the card, and serialize the three Feishu request bodies. For a V1 and a
//! V2 (the odd string formats) leave event.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use jiff::tz::TimeZone;
use shared::event::{DomainEvent, FeishuEvent};
use shared::ledger::{Lease, claim_sync_values};
use shared::queue::QueuedEvent;
use shared::sync::cards::{Purpose, message_uuid, synced_card};
use shared::sync::mapping::{TenantZone, attendance_record, timeoff_event};

fn envelope(file: &str) -> String {
    let path = format!("{}/../infra/events/{file}", env!("CARGO_MANIFEST_DIR"));
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    serde_json::json!({
        "v": 1, "event_id": doc["uuid"], "event_type": doc["event"]["type"], "schema": "1.0",
        "tenant_key": "demo-tenant", "received_at": "2026-11-22T08:00:00Z", "event": doc["event"],
    })
    .to_string()
}

fn per_event(body: &str, zone: &TenantZone, lease: &Lease) -> usize {
    let q = QueuedEvent::decode(body).unwrap();
    let parsed = FeishuEvent::parse(&q.event_type, q.event.get())
        .unwrap()
        .unwrap();
    let DomainEvent::LeaveApproved {
        instance, leave, ..
    } = parsed.into_domain(q.tenant_key.as_deref()).unwrap()
    else {
        unreachable!("a leave approval")
    };
    let (claim, _) = claim_sync_values(
        &instance,
        &leave,
        lease,
        &q.event_id,
        false,
        jiff::Timestamp::UNIX_EPOCH,
    )
    .unwrap();
    let attendance = serde_json::to_vec(&attendance_record(&instance, &leave)).unwrap();
    let timeoff = serde_json::to_vec(&timeoff_event(&instance, &leave, zone).unwrap()).unwrap();
    let card = synced_card(&instance, &leave).to_string();
    let uuid = message_uuid(&instance, Purpose::Synced);
    claim.len() + attendance.len() + timeoff.len() + card.len() + uuid.len()
}

fn bench(c: &mut Criterion) {
    let zone = TenantZone::new(TimeZone::get("Asia/Shanghai").unwrap());
    let lease = Lease {
        owner: "req/msg".into(),
        until: jiff::Timestamp::UNIX_EPOCH,
    };
    let mut group = c.benchmark_group("processor_cpu_per_event");
    for (name, file) in [
        ("leave_approval", "leave_approval.day.json"),
        ("leave_approvalV2", "leave_approvalV2.half_day.json"),
    ] {
        let body = envelope(file);
        group.bench_function(name, |b| {
            b.iter(|| per_event(black_box(&body), &zone, &lease))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
