//! `digest-bench`: what reading "who is out" costs as the ledger grows. AWS is the moto
//! server at AWS_ENDPOINT_URL. Not a test: `make bench` prints its figures.
//!
//! It writes N synced leaves (1–3 days each, spread over two years from 2026-01-01) the
//! way the sync leaves them: the instance item and its who-is-out index items. Then it
//! reads a day and a week the way the digest does (the `by_month` index), and prints the
//! index items read and the median time of each, beside what a scan would read.

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::AttributeValue;
use clap::Parser;
use jiff::civil::{Date, date};
use leave_sync_tests::events;
use leave_sync_tests::harness::TestStack;
use shared::event::{InstanceRef, Leave, LeaveType, LeaveUnit, Locale, LocalizedNames};
use shared::ledger::out_index::index_items;

#[derive(Debug, Parser)]
struct Args {
    /// Synced leaves in the ledger.
    #[arg(long, default_value_t = 100_000)]
    leaves: usize,
    /// Timed reads of each kind (the median is printed).
    #[arg(long, default_value_t = 9)]
    runs: usize,
}

const FIRST_DAY: Date = date(2026, 1, 1);
const SPAN_DAYS: usize = 730;

/// The i-th leave: a deterministic spread of starts and lengths.
fn leave(i: usize) -> (InstanceRef, Leave) {
    let start = FIRST_DAY.saturating_add(jiff::Span::new().days(((i * 7919) % SPAN_DAYS) as i64));
    let days = 1 + (i % 3) as i64;
    let midnight = jiff::civil::Time::midnight();
    let leave = Leave {
        user_id: format!("u_{i:06}"),
        open_id: format!("ou_{i:06}"),
        leave_type: LeaveType {
            key: "年假".into(),
            names: LocalizedNames::single("年假"),
            default_locale: Locale::Ch,
        },
        start: start.to_datetime(midnight),
        end: start
            .saturating_add(jiff::Span::new().days(days))
            .to_datetime(midnight),
        interval_secs: days * 86_400,
        unit: LeaveUnit::Day,
        reason: String::new(),
        segments: Vec::new(),
        overtime: None,
    };
    let instance = InstanceRef {
        tenant_key: events::TENANT.into(),
        approval_code: events::LEAVE_FORM.into(),
        instance_code: format!("BENCH-{i:06}"),
    };
    (instance, leave)
}

fn instance_item(instance: &InstanceRef, leave: &Leave) -> HashMap<String, AttributeValue> {
    let s = |v: String| AttributeValue::S(v);
    HashMap::from([
        (
            "pk".to_owned(),
            s(format!(
                "inst#{}#{}",
                instance.tenant_key, instance.instance_code
            )),
        ),
        ("state".to_owned(), s("synced".into())),
        ("tenant_key".to_owned(), s(instance.tenant_key.clone())),
        (
            "instance_code".to_owned(),
            s(instance.instance_code.clone()),
        ),
        (
            "created_at".to_owned(),
            s(jiff::Timestamp::now().to_string()),
        ),
        (
            "leave_json".to_owned(),
            s(serde_json::to_string(leave).expect("json")),
        ),
    ])
}

async fn write_all(stack: &TestStack, n: usize) -> usize {
    let ddb = aws_sdk_dynamodb::Client::new(&stack.aws);
    let mut items = Vec::new();
    for i in 0..n {
        let (instance, leave) = leave(i);
        items.push(instance_item(&instance, &leave));
        items.extend(index_items(&instance, &leave).expect("index items"));
    }
    let total = items.len();
    leave_sync_tests::moto::batch_put(&ddb, &stack.table, items).await;
    total
}

fn median(mut ms: Vec<f64>) -> f64 {
    ms.sort_by(f64::total_cmp);
    ms[ms.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args = Args::parse();
    let stack = TestStack::start().await;
    let started = Instant::now();
    let items = write_all(&stack, args.leaves).await;
    eprintln!(
        "setup: {} leaves, {items} items ({:.1} s)",
        args.leaves,
        started.elapsed().as_secs_f64()
    );
    let day = date(2026, 12, 8);
    for (label, first, last) in [("a day", day, day), ("a week", day, date(2026, 12, 11))] {
        let mut ms = Vec::new();
        let mut found = None;
        for _ in 0..args.runs {
            let t = Instant::now();
            let out = (stack.ledger)
                .out_between(events::TENANT, first, last)
                .await
                .expect("query");
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
            found = Some(out);
        }
        let out = found.expect("at least one run");
        println!(
            "who's out, {label:<7} {} leaves out; {} index items read in {} queries; median {:.0} ms over {} runs",
            out.leaves.len(),
            out.items_read,
            out.queries,
            median(ms),
            args.runs
        );
    }
    // A scan would read every item of the table; moto pages a scan in time that grows
    // with the table for each page, so it is stated, not run.
    println!("for contrast, a scan reads all {items} items of the table");
}
