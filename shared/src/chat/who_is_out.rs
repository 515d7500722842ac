//! `谁请假` / `who's out [today|this week|date]`: the team's synced leave on those days,
//! as the who's-out card the digest posts (`digest::card`), read from the same index.

use jiff::civil::Date;

use super::bot::{ChatBot, ChatError, Turn};
use super::replies::{self, t};
use crate::digest::card;

/// The longest range one answer covers: a card is capped at 30 KB.
const MAX_DAYS: i32 = 31;

impl ChatBot {
    pub(super) async fn who_is_out(
        &self,
        turn: &mut Turn<'_>,
        first: Date,
        last: Date,
    ) -> Result<String, ChatError> {
        let days = first.until(last).map(|s| s.get_days()).unwrap_or(0) + 1;
        if days > MAX_DAYS {
            let lang = turn.lang;
            let body = t(
                lang,
                "一次最多查 31 天，例如 `谁请假 本周` 或 `谁请假 12月1日到12月31日`。",
                "Ask for at most 31 days, e.g. `who's out this week`.",
            );
            let notice = replies::notice(lang, "范围太长", "Too long a range", &body);
            self.answer(turn, &notice).await?;
            return Ok("answered: who's out, range too long".into());
        }
        let tenant = turn.message.tenant_key.clone();
        let out = self.ledger.out_between(&tenant, first, last).await?;
        let shown = card::card(&out.leaves, first, last, turn.today, self.config.team_shows);
        self.answer(turn, &shown).await?;
        Ok(format!(
            "answered: who's out {first}..{last} ({} leave)",
            out.leaves.len()
        ))
    }
}
