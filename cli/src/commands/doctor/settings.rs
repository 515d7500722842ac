//! The settings each function loads at cold start.

use shared::config::{IngressConfig, ProcessorConfig};

use super::Report;
use crate::deployment::Deployment;

const FIX: &str = "set the variable (see the README's configuration table)";

pub(super) async fn check_ingress(deployment: &Deployment, r: &mut Report<'_>) {
    match IngressConfig::load(&deployment.env(), &deployment.aws).await {
        Ok(c) => r.pass(
            "ingress settings",
            if c.webhook.encrypt_key.is_some() {
                "Encrypt Key set: signatures required"
            } else {
                "no Encrypt Key: only the Verification Token authenticates events"
            },
        ),
        Err(e) => r.fail("ingress settings", &e.to_string(), FIX),
    }
}

pub(super) async fn check_processor(deployment: &Deployment, r: &mut Report<'_>) {
    match ProcessorConfig::load(&deployment.env(), &deployment.aws).await {
        Ok(c) => r.pass(
            "processor settings",
            &format!(
                "tenant time zone {}",
                c.tenant_timezone.iana_name().unwrap_or("?")
            ),
        ),
        Err(e) => r.fail("processor settings", &e.to_string(), FIX),
    }
}
