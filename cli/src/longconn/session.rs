//! One long connection, from the WebSocket handshake to its end: a ping at once and every
//! `PingInterval`, pongs that carry new settings, data frames reassembled and handed to
//! the handler, and one ack per message with the handler's status and timing (the SDKs'
//! `handleDataFrame`; research ws-protocol.md §3–5).

use std::collections::HashMap;
use std::time::Instant;

use base64::Engine;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::watch;
use tokio_tungstenite::tungstenite::{self, Message};
use tracing::{debug, info, warn};

use super::endpoint::{ClientConfig, ConnectError, Endpoint, WireConfig};
use super::frame::{CONTROL, DATA, Frame};
use super::{Handled, Handler};

/// How a connection ended.
#[derive(Debug)]
pub enum Ended {
    /// Asked to stop: the socket was closed first.
    Shutdown,
    /// The server or the network ended it: reconnect.
    Dropped(String),
}

/// Feishu delivers over the connection only once the console says so, and saves that only
/// while a connection is open (doc "使用长连接接收事件"): say where, as the Node SDK does.
const OPEN: &str = "long connection open. If no events arrive: developer console → Events \
    and Callbacks (事件与回调) → Mode of event/callback subscription (订阅方式) → Receive \
    events/callbacks through persistent connection (使用长连接接收事件/回调), save";

/// The parts of split messages received so far, by message id, with when the last came.
type Fragments = HashMap<String, (Vec<Option<Vec<u8>>>, Instant)>;

/// Fragments of a split message are kept this long (Go and Python keep them 5 s, Node 10).
const FRAGMENT_TTL: std::time::Duration = std::time::Duration::from_secs(10);

pub async fn run(
    endpoint: &Endpoint,
    handler: &dyn Handler,
    config: &mut ClientConfig,
    shutdown: &mut watch::Receiver<bool>,
) -> Result<Ended, ConnectError> {
    let (socket, _) = tokio_tungstenite::connect_async(endpoint.url.as_str())
        .await
        .map_err(handshake_error)?;
    info!("{OPEN}");
    let (mut tx, mut rx) = socket.split();
    let mut fragments = Fragments::new();
    let mut last_ping = tokio::time::Instant::now();
    let mut next_ping = last_ping;
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                // The close frame first, flushed, so that Feishu stops sending here.
                let _ = tx.send(Message::Close(None)).await;
                let _ = tx.close().await;
                return Ok(Ended::Shutdown);
            }
            () = tokio::time::sleep_until(next_ping) => {
                if let Err(e) = tx.send(Message::binary(ping(endpoint.service).encode())).await {
                    return Ok(Ended::Dropped(format!("ping: {e}")));
                }
                last_ping = tokio::time::Instant::now();
                next_ping = last_ping + config.ping_interval;
            }
            message = rx.next() => {
                let frame = match message {
                    Some(Ok(Message::Binary(bytes))) => match Frame::decode(&bytes) {
                        Ok(frame) => frame,
                        Err(e) => { warn!("unreadable frame dropped: {e}"); continue; }
                    },
                    Some(Ok(Message::Close(close))) => return Ok(Ended::Dropped(format!("closed by Feishu: {close:?}"))),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Ok(Ended::Dropped(e.to_string())),
                    None => return Ok(Ended::Dropped("the connection ended".into())),
                };
                let interval = config.ping_interval;
                let ack = on_frame(frame, handler, config, &mut fragments).await;
                if config.ping_interval != interval {
                    // A pong changed the interval: it counts from the last ping.
                    next_ping = last_ping + config.ping_interval;
                }
                if let Some(ack) = ack
                    && let Err(e) = tx.send(Message::binary(ack.encode())).await
                {
                    return Ok(Ended::Dropped(format!("ack: {e}")));
                }
            }
        }
    }
}

/// The SDKs' ping: SeqID and LogID 0, the URL's `service_id`, `type=ping`, no payload.
fn ping(service: i32) -> Frame {
    Frame {
        service,
        method: CONTROL,
        headers: vec![("type".into(), "ping".into())],
        ..Frame::default()
    }
}

/// A control frame updates the settings; a data frame, once whole, is handled and answers
/// with its ack.
async fn on_frame(
    frame: Frame,
    handler: &dyn Handler,
    config: &mut ClientConfig,
    fragments: &mut Fragments,
) -> Option<Frame> {
    match frame.method {
        CONTROL => {
            if frame.header("type") == Some("pong")
                && let Some(payload) = frame.payload.as_deref().filter(|p| !p.is_empty())
            {
                match serde_json::from_slice::<WireConfig>(payload) {
                    Ok(wire) => *config = config.updated(&wire),
                    Err(e) => debug!("pong without settings: {e}"),
                }
            }
            None
        }
        DATA if frame.header("type") == Some("event") => {
            let payload = whole(&frame, fragments)?;
            let started = Instant::now();
            let handled = handler.handle(&payload).await;
            Some(ack(frame, handled, started.elapsed().as_millis()))
        }
        // `card` frames (legacy) and unknown types: no ack, as the SDKs.
        _ => None,
    }
}

/// The message a data frame completes: itself if it is not split, else all its parts in
/// order once the last has come.
fn whole(frame: &Frame, fragments: &mut Fragments) -> Option<Vec<u8>> {
    let number = |key| frame.header(key).and_then(|v| v.parse::<usize>().ok());
    let (sum, seq) = (number("sum").unwrap_or(1), number("seq").unwrap_or(0));
    let payload = frame.payload.clone().unwrap_or_default();
    if sum <= 1 {
        return Some(payload);
    }
    fragments.retain(|_, (_, at)| at.elapsed() < FRAGMENT_TTL);
    let id = frame.header("message_id").unwrap_or_default().to_owned();
    let (parts, at) = fragments
        .entry(id.clone())
        .or_insert_with(|| (vec![None; sum], Instant::now()));
    *at = Instant::now();
    *parts.get_mut(seq)? = Some(payload);
    if parts.iter().any(Option::is_none) {
        return None;
    }
    let (parts, _) = fragments.remove(&id)?;
    Some(parts.into_iter().flatten().flatten().collect())
}

/// The received frame sent back with `biz_rt` and the handler's answer: `{"code":200}`, a
/// callback's answer base64 in `data`, or `{"code":500}` (Feishu delivers it again).
fn ack(mut frame: Frame, handled: Handled, millis: u128) -> Frame {
    frame.headers.push(("biz_rt".into(), millis.to_string()));
    let mut answer = serde_json::json!({ "code": if handled.ok { 200 } else { 500 } });
    if let Some(data) = handled.data {
        answer["data"] = base64::engine::general_purpose::STANDARD
            .encode(data)
            .into();
    }
    frame.payload = Some(answer.to_string().into_bytes());
    frame
}

/// A refused handshake: 514 with 1000040350 (too many connections) and 403 stop, the rest
/// is tried again (the SDKs' `parseErr`).
fn handshake_error(e: tungstenite::Error) -> ConnectError {
    let tungstenite::Error::Http(response) = &e else {
        return ConnectError::Retry(format!("long connection: {e}"));
    };
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let status = header("Handshake-Status");
    let msg = header("Handshake-Msg");
    match (status.as_str(), header("Handshake-Autherrcode").as_str()) {
        ("514", "1000040350") => ConnectError::Fatal(format!(
            "too many long connections ({msg}): the app has its 50 already; stop one"
        )),
        ("403", _) => ConnectError::Fatal(format!("the long connection is forbidden ({msg})")),
        _ => ConnectError::Retry(format!(
            "the long connection's handshake failed (HTTP {}, {status} {msg})",
            response.status()
        )),
    }
}
