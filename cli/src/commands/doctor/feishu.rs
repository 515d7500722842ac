//! The Feishu app: credentials, then one harmless call per scope the product needs.

use shared::config::FeishuAppConfig;
use shared::feishu::attendance::{ApprovalType, EmployeeType, STATUS_REVOKED, UserApprovalQuery};
use shared::feishu::im::{OutgoingMessage, ReceiveIdType};
use shared::feishu::{FeishuClient, FeishuError};

use super::Report;
use crate::deployment::Deployment;

const SCOPE_MISSING: i64 = 99991672;
const BOT_DISABLED: i64 = 230006;

/// One permission, proved by calling an API with an id that cannot exist: Feishu checks
/// the scope before the id, so "not found" means the permission is there, and nothing is
/// changed.
#[derive(Debug, Clone, Copy)]
enum Probe {
    AttendanceWrite,
    AttendanceRead,
    Timeoff,
    BotCalendar,
    Messages,
    Approval,
}

/// (probe, what the line says, the fix when it fails)
const PROBES: [(Probe, &str, &str); 6] = [
    (
        Probe::AttendanceWrite,
        "attendance write (attendance:task)",
        "enable attendance:task, then publish a new app version",
    ),
    (
        Probe::AttendanceRead,
        "attendance read (attendance:task:readonly)",
        "enable attendance:task:readonly, then publish a new app version",
    ),
    (
        Probe::Timeoff,
        "time-off events (calendar:timeoff)",
        "enable calendar:timeoff and the bot ability, then publish",
    ),
    (
        Probe::BotCalendar,
        "bot calendar (calendar:calendar:readonly, bot ability)",
        "enable calendar:calendar:readonly and the bot ability, then publish",
    ),
    (
        Probe::Messages,
        "messages (im:message:send_as_bot)",
        "enable the bot ability and im:message:send_as_bot, then publish",
    ),
    (
        Probe::Approval,
        "approval instances (approval:approval)",
        "enable approval:approval, then publish a new app version",
    ),
];

impl Probe {
    async fn call(self, client: &FeishuClient) -> Result<(), FeishuError> {
        match self {
            Self::AttendanceWrite => client
                .process_approval_info("0", ApprovalType::Leave, STATUS_REVOKED)
                .await
                .map(|_| ()),
            Self::AttendanceRead => client
                .query_user_approvals(
                    EmployeeType::EmployeeId,
                    &UserApprovalQuery {
                        user_ids: vec!["leave-sync-doctor".into()],
                        check_date_from: 20260101,
                        check_date_to: 20260102,
                        check_date_type: None,
                        status: None,
                    },
                )
                .await
                .map(|_| ()),
            Self::Timeoff => {
                client
                    .delete_timeoff_event("timeoff:leave-sync-doctor-probe")
                    .await
            }
            Self::BotCalendar => client.primary_calendars().await.map(|_| ()),
            Self::Messages => client
                .send_message(
                    ReceiveIdType::OpenId,
                    &OutgoingMessage::text("ou_leave_sync_doctor_probe", "probe", None),
                )
                .await
                .map(|_| ()),
            Self::Approval => client
                .get_instance("leave-sync-doctor-probe")
                .await
                .map(|_| ()),
        }
    }
}

pub(super) async fn check(deployment: &Deployment, r: &mut Report<'_>) {
    let app = match FeishuAppConfig::load(&deployment.env(), &deployment.aws).await {
        Ok(app) => app,
        Err(e) => {
            return r.fail(
                "Feishu app",
                &e.to_string(),
                "set FEISHU_APP_ID and FEISHU_APP_SECRET",
            );
        }
    };
    let Some(client) = check_token(&app, r).await else {
        return;
    };
    for (probe, what, fix) in PROBES {
        report(r, what, fix, probe.call(&client).await);
    }
    check_long_connection(&app, r).await;
}

/// Whether Feishu gives the app a long connection (self-built apps only). Which delivery
/// mode the console is set to (订阅方式) no API says: that is stated, not checked.
async fn check_long_connection(app: &FeishuAppConfig, r: &mut Report<'_>) {
    let what = "long connection (leave-sync dev/serve --long-connection)";
    match crate::longconn::probe(app).await {
        Ok(()) => r.pass(
            what,
            "can be opened; the console's delivery mode (Events & Callbacks → 订阅方式: \
             request URL or long connection) is not readable through the API",
        ),
        Err(crate::longconn::endpoint::ConnectError::Retry(why)) => r.pass(
            what,
            &format!("not checked now ({why}); the webhook does not need it"),
        ),
        Err(e) => r.fail(
            what,
            &e.to_string(),
            "only if you want the long connection: a self-built app, and its App ID and Secret",
        ),
    }
}

/// The client, once the App ID and Secret are proved to work.
async fn check_token(app: &FeishuAppConfig, r: &mut Report<'_>) -> Option<FeishuClient> {
    let client = match FeishuClient::new(app) {
        Ok(c) => c,
        Err(e) => {
            r.fail("Feishu client", &e.to_string(), "report this as a bug");
            return None;
        }
    };
    if let Err(e) = client.check_token().await {
        let fix = if e.is_retryable() {
            "check FEISHU_BASE_URL and the network path to Feishu"
        } else {
            "copy App ID and App Secret again from the developer console (Credentials & Basic Info)"
        };
        r.fail("tenant_access_token", &e.to_string(), fix);
        return None;
    }
    r.pass(
        "tenant_access_token",
        &format!("App ID {} accepted by {}", app.app_id, app.base_url),
    );
    Some(client)
}

fn report(r: &mut Report<'_>, what: &str, fix: &str, result: Result<(), FeishuError>) {
    match result {
        Ok(()) => r.pass(what, "allowed"),
        Err(e) if e.code() == Some(SCOPE_MISSING) => r.fail(what, &e.to_string(), fix),
        Err(e) if e.code() == Some(BOT_DISABLED) => r.fail(
            what,
            &e.to_string(),
            "enable the bot ability (Features > Bot) and publish",
        ),
        Err(
            e @ (FeishuError::Transport { .. }
            | FeishuError::Protocol { .. }
            | FeishuError::OutOfTime { .. }),
        ) => r.fail(
            what,
            &e.to_string(),
            "check FEISHU_BASE_URL and the network path to Feishu",
        ),
        // Any other refusal is about the probe's made-up id: the permission is there.
        Err(_) => r.pass(what, "allowed"),
    }
}
