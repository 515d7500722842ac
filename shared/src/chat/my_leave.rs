//! `我的假期` / `my leave`: the sender's leave as the ledger knows it.

use super::bot::{ChatBot, ChatError, Turn};
use super::replies;

impl ChatBot {
    /// 我的假期: the sender's leave ending 30 days ago or later, from the `by_user` index.
    pub(super) async fn my_leave(&self, turn: &mut Turn<'_>) -> Result<String, ChatError> {
        let m = turn.message;
        let since = (turn.today)
            .checked_sub(jiff::Span::new().days(30))
            .unwrap_or(turn.today);
        let leaves = match &m.sender.open_id {
            Some(open_id) => self.ledger.leave_of(&m.tenant_key, open_id, since).await?,
            None => Vec::new(),
        };
        let card = replies::my_leave(turn.lang, &leaves);
        self.answer(turn, &card).await?;
        Ok(format!("answered: my leave ({} listed)", leaves.len()))
    }
}
