//! The long connection's server side, written from the official SDKs' sources (research
//! ws-protocol.md: Go `ws/`, Python `lark_oapi/ws/`, Node `ws-client/`), not from the
//! service's client: its own codec (prost, with the `.proto`'s field numbers and labels,
//! fields 1-4 required), PascalCase settings, `type`/`message_id`/`sum`/`seq`/`trace_id` on
//! every data frame, a pong with all four settings for every ping, and one ack expected
//! per message. Events go to one live connection (cluster mode, not broadcast).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::{SinkExt, StreamExt};
use prost::Message as _;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

/// What the endpoint puts in the URL's `service_id` (a third-party capture's value).
pub const SERVICE_ID: i32 = 33_554_678;

#[derive(Clone, PartialEq, prost::Message)]
pub struct PbHeader {
    #[prost(string, required, tag = "1")]
    pub key: String,
    #[prost(string, required, tag = "2")]
    pub value: String,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct PbFrame {
    #[prost(uint64, required, tag = "1")]
    pub seq_id: u64,
    #[prost(uint64, required, tag = "2")]
    pub log_id: u64,
    #[prost(int32, required, tag = "3")]
    pub service: i32,
    #[prost(int32, required, tag = "4")]
    pub method: i32,
    #[prost(message, repeated, tag = "5")]
    pub headers: Vec<PbHeader>,
    #[prost(string, optional, tag = "6")]
    pub payload_encoding: Option<String>,
    #[prost(string, optional, tag = "7")]
    pub payload_type: Option<String>,
    #[prost(bytes = "vec", optional, tag = "8")]
    pub payload: Option<Vec<u8>>,
    #[prost(string, optional, tag = "9")]
    pub log_id_new: Option<String>,
}

impl PbFrame {
    fn header(&self, key: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.key == key)
            .map(|h| h.value.as_str())
    }
}

/// One ack the client sent: the message it answers, its `code`, its `data` (decoded from
/// base64), and whether it carried `biz_rt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsAck {
    pub message_id: String,
    pub code: i64,
    pub data: Option<String>,
    pub biz_rt: bool,
    pub seq_id: u64,
}

#[derive(Default)]
struct HubState {
    conns: Vec<(u64, mpsc::UnboundedSender<Message>)>,
    acks: Vec<WsAck>,
    pings: u32,
    next: u64,
    /// Messages pushed, by id: their payload, for redelivery.
    sent: HashMap<String, Vec<u8>>,
    /// Frames that could not be written (no live connection), by message id.
    undelivered: Vec<String>,
    /// Frames from the client that lacked a required field or did not decode.
    malformed: u32,
}

/// The live connections and what went over them.
#[derive(Clone, Default)]
pub struct Hub(Arc<Mutex<HubState>>);

