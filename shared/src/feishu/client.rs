//! The transport under every Feishu API module: one reqwest client, the cached
//! tenant_access_token, error classification and retries bounded by the caller's deadline.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use reqwest::header::{CONTENT_TYPE, HeaderMap};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;
use tokio::time::Instant;
use tracing::{debug, warn};

use super::error::{FeishuError, RATE_LIMITED};
use crate::config::FeishuAppConfig;
use crate::secret::Secret;

const TOKEN_PATH: &str = "/open-apis/auth/v3/tenant_access_token/internal";
const JSON: &str = "application/json; charset=utf-8";

/// How hard one call tries before handing the failure back (to SQS, which retries the
/// whole event later).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
    /// Time kept in reserve before the deadline, so the caller can still record what
    /// happened (a DynamoDB write takes milliseconds; this leaves room for a slow one).
    pub reserve: Duration,
    /// Refresh the token this long before Feishu says it expires.
    pub token_refresh_ahead: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            request_timeout: Duration::from_secs(10),
            connect_timeout: Duration::from_secs(3),
            reserve: Duration::from_secs(2),
            token_refresh_ahead: Duration::from_secs(300),
        }
    }
}

struct CachedToken {
    value: Secret,
    refresh_at: Instant,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    app_id: String,
    app_secret: Secret,
    policy: RetryPolicy,
    token: Mutex<Option<CachedToken>>,
}

/// A Feishu API client for one self-built app. Cheap to clone; clones share the HTTP
/// connection pool and the token cache.
#[derive(Clone)]
pub struct FeishuClient {
    inner: Arc<Inner>,
    deadline: Option<Instant>,
}

impl std::fmt::Debug for FeishuClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeishuClient")
            .field("base_url", &self.inner.base_url)
            .field("app_id", &self.inner.app_id)
            .finish_non_exhaustive()
    }
}

/// One API request, described before it is sent (possibly several times).
pub(crate) struct Call {
    pub api: &'static str,
    pub method: Method,
    pub path: String,
    pub query: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    /// A create Feishu offers no idempotency key for: sent again only after an error
    /// that proves it was not carried out (its own documented refusals are these codes),
    /// and only started with its whole timeout left.
    pub unguarded: Option<&'static [i64]>,
}

impl Call {
    pub fn new(api: &'static str, method: Method, path: impl Into<String>) -> Self {
        Self {
            api,
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            unguarded: None,
        }
    }

    /// Marks a create without an idempotency key, whose documented refusals (proving it
    /// did not run) are `refusals` (see [`Call::unguarded`]).
    pub fn unguarded(mut self, refusals: &'static [i64]) -> Self {
        self.unguarded = Some(refusals);
        self
    }

    pub fn query(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.query.push((name, value.into()));
        self
    }

    pub fn json(mut self, body: &impl serde::Serialize) -> Result<Self, FeishuError> {
        self.body = Some(serde_json::to_vec(body).map_err(|e| FeishuError::Protocol {
            api: self.api,
            status: 0,
            detail: format!("cannot encode the request: {e}"),
            log_id: None,
        })?);
        Ok(self)
    }
}

/// The part of every answer that says whether it worked.
#[derive(Deserialize)]
struct AnswerCode {
    code: i64,
    #[serde(default)]
    msg: String,
}

#[derive(Deserialize)]
struct Data<T> {
    data: Option<T>,
}

#[derive(Deserialize)]
struct TokenAnswer {
    code: i64,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    tenant_access_token: Option<String>,
    #[serde(default)]
    expire: Option<u64>,
}

impl FeishuClient {
    pub fn new(config: &FeishuAppConfig) -> Result<Self, FeishuError> {
        Self::with_policy(config, RetryPolicy::default())
    }

