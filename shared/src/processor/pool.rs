//! Runs a batch's records: groups concurrently (bounded), the records of a group one after
//! another, each record isolated so that a panic (a bug) fails that record alone.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use tracing::error;

use super::Disposition;
use crate::telemetry::alert;

/// Runs every `(message id, item)` of `groups` through `run`, at most `concurrency` groups
/// at a time. Returns each message id with its disposition. A record whose `run` panics
/// is reported for a retry (SQS delivers it again, and after maxReceiveCount parks it);
/// the records running beside it finish their steps. This needs `panic = "unwind"`,
/// which the release profile keeps for that reason.
pub(super) async fn run_grouped<T, F, Fut>(
    groups: Vec<Vec<(String, T)>>,
    concurrency: usize,
    run: F,
) -> Vec<(String, Disposition)>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Disposition>,
{
    // A hand-rolled bounded pool rather than stream combinators, whose closures make the
    // future unusable in tokio::spawn (higher-ranked lifetime errors).
    let mut groups = groups.into_iter();
    let mut running = FuturesUnordered::new();
    let group = |g: Vec<(String, T)>| run_group(g, &run);
    for g in groups.by_ref().take(concurrency.max(1)) {
        running.push(group(g));
    }
    let mut results = Vec::new();
    while let Some(done) = running.next().await {
        results.extend(done);
        if let Some(g) = groups.next() {
            running.push(group(g));
        }
    }
    results
}

async fn run_group<T, F, Fut>(group: Vec<(String, T)>, run: &F) -> Vec<(String, Disposition)>
where
    F: Fn(T) -> Fut,
    Fut: Future<Output = Disposition>,
{
    let mut results = Vec::with_capacity(group.len());
    for (id, item) in group {
        let disposition = match AssertUnwindSafe(run(item)).catch_unwind().await {
            Ok(d) => d,
            Err(panic) => {
                let what = panic
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "a panic without a message".into());
                error!(
                    alert = alert::RECORD_PANICKED,
                    message_id = %id,
                    "processing this record panicked (a bug; please report it), it will be retried: {what}"
                );
                Disposition::Retry
            }
        };
        results.push((id, disposition));
    }
    results
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn a_record_that_panics_fails_alone_and_its_batch_mates_finish() {
        let steps = Arc::new(AtomicUsize::new(0));
        let groups = vec![
            vec![("a".to_owned(), 1), ("b".to_owned(), 2)],
            vec![("c".to_owned(), 3)],
            vec![("d".to_owned(), 4)],
        ];
        let run = |n: u32| {
            let steps = steps.clone();
            async move {
                // Every record is mid-step when "c" panics.
                tokio::time::sleep(Duration::from_millis(10)).await;
                if n == 3 {
                    panic!("a bug in record {n}");
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
                steps.fetch_add(1, Ordering::SeqCst);
                Disposition::Done
            }
        };

        let mut results = run_grouped(groups, 4, run).await;

        results.sort();
        assert_eq!(
            results,
            vec![
                ("a".into(), Disposition::Done),
                ("b".into(), Disposition::Done),
                ("c".into(), Disposition::Retry),
                ("d".into(), Disposition::Done),
            ]
        );
        assert_eq!(
            steps.load(Ordering::SeqCst),
            3,
            "the others finished their steps"
        );
    }
}
