//! `leave-sync dev`: the whole pipeline in one process. The ingress handler over HTTP, an
//! SQS poller feeding the processor handler, and, when they are missing, the table and
//! queues created as template.yaml declares them.

pub mod server;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use shared::config::{IngressConfig, ProcessorConfig};
use shared::feishu::FeishuClient;
use shared::ingress::Ingress;
use shared::ledger::Ledger;
use shared::processor::Processor;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::info;

use crate::deployment::{CliError, DEV_QUEUE, Deployment};
use processor::local::Poller;

#[derive(Debug, Clone)]
pub struct DevOptions {
    pub bind: SocketAddr,
    /// The processor's per-batch time budget (the Lambda timeout).
    pub processor_timeout: Duration,
    /// Run the reconciler this often (as the schedule does in AWS); never when unset.
    pub reconcile_every: Option<Duration>,
    /// Also receive events over Feishu's long connection (beside the webhook).
    pub long_connection: bool,
}

/// What `dev` set up, for the startup banner and the tests.
#[derive(Debug, Clone)]
pub struct DevStack {
    pub webhook_url: String,
    pub queue_url: String,
    pub dead_letter_url: String,
    pub table: String,
}

/// Creates what is missing and fills QUEUE_URL, DEAD_LETTER_QUEUE_URL and TABLE_NAME in.
pub async fn provision(deployment: &mut Deployment) -> Result<(String, String, String), CliError> {
    deployment.check_reachable().await?;
    let (queue_url, dlq_url) = match deployment.var("QUEUE_URL") {
        Some(url) => {
            let dlq = deployment.dead_letter_url(&url).await?;
            (url, dlq)
        }
        None => shared::queue::ensure_queues(deployment.sqs(), DEV_QUEUE).await?,
    };
    let table = deployment.table_name()?;
    let ddb = deployment.dynamodb();
    if Ledger::layout(&ddb, &table).await?.is_none() {
        Ledger::create_table(&ddb, &table).await?;
        info!(table, "created the ledger table");
    }
    deployment.set("QUEUE_URL", queue_url.clone());
    deployment.set("DEAD_LETTER_QUEUE_URL", dlq_url.clone());
    deployment.set("TABLE_NAME", table.clone());
    Ok((queue_url, dlq_url, table))
}

/// Runs until `shutdown` completes. `ready` receives the stack once it is serving.
pub async fn run(
    mut deployment: Deployment,
    options: DevOptions,
    shutdown: impl Future<Output = ()>,
    ready: impl FnOnce(&DevStack),
) -> Result<(), CliError> {
    let (queue_url, dead_letter_url, table) = provision(&mut deployment).await?;
    let ingress_config = IngressConfig::load(&deployment.env(), &deployment.aws).await?;
    let processor_config = ProcessorConfig::load(&deployment.env(), &deployment.aws).await?;
    let feishu =
        FeishuClient::new(&processor_config.feishu).map_err(|e| CliError::Other(e.to_string()))?;
    let ingress = Arc::new(Ingress::from_config(&ingress_config, &deployment.aws));
    let processor = Arc::new(Processor::from_config(
        &processor_config,
        &deployment.aws,
        feishu,
    ));

    let reconciler = match options.reconcile_every {
        Some(every) => Some((
            crate::commands::reconcile::reconciler(&deployment).await?,
            every,
        )),
        None => None,
    };

    let (listener, addr) = listen(options.bind).await?;
    let dev = DevStack {
        webhook_url: format!("http://{addr}/webhook/event"),
        queue_url: queue_url.clone(),
        dead_letter_url,
        table,
    };
    ready(&dev);

    let (stop, stopped) = watch::channel(false);
    let ingress_for_ws = Arc::clone(&ingress);
    let server = tokio::spawn(server::serve(listener, ingress, stopped.clone()));
    let poller = Poller {
        queue: deployment.queue(&queue_url),
        processor,
        timeout: options.processor_timeout,
        batch_size: 10,
    };
    let polling = tokio::spawn(async move { poller.run(stopped.clone()).await });
    let reconciling =
        reconciler.map(|(r, every)| tokio::spawn(reconcile_every(r, every, stop.subscribe())));
    let app = processor_config.feishu.clone();
    let long = options
        .long_connection
        .then(|| tokio::spawn(long_connection(app, ingress_for_ws, stop.subscribe())));
    let refused = tokio::select! {
        () = shutdown => None,
        refused = refused(long) => Some(refused),
    };
    info!("shutting down: finishing the batch in progress");
    let _ = stop.send(true);
    for task in [Some(server), Some(polling), reconciling]
        .into_iter()
        .flatten()
    {
        let _ = task.await;
    }
    match refused {
        Some(why) => Err(CliError::Other(why)),
        None => Ok(()),
    }
}

async fn listen(bind: SocketAddr) -> Result<(TcpListener, SocketAddr), CliError> {
    let listener = TcpListener::bind(bind).await.map_err(|e| {
        CliError::Other(format!(
            "cannot listen on {bind}: {e} (is another dev server running? try --port)"
        ))
    })?;
    let addr = listener
        .local_addr()
        .map_err(|e| CliError::Other(e.to_string()))?;
    Ok((listener, addr))
}

/// The long connection, until stopped; what Feishu refused for good, if it did.
async fn long_connection(
    app: shared::config::FeishuAppConfig,
    ingress: Arc<Ingress>,
    stopped: watch::Receiver<bool>,
) -> Option<String> {
    let handler = crate::longconn::IngressHandler(ingress);
    crate::longconn::run(&app, Arc::new(handler), stopped)
        .await
        .err()
        .map(|e| e.to_string())
}

/// Resolves when the long connection stops for good; never without one.
async fn refused(long: Option<tokio::task::JoinHandle<Option<String>>>) -> String {
    match long {
        Some(task) => match task.await {
            Ok(Some(why)) => why,
            Ok(None) => std::future::pending().await,
            Err(e) => format!("the long connection stopped: {e}"),
        },
        None => std::future::pending().await,
    }
}

/// The schedule's stand-in: a run now, then one every `every`, until stopped.
async fn reconcile_every(
    reconciler: shared::reconcile::Reconciler,
    every: Duration,
    mut stopped: watch::Receiver<bool>,
) {
    loop {
        let report = reconciler
            .run(shared::reconcile::RunOptions::default())
            .await;
        for line in report.to_string().lines() {
            info!("reconcile: {line}");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
    }
}
