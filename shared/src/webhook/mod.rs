//! Feishu's webhook protocol: decryption, signature, verification token, envelope and
//! routing. Pure and synchronous: the ingress adds the queue and the HTTP mapping.

pub mod crypto;
pub mod envelope;
pub mod route;

use std::collections::BTreeSet;
use std::time::Duration;

use http::HeaderMap;

use crate::config::WebhookConfig;
use crate::queue::{ENVELOPE_VERSION, QueuedEvent};
use crate::secret::Secret;

pub use crypto::{DecryptError, EncryptKey};
pub use envelope::{Envelope, ShapeError};
pub use route::{IgnoreReason, Route};

/// Feishu's events are a few KiB; anything bigger is not from Feishu. Checked before any
/// parsing so an oversized body costs nothing but its length.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub const HEADER_TIMESTAMP: &str = "x-lark-request-timestamp";
pub const HEADER_NONCE: &str = "x-lark-request-nonce";
pub const HEADER_SIGNATURE: &str = "x-lark-signature";

#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("body of {size} bytes exceeds the {MAX_BODY_BYTES}-byte limit")]
    TooLarge { size: usize },
    #[error("body is not valid JSON: {0}")]
    MalformedJson(#[source] serde_json::Error),
    #[error(
        "body is encrypted but FEISHU_ENCRYPT_KEY is not configured: set it to the app's \
         Encrypt Key (developer console > Events & Callbacks > Encryption strategy)"
    )]
    EncryptedWithoutKey,
    #[error("cannot decrypt body: {0}")]
    Decrypt(#[from] DecryptError),
    #[error("unrecognised envelope: {}", .0.describe())]
    UnknownEnvelope(ShapeError),
    #[error(
        "signature headers missing: an Encrypt Key is configured, so every event must carry \
         X-Lark-Request-Timestamp, X-Lark-Request-Nonce and X-Lark-Signature"
    )]
    MissingSignature,
    #[error(
        "signature does not match: the body was altered or FEISHU_ENCRYPT_KEY is not the app's"
    )]
    BadSignature,
    #[error(
        "request timestamp {timestamp:?} is outside the configured {max_skew:?} window \
         (WEBHOOK_MAX_CLOCK_SKEW_SECS)"
    )]
    StaleTimestamp {
        timestamp: String,
        max_skew: Duration,
    },
    #[error("verification token does not match FEISHU_VERIFICATION_TOKEN")]
    BadToken,
    /// With an Encrypt Key configured, a request without signature headers may only be the
    /// URL challenge. Whatever else it is, it gets this one answer, so that a stranger
    /// learns nothing from it (not even whether its padding decrypted: no CBC oracle).
    #[error("unsigned request refused: {0}")]
    Unsigned(Box<WebhookError>),
}

impl WebhookError {
    pub fn status(&self) -> u16 {
        match self {
            Self::TooLarge { .. } => 413,
            Self::MalformedJson(_)
            | Self::EncryptedWithoutKey
            | Self::Decrypt(_)
            | Self::UnknownEnvelope(_) => 400,
            Self::MissingSignature
            | Self::BadSignature
            | Self::StaleTimestamp { .. }
            | Self::BadToken
            | Self::Unsigned(_) => 401,
        }
    }

    /// A stable machine-readable code for the error body and the logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "body_too_large",
            Self::MalformedJson(_) => "malformed_json",
            Self::EncryptedWithoutKey => "encrypt_key_not_configured",
            Self::Decrypt(_) => "undecryptable_body",
            Self::UnknownEnvelope(_) => "unknown_envelope",
            Self::MissingSignature => "missing_signature",
            Self::BadSignature => "bad_signature",
            Self::StaleTimestamp { .. } => "stale_timestamp",
            Self::BadToken => "bad_token",
            Self::Unsigned(_) => "unauthorized",
        }
    }

    /// The answer's message: what is wrong with the request, naming no setting (the log
    /// line carries the full [`Display`](std::fmt::Display) text for the operator).
    pub fn public_message(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "the body is too large",
            Self::MalformedJson(_) => "the body is not valid JSON",
            Self::EncryptedWithoutKey => "this endpoint does not accept encrypted bodies",
            Self::Decrypt(_) => "the body cannot be decrypted",
            Self::UnknownEnvelope(_) => "the body is not a Feishu event",
            Self::MissingSignature => "the signature headers are incomplete",
            Self::BadSignature => "the signature does not match",
            Self::StaleTimestamp { .. } => "the request timestamp is outside the accepted window",
            Self::BadToken => "the verification token does not match",
            Self::Unsigned(_) => "the request is not signed",
        }
    }
}

