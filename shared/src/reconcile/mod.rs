//! The reconciler: compares what Feishu says happened to the configured approval
//! definitions with what the ledger says was done, and queues the difference for the
//! processor, so that nothing is lost past Feishu's ~7-hour retry window and exactly-once
//! still rests on the ledger alone.
//!
//! - [`discover`]: list each definition's instances by creation time from a checkpoint
//!   (minus a look-back), read those the ledger has never seen, queue the approved ones.
//! - [`recheck`]: re-read synced instances (within a horizon) for revokes whose event was
//!   missed; report failed and stuck items.
//! - [`plan`]: the decisions, pure; [`feed`]: the queue; [`report`]: what a run did.

mod discover;
mod feed;
pub mod plan;
mod recheck;
pub mod report;

use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;
use tracing::{info, warn};

use crate::config::ReconcilerConfig;
use crate::feishu::{FeishuClient, FeishuError};
use crate::ledger::{Ledger, LedgerError};
use crate::queue::{Queue, QueueError};
pub use report::Report;

/// Instance reads in flight at once: the detail API allows 50 a second.
const READ_CONCURRENCY: usize = 8;
/// A run stops starting new windows with less than this left; the checkpoint resumes it.
const WRAP_UP: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Feishu(#[from] FeishuError),
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Queue(#[from] QueueError),
}

/// How one run is asked to behave.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// List instances created this long ago instead of from the checkpoint (and leave the
    /// checkpoint alone).
    pub since: Option<Duration>,
    /// Read and report; queue and record nothing.
    pub dry_run: bool,
    /// When the run must be done (the Lambda's deadline); none for the CLI.
    pub deadline: Option<Instant>,
}

pub struct Reconciler {
    feishu: FeishuClient,
    ledger: Ledger,
    queue: Queue,
    config: ReconcilerConfig,
}

/// One run's clock, options and report.
struct Run {
    now: Timestamp,
    options: RunOptions,
    report: Report,
}

impl Run {
    fn now_ms(&self) -> i64 {
        self.now.as_millisecond()
    }

    fn out_of_time(&self) -> bool {
        self.options
            .deadline
            .is_some_and(|d| d.saturating_duration_since(Instant::now()) < WRAP_UP)
    }
}

impl Reconciler {
    pub fn new(
        feishu: FeishuClient,
        ledger: Ledger,
        queue: Queue,
        config: ReconcilerConfig,
    ) -> Self {
        Self {
            feishu,
            ledger,
            queue,
            config,
        }
    }

    pub fn from_config(
        config: ReconcilerConfig,
        aws: &aws_config::SdkConfig,
        feishu: FeishuClient,
    ) -> Self {
        let ledger = Ledger::new(
            aws_sdk_dynamodb::Client::new(aws),
            config.table_name.clone(),
        );
        let queue = Queue::new(aws_sdk_sqs::Client::new(aws), config.queue_url.clone());
        Self::new(feishu, ledger, queue, config)
    }

    /// One pass over every configured definition, then the synced instances. Errors end
    /// the part they happen in and are reported; the rest of the run goes on.
    pub async fn run(&self, options: RunOptions) -> Report {
        let started = std::time::Instant::now();
        let mut run = Run {
            now: Timestamp::now(),
            report: Report {
                dry_run: options.dry_run,
                ..Report::default()
            },
            options,
        };
        match self.tenant(&mut run).await {
            Ok(tenant) => {
                for code in self.config.approval_codes() {
                    if let Err(e) = self.discover(code, &tenant, &mut run).await {
                        warn!(approval_code = %code, error = %e, "reconcile: listing stopped");
                        run.report.errors.push(format!("{code}: {e}"));
                    }
                }
            }
            Err(e) => run.report.errors.push(format!(
                "cannot tell the tenant: {e} (set FEISHU_TENANT_KEY, or add the scope \
                 tenant:tenant:readonly)"
            )),
        }
        if let Err(e) = self.recheck(&mut run).await {
            warn!(error = %e, "reconcile: re-reading synced instances stopped");
            run.report
                .errors
                .push(format!("re-reading synced instances: {e}"));
        }
        run.report.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let r = &run.report;
        info!(
            seen = r.seen,
            rechecked = r.rechecked,
            feishu_calls = r.feishu_calls,
            enqueued = r.enqueued.len(),
            attention = r.attention.len(),
            errors = r.errors.len(),
            elapsed_ms = r.elapsed_ms,
            dry_run = r.dry_run,
            "reconcile run finished"
        );
        run.report
    }

    async fn tenant(&self, run: &mut Run) -> Result<String, FeishuError> {
        if let Some(t) = &self.config.tenant_key {
            return Ok(t.clone());
        }
        run.report.feishu_calls += 1;
        self.feishu(run).tenant_key().await
    }

    /// The client, bounded by the run's deadline when it has one.
    fn feishu(&self, run: &Run) -> FeishuClient {
        match run.options.deadline {
            Some(d) => self.feishu.until(d),
            None => self.feishu.clone(),
        }
    }
}
