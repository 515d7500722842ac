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

use std::sync::Arc;

use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

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

/// Messages handled at once; the rest wait their turn (each queue send takes at most 2 s).
const IN_FLIGHT: u32 = 16;
/// Feishu counts a message not acked within 3 s as failed: the handler gets less.
const HANDLER_TIMEOUT: std::time::Duration = std::time::Duration::from_millis(2500);
/// A split message's parts: at most this many, and this many bytes in all (the webhook's
/// body limit).
const MAX_PARTS: usize = 64;
const MAX_MESSAGE_BYTES: usize = 1024 * 1024;
/// The handshake gets this long.
const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(15);

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The WebSocket handshake to the endpoint's URL, within [`CONNECT_TIMEOUT`].
pub async fn open(endpoint: &Endpoint) -> Result<Socket, ConnectError> {
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE_BYTES + 4096))
        .max_frame_size(Some(MAX_MESSAGE_BYTES + 4096));
    let url = endpoint.url.as_str();
    let connect = tokio_tungstenite::connect_async_with_config(url, Some(ws_config), false);
    let (socket, _) = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| ConnectError::Retry("the long connection's handshake timed out".into()))?
        .map_err(handshake_error)?;
    info!(device_id = %endpoint.device_id, "{OPEN}");
    Ok(socket)
}

/// Serves an open connection until it drops or `shutdown` turns true.
pub async fn run(
    socket: Socket,
    endpoint: &Endpoint,
    handler: Arc<dyn Handler>,
    config: &mut ClientConfig,
    shutdown: &mut watch::Receiver<bool>,
) -> Ended {
    let (mut tx, mut rx) = socket.split();
    let (acks, mut acked) = mpsc::channel::<Frame>(IN_FLIGHT as usize);
    let limit = Arc::new(Semaphore::new(IN_FLIGHT as usize));
    let mut fragments = Fragments::new();
    let mut last_ping = tokio::time::Instant::now();
    let mut next_ping = last_ping;
    loop {
        tokio::select! {
            _ = shutdown.changed() => {
                close(&mut tx, &mut acked, &limit).await;
                return Ended::Shutdown;
            }
            () = tokio::time::sleep_until(next_ping) => {
                if let Err(e) = tx.send(Message::binary(ping(endpoint.service).encode())).await {
                    return Ended::Dropped(format!("ping: {e}"));
                }
                last_ping = tokio::time::Instant::now();
                next_ping = last_ping + config.ping_interval;
            }
            Some(ack) = acked.recv() => {
                if let Err(e) = tx.send(Message::binary(ack.encode())).await {
                    return Ended::Dropped(format!("ack: {e}"));
                }
            }
            message = rx.next() => {
                let frame = match message {
                    Some(Ok(Message::Binary(bytes))) => match Frame::decode(&bytes) {
                        Ok(frame) => frame,
                        Err(e) => { warn!("unreadable frame dropped: {e}"); continue; }
                    },
                    Some(Ok(Message::Close(close))) => return Ended::Dropped(format!("closed by Feishu: {close:?}")),
                    Some(Ok(_)) => continue,
                    Some(Err(e)) => return Ended::Dropped(e.to_string()),
                    None => return Ended::Dropped("the connection ended".into()),
                };
                let interval = config.ping_interval;
                if let Some((frame, payload)) = on_frame(frame, config, &mut fragments) {
                    spawn_handling(frame, payload, Arc::clone(&handler), Arc::clone(&limit), acks.clone());
                }
                if config.ping_interval != interval {
                    // A pong changed the interval: it counts from the last ping.
                    next_ping = last_ping + config.ping_interval;
                }
            }
        }
    }
}

/// Messages being handled get their acks (up to 3 s), then the close frame, flushed, so
/// that Feishu stops sending here.
async fn close(
    tx: &mut futures_util::stream::SplitSink<Socket, Message>,
    acked: &mut mpsc::Receiver<Frame>,
    limit: &Semaphore,
) {
    let all = limit.acquire_many(IN_FLIGHT);
    let _ = tokio::time::timeout(std::time::Duration::from_secs(3), all).await;
    while let Ok(ack) = acked.try_recv() {
        let _ = tx.send(Message::binary(ack.encode())).await;
    }
    let _ = tx.send(Message::Close(None)).await;
    let _ = tx.close().await;
}

/// Handles one message in a task of its own (pings and other messages go on meanwhile),
/// and queues its ack: the handler's answer, or a failure when it takes too long.
fn spawn_handling(
    frame: Frame,
    payload: Vec<u8>,
    handler: Arc<dyn Handler>,
    limit: Arc<Semaphore>,
    acks: mpsc::Sender<Frame>,
) {
    tokio::spawn(async move {
        let Ok(_permit) = limit.acquire_owned().await else {
            return;
        };
        let started = Instant::now();
        let handled = tokio::time::timeout(HANDLER_TIMEOUT, handler.handle(&payload))
            .await
            .unwrap_or_else(|_| {
                warn!("an event took longer than Feishu waits: acked as failed, it comes again");
                Handled {
                    ok: false,
                    data: None,
                }
            });
        let _ = acks
            .send(ack(frame, handled, started.elapsed().as_millis()))
            .await;
    });
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

/// A control frame updates the settings; a data frame, once whole, is returned with its
/// payload to be handled.
fn on_frame(
    frame: Frame,
    config: &mut ClientConfig,
    fragments: &mut Fragments,
) -> Option<(Frame, Vec<u8>)> {
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
            Some((frame, payload))
        }
        // `card` frames (legacy) and unknown types: no ack, as the SDKs.
        _ => None,
    }
}

/// The message a data frame completes: itself if it is not split, else all its parts in
/// order once the last has come. Parts out of range, too many, or too large in all are
/// dropped (no ack: Feishu delivers the message again).
fn whole(frame: &Frame, fragments: &mut Fragments) -> Option<Vec<u8>> {
    let number = |key| frame.header(key).and_then(|v| v.parse::<usize>().ok());
    let (sum, seq) = (number("sum").unwrap_or(1), number("seq").unwrap_or(0));
    let payload = frame.payload.clone().unwrap_or_default();
    if sum <= 1 {
        return Some(payload);
    }
    let id = frame.header("message_id").filter(|id| !id.is_empty())?;
    if sum > MAX_PARTS || seq >= sum {
        warn!(sum, seq, "a split message's part is out of range: dropped");
        return None;
    }
    fragments.retain(|_, (_, at)| at.elapsed() < FRAGMENT_TTL);
    let (parts, at) = fragments
        .entry(id.to_owned())
        .or_insert_with(|| (vec![None; sum], Instant::now()));
    if parts.len() != sum {
        warn!(
            message_id = id,
            "a split message's parts disagree on their number: dropped"
        );
        fragments.remove(id);
        return None;
    }
    *at = Instant::now();
    parts[seq] = Some(payload);
    let bytes: usize = parts.iter().flatten().map(Vec::len).sum();
    if bytes > MAX_MESSAGE_BYTES {
        warn!(
            message_id = id,
            bytes, "a split message is too large: dropped"
        );
        fragments.remove(id);
        return None;
    }
    if parts.iter().any(Option::is_none) {
        return None;
    }
    let (parts, _) = fragments.remove(id)?;
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
