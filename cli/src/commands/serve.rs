//! `leave-sync serve --long-connection`: on a long-running host (a VM, a container) with
//! real AWS, receive Feishu's events over the long connection and put them on the queue
//! the deployed processor reads, exactly as the ingress function does with webhooks.
//! Stops cleanly on Ctrl-C or SIGTERM, closing the socket first.

use std::future::Future;
use std::io::Write;
use std::sync::Arc;

use shared::config::{FeishuAppConfig, IngressConfig};
use shared::ingress::Ingress;
use tokio::sync::watch;

use crate::deployment::{CliError, Deployment};
use crate::longconn::{self, IngressHandler};

#[derive(Debug, Clone, clap::Args)]
pub struct Args {
    /// Receive events over Feishu's long connection (the only mode `serve` has: webhooks
    /// go to the ingress function).
    #[arg(long)]
    pub long_connection: bool,
}

/// Runs until `shutdown`; `Err` with what to fix when Feishu refuses for good.
pub async fn run(
    deployment: &Deployment,
    args: &Args,
    shutdown: impl Future<Output = ()>,
    out: &mut dyn Write,
) -> Result<bool, CliError> {
    if !args.long_connection {
        return Err(CliError::Other(
            "serve only has the long-connection mode: add --long-connection (webhooks go to \
             the deployed ingress function)"
                .into(),
        ));
    }
    // The ingress's settings: QUEUE_URL, the custom approval codes.
    let ingress_config = IngressConfig::load(&deployment.env(), &deployment.aws).await?;
    let app = FeishuAppConfig::load(&deployment.env(), &deployment.aws).await?;
    let ingress = Arc::new(Ingress::from_config(&ingress_config, &deployment.aws));
    let _ = writeln!(
        out,
        "leave-sync serve: events from Feishu's long connection go to {} (Ctrl-C to stop)",
        ingress_config.queue_url
    );
    let (stop, stopped) = watch::channel(false);
    let mut task = tokio::spawn(async move {
        let handler = IngressHandler(ingress);
        longconn::run(&app, Arc::new(handler), stopped).await
    });
    let ended = tokio::select! {
        () = shutdown => {
            let _ = stop.send(true);
            (&mut task).await
        }
        ended = &mut task => ended,
    };
    match ended {
        Ok(Ok(())) => Ok(true),
        Ok(Err(e)) => Err(CliError::Other(e.to_string())),
        Err(e) => Err(CliError::Other(format!("the long connection stopped: {e}"))),
    }
}
