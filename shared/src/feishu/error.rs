//! Feishu API errors, classified from the body `code` as well as the HTTP status
//! (reference §0: non-zero codes arrive with HTTP 200, 400, 429 or 500).

use std::fmt;
use std::time::Duration;

/// What a caller can do about an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Class {
    /// The token was refused; the client fetches a new one and retries. Retryable: a
    /// refusal of a fresh token is usually a race with its rotation, and a persistent one
    /// ends in the dead-letter queue with the reason rather than being dropped.
    InvalidToken,
    /// Likely to succeed later: 5xx, rate limits, optimistic-lock conflicts, network.
    Transient,
    /// Will fail the same way until something is changed (scope, user, data).
    Permanent,
}

#[derive(Debug, thiserror::Error)]
pub enum FeishuError {
    #[error("{api}: Feishu answered code {code} \"{msg}\" (HTTP {status}{})", LogId(.log_id))]
    Api {
        api: &'static str,
        status: u16,
        code: i64,
        msg: String,
        log_id: Option<String>,
        class: Class,
    },
    #[error(
        "{api}: rate limited (HTTP {status}, code {code}), retry after {}{}",
        .retry_after.map(|d| format!("{} s", d.as_secs())).unwrap_or_else(|| "an unspecified time".into()),
        LogId(.log_id)
    )]
    RateLimited {
        api: &'static str,
        status: u16,
        code: i64,
        retry_after: Option<Duration>,
        log_id: Option<String>,
    },
    #[error("{api}: request failed: {detail}")]
    Transport {
        api: &'static str,
        detail: String,
        /// False when the connection was never made: Feishu cannot have acted on it.
        sent: bool,
    },
    #[error("{api}: unexpected response (HTTP {status}): {detail}{}", LogId(.log_id))]
    Protocol {
        api: &'static str,
        status: u16,
        detail: String,
        log_id: Option<String>,
    },
    #[error("{api}: not attempted, the invocation has too little time left")]
    OutOfTime { api: &'static str },
    /// The request was never sent: what stopped it (the token fetch) failed.
    #[error("{api}: not sent: {source}")]
    NotSent {
        api: &'static str,
        #[source]
        source: Box<FeishuError>,
    },
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
}

struct LogId<'a>(&'a Option<String>);

impl fmt::Display for LogId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(id) => write!(f, ", log id {id}"),
            None => Ok(()),
        }
    }
}

/// Codes after which the token must be refreshed (doc "服务端错误码说明"; the Go SDK's set
/// plus 99991665 "tenant_access_token illegal").
pub const INVALID_TOKEN_CODES: [i64; 4] = [99991663, 99991664, 99991665, 99991671];
pub const RATE_LIMITED: i64 = 99991400;
/// IM's own frequency limit (5 QPS per recipient).
pub const IM_RATE_LIMITED: i64 = 230020;
/// Rate limits under their own codes: the gateway's, IM's, and the time-off API's method,
/// app and shared-resource limits (doc "创建请假日程": 429/190004, 429/190005, 429/190010,
/// 「适当降低当前操作频率，然后重试」). Read by code too, in case one comes without the 429.
const RATE_LIMIT_CODES: [i64; 5] = [RATE_LIMITED, IM_RATE_LIMITED, 190004, 190005, 190010];
/// Refusals the gateway makes before any API acts (doc "服务端错误码说明"): a missing scope,
/// a blocked IP, an exhausted quota, a malformed token, a rate limit.
const GATEWAY_REFUSALS: [i64; 6] = [
    99991672,
    99991401,
    99991403,
    99991661,
    99991671,
    RATE_LIMITED,
];
/// Internal errors and optimistic-lock conflicts, worth retrying: attendance's 1225000 and
/// 1227500, approval's 65001 and 60014 (doc "通用错误码") and v4's 1395001 ("There have
/// been some errors. Please try again later": 「降低请求频率，并重试」, reference §7.2).
const TRANSIENT_CODES: [i64; 5] = [1225000, 1227500, 65001, 60014, 1395001];

