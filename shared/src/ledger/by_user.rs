//! One employee's leave, newest first, for the chat bot's `我的假期` / `my leave`: the
//! `by_user` index over `user_key` (`<tenant>#<open_id>`, set when a sync claims the
//! instance) and `created_at`. One query per question, however large the table.

use jiff::civil::Date;

use super::item::{Item, s};
use super::{Ledger, LedgerError, State};
use crate::event::Leave;

pub const USER_INDEX: &str = "by_user";
/// What the index projects besides its keys and the table's key.
pub const USER_INDEX_ATTRIBUTES: [&str; 3] = ["state", "instance_code", "leave_json"];
/// How many of an employee's newest items one question reads.
const NEWEST: i32 = 50;

pub fn user_key(tenant_key: &str, open_id: &str) -> String {
    format!("{tenant_key}#{open_id}")
}

/// One leave as the index shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct UserLeave {
    pub instance_code: String,
    pub state: State,
    pub leave: Leave,
}

fn user_leave(item: &Item) -> Option<UserLeave> {
    let text = |name: &str| item.get(name).and_then(|v| v.as_s().ok());
    Some(UserLeave {
        instance_code: text("instance_code")?.clone(),
        state: State::parse(text("state")?)?,
        leave: serde_json::from_str(text("leave_json")?).ok()?,
    })
}

impl Ledger {
    /// The employee's leave that ends on or after `since`, newest first (from their 50
    /// newest items).
    pub async fn leave_of(
        &self,
        tenant_key: &str,
        open_id: &str,
        since: Date,
    ) -> Result<Vec<UserLeave>, LedgerError> {
        let page = self
            .client
            .query()
            .table_name(&self.table)
            .index_name(USER_INDEX)
            .key_condition_expression("user_key = :user")
            .expression_attribute_values(":user", s(user_key(tenant_key, open_id)))
            .scan_index_forward(false)
            .limit(NEWEST)
            .send()
            .await
            .map_err(|e| self.unavailable("Query", e))?;
        Ok(page
            .items()
            .iter()
            .filter_map(user_leave)
            .filter(|l| l.leave.end.date() >= since)
            .collect())
    }
}
