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