    pub fn with_policy(config: &FeishuAppConfig, policy: RetryPolicy) -> Result<Self, FeishuError> {
        crate::aws::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(policy.connect_timeout)
            .timeout(policy.request_timeout)
            .pool_idle_timeout(Duration::from_secs(50))
            .user_agent(concat!("feishu-leave-sync/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FeishuError::Client(e.to_string()))?;
        Ok(Self {
            inner: Arc::new(Inner {
                http,
                base_url: config.base_url.trim_end_matches('/').to_owned(),
                app_id: config.app_id.clone(),
                app_secret: config.app_secret.clone(),
                policy,
                token: Mutex::new(None),
            }),
            deadline: None,
        })
    }

    /// A handle whose calls give up (retryably) in time for the caller to finish before
    /// `deadline`, typically the Lambda invocation's.
    pub fn until(&self, deadline: Instant) -> Self {
        Self {
            inner: self.inner.clone(),
            deadline: Some(deadline),
        }
    }

    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// Fetches (or reuses) the tenant_access_token: proves the App ID and Secret work.
    pub async fn check_token(&self) -> Result<(), FeishuError> {
        self.token("auth.tenant_access_token").await.map(|_| ())
    }

    /// Sends `call`, retrying what is retryable, and returns the `data` object.
    pub(crate) async fn send<T: DeserializeOwned>(&self, call: &Call) -> Result<T, FeishuError> {
        self.send_opt(call)
            .await?
            .ok_or_else(|| FeishuError::Protocol {
                api: call.api,
                status: 200,
                detail: "the answer has no data".into(),
                log_id: None,
            })
    }

    /// Like [`send`](Self::send) for APIs whose success may carry no `data`.
    pub(crate) async fn send_opt<T: DeserializeOwned>(
        &self,
        call: &Call,
    ) -> Result<Option<T>, FeishuError> {
        let policy = &self.inner.policy;
        let mut attempt = 0;
        let mut refreshed = false;
        loop {
            attempt += 1;
            let token = match self.token(call.api).await {
                Ok(t) => t,
                Err(e) => {
                    // The request itself was never sent.
                    self.pause_or_give_up(call.api, attempt, e)
                        .await
                        .map_err(|source| FeishuError::NotSent {
                            api: call.api,
                            source: Box::new(source),
                        })?;
                    continue;
                }
            };
            let err = match self.attempt(call, &token).await {
                Ok(v) => return Ok(v),
                Err(e) => e,
            };
            if err.is_invalid_token() {
                // An expired or revoked token: drop it so the next attempt fetches a new
                // one. The first refusal is retried at once and costs no attempt.
                self.evict(&token).await;
                if !refreshed {
                    refreshed = true;
                    attempt -= 1;
                    warn!(api = call.api, "token refused, refreshing it: {err}");
                    continue;
                }
            }
            let unproven = call
                .unguarded
                .is_some_and(|refusals| !err.proves_not_applied(refusals));
            if attempt >= policy.max_attempts || unproven {
                return Err(err);
            }
            self.pause_or_give_up(call.api, attempt, err).await?;
        }
    }

    /// Sleeps before the next attempt, or returns `err` if it is permanent or the next
    /// attempt would not fit before the deadline.
    async fn pause_or_give_up(
        &self,
        api: &'static str,
        attempt: u32,
        err: FeishuError,
    ) -> Result<(), FeishuError> {
        let policy = &self.inner.policy;
        if !err.is_retryable() || attempt >= policy.max_attempts {
            return Err(err);
        }
        // Never sooner than the backoff: a reset of 0 must not become a hot loop.
        let delay = err.retry_after().map_or_else(
            || backoff(policy, attempt),
            |d| d.max(backoff(policy, attempt)),
        );
        if let Some(deadline) = self.deadline
            && Instant::now() + delay + policy.reserve >= deadline
        {
            return Err(err);
        }
        warn!(
            api,
            attempt,
            delay_ms = delay.as_millis() as u64,
            "retrying: {err}"
        );
        tokio::time::sleep(delay).await;
        Ok(())
    }

    /// The request timeout for the next attempt: the policy's, shortened to the deadline.
    /// An unguarded create is only started with its whole timeout left, so that it either
    /// answers or times out before the invocation ends, never dies with it.
    fn attempt_timeout(&self, api: &'static str, unguarded: bool) -> Result<Duration, FeishuError> {
        let policy = &self.inner.policy;
        let Some(deadline) = self.deadline else {
            return Ok(policy.request_timeout);
        };
        let least = if unguarded {
            policy.request_timeout
        } else {
            Duration::from_millis(200)
        };
        let left = deadline
            .checked_duration_since(Instant::now())
            .and_then(|d| d.checked_sub(policy.reserve))
            .filter(|d| *d >= least)
            .ok_or(FeishuError::OutOfTime { api })?;
        Ok(left.min(policy.request_timeout))
    }

    async fn attempt<T: DeserializeOwned>(
        &self,
        call: &Call,
        token: &Secret,
    ) -> Result<Option<T>, FeishuError> {
        let started = Instant::now();
        let mut req = self
            .inner
            .http
            .request(
                call.method.clone(),
                format!("{}{}", self.inner.base_url, call.path),
            )
            .bearer_auth(token.expose())
            .header(CONTENT_TYPE, JSON)
            .timeout(self.attempt_timeout(call.api, call.unguarded.is_some())?);
        if !call.query.is_empty() {
            req = req.query(&call.query);
        }
        if let Some(body) = &call.body {
            req = req.body(body.clone());
        }
        let resp = req.send().await.map_err(|e| transport(call.api, &e))?;
        let status = resp.status().as_u16();
        let log_id = log_id(resp.headers());
        let retry_after = rate_limit_reset(resp.headers());
        let bytes = resp.bytes().await.map_err(|e| transport(call.api, &e))?;
        let head: AnswerCode = match serde_json::from_slice(&bytes) {
            Ok(head) => head,
            // A gateway's 429 page is still a rate limit, with its reset header.
            Err(_) if status == 429 => AnswerCode {
                code: RATE_LIMITED,
                msg: "rate limited (the answer was not JSON)".into(),
            },
            Err(e) => {
                return Err(FeishuError::Protocol {
                    api: call.api,
                    status,
                    detail: format!("the body is not Feishu's JSON envelope ({e})"),
                    log_id,
                });
            }
        };
        debug!(
            api = call.api,
            status,
            code = head.code,
            log_id = log_id.as_deref().unwrap_or(""),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "feishu call"
        );
        if head.code != 0 || !(200..300).contains(&status) {
            return Err(FeishuError::from_answer(
                call.api,
                status,
                head.code,
                head.msg,
                log_id,
                retry_after,
            ));
        }
        let data: Data<T> = serde_json::from_slice(&bytes).map_err(|e| FeishuError::Protocol {
            api: call.api,
            status,
            detail: format!("the data does not match the documented shape ({e})"),
            log_id,
        })?;
        Ok(data.data)
    }

    /// The cached tenant_access_token, fetched when missing or about to expire. The lock is
    /// held across the fetch so concurrent callers wait for one refresh instead of racing.
    async fn token(&self, api: &'static str) -> Result<Secret, FeishuError> {
        let mut slot = self.inner.token.lock().await;
        if let Some(t) = slot.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let fresh = self.fetch_token(api).await?;
        let value = fresh.value.clone();
        *slot = Some(fresh);
        Ok(value)
    }

    async fn evict(&self, used: &Secret) {
        let mut slot = self.inner.token.lock().await;
        if slot.as_ref().is_some_and(|t| &t.value == used) {
            *slot = None;
        }
    }

    async fn fetch_token(&self, api: &'static str) -> Result<CachedToken, FeishuError> {
        let timeout = self.attempt_timeout(api, false)?;
        let body = serde_json::json!({
            "app_id": self.inner.app_id,
            "app_secret": self.inner.app_secret.expose(),
        });
        let resp = self
            .inner
            .http
            .post(format!("{}{TOKEN_PATH}", self.inner.base_url))
            .header(CONTENT_TYPE, JSON)
            .timeout(timeout)
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| transport("auth.tenant_access_token", &e))?;
        let status = resp.status().as_u16();
        let log_id = log_id(resp.headers());
        let retry_after = rate_limit_reset(resp.headers());
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| transport("auth.tenant_access_token", &e))?;
        let answer: TokenAnswer =
            serde_json::from_slice(&bytes).map_err(|e| FeishuError::Protocol {
                api: "auth.tenant_access_token",
                status,
                detail: format!("the body is not a token answer ({e})"),
                log_id: log_id.clone(),
            })?;
        // The token fields sit at the top level, not in `data` (pitfall 12).
        match (answer.code, answer.tenant_access_token, answer.expire) {
            (0, Some(token), Some(expire)) if !token.is_empty() => {
                let lifetime = Duration::from_secs(expire);
                let policy = &self.inner.policy;
                // Refresh a few minutes early; for a short remaining life (Feishu hands out
                // the same token until < 30 min remain) refresh at half of it.
                let ahead = policy.token_refresh_ahead.min(lifetime / 2);
                debug!(expire, "fetched tenant_access_token");
                Ok(CachedToken {
                    value: Secret::new(token),
                    refresh_at: Instant::now() + lifetime - ahead,
                })
            }
            (0, _, _) => Err(FeishuError::Protocol {
                api: "auth.tenant_access_token",
                status,
                detail: "code 0 but no tenant_access_token/expire".into(),
                log_id,
            }),
            (code, _, _) => Err(FeishuError::from_answer(
                "auth.tenant_access_token",
                status,
                code,
                format!("{} (check FEISHU_APP_ID and FEISHU_APP_SECRET)", answer.msg),
                log_id,
                retry_after,
            )),
        }
    }
}

