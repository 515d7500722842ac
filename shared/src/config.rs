//! Settings from the environment, checked once at cold start.
//!
//! Each function loads only what it needs: the ingress never sees the App Secret, the
//! processor never sees the Verification Token. Secrets may be given directly (`NAME`) or
//! as the name of an SSM Parameter Store SecureString (`NAME_PARAM`); the latter is what
//! template.yaml uses so that no secret sits in plain text in the function configuration.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use jiff::tz::TimeZone;

use crate::secret::Secret;

pub const DEFAULT_BASE_URL: &str = "https://open.feishu.cn";
pub const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";
pub const DEFAULT_PERIOD_WIDGET: &str = "timeInfo";
pub const DEFAULT_REASON_WIDGET: &str = "reason";
pub const DEFAULT_RECORD_CONCURRENCY: usize = 4;
/// Feishu sends an approval's two events together; its first retry comes 15 s after a
/// failed push. Half a minute covers both.
pub const DEFAULT_TWIN_WAIT_SECS: u64 = 30;

/// Where settings come from. The process environment in production; a map in tests and
/// in `leave-sync dev`, which layers its own defaults over the environment.
pub trait EnvSource {
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment. Empty values count as unset.
pub struct ProcessEnv;

impl EnvSource for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
}

impl EnvSource for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned().filter(|v| !v.trim().is_empty())
    }
}

/// Looks in `first`, then in `then`.
pub struct Layered<'a>(pub &'a dyn EnvSource, pub &'a dyn EnvSource);

impl EnvSource for Layered<'_> {
    fn var(&self, name: &str) -> Option<String> {
        self.0.var(name).or_else(|| self.1.var(name))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{var} is not set: {hint}")]
    Missing {
        var: &'static str,
        hint: &'static str,
    },
    #[error("{var} is invalid: {reason}")]
    Invalid { var: &'static str, reason: String },
    #[error(
        "cannot read {var} from SSM parameter {parameter:?}: {reason}. Check that the parameter \
         exists as a SecureString and that the function's role may ssm:GetParameters and \
         kms:Decrypt it"
    )]
    SecretUnavailable {
        var: &'static str,
        parameter: String,
        reason: String,
    },
}

/// Settings the ingress needs to authenticate and route a webhook.
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub verification_token: Secret,
    pub encrypt_key: Option<Secret>,
    /// Off by default: Feishu re-pushes a failed event for ~7 h with its original
    /// timestamp, and a redelivery is harmless because processing is idempotent.
    pub max_clock_skew: Option<Duration>,
    /// Approval definitions whose generic status events we act on: custom leave forms
    /// (`CUSTOM_APPROVAL_CODES`) and overtime forms (`OVERTIME_APPROVAL_CODES`).
    pub custom_approval_codes: BTreeSet<String>,
}

#[derive(Debug, Clone)]
pub struct IngressConfig {
    pub webhook: WebhookConfig,
    pub queue_url: String,
}

/// The Feishu app the processor acts as.
#[derive(Debug, Clone)]
pub struct FeishuAppConfig {
    pub app_id: String,
    pub app_secret: Secret,
    pub base_url: String,
}

/// How to read a leave out of a custom approval form (one without the leave widget group).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomFormConfig {
    pub approval_codes: BTreeSet<String>,
    /// Native leave forms (`LEAVE_APPROVAL_CODES`): their results arrive as `leave_approval*`
    /// events, but the reconciler may also ask for one to be read from its instance.
    pub leave_approval_codes: BTreeSet<String>,
    /// Custom id of the `dateInterval` widget holding the leave period.
    pub period_widget: String,
    /// Custom id of the widget holding the reason.
    pub reason_widget: String,
    /// `OVERTIME_APPROVAL_CODES`: custom overtime forms (a date range and a reason, the
    /// same widget ids), written to attendance as overtime.
    pub overtime_approval_codes: BTreeSet<String>,
    /// `OVERTIME_COMPENSATION`: what attendance makes of the overtime it is given.
    pub overtime_compensation: crate::event::OvertimeCompensation,
}

#[derive(Debug, Clone)]
pub struct ProcessorConfig {
    pub feishu: FeishuAppConfig,
    pub tenant_timezone: TimeZone,
    pub table_name: String,
    /// The queue the processor reads: retried messages get their delay set on it.
    pub queue_url: Option<String>,
    /// Where events that can never succeed are sent, with their reason, straight away.
    pub dead_letter_queue_url: Option<String>,
    pub custom_forms: CustomFormConfig,
    /// Records of one SQS batch processed at the same time.
    pub record_concurrency: usize,
    /// How long a `leave_approval` waits, once, for its `leave_approvalV2` twin.
    pub twin_wait: Duration,
    pub chat: ChatConfig,
    /// `TEAM_CALENDAR_ID`: the shared calendar every synced leave also goes on.
    pub team_calendar: Option<TeamCalendar>,
}

