//! The who's-out digest against the test stack: the same table and simulator.

use jiff::civil::Date;
use shared::config::{DigestConfig, FeishuAppConfig, TeamShows};
use shared::digest::{Digest, DigestReport};
use shared::feishu::FeishuClient;
use shared::ledger::{Lease, Ledger};
use shared::secret::Secret;

use super::{TestStack, test_retry_policy};
use crate::sim::state::TEAM_CHAT;

impl TestStack {
    /// The digest as a deployment would have it, posting to `chats` (the team chat, which
    /// has the bot, by default).
    pub fn digest(&self, chats: &[&str], shows: TeamShows) -> Digest {
        let config = DigestConfig {
            feishu: FeishuAppConfig {
                app_id: self.sim.config().app_id.clone(),
                app_secret: Secret::new(self.sim.config().app_secret.clone()),
                base_url: self.sim.url(),
            },
            table_name: self.table.clone(),
            zone: jiff::tz::TimeZone::get("Asia/Shanghai").expect("zone"),
            chat_ids: if chats.is_empty() {
                vec![TEAM_CHAT.to_owned()]
            } else {
                chats.iter().map(|c| (*c).to_owned()).collect()
            },
            tenant_key: None,
            shows,
        };
        let feishu =
            FeishuClient::with_policy(&config.feishu, test_retry_policy()).expect("client");
        let ledger = Ledger::new(aws_sdk_dynamodb::Client::new(&self.aws), self.table.clone());
        Digest::new(feishu, ledger, config)
    }

    /// One run of the default digest for `day`, as one invocation (`run` names its lease).
    pub async fn post_digest(&self, day: Date, run: &str) -> DigestReport {
        let lease = Lease {
            owner: run.to_owned(),
            until: jiff::Timestamp::now() + jiff::SignedDuration::from_secs(30),
        };
        self.digest(&[], TeamShows::NameAndType)
            .post(day, &lease)
            .await
            .expect("the digest runs")
    }
}
