use lambda_http::{Error, service_fn};
use shared::config::{IngressConfig, ProcessEnv};
use shared::ingress::Ingress;

#[tokio::main]
async fn main() -> Result<(), Error> {
    shared::telemetry::init();
    let aws = shared::aws::load_sdk_config().await;
    let config = IngressConfig::load(&ProcessEnv, &aws)
        .await
        .inspect_err(|e| {
            tracing::error!("configuration error, the function cannot start: {e}");
        })?;
    let ingress = Ingress::from_config(&config, &aws);
    lambda_http::run(service_fn(|req| ingress::handle(&ingress, req))).await
}
