//! A stateful Feishu Open Platform simulator, faithful to ../shared/reference/feishu-api.md:
//! tokens that expire, Bearer auth on every call, insert-only attendance with
//! `idempotent_id`, time-off and message ids it issues, IM `uuid` dedupe, per-API rate
//! limits, and faults injected on demand.
//!
//! In tests: [`FeishuSim::start`] and the inspection methods. As a program
//! (`feishu-sim --port P`): the same server plus `GET /_sim/state` (read-only view) and
//! `POST /_sim/faults`, `/_sim/instances`, `/_sim/expire-tokens`, `/_sim/reset`.

pub mod api;
mod card;
pub mod faults;
mod listing;
pub mod show;
pub mod state;
pub mod ws;

use std::collections::{BTreeMap, HashMap};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;

pub use faults::{Fault, FaultKind};
pub use state::{AttendanceRecord, Call, MessageRecord, SimConfig, Snapshot, TimeoffRecord, User};

use api::{Answer, Ctx, Req};
use state::State;

struct Shared {
    config: SimConfig,
    state: Mutex<State>,
    ws: ws::Hub,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock only happens in a failing test; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn expire_tokens(&self) {
        let now = Instant::now();
        for t in &mut self.lock().tokens {
            t.expires_at = now;
        }
    }

    fn snapshot(&self) -> Snapshot {
        let s = self.lock();
        let mut calls = BTreeMap::new();
        let mut writes = BTreeMap::new();
        for c in &s.calls {
            *calls.entry(c.api.clone()).or_insert(0) += 1;
            if c.wrote {
                *writes.entry(c.api.clone()).or_insert(0) += 1;
            }
        }
        Snapshot {
            users: self.config.users.clone(),
            attendance: s.attendance.clone(),
            timeoff_events: s.timeoff.clone(),
            messages: s.messages.clone(),
            calendar_events: s.calendar_events.clone(),
            created_calendars: s.created_calendars.clone(),
            calendar_acls: s.calendar_acls.clone(),
            instances: s.instances.clone(),
            subscriptions: s.subscriptions.clone(),
            calls,
            writes,
            tokens_issued: s.tokens.len(),
        }
    }
}

/// A running simulator. Dropping it does not stop the server task; it ends with the
/// test's runtime.
#[derive(Clone)]
pub struct FeishuSim {
    shared: Arc<Shared>,
    addr: SocketAddr,
}

impl FeishuSim {
    /// Starts on an ephemeral loopback port.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        Self::start_on(config, "127.0.0.1:0".parse().expect("loopback address")).await
    }

    pub async fn start_on(config: SimConfig, addr: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State::default()),
            ws: ws::Hub::default(),
        });
        // The long connection's WebSocket server, on a port of its own.
        let ws_listener = TcpListener::bind((addr.ip(), 0)).await?;
        {
            let mut s = shared.lock();
            s.ws_base = Some(format!("ws://{}", ws_listener.local_addr()?));
            // Quick reconnects for tests; a pong repeats whatever is set here.
            s.ws_client_config = serde_json::json!({
                "ReconnectCount": -1, "ReconnectInterval": 1, "ReconnectNonce": 0, "PingInterval": 120
            });
        }
        let pongs = shared.clone();
        shared.ws.serve(ws_listener, move || {
            let s = pongs.lock();
            s.ws_pong_config
                .clone()
                .unwrap_or_else(|| s.ws_client_config.clone())
        });
        let server = shared.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = server.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| serve(shared.clone(), req));
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { shared, addr })
    }

    /// The base URL to give the client as FEISHU_BASE_URL.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn config(&self) -> &SimConfig {
        &self.shared.config
    }

    /// The long connection's server side.
    pub fn ws(&self) -> &ws::Hub {
        &self.shared.ws
    }

    /// The settings the endpoint and every later pong give the client.
    pub fn set_ws_client_config(&self, config: Value) {
        self.shared.lock().ws_client_config = config;
    }

    /// What later pongs carry: the server changing the client's settings.
    pub fn push_ws_config(&self, config: Value) {
        self.shared.lock().ws_pong_config = Some(config);
    }

    pub fn inject(&self, fault: Fault) {
        self.shared.lock().faults.push(fault);
    }

    /// Faults injected and not yet used up.
    pub fn pending_faults(&self) -> usize {
        self.shared.lock().faults.len()
    }

    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// Expires every token issued so far (as two hours passing would).
    pub fn expire_tokens(&self) {
        self.shared.expire_tokens();
    }

    /// Adds or replaces an approval instance (the `data` of the get-instance API).
    pub fn put_instance(&self, instance: Value) {
        let code = instance["instance_code"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.shared.lock().instances.insert(code, instance);
    }

    /// Adds an attendance record another system wrote (Feishu's own 假勤, an HR tool):
    /// the query returns it with the user's others.
    pub fn put_attendance(&self, record: state::AttendanceRecord) {
        self.shared.lock().attendance.push(record);
    }

    pub fn snapshot(&self) -> Snapshot {
        self.shared.snapshot()
    }

    /// Every request answered so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.shared.lock().calls.clone()
    }

    pub fn reset(&self) {
        *self.shared.lock() = State::default();
    }
}

