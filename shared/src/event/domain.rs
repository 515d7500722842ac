//! What the service acts on, independent of which Feishu event shape announced it.

use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

use super::approval_instance::{ApprovalStatus, UserIds};
use super::i18n::{Locale, LocalizedNames};

/// One approval instance of one tenant: the business key every side effect hangs on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InstanceRef {
    pub tenant_key: String,
    pub approval_code: String,
    pub instance_code: String,
}

/// The leave unit, as the approval events mean it. Attendance numbers its units
/// differently (pitfall 2); the mapping lives in `sync::mapping`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum LeaveUnit {
    Day,
    HalfDay,
    Hour,
    HalfHour,
    Minute,
}

impl LeaveUnit {
    /// `leave_approval`'s integer enum.
    pub fn from_v1(n: i64) -> Option<Self> {
        Some(match n {
            1 => Self::Day,
            2 => Self::HalfDay,
            3 => Self::Hour,
            4 => Self::HalfHour,
            5 => Self::Minute,
            _ => return None,
        })
    }

    /// `leave_approvalV2`'s and the instance form's string enum.
    pub fn from_name(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_uppercase().as_str() {
            "DAY" => Self::Day,
            "HALF_DAY" => Self::HalfDay,
            "HOUR" => Self::Hour,
            "HALF_HOUR" => Self::HalfHour,
            "MINUTE" => Self::Minute,
            _ => return None,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaveType {
    /// The name Feishu keys the type by (i18n key or plain name).
    pub key: String,
    pub names: LocalizedNames,
    pub default_locale: Locale,
}

impl LeaveType {
    /// The name in the tenant's default language: what both twins agree on (V2 marks its
    /// resource `is_default`; V1's `leave_type` is taken to be that text, as in the doc
    /// pair: an assumption, see `sync::mapping::uniq_id`).
    pub fn default_name(&self) -> &str {
        self.names
            .get(self.default_locale)
            .or_else(|| self.names.primary())
            .unwrap_or(&self.key)
    }

    /// A type keyed by `key`, with its resolved names and default locale.
    pub fn named(key: String, (names, default_locale): (LocalizedNames, Locale)) -> Self {
        Self {
            key,
            names,
            default_locale,
        }
    }
}

/// An approved leave, normalised. Times are wall-clock in the employee's attendance zone,
/// exactly as Feishu gives them (no zone attached, pitfall 5).
///
/// An approved overtime (`overtime` set) is the same record: one applicant, one period,
/// one attendance write, one revoke. What differs is the attendance array it is written
/// to (`overtime_works`) and that it gets no time-off event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Leave {
    /// The applicant's user_id (attendance's `employee_id`).
    pub user_id: String,
    pub open_id: String,
    pub leave_type: LeaveType,
    pub start: DateTime,
    pub end: DateTime,
    /// Seconds of 24-hour days (pitfall 6).
    pub interval_secs: i64,
    pub unit: LeaveUnit,
    pub reason: String,
    /// Working-time segments when Feishu gives them (V2 `leave_range`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub segments: Vec<(DateTime, DateTime)>,
    /// Set for overtime; fixed when the form is read, so every retry writes the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub overtime: Option<OvertimeTerms>,
}

impl Leave {
    pub fn is_overtime(&self) -> bool {
        self.overtime.is_some()
    }

    /// The last calendar day the leave covers. Feishu ends a leave at midnight after its
    /// last day ("2024-09-07 00:00:00" ends on the 6th).
    pub fn last_day(&self) -> jiff::civil::Date {
        let end = self.end;
        if end.time() == jiff::civil::Time::midnight() && end.date() > self.start.date() {
            end.date().yesterday().unwrap_or(end.date())
        } else {
            end.date()
        }
    }
}

/// What attendance's `overtime_works` needs beyond the period (doc "写入审批结果",
/// `user_overtime_work`; seed 002).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OvertimeTerms {
    pub category: OvertimeCategory,
    pub compensation: OvertimeCompensation,
}

/// `category`, 「加班日期类型」: 1 工作日, 2 休息日, 3 节假日.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OvertimeCategory {
    Workday,
    RestDay,
    Holiday,
}

impl OvertimeCategory {
    pub fn code(self) -> i32 {
        match self {
            Self::Workday => 1,
            Self::RestDay => 2,
            Self::Holiday => 3,
        }
    }
}

/// `type`, 「加班规则类型」: 0 仅记录, 1 调休, 2 加班费 (3 is 「已废弃」 for writes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OvertimeCompensation {
    #[default]
    RecordOnly,
    DaysOff,
    Pay,
}

impl OvertimeCompensation {
    pub fn code(self) -> i32 {
        match self {
            Self::RecordOnly => 0,
            Self::DaysOff => 1,
            Self::Pay => 2,
        }
    }

