//! `leave_approval`, `leave_approvalV2` and `leave_approval_revert` (reference §2.1–2.3).

use jiff::civil::{DateTime, Time};
use serde::Deserialize;

use super::i18n::{self, I18nResource, Locale, LocalizedNames};
use super::{
    DomainEvent, EventError, InstanceRef, LEAVE_APPROVAL, LEAVE_APPROVAL_V2, Leave, LeaveType,
    LeaveUnit, check_period, leave_approved, lenient, tenant_of,
};

/// How every leave event names its instance.
#[derive(Debug, Clone, Deserialize)]
pub struct InstanceFields {
    #[serde(default)]
    pub app_id: String,
    #[serde(default)]
    pub tenant_key: Option<String>,
    #[serde(default)]
    pub approval_code: String,
    pub instance_code: String,
}

impl InstanceFields {
    fn into_instance(self, envelope_tenant: Option<&str>) -> InstanceRef {
        InstanceRef {
            tenant_key: tenant_of(self.tenant_key, envelope_tenant),
            approval_code: self.approval_code,
            instance_code: self.instance_code,
        }
    }
}

/// The period and reason both twins carry, under the same names.
#[derive(Debug, Clone, Deserialize)]
pub struct LeavePeriod {
    #[serde(deserialize_with = "lenient::naive_datetime")]
    pub leave_start_time: DateTime,
    #[serde(deserialize_with = "lenient::naive_datetime")]
    pub leave_end_time: DateTime,
    /// Seconds, counting 24-hour days (1.5 days = 129600).
    #[serde(deserialize_with = "lenient::int_or_string")]
    pub leave_interval: i64,
    #[serde(default)]
    pub leave_reason: String,
}

/// Who applied: (user_id, open_id).
type Applicant = (String, String);

impl LeavePeriod {
    /// The one builder behind both twins' leave.
    fn into_leave(
        self,
        (user_id, open_id): Applicant,
        leave_type: LeaveType,
        unit: LeaveUnit,
        segments: Vec<(DateTime, DateTime)>,
    ) -> Leave {
        Leave {
            user_id,
            open_id,
            leave_type,
            start: self.leave_start_time,
            end: self.leave_end_time,
            interval_secs: self.leave_interval,
            unit,
            reason: self.leave_reason,
            segments,
            overtime: None,
        }
    }
}

/// Fired with its V2 twin when a form with the leave widget group is approved. Same
/// `instance_code` as the twin, different event `uuid` (pitfall 1).
#[derive(Debug, Clone, Deserialize)]
pub struct LeaveApprovalV1 {
    #[serde(flatten)]
    pub instance: InstanceFields,
    /// The applicant's user_id (V2 calls it `user_id`).
    pub employee_id: String,
    pub open_id: String,
    #[serde(default)]
    pub leave_type: String,
    #[serde(flatten)]
    pub period: LeavePeriod,
    /// 1 day, 2 half-day, 3 hour, 4 half-hour, 5 minute.
    #[serde(deserialize_with = "lenient::int_or_string")]
    pub leave_unit: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct LeaveApprovalV2 {
    #[serde(flatten)]
    pub instance: InstanceFields,
    pub user_id: String,
    pub open_id: String,
    /// An i18n key such as `@i18n@7276381556766212099`, resolved through `i18n_resources`.
    #[serde(default)]
    pub leave_name: String,
    #[serde(default, deserialize_with = "i18n::lenient_resources")]
    pub i18n_resources: Vec<I18nResource>,
    #[serde(flatten)]
    pub period: LeavePeriod,
    /// `DAY`, `HALF_DAY`, `HOUR`, `HALF_HOUR`, `MINUTE`.
    pub leave_unit: String,
    /// The actual working-time segments; the most precise description of the leave.
    #[serde(default, deserialize_with = "lenient::datetime_pairs")]
    pub leave_range: Vec<(DateTime, DateTime)>,
    /// Set on a leave *cancellation* form (销假): the instance being cancelled.
    #[serde(default)]
    pub origin_instance_code: String,
}

/// "Approved, then revoked" (通过并撤销). Carries no user or leave details.
#[derive(Debug, Clone, Deserialize)]
pub struct LeaveApprovalRevert {
    #[serde(flatten)]
    pub instance: InstanceFields,
    /// Seconds; documented as a string, sampled as a number.
    #[serde(default, deserialize_with = "lenient::opt_int_or_string")]
    pub operate_time: Option<i64>,
}

impl LeaveApprovalV1 {
    pub fn into_domain(self, envelope_tenant: Option<&str>) -> Result<DomainEvent, EventError> {
        let unit = LeaveUnit::from_v1(self.leave_unit).ok_or_else(|| EventError::Invalid {
            event_type: LEAVE_APPROVAL,
            field: "leave_unit",
            reason: format!("{} is not one of 1..=5", self.leave_unit),
        })?;
        let leave_type = LeaveType::named(self.leave_type.clone(), self.names());
        let leave = self.period.into_leave(
            (self.employee_id, self.open_id),
            leave_type,
            unit,
            Vec::new(),
        );
        leave_approved(
            LEAVE_APPROVAL,
            self.instance.into_instance(envelope_tenant),
            leave,
        )
    }

