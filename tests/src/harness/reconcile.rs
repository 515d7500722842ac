//! The reconciler against the test stack: the same queue, table and simulator.

use std::time::Duration;

use shared::config::{FeishuAppConfig, ReconcilerConfig};
use shared::feishu::FeishuClient;
use shared::ledger::Ledger;
use shared::queue::Queue;
use shared::reconcile::{Reconciler, Report, RunOptions};
use shared::secret::Secret;

use super::{TestStack, test_retry_policy};
use crate::events;

impl TestStack {
    /// Its settings as a deployment would have them, but no settling time (the tests
    /// decide when an approval is old enough), a four-day backfill (each 10-hour window is
    /// a list call, and the list API allows 100 a minute), and the tenant read from Feishu.
    pub fn reconciler_config(&self) -> ReconcilerConfig {
        ReconcilerConfig {
            feishu: FeishuAppConfig {
                app_id: self.sim.config().app_id.clone(),
                app_secret: Secret::new(self.sim.config().app_secret.clone()),
                base_url: self.sim.url(),
            },
            table_name: self.table.clone(),
            queue_url: self.queue_url.clone(),
            leave_approval_codes: [events::LEAVE_FORM.to_owned()].into(),
            custom_approval_codes: [events::CUSTOM_FORM.to_owned()].into(),
            tenant_key: None,
            lookback: Duration::from_secs(86_400),
            backfill: Duration::from_secs(4 * 86_400),
            revoke_horizon: Duration::from_secs(90 * 86_400),
            recheck_every: Duration::from_secs(86_400),
            settle: Duration::ZERO,
        }
    }

    pub fn reconciler_with(&self, config: ReconcilerConfig) -> Reconciler {
        let feishu =
            FeishuClient::with_policy(&config.feishu, test_retry_policy()).expect("client");
        let ledger = Ledger::new(aws_sdk_dynamodb::Client::new(&self.aws), self.table.clone());
        let queue = Queue::new(self.sqs.clone(), self.queue_url.clone());
        Reconciler::new(feishu, ledger, queue, config)
    }

    /// One ordinary run (from the checkpoint).
    pub async fn reconcile(&self) -> Report {
        self.reconciler_with(self.reconciler_config())
            .run(RunOptions::default())
            .await
    }

    /// Processes what is on the queue until it is empty (deferred twins included).
    pub async fn drain_queue(&self) {
        let poller = self.poller(Duration::from_secs(30));
        for _ in 0..20 {
            let received = poller.receive(1).await.expect("receive");
            if received.is_empty() {
                let (waiting, in_flight) = self.depth(&self.queue_url).await;
                if waiting + in_flight == 0 {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
                continue;
            }
            poller.process(received).await;
        }
        panic!("the queue did not drain");
    }
}