    /// `OVERTIME_COMPENSATION`: `record`, `days_off` or `pay` (or Feishu's 0, 1, 2).
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "record" | "record_only" | "0" => Self::RecordOnly,
            "days_off" | "1" => Self::DaysOff,
            "pay" | "2" => Self::Pay,
            _ => return None,
        })
    }
}

#[cfg(test)]
impl Leave {
    /// Two days of annual leave from 2026-12-01, for unit tests.
    pub(crate) fn sample() -> Self {
        Self {
            user_id: "u".into(),
            open_id: "ou".into(),
            leave_type: LeaveType {
                key: "k".into(),
                names: LocalizedNames::single("年假"),
                default_locale: Locale::Ch,
            },
            start: jiff::civil::date(2026, 12, 1).at(0, 0, 0, 0),
            end: jiff::civil::date(2026, 12, 3).at(0, 0, 0, 0),
            interval_secs: 172_800,
            unit: LeaveUnit::Day,
            reason: String::new(),
            segments: Vec::new(),
            overtime: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    pub tenant_key: String,
    pub message_id: String,
    /// When it was written (ms): the bot reads 今天/明天 from it, so a retry hours later,
    /// past midnight, still applies for the day the employee meant.
    pub create_time_ms: Option<i64>,
    pub chat_id: String,
    pub chat_type: String,
    pub sender: UserIds,
    /// `None` for non-text messages.
    pub text: Option<String>,
    /// Whether anyone is @mentioned. With `im:message.group_at_msg:readonly` Feishu only
    /// delivers the group messages that @mention the bot (reference §2.6).
    pub mentions_someone: bool,
}

/// The leave form card's submit (`card.action.trigger`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CardSubmission {
    pub tenant_key: String,
    pub open_id: Option<String>,
    /// The form card: one card, one application.
    pub card_message_id: String,
    /// The button's value.
    pub value: serde_json::Value,
    /// The form's inputs by component name.
    pub form: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainEvent {
    LeaveApproved {
        instance: InstanceRef,
        leave: Leave,
        /// Announced by `leave_approval` (V1), whose twin `leave_approvalV2` says more (the
        /// working-time segments, whether it is a cancellation): worth waiting for briefly.
        twin_may_say_more: bool,
    },
    /// An approved leave-cancellation form (销假): `instance` is the cancellation's own
    /// instance, `origin_instance_code` the leave it cancels (V2's field; V1 has none).
    LeaveCancelled {
        instance: InstanceRef,
        origin_instance_code: String,
        leave: Leave,
    },
    LeaveRevoked {
        instance: InstanceRef,
    },
    /// A custom form's instance changed status; whether it means sync or revoke needs the
    /// instance (fetched by the workflow) and the configured approval codes.
    ApprovalStatusChanged {
        instance: InstanceRef,
        status: ApprovalStatus,
    },
    /// The reconciler found an instance whose Feishu status and ledger state disagree.
    Reconciled {
        instance: InstanceRef,
        action: super::ReconcileAction,
        reason: String,
    },
    ChatMessage(ChatMessage),
    CardSubmitted(CardSubmission),
    /// Understood, deliberately not acted on; the reason is logged.
    Unsupported {
        instance: Option<InstanceRef>,
        reason: String,
    },
}

/// Which events belong together: duplicates and twins of one another (reference §1.7). The
/// processor runs events with the same key one after another, never concurrently.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum OrderingKey {
    /// Approval events: the instance, whatever the event id (twins, redeliveries).
    Instance(InstanceRef),
    /// Chat messages: `message_id`, as the event page says, not `event_id`.
    Message(String),
}

impl DomainEvent {
    /// `None` for events that stand alone.
    pub fn ordering_key(&self) -> Option<OrderingKey> {
        match self {
            Self::LeaveApproved { instance, .. }
            | Self::LeaveCancelled { instance, .. }
            | Self::LeaveRevoked { instance }
            | Self::ApprovalStatusChanged { instance, .. }
            | Self::Reconciled { instance, .. } => Some(OrderingKey::Instance(instance.clone())),
            Self::ChatMessage(m) => Some(OrderingKey::Message(m.message_id.clone())),
            Self::CardSubmitted(c) => Some(OrderingKey::Message(c.card_message_id.clone())),
            Self::Unsupported { instance, .. } => instance.clone().map(OrderingKey::Instance),
        }
    }

    pub fn instance(&self) -> Option<&InstanceRef> {
        match self {
            Self::LeaveApproved { instance, .. }
            | Self::LeaveCancelled { instance, .. }
            | Self::LeaveRevoked { instance }
            | Self::ApprovalStatusChanged { instance, .. }
            | Self::Reconciled { instance, .. } => Some(instance),
            Self::Unsupported { instance, .. } => instance.as_ref(),
            Self::ChatMessage(_) | Self::CardSubmitted(_) => None,
        }
    }
}
