use lambda_runtime::{Error, service_fn};
use shared::config::{DigestConfig, ProcessEnv};
use shared::digest::Digest;
use shared::feishu::FeishuClient;
use shared::ledger::Ledger;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let aws = shared::aws::load_sdk_config().await;
    let config = DigestConfig::load(&ProcessEnv, &aws)
        .await
        .inspect_err(|e| {
            tracing::error!("configuration error, the function cannot start: {e}");
        })?;
    let feishu = FeishuClient::new(&config.feishu)?;
    let ledger = Ledger::new(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let digest = Digest::new(feishu, ledger, config);
    lambda_runtime::run(service_fn(|event| team_digest::handle(&digest, event))).await
}
