//! `leave-sync`: run the pipeline locally, and the chores around a deployment.
//! Exit codes: 0 ok, 1 a check or operation failed, 2 usage.

use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand};
use leave_sync::commands::{
    calendar, digest, doctor, ledger, reconcile, redrive, reindex, send_event, serve, status,
    subscribe,
};
use leave_sync::deployment::Deployment;
use leave_sync::dev::{self, DevOptions};

/// feishu-leave-sync: approved Feishu leave synced into attendance, calendar and chat.
///
/// Every command reads the same environment variables as the Lambda functions (see the
/// README's configuration table). With AWS_ENDPOINT_URL pointing at a local stack,
/// QUEUE_URL and TABLE_NAME default to the ones `leave-sync dev` creates.
#[derive(Debug, Parser)]
#[command(name = "leave-sync", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run ingress, queue poller and processor in one process (the local pipeline).
    ///
    /// Serves the ingress handler at POST /webhook/event and POST /, long-polls the queue
    /// and hands batches to the processor handler with the Lambda event source's
    /// semantics. Creates the table and queues when the AWS endpoint lacks them.
    Dev {
        /// Port to listen on.
        #[arg(long, env = "PORT", default_value_t = 3000)]
        port: u16,
        /// Address to bind; 0.0.0.0 to accept a tunnel from another host.
        #[arg(long, default_value = "127.0.0.1")]
        bind: std::net::IpAddr,
        /// Time budget per batch, as the Lambda timeout.
        #[arg(long, default_value_t = shared::queue::settings::PROCESSOR_TIMEOUT_SECS as u64, value_name = "SECONDS")]
        processor_timeout: u64,
        /// Run the reconciler now and then this often (90s, 10m, 1h), as its schedule does
        /// in AWS. Needs LEAVE_APPROVAL_CODES or CUSTOM_APPROVAL_CODES.
        #[arg(long, value_parser = shared::duration::parse, value_name = "DURATION")]
        reconcile_every: Option<Duration>,
        /// Also receive events and card callbacks over Feishu's long connection (no public
        /// URL needed; self-built apps, README "Try it on your tenant").
        #[arg(long)]
        long_connection: bool,
    },
    /// On a long-running host with real AWS: receive events over Feishu's long connection
    /// and queue them for the deployed processor (no public URL needed).
    Serve(serve::Args),
    /// Subscribe the app to approval definitions' events ("already subscribed" is fine).
    Subscribe(subscribe::Args),
    /// List every synced leave in the who's-out index: once, after upgrading from a
    /// release before the team view (repeatable).
    Reindex,
    /// Post the who's-out card to the team chats now (once per chat and day).
    Digest(digest::Args),
    /// The team's shared leave calendar.
    #[command(subcommand)]
    Calendar(CalendarCommand),
    /// Check configuration, credentials, AWS resources and Feishu permissions.
    Doctor,
    /// Sign, encrypt and post a JSON event, as Feishu would.
    SendEvent(send_event::Args),
    /// Move messages from the dead-letter queue back to the queue.
    Redrive(redrive::Args),
    /// Show queue and dead-letter queue depths.
    Status(status::Args),
    /// Show what was done for each approval instance.
    Ledger(ledger::Args),
    /// Find approvals and revokes whose events never arrived and queue them.
    ///
    /// Lists the instances of LEAVE_APPROVAL_CODES and CUSTOM_APPROVAL_CODES from the
    /// checkpoint (the first run: the last 30 days), queues those approved but never
    /// synced, and re-reads synced ones for revokes. The processor does the rest.
    Reconcile(reconcile::Args),
}

#[derive(Debug, Subcommand)]
enum CalendarCommand {
    /// Create the shared calendar the app owns (once), share it, and print its id for
    /// TEAM_CALENDAR_ID.
    Init(calendar::InitArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    shared::telemetry::init();
    let mut deployment = Deployment::from_env().await;
    let mut out = std::io::stdout();
    let result = match cli.command {
        Command::Dev {
            port,
            bind,
            processor_timeout,
            reconcile_every,
            long_connection,
        } => {
            let options = DevOptions {
                bind: SocketAddr::new(bind, port),
                processor_timeout: Duration::from_secs(processor_timeout),
                reconcile_every,
                long_connection,
            };
            dev::run(deployment, options, shutdown_signal(), |d| {
                println!("leave-sync dev is running (Ctrl-C to stop)");
                println!("  webhook   POST {}", d.webhook_url);
                println!("  queue     {}", d.queue_url);
                println!("  DLQ       {}", d.dead_letter_url);
                println!("  table     {}", d.table);
            })
            .await
            .map(|()| true)
        }
        Command::Subscribe(args) => subscribe::run(&deployment, &args, &mut out).await,
        Command::Digest(args) => digest::run(&mut deployment, &args, &mut out).await,
        Command::Reindex => reindex::run(&deployment, &mut out).await.map(|_| true),
        Command::Serve(args) => serve::run(&deployment, &args, shutdown_signal(), &mut out).await,
        Command::Calendar(CalendarCommand::Init(args)) => {
            calendar::init(&deployment, &args, &mut out).await
        }
        Command::Doctor => Ok(doctor::run(&mut deployment, &mut out).await),
        Command::SendEvent(args) => send_event::run(&deployment, &args, &mut out).await,
        Command::Redrive(args) => redrive::run(&deployment, &args, &mut out)
            .await
            .map(|_| true),
        Command::Status(args) => status::run(&deployment, &args, &mut out).await,
        Command::Ledger(args) => ledger::run(&deployment, &args, &mut out)
            .await
            .map(|_| true),
        Command::Reconcile(args) => reconcile::run(&deployment, &args, &mut out)
            .await
            .map(|(_, ok)| ok),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(1)
        }
    }
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
}
