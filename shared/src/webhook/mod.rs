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
            | Self::BadToken => 401,
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
        }
    }
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
        // With an Encrypt Key configured the signature is checked first, over the raw
        // bytes, so nothing unauthenticated is decrypted or parsed. Only a request without
        // any signature header gets further: it may be the URL challenge.
        let signed = match &self.encrypt_key {
            Some(key) => self.check_signature(key, body, headers, now)?,
            None => false,
        };
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
        let env = wire
            .into_envelope()
            .map_err(WebhookError::UnknownEnvelope)?;

        let ev = match env {
            Envelope::UrlVerification { challenge, token } => {
                // Like the official SDKs, no signature is required here: Feishu may send
                // the challenge without signature headers. Decryption plus the token
                // suffice.
                self.check_token(token.as_deref())?;
                return Ok(Verdict::Challenge(challenge));
            }
            Envelope::Event(ev) => ev,
        };
        if self.encrypt_key.is_some() && !signed {
            return Err(WebhookError::MissingSignature);
        }
        self.check_token(ev.token.as_deref())?;

        match route::route(&ev.event_type, &ev.head, &self.custom_approval_codes) {
            Route::Ignore(reason) => Ok(Verdict::Ignore {
                event_id: ev.event_id,
                event_type: ev.event_type,
                reason,
            }),
            Route::Enqueue => Ok(Verdict::Enqueue(QueuedEvent {
                v: ENVELOPE_VERSION,
                event_id: ev.event_id,
                event_type: ev.event_type,
                schema: ev.schema,
                tenant_key: ev.tenant_key,
                app_id: ev.app_id,
                sent_at: ev.sent_at,
                received_at: now,
                event: ev.event,
            })),
        }
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
