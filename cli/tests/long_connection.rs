//! The long connection end to end: the client (`leave_sync::longconn`) against the
//! simulator's WebSocket server (written from the official SDKs, with its own codec),
//! feeding the same ingress path, queue, processor and ledger as the webhook.

use std::sync::Arc;
use std::time::Duration;

use leave_sync::longconn::{self, IngressHandler};
use leave_sync_tests::events::{self, LeaveSpec};
use leave_sync_tests::harness::TestStack;
use leave_sync_tests::sim::api::WS_ENDPOINT;
use leave_sync_tests::sim::ws::WsAck;
use leave_sync_tests::sim::{Fault, FaultKind};
use shared::config::{FeishuAppConfig, WebhookConfig};
use shared::ingress::Ingress;
use shared::queue::Queue;
use shared::secret::Secret;
use shared::webhook::Webhook;
use tokio::sync::watch;

fn app(stack: &TestStack) -> FeishuAppConfig {
    FeishuAppConfig {
        app_id: stack.sim.config().app_id.clone(),
        app_secret: Secret::new(stack.sim.config().app_secret.clone()),
        base_url: stack.sim.url(),
    }
}

fn ingress(stack: &TestStack, queue_url: &str) -> Arc<Ingress> {
    let webhook = Webhook::new(&WebhookConfig {
        verification_token: Secret::new(events::TOKEN),
        encrypt_key: None,
        max_clock_skew: None,
        custom_approval_codes: [events::CUSTOM_FORM.to_owned()].into(),
    });
    Arc::new(Ingress::new(
        webhook,
        Queue::new(stack.sqs.clone(), queue_url),
    ))
}

/// The client, running until the sender says stop; its result when it ends.
fn connect(
    stack: &TestStack,
    queue_url: &str,
) -> (
    watch::Sender<bool>,
    tokio::task::JoinHandle<Result<(), String>>,
) {
    let (stop, stopped) = watch::channel(false);
    let (app, handler) = (app(stack), IngressHandler(ingress(stack, queue_url)));
    let task = tokio::spawn(async move {
        longconn::run(&app, Arc::new(handler), stopped)
            .await
            .map_err(|e| e.to_string())
    });
    (stop, task)
}

