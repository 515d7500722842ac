//! `leave-sync subscribe --approval-code CODE...`: approval events only reach the app
//! after it subscribes to each approval definition (reference pitfall 11).

use std::io::Write;

use shared::config::FeishuAppConfig;
use shared::feishu::FeishuClient;
use shared::feishu::approval::Subscription;

use crate::deployment::{CliError, Deployment};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Approval definition codes (the leave forms, and every code in CUSTOM_APPROVAL_CODES).
    #[arg(long = "approval-code", required = true, num_args = 1..)]
    pub approval_codes: Vec<String>,
}

/// Returns whether every code is subscribed.
pub async fn run(
    deployment: &Deployment,
    args: &Args,
    out: &mut dyn Write,
) -> Result<bool, CliError> {
    let config = FeishuAppConfig::load(&deployment.env(), &deployment.aws).await?;
    let client = FeishuClient::new(&config).map_err(|e| CliError::Other(e.to_string()))?;
    let mut all_ok = true;
    for code in &args.approval_codes {
        match client.subscribe(code).await {
            Ok(Subscription::Subscribed) => {
                let _ = writeln!(out, "✓ {code}: subscribed");
            }
            Ok(Subscription::AlreadySubscribed) => {
                let _ = writeln!(out, "✓ {code}: already subscribed");
            }
            Err(e) => {
                all_ok = false;
                let hint = e.hint();
                let _ = writeln!(
                    out,
                    "✗ {code}: {e}{}",
                    hint.map(|h| format!(" — {h}")).unwrap_or_default()
                );
            }
        }
    }
    Ok(all_ok)
}
