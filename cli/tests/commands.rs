//! Every `leave-sync` subcommand against moto and the Feishu simulator.

use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use leave_sync::commands::{
    calendar, doctor, ledger, reconcile, redrive, reindex, send_event, status, subscribe,
};
use leave_sync::deployment::Deployment;
use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::{TestStack, drain};
use leave_sync_tests::moto;
use leave_sync_tests::sim::api::*;
use leave_sync_tests::sim::{Fault, FaultKind, FeishuSim, SimConfig};

/// The variables a deployment would set, pointing at `sim`.
fn feishu_env(sim: &FeishuSim) -> HashMap<String, String> {
    [
        ("FEISHU_APP_ID", sim.config().app_id.clone()),
        ("FEISHU_APP_SECRET", sim.config().app_secret.clone()),
        ("FEISHU_BASE_URL", sim.url()),
        ("FEISHU_VERIFICATION_TOKEN", events::TOKEN.to_owned()),
        ("FEISHU_ENCRYPT_KEY", "demo-encrypt-key".to_owned()),
        ("CUSTOM_APPROVAL_CODES", events::CUSTOM_FORM.to_owned()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect()
}

fn text(out: Vec<u8>) -> String {
    String::from_utf8(out).unwrap()
}

#[tokio::test]
async fn reindex_lists_leave_synced_before_the_index_existed() {
    let pipeline = TestStack::start().await;
    let synced = LeaveSpec::day("INST-CLI-OLD", "zhangwei");
    pipeline.approve(&synced).await.assert_done();
    let revoked = LeaveSpec::day("INST-CLI-GONE", "lina");
    pipeline.approve(&revoked).await.assert_done();
    pipeline.revoke(&revoked).await.assert_done();
    // As a release before the team view left it: synced, not in the index.
    let ddb = aws_sdk_dynamodb::Client::new(&pipeline.aws);
    let entry = format!("out#{}#INST-CLI-OLD#2026-12", events::TENANT);
    ddb.delete_item()
        .table_name(&pipeline.table)
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S(entry))
        .send()
        .await
        .unwrap();
    let (first, last) = (
        jiff::civil::date(2026, 12, 1),
        jiff::civil::date(2026, 12, 2),
    );
    let before = pipeline
        .ledger
        .out_between(events::TENANT, first, last)
        .await;
    assert!(before.unwrap().leaves.is_empty());

    let vars = HashMap::from([("TABLE_NAME".to_owned(), pipeline.table.clone())]);
    let deployment = Deployment::isolated(pipeline.aws.clone(), vars);
    let mut out = Vec::new();
    assert_eq!(
        reindex::run(&deployment, &mut out).await.unwrap(),
        1,
        "the revoked one is not"
    );
    let after = pipeline
        .ledger
        .out_between(events::TENANT, first, last)
        .await;
    let codes: Vec<String> = after
        .unwrap()
        .leaves
        .into_iter()
        .map(|o| o.instance_code)
        .collect();
    assert_eq!(codes, ["INST-CLI-OLD"]);
    assert!(text(out).contains("1 synced leave(s) listed"));
}

#[tokio::test]
async fn calendar_init_creates_a_public_calendar_shares_it_and_says_what_to_set() {
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let deployment = Deployment::isolated(moto::aws().await, feishu_env(&sim));
    let args = calendar::InitArgs {
        name: "团队请假".into(),
        share_with: vec!["ou_lina".into(), "ou_nobody".into()],
    };
    let mut out = Vec::new();
    let all_shared = calendar::init(&deployment, &args, &mut out).await.unwrap();
    assert!(!all_shared, "one reader could not be added");
    let s = sim.snapshot();
    assert_eq!(s.created_calendars.len(), 1);
    let id = &s.created_calendars[0];
    assert_eq!(
        s.calendar_acls,
        [(id.clone(), "ou_lina".to_owned(), "reader".to_owned())]
    );
    let out = text(out);
    assert!(out.contains(&format!("TEAM_CALENDAR_ID={id}")), "{out}");
    assert!(out.contains("✗ ou_nobody"), "{out}");
}

#[tokio::test]
async fn subscribe_counts_already_subscribed_as_success() {
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let deployment = Deployment::isolated(moto::aws().await, feishu_env(&sim));
    let args = subscribe::Args {
        approval_codes: vec![events::LEAVE_FORM.into(), events::CUSTOM_FORM.into()],
    };
    let mut out = Vec::new();
    assert!(subscribe::run(&deployment, &args, &mut out).await.unwrap());
    assert!(
        subscribe::run(&deployment, &args, &mut out).await.unwrap(),
        "second run: already subscribed"
    );
    let out = text(out);
    assert!(
        out.contains(&format!("✓ {}: subscribed", events::LEAVE_FORM)),
        "{out}"
    );
    assert!(
        out.contains(&format!("✓ {}: already subscribed", events::CUSTOM_FORM)),
        "{out}"
    );
    assert_eq!(sim.snapshot().subscriptions.len(), 2);

    let mut out = Vec::new();
    let bad = subscribe::Args {
        approval_codes: vec!["NOT-A-FORM".into()],
    };
    assert!(!subscribe::run(&deployment, &bad, &mut out).await.unwrap());
    assert!(text(out).contains("copy it from the approval admin console"));
}

async fn provisioned(sim: &FeishuSim) -> (Deployment, String, String, String) {
    let aws = moto::aws().await;
    let mut vars = feishu_env(sim);
    let (queue, dlq) =
        shared::queue::ensure_queues(&aws_sdk_sqs::Client::new(&aws), &moto::unique("cli"))
            .await
            .unwrap();
    let table = moto::unique("cli-ledger");
    shared::ledger::Ledger::create_table(&aws_sdk_dynamodb::Client::new(&aws), &table)
        .await
        .unwrap();
    vars.insert("QUEUE_URL".into(), queue.clone());
    vars.insert("TABLE_NAME".into(), table.clone());
    (Deployment::isolated(aws, vars), queue, dlq, table)
}

#[tokio::test]
async fn doctor_passes_on_a_complete_setup_and_names_the_fix_for_each_failure() {
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let (mut deployment, ..) = provisioned(&sim).await;
    let mut out = Vec::new();
    let ok = doctor::run(&mut deployment, &mut out).await;
    let report = text(out);
    assert!(ok, "{report}");
    for line in [
        "✓ ingress settings",
        "✓ processor settings",
        "✓ tenant_access_token",
        "✓ queue",
        "✓ dead-letter queue",
        "✓ attendance write",
        "✓ time-off events",
        "✓ messages",
        "✓ approval instances",
        "all checks passed",
    ] {
        assert!(report.contains(line), "missing {line:?} in\n{report}");
    }
    assert!(
        sim.snapshot().writes.is_empty(),
        "the probes change nothing: {:?}",
        sim.snapshot().writes
    );

    sim.inject(Fault::new(
        TIMEOFF_DELETE,
        FaultKind::Answer {
            status: 400,
            code: 99991672,
            msg: "Access denied. One of the following scopes is required: [calendar:timeoff]"
                .into(),
        },
    ));
    let mut out = Vec::new();
    assert!(!doctor::run(&mut deployment, &mut out).await);
    let report = text(out);
    assert!(
        report.contains("✗ time-off events (calendar:timeoff)"),
        "{report}"
    );
    assert!(report.contains("fix: enable calendar:timeoff"), "{report}");
    assert!(report.contains("1 check(s) failed"), "{report}");
}

#[tokio::test]
async fn doctor_reports_missing_settings_and_wrong_credentials() {
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let (_, queue, _, table) = provisioned(&sim).await;
    let mut vars = feishu_env(&sim);
    vars.remove("FEISHU_VERIFICATION_TOKEN");
    vars.insert("FEISHU_APP_SECRET".into(), "wrong".into());
    vars.insert("QUEUE_URL".into(), queue);
    vars.insert("TABLE_NAME".into(), table);
    let mut deployment = Deployment::isolated(moto::aws().await, vars);
    let mut out = Vec::new();
    assert!(!doctor::run(&mut deployment, &mut out).await);
    let report = text(out);
    assert!(
        report.contains("✗ ingress settings: FEISHU_VERIFICATION_TOKEN is not set"),
        "{report}"
    );
    assert!(
        report.contains("✗ tenant_access_token")
            && report.contains("copy App ID and App Secret again"),
        "{report}"
    );
}

#[tokio::test]
async fn redrive_lists_then_moves_dead_letters_marked_for_retry() {
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let (deployment, queue, dlq, _) = provisioned(&sim).await;
    let dead = shared::queue::Queue::new(deployment.sqs().clone(), dlq.clone());
    for i in 0..3 {
        let attrs = HashMap::from([
            ("event_type".to_owned(), "leave_approval".to_owned()),
            ("event_id".to_owned(), format!("ev-{i}")),
        ]);
        dead.dead_letter(&format!("body-{i}"), attrs, "attendance: code 1220004")
            .await
            .unwrap();
    }
    let mut out = Vec::new();
    let listed = redrive::run(
        &deployment,
        &redrive::Args {
            dry_run: true,
            max: 100,
            ..Default::default()
        },
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(listed, 3);
    assert!(text(out).contains("would move leave_approval ev-0 — attendance: code 1220004"));
    assert!(
        drain(deployment.sqs(), &queue).await.is_empty(),
        "dry run moves nothing"
    );

    let mut out = Vec::new();
    assert_eq!(
        redrive::run(
            &deployment,
            &redrive::Args {
                dry_run: false,
                max: 100,
                ..Default::default()
            },
            &mut out
        )
        .await
        .unwrap(),
        3
    );
    let moved = drain(deployment.sqs(), &queue).await;
    assert_eq!(moved.len(), 3);
    for (body, attrs) in &moved {
        assert!(body.starts_with("body-"));
        assert_eq!(attrs["redrive"], "true");
        assert!(!attrs.contains_key("failure_reason"));
        assert!(attrs["event_id"].starts_with("ev-"));
    }
    assert!(drain(deployment.sqs(), &dlq).await.is_empty());
}

#[tokio::test]
async fn status_shows_depths_and_waits_for_a_drain() {
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let (deployment, queue, ..) = provisioned(&sim).await;
    let q = shared::queue::Queue::new(deployment.sqs().clone(), queue.clone());
    q.send("pending".into(), HashMap::new()).await.unwrap();
    let mut out = Vec::new();
    assert!(
        status::run(&deployment, &status::Args { wait: None }, &mut out)
            .await
            .unwrap()
    );
    assert!(text(out).contains("queue             1 waiting, 0 in flight"));
    let mut out = Vec::new();
    let started = Instant::now();
    assert!(
        !status::run(&deployment, &status::Args { wait: Some(1) }, &mut out)
            .await
            .unwrap(),
        "not drained"
    );
    assert!(started.elapsed() >= Duration::from_secs(1));
    drain(deployment.sqs(), &queue).await;
    let mut out = Vec::new();
    assert!(
        status::run(&deployment, &status::Args { wait: Some(5) }, &mut out)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn ledger_shows_what_was_done_for_an_instance() {
    let pipeline = TestStack::start().await;
    let spec = LeaveSpec::day("INST-CLI", "zhangwei");
    assert!(
        pipeline
            .invoke(&[pipeline.msg(&events::leave_v2(&spec, "ev"))])
            .await
            .is_empty()
    );
    let vars = HashMap::from([("TABLE_NAME".to_owned(), pipeline.table.clone())]);
    let deployment = Deployment::isolated(pipeline.aws.clone(), vars);
    let mut out = Vec::new();
    let n = ledger::run(
        &deployment,
        &ledger::Args {
            instance_codes: vec!["INST-CLI".into()],
            limit: 10,
            attention: false,
        },
        &mut out,
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let out = text(out);
    assert!(out.starts_with("INST-CLI  SYNCED"), "{out}");
    assert!(
        out.contains("年假 · Annual leave for u_zhangwei (2026-12-01 → 2026-12-02)"),
        "{out}"
    );
    assert!(
        out.contains(&pipeline.sim.snapshot().attendance[0].approval_id),
        "{out}"
    );
}

#[tokio::test]
async fn an_unknown_time_off_outcome_is_listed_then_resolved_for_its_instance_only() {
    let pipeline = TestStack::start().await;
    pipeline
        .sim
        .inject(Fault::new(TIMEOFF_CREATE, FaultKind::CommitThenFail));
    let unknown = LeaveSpec::day("INST-CLI-UNKNOWN", "zhangwei");
    pipeline.approve(&unknown).await.assert_done();
    pipeline
        .approve(&LeaveSpec::day("INST-CLI-GHOST", "ghost"))
        .await
        .assert_done();
    pipeline
        .approve(&LeaveSpec::day("INST-CLI-FINE", "lina"))
        .await
        .assert_done();
    let vars = HashMap::from([
        ("TABLE_NAME".to_owned(), pipeline.table.clone()),
        ("QUEUE_URL".to_owned(), pipeline.queue_url.clone()),
        ("DEAD_LETTER_QUEUE_URL".to_owned(), pipeline.dlq_url.clone()),
    ]);
    let deployment = Deployment::isolated(pipeline.aws.clone(), vars);
    let attention = || ledger::Args {
        instance_codes: vec![],
        limit: 10,
        attention: true,
    };

    let mut out = Vec::new();
    assert_eq!(
        ledger::run(&deployment, &attention(), &mut out)
            .await
            .unwrap(),
        2
    );
    let listed = text(out);
    assert!(listed.contains("INST-CLI-UNKNOWN  FAILED"), "{listed}");
    assert!(listed.contains("outcome unknown"), "{listed}");
    assert!(listed.contains("timeoff_outcome_unknown"), "{listed}");
    assert!(listed.contains("INST-CLI-GHOST  FAILED"), "{listed}");
    assert!(!listed.contains("INST-CLI-FINE"), "{listed}");

    // A plain redrive leaves the unknown outcome alone: it waits for a decision.
    let mut out = Vec::new();
    let plain = redrive::Args {
        max: 100,
        ..Default::default()
    };
    assert_eq!(
        redrive::run(&deployment, &plain, &mut out).await.unwrap(),
        1,
        "the ghost only"
    );
    let said = text(out);
    assert!(said.contains("left leave_approval"), "{said}");
    assert!(said.contains("--timeoff-missing"), "{said}");
    let ghost = drain(deployment.sqs(), &pipeline.queue_url).await;
    assert_eq!(ghost.len(), 1);

    // The employee's calendar shows the entry: the finding for that instance, then it moves.
    let args = redrive::Args {
        max: 100,
        instance: Some("INST-CLI-UNKNOWN".into()),
        timeoff_exists: true,
        ..Default::default()
    };
    let moved = redrive::run(&deployment, &args, &mut Vec::new())
        .await
        .unwrap();
    assert_eq!(moved, 1);
    let poller = pipeline.poller(Duration::from_secs(30));
    poller.process(poller.receive(1).await.unwrap()).await;

    let s = pipeline.sim.snapshot();
    assert_eq!(
        s.timeoff_events.len(),
        2,
        "one each for UNKNOWN and FINE, none again"
    );
    let r = pipeline.record("INST-CLI-UNKNOWN").await.unwrap();
    assert_eq!(r.state, shared::ledger::State::Synced);
    let mut out = Vec::new();
    assert_eq!(
        ledger::run(&deployment, &attention(), &mut out)
            .await
            .unwrap(),
        1
    );
    assert!(text(out).starts_with("INST-CLI-GHOST"));
    assert!(drain(deployment.sqs(), &pipeline.dlq_url).await.is_empty());
}

#[tokio::test]
async fn a_cancelled_leave_in_force_is_listed_for_attention_until_revoked() {
    let pipeline = TestStack::start().await;
    let original = LeaveSpec::half_day("INST-CLI-ORIGINAL", "lina");
    pipeline.approve(&original).await.assert_done();
    let cancel = LeaveSpec::half_day("INST-CLI-CANCEL", "lina");
    let v2 = events::cancellation_v2("INST-CLI-CANCEL", "INST-CLI-ORIGINAL", &cancel, "cancel-v2");
    pipeline.deliver(&v2).await.assert_done();
    let vars = HashMap::from([("TABLE_NAME".to_owned(), pipeline.table.clone())]);
    let deployment = Deployment::isolated(pipeline.aws.clone(), vars);
    let attention = ledger::Args {
        instance_codes: vec![],
        limit: 10,
        attention: true,
    };

    let mut out = Vec::new();
    assert_eq!(
        ledger::run(&deployment, &attention, &mut out)
            .await
            .unwrap(),
        1
    );
    let listed = text(out);
    assert!(listed.starts_with("INST-CLI-ORIGINAL  SYNCED"), "{listed}");
    assert!(
        listed.contains("by INST-CLI-CANCEL: 2026-12-07"),
        "{listed}"
    );

    // Once the original is revoked, there is nothing left to correct.
    pipeline.revoke(&original).await.assert_done();
    let mut out = Vec::new();
    assert_eq!(
        ledger::run(&deployment, &attention, &mut out)
            .await
            .unwrap(),
        0
    );
}

#[tokio::test]
async fn reconcile_reports_and_queues_what_the_events_never_brought() {
    let pipeline = TestStack::start().await;
    let now = jiff::Timestamp::now().as_millisecond();
    let lost = LeaveSpec::day("INST-CLI-LOST", "zhaolei");
    pipeline.sim.put_instance(events::native_instance(
        &lost,
        "APPROVED",
        now - 30 * 3_600_000,
        now - 29 * 3_600_000,
    ));
    let mut vars = feishu_env(&pipeline.sim);
    vars.extend(
        [
            ("TABLE_NAME", pipeline.table.as_str()),
            ("QUEUE_URL", pipeline.queue_url.as_str()),
            ("LEAVE_APPROVAL_CODES", events::LEAVE_FORM),
            ("RECONCILE_BACKFILL", "2d"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    let deployment = Deployment::isolated(pipeline.aws.clone(), vars);

    let dry = reconcile::Args {
        dry_run: true,
        ..Default::default()
    };
    let mut out = Vec::new();
    let (report, ok) = reconcile::run(&deployment, &dry, &mut out).await.unwrap();
    assert!(ok, "{report}");
    let said = text(out);
    assert!(
        said.contains("would queue 1 to sync and 0 to revoke"),
        "{said}"
    );
    assert!(said.contains("sync   INST-CLI-LOST"), "{said}");
    assert_eq!(
        pipeline.depth(&pipeline.queue_url).await.0,
        0,
        "nothing queued"
    );

    let mut out = Vec::new();
    let (_, ok) = reconcile::run(&deployment, &Default::default(), &mut out)
        .await
        .unwrap();
    assert!(ok);
    assert!(text(out).contains("queued 1 to sync"));
    assert_eq!(pipeline.depth(&pipeline.queue_url).await.0, 1);

    // Without a form to reconcile, it says which settings to set.
    let mut vars = feishu_env(&pipeline.sim);
    vars.remove("CUSTOM_APPROVAL_CODES");
    vars.insert("TABLE_NAME".into(), pipeline.table.clone());
    vars.insert("QUEUE_URL".into(), pipeline.queue_url.clone());
    let none = Deployment::isolated(pipeline.aws.clone(), vars);
    let err = reconcile::run(&none, &Default::default(), &mut Vec::new())
        .await
        .err()
        .unwrap();
    assert!(err.to_string().contains("LEAVE_APPROVAL_CODES"), "{err}");
}

/// `dev --reconcile-every`: the schedule's stand-in runs at start, and the approval whose
/// events never arrived is synced by the pipeline.
#[tokio::test]
async fn dev_runs_the_reconciler_on_its_schedule() {
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let now = jiff::Timestamp::now().as_millisecond();
    let lost = LeaveSpec::day("INST-DEV-LOST", "zhangwei");
    sim.put_instance(events::native_instance(
        &lost,
        "APPROVED",
        now - 30 * 3_600_000,
        now - 29 * 3_600_000,
    ));
    let (deployment, ..) = provisioned(&sim).await;
    let mut dev = DevProcess::start_with(
        &deployment,
        &sim,
        &["--reconcile-every", "1h"],
        &[
            ("LEAVE_APPROVAL_CODES", events::LEAVE_FORM),
            ("RECONCILE_BACKFILL", "2d"),
        ],
    )
    .await;
    dev.wait_for(|s| s.messages.len() == 1, &sim).await;
    let s = sim.snapshot();
    assert_eq!(s.attendance.len(), 1);
    assert_eq!(s.attendance[0].user_id, "u_zhangwei");
    dev.stop().await;
}

#[tokio::test]
async fn send_event_signs_and_encrypts_what_the_ingress_accepts() {
    // The in-process ingress of the harness decrypts nothing; use the real dev server.
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let (deployment, queue, ..) = provisioned(&sim).await;
    let mut dev = DevProcess::start(&deployment, &sim).await;
    let url = format!("{}/webhook/event", dev.base);
    // The V2 event: a leave_approval alone would wait for its twin.
    let day = moto::workspace_root().join("infra/events/leave_approvalV2.day.json");
    let mut out = Vec::new();
    let args = send_event::Args {
        file: day,
        url: url.clone(),
        plain: false,
    };
    assert!(
        send_event::run(&deployment, &args, &mut out).await.unwrap(),
        "{}",
        text(out)
    );
    // With the wrong key the ingress refuses it (signature) and nothing is queued.
    let mut wrong = feishu_env(&sim);
    wrong.insert("FEISHU_ENCRYPT_KEY".into(), "not-the-key".into());
    let wrong = Deployment::isolated(moto::aws().await, wrong);
    let mut out = Vec::new();
    assert!(!send_event::run(&wrong, &args, &mut out).await.unwrap());
    assert!(text(out).contains("HTTP 401"));
    dev.wait_for(|s| s.messages.len() == 1, &sim).await;
    assert_eq!(status::depth(&deployment, &queue).await.unwrap().waiting, 0);
    dev.stop().await;
}

/// `leave-sync dev` as a subprocess on a free port, with the stack's settings.
struct DevProcess {
    child: Child,
    base: String,
    log: std::path::PathBuf,
}

impl DevProcess {
    async fn start(deployment: &Deployment, sim: &FeishuSim) -> Self {
        Self::start_with(deployment, sim, &[], &[]).await
    }

    async fn start_with(
        deployment: &Deployment,
        sim: &FeishuSim,
        args: &[&str],
        env: &[(&str, &str)],
    ) -> Self {
        let port = moto::free_port();
        let log = moto::workspace_root().join(format!("target/test-logs/dev-{port}.log"));
        std::fs::create_dir_all(log.parent().unwrap()).unwrap();
        let log_file = std::fs::File::create(&log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_leave-sync"));
        cmd.args(["dev", "--port", &port.to_string()])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ENDPOINT_URL", moto::endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("RUST_LOG", "debug,aws=info,hyper=info,h2=info,rustls=info")
            // A leave_approval's first wait for its twin, short.
            .env("TWIN_WAIT_SECS", "1")
            .stdout(Stdio::null())
            .stderr(log_file);
        for (k, v) in feishu_env(sim) {
            cmd.env(k, v);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        for k in ["QUEUE_URL", "TABLE_NAME"] {
            if let Some(v) = deployment.var(k) {
                cmd.env(k, v);
            }
        }
        let child = cmd.spawn().expect("spawn leave-sync dev");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while reqwest_ok(&format!("{base}/healthz")).await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "leave-sync dev did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Self { child, base, log }
    }

    async fn wait_for(
        &self,
        done: impl Fn(&leave_sync_tests::sim::Snapshot) -> bool,
        sim: &FeishuSim,
    ) {
        let started = Instant::now();
        while !done(&sim.snapshot()) {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "not processed: {:?}",
                sim.snapshot().writes
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGTERM, then the exit status must be success within a few seconds. Async: the
    /// simulator runs on this test's runtime and must keep answering while dev finishes
    /// its batch.
    async fn stop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                assert!(
                    status.success(),
                    "dev exited with {status}; its log: {}",
                    self.log.display()
                );
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "dev did not shut down on SIGTERM; its log: {}",
                self.log.display()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for DevProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn reqwest_ok(url: &str) -> Result<(), ()> {
    shared::aws::install_crypto_provider();
    reqwest::get(url)
        .await
        .map_err(|_| ())?
        .error_for_status()
        .map(|_| ())
        .map_err(|_| ())
}

#[tokio::test]
async fn dev_runs_the_whole_pipeline_and_creates_what_is_missing() {
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let aws = moto::aws().await;
    // No queue or table yet: dev creates them (the table under the given name).
    let table = moto::unique("dev-ledger");
    let mut vars = feishu_env(&sim);
    vars.insert("TABLE_NAME".into(), table.clone());
    let deployment = Deployment::isolated(aws.clone(), vars);
    let mut dev = DevProcess::start(&deployment, &sim).await;
    let described = aws_sdk_dynamodb::Client::new(&aws)
        .describe_table()
        .table_name(&table)
        .send()
        .await
        .unwrap();
    assert_eq!(
        described.table().unwrap().key_schema()[0].attribute_name(),
        "pk"
    );

    let url = format!("{}/webhook/event", dev.base);
    for file in [
        "leave_approval.half_day.json",
        "leave_approvalV2.half_day.json",
        "leave_approval.half_day.json",
        "leave_approvalV2.hour.json",
    ] {
        let args = send_event::Args {
            file: moto::workspace_root().join("infra/events").join(file),
            url: url.clone(),
            plain: false,
        };
        assert!(
            send_event::run(&deployment, &args, &mut Vec::new())
                .await
                .unwrap(),
            "{file}"
        );
    }
    dev.wait_for(|s| s.attendance.len() == 2 && s.messages.len() == 2, &sim)
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let s = sim.snapshot();
    assert_eq!(
        (
            s.writes[ATTENDANCE_CREATE],
            s.writes[TIMEOFF_CREATE],
            s.writes[MESSAGE_SEND]
        ),
        (2, 2, 2)
    );
    let resp = reqwest::Client::new()
        .get(format!("{}/nope", dev.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 404);
    dev.stop().await;
}
