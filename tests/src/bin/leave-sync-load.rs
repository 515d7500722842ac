//! Load and cold-start measurements (`make bench` runs both; nothing here is a test).
//!
//!   leave-sync-load load --url URL --sim URL --approvals N [--senders 16]
//!       posts N approvals and their V2 twins, signed and encrypted, from concurrent
//!       senders; prints ack latency percentiles, the time until every leave is synced,
//!       and the Feishu calls per leave (read from the simulator).
//!   leave-sync-load cold-start --bin target/release/ingress [--runs 20]
//!       starts the ingress binary under a minimal Lambda Runtime API and times process
//!       start → first answered invocation (a url_verification).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::{Parser, Subcommand};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::sim::Snapshot;
use leave_sync_tests::sim::api::*;
use serde_json::Value;
use shared::secret::Secret;
use shared::webhook::{EncryptKey, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP};
use tokio::net::TcpListener;
use tokio::sync::Notify;

#[derive(Debug, Parser)]
#[command(name = "leave-sync-load")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    Load {
        #[arg(long)]
        url: String,
        #[arg(long)]
        sim: String,
        #[arg(long, default_value_t = 200)]
        approvals: usize,
        #[arg(long, default_value_t = 16)]
        senders: usize,
        #[arg(long, default_value = "demo-encrypt-key")]
        encrypt_key: String,
        #[arg(long, default_value_t = 120)]
        timeout_secs: u64,
        /// The SQS endpoint behind the dev server (moto): the same number of direct
        /// SendMessage calls from the same senders first, as the floor for the ack latency.
        #[arg(long)]
        sqs_endpoint: Option<String>,
    },
    ColdStart {
        #[arg(long)]
        bin: PathBuf,
        #[arg(long, default_value_t = 20)]
        runs: usize,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    shared::aws::install_crypto_provider();
    let result = match Cli::parse().command {
        Cmd::Load {
            url,
            sim,
            approvals,
            senders,
            encrypt_key,
            timeout_secs,
            sqs_endpoint,
        } => {
            let floor = match sqs_endpoint {
                Some(endpoint) => match sqs_floor(&endpoint, 2 * approvals, senders).await {
                    Ok(f) => Some(f),
                    Err(e) => {
                        eprintln!("error: {e}");
                        return ExitCode::from(1);
                    }
                },
                None => None,
            };
            load(
                &url,
                &sim,
                approvals,
                senders,
                &encrypt_key,
                Duration::from_secs(timeout_secs),
                floor,
            )
            .await
        }
        Cmd::ColdStart { bin, runs } => cold_start(&bin, runs).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

/// Signs and encrypts `event` as Feishu does.
fn sign(key: &EncryptKey, event: &Value, nonce: usize) -> (Vec<u8>, [(String, String); 3]) {
    let body = serde_json::json!({ "encrypt": key.encrypt_random_iv(event.to_string().as_bytes()).unwrap_or_default() })
        .to_string()
        .into_bytes();
    let ts = jiff::Timestamp::now().as_second().to_string();
    let nonce = format!("n{nonce}");
    let sig = key.signature(&ts, &nonce, &body);
    (
        body,
        [
            (HEADER_TIMESTAMP.into(), ts),
            (HEADER_NONCE.into(), nonce),
            (HEADER_SIGNATURE.into(), sig),
        ],
    )
}

async fn snapshot(client: &reqwest::Client, sim: &str) -> Result<Snapshot, String> {
    let v: Value = client
        .get(format!("{sim}/_sim/state"))
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_value(v["data"].clone()).map_err(|e| e.to_string())
}

/// p50 of `count` direct SendMessage calls (1.5 KiB bodies, like the queue envelope) from
/// `senders` concurrent tasks: the part of an ack that is the queue's, not the ingress's.
async fn sqs_floor(endpoint: &str, count: usize, senders: usize) -> Result<Duration, String> {
    let aws = shared::aws::config_loader()
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_sqs::config::Credentials::new(
            "bench", "bench", None, None, "bench",
        ))
        .load()
        .await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let url = sqs
        .create_queue()
        .queue_name("leave-sync-bench-floor")
        .send()
        .await
        .map_err(|e| shared::aws::describe(&e))?
        .queue_url
        .unwrap_or_default();
    let body = "x".repeat(1536);
    let left = Arc::new(Mutex::new(count));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(count)));
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (sqs, url, body, left, latencies) = (
            sqs.clone(),
            url.clone(),
            body.clone(),
            left.clone(),
            latencies.clone(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let go = left
                    .lock()
                    .map(|mut l| {
                        let more = *l > 0;
                        *l = l.saturating_sub(1);
                        more
                    })
                    .unwrap_or(false);
                if !go {
                    break;
                }
                let t = Instant::now();
                let _ = sqs
                    .send_message()
                    .queue_url(&url)
                    .message_body(&body)
                    .send()
                    .await;
                if let Ok(mut l) = latencies.lock() {
                    l.push(t.elapsed());
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let _ = sqs.delete_queue().queue_url(&url).send().await;
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort();
    Ok(percentile(&lat, 0.5))
}

async fn load(
    url: &str,
    sim: &str,
    n: usize,
    senders: usize,
    key: &str,
    timeout: Duration,
    sqs_floor: Option<Duration>,
) -> Result<(), String> {
    let key = EncryptKey::new(Secret::new(key));
    let mut work = VecDeque::new();
    for i in 0..n {
        let instance = format!("LOAD-{i:05}");
        let user = format!("load{i:04}");
        let spec = match i % 3 {
            0 => LeaveSpec::day(&instance, &user),
            1 => LeaveSpec::half_day(&instance, &user),
            _ => LeaveSpec::hour(&instance, &user),
        };
        work.push_back(sign(
            &key,
            &events::leave_v1(&spec, &format!("lv1-{i}")),
            2 * i,
        ));
        work.push_back(sign(
            &key,
            &events::leave_v2(&spec, &format!("lv2-{i}")),
            2 * i + 1,
        ));
    }
    let total = work.len();
    let work = Arc::new(Mutex::new(work));
    let latencies = Arc::new(Mutex::new(Vec::with_capacity(total)));
    let failures = Arc::new(Mutex::new(0usize));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(senders)
        .build()
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..senders {
        let (work, latencies, failures, client, url) = (
            work.clone(),
            latencies.clone(),
            failures.clone(),
            client.clone(),
            url.to_owned(),
        );
        tasks.push(tokio::spawn(async move {
            loop {
                let next = work.lock().ok().and_then(|mut w| w.pop_front());
                let Some((body, headers)) = next else { break };
                let mut req = client
                    .post(&url)
                    .header("content-type", "application/json; charset=utf-8");
                for (k, v) in &headers {
                    req = req.header(k.as_str(), v.as_str());
                }
                let t = Instant::now();
                let ok = req
                    .body(body)
                    .send()
                    .await
                    .map(|r| r.status().is_success())
                    .unwrap_or(false);
                let took = t.elapsed();
                if let Ok(mut l) = latencies.lock() {
                    l.push(took);
                }
                if !ok && let Ok(mut f) = failures.lock() {
                    *f += 1;
                }
            }
        }));
    }
    for t in tasks {
        let _ = t.await;
    }
    let sent_in = started.elapsed();
    let failed = failures.lock().map(|f| *f).unwrap_or(0);
    if failed > 0 {
        return Err(format!(
            "{failed} of {total} posts were not acknowledged with 2xx"
        ));
    }
    // Wait until every leave has its card (the last step).
    let snap = loop {
        let s = snapshot(&client, sim).await?;
        if s.writes.get(MESSAGE_SEND).copied().unwrap_or(0) as usize >= n {
            break s;
        }
        if started.elapsed() > timeout {
            return Err(format!("only {:?} after {timeout:?}", s.writes));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let synced_in = started.elapsed();
    let mut lat = latencies.lock().map(|l| l.clone()).unwrap_or_default();
    lat.sort();
    let per = |api: &str| snap.writes.get(api).copied().unwrap_or(0) as f64 / n as f64;
    let calls: u32 = snap.calls.values().sum();
    println!(
        "approvals           {n} (+ {n} V2 twins = {total} webhook posts) from {senders} concurrent senders"
    );
    println!(
        "ack latency         p50 {}  p99 {}  max {}   (all {total} answered 200)",
        ms(percentile(&lat, 0.5)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap_or(&Duration::ZERO))
    );
    if let Some(floor) = sqs_floor {
        let p50 = percentile(&lat, 0.5);
        println!(
            "ack vs queue floor  p50 {} vs {} for a bare SendMessage from as many senders: ratio {:.2}",
            ms(p50),
            ms(floor),
            p50.as_secs_f64() / floor.as_secs_f64().max(1e-9)
        );
    }
    println!(
        "posted in           {:.2} s  ({:.0} posts/s)",
        sent_in.as_secs_f64(),
        total as f64 / sent_in.as_secs_f64()
    );
    println!(
        "all synced after    {:.2} s from the first post",
        synced_in.as_secs_f64()
    );
    println!(
        "Feishu per leave    attendance {:.2}, time-off {:.2}, messages {:.2} writes; {:.2} calls in all; token fetches {}",
        per(ATTENDANCE_CREATE),
        per(TIMEOFF_CREATE),
        per(MESSAGE_SEND),
        f64::from(calls) / n as f64,
        snap.calls.get(TOKEN).copied().unwrap_or(0)
    );
    if snap.attendance.len() != n || snap.timeoff_events.len() != n || snap.messages.len() != n {
        return Err(format!(
            "expected {n} of each, Feishu holds {} attendance, {} time-off, {} messages",
            snap.attendance.len(),
            snap.timeoff_events.len(),
            snap.messages.len()
        ));
    }
    Ok(())
}

/// What the fake Runtime API saw.
#[derive(Default)]
struct Runtime {
    answered_at: Mutex<Option<(Instant, String)>>,
    served: Mutex<bool>,
    done: Notify,
}

async fn runtime_api(
    rt: Arc<Runtime>,
    event: Arc<String>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let ok = |status: u16, body: String| {
        let mut r = Response::new(Full::new(Bytes::from(body)));
        *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::OK);
        r
    };
    if path.ends_with("/invocation/next") {
        let first = rt
            .served
            .lock()
            .map(|mut s| !std::mem::replace(&mut *s, true))
            .unwrap_or(false);
        if !first {
            // One invocation per run: hold further polls until the process is killed.
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        let deadline = jiff::Timestamp::now().as_millisecond() + 5_000;
        let mut r = ok(200, event.to_string());
        let h = r.headers_mut();
        h.insert(
            "lambda-runtime-aws-request-id",
            "cold-start-1".parse().unwrap(),
        );
        h.insert(
            "lambda-runtime-deadline-ms",
            deadline.to_string().parse().unwrap(),
        );
        h.insert(
            "lambda-runtime-invoked-function-arn",
            "arn:aws:lambda:us-east-1:123456789012:function:ingress"
                .parse()
                .unwrap(),
        );
        h.insert("lambda-runtime-trace-id", "Root=1-0-0".parse().unwrap());
        return Ok(r);
    }
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    if let Ok(mut a) = rt.answered_at.lock() {
        a.get_or_insert((
            Instant::now(),
            format!("{path} {}", String::from_utf8_lossy(&body)),
        ));
    }
    rt.done.notify_one();
    Ok(ok(202, "{}".into()))
}

async fn cold_start(bin: &PathBuf, runs: usize) -> Result<(), String> {
    let event_file = leave_sync_tests::moto::workspace_root()
        .join("infra/events/lambda/url_verification.function-url.json");
    let event = Arc::new(std::fs::read_to_string(&event_file).map_err(|e| e.to_string())?);
    let mut times = Vec::new();
    for _ in 0..runs {
        let rt = Arc::new(Runtime::default());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr: SocketAddr = listener.local_addr().map_err(|e| e.to_string())?;
        let (rt2, ev2) = (rt.clone(), event.clone());
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (rt, ev) = (rt2.clone(), ev2.clone());
                tokio::spawn(async move {
                    let svc = service_fn(move |req| runtime_api(rt.clone(), ev.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        let started = Instant::now();
        let mut child = Command::new(bin)
            .env_clear()
            .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
            .env("AWS_LAMBDA_FUNCTION_NAME", "ingress")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "cold-start")
            .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/ingress")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "x")
            .env("AWS_SECRET_ACCESS_KEY", "x")
            .env("QUEUE_URL", "http://127.0.0.1:9/123456789012/unused")
            .env("FEISHU_VERIFICATION_TOKEN", "demo-verification-token")
            .env("FEISHU_ENCRYPT_KEY", "demo-encrypt-key")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", bin.display()))?;
        let waited = tokio::time::timeout(Duration::from_secs(10), rt.done.notified()).await;
        let _ = child.kill();
        let _ = child.wait();
        server.abort();
        waited.map_err(|_| "the function did not answer within 10 s".to_owned())?;
        let (at, answer) = rt
            .answered_at
            .lock()
            .ok()
            .and_then(|a| a.clone())
            .ok_or("no answer")?;
        if !answer.contains("ajls384kdjx98XX") {
            return Err(format!("unexpected answer: {answer}"));
        }
        times.push(at.duration_since(started));
    }
    times.sort();
    println!(
        "cold start          process start → first answered request: median {}, min {}, max {} over {runs} runs ({})",
        ms(percentile(&times, 0.5)),
        ms(times[0]),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
        bin.display()
    );
    Ok(())
}
