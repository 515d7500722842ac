//! The Feishu client against the simulator: token handling, retries, error reporting, and
//! every API module.

use std::time::Duration;

use leave_sync_tests::harness::test_retry_policy;
use leave_sync_tests::sim::api::*;
use leave_sync_tests::sim::{Fault, FaultKind, FeishuSim, SimConfig};
use shared::config::FeishuAppConfig;
use shared::feishu::approval::{NewInstance, Subscription};
use shared::feishu::calendar::{CalendarEvent, EventTime};
use shared::feishu::im::{OutgoingMessage, ReceiveIdType, Reply};
use shared::feishu::{FeishuClient, FeishuError, RetryPolicy};
use shared::secret::Secret;

async fn client_with(sim_config: SimConfig, policy: RetryPolicy) -> (FeishuSim, FeishuClient) {
    let sim = FeishuSim::start(sim_config).await.unwrap();
    let client = FeishuClient::with_policy(
        &FeishuAppConfig {
            app_id: sim.config().app_id.clone(),
            app_secret: Secret::new(sim.config().app_secret.clone()),
            base_url: sim.url(),
        },
        policy,
    )
    .unwrap();
    (sim, client)
}

async fn client() -> (FeishuSim, FeishuClient) {
    client_with(SimConfig::default(), test_retry_policy()).await
}

#[tokio::test]
async fn concurrent_calls_share_one_token_fetch() {
    let (sim, c) = client().await;
    let calls = (0..20).map(|_| c.primary_calendars());
    let results = futures_util::future::join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    let s = sim.snapshot();
    assert_eq!(s.calls[TOKEN], 1);
    assert_eq!(s.calls[CALENDAR_PRIMARY], 20);
}

#[tokio::test]
async fn token_is_refreshed_ahead_of_its_expiry() {
    let sim_config = SimConfig {
        token_ttl: Duration::from_secs(2),
        token_reuse_threshold: Duration::ZERO,
        ..SimConfig::default()
    };
    let policy = RetryPolicy {
        token_refresh_ahead: Duration::from_millis(1500),
        ..test_retry_policy()
    };
    let (sim, c) = client_with(sim_config, policy).await;
    c.primary_calendars().await.unwrap();
    c.primary_calendars().await.unwrap();
    assert_eq!(sim.snapshot().calls[TOKEN], 1, "cached");
    // Past half of the 2 s life: refreshed before Feishu would refuse it.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    c.primary_calendars().await.unwrap();
    assert_eq!(sim.snapshot().calls[TOKEN], 2);
    assert!(
        sim.calls().iter().all(|call| call.code != 99991663),
        "never used an expired token"
    );
}

/// Feishu hands out the same token until less than 30 minutes of it are left, with
/// `expire` saying what is left (pitfall 12): a client that started later must not take a
/// reused token for a fresh one.
#[tokio::test]
async fn a_reused_token_is_kept_only_for_the_life_it_has_left() {
    let sim_config = SimConfig {
        token_ttl: Duration::from_secs(3),
        token_reuse_threshold: Duration::from_millis(1500),
        ..SimConfig::default()
    };
    let policy = RetryPolicy {
        token_refresh_ahead: Duration::from_millis(500),
        ..test_retry_policy()
    };
    let (sim, first) = client_with(sim_config, policy.clone()).await;
    first.primary_calendars().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    // A second Lambda instance starts: it is given the same token, with ~2 s left.
    let second = FeishuClient::with_policy(
        &FeishuAppConfig {
            app_id: sim.config().app_id.clone(),
            app_secret: Secret::new(sim.config().app_secret.clone()),
            base_url: sim.url(),
        },
        policy,
    )
    .unwrap();
    second.primary_calendars().await.unwrap();
    let s = sim.snapshot();
    assert_eq!(
        (s.calls[TOKEN], s.tokens_issued),
        (2, 1),
        "the same token, reused"
    );

    // Past the token's end (3 s after it was issued), well inside a fresh token's life.
    tokio::time::sleep(Duration::from_millis(2300)).await;
    second.primary_calendars().await.unwrap();
    let s = sim.snapshot();
    assert_eq!(
        (s.calls[TOKEN], s.tokens_issued),
        (3, 2),
        "fetched again, a new one"
    );
    assert!(
        sim.calls().iter().all(|call| call.code != 99991663),
        "never sent an expired token"
    );
}

#[tokio::test]
async fn wrong_app_secret_is_a_permanent_error_naming_the_settings() {
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    let c = FeishuClient::with_policy(
        &FeishuAppConfig {
            app_id: "cli_demo0000000001".into(),
            app_secret: Secret::new("wrong"),
            base_url: sim.url(),
        },
        test_retry_policy(),
    )
    .unwrap();
    let err = c.primary_calendars().await.unwrap_err();
    assert!(!err.is_retryable());
    assert!(err.to_string().contains("FEISHU_APP_SECRET"), "{err}");
    assert_eq!(sim.snapshot().calls[TOKEN], 1, "not retried");
}

