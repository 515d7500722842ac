//! `leave-sync status`: queue depths, to see a backlog (or wait for it to drain).

use std::io::Write;
use std::time::{Duration, Instant};

use crate::deployment::{CliError, Deployment};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Wait up to this many seconds for the queue to be empty (nothing waiting, nothing
    /// in flight); exit 1 if it is not.
    #[arg(long, value_name = "SECONDS")]
    pub wait: Option<u64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Depth {
    pub waiting: u64,
    pub in_flight: u64,
}

pub async fn depth(deployment: &Deployment, url: &str) -> Result<Depth, CliError> {
    let (waiting, in_flight) = deployment.queue(url).depth().await?;
    Ok(Depth { waiting, in_flight })
}

/// Returns false when `--wait` ran out before the queue drained.
pub async fn run(
    deployment: &Deployment,
    args: &Args,
    out: &mut dyn Write,
) -> Result<bool, CliError> {
    let queue = deployment.queue_url().await?;
    let dlq = deployment.dead_letter_url(&queue).await?;
    let deadline = args.wait.map(|s| Instant::now() + Duration::from_secs(s));
    let mut q = depth(deployment, &queue).await?;
    while let Some(d) = deadline {
        if q.waiting + q.in_flight == 0 || Instant::now() >= d {
            break;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
        q = depth(deployment, &queue).await?;
    }
    let d = depth(deployment, &dlq).await?;
    let _ = writeln!(
        out,
        "queue             {} waiting, {} in flight  ({queue})",
        q.waiting, q.in_flight
    );
    let _ = writeln!(
        out,
        "dead-letter queue {} waiting               ({dlq})",
        d.waiting + d.in_flight
    );
    if d.waiting + d.in_flight > 0 {
        let _ = writeln!(
            out,
            "  → see why with `leave-sync redrive --dry-run`; after fixing the cause, `leave-sync redrive`"
        );
    }
    Ok(deadline.is_none() || q.waiting + q.in_flight == 0)
}
