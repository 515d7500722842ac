//! `leave-sync digest [--date D] [--chat oc_...]`: post the who's-out card now, as the
//! scheduled function does (once per chat and day: a second run posts nothing new).

use std::io::Write;

use jiff::civil::Date;
use shared::config::DigestConfig;
use shared::digest::Digest;
use shared::feishu::FeishuClient;
use shared::ledger::{Lease, Ledger};

use crate::deployment::{CliError, Deployment};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// The day to post for (default: today in TENANT_TIMEZONE).
    #[arg(long)]
    pub date: Option<Date>,
    /// The chats to post to, instead of DIGEST_CHAT_IDS (comma-separated oc_... ids).
    #[arg(long = "chat", value_delimiter = ',')]
    pub chats: Vec<String>,
}

/// Returns whether every chat has its card.
pub async fn run(
    deployment: &mut Deployment,
    args: &Args,
    out: &mut dyn Write,
) -> Result<bool, CliError> {
    let table = deployment.table_name()?;
    deployment.set("TABLE_NAME", &table);
    if !args.chats.is_empty() {
        deployment.set("DIGEST_CHAT_IDS", args.chats.join(","));
    }
    let config = DigestConfig::load(&deployment.env(), &deployment.aws).await?;
    let feishu = FeishuClient::new(&config.feishu).map_err(|e| CliError::Other(e.to_string()))?;
    let ledger = Ledger::new(deployment.dynamodb(), table);
    let digest = Digest::new(feishu, ledger, config);
    let day = args
        .date
        .unwrap_or_else(|| digest.day_at(jiff::Timestamp::now()));
    let lease = Lease {
        owner: format!("cli-{}", std::process::id()),
        until: jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60),
    };
    let report = digest
        .post(day, &lease)
        .await
        .map_err(|e| CliError::Other(e.to_string()))?;
    let _ = writeln!(
        out,
        "who's out for {day}: {} index item(s) read",
        report.items_read
    );
    for chat in &report.posted {
        let _ = writeln!(out, "✓ {chat}: posted");
    }
    for chat in &report.already_posted {
        let _ = writeln!(out, "✓ {chat}: already posted today");
    }
    for (chat, why) in &report.failed {
        let _ = writeln!(out, "✗ {chat}: {why}");
    }
    Ok(report.failed.is_empty())
}
