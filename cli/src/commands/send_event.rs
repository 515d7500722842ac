//! `leave-sync send-event FILE`: posts an event the way Feishu would (the verification
//! token replaced by the configured one, the body encrypted and signed with the Encrypt
//! Key), to test a deployment or the dev server end to end.

use std::io::Write;
use std::path::PathBuf;

use serde_json::Value;
use shared::config::WebhookConfig;
use shared::webhook::{EncryptKey, HEADER_NONCE, HEADER_SIGNATURE, HEADER_TIMESTAMP};

use crate::deployment::{CliError, Deployment};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// A plain JSON event, as in infra/events/.
    pub file: PathBuf,
    /// Where to post it: the dev server or the deployed WebhookUrl.
    #[arg(long, default_value = "http://127.0.0.1:3000/webhook/event")]
    pub url: String,
    /// Send the body unencrypted even when FEISHU_ENCRYPT_KEY is set (still signed).
    #[arg(long)]
    pub plain: bool,
}

/// Returns whether the endpoint answered 2xx.
pub async fn run(
    deployment: &Deployment,
    args: &Args,
    out: &mut dyn Write,
) -> Result<bool, CliError> {
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::Other(format!("cannot read {}: {e}", args.file.display())))?;
    let mut event: Value = serde_json::from_str(&text)
        .map_err(|e| CliError::Other(format!("{} is not JSON: {e}", args.file.display())))?;
    // The same settings the ingress checks against (values or SSM parameters).
    let webhook = WebhookConfig::load(&deployment.env(), &deployment.aws).await?;
    set_token(&mut event, webhook.verification_token.expose());
    let plain = event.to_string().into_bytes();
    let key = webhook.encrypt_key.map(EncryptKey::new);
    let body = match (&key, args.plain) {
        (Some(k), false) => {
            let encrypted = k
                .encrypt_random_iv(&plain)
                .map_err(|e| CliError::Other(format!("no randomness for the IV: {e}")))?;
            serde_json::json!({ "encrypt": encrypted })
                .to_string()
                .into_bytes()
        }
        _ => plain,
    };
    shared::aws::install_crypto_provider();
    let mut req = reqwest::Client::new()
        .post(&args.url)
        .header("content-type", "application/json; charset=utf-8");
    if let Some(k) = &key {
        let timestamp = jiff::Timestamp::now().as_second().to_string();
        let mut n = [0u8; 8];
        getrandom::fill(&mut n).map_err(|e| CliError::Other(e.to_string()))?;
        let nonce: String = n.iter().map(|b| format!("{b:02x}")).collect();
        req = req
            .header(HEADER_TIMESTAMP, &timestamp)
            .header(HEADER_NONCE, &nonce)
            .header(HEADER_SIGNATURE, k.signature(&timestamp, &nonce, &body));
    }
    let resp = req
        .body(body)
        .send()
        .await
        .map_err(|e| CliError::Other(format!("cannot post to {}: {e}", args.url)))?;
    let status = resp.status();
    let answer = resp.text().await.unwrap_or_default();
    let _ = writeln!(
        out,
        "{} → HTTP {} {answer}",
        args.file.display(),
        status.as_u16()
    );
    Ok(status.is_success())
}

fn set_token(event: &mut Value, token: &str) {
    if let Some(header) = event.get_mut("header").and_then(Value::as_object_mut) {
        header.insert("token".into(), token.into());
    } else if let Some(obj) = event.as_object_mut() {
        obj.insert("token".into(), token.into());
    }
}
