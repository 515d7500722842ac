//! The simulated Open Platform APIs. Shapes, codes and limits follow
//! ../shared/reference/feishu-api.md; where the reference is silent the choice is marked
//! "(sim assumption)".

use std::collections::HashMap;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::state::{
    AttendanceRecord, BOT_CALENDAR, CalendarEventRecord, MessageRecord, SimConfig, State,
    TimeoffRecord, Token, User,
};

pub const TOKEN: &str = "POST /open-apis/auth/v3/tenant_access_token/internal";
pub const ATTENDANCE_CREATE: &str = "POST /open-apis/attendance/v1/user_approvals";
pub const ATTENDANCE_QUERY: &str = "POST /open-apis/attendance/v1/user_approvals/query";
pub const ATTENDANCE_PROCESS: &str = "POST /open-apis/attendance/v1/approval_infos/process";
pub const TIMEOFF_CREATE: &str = "POST /open-apis/calendar/v4/timeoff_events";
pub const TIMEOFF_DELETE: &str = "DELETE /open-apis/calendar/v4/timeoff_events/:id";
pub const CALENDAR_PRIMARY: &str = "POST /open-apis/calendar/v4/calendars/primary";
pub const CALENDAR_EVENT_CREATE: &str = "POST /open-apis/calendar/v4/calendars/:id/events";
pub const MESSAGE_SEND: &str = "POST /open-apis/im/v1/messages";
pub const MESSAGE_REPLY: &str = "POST /open-apis/im/v1/messages/:id/reply";
pub const INSTANCE_GET: &str = "GET /open-apis/approval/v4/instances/:id";
pub const INSTANCE_CREATE: &str = "POST /open-apis/approval/v4/instances";
pub const SUBSCRIBE: &str = "POST /open-apis/approval/v4/approvals/:code/subscribe";
pub const INSTANCE_LIST: &str = "GET /open-apis/approval/v4/instances";
pub const TENANT_QUERY: &str = "GET /open-apis/tenant/v2/tenant/query";
pub const MESSAGE_PATCH: &str = "PATCH /open-apis/im/v1/messages/:id";
pub const INSTANCE_CANCEL: &str = "POST /open-apis/approval/v4/instances/cancel";
pub const CALENDAR_EVENT_DELETE: &str = "DELETE /open-apis/calendar/v4/calendars/:id/events/:id";
pub const CALENDAR_CREATE: &str = "POST /open-apis/calendar/v4/calendars";
pub const CALENDAR_ACL_CREATE: &str = "POST /open-apis/calendar/v4/calendars/:id/acls";
pub const CONTACT_USER_GET: &str = "GET /open-apis/contact/v3/users/:id";
/// The long connection's bootstrap (not under /open-apis; no token: the body carries
/// the credentials).
pub const WS_ENDPOINT: &str = "POST /callback/ws/endpoint";

/// A parsed request.
pub(crate) struct Req {
    pub api: &'static str,
    pub param: String,
    pub query: HashMap<String, String>,
    pub bearer: Option<String>,
    pub body: Vec<u8>,
}

/// An answer before it is turned into HTTP.
#[derive(Debug, Clone)]
pub(crate) struct Answer {
    pub status: u16,
    pub code: i64,
    pub body: String,
    pub headers: Vec<(&'static str, String)>,
    pub wrote: bool,
}

impl Answer {
    pub fn ok(data: Value) -> Self {
        Self::envelope(200, 0, "success", Some(data))
    }

    pub fn written(data: Value) -> Self {
        Self {
            wrote: true,
            ..Self::ok(data)
        }
    }

    pub fn err(status: u16, code: i64, msg: &str) -> Self {
        Self::envelope(status, code, msg, None)
    }

    fn envelope(status: u16, code: i64, msg: &str, data: Option<Value>) -> Self {
        let mut body = json!({ "code": code, "msg": msg });
        if let Some(d) = data {
            body["data"] = d;
        }
        Self {
            status,
            code,
            body: body.to_string(),
            headers: Vec::new(),
            wrote: false,
        }
    }

    pub fn text(status: u16, text: &str) -> Self {
        Self {
            status,
            code: -1,
            body: text.to_owned(),
            headers: Vec::new(),
            wrote: false,
        }
    }

    pub fn rate_limited(limit: u32, reset_secs: u64) -> Self {
        let mut a = Self::err(429, 99991400, "request trigger frequency limit");
        a.headers.push(("x-ogw-ratelimit-limit", limit.to_string()));
        a.headers
            .push(("x-ogw-ratelimit-reset", reset_secs.to_string()));
        a
    }
}

/// Maps a method and path to its API pattern and path parameter.
pub(crate) fn route(method: &str, path: &str) -> Option<(&'static str, String)> {
    let p: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    // Two path parameters: the calendar and the event, one a line.
    if let (
        "DELETE",
        [
            "",
            "open-apis",
            "calendar",
            "v4",
            "calendars",
            cal,
            "events",
            ev,
        ],
    ) = (method, p.as_slice())
    {
        let param = format!("{}\n{}", percent_decode(cal), percent_decode(ev));
        return Some((CALENDAR_EVENT_DELETE, param));
    }
    let r = match (method, p.as_slice()) {
        (
            "POST",
            [
                "",
                "open-apis",
                "auth",
                "v3",
                "tenant_access_token",
                "internal",
            ],
        ) => (TOKEN, ""),
        ("POST", ["", "open-apis", "attendance", "v1", "user_approvals"]) => {
            (ATTENDANCE_CREATE, "")
        }
        (
            "POST",
            [
                "",
                "open-apis",
                "attendance",
                "v1",
                "user_approvals",
                "query",
            ],
        ) => (ATTENDANCE_QUERY, ""),
        (
            "POST",
            [
                "",
                "open-apis",
                "attendance",
                "v1",
                "approval_infos",
                "process",
            ],
        ) => (ATTENDANCE_PROCESS, ""),
        ("POST", ["", "open-apis", "calendar", "v4", "timeoff_events"]) => (TIMEOFF_CREATE, ""),
        ("DELETE", ["", "open-apis", "calendar", "v4", "timeoff_events", id]) => {
            (TIMEOFF_DELETE, *id)
        }
        ("POST", ["", "open-apis", "calendar", "v4", "calendars", "primary"]) => {
            (CALENDAR_PRIMARY, "")
        }
        ("POST", ["", "open-apis", "calendar", "v4", "calendars", id, "events"]) => {
            (CALENDAR_EVENT_CREATE, *id)
        }
        ("POST", ["", "open-apis", "calendar", "v4", "calendars"]) => (CALENDAR_CREATE, ""),
        ("POST", ["", "callback", "ws", "endpoint"]) => (WS_ENDPOINT, ""),
        ("POST", ["", "open-apis", "calendar", "v4", "calendars", id, "acls"]) => {
            (CALENDAR_ACL_CREATE, *id)
        }
        ("GET", ["", "open-apis", "contact", "v3", "users", id]) => (CONTACT_USER_GET, *id),
        ("POST", ["", "open-apis", "im", "v1", "messages"]) => (MESSAGE_SEND, ""),
        ("POST", ["", "open-apis", "im", "v1", "messages", id, "reply"]) => (MESSAGE_REPLY, *id),
        ("GET", ["", "open-apis", "approval", "v4", "instances"]) => (INSTANCE_LIST, ""),
        ("GET", ["", "open-apis", "approval", "v4", "instances", id]) => (INSTANCE_GET, *id),
        ("GET", ["", "open-apis", "tenant", "v2", "tenant", "query"]) => (TENANT_QUERY, ""),
        ("POST", ["", "open-apis", "approval", "v4", "instances"]) => (INSTANCE_CREATE, ""),
        ("POST", ["", "open-apis", "approval", "v4", "instances", "cancel"]) => {
            (INSTANCE_CANCEL, "")
        }
        ("PATCH", ["", "open-apis", "im", "v1", "messages", id]) => (MESSAGE_PATCH, *id),
        (
            "POST",
            [
                "",
                "open-apis",
                "approval",
                "v4",
                "approvals",
                code,
                "subscribe",
            ],
        ) => (SUBSCRIBE, *code),
        _ => return None,
    };
    Some((r.0, percent_decode(r.1)))
}

pub(crate) fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => match u8::from_str_radix(&s[i + 1..i + 3], 16) {
                Ok(b) => {
                    out.push(b);
                    i += 3;
                    continue;
                }
                Err(_) => out.push(b'%'),
            },
            b'+' => out.push(b' '),
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Documented limits: (per second, per minute).
pub(crate) fn limits(api: &str) -> (Option<u32>, Option<u32>) {
    match api {
        ATTENDANCE_CREATE | ATTENDANCE_QUERY | ATTENDANCE_PROCESS => (Some(50), None),
        TIMEOFF_CREATE | TIMEOFF_DELETE | MESSAGE_SEND | MESSAGE_REPLY | INSTANCE_GET => {
            (Some(50), Some(1000))
        }
        CALENDAR_PRIMARY
        | CALENDAR_EVENT_CREATE
        | CALENDAR_EVENT_DELETE
        | CALENDAR_CREATE
        | CALENDAR_ACL_CREATE => (Some(50), Some(1000)),
        INSTANCE_CREATE | SUBSCRIBE | INSTANCE_LIST | INSTANCE_CANCEL => (None, Some(100)),
        MESSAGE_PATCH => (Some(50), Some(1000)),
        TENANT_QUERY => (Some(50), Some(1000)),
        _ => (None, None),
    }
}

fn parse_body(req: &Req) -> Result<Value, Answer> {
    serde_json::from_slice::<Value>(&req.body)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| {
            Answer::err(
                400,
                99992402,
                "field validation failed: the body is not a JSON object",
            )
        })
}

fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

pub(crate) struct Ctx<'a> {
    pub config: &'a SimConfig,
    pub state: &'a mut State,
    pub now: Instant,
}

impl Ctx<'_> {
    fn user_by(&self, id_type: &str, id: &str) -> Option<&User> {
        self.config.users.iter().find(|u| match id_type {
            "open_id" => u.open_id == id,
            "union_id" => u.union_id == id,
            // attendance's employee_id is the console's user_id
            "user_id" | "employee_id" => u.user_id == id,
            _ => false,
        })
    }

    /// Valid bearer token, else the documented error.
    pub fn authorize(&self, bearer: Option<&str>) -> Result<(), Answer> {
        let Some(token) = bearer else {
            return Err(Answer::err(
                400,
                99991661,
                "Missing access token for authorization",
            ));
        };
        let valid = self
            .state
            .tokens
            .iter()
            .any(|t| t.value == token && t.expires_at > self.now);
        if valid {
            Ok(())
        } else {
            Err(Answer::err(
                400,
                99991663,
                "Invalid access token for authorization",
            ))
        }
    }

    pub fn invalidate(&mut self, token: &str) {
        for t in &mut self.state.tokens {
            if t.value == token {
                t.expires_at = self.now;
            }
        }
    }

    pub fn dispatch(&mut self, req: &Req) -> Answer {
        let result = match req.api {
            TOKEN => self.token(req),
            ATTENDANCE_CREATE => self.attendance_create(req),
            ATTENDANCE_QUERY => self.attendance_query(req),
            ATTENDANCE_PROCESS => self.attendance_process(req),
            TIMEOFF_CREATE => self.timeoff_create(req),
            TIMEOFF_DELETE => self.timeoff_delete(req),
            CALENDAR_PRIMARY => Ok(self.calendar_primary()),
            CALENDAR_EVENT_CREATE => self.calendar_event_create(req),
            CALENDAR_EVENT_DELETE => self.calendar_event_delete(req),
            CALENDAR_CREATE => self.calendar_create(req),
            CALENDAR_ACL_CREATE => self.calendar_acl_create(req),
            CONTACT_USER_GET => self.contact_user_get(req),
            WS_ENDPOINT => self.ws_endpoint(req),
            MESSAGE_SEND | MESSAGE_REPLY => self.message_send(req),
            INSTANCE_GET => self.instance_get(req),
            INSTANCE_LIST => super::listing::instance_list(self, req),
            TENANT_QUERY => Ok(Answer::ok(json!({ "tenant": {
                "name": "Demo Tenant", "display_id": "F000000001", "tenant_tag": 0,
                "tenant_key": self.config.tenant_key
            } }))),
            INSTANCE_CREATE => self.instance_create(req),
            INSTANCE_CANCEL => self.instance_cancel(req),
            MESSAGE_PATCH => self.message_patch(req),
            SUBSCRIBE => self.subscribe(req),
            _ => Err(Answer::text(404, "404 page not found")),
        };
        result.unwrap_or_else(|a| a)
    }

    /// Tokens sit at the top level, not in `data`. The current token is handed out again
    /// until less than the reuse threshold is left (pitfall 12).
    fn token(&mut self, req: &Req) -> Result<Answer, Answer> {
        let body = parse_body(req)?;
        if str_field(&body, "app_id") != Some(self.config.app_id.as_str())
            || str_field(&body, "app_secret") != Some(self.config.app_secret.as_str())
        {
            // (sim assumption) the reference lists no code for bad credentials.
            return Err(Answer::err(400, 10014, "app secret invalid"));
        }
        let now = self.now;
        let reuse = self
            .state
            .tokens
            .iter()
            .filter(|t| t.expires_at > now + self.config.token_reuse_threshold)
            .max_by_key(|t| t.expires_at)
            .cloned();
        let token = match reuse {
            Some(t) => t,
            None => {
                let n = self.state.next();
                let t = Token {
                    value: format!("t-sim{n:020}"),
                    expires_at: now + self.config.token_ttl,
                };
                self.state.tokens.push(t.clone());
                t
            }
        };
        let expire = token.expires_at.saturating_duration_since(now).as_secs();
        let mut a = Answer::envelope(200, 0, "ok", None);
        a.body = json!({
            "code": 0, "msg": "ok", "tenant_access_token": token.value, "expire": expire
        })
        .to_string();
        Ok(a)
    }

    fn employee_type<'r>(&self, req: &'r Req) -> Result<&'r str, Answer> {
        match req.query.get("employee_type").map(String::as_str) {
            Some(t @ ("employee_id" | "employee_no" | "open_id")) => Ok(t),
            _ => Err(Answer::err(
                400,
                1220001,
                "param is invalid: employee_type invalid",
            )),
        }
    }

    fn attendance_user(&self, employee_type: &str, id: &str) -> Result<User, Answer> {
        let kind = if employee_type == "employee_no" {
            "user_id"
        } else {
            employee_type
        };
        self.user_by(kind, id)
            .cloned()
            .ok_or_else(|| Answer::err(400, 1220004, "user does not exist or no permission"))
    }

    fn attendance_create(&mut self, req: &Req) -> Result<Answer, Answer> {
        let employee_type = self.employee_type(req)?;
        let body = parse_body(req)?;
        let ua = body
            .get("user_approval")
            .filter(|v| v.is_object())
            .ok_or_else(|| {
                Answer::err(400, 1220001, "param is invalid: user_approval is required")
            })?;
        let user_id = str_field(ua, "user_id")
            .ok_or_else(|| Answer::err(400, 1220001, "param is invalid: user_id is required"))?;
        let user = self.attendance_user(employee_type, user_id)?;
        let date = str_field(ua, "date").unwrap_or_default();
        if date.len() != 8 || jiff::civil::Date::strptime("%Y%m%d", date).is_err() {
            return Err(Answer::err(
                400,
                1220001,
                "param is invalid: date must be yyyyMMdd",
            ));
        }
        let array = |key: &str| {
            ua.get(key)
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        };
        let (leaves, overtime) = (array("leaves"), array("overtime_works"));
        for leave in &leaves {
            validate_leave(leave)?;
        }
        for work in &overtime {
            validate_overtime(work)?;
        }
        let written: Vec<(&str, &Value)> = leaves
            .iter()
            .map(|l| ("leave", l))
            .chain(overtime.iter().map(|o| ("overtime", o)))
            .collect();
        let records = self.new_records(&user.user_id, date, &written)?;
        self.state.attendance.extend(records.iter().cloned());
        let echo = |kind: &str| -> Vec<Value> {
            records
                .iter()
                .filter(|r| r.kind == kind)
                .map(|r| r.leave.clone())
                .collect()
        };
        let mut out = ua.clone();
        out["leaves"] = Value::Array(echo("leave"));
        out["overtime_works"] = Value::Array(echo("overtime"));
        out["time_zone"] = json!("Asia/Shanghai");
        Ok(Answer::written(json!({ "user_approval": out })))
    }

    /// The records a write stores, each with the `approval_id` Feishu issues; refused
    /// whole if one repeats a stored `idempotent_id` (insert-only: refused, not ignored).
    fn new_records(
        &mut self,
        user_id: &str,
        date: &str,
        written: &[(&str, &Value)],
    ) -> Result<Vec<AttendanceRecord>, Answer> {
        let mut records = Vec::new();
        for (kind, leave) in written {
            // (sim assumption) whether an idempotent_id is unique per record type or
            // across them is not documented: across them here, the stricter reading.
            if let Some(id) = str_field(leave, "idempotent_id") {
                let clash = self
                    .state
                    .attendance
                    .iter()
                    .any(|r| str_field(&r.leave, "idempotent_id") == Some(id));
                if clash {
                    return Err(Answer::err(400, 1220600, "the object already exists"));
                }
            }
            let n = self.state.next();
            let mut stored = (*leave).clone();
            stored["approval_id"] = json!(format!("7{n:017}"));
            if *kind == "leave" {
                stored["approve_pass_time"] = json!("2026-11-22 08:00:00");
                stored["approve_apply_time"] = json!("2026-11-22 08:00:00");
            }
            records.push(AttendanceRecord {
                approval_id: format!("7{n:017}"),
                user_id: user_id.to_owned(),
                date: date.to_owned(),
                status: 2,
                kind: (*kind).to_owned(),
                leave: stored,
                created_on: china_today().to_string(),
            });
        }
        Ok(records)
    }

    fn attendance_query(&mut self, req: &Req) -> Result<Answer, Answer> {
        let employee_type = self.employee_type(req)?;
        let body = parse_body(req)?;
        let ids: Vec<String> = body
            .get("user_ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let from = body.get("check_date_from").and_then(Value::as_u64);
        let to = body.get("check_date_to").and_then(Value::as_u64);
        let (Some(from), Some(to)) = (from, to) else {
            return Err(Answer::err(
                400,
                1220001,
                "param is invalid: check_date_from/to are required",
            ));
        };
        if ids.is_empty() {
            return Err(Answer::err(
                400,
                1220001,
                "param is invalid: user_ids is required",
            ));
        }
        let day = |n: u64| jiff::civil::Date::strptime("%Y%m%d", n.to_string()).ok();
        let (Some(from_d), Some(to_d)) = (day(from), day(to)) else {
            return Err(Answer::err(
                400,
                1220001,
                "param is invalid: dates must be yyyyMMdd",
            ));
        };
        if to_d < from_d || from_d.until(to_d).map(|s| s.get_days()).unwrap_or(99) > 30 {
            return Err(Answer::err(
                400,
                1220001,
                "param is invalid: the range may not exceed 30 days",
            ));
        }
        // 「传入的日期不能超过当天 +1 天…传入 20241012 会报错」. (sim assumption) "today" is
        // China's, and the error is 1220001 (the page names no code).
        if china_today()
            .tomorrow()
            .is_ok_and(|tomorrow| from_d > tomorrow)
        {
            return Err(Answer::err(
                400,
                1220001,
                "param is invalid: check_date_from may not be later than tomorrow",
            ));
        }
        // (sim assumption) PeriodTime finds the records whose period overlaps the range;
        // CreateTime those written on a day in it; UpdateTime is 「灰度中，暂不开放」.
        let by_creation = match str_field(&body, "check_date_type").unwrap_or("PeriodTime") {
            "PeriodTime" => false,
            "CreateTime" => true,
            other => {
                return Err(Answer::err(
                    400,
                    1220001,
                    &format!("param is invalid: check_date_type {other} is not open"),
                ));
            }
        };
        let status = body.get("status").and_then(Value::as_i64).unwrap_or(2) as i32;
        let mut users = Vec::new();
        for id in &ids {
            users.push(self.attendance_user(employee_type, id)?.user_id);
        }
        // (sim assumption) The query page: 「请假、加班：仅支持查询已通过和已撤回状态的审批数据」,
        // with 2 = 已通过 and 3 = 已撤回 in its enum, while the process page calls its revoke
        // status 4. Strictly: a revoked leave (4 after process) is found under 3 only, and
        // any other status is refused (the page names no code: 1220001 here).
        let stored = match status {
            2 => 2,
            3 => 4,
            other => {
                return Err(Answer::err(
                    400,
                    1220001,
                    &format!(
                        "param is invalid: status {other} cannot be queried for leave or overtime"
                    ),
                ));
            }
        };
        let mut approvals: Vec<Value> = self
            .state
            .attendance
            .iter()
            .filter(|r| users.contains(&r.user_id) && r.status == stored)
            .filter(|r| {
                if by_creation {
                    r.created_on
                        .parse::<jiff::civil::Date>()
                        .is_ok_and(|d| from_d <= d && d <= to_d)
                } else {
                    overlaps(r, from_d, to_d)
                }
            })
            .map(|r| self.as_queried(r))
            .collect();
        if self.config.foreign_records && status == 2 {
            approvals.extend(users.iter().map(|u| foreign_record(u, from_d)));
        }
        Ok(Answer::ok(json!({ "user_approvals": approvals })))
    }

    fn attendance_process(&mut self, req: &Req) -> Result<Answer, Answer> {
        let body = parse_body(req)?;
        let id = str_field(&body, "approval_id").ok_or_else(|| {
            Answer::err(400, 1220001, "param is invalid: approval_id is required")
        })?;
        let kind = str_field(&body, "approval_type")
            .unwrap_or_default()
            .to_owned();
        let kind = kind.as_str();
        if !["leave", "out", "overtime", "trip", "remedy"].contains(&kind) {
            return Err(Answer::err(400, 1220001, "param is invalid: approval_type"));
        }
        let status = body.get("status").and_then(Value::as_i64).unwrap_or(0);
        if kind != "remedy" && status != 4 {
            return Err(Answer::err(
                400,
                1220001,
                "param is invalid: leave accepts only status 4",
            ));
        }
        let record = self
            .state
            .attendance
            .iter_mut()
            .find(|r| r.approval_id == id)
            // (sim assumption) the reference gives no code for an unknown approval_id.
            .ok_or_else(|| Answer::err(400, 1220600, "param invalid"))?;
        if record.status != 2 {
            // Only approved records can be revoked.
            return Err(Answer::err(400, 1220600, "param invalid"));
        }
        if record.kind != kind {
            // (sim assumption) an overtime's id revoked as a leave, or the other way
            // round, is refused like an unknown id: the type names the record.
            return Err(Answer::err(400, 1220600, "param invalid"));
        }
        record.status = 4;
        Ok(Answer::written(json!({
            "approval_info": { "approval_id": id, "approval_type": kind, "status": 4 }
        })))
    }

    /// Doc "创建请假日程" (reference §4.5, 7.9): 400/190002 for bad parameters, 404/195100
    /// for a user not (or no longer) in the tenant. Both ends unix seconds or both dates;
    /// a timed event must not be empty, and its seconds are seconds, not milliseconds
    /// (sim assumption: Feishu refuses a 13-digit value as out of range).
    fn timeoff_create(&mut self, req: &Req) -> Result<Answer, Answer> {
        let invalid = |what: &str| {
            Answer::err(
                400,
                190002,
                &format!("invalid parameters in request: {what}"),
            )
        };
        let id_type = req
            .query
            .get("user_id_type")
            .map(String::as_str)
            .unwrap_or("open_id");
        let body = parse_body(req)?;
        let user_id = str_field(&body, "user_id").unwrap_or_default();
        let user = self.user_by(id_type, user_id).cloned().ok_or_else(|| {
            Answer::err(404, 195100, "user is dismiss or not exist in the tenant")
        })?;
        let timezone = str_field(&body, "timezone").unwrap_or_default();
        if jiff::tz::TimeZone::get(timezone).is_err() {
            return Err(invalid("timezone"));
        }
        let (start, end) = (
            str_field(&body, "start_time").unwrap_or_default(),
            str_field(&body, "end_time").unwrap_or_default(),
        );
        let seconds = |s: &str| {
            (!s.is_empty() && s.len() <= 10 && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u64>().ok())
                .flatten()
        };
        let is_date = |s: &str| jiff::civil::Date::strptime("%Y-%m-%d", s).is_ok();
        // (sim assumption) a timed range must not be empty; the page does not say, and
        // refusing it is the stricter reading. Dates are inclusive (its start = end sample).
        let valid = match (seconds(start), seconds(end)) {
            (Some(s), Some(e)) => s < e,
            _ if is_date(start) && is_date(end) => start <= end,
            _ => {
                return Err(invalid(
                    "start_time and end_time must both be unix seconds or both dates",
                ));
            }
        };
        if !valid {
            return Err(invalid("end_time must come after start_time"));
        }
        let n = self.state.next();
        let record = TimeoffRecord {
            timeoff_event_id: format!("timeoff:{n:08X}-0000-4000-8000-{n:012X}"),
            open_id: user.open_id.clone(),
            timezone: timezone.to_owned(),
            start_time: start.to_owned(),
            end_time: end.to_owned(),
            title: str_field(&body, "title")
                .filter(|t| !t.is_empty())
                .unwrap_or("请假中(全天) / 1-Day Time Off")
                .to_owned(),
            description: str_field(&body, "description")
                .unwrap_or_default()
                .to_owned(),
            deleted: false,
        };
        let answer = json!({
            "timeoff_event_id": record.timeoff_event_id, "user_id": user_id, "timezone": record.timezone,
            "start_time": record.start_time, "end_time": record.end_time,
            "title": record.title, "description": record.description,
        });
        self.state.timeoff.push(record);
        Ok(Answer::written(answer))
    }

    fn timeoff_delete(&mut self, req: &Req) -> Result<Answer, Answer> {
        match self
            .state
            .timeoff
            .iter_mut()
            .find(|t| t.timeoff_event_id == req.param && !t.deleted)
        {
            Some(t) => {
                t.deleted = true;
                Ok(Answer::written(json!({})))
            }
            // (sim assumption) the reference gives no code for a missing time-off event.
            None => Err(Answer::err(404, 193001, "timeoff event not found")),
        }
    }

    fn calendar_primary(&self) -> Answer {
        Answer::ok(json!({ "calendars": [{
            "calendar": {
                "calendar_id": BOT_CALENDAR,
                "summary": "Leave Bot", "description": "", "permissions": "private",
                "type": "primary", "role": "owner", "is_deleted": false, "is_third_party": false
            },
            "user_id": "ou_bot"
        }]}))
    }

    fn calendar_event_create(&mut self, req: &Req) -> Result<Answer, Answer> {
        let body = parse_body(req)?;
        self.owned_calendar(&req.param)?;
        // (sim assumption) what a repeated idempotency_key answers is not documented
        // (doc "创建日程"): the first event here.
        let key = req.query.get("idempotency_key").cloned();
        // 「长度 32～128…该 key 在应用和日历维度下唯一」 (doc "创建日程").
        if key
            .as_ref()
            .is_some_and(|k| !(32..=128).contains(&k.chars().count()))
        {
            return Err(Answer::err(400, 190002, "invalid idempotency_key length"));
        }
        if let Some(k) = &key
            && let Some(existing) = self.state.calendar_events.iter().find(|e| {
                e.calendar_id == req.param && e.idempotency_key.as_deref() == Some(k.as_str())
            })
        {
            return Ok(Answer::ok(
                json!({ "event": { "event_id": existing.event_id, "summary": existing.body["summary"] } }),
            ));
        }
        for side in ["start_time", "end_time"] {
            let t = body.get(side).cloned().unwrap_or(Value::Null);
            let (has_ts, has_date) = (t.get("timestamp").is_some(), t.get("date").is_some());
            if has_ts == has_date {
                return Err(Answer::err(
                    400,
                    99992402,
                    "field validation failed: give exactly one of date or timestamp",
                ));
            }
        }
        let n = self.state.next();
        let event_id = format!("{n:08x}-0000-4000-8000-{n:012x}_0");
        self.state.calendar_events.push(CalendarEventRecord {
            calendar_id: req.param.clone(),
            event_id: event_id.clone(),
            body: body.clone(),
            idempotency_key: key,
            deleted: false,
        });
        Ok(Answer::written(
            json!({ "event": { "event_id": event_id, "summary": body["summary"] } }),
        ))
    }

    /// Doc "创建日程"/"删除日程": the app needs writer or owner access to the calendar
    /// (191000 calendar not found, 191002 no access, reference 7.7).
    fn owned_calendar(&self, calendar_id: &str) -> Result<(), Answer> {
        let owned = calendar_id == BOT_CALENDAR
            || self.config.calendars.iter().any(|c| c == calendar_id)
            || self
                .state
                .created_calendars
                .iter()
                .any(|c| c == calendar_id);
        if owned {
            Ok(())
        } else {
            Err(Answer::err(404, 191000, "calendar not found"))
        }
    }

    /// Doc "删除日程": 193001 not found, 193003 already deleted (reference 7.7).
    fn calendar_event_delete(&mut self, req: &Req) -> Result<Answer, Answer> {
        let (calendar_id, event_id) = req.param.split_once('\n').unwrap_or_default();
        self.owned_calendar(calendar_id)?;
        if req.query.get("need_notification").map(String::as_str) != Some("false") {
            // (sim assumption) not an error in Feishu, but attendees would be told: a
            // service deleting on a revoke must not notify, so the simulator refuses it.
            return Err(Answer::err(
                400,
                190002,
                "sim: need_notification must be false",
            ));
        }
        let event = self
            .state
            .calendar_events
            .iter_mut()
            .find(|e| e.calendar_id == calendar_id && e.event_id == event_id)
            .ok_or_else(|| Answer::err(404, 193001, "event not found"))?;
        if event.deleted {
            return Err(Answer::err(400, 193003, "event already deleted"));
        }
        event.deleted = true;
        Ok(Answer::written(json!({})))
    }

    /// Doc "创建共享日历": `permissions` private | show_only_free_busy | public.
    fn calendar_create(&mut self, req: &Req) -> Result<Answer, Answer> {
        let body = parse_body(req)?;
        let permissions = str_field(&body, "permissions").unwrap_or("show_only_free_busy");
        if !["private", "show_only_free_busy", "public"].contains(&permissions) {
            return Err(Answer::err(400, 190002, "invalid permissions"));
        }
        let n = self.state.next();
        let calendar_id = format!("feishu.cn_{n:010x}@group.calendar.feishu.cn");
        self.state.created_calendars.push(calendar_id.clone());
        Ok(Answer::written(json!({ "calendar": {
            "calendar_id": calendar_id, "summary": str_field(&body, "summary").unwrap_or_default(),
            "description": str_field(&body, "description").unwrap_or_default(),
            "permissions": permissions, "type": "shared", "role": "owner",
        }})))
    }

    /// Doc "创建访问控制": role free_busy_reader | reader | writer | owner; scope type
    /// `user` only, its id of `user_id_type`.
    fn calendar_acl_create(&mut self, req: &Req) -> Result<Answer, Answer> {
        self.owned_calendar(&req.param)?;
        let body = parse_body(req)?;
        let role = str_field(&body, "role").unwrap_or_default().to_owned();
        if !["free_busy_reader", "reader", "writer", "owner"].contains(&role.as_str()) {
            return Err(Answer::err(400, 190002, "invalid role"));
        }
        let scope = body.get("scope").cloned().unwrap_or(Value::Null);
        let id_type = req
            .query
            .get("user_id_type")
            .map_or("open_id", String::as_str);
        let user = (scope["type"] == "user")
            .then(|| scope["user_id"].as_str())
            .flatten()
            .and_then(|id| self.user_by(id_type, id))
            .ok_or_else(|| Answer::err(400, 190002, "invalid scope"))?;
        let acl_id = format!("user_{}", user.user_id);
        let entry = (req.param.clone(), user.open_id.clone(), role.clone());
        self.state.calendar_acls.push(entry);
        Ok(Answer::written(
            json!({ "acl_id": acl_id, "role": role, "scope": scope }),
        ))
    }

    /// The long connection's bootstrap as the SDKs call it (research ws-protocol.md §1):
    /// PascalCase credentials in, the WebSocket URL (device_id and service_id in its
    /// query, not first) and all four client settings out. (sim assumption) the code for
    /// wrong credentials is not documented; any code but 0, 1 and 1000040343 stops the
    /// SDKs, and 1000040344 is the Python SDK's "no credential".
    fn ws_endpoint(&mut self, req: &Req) -> Result<Answer, Answer> {
        let body = parse_body(req)?;
        let id = str_field(&body, "AppID").unwrap_or_default();
        let secret = str_field(&body, "AppSecret").unwrap_or_default();
        if id != self.config.app_id || secret != self.config.app_secret {
            return Err(Answer::err(
                200,
                1000040344,
                "app_id or app_secret is invalid",
            ));
        }
        let Some(ws) = self.state.ws_base.clone() else {
            return Err(Answer::err(200, 1, "system busy"));
        };
        let n = self.state.next();
        let url = format!(
            "{ws}/ws/v2?fpid=493&aid=552564&device_id={n}&access_key=sim&service_id={}&ticket=sim",
            super::ws::SERVICE_ID
        );
        Ok(Answer::ok(
            json!({ "URL": url, "ClientConfig": self.state.ws_client_config.clone() }),
        ))
    }

    /// Doc "获取单个用户信息": `data.user.name`. (sim assumption) an unknown user is
    /// answered like one outside the app's contact range, 41050.
    fn contact_user_get(&mut self, req: &Req) -> Result<Answer, Answer> {
        let id_type = req
            .query
            .get("user_id_type")
            .map_or("open_id", String::as_str);
        let user = self
            .user_by(id_type, &req.param)
            .ok_or_else(|| Answer::err(400, 41050, "no user authority error"))?;
        Ok(Answer::ok(json!({ "user": {
            "name": user.name, "en_name": "", "open_id": user.open_id, "user_id": user.user_id,
        }})))
    }

    fn message_send(&mut self, req: &Req) -> Result<Answer, Answer> {
        let body = parse_body(req)?;
        let (receive_id_type, receive_id, reply_to) = if req.api == MESSAGE_REPLY {
            if !req.param.starts_with("om_") {
                return Err(Answer::err(400, 230001, "invalid message_id"));
            }
            (
                "message_id".to_owned(),
                req.param.clone(),
                Some(req.param.clone()),
            )
        } else {
            let t = req
                .query
                .get("receive_id_type")
                .cloned()
                .unwrap_or_default();
            if !["open_id", "union_id", "user_id", "email", "chat_id"].contains(&t.as_str()) {
                return Err(Answer::err(400, 230001, "invalid receive_id_type"));
            }
            let id = str_field(&body, "receive_id")
                .unwrap_or_default()
                .to_owned();
            (t, id, None)
        };
        // Doc "发送消息": 「机器人需要在该群组中」, else 230002.
        if receive_id_type == "chat_id" && !self.config.chats.contains(&receive_id) {
            return Err(Answer::err(
                400,
                230002,
                "The bot can not be outside the group.",
            ));
        }
        let open_id = if req.api == MESSAGE_SEND && receive_id_type != "chat_id" {
            let user = self
                .user_by(&receive_id_type, &receive_id)
                .cloned()
                .ok_or_else(|| Answer::err(400, 230034, "invalid receive_id"))?;
            if !user.available {
                return Err(Answer::err(
                    400,
                    230013,
                    "Bot has NO availability to this user.",
                ));
            }
            Some(user.open_id)
        } else {
            None
        };
        let msg_type = str_field(&body, "msg_type").unwrap_or_default().to_owned();
        let content_str = str_field(&body, "content")
            .ok_or_else(|| Answer::err(400, 230001, "content must be a string holding JSON"))?;
        let content: Value = serde_json::from_str(content_str)
            .map_err(|_| Answer::err(400, 230001, "content is not valid JSON"))?;
        let limit = match msg_type.as_str() {
            "text" => 150 * 1024,
            "interactive" | "post" => 30 * 1024,
            "" => return Err(Answer::err(400, 230001, "msg_type is required")),
            _ => 150 * 1024,
        };
        if content_str.len() > limit {
            return Err(Answer::err(400, 230025, "The message content is too long"));
        }
        if msg_type == "text" && content.get("text").and_then(Value::as_str).is_none() {
            return Err(Answer::err(400, 230001, "text content needs a text field"));
        }
        if msg_type == "interactive" {
            super::card::check(&content).map_err(|why| {
                let msg =
                    format!("Failed to create card content, ext=ErrCode: 200621; ErrMsg: {why}");
                Answer::err(400, 230099, &msg)
            })?;
        }
        let uuid = str_field(&body, "uuid").map(str::to_owned);
        if let Some(u) = &uuid {
            if u.chars().count() > 50 {
                return Err(Answer::err(400, 230001, "uuid longer than 50 characters"));
            }
            // The same uuid sends at most one message within an hour.
            if let Some(prev) = self.state.messages.iter().find(|m| {
                m.uuid.as_deref() == Some(u.as_str())
                    && m.sent_at
                        .is_some_and(|t| self.now.duration_since(t) < Duration::from_secs(3600))
            }) {
                return Ok(Answer::ok(message_json(prev)));
            }
        }
        let n = self.state.next();
        let record = MessageRecord {
            message_id: format!("om_{n:032x}"),
            receive_id_type,
            receive_id,
            open_id,
            msg_type,
            content,
            uuid,
            reply_to,
            updates: 0,
            sent_at: Some(self.now),
        };
        let answer = message_json(&record);
        self.state.messages.push(record);
        Ok(Answer::written(answer))
    }

    fn instance_get(&mut self, req: &Req) -> Result<Answer, Answer> {
        let code = self
            .state
            .instance_uuids
            .get(&req.param)
            .cloned()
            .unwrap_or_else(|| req.param.clone());
        self.state
            .instances
            .get(&code)
            .map(|i| Answer::ok(i.clone()))
            .ok_or_else(|| Answer::err(400, 1390003, "instance code not found"))
    }

    fn instance_create(&mut self, req: &Req) -> Result<Answer, Answer> {
        let body = parse_body(req)?;
        let approval_code = str_field(&body, "approval_code")
            .unwrap_or_default()
            .to_owned();
        if !self.config.approval_codes.contains(&approval_code) {
            return Err(Answer::err(400, 1390002, "approval code not found"));
        }
        let user = match (str_field(&body, "user_id"), str_field(&body, "open_id")) {
            (Some(u), _) => self.user_by("user_id", u),
            (None, Some(o)) => self.user_by("open_id", o),
            _ => None,
        }
        .cloned()
        .ok_or_else(|| Answer::err(400, 1390004, "user_id or open_id not found"))?;
        let form = str_field(&body, "form").unwrap_or_default();
        if !serde_json::from_str::<Value>(form).is_ok_and(|v| v.is_array()) {
            return Err(Answer::err(
                400,
                1390001,
                "param is invalid: form must be a JSON string of a widget array",
            ));
        }
        // Doc "审批实例表单控件参数"/"创建审批实例" (reference 7.4): the uuid's format.
        if let Some(u) = str_field(&body, "uuid")
            && !is_uuid(u)
        {
            return Err(Answer::err(
                400,
                1390001,
                "param is invalid: uuid must be XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX",
            ));
        }
        if let Some(u) = str_field(&body, "uuid")
            && self.state.instance_uuids.contains_key(u)
        {
            return Err(Answer::err(400, 60012, "uuid conflict"));
        }
        let widgets: Vec<Value> = serde_json::from_str(form).unwrap_or_default();
        let period = check_form(&widgets)?;
        if let Some(period) = period
            && self.overlaps_pending_or_approved(&user.open_id, &approval_code, period)
        {
            return Err(Answer::err(
                400,
                1390001,
                "param is invalid: leave is conflict",
            ));
        }
        let n = self.state.next();
        let code = format!("{n:08X}-0000-4000-8000-{n:012X}");
        let now_ms = jiff::Timestamp::now().as_millisecond().to_string();
        // The definitions' names as an admin would call them.
        let name = if approval_code.starts_with("OVERTIME") {
            "加班"
        } else {
            "请假"
        };
        let instance = json!({
            "approval_name": name, "approval_code": approval_code, "instance_code": code,
            "start_time": now_ms, "end_time": "0", "user_id": user.user_id, "open_id": user.open_id,
            "status": "PENDING", "reverted": false, "form": as_got(&widgets).to_string(),
            "uuid": str_field(&body, "uuid").unwrap_or_default(),
            "task_list": [], "comment_list": [], "timeline": [],
        });
        self.state.instances.insert(code.clone(), instance);
        if let Some(u) = str_field(&body, "uuid") {
            self.state.instance_uuids.insert(u.to_owned(), code.clone());
        }
        Ok(Answer::written(json!({ "instance_code": code })))
    }

    /// Whether the user already has a pending or approved instance of this definition
    /// whose leave widget group overlaps `period` (Feishu: "leave is conflict", reference
    /// §4.12, listed for the leave group only).
    fn overlaps_pending_or_approved(&self, open_id: &str, code: &str, period: (i64, i64)) -> bool {
        self.state.instances.values().any(|i| {
            i["open_id"] == open_id
                && i["approval_code"] == code
                && (i["status"] == "PENDING" || i["status"] == "APPROVED")
                && i["reverted"] != true
                && i["form"]
                    .as_str()
                    .and_then(|f| serde_json::from_str::<Vec<Value>>(f).ok())
                    .and_then(|w| {
                        let group = w.iter().find(|w| w["type"] == "leaveGroupV2")?;
                        ends(&group["value"], "start", "end")
                    })
                    .is_some_and(|(s, e)| s < period.1 && period.0 < e)
        })
    }

    /// Doc "撤回审批实例" (reference 7.4): the submitter's pending instance ends as
    /// CANCELED; an approved one goes back to PENDING. Only where the definition allows
    /// it. (assumption) the code for "not allowed" is not documented: 1390001 here.
    fn instance_cancel(&mut self, req: &Req) -> Result<Answer, Answer> {
        let body = parse_body(req)?;
        let (Some(approval), Some(code), Some(user)) = (
            str_field(&body, "approval_code"),
            str_field(&body, "instance_code"),
            str_field(&body, "user_id"),
        ) else {
            return Err(Answer::err(
                400,
                1390001,
                "param is invalid: approval_code, instance_code and user_id are required",
            ));
        };
        if !self.config.approval_codes.iter().any(|c| c == approval) {
            return Err(Answer::err(400, 1390002, "approval code not found"));
        }
        let by_open_id = req.query.get("user_id_type").map(String::as_str) == Some("open_id");
        let allowed = self.config.allow_withdraw;
        let Some(instance) = self.state.instances.get_mut(code) else {
            return Err(Answer::err(400, 1390003, "instance code not found"));
        };
        let submitter = if by_open_id {
            &instance["open_id"]
        } else {
            &instance["user_id"]
        };
        if submitter != user || instance["approval_code"] != approval {
            return Err(Answer::err(
                400,
                1390001,
                "param is invalid: not the submitter of this instance",
            ));
        }
        if !allowed {
            return Err(Answer::err(
                400,
                1390001,
                "param is invalid: revoke is not allowed for this approval",
            ));
        }
        match instance["status"].as_str() {
            Some("PENDING") => instance["status"] = "CANCELED".into(),
            Some("APPROVED") => instance["status"] = "PENDING".into(),
            _ => {
                return Err(Answer::err(
                    400,
                    1390001,
                    "param is invalid: instance cannot be withdrawn",
                ));
            }
        }
        Ok(Answer::written(json!({})))
    }

    /// Doc "更新已发送的消息卡片" (reference 7.5): only a card this app sent, within 14 days,
    /// body `{content}`; a JSON 1.0 card needs `config.update_multi` in the sent card and
    /// the new one. (assumption) the code when it is missing: 230001 here.
    fn message_patch(&mut self, req: &Req) -> Result<Answer, Answer> {
        let body = parse_body(req)?;
        let content: Value = str_field(&body, "content")
            .and_then(|c| serde_json::from_str(c).ok())
            .ok_or_else(|| {
                Answer::err(400, 230001, "content must be a string holding card JSON")
            })?;
        super::card::check(&content).map_err(|why| {
            Answer::err(
                400,
                230099,
                &format!("Failed to create card content, ext=ErrCode: 200621; ErrMsg: {why}"),
            )
        })?;
        let multi = |card: &Value| card["config"]["update_multi"] == true;
        let now = self.now;
        let Some(message) = self
            .state
            .messages
            .iter_mut()
            .find(|m| m.message_id == req.param)
        else {
            return Err(Answer::err(400, 230001, "message not found"));
        };
        if message.msg_type != "interactive" || !multi(&message.content) || !multi(&content) {
            return Err(Answer::err(
                400,
                230001,
                "param is invalid: only a shared card (update_multi) can be updated",
            ));
        }
        if message
            .sent_at
            .is_some_and(|t| now.duration_since(t) > Duration::from_secs(14 * 86_400))
        {
            return Err(Answer::err(
                400,
                230031,
                "the message can no longer be updated",
            ));
        }
        message.updates += 1;
        message.content = content;
        Ok(Answer::written(json!({})))
    }

    fn subscribe(&mut self, req: &Req) -> Result<Answer, Answer> {
        // Doc "订阅审批事件" (reference §4.10): the v4 page's codes.
        if !self.config.approval_codes.contains(&req.param) {
            return Err(Answer::err(400, 1390002, "approval code not found"));
        }
        if !self.state.subscriptions.insert(req.param.clone()) {
            return Err(Answer::err(400, 1390007, "subscription existed"));
        }
        Ok(Answer::written(json!({})))
    }
}

