//! No secret reaches the logs, at any level, on success or failure paths: the App Secret,
//! the Encrypt Key, the Verification Token (read from SSM Parameter Store here, as in
//! production) and the tenant_access_tokens Feishu issues.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, Mutex, OnceLock};

use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::TestStack;
use leave_sync_tests::moto;
use leave_sync_tests::sim::api::*;
use leave_sync_tests::sim::{Fault, FaultKind};
use shared::config::{IngressConfig, ProcessorConfig};
use shared::ingress::Ingress;
use shared::secret::Secret;
use shared::webhook::EncryptKey;
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Capture(Arc<Mutex<Vec<u8>>>);

impl Write for Capture {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut v) = self.0.lock() {
            v.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Capture {
    type Writer = Capture;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

/// Every event of every crate, TRACE included, into one buffer (installed before the
/// harness would install its own subscriber).
fn capture() -> &'static Capture {
    static CAPTURE: OnceLock<Capture> = OnceLock::new();
    CAPTURE.get_or_init(|| {
        let c = Capture::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_writer(c.clone())
            .with_ansi(false)
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("first subscriber");
        c
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_appear_in_logs_at_any_level() {
    let logs = capture();
    let app_secret = "app-secret-DO-NOT-LOG-1f2e3d";
    let token = "verification-token-DO-NOT-LOG-9a8b";
    let key = "encrypt-key-DO-NOT-LOG-7c6d";

    // Secrets from SSM SecureStrings, as template.yaml configures them.
    let aws = moto::aws().await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    let prefix = format!("/{}", moto::unique("leave-sync"));
    for (name, value) in [
        ("app-secret", app_secret),
        ("verification-token", token),
        ("encrypt-key", key),
    ] {
        ssm.put_parameter()
            .name(format!("{prefix}/{name}"))
            .value(value)
            .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
            .send()
            .await
            .unwrap();
    }
    let stack = TestStack::start().await;
    let env: HashMap<String, String> = [
        ("QUEUE_URL", stack.queue_url.clone()),
        ("TABLE_NAME", stack.table.clone()),
        ("FEISHU_APP_ID", stack.sim.config().app_id.clone()),
        ("FEISHU_APP_SECRET_PARAM", format!("{prefix}/app-secret")),
        (
            "FEISHU_VERIFICATION_TOKEN_PARAM",
            format!("{prefix}/verification-token"),
        ),
        ("FEISHU_ENCRYPT_KEY_PARAM", format!("{prefix}/encrypt-key")),
        ("FEISHU_BASE_URL", stack.sim.url()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    let ingress_config = IngressConfig::load(&env, &aws).await.unwrap();
    let processor_config = ProcessorConfig::load(&env, &aws).await.unwrap();
    assert_eq!(
        processor_config.feishu.app_secret.expose(),
        app_secret,
        "read from SSM"
    );
    tracing::info!(?ingress_config, ?processor_config, "configuration loaded");

    // The ingress, on good and bad requests.
    let ingress = Ingress::from_config(&ingress_config, &aws);
    let encrypt = EncryptKey::new(Secret::new(key));
    let mut event = events::leave_v1(&LeaveSpec::day("INST-SECRET", "zhangwei"), "ev-s");
    event["token"] = token.into();
    let body =
        serde_json::json!({ "encrypt": encrypt.encrypt(event.to_string().as_bytes(), [1; 16]) })
            .to_string();
    let mut headers = http::HeaderMap::new();
    headers.insert("x-lark-request-timestamp", "1796000000".parse().unwrap());
    headers.insert("x-lark-request-nonce", "n".parse().unwrap());
    headers.insert(
        "x-lark-signature",
        encrypt
            .signature("1796000000", "n", body.as_bytes())
            .parse()
            .unwrap(),
    );
    assert_eq!(ingress.handle(body.as_bytes(), &headers).await.status, 200);
    headers.insert("x-lark-signature", "0".repeat(64).parse().unwrap());
    assert_eq!(ingress.handle(body.as_bytes(), &headers).await.status, 401);
    let forged = event.to_string().replace(token, "guess");
    assert_eq!(
        ingress
            .handle(forged.as_bytes(), &http::HeaderMap::new())
            .await
            .status,
        401
    );

    // The processor: a sync with a refused token (refresh), then a permanent failure.
    stack.sim.inject(Fault::new(
        ATTENDANCE_CREATE,
        FaultKind::InvalidToken { in_200: false },
    ));
    assert!(
        stack
            .invoke(&[stack.msg(&events::leave_v2(&LeaveSpec::day("INST-S1", "lina"), "s1"))])
            .await
            .is_empty()
    );
    assert!(
        stack
            .invoke(&[stack.msg(&events::leave_v2(&LeaveSpec::day("INST-S2", "ghost"), "s2"))])
            .await
            .is_empty()
    );
    assert_eq!(stack.sim.snapshot().tokens_issued, 2);

    let text = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        text.len() > 10_000,
        "TRACE logging was on ({} bytes)",
        text.len()
    );
    assert!(
        text.contains("feishu call") && text.contains("rejected webhook"),
        "the paths ran"
    );
    let demo_secret = stack.sim.config().app_secret.clone();
    for secret in [
        app_secret,
        token,
        key,
        demo_secret.as_str(),
        events::TOKEN,
        "t-sim",
    ] {
        assert!(!text.contains(secret), "{secret:?} appears in the logs");
    }
}