/// The team's shared leave calendar (README, "Team calendar").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeamCalendar {
    pub calendar_id: String,
    pub shows: TeamShows,
}

/// `TEAM_VIEW_SHOWS`: what an entry says. The reason is never shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum TeamShows {
    /// "张伟 · 年假".
    #[default]
    NameAndType,
    /// "张伟 · 外出 Out".
    Name,
    /// "忙碌 Busy": no name, no type.
    Busy,
}

impl TeamShows {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "name_and_type" => Self::NameAndType,
            "name" => Self::Name,
            "busy" => Self::Busy,
            _ => return None,
        })
    }
}

/// What the chat bot may create (README, "Apply in chat"). Both definitions optional:
/// without them the bot says that applying by chat is not set up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChatConfig {
    /// `CHAT_LEAVE_APPROVAL_CODE`: a native leave form (also in `LEAVE_APPROVAL_CODES`) or
    /// a custom form read like the tutorial's (also in `CUSTOM_APPROVAL_CODES`).
    pub leave: Option<ChatForm>,
    /// `CHAT_OVERTIME_APPROVAL_CODE`: a custom overtime form (also in
    /// `OVERTIME_APPROVAL_CODES`).
    pub overtime: Option<ChatForm>,
    /// `TEAM_VIEW_SHOWS`, for `谁请假` / `who's out`.
    pub team_shows: TeamShows,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatForm {
    pub approval_code: String,
    /// Empty for a custom form; for a native form, `CHAT_LEAVE_TYPES` (the definition API
    /// does not expose leave-type ids, reference 7.3).
    pub leave_types: Vec<crate::chat::command::ChatLeaveType>,
    pub native: bool,
}

/// The who's-out card's settings (README, "Team view").
#[derive(Debug, Clone)]
pub struct DigestConfig {
    pub feishu: FeishuAppConfig,
    pub table_name: String,
    pub zone: TimeZone,
    /// `DIGEST_CHAT_IDS`: the group chats (`oc_...`) the card goes to; the bot must be in
    /// each.
    pub chat_ids: Vec<String>,
    pub tenant_key: Option<String>,
    pub shows: TeamShows,
}

impl DigestConfig {
    pub async fn load(
        env: &dyn EnvSource,
        aws: &aws_config::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let r = Reader { env };
        let feishu = FeishuAppConfig::load(env, aws).await?;
        let table_name = r.table_name()?;
        let chat_ids: Vec<String> = r.list("DIGEST_CHAT_IDS").into_iter().collect();
        if chat_ids.is_empty() {
            return Err(ConfigError::Missing {
                var: "DIGEST_CHAT_IDS",
                hint: "name the group chats (oc_..., comma-separated) the who's-out card goes \
                       to, with the bot added to each",
            });
        }
        Ok(Self {
            feishu,
            table_name,
            zone: r.zone()?,
            chat_ids,
            tenant_key: r.optional("FEISHU_TENANT_KEY").filter(|t| !t.is_empty()),
            shows: r.team_shows()?,
        })
    }
}

/// The reconciler's settings (README, "Recovering missed events").
#[derive(Debug, Clone)]
pub struct ReconcilerConfig {
    pub feishu: FeishuAppConfig,
    pub table_name: String,
    pub queue_url: String,
    /// Native leave forms and custom forms: the definitions whose instances are listed.
    pub leave_approval_codes: BTreeSet<String>,
    /// Custom leave forms and overtime forms (`OVERTIME_APPROVAL_CODES`).
    pub custom_approval_codes: BTreeSet<String>,
    /// The tenant the app belongs to; read from Feishu (`tenant:tenant:readonly`) if unset.
    pub tenant_key: Option<String>,
    /// Each run lists again the instances created this long before the last scan's end,
    /// for approvals that take days.
    pub lookback: Duration,
    /// The first run (no checkpoint yet) lists this far back: the backfill.
    pub backfill: Duration,
    /// Synced instances created within this long are re-read for revokes.
    pub revoke_horizon: Duration,
    /// A synced instance is re-read at most this often.
    pub recheck_every: Duration,
    /// An approval that ended less than this long ago is left to its webhook events.
    pub settle: Duration,
}

pub const DEFAULT_LOOKBACK: Duration = Duration::from_secs(7 * 86_400);
pub const DEFAULT_BACKFILL: Duration = Duration::from_secs(30 * 86_400);
pub const DEFAULT_REVOKE_HORIZON: Duration = Duration::from_secs(90 * 86_400);
pub const DEFAULT_RECHECK_EVERY: Duration = Duration::from_secs(86_400);
/// Feishu retries a failed push for about 7.1 hours, and a `leave_approval` waits that
/// long for its twin (sync::twin): the reconciler acts on what is older, so that it
/// recovers what Feishu gave up on instead of racing events still on their way (a
/// cancellation form's instance looks like a leave; only its V2 event says otherwise).
pub const DEFAULT_SETTLE: Duration = Duration::from_secs(8 * 3600);