impl Ctx<'_> {
    /// A stored record as the query returns it: no `interval` ("暂未开放"), and no
    /// `idempotent_id` unless configured.
    fn as_queried(&self, r: &AttendanceRecord) -> Value {
        let mut leave = r.leave.clone();
        if let Some(o) = leave.as_object_mut() {
            o.remove("interval");
            if !self.config.query_returns_idempotent_id {
                o.remove("idempotent_id");
            }
        }
        let array = if r.kind == "overtime" {
            "overtime_works"
        } else {
            "leaves"
        };
        json!({ "user_id": r.user_id, "date": r.date, array: [leave] })
    }
}

/// Whether a stored leave overlaps the queried days (check_date_type PeriodTime).
/// Today in China, where Feishu counts its days.
fn china_today() -> jiff::civil::Date {
    jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::get("Asia/Shanghai").unwrap_or(jiff::tz::TimeZone::UTC))
        .date()
}

///
/// An overtime is found by its end day only: the Go SDK names PeriodTime 「单据作用时间
/// （即写入的end_time）」 (`CheckDateTypePeriodTime`), the stricter reading.
fn overlaps(r: &AttendanceRecord, from: jiff::civil::Date, to: jiff::civil::Date) -> bool {
    let day = |key: &str| {
        str_field(&r.leave, key)
            .and_then(|t| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", t).ok())
            .map(|dt| dt.date())
    };
    let (start, end) = (day("start_time"), day("end_time"));
    if r.kind == "overtime" {
        return end.is_some_and(|e| from <= e && e <= to);
    }
    matches!((start, end), (Some(s), Some(e)) if s <= to && e >= from)
}

/// A leave record another system (Feishu's own 假勤, an HR tool) wrote for the user on
/// the first queried day, in a shape this service never writes.
fn foreign_record(user_id: &str, day: jiff::civil::Date) -> Value {
    json!({
        "user_id": user_id,
        "date": day.strftime("%Y%m%d").to_string(),
        "leaves": [{
            "approval_id": "6999999999999999999",
            "uniq_id": "hr-annual",
            "unit": "DAY",
            "start_time": format!("{day} 00:00:00"),
            "end_time": format!("{day} 23:59:59"),
            "i18n_names": { "ch": "年假（HR 系统）" },
            "default_locale": "ch",
            "reason": null,
            "approve_pass_time": "2026-01-01 00:00:00"
        }]
    })
}

fn message_json(m: &MessageRecord) -> Value {
    json!({
        "message_id": m.message_id, "root_id": m.reply_to, "parent_id": m.reply_to,
        "msg_type": m.msg_type, "create_time": "1796000000000", "update_time": "1796000000000",
        "deleted": false, "updated": false, "chat_id": format!("oc_{}", m.receive_id),
        "sender": { "id": "cli_demo0000000001", "id_type": "app_id", "sender_type": "app" },
        "body": { "content": m.content.to_string() },
    })
}

/// `user_overtime_work` as the doc "写入审批结果" describes it: duration, unit, category,
/// type, start and end required; `type` 3 is 「该可选值已废弃」 (refused here, the
/// stricter reading); the reason optional. (sim assumption) codes as for leaves.
fn validate_overtime(work: &Value) -> Result<(), Answer> {
    let bad = |what: &str| Answer::err(400, 1220001, &format!("param is invalid: {what}"));
    let int = |k: &str| work.get(k).and_then(Value::as_i64);
    if work.get("duration").and_then(Value::as_f64).is_none() {
        return Err(bad("duration is required"));
    }
    if !matches!(int("unit"), Some(1..=4)) {
        return Err(bad(
            "unit must be 1 (day), 2 (hour), 3 (half-day) or 4 (half-hour)",
        ));
    }
    if !matches!(int("category"), Some(1..=3)) {
        return Err(bad(
            "category must be 1 (workday), 2 (rest day) or 3 (holiday)",
        ));
    }
    if !matches!(int("type"), Some(0..=2)) {
        return Err(bad("type must be 0 (record only), 1 (days off) or 2 (pay)"));
    }
    for forbidden in ["uniq_id", "i18n_names", "interval"] {
        if work.get(forbidden).is_some() {
            return Err(bad(&format!(
                "{forbidden} is not a field of overtime_works"
            )));
        }
    }
    let time = |k: &str| {
        str_field(work, k)
            .and_then(|t| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", t).ok())
    };
    match (time("start_time"), time("end_time")) {
        (Some(s), Some(e)) if s < e => Ok(()),
        (Some(_), Some(_)) => Err(Answer::err(400, 1220600, "time calculation failed")),
        _ => Err(Answer::err(400, 1220600, "time is invalid")),
    }
}

/// `user_leave` as the reference's table describes it.
fn validate_leave(leave: &Value) -> Result<(), Answer> {
    let bad = |what: &str| Answer::err(400, 1220001, &format!("param is invalid: {what}"));
    match leave.get("unit").and_then(Value::as_i64) {
        Some(1..=4) => {}
        _ => {
            return Err(bad(
                "unit must be 1 (day), 2 (hour), 3 (half-day) or 4 (half-hour)",
            ));
        }
    }
    if leave.get("interval").and_then(Value::as_i64).is_none() {
        return Err(bad("interval (seconds) is required"));
    }
    let time = |k: &str| {
        str_field(leave, k)
            .and_then(|t| jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M:%S", t).ok())
    };
    match (time("start_time"), time("end_time")) {
        (Some(s), Some(e)) if s <= e => {}
        (Some(_), Some(_)) => return Err(Answer::err(400, 1220600, "time calculation failed")),
        _ => return Err(Answer::err(400, 1220600, "time is invalid")),
    }
    let names = leave
        .get("i18n_names")
        .and_then(Value::as_object)
        .ok_or_else(|| bad("i18n_names is required"))?;
    if !["ch", "en", "ja"].iter().any(|k| {
        names
            .get(*k)
            .and_then(Value::as_str)
            .is_some_and(|s| !s.is_empty())
    }) {
        return Err(bad("i18n_names needs ch, en or ja"));
    }
    match str_field(leave, "default_locale") {
        Some("ch" | "en" | "ja") => {}
        _ => return Err(bad("default_locale must be ch, en or ja")),
    }
    if str_field(leave, "reason").is_none_or(str::is_empty) {
        return Err(bad("reason is required"));
    }
    if str_field(leave, "uniq_id").is_some_and(|u| u.chars().count() >= 14) {
        return Err(bad("uniq_id must be shorter than 14 characters"));
    }
    Ok(())
}

/// Checks a create request's `form` as the doc "审批实例表单控件参数" describes it (reference
/// 7.4): every widget `{id, type, value}` with a value (「控件值不合法或者为空。控件=xxx」,
/// the page's FAQ); a `dateInterval` value `{start, end, interval}`; the leave widget
/// group an array holding the type (an int64 id) and RFC 3339 ends, start before end.
/// Returns the leave group's period (ms), the only one Feishu checks for conflicts
/// ("leave is conflict" is listed for the leave group only). (assumption) the codes: the
/// page gives messages, not codes; 1390001 "param is invalid" here.
fn check_form(widgets: &[Value]) -> Result<Option<(i64, i64)>, Answer> {
    let invalid = |why: &str| Answer::err(400, 1390001, &format!("param is invalid: {why}"));
    let mut period = None;
    for w in widgets {
        let (Some(id), Some(kind)) = (w["id"].as_str(), w["type"].as_str()) else {
            return Err(invalid("form widget without id or type"));
        };
        let v = &w["value"];
        if v.is_null() || v.as_str().is_some_and(|t| t.trim().is_empty()) {
            return Err(invalid(&format!("控件值不合法或者为空。控件={id}")));
        }
        match kind {
            "dateInterval" => {
                let (start, end) = ends(v, "start", "end").ok_or_else(|| {
                    invalid("dateInterval needs start, end (RFC 3339) and interval")
                })?;
                if v["interval"].as_f64().is_none() {
                    return Err(invalid(
                        "dateInterval needs start, end (RFC 3339) and interval",
                    ));
                }
                if start > end {
                    return Err(invalid("start time is after end time"));
                }
            }
            "leaveGroupV2" => period = Some(check_leave_group(v).map_err(&invalid)?),
            _ => {}
        }
    }
    Ok(period)
}

fn at_ms(v: &Value) -> Option<i64> {
    v.as_str()?
        .parse::<jiff::Timestamp>()
        .ok()
        .map(|t| t.as_millisecond())
}

fn ends(v: &Value, start: &str, end: &str) -> Option<(i64, i64)> {
    Some((at_ms(&v[start])?, at_ms(&v[end])?))
}

/// The leave widget group's sub-widgets (「提单时必须包含该控件」 for the type and the ends).
fn check_leave_group(v: &Value) -> Result<(i64, i64), &'static str> {
    let subs = v.as_array().ok_or("group value is invalid")?;
    let sub = |id: &str| subs.iter().find(|w| w["id"] == id).map(|w| &w["value"]);
    let type_id = sub("widgetLeaveGroupType").ok_or("leave type is required")?;
    if type_id
        .as_str()
        .and_then(|t| t.parse::<i64>().ok())
        .is_none()
    {
        return Err("leave type id parse error");
    }
    let start = sub("widgetLeaveGroupStartTime")
        .and_then(at_ms)
        .ok_or("start time is required")?;
    let end = sub("widgetLeaveGroupEndTime")
        .and_then(at_ms)
        .ok_or("end time is required")?;
    if start >= end {
        return Err("start time is after end time");
    }
    Ok((start, end))
}

/// A created form as the instance detail returns it: widgets named by their own `widgetN`
/// id with the id the creator used as `custom_id` (the tutorial's `timeInfo`, `reason`),
/// and the leave widget group as the detail's object, as in the detail page's sample.
fn as_got(widgets: &[Value]) -> Value {
    let got: Vec<Value> = widgets
        .iter()
        .enumerate()
        .map(|(i, w)| {
            let id = w["id"].as_str().unwrap_or_default();
            if w["type"] == "leaveGroupV2" {
                return leave_group_as_got(w);
            }
            if id.starts_with("widget") {
                return w.clone();
            }
            json!({ "id": format!("widget{}", 16 + i), "custom_id": id, "name": id,
                    "type": w["type"], "value": w["value"] })
        })
        .collect();
    Value::Array(got)
}

/// Doc "创建审批实例": 1–64 characters, 「格式建议为 XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX」
/// (a suggestion, not a rule).
fn is_uuid(u: &str) -> bool {
    (1..=64).contains(&u.chars().count())
}

/// The leave widget group as the detail shows it (doc "获取单个审批实例详情", reference
/// §4.11): `{name, start, end, interval (days), unit, reason}`. (assumption) the simulator
/// knows no leave type names: `name` is the type id; `unit` DAY, `interval` the span.
fn leave_group_as_got(w: &Value) -> Value {
    let subs = w["value"].as_array().cloned().unwrap_or_default();
    let sub = |id: &str| {
        subs.iter()
            .find(|s| s["id"] == id)
            .map(|s| s["value"].clone())
            .unwrap_or_default()
    };
    let (start, end) = (
        sub("widgetLeaveGroupStartTime"),
        sub("widgetLeaveGroupEndTime"),
    );
    let days = match (at_ms(&start), at_ms(&end)) {
        (Some(s), Some(e)) => ((e - s) as f64 / 86_400_000.0 * 2.0).round() / 2.0,
        _ => 0.0,
    };
    json!({ "id": "widgetLeaveGroupV2", "name": "请假", "type": "leaveGroupV2", "value": {
        "name": sub("widgetLeaveGroupType"), "start": start, "end": end, "interval": days,
        "unit": "DAY", "reason": sub("widgetLeaveGroupReason"),
    } })
}
