//! AWS SDK configuration with a single TLS stack (rustls + ring).
//!
//! The SDK crates are compiled without default features so that aws-lc is never built
//! (it roughly doubles the cold build on two cores). Without default features the SDK has
//! no default HTTP client, so one is built here. Everything else (region, credentials,
//! `AWS_ENDPOINT_URL` for moto) comes from the standard environment through aws-config.

use aws_config::{BehaviorVersion, SdkConfig};
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_http_client::tls;

/// Installs ring as the process-wide rustls provider. Both the AWS client and reqwest
/// (built with `rustls-no-provider`) rely on it, so call this before the first TLS
/// connection. Calling it again is harmless.
pub fn install_crypto_provider() {
    // An Err only means a provider is already installed, which is what we want.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Loads the shared AWS configuration from the environment.
pub async fn load_sdk_config() -> SdkConfig {
    config_loader().load().await
}

/// The environment-driven loader with our HTTP client, for callers that override
/// something (the tests point it at moto explicitly instead of mutating the process
/// environment).
pub fn config_loader() -> aws_config::ConfigLoader {
    install_crypto_provider();
    let http_client = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    aws_config::defaults(BehaviorVersion::latest()).http_client(http_client)
}

/// The endpoint override in effect (moto, LocalStack...), for error messages.
pub fn endpoint_hint(config: &SdkConfig) -> String {
    config
        .endpoint_url()
        .map(|url| format!("endpoint {url}"))
        .unwrap_or_else(|| {
            let region = config
                .region()
                .map(|r| r.to_string())
                .unwrap_or_else(|| "<no region>".into());
            format!("AWS region {region}")
        })
}

/// One line for an AWS SDK error: `Code: message` for a service error (the raw response
/// stays out of the logs), the full cause chain for transport errors ("dispatch
/// failure: ... connection refused").
pub fn describe<E, R>(e: &SdkError<E, R>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    R: std::fmt::Debug + 'static,
{
    match e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            format!(
                "{}: {}",
                err.code().unwrap_or("ServiceError"),
                err.message().unwrap_or("no message")
            )
        }
        // The cause chain's messages only: DisplayErrorContext appends a Debug dump.
        other => crate::error_chain(other),
    }
}
