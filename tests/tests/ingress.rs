//! The ingress Lambda handler driven with real Function URL / API Gateway events (made by
//! infra/events/generate.py) and a real SQS queue on moto.

use std::collections::BTreeSet;

use leave_sync_tests::moto;
use serde_json::Value;
use shared::config::WebhookConfig;
use shared::ingress::Ingress;
use shared::queue::{Queue, QueuedEvent};
use shared::secret::Secret;
use shared::webhook::Webhook;

fn events_dir() -> std::path::PathBuf {
    moto::workspace_root().join("infra/events")
}

fn read_json(path: std::path::PathBuf) -> Value {
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

struct IngressStack {
    sqs: aws_sdk_sqs::Client,
    queue_url: String,
    ingress: Ingress,
}

async fn stack(encrypt_key: Option<&str>) -> IngressStack {
    let aws = moto::aws().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let queue_url = sqs
        .create_queue()
        .queue_name(moto::unique("ingress"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let m = read_json(events_dir().join("lambda/manifest.json"));
    let webhook = Webhook::new(&WebhookConfig {
        verification_token: Secret::new(m["verification_token"].as_str().unwrap()),
        encrypt_key: encrypt_key.map(Secret::new),
        max_clock_skew: None,
        custom_approval_codes: BTreeSet::from(["CUSTOM-PTO-0001".to_owned()]),
    });
    let ingress = Ingress::new(webhook, Queue::new(sqs.clone(), queue_url.clone()));
    IngressStack {
        sqs,
        queue_url,
        ingress,
    }
}

impl IngressStack {
    async fn post(&self, file: &str) -> (u16, Value) {
        let raw = std::fs::read_to_string(events_dir().join("lambda").join(file)).unwrap();
        let req = lambda_http::request::from_str(&raw).expect("a Lambda HTTP event");
        let resp = ingress::handle(&self.ingress, req).await.unwrap();
        assert_eq!(
            resp.headers()["content-type"],
            "application/json; charset=utf-8"
        );
        let body: Value = serde_json::from_slice(resp.body().as_ref()).unwrap();
        (resp.status().as_u16(), body)
    }

    /// Everything on the queue, with message attributes, removed as it is read.
    async fn drain(&self) -> Vec<aws_sdk_sqs::types::Message> {
        let mut out = Vec::new();
        loop {
            let got = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .message_attribute_names("All")
                .wait_time_seconds(0)
                .send()
                .await
                .unwrap();
            let msgs = got.messages.unwrap_or_default();
            if msgs.is_empty() {
                return out;
            }
            for m in &msgs {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().unwrap())
                    .send()
                    .await
                    .unwrap();
            }
            out.extend(msgs);
        }
    }
}

#[tokio::test]
async fn signed_encrypted_leave_approval_lands_on_the_queue_with_its_envelope() {
    let s = stack(Some("demo-encrypt-key")).await;
    let (status, body) = s.post("leave_approval.day.function-url.json").await;
    assert_eq!((status, body), (200, serde_json::json!({"msg": "success"})));

    let msgs = s.drain().await;
    assert_eq!(msgs.len(), 1);
    let q = QueuedEvent::decode(msgs[0].body().unwrap()).unwrap();
    let plain = read_json(events_dir().join("leave_approval.day.json"));
    assert_eq!(q.event_id, "0a6f1d2e9c7b4e5f8a9b0c1d2e3f4a01");
    assert_eq!(q.event_type, "leave_approval");
    assert_eq!(q.tenant_key.as_deref(), Some("demo-tenant"));
    assert_eq!(q.sent_at.as_deref(), Some("1796000000.1234567"));
    assert_eq!(
        serde_json::from_str::<Value>(q.event.get()).unwrap(),
        plain["event"]
    );
    let attrs = msgs[0].message_attributes().unwrap();
    assert_eq!(attrs["event_type"].string_value(), Some("leave_approval"));
    assert_eq!(
        attrs["event_id"].string_value(),
        Some("0a6f1d2e9c7b4e5f8a9b0c1d2e3f4a01")
    );
    assert!(!msgs[0].body().unwrap().contains("demo-verification-token"));
}

#[tokio::test]
async fn api_gateway_event_with_base64_body_is_accepted() {
    let s = stack(Some("demo-encrypt-key")).await;
    let (status, _) = s.post("leave_approval.day.http-api.json").await;
    assert_eq!(status, 200);
    assert_eq!(s.drain().await.len(), 1);
}

#[tokio::test]
async fn every_manifest_case_gets_its_status_and_only_accepted_events_are_queued() {
    let s = stack(Some("demo-encrypt-key")).await;
    let m = read_json(events_dir().join("lambda/manifest.json"));
    for case in m["cases"].as_array().unwrap() {
        let file = case["file"].as_str().unwrap();
        let (status, body) = s.post(file).await;
        let want = case["expect_status"].as_u64().unwrap() as u16;
        assert_eq!(status, want, "{file}: {body}");
        if file.starts_with("card.action") {
            // Card callbacks wait on the queue until Feishu has the answer (see below).
            tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
        }
        let queued = s.drain().await;
        match case["expect"].as_str().unwrap() {
            "enqueue" => assert_eq!(queued.len(), 1, "{file}"),
            "challenge" => {
                assert!(queued.is_empty(), "{file}");
                assert_eq!(body["challenge"], "ajls384kdjx98XX");
            }
            _ => {
                assert!(queued.is_empty(), "{file} must not be queued");
                if status >= 400 {
                    assert!(
                        body["error"].is_string() && body["message"].is_string(),
                        "{file}: {body}"
                    );
                }
            }
        }
    }
}

#[tokio::test]
async fn encrypted_event_without_a_configured_key_is_refused_and_not_queued() {
    let s = stack(None).await;
    let (status, body) = s.post("leave_approval.day.function-url.json").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"], "encrypt_key_not_configured");
    assert!(s.drain().await.is_empty());
}

#[tokio::test]
async fn queue_failure_is_a_500_so_feishu_retries() {
    let aws = moto::aws().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let missing = format!(
        "{}/123456789012/{}",
        moto::endpoint(),
        moto::unique("absent")
    );
    let webhook = Webhook::new(&WebhookConfig {
        verification_token: Secret::new("demo-verification-token"),
        encrypt_key: Some(Secret::new("demo-encrypt-key")),
        max_clock_skew: None,
        custom_approval_codes: BTreeSet::new(),
    });
    let s = IngressStack {
        ingress: Ingress::new(webhook, Queue::new(sqs.clone(), missing.clone())),
        sqs,
        queue_url: missing,
    };
    let (status, body) = s.post("leave_approval.day.function-url.json").await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["error"], "queue_unavailable");
}

#[tokio::test]
async fn unsigned_requests_other_than_the_challenge_all_get_one_identical_answer() {
    // With an Encrypt Key set, a stranger who could tell "bad padding" from "bad JSON" could
    // decrypt any captured event one byte at a time (a CBC padding oracle).
    let s = stack(Some("demo-encrypt-key")).await;
    let mut answers = Vec::new();
    for file in [
        "reject.not_json.function-url.json",
        "reject.missing_signature.function-url.json",
        "reject.unsigned_bad_padding.function-url.json",
        "reject.unsigned_not_json_inside.function-url.json",
    ] {
        answers.push((file, s.post(file).await));
    }
    for (file, answer) in &answers {
        assert_eq!(
            answer, &answers[0].1,
            "{file} answered differently from {}",
            answers[0].0
        );
    }
    assert_eq!(answers[0].1.0, 401);
    assert_eq!(answers[0].1.1["error"], "unauthorized");
    assert!(s.drain().await.is_empty());
}

#[tokio::test]
async fn error_answers_name_no_setting() {
    let s = stack(Some("demo-encrypt-key")).await;
    let m = read_json(events_dir().join("lambda/manifest.json"));
    for case in m["cases"].as_array().unwrap() {
        let (status, body) = s.post(case["file"].as_str().unwrap()).await;
        if status >= 400 {
            let text = body.to_string();
            for setting in ["FEISHU_", "WEBHOOK_", "ENCRYPT_KEY", "VERIFICATION_TOKEN"] {
                assert!(!text.contains(setting), "{}: {text}", case["file"]);
            }
        }
    }
    let plain = stack(None).await;
    let (_, body) = plain.post("leave_approval.day.function-url.json").await;
    assert!(!body.to_string().contains("FEISHU_"), "{body}");
}

#[tokio::test]
async fn secrets_stored_with_a_trailing_newline_still_verify_signed_events() {
    // `aws ssm put-parameter --value "$(cat key)"` keeps no newline, an editor's copy may:
    // the keys must still verify, not turn every delivery into a 401.
    let aws = moto::aws().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let prefix = format!("/{}", moto::unique("newline"));
    for (name, value) in [
        ("token", "demo-verification-token\n"),
        ("key", " demo-encrypt-key\n"),
    ] {
        ssm.put_parameter()
            .name(format!("{prefix}/{name}"))
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }
    let s = stack(None).await;
    let env: std::collections::HashMap<String, String> = [
        ("QUEUE_URL", s.queue_url.clone()),
        ("FEISHU_VERIFICATION_TOKEN_PARAM", format!("{prefix}/token")),
        ("FEISHU_ENCRYPT_KEY_PARAM", format!("{prefix}/key")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = shared::config::IngressConfig::load(&env, &aws)
        .await
        .unwrap();
    let s = IngressStack {
        ingress: Ingress::from_config(&config, &aws),
        ..s
    };

    let (status, body) = s.post("leave_approval.day.function-url.json").await;

    assert_eq!(status, 200, "{body}");
    assert_eq!(s.drain().await.len(), 1);
}

#[tokio::test]
async fn a_queue_that_does_not_answer_gets_a_500_within_feishus_3_seconds() {
    // An "SQS" that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((conn, _)) = silent.accept().await {
            held.push(conn);
        }
    });
    let aws = shared::aws::config_loader()
        .endpoint_url(format!("http://{addr}"))
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "t", "t", None, None, "t",
        ))
        .load()
        .await;
    let env: std::collections::HashMap<String, String> = [
        ("QUEUE_URL", format!("http://{addr}/123456789012/events")),
        (
            "FEISHU_VERIFICATION_TOKEN",
            "demo-verification-token".into(),
        ),
        ("FEISHU_ENCRYPT_KEY", "demo-encrypt-key".into()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let config = shared::config::IngressConfig::load(&env, &aws)
        .await
        .unwrap();
    let s = IngressStack {
        ingress: Ingress::from_config(&config, &aws),
        sqs: aws_sdk_sqs::Client::new(&aws),
        queue_url: config.queue_url.clone(),
    };

    // Feishu counts a push as failed after 3 s and retries it (15 s, 5 min, 1 h, 6 h).
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(3),
        s.post("leave_approval.day.function-url.json"),
    )
    .await
    .expect("answered within 3 s");

    assert_eq!(answer.0, 500, "{}", answer.1);
    assert_eq!(answer.1["error"], "queue_unavailable");
}

