//! A moto server (real DynamoDB and SQS APIs on loopback) for the tests.
//!
//! `make test` starts one and exports `MOTO_ENDPOINT`; a bare `cargo test` starts its own
//! from `.venv` (created by `make venv`). Every test makes uniquely named tables and
//! queues, so tests share one server and run in parallel.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_config::SdkConfig;
use aws_sdk_sqs::config::Credentials;

static ENDPOINT: OnceLock<String> = OnceLock::new();
/// The server this process started, kept for the life of the test binary; the launcher's
/// watchdog stops it when the binary exits.
static SERVER: OnceLock<std::sync::Mutex<std::process::Child>> = OnceLock::new();

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// The moto endpoint, starting a server on first use if none was given.
pub fn endpoint() -> &'static str {
    ENDPOINT.get_or_init(|| {
        if let Ok(e) = std::env::var("MOTO_ENDPOINT") {
            return e;
        }
        let root = workspace_root();
        let python = root.join(".venv/bin/python");
        assert!(
            python.exists(),
            "no moto: set MOTO_ENDPOINT or run `make venv` to create {}",
            python.display()
        );
        let port = free_port();
        let child = Command::new(python)
            .arg(root.join("tests/support/moto_launcher.py"))
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let _ = SERVER.set(std::sync::Mutex::new(child));
        let endpoint = format!("http://127.0.0.1:{port}");
        wait_until_up(&endpoint);
        endpoint
    })
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

fn wait_until_up(endpoint: &str) {
    let addr = endpoint.trim_start_matches("http://").to_owned();
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(&addr).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("moto did not start on {endpoint} within 30 s");
}

/// SDK configuration pointed at moto, with dummy credentials (moto accepts any).
pub async fn aws() -> SdkConfig {
    shared::aws::config_loader()
        .endpoint_url(endpoint())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .load()
        .await
}

/// A name no other test uses.
pub fn unique(prefix: &str) -> String {
    let mut b = [0u8; 6];
    getrandom::fill(&mut b).expect("random bytes");
    let suffix: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{prefix}-{suffix}")
}

/// Puts `items` into `table` in batches of 25, again until none is left unprocessed (the
/// benches' setup: much faster than one PutItem each).
pub async fn batch_put(
    ddb: &aws_sdk_dynamodb::Client,
    table: &str,
    items: Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>>,
) {
    use aws_sdk_dynamodb::types::{PutRequest, WriteRequest};
    for chunk in items.chunks(25) {
        let requests: Vec<WriteRequest> = chunk
            .iter()
            .map(|item| {
                let put = PutRequest::builder()
                    .set_item(Some(item.clone()))
                    .build()
                    .expect("item");
                WriteRequest::builder().put_request(put).build()
            })
            .collect();
        let mut pending = std::collections::HashMap::from([(table.to_owned(), requests)]);
        while !pending.is_empty() {
            let out = ddb
                .batch_write_item()
                .set_request_items(Some(pending))
                .send()
                .await
                .expect("batch write");
            pending = out.unprocessed_items.unwrap_or_default();
            pending.retain(|_, v| !v.is_empty());
        }
    }
}