impl FeishuError {
    /// Classifies a non-zero `code` answer.
    pub fn from_answer(
        api: &'static str,
        status: u16,
        code: i64,
        msg: String,
        log_id: Option<String>,
        retry_after: Option<Duration>,
    ) -> Self {
        if RATE_LIMIT_CODES.contains(&code) || status == 429 {
            return Self::RateLimited {
                api,
                status,
                code,
                retry_after,
                log_id,
            };
        }
        let class = if INVALID_TOKEN_CODES.contains(&code) {
            Class::InvalidToken
        } else if status >= 500
            || TRANSIENT_CODES.contains(&code)
            // Attendance's optimistic-lock conflict: "retry".
            || msg.contains("no row affected")
        {
            Class::Transient
        } else {
            Class::Permanent
        };
        Self::Api {
            api,
            status,
            code,
            msg,
            log_id,
            class,
        }
    }

    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Api { class, .. } => matches!(class, Class::Transient | Class::InvalidToken),
            Self::RateLimited { .. } | Self::Transport { .. } | Self::OutOfTime { .. } => true,
            Self::NotSent { source, .. } => source.is_retryable(),
            Self::Protocol { status, .. } => *status >= 500 || *status == 429,
            Self::Client(_) => false,
        }
    }

    /// Whether the error proves that Feishu did not carry the request out, so that a
    /// create without an idempotency key may be sent again without risking a duplicate.
    /// Proof: a rate limit (the gateway turns the request away), a refused token or a
    /// missing scope or IP (the gateway checks those first), one of the API's documented
    /// refusals in `refusals` (validation, an unknown user...), a connection never made, a
    /// call never started or never sent. No proof: a 5xx, a gateway page, a timeout, a
    /// reset after the request went out, or a code the API does not document as a refusal:
    /// Feishu may have stored it.
    pub fn proves_not_applied(&self, refusals: &[i64]) -> bool {
        match self {
            Self::Api { code, class, .. } => {
                *class == Class::InvalidToken
                    || GATEWAY_REFUSALS.contains(code)
                    || refusals.contains(code)
            }
            Self::RateLimited { .. }
            | Self::OutOfTime { .. }
            | Self::Client(_)
            | Self::NotSent { .. } => true,
            Self::Transport { sent, .. } => !sent,
            Self::Protocol { .. } => false,
        }
    }

    pub fn is_invalid_token(&self) -> bool {
        matches!(
            self,
            Self::Api {
                class: Class::InvalidToken,
                ..
            }
        )
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::RateLimited { retry_after, .. } => *retry_after,
            Self::NotSent { source, .. } => source.retry_after(),
            _ => None,
        }
    }

    pub fn code(&self) -> Option<i64> {
        match self {
            Self::Api { code, .. } | Self::RateLimited { code, .. } => Some(*code),
            Self::NotSent { source, .. } => source.code(),
            _ => None,
        }
    }

    pub fn msg(&self) -> &str {
        match self {
            Self::Api { msg, .. } => msg,
            _ => "",
        }
    }

    /// Attendance's answer to a duplicate `idempotent_id` ("the object already exists";
    /// the accompanying code is not documented, so the message decides).
    pub fn is_already_exists(&self) -> bool {
        self.msg().contains("already exists")
    }

    /// What an operator should do, for the codes whose fix is known.
    pub fn hint(&self) -> Option<&'static str> {
        Some(match self.code()? {
            99991672 => {
                "the app lacks an API scope: enable the scope named in the message \
                 (developer console > Permissions & Scopes), then publish a new app version"
            }
            99991663 | 99991664 | 99991665 | 99991671 => {
                "the access token was refused even after a refresh: check FEISHU_APP_ID and \
                 FEISHU_APP_SECRET, and that the API accepts tenant_access_token"
            }
            99991401 => "the caller's IP is blocked by the app's IP allow-list",
            99991403 => "the tenant's monthly API quota is exhausted",
            1220004 => {
                "the user does not exist in attendance or the app may not see them: check the \
                 user's attendance group and the app's availability range"
            }
            1220005 => {
                "no data permission: add the users to the app's data scope in the attendance \
                 admin console (Attendance > Settings > Open API permissions)"
            }
            230006 => "enable the bot ability (developer console > Features > Bot) and publish",
            230013 => {
                "the employee is outside the app's availability range (or has left): add them \
                 to the range and publish a new version"
            }
            230053 => "the employee has stopped the bot; they must re-enable it to get messages",
            195100 => {
                "the employee has left the company or is not in the tenant (Feishu 195100): \
                 nothing can be written to their calendar; no action unless they come back"
            }
            60002 | 1390002 => {
                "no approval definition has this code: copy it from the approval admin console"
            }
            230027 => "enable im:message:send_as_bot and publish a new app version",
            _ => return None,
        })
    }
}
