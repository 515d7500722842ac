//! Who's out (README, "Team view"): a card posted to each of `DIGEST_CHAT_IDS` on
//! weekdays, listing who is out today and the rest of the week, from the ledger's
//! who-is-out index. One card per chat per day whatever the retries (`ledger/digest.rs`).
//! The chat bot's `谁请假` / `who's out` answers with the same card ([`card::card`]).

pub mod card;

use jiff::Timestamp;
use jiff::civil::{Date, Weekday};
use sha2::{Digest as _, Sha256};
use tracing::{error, info};

use crate::config::{DigestConfig, TeamShows};
use crate::feishu::im::{OutgoingMessage, ReceiveIdType};
use crate::feishu::{FeishuClient, FeishuError};
use crate::ledger::digest::DigestClaim;
use crate::ledger::out_index::OutQuery;
use crate::ledger::{Lease, Ledger, LedgerError};

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error("reading the tenant key: {0} (set FEISHU_TENANT_KEY, or grant tenant:tenant:readonly)")]
    Tenant(FeishuError),
}

/// What one run did, chat by chat.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct DigestReport {
    pub day: Option<Date>,
    pub posted: Vec<String>,
    pub already_posted: Vec<String>,
    /// Chats that got no card, and why.
    pub failed: Vec<(String, String)>,
    /// The index items read, for the README's cost figure.
    pub items_read: usize,
}

pub struct Digest {
    feishu: FeishuClient,
    ledger: Ledger,
    config: DigestConfig,
}

/// The days a card for `day` covers: `day` to that week's Friday (only `day` at a weekend).
pub fn week_from(day: Date) -> (Date, Date) {
    let to_friday = 4 - i64::from(day.weekday().to_monday_zero_offset());
    if to_friday < 0 {
        return (day, day);
    }
    (day, day.saturating_add(jiff::Span::new().days(to_friday)))
}

/// The send's `uuid`: ≤ 50 characters, one per chat and day.
fn message_uuid(chat_id: &str, day: Date) -> String {
    let digest = Sha256::digest(format!("{chat_id}\n{day}").as_bytes());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("ls-out-{hex}")
}

impl Digest {
    pub fn new(feishu: FeishuClient, ledger: Ledger, config: DigestConfig) -> Self {
        Self {
            feishu,
            ledger,
            config,
        }
    }

    pub fn zone(&self) -> &jiff::tz::TimeZone {
        &self.config.zone
    }

    /// Today in the tenant's zone, at `at`.
    pub fn day_at(&self, at: Timestamp) -> Date {
        at.to_zoned(self.config.zone.clone()).date()
    }

    /// Posts the card for `day` to every chat that has not had it; `lease` bounds the run.
    pub async fn post(&self, day: Date, lease: &Lease) -> Result<DigestReport, DigestError> {
        let tenant = self.tenant_key().await?;
        let (first, last) = week_from(day);
        let OutQuery {
            leaves, items_read, ..
        } = self.ledger.out_between(&tenant, first, last).await?;
        let card = card::card(&leaves, first, last, day, self.config.shows);
        let mut report = DigestReport {
            day: Some(day),
            items_read,
            ..DigestReport::default()
        };
        for chat in &self.config.chat_ids {
            let chat: &str = chat;
            match self.post_to(&tenant, chat, day, lease, &card).await {
                Ok(Posted::Now) => report.posted.push(chat.to_owned()),
                Ok(Posted::Before) => report.already_posted.push(chat.to_owned()),
                Err(reason) => {
                    error!(chat_id = %chat, "who's out: no card for this chat: {reason}");
                    report.failed.push((chat.to_owned(), reason));
                }
            }
        }
        info!(?report, "who's out: run finished");
        Ok(report)
    }

    async fn post_to(
        &self,
        tenant: &str,
        chat: &str,
        day: Date,
        lease: &Lease,
        card: &serde_json::Value,
    ) -> Result<Posted, String> {
        let claim = self.ledger.claim_digest(tenant, chat, day, lease).await;
        match claim.map_err(|e| e.to_string())? {
            DigestClaim::Sent(_) => return Ok(Posted::Before),
            DigestClaim::Busy => return Err("another run is posting it now".into()),
            DigestClaim::Acquired => {}
        }
        let message = OutgoingMessage::card(chat, card, Some(message_uuid(chat, day)));
        let sent = match self
            .feishu
            .send_message(ReceiveIdType::ChatId, &message)
            .await
        {
            Ok(sent) => sent,
            Err(e) => {
                // Best effort: a lease that stays runs out with the invocation anyway.
                let _ = (self.ledger).release_digest(tenant, chat, day, lease).await;
                return Err(match e.hint() {
                    Some(hint) => format!("{e} — {hint}"),
                    None => e.to_string(),
                });
            }
        };
        (self.ledger)
            .finish_digest(tenant, chat, day, lease, &sent.message_id)
            .await
            .map_err(|e| e.to_string())?;
        Ok(Posted::Now)
    }

    async fn tenant_key(&self) -> Result<String, DigestError> {
        match &self.config.tenant_key {
            Some(key) => Ok(key.clone()),
            None => self.feishu.tenant_key().await.map_err(DigestError::Tenant),
        }
    }

    pub fn shows(&self) -> TeamShows {
        self.config.shows
    }
}

enum Posted {
    Now,
    Before,
}

/// Whether `day` is a weekday (the schedule's days; a manual run may post any day).
pub fn is_weekday(day: Date) -> bool {
    !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday)
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_card_covers_its_day_to_friday() {
        assert_eq!(
            week_from(date(2026, 11, 30)),
            (date(2026, 11, 30), date(2026, 12, 4))
        );
        assert_eq!(
            week_from(date(2026, 12, 4)),
            (date(2026, 12, 4), date(2026, 12, 4))
        );
        assert_eq!(
            week_from(date(2026, 12, 5)),
            (date(2026, 12, 5), date(2026, 12, 5))
        );
        assert!(message_uuid("oc_0123456789abcdef0123456789abcdef", date(2026, 12, 1)).len() <= 50);
    }
}
