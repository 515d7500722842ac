//! The long connection's bootstrap: `POST {domain}/callback/ws/endpoint` with the app's
//! credentials, answered with the WebSocket URL and the client settings (the official
//! SDKs' `getConnURL` / `_get_conn_url`; research ws-protocol.md §1).

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use shared::config::FeishuAppConfig;

/// The settings Feishu gives a client (seconds; the SDKs' defaults when absent: a key
/// the server leaves out must not become a zero interval).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientConfig {
    /// Negative: reconnect forever.
    pub reconnect_count: i64,
    pub reconnect_interval: Duration,
    /// The first reconnect waits a random part of this.
    pub reconnect_nonce: Duration,
    pub ping_interval: Duration,
}

impl Default for ClientConfig {
    fn default() -> Self {
        Self {
            reconnect_count: -1,
            reconnect_interval: Duration::from_secs(120),
            reconnect_nonce: Duration::from_secs(30),
            ping_interval: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct WireConfig {
    reconnect_count: Option<i64>,
    reconnect_interval: Option<u64>,
    reconnect_nonce: Option<u64>,
    ping_interval: Option<u64>,
}

impl ClientConfig {
    /// `wire` applied over `self`: what the server says, and only that.
    pub fn updated(self, wire: &WireConfig) -> Self {
        let secs =
            |v: Option<u64>, old: Duration| v.filter(|s| *s > 0).map_or(old, Duration::from_secs);
        Self {
            reconnect_count: wire.reconnect_count.unwrap_or(self.reconnect_count),
            reconnect_interval: secs(wire.reconnect_interval, self.reconnect_interval),
            reconnect_nonce: wire
                .reconnect_nonce
                .map_or(self.reconnect_nonce, Duration::from_secs),
            ping_interval: secs(wire.ping_interval, self.ping_interval),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    /// `service_id` from the URL: every ping carries it.
    pub service: i32,
    /// `device_id` from the URL: the connection's id, for the logs (the URL itself
    /// carries an access key and is not logged).
    pub device_id: String,
    pub config: ClientConfig,
}

/// Why no connection: `Fatal` stops (retrying cannot help), `Retry` is tried again.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    #[error("{0}")]
    Fatal(String),
    #[error("{0}")]
    Retry(String),
}

/// Codes the SDKs retry (`SystemBusy`, `InternalError`); any other non-zero code is the
/// app's or the console's (wrong credentials, not a self-built app, too many
/// connections) and stops them.
const RETRYABLE: [i64; 2] = [1, 1_000_040_343];
const EXCEED_CONN_LIMIT: i64 = 1_000_040_350;

pub async fn fetch(
    http: &reqwest::Client,
    app: &FeishuAppConfig,
) -> Result<Endpoint, ConnectError> {
    #[derive(Deserialize)]
    struct Resp {
        code: i64,
        #[serde(default)]
        msg: String,
        data: Option<Data>,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "PascalCase")]
    struct Data {
        #[serde(rename = "URL")]
        url: Option<String>,
        client_config: Option<WireConfig>,
    }
    let url = format!(
        "{}/callback/ws/endpoint",
        app.base_url.trim_end_matches('/')
    );
    let body = json!({ "AppID": app.app_id, "AppSecret": app.app_secret.expose() });
    let sent = http
        .post(&url)
        .header("locale", "zh")
        .json(&body)
        .send()
        .await;
    let resp = sent.map_err(|e| ConnectError::Retry(format!("endpoint {url}: {e}")))?;
    let status = resp.status();
    // Any HTTP status but 200 is retried, whatever the body says (as the SDKs do).
    if !status.is_success() {
        return Err(ConnectError::Retry(format!(
            "endpoint answered HTTP {status}"
        )));
    }
    let resp: Resp = resp
        .json()
        .await
        .map_err(|e| ConnectError::Retry(format!("endpoint answered HTTP {status}: {e}")))?;
    if resp.code != 0 {
        return Err(refused(resp.code, &resp.msg));
    }
    let data = resp
        .data
        .ok_or_else(|| ConnectError::Retry("endpoint gave no data".into()))?;
    endpoint_of(data.url, data.client_config)
}

/// The URL and its ids, and the settings over the SDKs' defaults.
fn endpoint_of(url: Option<String>, wire: Option<WireConfig>) -> Result<Endpoint, ConnectError> {
    let ws_url = url.filter(|u| !u.is_empty());
    let ws_url = ws_url.ok_or_else(|| ConnectError::Retry("endpoint gave no URL".into()))?;
    let service = query(&ws_url, "service_id")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| ConnectError::Retry("the URL has no service_id that fits an i32".into()))?;
    let device_id = query(&ws_url, "device_id").unwrap_or_default();
    let wire = wire.unwrap_or_default();
    Ok(Endpoint {
        url: ws_url,
        service,
        device_id,
        config: ClientConfig::default().updated(&wire),
    })
}

/// What a refusal means, and what to do about it.
fn refused(code: i64, msg: &str) -> ConnectError {
    if RETRYABLE.contains(&code) {
        return ConnectError::Retry(format!("Feishu is busy ({code}: {msg})"));
    }
    let fix = match code {
        EXCEED_CONN_LIMIT => {
            "the app has its 50 long connections already (each running client is one): stop \
             one, or use the webhook"
        }
        _ => {
            "check FEISHU_APP_ID and FEISHU_APP_SECRET (Credentials & Basic Info); the long \
             connection is for self-built apps (企业自建应用) only, store apps use the webhook"
        }
    };
    ConnectError::Fatal(format!(
        "Feishu refused the long connection ({code}: {msg}): {fix}"
    ))
}

fn query(url: &str, key: &str) -> Option<String> {
    let (_, q) = url.split_once('?')?;
    q.split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_keep_their_defaults_where_the_server_says_nothing() {
        let wire: WireConfig =
            serde_json::from_str(r#"{"PingInterval": 5, "ReconnectInterval": 0}"#).unwrap();
        let c = ClientConfig::default().updated(&wire);
        assert_eq!(c.ping_interval, Duration::from_secs(5));
        assert_eq!(
            c.reconnect_interval,
            Duration::from_secs(120),
            "0 is no interval"
        );
        assert_eq!(c.reconnect_count, -1);
        assert_eq!(
            query(
                "wss://x/ws/v2?fpid=1&device_id=7&service_id=33554678",
                "service_id"
            )
            .as_deref(),
            Some("33554678")
        );
        assert!(matches!(refused(1, "busy"), ConnectError::Retry(_)));
        let e = refused(EXCEED_CONN_LIMIT, "limit");
        assert!(matches!(e, ConnectError::Fatal(_)) && e.to_string().contains("50"));
    }
}
