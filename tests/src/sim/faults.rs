//! Faults the simulator injects on demand, per API.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// A gateway error: HTTP 503 with a non-JSON body.
    Unavailable,
    /// An internal error inside Feishu's JSON envelope: HTTP 500, code 1225000.
    Internal,
    /// HTTP 429, code 99991400, `x-ogw-ratelimit-reset: reset_secs`.
    RateLimited { reset_secs: u64 },
    /// HTTP 429 from the gateway with a plain-text page, not Feishu's JSON envelope, and
    /// `x-ogw-ratelimit-reset: reset_secs`.
    RateLimitedPage { reset_secs: u64 },
    /// The presented token is revoked: code 99991663 (inside an HTTP 200 when `in_200`).
    InvalidToken { in_200: bool },
    /// Do the work at once, but answer only after `ms` milliseconds.
    Slow { ms: u64 },
    /// Neither do the work nor answer (until the caller gives up): a call cut off before
    /// Feishu acted on it.
    Stall,
    /// Perform the operation, then answer HTTP 502 as if the response had been lost.
    CommitThenFail,
    /// Perform the operation, then answer this instead of its real answer (an answer
    /// without the data the caller needs, or an error after the work was done).
    CommitThenAnswer { status: u16, code: i64, msg: String },
    /// Answer with this error instead (a permanent one: a missing scope, a sealed period).
    Answer { status: u16, code: i64, msg: String },
}

/// A rule: after `after` calls to `api` (a `METHOD /path` pattern, or `*`) pass, the next
/// `times` calls get `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub api: String,
    #[serde(flatten)]
    pub kind: FaultKind,
    pub times: u32,
    #[serde(default)]
    pub after: u32,
}

impl Fault {
    pub fn new(api: &str, kind: FaultKind) -> Self {
        Self {
            api: api.to_owned(),
            kind,
            times: 1,
            after: 0,
        }
    }

    /// Lets the first `n` matching calls through first (a failure in the middle of a scan).
    pub fn after(mut self, n: u32) -> Self {
        self.after = n;
        self
    }

    pub fn times(mut self, n: u32) -> Self {
        self.times = n;
        self
    }

    pub(crate) fn matches(&self, api: &str) -> bool {
        self.times > 0 && (self.api == "*" || self.api == api)
    }
}
