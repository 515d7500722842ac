//! What the simulated tenant holds: users, tokens and everything the app wrote.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::faults::Fault;

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct User {
    pub user_id: String,
    pub open_id: String,
    pub union_id: String,
    pub name: String,
    /// Inside the app's availability range (IM answers 230013 otherwise).
    #[serde(default = "yes")]
    pub available: bool,
}

fn yes() -> bool {
    true
}

impl User {
    pub fn new(key: &str, name: &str) -> Self {
        Self {
            user_id: format!("u_{key}"),
            open_id: format!("ou_{key}"),
            union_id: format!("on_{key}"),
            name: name.to_owned(),
            available: true,
        }
    }
}

/// The bot's primary calendar, and the shared team calendar the app owns by default.
pub const BOT_CALENDAR: &str = "feishu.cn_bot0000@group.calendar.feishu.cn";
pub const TEAM_CALENDAR: &str = "feishu.cn_team0001@group.calendar.feishu.cn";
/// The team's group chat, with the bot in it.
pub const TEAM_CHAT: &str = "oc_team0000000000000000000000000001";

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub app_id: String,
    pub app_secret: String,
    /// What `tenant/v2/tenant/query` answers (the events' `tenant_key`).
    pub tenant_key: String,
    /// Lifetime of a tenant_access_token (Feishu: 2 hours).
    pub token_ttl: Duration,
    /// The token endpoint returns the current token until less than this is left
    /// (Feishu: 30 minutes), then issues a new one.
    pub token_reuse_threshold: Duration,
    /// Per-second limits apply per API (reference §4); `false` turns them off.
    pub rate_limits: bool,
    pub users: Vec<User>,
    /// Approval definitions that exist (for subscribe / create instance).
    pub approval_codes: Vec<String>,
    /// Whether `user_approvals/query` echoes a record's `idempotent_id`. The create page
    /// says the field 「响应体中无需关注」; the service must not need it, so off by default.
    pub query_returns_idempotent_id: bool,
    /// Whether `user_approvals/query` also returns a record another system wrote for the
    /// user, in a shape this service does not write (a string unit, no interval, no
    /// idempotent_id): the query returns every record of the user.
    pub foreign_records: bool,
    /// Whether the definitions allow withdrawing ("允许撤销审批中的申请", reference 7.4).
    pub allow_withdraw: bool,
    /// Shared calendars the app owns besides its bot's primary one (the team calendar an
    /// admin made); events on any other calendar are refused.
    pub calendars: Vec<String>,
    /// Group chats the bot is in (`oc_...`).
    pub chats: Vec<String>,
}

impl SimConfig {
    /// Adds `n` synthetic employees `u_load0000`..: load tests need many recipients, since
    /// IM allows 5 messages per second per recipient.
    pub fn with_load_users(mut self, n: usize) -> Self {
        self.users
            .extend((0..n).map(|i| User::new(&format!("load{i:04}"), &format!("Load {i}"))));
        self
    }
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            app_id: "cli_demo0000000001".into(),
            app_secret: "demo-app-secret".into(),
            tenant_key: "demo-tenant".into(),
            token_ttl: Duration::from_secs(7200),
            token_reuse_threshold: Duration::from_secs(1800),
            rate_limits: true,
            users: vec![
                User::new("zhangwei", "张伟"),
                User::new("lina", "李娜"),
                User::new("wangfang", "王芳"),
                User::new("zhaolei", "赵磊"),
            ],
            approval_codes: vec![
                "7C468A54-8745-2245-9675-08654A59C265".into(),
                "CUSTOM-PTO-0001".into(),
                "OVERTIME-0001".into(),
            ],
            query_returns_idempotent_id: false,
            foreign_records: true,
            allow_withdraw: true,
            calendars: vec![TEAM_CALENDAR.into()],
            chats: vec![TEAM_CHAT.into()],
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub value: String,
    pub expires_at: Instant,
}

