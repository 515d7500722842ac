//! Calendar: time-off events (the leave badge on the profile) and primary-calendar events
//! (reference §4.5–4.7).

use reqwest::Method;
use serde::{Deserialize, Serialize};

use super::client::{Call, FeishuClient, segment};
use super::error::FeishuError;

/// The time-off create's documented refusals (doc "创建请假日程", reference §7.9): bad
/// parameters, app, bot or user; the tenant's keys deleted; its rate and concurrency
/// limits. Each proves the event was not made. Its 190003 (internal error) does not.
pub const TIMEOFF_CREATE_REFUSALS: &[i64] = &[
    190002, 190004, 190005, 190006, 190007, 190010, 190011, 190012, 195100,
];

/// `user_id_type` for calendar and IM: which kind of id a `user_id` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserIdType {
    OpenId,
    UnionId,
    UserId,
}

impl UserIdType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenId => "open_id",
            Self::UnionId => "union_id",
            Self::UserId => "user_id",
        }
    }
}

/// Body of `POST /open-apis/calendar/v4/timeoff_events`. Both times are either unix
/// seconds as strings (an hour-based event) or `YYYY-MM-DD` dates (all-day, end inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoffEvent {
    pub user_id: String,
    pub timezone: String,
    pub start_time: String,
    pub end_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedTimeoffEvent {
    pub timeoff_event_id: String,
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub timezone: String,
    #[serde(default)]
    pub start_time: String,
    #[serde(default)]
    pub end_time: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Calendar {
    pub calendar_id: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub role: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct PrimaryCalendar {
    pub calendar: Calendar,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `{"timestamp": "<unix s>", "timezone": ...}` or `{"date": "YYYY-MM-DD"}`, never both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum EventTime {
    Timestamp { timestamp: String, timezone: String },
    Date { date: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarEvent {
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub start_time: EventTime,
    pub end_time: EventTime,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub need_notification: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub free_busy_status: Option<String>,
    /// `default` (follow the calendar), `public` or `private` (doc "创建日程").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub visibility: Option<String>,
    /// `{"vc_type": "no_meeting"}`: the default (empty) makes Feishu generate a video
    /// meeting link once attendees are added (doc "创建日程", `vchat`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vchat: Option<serde_json::Value>,
}

/// Deleting a calendar event that is not there (doc "删除日程": 193001 not found, 193003
/// already deleted): the delete's work is done.
pub const EVENT_GONE: [i64; 2] = [193001, 193003];

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedCalendarEvent {
    pub event_id: String,
    #[serde(default)]
    pub summary: String,
}

impl FeishuClient {
    pub async fn create_timeoff_event(
        &self,
        user_id_type: UserIdType,
        event: &TimeoffEvent,
    ) -> Result<CreatedTimeoffEvent, FeishuError> {
        // No idempotency key and no way to list or get time-off events (reference §4.5,
        // 7.9): a retry after Feishu stored one would make a second.
        let call = Call::new(
            "calendar.timeoff_events.create",
            Method::POST,
            "/open-apis/calendar/v4/timeoff_events",
        )
        .query("user_id_type", user_id_type.as_str())
        .unguarded(TIMEOFF_CREATE_REFUSALS)
        .json(event)?;
        self.send(&call).await
    }

    /// Only time-off events this app created can be deleted.
    pub async fn delete_timeoff_event(&self, timeoff_event_id: &str) -> Result<(), FeishuError> {
        let call = Call::new(
            "calendar.timeoff_events.delete",
            Method::DELETE,
            format!(
                "/open-apis/calendar/v4/timeoff_events/{}",
                segment(timeoff_event_id)
            ),
        );
        self.send_opt::<serde::de::IgnoredAny>(&call).await?;
        Ok(())
    }

    /// With a tenant token: the app bot's primary calendar (needs the bot ability).
    pub async fn primary_calendars(&self) -> Result<Vec<PrimaryCalendar>, FeishuError> {
        #[derive(Deserialize, Default)]
        struct Resp {
            #[serde(default)]
            calendars: Vec<PrimaryCalendar>,
        }
        let call = Call::new(
            "calendar.calendars.primary",
            Method::POST,
            "/open-apis/calendar/v4/calendars/primary",
        )
        .query("user_id_type", UserIdType::OpenId.as_str());
        Ok(self
            .send_opt::<Resp>(&call)
            .await?
            .unwrap_or_default()
            .calendars)
    }

    /// `DELETE /open-apis/calendar/v4/calendars/:calendar_id/events/:event_id`, telling
    /// no one (`need_notification=false`). A missing event is not an error.
    pub async fn delete_calendar_event(
        &self,
        calendar_id: &str,
        event_id: &str,
    ) -> Result<(), FeishuError> {
        let call = Call::new(
            "calendar.events.delete",
            Method::DELETE,
            format!(
                "/open-apis/calendar/v4/calendars/{}/events/{}",
                segment(calendar_id),
                segment(event_id)
            ),
        )
        .query("need_notification", "false");
        match self.send_opt::<serde::de::IgnoredAny>(&call).await {
            Err(e) if e.code().is_some_and(|c| EVENT_GONE.contains(&c)) => Ok(()),
            other => other.map(|_| ()),
        }
    }

    /// `POST /open-apis/calendar/v4/calendars` (doc "创建共享日历"): a shared calendar the
    /// app owns (and is subscribed to). Not idempotent: run once.
    pub async fn create_calendar(
        &self,
        summary: &str,
        description: &str,
        permissions: &str,
    ) -> Result<Calendar, FeishuError> {
        #[derive(Deserialize)]
        struct Resp {
            calendar: Calendar,
        }
        let call = Call::new(
            "calendar.calendars.create",
            Method::POST,
            "/open-apis/calendar/v4/calendars",
        )
        .json(&serde_json::json!({
            "summary": summary,
            "description": description,
            "permissions": permissions,
        }))?;
        Ok(self.send::<Resp>(&call).await?.calendar)
    }

    /// `POST /open-apis/calendar/v4/calendars/:calendar_id/acls` (doc "创建访问控制"):
    /// gives `open_id` the `role` (`reader`: sees every entry's details) on a calendar the
    /// app owns.
    pub async fn grant_calendar_access(
        &self,
        calendar_id: &str,
        open_id: &str,
        role: &str,
    ) -> Result<(), FeishuError> {
        let call = Call::new(
            "calendar.acls.create",
            Method::POST,
            format!(
                "/open-apis/calendar/v4/calendars/{}/acls",
                segment(calendar_id)
            ),
        )
        .query("user_id_type", UserIdType::OpenId.as_str())
        .json(&serde_json::json!({
            "role": role,
            "scope": { "type": "user", "user_id": open_id },
        }))?;
        self.send::<serde::de::IgnoredAny>(&call).await?;
        Ok(())
    }

    pub async fn create_calendar_event(
        &self,
        calendar_id: &str,
        event: &CalendarEvent,
        idempotency_key: Option<&str>,
    ) -> Result<CreatedCalendarEvent, FeishuError> {
        #[derive(Deserialize)]
        struct Resp {
            event: CreatedCalendarEvent,
        }
        let mut call = Call::new(
            "calendar.events.create",
            Method::POST,
            format!(
                "/open-apis/calendar/v4/calendars/{}/events",
                segment(calendar_id)
            ),
        )
        .json(event)?;
        if let Some(key) = idempotency_key {
            call = call.query("idempotency_key", key);
        }
        Ok(self.send::<Resp>(&call).await?.event)
    }
}
