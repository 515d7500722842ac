//! Keeping the promise under faults: many approvals (with their twins and redeliveries) and
//! revokes through a real queue on moto, while the simulator injects 5xx, rate limits,
//! refused tokens, slow and lost answers, while processor runs are cut off between steps,
//! and through a Feishu outage. At the end every leave is synced exactly once, every revoke
//! applied exactly once, nothing is left in flight, and the DLQ holds only what was meant
//! to fail.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::{StackOptions, TestStack};
use leave_sync_tests::sim::api::*;
use leave_sync_tests::sim::{Fault, FaultKind, SimConfig, Snapshot};
use serde_json::Value;
use shared::ledger::State;
use shared::processor::backoff::RetrySchedule;

/// A small deterministic PRNG (xorshift), so a failing run can be replayed from its seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next() % items.len() as u64) as usize]
    }
}

/// The fault tests' invocations last 1.5 to 3 s: calls time out well within that, so a
/// create without an idempotency key (which starts only with its whole timeout left) can
/// run in every invocation.
fn fault_retry_policy() -> shared::feishu::RetryPolicy {
    shared::feishu::RetryPolicy {
        request_timeout: Duration::from_millis(700),
        ..leave_sync_tests::harness::test_retry_policy()
    }
}

fn seed() -> u64 {
    std::env::var("FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| jiff::Timestamp::now().as_nanosecond() as u64 | 1)
}

fn spec(i: usize) -> LeaveSpec {
    let instance = format!("FS-{i:03}");
    let user = format!("load{i:04}");
    match i % 3 {
        0 => LeaveSpec::day(&instance, &user),
        1 => LeaveSpec::half_day(&instance, &user),
        _ => LeaveSpec::hour(&instance, &user),
    }
}

/// Approvals with their V2 twins; every third one delivered twice more.
fn approvals(n: usize) -> Vec<Value> {
    let mut out = Vec::new();
    for i in 0..n {
        let s = spec(i);
        out.push(events::leave_v1(&s, &format!("v1-{i}")));
        out.push(events::leave_v2(&s, &format!("v2-{i}")));
        if i % 3 == 0 {
            out.push(events::leave_v1(&s, &format!("v1-{i}")));
        }
    }
    out
}

/// Runs `pollers` emulated event sources until the queue has been empty for a while.
async fn drain(stack: &TestStack, pollers: usize, timeout: Duration, budget: Duration) {
    let done = Arc::new(AtomicBool::new(false));
    let mut tasks = Vec::new();
    for _ in 0..pollers {
        let poller = stack.poller(timeout);
        let done = done.clone();
        tasks.push(tokio::spawn(async move {
            while !done.load(Ordering::Relaxed) {
                if let Ok(msgs) = poller.receive(1).await
                    && !msgs.is_empty()
                {
                    poller.process(msgs).await;
                }
            }
        }));
    }
    wait_until_empty(stack, budget).await;
    done.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
}

async fn wait_until_empty(stack: &TestStack, budget: Duration) {
    let started = Instant::now();
    let mut empty_since: Option<Instant> = None;
    loop {
        let (waiting, in_flight) = stack.depth(&stack.queue_url).await;
        if waiting + in_flight == 0 {
            // Empty across two polls a second apart: nothing is coming back.
            if empty_since.is_some_and(|t| t.elapsed() > Duration::from_millis(1200)) {
                return;
            }
            empty_since.get_or_insert_with(Instant::now);
        } else {
            empty_since = None;
        }
        assert!(
            started.elapsed() < budget,
            "queue not drained after {budget:?}: {waiting} waiting, {in_flight} in flight"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// What the README asks of an operator once the queue is drained: every dead letter
/// parked for an unknown time-off outcome is looked at (the employee's badge) and
/// redriven, until none is left. Returns the other dead letters and how many messages
/// were redriven.
async fn operate(stack: &TestStack) -> (Vec<(String, HashMap<String, String>)>, usize) {
    let (mut others, mut redriven) = (Vec::new(), 0);
    loop {
        let (dead, n) = stack.resolve_unknown_timeoffs().await;
        others.extend(dead);
        if n == 0 {
            return (others, redriven);
        }
        redriven += n;
        drain(stack, 2, Duration::from_secs(3), Duration::from_secs(60)).await;
    }
}

/// Keeps a few random faults pending (each used up by one call) until stopped. Bounded, so
/// that faults on rarely called APIs do not pile up into an outage.
fn chaos(stack: &TestStack, seed: u64, kinds: Vec<(&'static str, FaultKind)>) -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let (sim, flag) = (stack.sim.clone(), stop.clone());
    tokio::spawn(async move {
        let mut rng = Rng(seed);
        while !flag.load(Ordering::Relaxed) {
            if sim.pending_faults() < 6 {
                let (api, kind) = rng.pick(&kinds).clone();
                sim.inject(Fault::new(api, kind));
            }
            tokio::time::sleep(Duration::from_millis(5 + rng.next() % 10)).await;
        }
        sim.clear_faults();
    });
    stop
}

/// What Feishu holds for approval `i`: its attendance records and its employee's
/// time-off events.
fn written_for(
    s: &Snapshot,
    i: usize,
) -> (
    Vec<&leave_sync_tests::sim::AttendanceRecord>,
    Vec<&leave_sync_tests::sim::TimeoffRecord>,
) {
    let instance = format!("FS-{i:03}");
    let open_id = format!("ou_load{i:04}");
    (
        s.attendance
            .iter()
            .filter(|a| a.leave["idempotent_id"] == instance.as_str())
            .collect(),
        s.timeoff_events
            .iter()
            .filter(|t| t.open_id == open_id)
            .collect(),
    )
}

/// What each instance must look like in Feishu: synced once, or synced and revoked once.
/// `unrecorded`: instances whose time-off create had an unknown outcome and whose badge an
/// operator confirmed; a revoke cannot delete that event (README, Guarantees).
fn assert_exactly_once(
    s: &Snapshot,
    synced: &[usize],
    revoked: &[usize],
    unrecorded: &BTreeSet<usize>,
) {
    for (&i, is_revoked) in synced
        .iter()
        .map(|i| (i, false))
        .chain(revoked.iter().map(|i| (i, true)))
    {
        let instance = format!("FS-{i:03}");
        let open_id = format!("ou_load{i:04}");
        let (att, off) = written_for(s, i);
        assert_eq!(att.len(), 1, "{instance}: attendance records {att:?}");
        assert_eq!(att[0].status, if is_revoked { 4 } else { 2 }, "{instance}");
        assert_eq!(off.len(), 1, "{instance}: time-off events {off:?}");
        let deletable = is_revoked && !unrecorded.contains(&i);
        assert_eq!(off[0].deleted, deletable, "{instance}");
        let msgs = s
            .messages
            .iter()
            .filter(|m| m.open_id.as_deref() == Some(open_id.as_str()))
            .count();
        assert_eq!(msgs, if is_revoked { 2 } else { 1 }, "{instance}: messages");
    }
}

fn cards(s: &Snapshot, open_id: &str, title: &str) -> usize {
    s.messages
        .iter()
        .filter(|m| m.open_id.as_deref() == Some(open_id) && m.content.to_string().contains(title))
        .count()
}

/// A revoke may overtake a sync that was cut off midway: then only what was written is
/// undone. Either way nothing is written twice and nothing is left behind.
fn assert_undone_once(s: &Snapshot, revoked: &[usize]) {
    for &i in revoked {
        let instance = format!("FS-{i:03}");
        let open_id = format!("ou_load{i:04}");
        let (att, off) = written_for(s, i);
        assert!(
            att.len() <= 1 && att.iter().all(|a| a.status == 4),
            "{instance}: {att:?}"
        );
        assert!(
            off.len() <= 1 && off.iter().all(|t| t.deleted),
            "{instance}: {off:?}"
        );
        assert!(cards(s, &open_id, "Leave synced") <= 1, "{instance}");
        let wrote_something = !att.is_empty() || !off.is_empty();
        assert_eq!(
            cards(s, &open_id, "Leave withdrawn"),
            usize::from(wrote_something),
            "{instance}"
        );
    }
}

/// Instances whose time-off event exists with its id lost (an operator confirmed it).
async fn unrecorded_timeoffs(stack: &TestStack, n: usize) -> BTreeSet<usize> {
    let mut out = BTreeSet::new();
    for i in 0..n {
        if stack
            .record(&format!("FS-{i:03}"))
            .await
            .is_some_and(|r| r.timeoff_unrecorded > 0)
        {
            out.insert(i);
        }
    }
    out
}

async fn assert_ledger_settled(stack: &TestStack, synced: &[usize], revoked: &[usize]) {
    for (&i, want) in synced
        .iter()
        .map(|i| (i, State::Synced))
        .chain(revoked.iter().map(|i| (i, State::Revoked)))
    {
        let r = stack
            .record(&format!("FS-{i:03}"))
            .await
            .expect("a ledger item");
        assert_eq!(r.state, want, "FS-{i:03}: {r:?}");
        assert!(r.lease_owner.is_none(), "FS-{i:03} still leased");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_approvals_and_revokes_under_random_faults_are_applied_exactly_once() {
    let seed = seed();
    eprintln!("FAULT_SEED={seed}");
    let n = 24;
    let stack = TestStack::with(StackOptions {
        sim: SimConfig::default().with_load_users(n),
        retry: fault_retry_policy(),
        ..StackOptions::default()
    })
    .await;
    stack.fast_queue(Duration::from_secs(4), 10).await;

    // Faults that leave Feishu unchanged, or change it in ways the service recovers from:
    // lost answers where Feishu offers a guard (idempotent_id, uuid, status checks), and on
    // the time-off create, which has none: those are parked for an operator.
    let kinds = vec![
        (ATTENDANCE_CREATE, FaultKind::Unavailable),
        (ATTENDANCE_CREATE, FaultKind::RateLimited { reset_secs: 1 }),
        (ATTENDANCE_CREATE, FaultKind::CommitThenFail),
        (ATTENDANCE_CREATE, FaultKind::Slow { ms: 150 }),
        (ATTENDANCE_QUERY, FaultKind::Internal),
        (ATTENDANCE_PROCESS, FaultKind::CommitThenFail),
        (ATTENDANCE_PROCESS, FaultKind::Internal),
        (TIMEOFF_CREATE, FaultKind::Unavailable),
        (TIMEOFF_CREATE, FaultKind::InvalidToken { in_200: true }),
        (TIMEOFF_CREATE, FaultKind::CommitThenFail),
        (TIMEOFF_CREATE, FaultKind::Slow { ms: 150 }),
        (TIMEOFF_DELETE, FaultKind::CommitThenFail),
        (TIMEOFF_DELETE, FaultKind::RateLimited { reset_secs: 1 }),
        (MESSAGE_SEND, FaultKind::CommitThenFail),
        (MESSAGE_SEND, FaultKind::InvalidToken { in_200: false }),
        (MESSAGE_SEND, FaultKind::Slow { ms: 100 }),
        (TOKEN, FaultKind::Unavailable),
    ];

    // Two approvals that must fail, each with its twin: the applicant is not in the tenant.
    let mut bodies = approvals(n);
    for g in 0..2 {
        let ghost = LeaveSpec::day(&format!("GHOST-{g}"), "ghost");
        bodies.push(events::leave_v1(&ghost, &format!("ghost-{g}-v1")));
        bodies.push(events::leave_v2(&ghost, &format!("ghost-{g}-v2")));
    }
    stack.enqueue(&bodies).await;
    let stop = chaos(&stack, seed, kinds.clone());
    drain(&stack, 3, Duration::from_secs(3), Duration::from_secs(120)).await;
    stop.store(true, Ordering::Relaxed);
    let (mut dead, parked) = operate(&stack).await;
    eprintln!("{parked} messages parked for an unknown time-off outcome and redriven");

    let all: Vec<usize> = (0..n).collect();
    for &i in &all {
        let r = stack.record(&format!("FS-{i:03}")).await;
        assert!(
            r.as_ref().is_some_and(|r| r.state == State::Synced),
            "FS-{i:03}: {r:?}"
        );
    }
    let unrecorded = unrecorded_timeoffs(&stack, n).await;
    assert_exactly_once(&stack.sim.snapshot(), &all, &[], &unrecorded);

    // Revoke a third of them, again under faults, each revoke delivered twice.
    let revoked: Vec<usize> = (0..n).filter(|i| i % 3 == 1).collect();
    let kept: Vec<usize> = (0..n).filter(|i| i % 3 != 1).collect();
    let reverts: Vec<Value> = revoked
        .iter()
        .flat_map(|i| {
            let e = events::revert(&format!("FS-{i:03}"), &format!("rv-{i}"));
            [e.clone(), e]
        })
        .collect();
    stack.enqueue(&reverts).await;
    let stop = chaos(&stack, seed.rotate_left(17), kinds);
    drain(&stack, 3, Duration::from_secs(3), Duration::from_secs(120)).await;
    stop.store(true, Ordering::Relaxed);
    tokio::time::sleep(Duration::from_millis(100)).await;
    dead.extend(operate(&stack).await.0);

    let s = stack.sim.snapshot();
    assert_exactly_once(&s, &kept, &revoked, &unrecorded);
    assert_ledger_settled(&stack, &kept, &revoked).await;
    let faulty = stack.sim.calls().iter().filter(|c| c.code != 0).count();
    eprintln!(
        "{faulty} of {} Feishu answers were faults or errors",
        stack.sim.calls().len()
    );
    dead.extend(stack.dead_letters().await);
    let dead_ids: BTreeSet<String> = dead.iter().map(|(_, a)| a["event_id"].clone()).collect();
    assert_eq!(
        dead_ids,
        ["ghost-0-v1", "ghost-0-v2", "ghost-1-v1", "ghost-1-v2"]
            .map(str::to_owned)
            .into(),
        "{dead:?}"
    );
    assert!(
        dead.iter()
            .all(|(_, a)| a["failure_reason"].contains("1220004"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn processor_runs_cut_off_between_steps_leave_no_duplicates() {
    let seed = seed();
    eprintln!("FAULT_SEED={seed}");
    let n = 12;
    let stack = TestStack::with(StackOptions {
        sim: SimConfig::default().with_load_users(n),
        // One record at a time: when a run is cut off, the only call in flight is the
        // stalled one, so the cut falls between two steps.
        concurrency: 1,
        retry: fault_retry_policy(),
        ..StackOptions::default()
    })
    .await;
    stack.fast_queue(Duration::from_secs(2), 30).await;
    let mut bodies = approvals(n);
    bodies.extend(
        (0..n)
            .filter(|i| i % 2 == 0)
            .map(|i| events::revert(&format!("FS-{i:03}"), &format!("rv-{i}"))),
    );
    stack.enqueue(&bodies).await;

    // Keep a stall pending on a random API; a watcher kills the invocation as soon as the
    // stalled call is in flight, like a Lambda that dies mid-run. The lease lasts as long
    // as the invocation may (1.5 s) and the message comes back after 2 s.
    let apis = [
        ATTENDANCE_CREATE,
        TIMEOFF_CREATE,
        MESSAGE_SEND,
        ATTENDANCE_PROCESS,
        TIMEOFF_DELETE,
        ATTENDANCE_QUERY,
    ];
    let mut rng = Rng(seed);
    let mut poller = stack.poller(Duration::from_millis(1500));
    // One message per invocation: many invocations, many chances to be cut off.
    poller.batch_size = 1;
    let started = Instant::now();
    let (mut cuts, mut pending) = (0, false);
    loop {
        let msgs = poller.receive(1).await.expect("receive");
        if msgs.is_empty() {
            let (waiting, in_flight) = stack.depth(&stack.queue_url).await;
            if waiting + in_flight == 0 {
                break;
            }
            assert!(started.elapsed() < Duration::from_secs(150), "not drained");
            continue;
        }
        if !pending && !rng.next().is_multiple_of(4) {
            stack
                .sim
                .inject(Fault::new(rng.pick::<&str>(&apis), FaultKind::Stall));
            pending = true;
        }
        let stalls_before = stalls(&stack.sim);
        let sim = stack.sim.clone();
        let stalled = async move {
            while stalls(&sim) == stalls_before {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        };
        tokio::select! {
            () = poller.process(msgs) => {
                // Not reached this time: sometimes move it to another API.
                if pending && rng.next().is_multiple_of(2) {
                    stack.sim.clear_faults();
                    pending = false;
                }
            }
            () = stalled => {
                cuts += 1;
                pending = false;
            }
        }
    }
    stack.sim.clear_faults();
    eprintln!("cut off {cuts} times between steps");
    assert!(
        cuts >= 3,
        "the run should have been cut off several times (seed {seed}), was {cuts}"
    );
    // A run cut off inside the time-off create leaves its outcome unknown: parked, then
    // redriven by the operator.
    let (dead, parked) = operate(&stack).await;
    eprintln!("{parked} messages parked for an unknown time-off outcome and redriven");
    assert!(dead.is_empty(), "{dead:?}");

    let revoked: Vec<usize> = (0..n).filter(|i| i % 2 == 0).collect();
    let kept: Vec<usize> = (0..n).filter(|i| i % 2 == 1).collect();
    let s = stack.sim.snapshot();
    assert_exactly_once(&s, &kept, &[], &unrecorded_timeoffs(&stack, n).await);
    assert_undone_once(&s, &revoked);
    for &i in &revoked {
        let r = stack.record(&format!("FS-{i:03}")).await.unwrap();
        // Revoked after (part of) a sync, or before the approval came (a tombstone).
        assert!(
            matches!(r.state, State::Revoked | State::Tombstone),
            "FS-{i:03}: {r:?}"
        );
    }
    assert_ledger_settled(&stack, &kept, &[]).await;
    assert!(stack.dead_letters().await.is_empty());
}

fn stalls(sim: &leave_sync_tests::sim::FeishuSim) -> usize {
    sim.calls().iter().filter(|c| c.code == -2).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_feishu_outage_longer_than_the_retry_budget_used_to_be_drains_with_nothing_parked() {
    // Production waits 1, 2, 4, 8, 16 min then 30 min between deliveries and allows 32 of
    // them: a six-hour outage. Here the same schedule in seconds (1, 2, 4, 4, ...), and the
    // queue allows just the deliveries it takes to span the outage at the shortest waits.
    let schedule = RetrySchedule {
        first_secs: 1,
        cap_secs: 4,
    };
    let outage = Duration::from_secs(20);
    let deliveries = schedule.deliveries_to_span(outage);
    let n = 10;
    let stack = TestStack::with(StackOptions {
        sim: SimConfig::default().with_load_users(n),
        retry_schedule: schedule,
        retry: fault_retry_policy(),
        ..StackOptions::default()
    })
    .await;
    stack.fast_queue(Duration::from_secs(1), deliveries).await;
    // Feishu down: every API, the token endpoint included.
    stack
        .sim
        .inject(Fault::new("*", FaultKind::Unavailable).times(u32::MAX));
    stack.enqueue(&approvals(n)).await;

    let done = Arc::new(AtomicBool::new(false));
    let poller = stack.poller(Duration::from_secs(2));
    let flag = done.clone();
    let task = tokio::spawn(async move {
        while !flag.load(Ordering::Relaxed) {
            if let Ok(msgs) = poller.receive(1).await
                && !msgs.is_empty()
            {
                poller.process(msgs).await;
            }
        }
    });
    tokio::time::sleep(outage).await;
    let during = stack.sim.snapshot();
    assert!(
        during.writes.is_empty(),
        "nothing written during the outage"
    );
    assert!(
        during.calls.values().sum::<u32>() > 10,
        "the processor kept trying"
    );
    assert!(stack.dead_letters().await.is_empty(), "nothing given up");

    stack.sim.clear_faults();
    wait_until_empty(&stack, Duration::from_secs(60)).await;
    done.store(true, Ordering::Relaxed);
    let _ = task.await;
    eprintln!("a {outage:?} outage ridden out with maxReceiveCount {deliveries}");
    let all: Vec<usize> = (0..n).collect();
    assert_exactly_once(&stack.sim.snapshot(), &all, &[], &BTreeSet::new());
    assert!(stack.dead_letters().await.is_empty());
}