/// Whether the request carries any of Feishu's signature headers: a rejection of such a
/// request means a wrong key or token in the configuration (or a forgery), and is alarmed.
pub fn is_signed(headers: &HeaderMap) -> bool {
    [HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE]
        .iter()
        .any(|h| headers.contains_key(*h))
}

/// What to do with a webhook that passed every check.
#[derive(Debug)]
pub enum Verdict {
    /// Answer the URL challenge.
    Challenge(String),
    /// Put the event on the queue, then answer 200.
    Enqueue(QueuedEvent),
    /// Answer 200 and drop it.
    Ignore {
        event_id: String,
        event_type: String,
        reason: IgnoreReason,
    },
}

/// The checks configured for one Feishu app.
#[derive(Debug, Clone)]
pub struct Webhook {
    verification_token: Secret,
    encrypt_key: Option<EncryptKey>,
    max_clock_skew: Option<Duration>,
    custom_approval_codes: BTreeSet<String>,
}

impl Webhook {
    pub fn new(config: &WebhookConfig) -> Self {
        Self {
            verification_token: config.verification_token.clone(),
            encrypt_key: config.encrypt_key.clone().map(EncryptKey::new),
            max_clock_skew: config.max_clock_skew,
            custom_approval_codes: config.custom_approval_codes.clone(),
        }
    }