impl Hub {
    fn lock(&self) -> MutexGuard<'_, HubState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Serves WebSocket upgrades on `listener`; `config` gives each pong its settings.
    pub fn serve(&self, listener: TcpListener, config: impl Fn() -> Value + Send + Sync + 'static) {
        let hub = self.clone();
        let config = Arc::new(config);
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let hub = hub.clone();
                let config = config.clone();
                tokio::spawn(async move {
                    if let Ok(socket) = tokio_tungstenite::accept_async(stream).await {
                        hub.connection(socket, move || config()).await;
                    }
                });
            }
        });
    }

    async fn connection(
        &self,
        socket: tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>,
        config: impl Fn() -> Value,
    ) {
        let (mut sink, mut stream) = socket.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Message>();
        let id = {
            let mut s = self.lock();
            s.next += 1;
            let id = s.next;
            s.conns.push((id, tx.clone()));
            id
        };
        let writer = tokio::spawn(async move {
            while let Some(m) = rx.recv().await {
                let close = matches!(m, Message::Close(_));
                if sink.send(m).await.is_err() || close {
                    break;
                }
            }
        });
        while let Some(Ok(message)) = stream.next().await {
            let Message::Binary(bytes) = message else {
                continue;
            };
            // A frame without its required fields is dropped, as the Go SDK does (prost
            // itself ignores proto2's `required`: tokio-rs/prost#986).
            if !has_required(bytes.as_ref()) {
                self.lock().malformed += 1;
                continue;
            }
            let Ok(frame) = PbFrame::decode(bytes.as_ref()) else {
                self.lock().malformed += 1;
                continue;
            };
            if let Some(reply) = self.on_frame(frame, &config) {
                let _ = tx.send(Message::binary(reply.encode_to_vec()));
            }
        }
        self.lock().conns.retain(|(c, _)| *c != id);
        writer.abort();
    }

    fn on_frame(&self, frame: PbFrame, config: &impl Fn() -> Value) -> Option<PbFrame> {
        match (frame.method, frame.header("type")) {
            (0, Some("ping")) => {
                self.lock().pings += 1;
                Some(PbFrame {
                    seq_id: 0,
                    log_id: 0,
                    service: frame.service,
                    method: 0,
                    headers: vec![header("type", "pong")],
                    payload: Some(config().to_string().into_bytes()),
                    ..PbFrame::default()
                })
            }
            (1, _) => {
                self.record_ack(&frame);
                None
            }
            _ => None,
        }
    }

    fn record_ack(&self, frame: &PbFrame) {
        let answer: Value = frame
            .payload
            .as_deref()
            .and_then(|p| serde_json::from_slice(p).ok())
            .unwrap_or(Value::Null);
        let data = answer["data"].as_str().and_then(|d| {
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD.decode(d).ok()?;
            String::from_utf8(bytes).ok()
        });
        self.lock().acks.push(WsAck {
            message_id: frame.header("message_id").unwrap_or_default().to_owned(),
            code: answer["code"].as_i64().unwrap_or(-1),
            data,
            biz_rt: frame.header("biz_rt").is_some(),
            seq_id: frame.seq_id,
        });
    }

    /// Pushes `event` (a webhook-v2 JSON) to one live connection in `parts` frames;
    /// returns its message id. `only_first`: send just the first part (a connection that
    /// drops mid-message).
    pub fn push(&self, event: &Value, parts: usize, only_first: bool) -> String {
        let payload = event.to_string().into_bytes();
        let mut s = self.lock();
        s.next += 1;
        let message_id = format!("sim_msg_{}", s.next);
        s.sent.insert(message_id.clone(), payload.clone());
        let frames = frames(&message_id, s.next, &payload, parts);
        let Some((_, conn)) = s.conns.first() else {
            s.undelivered.push(message_id.clone());
            return message_id;
        };
        let conn = conn.clone();
        for f in frames
            .into_iter()
            .take(if only_first { 1 } else { usize::MAX })
        {
            let _ = conn.send(Message::binary(f.encode_to_vec()));
        }
        message_id
    }

    /// Delivers a message again, whole, under a new message id (Feishu's redelivery after
    /// a failed or missing ack).
    pub fn redeliver(&self, message_id: &str, parts: usize) -> Option<String> {
        let payload = self.lock().sent.get(message_id).cloned()?;
        let event: Value = serde_json::from_slice(&payload).ok()?;
        Some(self.push(&event, parts, false))
    }

    /// Closes every connection, as a network drop or a server restart would.
    pub fn drop_all(&self) {
        let conns: Vec<_> = self.lock().conns.drain(..).collect();
        for (_, conn) in conns {
            let _ = conn.send(Message::Close(None));
        }
    }

    /// Sends one frame as is (a malformed or hostile one) to the first live connection.
    pub fn push_frame(&self, frame: &PbFrame) -> bool {
        let s = self.lock();
        let Some((_, conn)) = s.conns.first() else {
            return false;
        };
        conn.send(Message::binary(frame.encode_to_vec())).is_ok()
    }

    /// Frames from the client the server could not accept.
    pub fn malformed(&self) -> u32 {
        self.lock().malformed
    }

    pub fn acks(&self) -> Vec<WsAck> {
        self.lock().acks.clone()
    }

    pub fn pings(&self) -> u32 {
        self.lock().pings
    }

    pub fn connections(&self) -> usize {
        self.lock().conns.len()
    }
}

/// Whether fields 1-4 (SeqID, LogID, service, method: `required`) are all on the wire.
fn has_required(mut buf: &[u8]) -> bool {
    use prost::encoding::{DecodeContext, decode_key, skip_field};
    let mut seen = [false; 4];
    while !buf.is_empty() {
        let Ok((tag, wire)) = decode_key(&mut buf) else {
            return false;
        };
        if (1..=4).contains(&tag) {
            seen[(tag - 1) as usize] = true;
        }
        if skip_field(wire, tag, &mut buf, DecodeContext::default()).is_err() {
            return false;
        }
    }
    seen.iter().all(|s| *s)
}

fn header(key: &str, value: &str) -> PbHeader {
    PbHeader {
        key: key.to_owned(),
        value: value.to_owned(),
    }
}

/// A message as `parts` data frames: byte slices of the one JSON document, sharing the
/// message id, `seq` 0-based, every header present on each.
fn frames(message_id: &str, n: u64, payload: &[u8], parts: usize) -> Vec<PbFrame> {
    let parts = parts.max(1);
    let size = payload.len().div_ceil(parts).max(1);
    payload
        .chunks(size)
        .enumerate()
        .map(|(seq, chunk)| PbFrame {
            seq_id: n * 100 + seq as u64,
            log_id: n,
            service: SERVICE_ID,
            method: 1,
            headers: vec![
                header("type", "event"),
                header("message_id", message_id),
                header("sum", &payload.len().div_ceil(size).to_string()),
                header("seq", &seq.to_string()),
                header("trace_id", &format!("trace-{n}")),
                header(
                    "timestamp",
                    &jiff::Timestamp::now().as_millisecond().to_string(),
                ),
            ],
            payload: Some(chunk.to_vec()),
            ..PbFrame::default()
        })
        .collect()
}
