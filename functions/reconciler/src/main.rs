use lambda_runtime::{Error, service_fn};
use shared::config::{ProcessEnv, ReconcilerConfig};
use shared::feishu::FeishuClient;
use shared::reconcile::Reconciler;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let aws = shared::aws::load_sdk_config().await;
    let config = ReconcilerConfig::load(&ProcessEnv, &aws)
        .await
        .inspect_err(|e| {
            tracing::error!("configuration error, the function cannot start: {e}");
        })?;
    let feishu = FeishuClient::new(&config.feishu)?;
    let reconciler = Reconciler::from_config(config, &aws, feishu);
    lambda_runtime::run(service_fn(|event| reconciler::handle(&reconciler, event))).await
}