async fn until<T>(what: &str, mut check: impl FnMut() -> Option<T>) -> T {
    for _ in 0..100 {
        if let Some(v) = check() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("timed out waiting for {what}");
}

async fn acks(stack: &TestStack, n: usize) -> Vec<WsAck> {
    until(&format!("{n} ack(s)"), || {
        let acks = stack.sim.ws().acks();
        (acks.len() >= n).then_some(acks)
    })
    .await
}

async fn connected(stack: &TestStack) {
    until("a connection", || {
        (stack.sim.ws().connections() == 1).then_some(())
    })
    .await;
}

#[tokio::test]
async fn events_whole_and_split_are_queued_acked_and_synced_once() {
    let stack = TestStack::start().await;
    let (stop, task) = connect(&stack, &stack.queue_url);
    connected(&stack).await;
    let spec = LeaveSpec::day("INST-WS-1", "zhangwei");
    let v2 = stack
        .sim
        .ws()
        .push(&events::leave_v2(&spec, "ev-ws-v2"), 1, false);
    let v1 = stack
        .sim
        .ws()
        .push(&events::leave_v1(&spec, "ev-ws-v1"), 3, false);
    let acked = acks(&stack, 2).await;
    // Handled concurrently: acks in either order, one each.
    let mut ids: Vec<&str> = acked.iter().map(|a| a.message_id.as_str()).collect();
    ids.sort_unstable();
    let mut sent = [v2.as_str(), v1.as_str()];
    sent.sort_unstable();
    assert_eq!(ids, sent, "{acked:?}");
    for ack in &acked {
        assert!(
            ack.code == 200 && ack.biz_rt && ack.data.is_none(),
            "{ack:?}"
        );
    }
    stack.drain_queue().await;
    let s = stack.sim.snapshot();
    assert_eq!(
        s.attendance.len(),
        1,
        "twins over the long connection: one record"
    );
    let _ = stop.send(true);
    assert_eq!(task.await.unwrap(), Ok(()), "a clean stop");
    let closed = || (stack.sim.ws().connections() == 0).then_some(());
    until("the socket closed", closed).await;
}

#[tokio::test]
async fn a_connection_dropped_mid_message_is_redelivered_and_synced_once() {
    let stack = TestStack::start().await;
    let (stop, _task) = connect(&stack, &stack.queue_url);
    connected(&stack).await;
    let spec = LeaveSpec::day("INST-WS-2", "lina");
    let body = events::leave_v2(&spec, "ev-ws-drop");
    let cut = stack.sim.ws().push(&body, 2, true);
    stack.sim.ws().drop_all();
    connected(&stack).await;
    // Feishu delivers what was not acked again, whole; and once more, a duplicate.
    stack.sim.ws().redeliver(&cut, 2).expect("known message");
    stack.sim.ws().redeliver(&cut, 1).expect("known message");
    let acked = acks(&stack, 2).await;
    assert!(
        acked.iter().all(|a| a.code == 200 && a.message_id != cut),
        "{acked:?}"
    );
    stack.drain_queue().await;
    assert_eq!(stack.sim.snapshot().attendance.len(), 1, "synced once");
    let _ = stop.send(true);
}

#[tokio::test]
async fn pings_follow_the_settings_the_server_pushes_in_a_pong() {
    let stack = TestStack::start().await;
    stack.sim.push_ws_config(serde_json::json!({
        "ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 1
    }));
    let (stop, _task) = connect(&stack, &stack.queue_url);
    connected(&stack).await;
    // The endpoint said 120 s; the first pong says 1 s.
    until("three pings", || {
        (stack.sim.ws().pings() >= 3).then_some(())
    })
    .await;
    let _ = stop.send(true);
}

#[tokio::test]
async fn an_event_that_cannot_be_queued_is_acked_as_failed_and_a_callback_gets_its_toast() {
    let stack = TestStack::start().await;
    let gone = format!("{}-gone", stack.queue_url);
    let (stop, _task) = connect(&stack, &gone);
    connected(&stack).await;
    let spec = LeaveSpec::day("INST-WS-3", "wangfang");
    let event = stack
        .sim
        .ws()
        .push(&events::leave_v2(&spec, "ev-ws-fail"), 1, false);
    let form = serde_json::json!({ "start": "2026-12-01 +0800", "end": "2026-12-01 +0800" });
    let submit = events::card_submit("ev-ws-card", "om_ws_card", "wangfang", form);
    let callback = stack.sim.ws().push(&submit, 1, false);
    let acked = acks(&stack, 2).await;
    let of = |id: &str| acked.iter().find(|a| a.message_id == id).cloned().unwrap();
    assert_eq!(
        of(&event).code,
        500,
        "not on the queue: Feishu delivers it again"
    );
    assert_eq!(of(&callback).code, 200, "a callback is answered");
    let toast = of(&callback).data.unwrap_or_default();
    assert!(
        toast.contains("\"toast\"") && toast.contains("error"),
        "{toast}"
    );
    let _ = stop.send(true);
}

#[tokio::test]
async fn feishu_refusing_the_connection_says_what_to_fix() {
    let stack = TestStack::start().await;
    let (stop, stopped) = watch::channel(false);
    let mut wrong = app(&stack);
    wrong.app_secret = Secret::new("not-the-secret");
    let handler: Arc<dyn longconn::Handler> =
        Arc::new(IngressHandler(ingress(&stack, &stack.queue_url)));
    let e = longconn::run(&wrong, Arc::clone(&handler), stopped.clone())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("FEISHU_APP_SECRET") && e.contains("self-built"),
        "{e}"
    );
    stack.sim.inject(Fault::new(
        WS_ENDPOINT,
        FaultKind::Answer {
            status: 200,
            code: 1_000_040_350,
            msg: "the number of connections exceeded the limit".into(),
        },
    ));
    let e = longconn::run(&app(&stack), handler, stopped)
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("50 long connections"), "{e}");
    let _ = stop.send(true);
}

/// A handler slower than Feishu waits.
struct Slow;

impl longconn::Handler for Slow {
    fn handle<'a>(
        &'a self,
        _: &'a [u8],
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = longconn::Handled> + Send + 'a>> {
        Box::pin(async {
            tokio::time::sleep(Duration::from_secs(10)).await;
            longconn::Handled {
                ok: true,
                data: None,
            }
        })
    }
}

#[tokio::test]
async fn a_slow_event_is_acked_as_failed_in_time_and_hostile_frames_break_nothing() {
    use leave_sync_tests::sim::ws::{PbFrame, PbHeader};
    let stack = TestStack::start().await;
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn({
        let app = app(&stack);
        async move { longconn::run(&app, Arc::new(Slow), stopped).await }
    });
    connected(&stack).await;
    let started = std::time::Instant::now();
    let spec = LeaveSpec::day("INST-WS-SLOW", "zhaolei");
    stack
        .sim
        .ws()
        .push(&events::leave_v2(&spec, "ev-ws-slow"), 1, false);
    // A part claiming a billion parts, and one beyond its sum: dropped, not a crash.
    let header = |k: &str, v: &str| PbHeader {
        key: k.into(),
        value: v.into(),
    };
    for (sum, seq) in [("1000000000", "0"), ("2", "5")] {
        let hostile = PbFrame {
            method: 1,
            headers: vec![
                header("type", "event"),
                header("message_id", "hostile"),
                header("sum", sum),
                header("seq", seq),
                header("trace_id", "t"),
            ],
            payload: Some(b"{".to_vec()),
            ..PbFrame::default()
        };
        assert!(stack.sim.ws().push_frame(&hostile));
    }
    let acked = acks(&stack, 1).await;
    assert_eq!(
        acked[0].code, 500,
        "not answered in time: Feishu sends it again"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "within Feishu's 3 s"
    );
    assert_eq!(stack.sim.ws().connections(), 1, "still connected");
    assert_eq!(
        stack.sim.ws().malformed(),
        0,
        "every frame the client sent was whole"
    );
    let _ = stop.send(true);
    assert!(task.await.unwrap().is_ok());
}