/// One attendance leave record, as the query API returns it.
fn leave_kind() -> String {
    "leave".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AttendanceRecord {
    pub approval_id: String,
    /// The user's user_id (whatever employee_type the write used).
    pub user_id: String,
    pub date: String,
    /// 2 approved, 4 reverted.
    pub status: i32,
    /// `leave` or `overtime`: the array it was written in, the `approval_type` it is
    /// revoked as.
    #[serde(default = "leave_kind")]
    pub kind: String,
    /// The record as written (a `user_leave` or a `user_overtime_work`), with its ids.
    pub leave: Value,
    /// The day it was written (China time), what a CreateTime query filters on.
    #[serde(default)]
    pub created_on: String,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TimeoffRecord {
    pub timeoff_event_id: String,
    /// The user's open_id.
    pub open_id: String,
    pub timezone: String,
    pub start_time: String,
    pub end_time: String,
    pub title: String,
    pub description: String,
    pub deleted: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MessageRecord {
    pub message_id: String,
    pub receive_id_type: String,
    pub receive_id: String,
    /// The open_id of the user it went to, when it went to a user.
    pub open_id: Option<String>,
    pub msg_type: String,
    /// `content`, decoded from its JSON string.
    pub content: Value,
    pub uuid: Option<String>,
    pub reply_to: Option<String>,
    /// How many times the card was replaced (PATCH).
    #[serde(default)]
    pub updates: u32,
    #[serde(skip)]
    pub sent_at: Option<Instant>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CalendarEventRecord {
    pub calendar_id: String,
    pub event_id: String,
    pub body: Value,
    pub idempotency_key: Option<String>,
    #[serde(default)]
    pub deleted: bool,
}

/// One request the simulator answered.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Call {
    pub api: String,
    /// When the request arrived, in milliseconds since the epoch.
    #[serde(default)]
    pub at_ms: i64,
    pub status: u16,
    pub code: i64,
    /// Whether the request changed state (a write that took effect).
    pub wrote: bool,
}

#[derive(Default)]
pub(crate) struct State {
    pub tokens: Vec<Token>,
    pub attendance: Vec<AttendanceRecord>,
    pub timeoff: Vec<TimeoffRecord>,
    pub messages: Vec<MessageRecord>,
    pub calendar_events: Vec<CalendarEventRecord>,
    pub created_calendars: Vec<String>,
    /// `ws://host:port` of the long-connection server, once it listens.
    pub ws_base: Option<String>,
    /// The settings the endpoint and every pong give (PascalCase, seconds).
    pub ws_client_config: serde_json::Value,
    /// Settings pushed in pongs instead, once set: a change the server makes later.
    pub ws_pong_config: Option<serde_json::Value>,
    /// (calendar_id, open_id, role) granted.
    pub calendar_acls: Vec<(String, String, String)>,
    pub instances: BTreeMap<String, Value>,
    pub instance_uuids: HashMap<String, String>,
    pub subscriptions: BTreeSet<String>,
    pub calls: Vec<Call>,
    pub faults: Vec<Fault>,
    /// (api or api+recipient, window) → count, for rate limits.
    pub windows: HashMap<(String, u64), u32>,
    pub next_id: u64,
}

impl State {
    pub fn next(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }
}

/// A read-only snapshot for tests and `GET /_sim/state`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Snapshot {
    pub users: Vec<User>,
    pub attendance: Vec<AttendanceRecord>,
    pub timeoff_events: Vec<TimeoffRecord>,
    pub messages: Vec<MessageRecord>,
    pub calendar_events: Vec<CalendarEventRecord>,
    pub created_calendars: Vec<String>,
    pub calendar_acls: Vec<(String, String, String)>,
    pub instances: BTreeMap<String, Value>,
    pub subscriptions: BTreeSet<String>,
    /// Requests per API (`METHOD /path pattern`), all outcomes.
    pub calls: BTreeMap<String, u32>,
    /// Requests per API that changed state.
    pub writes: BTreeMap<String, u32>,
    pub tokens_issued: usize,
}