#[tokio::test]
async fn errors_carry_api_code_message_and_log_id() {
    let (sim, c) = client().await;
    sim.inject(Fault::new(
        MESSAGE_SEND,
        FaultKind::Answer {
            status: 400,
            code: 230027,
            msg: "Lack of necessary permissions".into(),
        },
    ));
    let err = c
        .send_message(
            ReceiveIdType::OpenId,
            &OutgoingMessage::text("ou_zhangwei", "hi", None),
        )
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.starts_with("im.messages.create: Feishu answered code 230027"),
        "{text}"
    );
    assert!(
        text.contains("Lack of necessary permissions") && text.contains("log id sim"),
        "{text}"
    );
    assert!(err.hint().unwrap().contains("im:message:send_as_bot"));
}

#[tokio::test]
async fn retries_stop_in_time_for_the_deadline() {
    let (sim, c) = client().await;
    sim.inject(Fault::new(
        TIMEOFF_DELETE,
        FaultKind::RateLimited { reset_secs: 30 },
    ));
    let c = c.until(tokio::time::Instant::now() + Duration::from_secs(2));
    let started = std::time::Instant::now();
    let err = c.delete_timeoff_event("timeoff:nope").await.unwrap_err();
    assert!(matches!(err, FeishuError::RateLimited { .. }), "{err}");
    assert!(err.is_retryable());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "did not sleep 30 s past the deadline"
    );

    let spent = c.until(tokio::time::Instant::now());
    assert!(matches!(
        spent.primary_calendars().await,
        Err(FeishuError::OutOfTime { .. })
    ));
}

#[tokio::test]
async fn gives_up_after_the_attempt_budget() {
    let (sim, c) = client().await;
    sim.inject(Fault::new(CALENDAR_PRIMARY, FaultKind::Unavailable).times(10));
    let err = c.primary_calendars().await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
    assert_eq!(sim.snapshot().calls[CALENDAR_PRIMARY], 4);
}

#[tokio::test]
async fn calendar_primary_and_event_with_idempotency_key() {
    let (sim, c) = client().await;
    let cal = c.primary_calendars().await.unwrap();
    let id = &cal[0].calendar.calendar_id;
    assert!(
        id.contains('@'),
        "calendar ids carry @ and are escaped in paths: {id}"
    );
    let event = CalendarEvent {
        summary: "On leave".into(),
        description: None,
        start_time: EventTime::Date {
            date: "2026-12-01".into(),
        },
        end_time: EventTime::Date {
            date: "2026-12-02".into(),
        },
        need_notification: Some(false),
        free_busy_status: Some("free".into()),
        visibility: None,
        vchat: None,
    };
    let short = c.create_calendar_event(id, &event, Some("key-1")).await;
    assert!(
        short.is_err(),
        "a key is 32-128 characters (doc \"创建日程\")"
    );
    let key = "leave-sync-team-0123456789abcdef0123456789abcdef";
    let a = c
        .create_calendar_event(id, &event, Some(key))
        .await
        .unwrap();
    let b = c
        .create_calendar_event(id, &event, Some(key))
        .await
        .unwrap();
    assert_eq!(a.event_id, b.event_id);
    let s = sim.snapshot();
    assert_eq!(s.calendar_events.len(), 1);
    assert_eq!(s.calendar_events[0].calendar_id, *id);
}

#[tokio::test]
async fn messages_dedupe_on_uuid_and_replies_work() {
    let (sim, c) = client().await;
    let msg = OutgoingMessage::text("ou_lina", "hello", Some("ls-test-uuid".into()));
    let first = c.send_message(ReceiveIdType::OpenId, &msg).await.unwrap();
    let again = c.send_message(ReceiveIdType::OpenId, &msg).await.unwrap();
    assert_eq!(
        first.message_id, again.message_id,
        "same uuid within an hour: one message"
    );
    let reply = c
        .reply_message(
            &first.message_id,
            &Reply {
                msg_type: "text".into(),
                content: serde_json::json!({"text": "noted"}).to_string(),
                reply_in_thread: false,
                uuid: None,
            },
        )
        .await
        .unwrap();
    let s = sim.snapshot();
    assert_eq!(s.messages.len(), 2);
    assert_eq!(s.messages[1].message_id, reply.message_id);
    assert_eq!(
        s.messages[1].reply_to.as_deref(),
        Some(first.message_id.as_str())
    );
    assert_eq!(
        s.messages[0].content["text"], "hello",
        "content is JSON inside a string"
    );
}

