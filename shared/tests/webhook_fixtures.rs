//! The webhook checks against requests signed and encrypted by an independent
//! implementation (Python `cryptography`, see infra/events/generate.py).

use std::time::Duration;

use base64::Engine as _;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;
use shared::config::WebhookConfig;
use shared::secret::Secret;
use shared::webhook::{Verdict, Webhook, WebhookError};

fn events_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../infra/events")
}

fn read_json(path: std::path::PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn manifest() -> Value {
    read_json(events_dir().join("lambda/manifest.json"))
}

fn webhook(encrypt_key: Option<&str>, skew: Option<Duration>) -> Webhook {
    let m = manifest();
    Webhook::new(&WebhookConfig {
        verification_token: Secret::new(m["verification_token"].as_str().unwrap()),
        encrypt_key: encrypt_key.map(Secret::new),
        max_clock_skew: skew,
        custom_approval_codes: m["custom_approval_codes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap().to_owned())
            .collect(),
    })
}

/// Body bytes and headers of a Lambda HTTP event file.
fn request(file: &str) -> (Vec<u8>, HeaderMap) {
    let ev = read_json(events_dir().join("lambda").join(file));
    let body = ev["body"].as_str().unwrap();
    let body = if ev["isBase64Encoded"].as_bool().unwrap() {
        base64::engine::general_purpose::STANDARD
            .decode(body)
            .unwrap()
    } else {
        body.as_bytes().to_vec()
    };
    let mut headers = HeaderMap::new();
    for (k, v) in ev["headers"].as_object().unwrap() {
        headers.insert(
            HeaderName::from_bytes(k.as_bytes()).unwrap(),
            HeaderValue::from_str(v.as_str().unwrap()).unwrap(),
        );
    }
    (body, headers)
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::from_second(1_796_000_000).unwrap()
}

#[test]
fn every_generated_request_gets_the_expected_verdict() {
    let m = manifest();
    let hook = webhook(Some(m["encrypt_key"].as_str().unwrap()), None);
    let cases = m["cases"].as_array().unwrap();
    assert!(cases.len() >= 15, "manifest lists {} cases", cases.len());
    for case in cases {
        let file = case["file"].as_str().unwrap();
        let (body, headers) = request(file);
        let result = hook.receive(&body, &headers, now());
        let status = match &result {
            Ok(_) => 200,
            Err(e) => e.status(),
        };
        assert_eq!(
            status,
            case["expect_status"].as_u64().unwrap() as u16,
            "{file}: {result:?}"
        );
        let plain = case["plain"]
            .as_str()
            .map(|p| read_json(events_dir().join(p)));
        match (case["expect"].as_str().unwrap(), result) {
            ("enqueue", Ok(Verdict::Enqueue(q))) => {
                let plain = plain.unwrap();
                let queued: Value = serde_json::from_str(q.event.get()).unwrap();
                assert_eq!(queued, plain["event"], "{file}: event forwarded intact");
                let id = plain["uuid"]
                    .as_str()
                    .or(plain["header"]["event_id"].as_str());
                assert_eq!(Some(q.event_id.as_str()), id, "{file}");
                assert!(
                    !q.event.get().contains("demo-verification-token"),
                    "{file}: token not queued"
                );
            }
            ("challenge", Ok(Verdict::Challenge(c))) => {
                assert_eq!(c, plain.unwrap()["challenge"].as_str().unwrap());
            }
            ("ignore", Ok(Verdict::Ignore { .. })) | ("reject", Err(_)) => {}
            (want, got) => panic!("{file}: wanted {want}, got {got:?}"),
        }
    }
}

#[test]
fn specific_rejections_say_why() {
    let m = manifest();
    let hook = webhook(Some(m["encrypt_key"].as_str().unwrap()), None);
    let check = |file: &str, want: fn(&WebhookError) -> bool| {
        let (body, headers) = request(file);
        let err = hook.receive(&body, &headers, now()).unwrap_err();
        assert!(want(&err), "{file}: {err:?}");
    };
    check("reject.tampered_body.function-url.json", |e| {
        matches!(e, WebhookError::BadSignature)
    });
    check("reject.wrong_encrypt_key.function-url.json", |e| {
        matches!(e, WebhookError::BadSignature)
    });
    // Unsigned requests: one answer for strangers, the reason inside for the log.
    check(
        "reject.missing_signature.function-url.json",
        |e| matches!(e, WebhookError::Unsigned(inner) if matches!(**inner, WebhookError::MissingSignature)),
    );
    check("reject.bad_token.function-url.json", |e| {
        matches!(e, WebhookError::BadToken)
    });
    check(
        "reject.not_json.function-url.json",
        |e| matches!(e, WebhookError::Unsigned(inner) if matches!(**inner, WebhookError::MalformedJson(_))),
    );
    check(
        "reject.unsigned_bad_padding.function-url.json",
        |e| matches!(e, WebhookError::Unsigned(inner) if matches!(**inner, WebhookError::Decrypt(_))),
    );
    check("reject.unknown_envelope.function-url.json", |e| {
        matches!(e, WebhookError::UnknownEnvelope(_))
    });
}

#[test]
fn encrypted_body_without_a_configured_key_is_a_400_naming_the_setting() {
    let hook = webhook(None, None);
    let (body, _) = request("leave_approval.day.function-url.json");
    let err = hook.receive(&body, &HeaderMap::new(), now()).unwrap_err();
    assert!(matches!(err, WebhookError::EncryptedWithoutKey));
    assert_eq!(err.status(), 400);
    assert!(err.to_string().contains("FEISHU_ENCRYPT_KEY"));
}

#[test]
fn plaintext_events_without_an_encrypt_key_rely_on_the_token() {
    let hook = webhook(None, None);
    let plain = std::fs::read(events_dir().join("leave_approvalV2.hour.json")).unwrap();
    assert!(matches!(
        hook.receive(&plain, &HeaderMap::new(), now()),
        Ok(Verdict::Enqueue(_))
    ));
    // Schema 2.0 is authenticated by header.token too; this event type is acknowledged
    // and dropped (it needs a per-user subscription, reference 7.8).
    let v2 = std::fs::read(events_dir().join("approval.instance.status_changed_v4.json")).unwrap();
    assert!(matches!(
        hook.receive(&v2, &HeaderMap::new(), now()),
        Ok(Verdict::Ignore { .. })
    ));
    let forged = String::from_utf8(v2)
        .unwrap()
        .replace("demo-verification-token", "guess");
    assert!(matches!(
        hook.receive(forged.as_bytes(), &HeaderMap::new(), now()),
        Err(WebhookError::BadToken)
    ));
}

#[test]
fn oversized_bodies_are_refused_before_parsing() {
    let hook = webhook(None, None);
    let huge = vec![b'{'; shared::webhook::MAX_BODY_BYTES + 1];
    let err = hook.receive(&huge, &HeaderMap::new(), now()).unwrap_err();
    assert_eq!(err.status(), 413);
}

#[test]
fn timestamp_window_is_off_by_default_and_enforced_when_set() {
    let m = manifest();
    let key = m["encrypt_key"].as_str().unwrap();
    let (body, headers) = request("leave_approval.day.function-url.json");
    let eight_hours_later = jiff::Timestamp::from_second(1_796_000_000 + 8 * 3600).unwrap();
    // A redelivery 8 h later (Feishu's last retry is ~7 h after the first push) passes.
    assert!(
        webhook(Some(key), None)
            .receive(&body, &headers, eight_hours_later)
            .is_ok()
    );
    let strict = webhook(Some(key), Some(Duration::from_secs(300)));
    assert!(strict.receive(&body, &headers, now()).is_ok());
    let err = strict
        .receive(&body, &headers, eight_hours_later)
        .unwrap_err();
    assert!(
        matches!(err, WebhookError::StaleTimestamp { .. }),
        "{err:?}"
    );
    assert_eq!(err.status(), 401);
}

#[test]
fn partial_signature_headers_are_rejected() {
    let m = manifest();
    let hook = webhook(Some(m["encrypt_key"].as_str().unwrap()), None);
    let (body, mut headers) = request("leave_approval.day.function-url.json");
    headers.remove("x-lark-request-nonce");
    assert!(matches!(
        hook.receive(&body, &headers, now()),
        Err(WebhookError::MissingSignature)
    ));
}
