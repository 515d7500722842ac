//! Feishu's long connection (长连接): events and card callbacks over a WebSocket the app
//! opens, no public URL needed (reference 7.10). Each one goes into the same path as a
//! webhook's after authentication ([`shared::ingress::Ingress::handle_trusted`]) and is
//! acked only once it is on the queue; a failure to queue acks with an error so that
//! Feishu delivers it again. Reconnects with a random first delay, then a delay that
//! doubles up to the server's interval, as often as the server allows.
//!
//! - [`frame`]: the protobuf frame; [`endpoint`]: the bootstrap request and its errors;
//!   [`session`]: one connection (pings, reassembly, acks).

pub mod endpoint;
pub mod frame;
pub mod session;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

use endpoint::{ClientConfig, ConnectError};
use shared::config::FeishuAppConfig;
use shared::ingress::Ingress;

/// What became of one message: acked with `200` (and a callback's answer) or `500`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handled {
    pub ok: bool,
    pub data: Option<Vec<u8>>,
}

pub trait Handler: Send + Sync {
    fn handle<'a>(
        &'a self,
        payload: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = Handled> + Send + 'a>>;
}

/// The ingress's own path: routed and queued like a webhook.
pub struct IngressHandler(pub Arc<Ingress>);

impl Handler for IngressHandler {
    fn handle<'a>(
        &'a self,
        payload: &'a [u8],
    ) -> Pin<Box<dyn Future<Output = Handled> + Send + 'a>> {
        Box::pin(async move {
            let reply = self.0.handle_trusted(payload).await;
            // A card callback's answer (its toast) goes back to Feishu in the ack.
            let answer = serde_json::from_str::<serde_json::Value>(&reply.body).ok();
            let toast = answer.filter(|a| a.get("toast").is_some());
            Handled {
                ok: reply.status == 200,
                data: toast.map(|t| t.to_string().into_bytes()),
            }
        })
    }
}

fn http() -> Result<reqwest::Client, ConnectError> {
    shared::aws::install_crypto_provider();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .map_err(|e| ConnectError::Fatal(e.to_string()))
}

/// Whether Feishu would give this app a long connection (`leave-sync doctor`): the
/// bootstrap request alone. No socket is opened, so that no event goes to a client that
/// would not ack it.
pub async fn probe(app: &FeishuAppConfig) -> Result<(), ConnectError> {
    endpoint::fetch(&http()?, app).await.map(|_| ())
}

/// Runs until `shutdown` turns true (`Ok`) or Feishu refuses for good (`Err`, with what to
/// fix).
pub async fn run(
    app: &FeishuAppConfig,
    handler: Arc<dyn Handler>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), ConnectError> {
    let http = http()?;
    let mut config = ClientConfig::default();
    let (mut failures, mut dropped) = (0i64, false);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let Some(opened) = open_unless_stopped(&http, app, &shutdown).await else {
            return Ok(());
        };
        let since = tokio::time::Instant::now();
        let ended = match opened {
            Ok((ep, socket)) => {
                config = ep.config;
                let handler = Arc::clone(&handler);
                Ok(session::run(socket, &ep, handler, &mut config, &mut shutdown).await)
            }
            Err(e) => Err(e),
        };
        match ended {
            Ok(session::Ended::Shutdown) => return Ok(()),
            Ok(session::Ended::Dropped(why)) => {
                warn!("long connection dropped: {why}; reconnecting");
                // A connection that drops at once counts as a failed attempt, so that a
                // server closing every connection is not reconnected to in a tight loop.
                let brief = since.elapsed() < Duration::from_secs(10);
                (failures, dropped) = if brief {
                    (failures + 1, false)
                } else {
                    (0, true)
                };
            }
            Err(ConnectError::Fatal(why)) => return Err(ConnectError::Fatal(why)),
            Err(ConnectError::Retry(why)) => {
                failures += 1;
                warn!(failures, "long connection not open: {why}");
                if config.reconnect_count >= 0 && failures > config.reconnect_count {
                    return Err(ConnectError::Fatal(format!(
                        "no long connection after {failures} attempts: {why}"
                    )));
                }
            }
        }
        let wait = delay(&config, failures, std::mem::take(&mut dropped));
        info!(wait_ms = wait.as_millis() as u64, "reconnecting");
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = shutdown.changed() => return Ok(()),
        }
    }
}

/// The bootstrap and the handshake, unless `shutdown` comes first (`None`: nothing is
/// open yet, so nothing to close; once open, the session closes the socket itself).
async fn open_unless_stopped(
    http: &reqwest::Client,
    app: &FeishuAppConfig,
    shutdown: &watch::Receiver<bool>,
) -> Option<Result<(endpoint::Endpoint, session::Socket), ConnectError>> {
    let mut stop = shutdown.clone();
    let opening = async {
        let ep = endpoint::fetch(http, app).await?;
        let socket = session::open(&ep).await?;
        Ok((ep, socket))
    };
    tokio::select! {
        opened = opening => Some(opened),
        _ = stop.changed() => None,
    }
}

/// After a drop, a random part of `ReconnectNonce` (so that many clients do not come back
/// at once); after failed attempts, 1 s doubling up to `ReconnectInterval`.
fn delay(config: &ClientConfig, failures: i64, just_dropped: bool) -> Duration {
    if just_dropped {
        let mut byte = [0u8; 2];
        let _ = getrandom::fill(&mut byte);
        let share = f64::from(u16::from_le_bytes(byte)) / f64::from(u16::MAX);
        return config.reconnect_nonce.mul_f64(share);
    }
    let doubling = Duration::from_secs(1u64 << failures.clamp(0, 16));
    doubling.min(config.reconnect_interval)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reconnects_wait_a_random_first_delay_then_back_off_to_the_interval() {
        let config = ClientConfig {
            reconnect_interval: Duration::from_secs(10),
            reconnect_nonce: Duration::from_secs(3),
            ..ClientConfig::default()
        };
        assert!(delay(&config, 0, true) <= Duration::from_secs(3));
        assert_eq!(delay(&config, 1, false), Duration::from_secs(2));
        assert_eq!(delay(&config, 3, false), Duration::from_secs(8));
        assert_eq!(delay(&config, 9, false), Duration::from_secs(10), "capped");
    }
}