fn transport(api: &'static str, e: &reqwest::Error) -> FeishuError {
    // The whole chain: reqwest's own Display is often just "error sending request".
    FeishuError::Transport {
        api,
        detail: crate::error_chain(e),
        sent: !e.is_connect(),
    }
}

fn log_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("x-tt-logid")
        .or_else(|| headers.get("x-request-id"))
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn rate_limit_reset(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get("x-ogw-ratelimit-reset")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

/// Exponential backoff with jitter in [delay/2, delay], so retries from concurrent
/// processors spread out.
fn backoff(policy: &RetryPolicy, attempt: u32) -> Duration {
    let exp = policy
        .base_delay
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(policy.max_delay);
    let mut r = [0u8; 4];
    let fraction = match getrandom::fill(&mut r) {
        Ok(()) => f64::from(u32::from_le_bytes(r)) / f64::from(u32::MAX),
        Err(_) => 1.0,
    };
    exp.mul_f64(0.5 + fraction / 2.0)
}

/// Percent-encodes one path segment (instance codes, time-off ids such as
/// `timeoff:XXXX`, calendar ids with `@`).
pub(crate) fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy::default();
        for attempt in 1..10 {
            let d = backoff(&p, attempt);
            let exp = p.base_delay * 2u32.pow(attempt - 1);
            let cap = exp.min(p.max_delay);
            assert!(d >= cap / 2 && d <= cap, "attempt {attempt}: {d:?}");
        }
    }

    #[test]
    fn segments_are_escaped() {
        assert_eq!(segment("timeoff:AB-12"), "timeoff:AB-12");
        assert_eq!(segment("a/b c"), "a%2Fb%20c");
    }

    #[test]
    fn classification() {
        let c = |status, code, msg: &str| {
            FeishuError::from_answer("t", status, code, msg.into(), None, None)
        };
        assert!(c(429, 99991400, "").is_retryable());
        assert!(
            c(400, 99991400, "").is_retryable(),
            "older APIs rate-limit with 400"
        );
        for time_off_limit in [190004, 190005, 190010] {
            let e = c(200, time_off_limit, "rate limited");
            assert!(matches!(e, FeishuError::RateLimited { .. }), "{e:?}");
            assert!(e.proves_not_applied(&[]));
        }
        assert!(c(500, 1225000, "").is_retryable());
        assert!(c(400, 1220600, "no row affected").is_retryable());
        assert!(
            !c(
                400,
                1220600,
                "the attendance result has been sealed and can not modify"
            )
            .is_retryable()
        );
        assert!(!c(400, 1220004, "").is_retryable());
        assert!(
            c(200, 99991663, "").is_invalid_token(),
            "even inside an HTTP 200"
        );
        assert!(
            c(400, 99991663, "").is_retryable(),
            "a refused token is retried, not lost"
        );
        assert!(c(400, 1220600, "the object already exists").is_already_exists());
        assert!(c(400, 99991672, "scope").hint().is_some());
    }
}
