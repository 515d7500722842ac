//! The Feishu simulator as a program, for the demo and for exploring the product without
//! a tenant.
//!
//!   feishu-sim [--host 127.0.0.1] [--port 7070]   serve the simulated Open Platform
//!   feishu-sim show [--url http://127.0.0.1:7070]  print what it received, per employee
//!
//! While it runs: GET /_sim/state (everything it holds, JSON), POST /_sim/faults
//! ({"api": "POST /open-apis/...", "kind": "unavailable", "times": 2}), /_sim/instances,
//! /_sim/expire-tokens, /_sim/reset.

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use leave_sync_tests::sim::{FeishuSim, SimConfig, Snapshot, show};

#[derive(Debug, Parser)]
#[command(
    name = "feishu-sim",
    about = "A stateful Feishu Open Platform simulator"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    #[arg(long, env = "SIM_PORT", default_value_t = 7070)]
    port: u16,
    /// Add this many synthetic employees (u_load0000, ou_load0000, ...) for load tests.
    #[arg(long, default_value_t = 0)]
    load_users: usize,
    /// Turn off the per-API rate limits (they stay on by default, as in Feishu).
    #[arg(long)]
    no_rate_limits: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print what a running simulator received, per employee.
    Show {
        #[arg(long, default_value = "http://127.0.0.1:7070")]
        url: String,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Show { url }) => match fetch(&url).await {
            Ok(s) => {
                print!("{}", show::render(&s));
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: cannot read the simulator at {url}: {e}");
                ExitCode::from(1)
            }
        },
        None => {
            let config = SimConfig {
                rate_limits: !cli.no_rate_limits,
                ..SimConfig::default()
            }
            .with_load_users(cli.load_users);
            let sim = match FeishuSim::start_on(config.clone(), SocketAddr::new(cli.host, cli.port))
                .await
            {
                Ok(s) => s,
                Err(e) => {
                    eprintln!("error: cannot listen on {}:{}: {e}", cli.host, cli.port);
                    return ExitCode::from(1);
                }
            };
            println!(
                "Feishu simulator on {} (app {} / secret {})",
                sim.url(),
                config.app_id,
                config.app_secret
            );
            println!(
                "users: {}",
                config
                    .users
                    .iter()
                    .map(|u| format!("{} {}", u.name, u.user_id))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            let _ = tokio::signal::ctrl_c().await;
            ExitCode::SUCCESS
        }
    }
}

async fn fetch(url: &str) -> Result<Snapshot, String> {
    shared::aws::install_crypto_provider();
    let body: serde_json::Value = reqwest::get(format!("{}/_sim/state", url.trim_end_matches('/')))
        .await
        .map_err(|e| e.to_string())?
        .json()
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_value(body["data"].clone()).map_err(|e| e.to_string())
}
