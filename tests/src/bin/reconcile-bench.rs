//! `reconcile-bench`: what a reconcile costs over many instances, most of them synced.
//! Feishu's side is the in-process simulator (rate limits off, so the figures are this
//! code's; the floor Feishu's limits impose is printed beside them); AWS is the moto
//! server at AWS_ENDPOINT_URL. Not a test: `make bench` prints its figures.
//!
//! It puts N approved instances of one native leave form into the simulator, created
//! over the last 30 days, writes most of them into the ledger as synced, then runs:
//! 1. the first run (the backfill: 30 days listed, the unknown ones read and queued, every
//!    synced one re-read once for revokes);
//! 2. an hourly run right after, once the queued ones are synced (the look-back listed
//!    again, nothing due for a re-read).

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::AttributeValue;
use clap::Parser;
use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::{StackOptions, TestStack};
use leave_sync_tests::sim::SimConfig;
use shared::reconcile::{Report, RunOptions};

#[derive(Debug, Parser)]
struct Args {
    /// Instances in the simulator.
    #[arg(long, default_value_t = 10_000)]
    instances: usize,
    /// Share of them already synced in the ledger.
    #[arg(long, default_value_t = 0.95)]
    synced: f64,
}

const HOUR_MS: i64 = 3_600_000;
const USERS: [&str; 4] = ["zhangwei", "lina", "wangfang", "zhaolei"];

fn code(i: usize) -> String {
    format!("BENCH-{i:06}")
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let stack = TestStack::with(StackOptions {
        sim: SimConfig {
            rate_limits: false,
            ..SimConfig::default()
        },
        ..StackOptions::default()
    })
    .await;
    let now = jiff::Timestamp::now().as_millisecond();
    let span = 29 * 24 * HOUR_MS;
    for i in 0..args.instances {
        let created = now - span + (span / args.instances as i64) * i as i64 - 10 * HOUR_MS;
        let spec = LeaveSpec::day(&code(i), USERS[i % USERS.len()]);
        stack.sim.put_instance(events::native_instance(
            &spec,
            "APPROVED",
            created,
            created + HOUR_MS,
        ));
    }
    let synced = (args.instances as f64 * args.synced) as usize;
    let started = Instant::now();
    write_synced(&stack, 0..synced).await;
    eprintln!(
        "setup: {} instances, {synced} synced in the ledger ({:.1} s)",
        args.instances,
        started.elapsed().as_secs_f64()
    );

    let mut config = stack.reconciler_config();
    config.custom_approval_codes.clear();
    // The production defaults, not the tests' short ones.
    config.backfill = Duration::from_secs(30 * 86_400);
    config.lookback = shared::config::DEFAULT_LOOKBACK;
    config.settle = shared::config::DEFAULT_SETTLE;
    config.recheck_every = shared::config::DEFAULT_RECHECK_EVERY;
    config.revoke_horizon = shared::config::DEFAULT_REVOKE_HORIZON;
    let reconciler = stack.reconciler_with(config);

    let (_first, first_calls) = timed("first run (backfill)", &stack, || {
        reconciler.run(RunOptions::default())
    })
    .await;
    // What the processor would do with the queued syncs, without Feishu: mark them synced.
    write_synced(&stack, synced..args.instances).await;
    stack
        .sqs
        .purge_queue()
        .queue_url(&stack.queue_url)
        .send()
        .await
        .expect("purge");
    let (_hourly, hourly_calls) = timed("hourly run after it", &stack, || {
        reconciler.run(RunOptions::default())
    })
    .await;
    println!(
        "at Feishu's limits (list 100/min, detail 1000/min) the same runs would last at least \
         {:.1} min and {:.1} min",
        floor(&first_calls),
        floor(&hourly_calls)
    );
}

async fn timed<F, Fut>(label: &str, stack: &TestStack, run: F) -> (Report, HashMap<String, u32>)
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Report>,
{
    let before = stack.sim.snapshot().calls;
    let started = Instant::now();
    let report = run().await;
    let secs = started.elapsed().as_secs_f64();
    let after = stack.sim.snapshot().calls;
    let calls: HashMap<String, u32> = after
        .iter()
        .map(|(api, n)| (api.clone(), n - before.get(api).copied().unwrap_or(0)))
        .filter(|(_, n)| *n > 0)
        .collect();
    println!(
        "{label:<22} {secs:>6.1} s  {} seen, {} re-read, {} queued, {} errors; Feishu requests: {}",
        report.seen,
        report.rechecked,
        report.enqueued.len(),
        report.errors.len(),
        describe(&calls)
    );
    (report, calls)
}

fn describe(calls: &HashMap<String, u32>) -> String {
    let mut v: Vec<String> = calls.iter().map(|(api, n)| format!("{api} {n}")).collect();
    v.sort();
    v.join(", ")
}

/// Minutes Feishu's documented limits alone impose on a run's requests: the list API
/// 100 a minute, the detail API 1000 a minute.
fn floor(calls: &HashMap<String, u32>) -> f64 {
    use leave_sync_tests::sim::api::{INSTANCE_GET, INSTANCE_LIST};
    let n = |api: &str| f64::from(calls.get(api).copied().unwrap_or(0));
    (n(INSTANCE_LIST) / 100.0).max(n(INSTANCE_GET) / 1000.0)
}

/// Ledger items as the processor leaves a synced instance, 25 at a time.
async fn write_synced(stack: &TestStack, range: std::ops::Range<usize>) {
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws);
    let now = jiff::Timestamp::now().to_string();
    let items: Vec<HashMap<String, AttributeValue>> = range
        .map(|i| {
            let s = |v: String| AttributeValue::S(v);
            HashMap::from([
                (
                    "pk".to_owned(),
                    s(format!("inst#{}#{}", events::TENANT, code(i))),
                ),
                ("state".to_owned(), s("synced".into())),
                ("tenant_key".to_owned(), s(events::TENANT.into())),
                ("instance_code".to_owned(), s(code(i))),
                ("approval_code".to_owned(), s(events::LEAVE_FORM.into())),
                ("created_at".to_owned(), s(now.clone())),
                ("updated_at".to_owned(), s(now.clone())),
            ])
        })
        .collect();
    leave_sync_tests::moto::batch_put(&ddb, &stack.table, items).await;
}
