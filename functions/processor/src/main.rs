use lambda_runtime::{Error, service_fn};
use shared::config::{ProcessEnv, ProcessorConfig};
use shared::feishu::FeishuClient;
use shared::processor::Processor;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let aws = shared::aws::load_sdk_config().await;
    let config = ProcessorConfig::load(&ProcessEnv, &aws)
        .await
        .inspect_err(|e| {
            tracing::error!("configuration error, the function cannot start: {e}");
        })?;
    let feishu = FeishuClient::new(&config.feishu)?;
    let processor = Processor::from_config(&config, &aws, feishu);
    lambda_runtime::run(service_fn(|event| processor::handle(&processor, event))).await
}