async fn serve(
    shared: Arc<Shared>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let query: HashMap<String, String> = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (api::percent_decode(k), api::percent_decode(v)))
        .collect();
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let body = match req.into_body().collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    };
    let answer = if path.starts_with("/_sim/") {
        control(&shared, &method, &path, &body)
    } else {
        feishu(&shared, &method, &path, query, bearer, body).await
    };
    let mut resp = Response::builder()
        .status(answer.status)
        .header(
            "content-type",
            if answer.code == -1 {
                "text/plain"
            } else {
                "application/json; charset=utf-8"
            },
        )
        .header("x-tt-logid", format!("sim{:016x}", rand_u64()));
    for (k, v) in &answer.headers {
        resp = resp.header(*k, v);
    }
    Ok(resp
        .body(Full::new(Bytes::from(answer.body)))
        .unwrap_or_else(|_| Response::new(Full::new(Bytes::new()))))
}

async fn feishu(
    shared: &Shared,
    method: &str,
    path: &str,
    query: HashMap<String, String>,
    bearer: Option<String>,
    body: Vec<u8>,
) -> Answer {
    let at_ms = jiff::Timestamp::now().as_millisecond();
    let Some((api, param)) = api::route(method, path) else {
        return Answer::text(404, "404 page not found");
    };
    let req = Req {
        api,
        param,
        query,
        bearer,
        body,
    };
    // Faults are decided under the lock; delays and stalls are served without it.
    let (fault, delay) = {
        let mut s = shared.lock();
        let mut fault = None;
        let mut delay = None;
        for f in s.faults.iter_mut().filter(|f| f.matches(api)) {
            if f.after > 0 {
                f.after -= 1;
                continue;
            }
            match &f.kind {
                FaultKind::Slow { ms } if delay.is_none() => {
                    delay = Some(Duration::from_millis(*ms));
                    f.times -= 1;
                }
                FaultKind::Slow { .. } => {}
                FaultKind::Stall if fault.is_none() => {
                    f.times -= 1;
                    fault = Some(FaultKind::Stall);
                }
                other if fault.is_none() => {
                    fault = Some(other.clone());
                    f.times -= 1;
                }
                _ => {}
            }
        }
        s.faults.retain(|f| f.times > 0);
        (fault, delay)
    };
    if fault == Some(FaultKind::Stall) {
        // Hold the connection without acting; the handler is dropped when the caller
        // disconnects. Recorded (code -2) so tests can see it happened.
        shared.lock().calls.push(Call {
            api: api.to_owned(),
            at_ms,
            status: 0,
            code: -2,
            wrote: false,
        });
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Answer::text(504, "stalled");
    }
    let answer = {
        let mut s = shared.lock();
        let mut ctx = Ctx {
            config: &shared.config,
            state: &mut s,
            now: Instant::now(),
        };
        let answer = respond(&mut ctx, &req, fault);
        ctx.state.calls.push(Call {
            api: api.to_owned(),
            at_ms,
            status: answer.status,
            code: answer.code,
            wrote: answer.wrote,
        });
        answer
    };
    // A slow answer comes after the work is done: a caller that gives up (or crashes)
    // meanwhile leaves the write in place, as with the real service.
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    answer
}