/// A secret named in the environment, before it is read.
enum SecretRef {
    Value(Secret),
    Parameter(String),
}

struct Reader<'a> {
    env: &'a dyn EnvSource,
}

impl Reader<'_> {
    fn required(&self, var: &'static str, hint: &'static str) -> Result<String, ConfigError> {
        self.env
            .var(var)
            .map(|v| v.trim().to_owned())
            .ok_or(ConfigError::Missing { var, hint })
    }

    fn optional(&self, var: &'static str) -> Option<String> {
        self.env.var(var).map(|v| v.trim().to_owned())
    }

    fn secret_ref(&self, var: &'static str, param_var: &'static str) -> Option<SecretRef> {
        // The value itself wins, so a developer can override a deployed parameter locally.
        match self.env.var(var) {
            Some(v) => Some(SecretRef::Value(Secret::new(v))),
            None => self.env.var(param_var).map(SecretRef::Parameter),
        }
    }

    fn list(&self, var: &'static str) -> BTreeSet<String> {
        self.optional(var)
            .map(|v| {
                v.split([',', ' ', '\n'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The definitions whose generic `approval_instance` events matter: custom leave forms
    /// and overtime forms alike.
    fn generic_approval_codes(&self) -> BTreeSet<String> {
        let mut codes = self.list("CUSTOM_APPROVAL_CODES");
        codes.extend(self.list("OVERTIME_APPROVAL_CODES"));
        codes
    }

    /// `OVERTIME_APPROVAL_CODES` and `OVERTIME_COMPENSATION`. An overtime form listed as a
    /// leave form too would be written twice, as both: refused.
    fn overtime(
        &self,
    ) -> Result<(BTreeSet<String>, crate::event::OvertimeCompensation), ConfigError> {
        let codes = self.list("OVERTIME_APPROVAL_CODES");
        let leave_codes: BTreeSet<String> = self
            .list("CUSTOM_APPROVAL_CODES")
            .union(&self.list("LEAVE_APPROVAL_CODES"))
            .cloned()
            .collect();
        if let Some(both) = codes.intersection(&leave_codes).next() {
            return Err(ConfigError::Invalid {
                var: "OVERTIME_APPROVAL_CODES",
                reason: format!(
                    "{both:?} is also listed as a leave form (CUSTOM_APPROVAL_CODES or \
                     LEAVE_APPROVAL_CODES): list each definition once, as what it is"
                ),
            });
        }
        let compensation = match self.optional("OVERTIME_COMPENSATION") {
            None => Default::default(),
            Some(v) if v.is_empty() => Default::default(),
            Some(v) => crate::event::OvertimeCompensation::parse(&v).ok_or_else(|| {
                ConfigError::Invalid {
                    var: "OVERTIME_COMPENSATION",
                    reason: format!(
                        "{v:?} is not one of record (仅记录, the default), days_off (调休) \
                         or pay (加班费)"
                    ),
                }
            })?,
        };
        Ok((codes, compensation))
    }

    fn chat(&self, forms: &CustomFormConfig) -> Result<ChatConfig, ConfigError> {
        let code = |var| self.optional(var).filter(|v| !v.is_empty());
        let leave = match code("CHAT_LEAVE_APPROVAL_CODE") {
            None => None,
            Some(c) if forms.leave_approval_codes.contains(&c) => {
                let types = self.optional("CHAT_LEAVE_TYPES").unwrap_or_default();
                let leave_types = crate::chat::settings::leave_types(&types).map_err(|reason| {
                    ConfigError::Invalid {
                        var: "CHAT_LEAVE_TYPES",
                        reason,
                    }
                })?;
                if leave_types.is_empty() {
                    return Err(ConfigError::Missing {
                        var: "CHAT_LEAVE_TYPES",
                        hint: "CHAT_LEAVE_APPROVAL_CODE is a native leave form: list its leave \
                               types as 年假|Annual leave=<leave type id>,... (README, \
                               \"Apply in chat\")",
                    });
                }
                Some(ChatForm {
                    approval_code: c,
                    leave_types,
                    native: true,
                })
            }
            Some(c) if forms.approval_codes.contains(&c) => Some(ChatForm {
                approval_code: c,
                leave_types: Vec::new(),
                native: false,
            }),
            Some(c) => {
                return Err(ConfigError::Invalid {
                    var: "CHAT_LEAVE_APPROVAL_CODE",
                    reason: format!(
                        "{c:?} is in neither LEAVE_APPROVAL_CODES (a native leave form) nor \
                         CUSTOM_APPROVAL_CODES (a custom form): add it to the one it is, so \
                         that its approvals are synced"
                    ),
                });
            }
        };
        let overtime = self.chat_overtime(forms)?;
        Ok(ChatConfig {
            leave,
            overtime,
            team_shows: self.team_shows()?,
        })
    }

    /// The forms read from their instances: custom leave forms, native ones (for the
    /// reconciler), overtime forms, and the widget ids.
    fn custom_forms(&self) -> Result<CustomFormConfig, ConfigError> {
        let (overtime_approval_codes, overtime_compensation) = self.overtime()?;
        Ok(CustomFormConfig {
            overtime_approval_codes,
            overtime_compensation,
            approval_codes: self.list("CUSTOM_APPROVAL_CODES"),
            leave_approval_codes: self.list("LEAVE_APPROVAL_CODES"),
            period_widget: self
                .optional("CUSTOM_FORM_PERIOD_WIDGET")
                .unwrap_or_else(|| DEFAULT_PERIOD_WIDGET.into()),
            reason_widget: self
                .optional("CUSTOM_FORM_REASON_WIDGET")
                .unwrap_or_else(|| DEFAULT_REASON_WIDGET.into()),
        })
    }

    fn team_calendar(&self) -> Result<Option<TeamCalendar>, ConfigError> {
        let Some(calendar_id) = self.optional("TEAM_CALENDAR_ID").filter(|v| !v.is_empty()) else {
            return Ok(None);
        };
        Ok(Some(TeamCalendar {
            calendar_id,
            shows: self.team_shows()?,
        }))
    }

    /// `TEAM_VIEW_SHOWS`: what the team calendar and the who's-out card show.
    fn team_shows(&self) -> Result<TeamShows, ConfigError> {
        match self.optional("TEAM_VIEW_SHOWS").filter(|v| !v.is_empty()) {
            None => Ok(TeamShows::default()),
            Some(v) => TeamShows::parse(&v).ok_or_else(|| ConfigError::Invalid {
                var: "TEAM_VIEW_SHOWS",
                reason: format!("{v:?} is not one of name_and_type (the default), name or busy"),
            }),
        }
    }

    fn table_name(&self) -> Result<String, ConfigError> {
        self.required(
            "TABLE_NAME",
            "set it to the DynamoDB ledger table (template.yaml does this)",
        )
    }

    /// `TENANT_TIMEZONE`, an IANA name.
    fn zone(&self) -> Result<TimeZone, ConfigError> {
        let name = self
            .optional("TENANT_TIMEZONE")
            .unwrap_or_else(|| DEFAULT_TIMEZONE.into());
        TimeZone::get(&name).map_err(|e| ConfigError::Invalid {
            var: "TENANT_TIMEZONE",
            reason: format!("{name:?} is not an IANA time zone name ({e})"),
        })
    }

    /// `CHAT_OVERTIME_APPROVAL_CODE`: one of the overtime forms, so that what the bot
    /// creates is synced.
    fn chat_overtime(&self, forms: &CustomFormConfig) -> Result<Option<ChatForm>, ConfigError> {
        let code = self
            .optional("CHAT_OVERTIME_APPROVAL_CODE")
            .filter(|v| !v.is_empty());
        Ok(match code {
            None => None,
            Some(c) if forms.overtime_approval_codes.contains(&c) => Some(ChatForm {
                approval_code: c,
                leave_types: Vec::new(),
                native: false,
            }),
            Some(c) => {
                return Err(ConfigError::Invalid {
                    var: "CHAT_OVERTIME_APPROVAL_CODE",
                    reason: format!(
                        "{c:?} is not in OVERTIME_APPROVAL_CODES: add it there, so that its \
                         approvals are written to attendance (a custom form with a date range \
                         and a reason; README, \"Overtime\")"
                    ),
                });
            }
        })
    }

    fn url(&self, var: &'static str, value: String) -> Result<String, ConfigError> {
        if !(value.starts_with("https://") || value.starts_with("http://")) {
            return Err(ConfigError::Invalid {
                var,
                reason: format!("{value:?} is not an http(s) URL"),
            });
        }
        Ok(value.trim_end_matches('/').to_owned())
    }

    fn duration(&self, var: &'static str, default: Duration) -> Result<Duration, ConfigError> {
        match self.optional(var) {
            None => Ok(default),
            Some(v) => {
                crate::duration::parse(&v).map_err(|reason| ConfigError::Invalid { var, reason })
            }
        }
    }

    fn number<T: std::str::FromStr>(&self, var: &'static str) -> Result<Option<T>, ConfigError> {
        self.optional(var)
            .map(|v| {
                v.parse().map_err(|_| ConfigError::Invalid {
                    var,
                    reason: format!("{v:?} is not a whole number"),
                })
            })
            .transpose()
    }
}

/// Fetches `*_PARAM` secrets from SSM in one request.
async fn resolve(
    refs: Vec<(&'static str, SecretRef)>,
    aws: &aws_config::SdkConfig,
) -> Result<HashMap<&'static str, Secret>, ConfigError> {
    let mut out = HashMap::new();
    let mut wanted: Vec<(&'static str, String)> = Vec::new();
    for (var, r) in refs {
        match r {
            SecretRef::Value(s) => {
                out.insert(var, s);
            }
            SecretRef::Parameter(name) => wanted.push((var, name)),
        }
    }
    if wanted.is_empty() {
        return Ok(out);
    }
    let ssm = aws_sdk_ssm::Client::new(aws);
    let mut names: Vec<String> = wanted.iter().map(|(_, n)| n.clone()).collect();
    names.dedup();
    let first = &wanted[0];
    let resp = ssm
        .get_parameters()
        .set_names(Some(names))
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| ConfigError::SecretUnavailable {
            var: first.0,
            parameter: first.1.clone(),
            reason: crate::aws::describe(&e),
        })?;
    let found: HashMap<&str, &str> = resp
        .parameters()
        .iter()
        .filter_map(|p| Some((p.name()?, p.value()?)))
        .collect();
    for (var, name) in wanted {
        match found.get(name.as_str()) {
            Some(value) => {
                out.insert(var, Secret::new(*value));
            }
            None => {
                return Err(ConfigError::SecretUnavailable {
                    var,
                    parameter: name,
                    reason: "parameter not found".into(),
                });
            }
        }
    }
    Ok(out)
}

/// The webhook settings as named in the environment, secrets not yet read.
struct WebhookEnv {
    secrets: Vec<(&'static str, SecretRef)>,
    max_clock_skew: Option<Duration>,
    custom_approval_codes: BTreeSet<String>,
}

impl WebhookConfig {
    /// The webhook's secrets and routing settings (`leave-sync send-event` signs with them).
    pub async fn load(
        env: &dyn EnvSource,
        aws: &aws_config::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let WebhookEnv {
            secrets,
            max_clock_skew,
            custom_approval_codes,
        } = Self::read(&Reader { env })?;
        let mut secrets = resolve(secrets, aws).await?;
        Ok(Self {
            verification_token: take(&mut secrets, "FEISHU_VERIFICATION_TOKEN")?,
            encrypt_key: secrets
                .remove("FEISHU_ENCRYPT_KEY")
                .map(|k| checked_secret("FEISHU_ENCRYPT_KEY", k))
                .transpose()?,
            max_clock_skew,
            custom_approval_codes,
        })
    }

    fn read(r: &Reader<'_>) -> Result<WebhookEnv, ConfigError> {
        let mut secrets = Vec::new();
        let token = r
            .secret_ref(
                "FEISHU_VERIFICATION_TOKEN",
                "FEISHU_VERIFICATION_TOKEN_PARAM",
            )
            .ok_or(ConfigError::Missing {
                var: "FEISHU_VERIFICATION_TOKEN",
                hint: "copy it from the developer console (Events & Callbacks > Encryption \
                       strategy), or set FEISHU_VERIFICATION_TOKEN_PARAM to an SSM parameter \
                       holding it",
            })?;
        secrets.push(("FEISHU_VERIFICATION_TOKEN", token));
        if let Some(key) = r.secret_ref("FEISHU_ENCRYPT_KEY", "FEISHU_ENCRYPT_KEY_PARAM") {
            secrets.push(("FEISHU_ENCRYPT_KEY", key));
        }
        let max_clock_skew = r
            .number::<u64>("WEBHOOK_MAX_CLOCK_SKEW_SECS")?
            .filter(|s| *s > 0)
            .map(Duration::from_secs);
        Ok(WebhookEnv {
            secrets,
            max_clock_skew,
            custom_approval_codes: r.generic_approval_codes(),
        })
    }
}

impl IngressConfig {
    pub async fn load(
        env: &dyn EnvSource,
        aws: &aws_config::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let r = Reader { env };
        let queue_url = r.required(
            "QUEUE_URL",
            "set it to the URL of the SQS queue the processor reads (template.yaml does this)",
        )?;
        let queue_url = r.url("QUEUE_URL", queue_url)?;
        Ok(Self {
            webhook: WebhookConfig::load(env, aws).await?,
            queue_url,
        })
    }
}

impl FeishuAppConfig {
    pub async fn load(
        env: &dyn EnvSource,
        aws: &aws_config::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let r = Reader { env };
        let app_id = r.required(
            "FEISHU_APP_ID",
            "copy the App ID (cli_...) from the developer console (Credentials & Basic Info)",
        )?;
        let secret = r
            .secret_ref("FEISHU_APP_SECRET", "FEISHU_APP_SECRET_PARAM")
            .ok_or(ConfigError::Missing {
                var: "FEISHU_APP_SECRET",
                hint: "copy the App Secret from the developer console (Credentials & Basic \
                       Info), or set FEISHU_APP_SECRET_PARAM to an SSM parameter holding it",
            })?;
        let base_url = r.url(
            "FEISHU_BASE_URL",
            r.optional("FEISHU_BASE_URL")
                .unwrap_or_else(|| DEFAULT_BASE_URL.into()),
        )?;
        let mut secrets = resolve(vec![("FEISHU_APP_SECRET", secret)], aws).await?;
        Ok(Self {
            app_id,
            app_secret: take(&mut secrets, "FEISHU_APP_SECRET")?,
            base_url,
        })
    }
}

impl ProcessorConfig {
    pub async fn load(
        env: &dyn EnvSource,
        aws: &aws_config::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let r = Reader { env };
        let feishu = FeishuAppConfig::load(env, aws).await?;
        let tenant_timezone = r.zone()?;
        let table_name = r.table_name()?;
        let queue_url = r
            .optional("QUEUE_URL")
            .map(|u| r.url("QUEUE_URL", u))
            .transpose()?;
        let dead_letter_queue_url = r
            .optional("DEAD_LETTER_QUEUE_URL")
            .map(|u| r.url("DEAD_LETTER_QUEUE_URL", u))
            .transpose()?;
        let record_concurrency = r
            .number::<usize>("PROCESSOR_CONCURRENCY")?
            .unwrap_or(DEFAULT_RECORD_CONCURRENCY)
            .clamp(1, 10);
        let twin_wait = Duration::from_secs(
            r.number::<u64>("TWIN_WAIT_SECS")?
                .unwrap_or(DEFAULT_TWIN_WAIT_SECS)
                .min(900),
        );
        let custom_forms = r.custom_forms()?;
        let chat = r.chat(&custom_forms)?;
        let team_calendar = r.team_calendar()?;
        Ok(Self {
            feishu,
            tenant_timezone,
            table_name,
            queue_url,
            dead_letter_queue_url,
            custom_forms,
            record_concurrency,
            twin_wait,
            chat,
            team_calendar,
        })
    }
}

impl ReconcilerConfig {
    pub async fn load(
        env: &dyn EnvSource,
        aws: &aws_config::SdkConfig,
    ) -> Result<Self, ConfigError> {
        let r = Reader { env };
        let feishu = FeishuAppConfig::load(env, aws).await?;
        let table_name = r.table_name()?;
        let queue_url = r.required(
            "QUEUE_URL",
            "set it to the events queue the processor reads (template.yaml does this)",
        )?;
        let queue_url = r.url("QUEUE_URL", queue_url)?;
        let leave_approval_codes = r.list("LEAVE_APPROVAL_CODES");
        // Listed and read back alike: the processor tells leave from overtime.
        let custom_approval_codes = r.generic_approval_codes();
        if leave_approval_codes.is_empty() && custom_approval_codes.is_empty() {
            return Err(ConfigError::Missing {
                var: "LEAVE_APPROVAL_CODES",
                hint: "name the forms to reconcile: LEAVE_APPROVAL_CODES (native leave \
                       forms), CUSTOM_APPROVAL_CODES (custom leave forms) and/or \
                       OVERTIME_APPROVAL_CODES, comma-separated",
            });
        }
        Ok(Self {
            feishu,
            table_name,
            queue_url,
            leave_approval_codes,
            custom_approval_codes,
            tenant_key: r.optional("FEISHU_TENANT_KEY").filter(|t| !t.is_empty()),
            lookback: r.duration("RECONCILE_LOOKBACK", DEFAULT_LOOKBACK)?,
            backfill: r.duration("RECONCILE_BACKFILL", DEFAULT_BACKFILL)?,
            revoke_horizon: r.duration("RECONCILE_REVOKE_HORIZON", DEFAULT_REVOKE_HORIZON)?,
            recheck_every: r.duration("RECONCILE_RECHECK_EVERY", DEFAULT_RECHECK_EVERY)?,
            settle: r.duration("RECONCILE_SETTLE", DEFAULT_SETTLE)?,
        })
    }

    /// Every definition the reconciler lists.
    pub fn approval_codes(&self) -> impl Iterator<Item = &String> {
        self.leave_approval_codes
            .iter()
            .chain(self.custom_approval_codes.iter())
    }
}

fn take(
    secrets: &mut HashMap<&'static str, Secret>,
    var: &'static str,
) -> Result<Secret, ConfigError> {
    let s = secrets.remove(var).ok_or(ConfigError::Missing {
        var,
        hint: "it resolved to nothing",
    })?;
    checked_secret(var, s)
}

/// A secret as Feishu issued it. Surrounding whitespace is trimmed, with a warning: a
/// trailing newline (`aws ssm put-parameter --value "$(cat key.txt)"`, an editor's) would
/// otherwise make every signature or token check fail, silently. Whitespace inside is an
/// error: Feishu's keys, tokens and secrets have none.
fn checked_secret(var: &'static str, s: Secret) -> Result<Secret, ConfigError> {
    let raw = s.expose();
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err(ConfigError::Invalid {
            var,
            reason: "it is empty".into(),
        });
    }
    if trimmed.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(ConfigError::Invalid {
            var,
            reason: "it contains whitespace; copy it again from the developer console".into(),
        });
    }
    // Lengths only: the text itself is never compared here.
    if trimmed.len() >= raw.len() {
        return Ok(s);
    }
    tracing::warn!(
        var,
        "{var} had whitespace around it (a trailing newline?); it was trimmed"
    );
    Ok(Secret::new(trimmed))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    async fn aws() -> aws_config::SdkConfig {
        // No SSM call is made in these tests: every secret is given by value.
        aws_config::SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .build()
    }

    #[tokio::test]
    async fn ingress_names_the_missing_variable() {
        let e = IngressConfig::load(&env(&[("QUEUE_URL", "http://q")]), &aws().await)
            .await
            .unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("FEISHU_VERIFICATION_TOKEN is not set"),
            "{msg}"
        );
        let e = IngressConfig::load(&env(&[]), &aws().await)
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("QUEUE_URL is not set"), "{e}");
    }

    #[tokio::test]
    async fn secrets_are_trimmed_and_whitespace_inside_is_refused() {
        let load = |token: &str, key: &str| {
            let vars = env(&[
                ("QUEUE_URL", "http://q"),
                ("FEISHU_VERIFICATION_TOKEN", token),
                ("FEISHU_ENCRYPT_KEY", key),
            ]);
            async move { IngressConfig::load(&vars, &aws().await).await }
        };
        let c = load("tok\n", "  key\r\n").await.unwrap();
        assert_eq!(c.webhook.verification_token.expose(), "tok");
        assert_eq!(c.webhook.encrypt_key.unwrap().expose(), "key");
        let e = load("tok", "two words").await.unwrap_err();
        assert!(
            e.to_string().starts_with("FEISHU_ENCRYPT_KEY is invalid"),
            "{e}"
        );
        assert!(
            !e.to_string().contains("two words"),
            "the value is never shown: {e}"
        );
    }

    #[tokio::test]
    async fn ingress_reads_optional_settings() {
        let c = IngressConfig::load(
            &env(&[
                ("QUEUE_URL", "http://127.0.0.1:5000/123/q/"),
                ("FEISHU_VERIFICATION_TOKEN", "tok"),
                ("FEISHU_ENCRYPT_KEY", "key"),
                ("WEBHOOK_MAX_CLOCK_SKEW_SECS", "300"),
                ("CUSTOM_APPROVAL_CODES", "A, B,,C"),
                ("OVERTIME_APPROVAL_CODES", "OT"),
            ]),
            &aws().await,
        )
        .await
        .unwrap();
        assert_eq!(c.queue_url, "http://127.0.0.1:5000/123/q");
        assert_eq!(c.webhook.encrypt_key.unwrap().expose(), "key");
        assert_eq!(c.webhook.max_clock_skew, Some(Duration::from_secs(300)));
        assert_eq!(
            c.webhook
                .custom_approval_codes
                .into_iter()
                .collect::<Vec<_>>(),
            ["A", "B", "C", "OT"],
            "overtime forms' status events are queued too"
        );
    }

    #[tokio::test]
    async fn the_chat_definition_must_be_one_that_is_synced_and_a_native_one_needs_types() {
        let base = [
            ("FEISHU_APP_ID", "cli_x"),
            ("FEISHU_APP_SECRET", "s"),
            ("TABLE_NAME", "t"),
            ("CUSTOM_APPROVAL_CODES", "CUSTOM"),
            ("LEAVE_APPROVAL_CODES", "NATIVE"),
        ];
        let load = |extra: &[(&str, &str)]| {
            let mut e = env(&base);
            e.extend(env(extra));
            async move { ProcessorConfig::load(&e, &aws().await).await }
        };
        assert_eq!(load(&[]).await.unwrap().chat, ChatConfig::default());
        let custom = load(&[("CHAT_LEAVE_APPROVAL_CODE", "CUSTOM")])
            .await
            .unwrap();
        let form = custom.chat.leave.unwrap();
        assert!(!form.native && form.leave_types.is_empty());

        let e = load(&[("CHAT_LEAVE_APPROVAL_CODE", "ELSEWHERE")])
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("neither LEAVE_APPROVAL_CODES"),
            "{e}"
        );
        let e = load(&[("CHAT_LEAVE_APPROVAL_CODE", "NATIVE")])
            .await
            .unwrap_err();
        assert!(
            e.to_string().starts_with("CHAT_LEAVE_TYPES is not set"),
            "{e}"
        );
        let e = load(&[
            ("CHAT_LEAVE_APPROVAL_CODE", "NATIVE"),
            ("CHAT_LEAVE_TYPES", "年假"),
        ])
        .await
        .unwrap_err();
        assert!(
            e.to_string().starts_with("CHAT_LEAVE_TYPES is invalid"),
            "{e}"
        );
        let native = load(&[
            ("CHAT_LEAVE_APPROVAL_CODE", "NATIVE"),
            ("CHAT_LEAVE_TYPES", "年假|annual=7138673249737506817"),
        ])
        .await
        .unwrap();
        assert!(native.chat.leave.unwrap().native);
    }

    #[tokio::test]
    async fn overtime_forms_are_listed_once_and_the_chat_one_among_them() {
        let base = [
            ("FEISHU_APP_ID", "cli_x"),
            ("FEISHU_APP_SECRET", "s"),
            ("TABLE_NAME", "t"),
            ("CUSTOM_APPROVAL_CODES", "CUSTOM"),
            ("OVERTIME_APPROVAL_CODES", "OT"),
        ];
        let load = |extra: &[(&str, &str)]| {
            let mut e = env(&base);
            e.extend(env(extra));
            async move { ProcessorConfig::load(&e, &aws().await).await }
        };
        let c = load(&[("CHAT_OVERTIME_APPROVAL_CODE", "OT")])
            .await
            .unwrap();
        assert_eq!(c.chat.overtime.unwrap().approval_code, "OT");
        assert!(c.custom_forms.overtime_approval_codes.contains("OT"));
        assert_eq!(
            c.custom_forms.overtime_compensation,
            crate::event::OvertimeCompensation::RecordOnly
        );
        let e = load(&[("CHAT_OVERTIME_APPROVAL_CODE", "CUSTOM")])
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("not in OVERTIME_APPROVAL_CODES"),
            "{e}"
        );
        let e = load(&[("OVERTIME_APPROVAL_CODES", "CUSTOM")])
            .await
            .unwrap_err();
        assert!(e.to_string().contains("also listed as a leave form"), "{e}");
        let pay = load(&[("OVERTIME_COMPENSATION", "pay")]).await.unwrap();
        assert_eq!(
            pay.custom_forms.overtime_compensation,
            crate::event::OvertimeCompensation::Pay
        );
        let e = load(&[("OVERTIME_COMPENSATION", "3")]).await.unwrap_err();
        assert!(
            e.to_string()
                .starts_with("OVERTIME_COMPENSATION is invalid"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn processor_defaults_and_validation() {
        let base = [
            ("FEISHU_APP_ID", "cli_x"),
            ("FEISHU_APP_SECRET", "s"),
            ("TABLE_NAME", "t"),
        ];
        let c = ProcessorConfig::load(&env(&base), &aws().await)
            .await
            .unwrap();
        assert_eq!(c.feishu.base_url, DEFAULT_BASE_URL);
        assert_eq!(c.tenant_timezone.iana_name(), Some("Asia/Shanghai"));
        assert_eq!(c.custom_forms.period_widget, "timeInfo");
        assert_eq!(c.custom_forms.reason_widget, "reason");
        assert_eq!(c.record_concurrency, DEFAULT_RECORD_CONCURRENCY);
        assert!(!format!("{c:?}").contains("\"s\""));

        let mut bad = env(&base);
        bad.insert("TENANT_TIMEZONE".into(), "Mars/Olympus".into());
        let e = ProcessorConfig::load(&bad, &aws().await).await.unwrap_err();
        assert!(
            e.to_string().starts_with("TENANT_TIMEZONE is invalid"),
            "{e}"
        );

        let mut bad = env(&base);
        bad.insert("FEISHU_BASE_URL".into(), "open.feishu.cn".into());
        let e = ProcessorConfig::load(&bad, &aws().await).await.unwrap_err();
        assert!(
            e.to_string().starts_with("FEISHU_BASE_URL is invalid"),
            "{e}"
        );

        let mut missing = env(&base);
        missing.remove("FEISHU_APP_SECRET");
        let e = ProcessorConfig::load(&missing, &aws().await)
            .await
            .unwrap_err();
        assert!(e.to_string().contains("FEISHU_APP_SECRET_PARAM"), "{e}");
    }
}