#[tokio::test]
async fn approval_instance_create_get_and_subscribe() {
    let (sim, c) = client().await;
    let form = serde_json::json!([
        {"id": "timeInfo", "type": "dateInterval", "value": {"start": "2026-12-14T00:00:00+08:00", "end": "2026-12-15T00:00:00+08:00", "interval": 1.0}},
        {"id": "reason", "type": "textarea", "value": "Wedding"}
    ]);
    let code = c
        .create_instance(&NewInstance {
            approval_code: "CUSTOM-PTO-0001".into(),
            user_id: None,
            open_id: Some("ou_zhaolei".into()),
            form: form.to_string(),
            uuid: Some("0a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d".into()),
        })
        .await
        .unwrap();
    let got = c.get_instance(&code).await.unwrap();
    assert_eq!(
        (got.user_id.as_str(), got.open_id.as_str()),
        ("u_zhaolei", "ou_zhaolei")
    );
    // Read back in the detail's shape: Feishu's own widget ids, the creator's as custom_id.
    let read: serde_json::Value = serde_json::from_str(&got.form).unwrap();
    assert_eq!(read[0]["custom_id"], "timeInfo");
    assert_eq!(read[0]["value"], form[0]["value"]);
    assert_eq!(read[1]["custom_id"], "reason");
    assert_eq!(read[1]["value"], "Wedding");

    assert_eq!(
        c.subscribe("CUSTOM-PTO-0001").await.unwrap(),
        Subscription::Subscribed
    );
    assert_eq!(
        c.subscribe("CUSTOM-PTO-0001").await.unwrap(),
        Subscription::AlreadySubscribed
    );
    let err = c.subscribe("NO-SUCH-CODE").await.unwrap_err();
    assert_eq!(err.code(), Some(1390002), "the v4 page's code");
    assert!(err.hint().unwrap().contains("admin console"));
    assert_eq!(sim.snapshot().subscriptions.len(), 1);
}

#[tokio::test]
async fn bearer_token_is_required_by_the_simulator() {
    // The simulator enforces auth like Feishu: a request without a token is refused.
    let sim = FeishuSim::start(SimConfig::default()).await.unwrap();
    shared::aws::install_crypto_provider();
    let resp = reqwest::Client::new()
        .post(format!(
            "{}/open-apis/calendar/v4/calendars/primary",
            sim.url()
        ))
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["code"], 99991661);
}

#[tokio::test]
async fn a_rate_limit_page_that_is_not_json_still_waits_its_reset() {
    let (sim, c) = client().await;
    sim.inject(Fault::new(
        CALENDAR_PRIMARY,
        FaultKind::RateLimitedPage { reset_secs: 1 },
    ));
    let started = std::time::Instant::now();
    c.primary_calendars().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited the reset"
    );
    assert_eq!(sim.snapshot().calls[CALENDAR_PRIMARY], 2);
}

#[tokio::test]
async fn a_reset_of_zero_backs_off_instead_of_hot_looping() {
    let (sim, c) = client().await;
    sim.inject(Fault::new(CALENDAR_PRIMARY, FaultKind::RateLimited { reset_secs: 0 }).times(3));
    c.primary_calendars().await.unwrap();
    let at: Vec<i64> = sim
        .calls()
        .iter()
        .filter(|call| call.api == CALENDAR_PRIMARY)
        .map(|call| call.at_ms)
        .collect();
    let least = test_retry_policy().base_delay.as_millis() as i64 / 2;
    for pair in at.windows(2) {
        assert!(
            pair[1] - pair[0] >= least,
            "retried after {} ms: {at:?}",
            pair[1] - pair[0]
        );
    }
}

#[tokio::test]
async fn approval_try_again_later_is_retried_and_user_left_is_permanent_with_its_fix() {
    let (sim, c) = client().await;
    sim.put_instance(serde_json::json!({
        "instance_code": "I-1", "approval_code": "A", "status": "APPROVED", "form": "[]",
        "user_id": "u_zhangwei", "open_id": "ou_zhangwei", "reverted": false,
    }));
    let later = FaultKind::Answer {
        status: 400,
        code: 1395001,
        msg: "There have been some errors. Please try again later".into(),
    };
    sim.inject(Fault::new(INSTANCE_GET, later));
    c.get_instance("I-1").await.unwrap();
    assert_eq!(sim.snapshot().calls[INSTANCE_GET], 2);

    let timeoff = shared::feishu::calendar::TimeoffEvent {
        user_id: "ou_someone_who_left".into(),
        timezone: "Asia/Shanghai".into(),
        start_time: "2026-12-01".into(),
        end_time: "2026-12-01".into(),
        title: None,
        description: None,
    };
    let err = c
        .create_timeoff_event(shared::feishu::calendar::UserIdType::OpenId, &timeoff)
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some(195100));
    assert!(!err.is_retryable());
    assert!(err.hint().unwrap().contains("left the company"));
}
