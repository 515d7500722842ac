//! `leave-sync reconcile [--since 30d] [--dry-run]`: the reconciler's run, from a shell.
//! Reads the same settings as the reconciler function; on a local stack, the dev queue and
//! table are the defaults. The first run after installing is the backfill.

use std::collections::HashMap;
use std::io::Write;
use std::time::Duration;

use shared::config::{Layered, ReconcilerConfig};
use shared::feishu::FeishuClient;
use shared::reconcile::{Reconciler, Report, RunOptions};

use crate::deployment::{CliError, Deployment};

#[derive(Debug, Clone, Default, clap::Args)]
pub struct Args {
    /// List the instances created this long ago (90s, 10m, 12h, 1d, 30d) instead of
    /// from the checkpoint; the checkpoint is left as it is.
    #[arg(long, value_parser = shared::duration::parse)]
    pub since: Option<Duration>,
    /// Report what would be queued; queue and record nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// The reconciler for this deployment's settings.
pub async fn reconciler(deployment: &Deployment) -> Result<Reconciler, CliError> {
    let defaults = HashMap::from([
        ("QUEUE_URL".to_owned(), deployment.queue_url().await?),
        ("TABLE_NAME".to_owned(), deployment.table_name()?),
    ]);
    let env = deployment.env();
    let config = ReconcilerConfig::load(&Layered(&env, &defaults), &deployment.aws).await?;
    let feishu = FeishuClient::new(&config.feishu).map_err(|e| CliError::Other(e.to_string()))?;
    Ok(Reconciler::from_config(config, &deployment.aws, feishu))
}

/// Prints the run's report; `Ok(false)` when the run met errors.
pub async fn run(
    deployment: &Deployment,
    args: &Args,
    out: &mut dyn Write,
) -> Result<(Report, bool), CliError> {
    let reconciler = reconciler(deployment).await?;
    let report = reconciler
        .run(RunOptions {
            since: args.since,
            dry_run: args.dry_run,
            deadline: None,
        })
        .await;
    let _ = write!(out, "{report}");
    let ok = report.errors.is_empty();
    Ok((report, ok))
}
