//! `leave-sync calendar init`: the team's shared leave calendar (README, "Team
//! calendar"), owned by the app, which colleagues subscribe to.

use std::io::Write;

use shared::config::FeishuAppConfig;
use shared::feishu::FeishuClient;

use crate::deployment::{CliError, Deployment};

#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// The calendar's title, as colleagues find it.
    #[arg(long, default_value = "团队请假 · Team leave")]
    pub name: String,
    /// Employees (open_id, ou_...) to give read access to every entry's details; others
    /// subscribe to the public calendar themselves.
    #[arg(long = "share-with", value_delimiter = ',')]
    pub share_with: Vec<String>,
}

/// Creates the calendar (public: subscribers see each entry's title), shares it, and says
/// what to set. Not idempotent (the create API has no key): run it once.
pub async fn init(
    deployment: &Deployment,
    args: &InitArgs,
    out: &mut dyn Write,
) -> Result<bool, CliError> {
    let config = FeishuAppConfig::load(&deployment.env(), &deployment.aws).await?;
    let client = FeishuClient::new(&config).map_err(|e| CliError::Other(e.to_string()))?;
    let description = "Approved leave, synced by leave-sync. 审批通过的请假，由 leave-sync 同步。";
    let calendar = client
        .create_calendar(&args.name, description, "public")
        .await
        .map_err(|e| CliError::Other(with_hint(&e)))?;
    let id = &calendar.calendar_id;
    let _ = writeln!(out, "✓ created the shared calendar \"{}\": {id}", args.name);
    let mut all_ok = true;
    for open_id in &args.share_with {
        match client.grant_calendar_access(id, open_id, "reader").await {
            Ok(()) => {
                let _ = writeln!(out, "✓ {open_id} may read it");
            }
            Err(e) => {
                all_ok = false;
                let _ = writeln!(out, "✗ {open_id}: {}", with_hint(&e));
            }
        }
    }
    let _ = writeln!(
        out,
        "\nNext:\n  1. Set TEAM_CALENDAR_ID={id} on the processor (sam deploy \
         --parameter-overrides TeamCalendarId={id}).\n  2. Colleagues subscribe in Feishu \
         Calendar (订阅日历 / Subscribe to calendar, search \"{}\"), or run this again with \
         --share-with for named readers; a new calendar is empty until leave is synced.",
        args.name
    );
    Ok(all_ok)
}

fn with_hint(e: &shared::feishu::FeishuError) -> String {
    match e.hint() {
        Some(hint) => format!("{e} — {hint}"),
        None => e.to_string(),
    }
}