    /// Authenticates and classifies one request. `now` is only used for the optional
    /// timestamp window and the envelope's `received_at`.
    pub fn receive(
        &self,
        body: &[u8],
        headers: &HeaderMap,
        now: jiff::Timestamp,
    ) -> Result<Verdict, WebhookError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(WebhookError::TooLarge { size: body.len() });
        }
        let Some(key) = &self.encrypt_key else {
            // No Encrypt Key: plaintext bodies, authenticated by the verification token.
            return self.open(body, now);
        };
        // With an Encrypt Key the signature is checked first, over the raw bytes, so that
        // nothing unauthenticated is decrypted or parsed on the way to an event.
        if self.check_signature(key, body, headers, now)? {
            return self.open(body, now);
        }
        // No signature headers at all: only the URL challenge may come this way.
        self.challenge_only(body)
            .map_err(|e| WebhookError::Unsigned(Box::new(e)))
    }

    /// An event that arrived over Feishu's long connection: authenticated when the
    /// connection was opened with the app's credentials, and plaintext (「只在建连时进行鉴权，
    /// 后续事件推送均为明文数据，无需再处理解密和验签逻辑」, the SDKs' event guide), so no
    /// token is checked (whether Feishu fills `header.token` there is not documented).
    pub fn receive_trusted(
        &self,
        body: &[u8],
        now: jiff::Timestamp,
    ) -> Result<Verdict, WebhookError> {
        if body.len() > MAX_BODY_BYTES {
            return Err(WebhookError::TooLarge { size: body.len() });
        }
        match self.envelope(body)? {
            Envelope::UrlVerification { challenge, .. } => Ok(Verdict::Challenge(challenge)),
            Envelope::Event(ev) => Ok(self.classify(ev, now)),
        }
    }

    /// Reads an authenticated request (decrypting it if it is encrypted) and decides what
    /// becomes of it.
    fn open(&self, body: &[u8], now: jiff::Timestamp) -> Result<Verdict, WebhookError> {
        let ev = match self.envelope(body)? {
            Envelope::UrlVerification { challenge, token } => {
                self.check_token(token.as_deref())?;
                return Ok(Verdict::Challenge(challenge));
            }
            Envelope::Event(ev) => ev,
        };
        self.check_token(ev.token.as_deref())?;
        Ok(self.classify(ev, now))
    }

    /// What becomes of an authenticated event: ignored (with why) or queued.
    fn classify(&self, ev: Box<envelope::EventEnvelope>, now: jiff::Timestamp) -> Verdict {
        match route::route(&ev.event_type, &ev.head, &self.custom_approval_codes) {
            Route::Ignore(reason) => Verdict::Ignore {
                event_id: ev.event_id,
                event_type: ev.event_type,
                reason,
            },
            Route::Enqueue => Verdict::Enqueue(QueuedEvent {
                v: ENVELOPE_VERSION,
                event_id: ev.event_id,
                event_type: ev.event_type,
                schema: ev.schema,
                tenant_key: ev.tenant_key,
                app_id: ev.app_id,
                sent_at: ev.sent_at,
                received_at: now,
                event: ev.event,
            }),
        }
    }

    /// Like the official SDKs, the URL challenge needs no signature (Feishu may send it
    /// without signature headers): decryption plus the token suffice. Anything else
    /// without a signature is refused.
    fn challenge_only(&self, body: &[u8]) -> Result<Verdict, WebhookError> {
        match self.envelope(body)? {
            Envelope::UrlVerification { challenge, token } => {
                self.check_token(token.as_deref())?;
                Ok(Verdict::Challenge(challenge))
            }
            Envelope::Event(_) => Err(WebhookError::MissingSignature),
        }
    }

    /// The envelope of a body, decrypted first when it is `{"encrypt": ...}`.
    fn envelope(&self, body: &[u8]) -> Result<Envelope, WebhookError> {
        let outer: envelope::Wire =
            serde_json::from_slice(body).map_err(WebhookError::MalformedJson)?;
        let wire = match &outer.encrypt {
            Some(encrypted) => {
                let key = self
                    .encrypt_key
                    .as_ref()
                    .ok_or(WebhookError::EncryptedWithoutKey)?;
                let plain = key.decrypt(encrypted)?;
                serde_json::from_slice(&plain).map_err(WebhookError::MalformedJson)?
            }
            None => outer,
        };
        wire.into_envelope().map_err(WebhookError::UnknownEnvelope)
    }

    fn check_token(&self, token: Option<&str>) -> Result<(), WebhookError> {
        match token {
            Some(t) if crypto::secrets_match(t, &self.verification_token) => Ok(()),
            _ => Err(WebhookError::BadToken),
        }
    }

    /// `Ok(false)` when no signature header is present at all; `Ok(true)` when the
    /// signature (and the optional timestamp window) checks out.
    fn check_signature(
        &self,
        key: &EncryptKey,
        body: &[u8],
        headers: &HeaderMap,
        now: jiff::Timestamp,
    ) -> Result<bool, WebhookError> {
        // Header values are opaque strings: hashed as received, never parsed (the
        // timestamp is parsed only when the operator asked for a skew window).
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let (timestamp, nonce, signature) = match (
            header(HEADER_TIMESTAMP),
            header(HEADER_NONCE),
            header(HEADER_SIGNATURE),
        ) {
            (None, None, None) => return Ok(false),
            (Some(t), Some(n), Some(s)) => (t, n, s),
            _ => return Err(WebhookError::MissingSignature),
        };
        if !key.verify_signature(timestamp, nonce, body, signature) {
            return Err(WebhookError::BadSignature);
        }
        if let Some(max_skew) = self.max_clock_skew {
            let stale = || WebhookError::StaleTimestamp {
                timestamp: timestamp.to_owned(),
                max_skew,
            };
            let sent: i64 = timestamp.trim().parse().map_err(|_| stale())?;
            if now.as_second().abs_diff(sent) > max_skew.as_secs() {
                return Err(stale());
            }
        }
        Ok(true)
    }
}