fn respond(ctx: &mut Ctx<'_>, req: &Req, fault: Option<FaultKind>) -> Answer {
    match &fault {
        Some(FaultKind::Unavailable) => {
            return Answer::text(503, "Service Temporarily Unavailable");
        }
        Some(FaultKind::Internal) => return Answer::err(500, 1225000, "system busy"),
        Some(FaultKind::Answer { status, code, msg }) => return Answer::err(*status, *code, msg),
        Some(FaultKind::RateLimited { reset_secs }) => {
            return Answer::rate_limited(50, *reset_secs);
        }
        Some(FaultKind::RateLimitedPage { reset_secs }) => {
            let mut page = Answer::text(429, "Too Many Requests");
            page.headers
                .push(("x-ogw-ratelimit-reset", reset_secs.to_string()));
            return page;
        }
        Some(FaultKind::InvalidToken { in_200 }) => {
            if let Some(t) = &req.bearer {
                ctx.invalidate(t);
            }
            let status = if *in_200 { 200 } else { 400 };
            return Answer::err(status, 99991663, "Invalid access token for authorization");
        }
        _ => {}
    }
    if ctx.config.rate_limits
        && let Some(limited) = rate_limit(ctx, req)
    {
        return limited;
    }
    if req.api != api::TOKEN
        && req.api != api::WS_ENDPOINT
        && let Err(a) = ctx.authorize(req.bearer.as_deref())
    {
        return a;
    }
    let answer = ctx.dispatch(req);
    match fault {
        Some(FaultKind::CommitThenFail) if answer.status == 200 => {
            // The write happened; the caller never hears of it.
            let mut lost = Answer::text(502, "Bad Gateway");
            lost.wrote = answer.wrote;
            lost
        }
        Some(FaultKind::CommitThenAnswer { status, code, msg }) if answer.status == 200 => {
            let mut other = Answer::err(status, code, &msg);
            other.wrote = answer.wrote;
            other
        }
        _ => answer,
    }
}

/// Per-API windows (per second and per minute) and IM's 5 QPS per recipient.
fn rate_limit(ctx: &mut Ctx<'_>, req: &Req) -> Option<Answer> {
    let epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let (per_sec, per_min) = api::limits(req.api);
    let mut hit = |key: String, window: u64, limit: u32| -> bool {
        let count = ctx.state.windows.entry((key, window)).or_insert(0);
        *count += 1;
        *count > limit
    };
    if let Some(limit) = per_sec
        && hit(req.api.to_owned(), epoch.as_secs(), limit)
    {
        return Some(Answer::rate_limited(limit, 1));
    }
    if let Some(limit) = per_min
        && hit(format!("{}/min", req.api), epoch.as_secs() / 60, limit)
    {
        return Some(Answer::rate_limited(limit, 60 - epoch.as_secs() % 60));
    }
    if req.api == api::MESSAGE_SEND
        && let Some(to) = serde_json::from_slice::<Value>(&req.body)
            .ok()
            .and_then(|b| b["receive_id"].as_str().map(str::to_owned))
        && hit(format!("im-recipient/{to}"), epoch.as_secs(), 5)
    {
        return Some(Answer::err(
            400,
            230020,
            "This operation triggers the frequency limit.",
        ));
    }
    // Forget windows that have closed.
    let now_min = epoch.as_secs() / 60;
    ctx.state.windows.retain(|(k, w), _| {
        if k.ends_with("/min") {
            *w + 1 >= now_min
        } else {
            *w + 2 >= epoch.as_secs()
        }
    });
    None
}

fn control(shared: &Shared, method: &str, path: &str, body: &[u8]) -> Answer {
    let ok = || Answer::ok(serde_json::json!({}));
    match (method, path) {
        ("GET", "/_sim/state") => {
            Answer::ok(serde_json::to_value(shared.snapshot()).unwrap_or_default())
        }
        ("POST", "/_sim/faults") => match serde_json::from_slice::<Fault>(body) {
            Ok(f) => {
                shared.lock().faults.push(f);
                ok()
            }
            Err(e) => Answer::err(400, 1, &format!("not a fault: {e}")),
        },
        ("POST", "/_sim/instances") => match serde_json::from_slice::<Value>(body) {
            Ok(i) if i["instance_code"].is_string() => {
                let code = i["instance_code"].as_str().unwrap_or_default().to_owned();
                shared.lock().instances.insert(code, i);
                ok()
            }
            _ => Answer::err(400, 1, "an instance needs an instance_code"),
        },
        ("POST", "/_sim/expire-tokens") => {
            shared.expire_tokens();
            ok()
        }
        ("POST", "/_sim/reset") => {
            *shared.lock() = State::default();
            ok()
        }
        _ => Answer::text(404, "unknown simulator control endpoint"),
    }
}

fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    let _ = getrandom::fill(&mut b);
    u64::from_le_bytes(b)
}