#[tokio::test]
async fn a_card_callback_is_answered_with_a_toast_that_says_whether_it_was_queued() {
    // Feishu never retries a callback (reference 7.6): the toast must tell the truth.
    let s = stack(Some("demo-encrypt-key")).await;
    let (status, body) = s.post("card.action.trigger.function-url.json").await;
    assert_eq!(
        (status, body["toast"]["type"].as_str()),
        (200, Some("success")),
        "{body}"
    );
    // Held back until Feishu has the answer: a card updated before the callback is
    // answered can be reverted (doc "延时更新消息卡片").
    assert!(
        s.drain().await.is_empty(),
        "not processed before the answer"
    );
    tokio::time::sleep(std::time::Duration::from_millis(3200)).await;
    assert_eq!(s.drain().await.len(), 1);

    let aws = moto::aws().await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let missing = format!(
        "{}/123456789012/{}",
        moto::endpoint(),
        moto::unique("absent")
    );
    let webhook = Webhook::new(&WebhookConfig {
        verification_token: Secret::new("demo-verification-token"),
        encrypt_key: Some(Secret::new("demo-encrypt-key")),
        max_clock_skew: None,
        custom_approval_codes: BTreeSet::new(),
    });
    let broken = IngressStack {
        ingress: Ingress::new(webhook, Queue::new(sqs.clone(), missing.clone())),
        sqs,
        queue_url: missing,
    };
    let (status, body) = broken.post("card.action.trigger.function-url.json").await;
    assert_eq!(
        (status, body["toast"]["type"].as_str()),
        (200, Some("error")),
        "{body}"
    );
    assert!(
        body["toast"]["content"]
            .as_str()
            .unwrap()
            .contains("submit again")
    );
}