    pub fn names(&self) -> (LocalizedNames, Locale) {
        if self.leave_type.trim().is_empty() {
            (fallback_names(), Locale::Ch)
        } else {
            LocalizedNames::in_its_script(self.leave_type.trim())
        }
    }
}

impl LeaveApprovalV2 {
    pub fn into_domain(self, envelope_tenant: Option<&str>) -> Result<DomainEvent, EventError> {
        let instance = self.instance.clone().into_instance(envelope_tenant);
        let origin = self.origin_instance_code.trim().to_owned();
        let unit = match LeaveUnit::from_name(&self.leave_unit) {
            Some(unit) => unit,
            // A cancellation must be recognised whatever else is wrong with it: its unit
            // only describes the cancelled period on the employee's card.
            None if !origin.is_empty() => LeaveUnit::Day,
            None => {
                return Err(EventError::Invalid {
                    event_type: LEAVE_APPROVAL_V2,
                    field: "leave_unit",
                    reason: format!(
                        "{:?} is not DAY, HALF_DAY, HOUR, HALF_HOUR or MINUTE",
                        self.leave_unit
                    ),
                });
            }
        };
        let leave_type = LeaveType::named(self.leave_name.clone(), self.names());
        let mut period = self.period;
        if let Some((start, end)) = half_day_period(unit, &self.leave_range) {
            (period.leave_start_time, period.leave_end_time) = (start, end);
        }
        let leave = period.into_leave(
            (self.user_id, self.open_id),
            leave_type,
            unit,
            self.leave_range,
        );
        if origin.is_empty() {
            return leave_approved(LEAVE_APPROVAL_V2, instance, leave);
        }
        // A leave-cancellation form (销假): "销假单关联的原始数据" names the leave it cancels.
        check_period(LEAVE_APPROVAL_V2, &leave)?;
        Ok(DomainEvent::LeaveCancelled {
            instance,
            origin_instance_code: origin,
            leave,
        })
    }

    pub fn names(&self) -> (LocalizedNames, Locale) {
        let (names, locale) = i18n::resolve(&self.leave_name, &self.i18n_resources);
        if !names.is_empty() {
            return (names, locale);
        }
        if !self.leave_name.is_empty() && !self.leave_name.starts_with("@i18n@") {
            return (LocalizedNames::single(self.leave_name.clone()), Locale::Ch);
        }
        (fallback_names(), Locale::Ch)
    }
}

/// A half-day leave's period on the 00:00 / 12:00 grid V1 uses, from V2's `leave_range`.
/// In the doc's sample pair (one instance, 1.5 days = 129600 s) V1 says 09-05 12:00 →
/// 09-07 00:00 while V2 says 09-05 00:00 → 09-07 00:00: V2's start and end are whole days,
/// and only `leave_range` (13:30–18:00 on the 5th, 09:00–18:00 on the 6th) shows that the
/// 5th's morning is worked. (assumption, from that one sample) a first segment that starts
/// at noon or later is an afternoon: the period starts at 12:00; a last segment that ends
/// by 13:00 is a morning (one ending 12:30 included): the period ends at 12:00, else at the
/// next midnight. `leave_interval` is kept as given (it may not count rest days); `None`
/// without segments.
fn half_day_period(
    unit: LeaveUnit,
    range: &[(DateTime, DateTime)],
) -> Option<(DateTime, DateTime)> {
    if unit != LeaveUnit::HalfDay {
        return None;
    }
    let noon = Time::constant(12, 0, 0, 0);
    let (first, last) = (range.first()?.0, range.last()?.1);
    let start = first.date().to_datetime(if first.time() < noon {
        Time::midnight()
    } else {
        noon
    });
    let end = if last.time() == Time::midnight() {
        last
    } else if last.time() <= Time::constant(13, 0, 0, 0) {
        last.date().to_datetime(noon)
    } else {
        last.date().tomorrow().ok()?.to_datetime(Time::midnight())
    };
    (start < end).then_some((start, end))
}

/// Used when Feishu gives no readable leave-type name at all.
pub fn fallback_names() -> LocalizedNames {
    LocalizedNames {
        ch: Some("请假".into()),
        en: Some("Leave".into()),
        ja: None,
    }
}

impl LeaveApprovalRevert {
    pub fn into_domain(self, envelope_tenant: Option<&str>) -> DomainEvent {
        DomainEvent::LeaveRevoked {
            instance: self.instance.into_instance(envelope_tenant),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn seg(d: (i16, i8, i8), from: (i8, i8), to: (i8, i8)) -> (DateTime, DateTime) {
        let day = date(d.0, d.1, d.2);
        (day.at(from.0, from.1, 0, 0), day.at(to.0, to.1, 0, 0))
    }

    #[test]
    fn a_half_day_period_is_read_from_its_first_and_last_segments() {
        let half = LeaveUnit::HalfDay;
        // The doc pair: the 5th's afternoon and the 6th.
        let doc = [
            seg((2024, 9, 5), (13, 30), (18, 0)),
            seg((2024, 9, 6), (9, 0), (18, 0)),
        ];
        assert_eq!(
            half_day_period(half, &doc),
            Some((
                date(2024, 9, 5).at(12, 0, 0, 0),
                date(2024, 9, 7).at(0, 0, 0, 0)
            ))
        );
        // Friday afternoon to Monday morning: the weekend is not in leave_interval, and
        // that does not matter.
        let weekend = [
            seg((2026, 12, 4), (13, 30), (18, 0)),
            seg((2026, 12, 7), (9, 0), (12, 0)),
        ];
        assert_eq!(
            half_day_period(half, &weekend),
            Some((
                date(2026, 12, 4).at(12, 0, 0, 0),
                date(2026, 12, 7).at(12, 0, 0, 0)
            ))
        );
        // A morning whose shift ends at 12:30.
        let morning = [seg((2026, 12, 8), (9, 0), (12, 30))];
        assert_eq!(
            half_day_period(half, &morning),
            Some((
                date(2026, 12, 8).at(0, 0, 0, 0),
                date(2026, 12, 8).at(12, 0, 0, 0)
            ))
        );
        assert_eq!(half_day_period(half, &[]), None);
        assert_eq!(half_day_period(LeaveUnit::Day, &doc), None);
    }
}
