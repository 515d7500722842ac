//! The ingress hot path (signature check + decrypt + envelope parse + routing + queue
//! envelope) for 1 KiB and 4 KiB events, next to the floor measured in the same run: the
//! same bytes through only AES-256-CBC decryption, one SHA-256 and a serde_json parse.
//! `scripts/bench-summary` turns the two medians into the ratio reported in the README.

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use shared::config::WebhookConfig;
use shared::secret::Secret;
use shared::webhook::{EncryptKey, Verdict, Webhook};

const KEY: &str = "bench-encrypt-key";
const TOKEN: &str = "bench-verification-token";

/// A `leave_approval` event padded (through its reason) to about `size` bytes.
fn event_json(size: usize) -> String {
    let base = serde_json::json!({
        "ts": "1796000000.1234567",
        "uuid": "0a6f1d2e9c7b4e5f8a9b0c1d2e3f4a01",
        "token": TOKEN,
        "type": "event_callback",
        "event": {
            "app_id": "cli_demo0000000001",
            "approval_code": "7C468A54-8745-2245-9675-08654A59C265",
            "instance_code": "81D31358-93AF-92D6-7425-01A5D67C4E71",
            "employee_id": "u_zhangwei",
            "open_id": "ou_zhangwei",
            "start_time": 1795990000,
            "end_time": 1795999000,
            "leave_type": "年假",
            "leave_start_time": "2026-12-01 00:00:00",
            "leave_end_time": "2026-12-03 00:00:00",
            "leave_interval": 172800,
            "leave_unit": 1,
            "leave_reason": "",
            "tenant_key": "demo-tenant",
            "type": "leave_approval"
        }
    });
    let fill = size.saturating_sub(base.to_string().len());
    let mut v = base;
    v["event"]["leave_reason"] = serde_json::Value::String("x".repeat(fill));
    v.to_string()
}

fn request(size: usize) -> (Vec<u8>, HeaderMap) {
    let key = EncryptKey::new(Secret::new(KEY));
    let body = serde_json::json!({ "encrypt": key.encrypt(event_json(size).as_bytes(), [9; 16]) })
        .to_string()
        .into_bytes();
    let mut headers = HeaderMap::new();
    headers.insert(
        "x-lark-request-timestamp",
        HeaderValue::from_static("1796000000"),
    );
    headers.insert(
        "x-lark-request-nonce",
        HeaderValue::from_static("bench-nonce"),
    );
    let sig = key.signature("1796000000", "bench-nonce", &body);
    headers.insert("x-lark-signature", HeaderValue::from_str(&sig).unwrap());
    (body, headers)
}

/// The least any implementation must do: hash the body once, pull out the ciphertext,
/// decrypt it, and run the cheapest possible JSON validation over the plaintext.
fn floor(key: &EncryptKey, body: &[u8]) {
    #[derive(serde::Deserialize)]
    struct Outer<'a> {
        #[serde(borrow)]
        encrypt: &'a str,
    }
    let mut h = Sha256::new();
    h.update(b"1796000000bench-nonce");
    h.update(KEY.as_bytes());
    h.update(body);
    black_box(h.finalize());
    let outer: Outer = serde_json::from_slice(body).unwrap();
    let plain = key.decrypt(outer.encrypt).unwrap();
    black_box(serde_json::from_slice::<serde::de::IgnoredAny>(&plain).unwrap());
}

fn bench(c: &mut Criterion) {
    let webhook = Webhook::new(&WebhookConfig {
        verification_token: Secret::new(TOKEN),
        encrypt_key: Some(Secret::new(KEY)),
        max_clock_skew: None,
        custom_approval_codes: Default::default(),
    });
    let key = EncryptKey::new(Secret::new(KEY));
    let now = jiff::Timestamp::from_second(1_796_000_000).unwrap();
    let mut group = c.benchmark_group("ingress");
    for size in [1024usize, 4096] {
        let (body, headers) = request(size);
        // Sanity: the bench measures the accepting path, not an early rejection.
        assert!(matches!(
            webhook.receive(&body, &headers, now),
            Ok(Verdict::Enqueue(_))
        ));
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::new("hot_path", size), &body, |b, body| {
            b.iter(|| webhook.receive(black_box(body), &headers, now))
        });
        group.bench_with_input(BenchmarkId::new("floor", size), &body, |b, body| {
            b.iter(|| floor(&key, black_box(body)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
