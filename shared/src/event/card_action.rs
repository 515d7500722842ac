//! `card.action.trigger` (schema 2.0): the employee pressed a button of a card the bot
//! sent, here the submit button of the leave form card (doc "卡片回传交互回调", reference
//! 7.6). Feishu never retries a callback: the ingress answers once it is on the queue.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::approval_instance::UserIds;
use super::{CardSubmission, DomainEvent};

#[derive(Debug, Clone, Deserialize)]
pub struct CardActionTrigger {
    pub operator: Operator,
    #[serde(default)]
    pub action: Action,
    pub context: Context,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Operator {
    #[serde(flatten)]
    pub ids: UserIds,
    #[serde(default)]
    pub tenant_key: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Action {
    /// The button's `value` (ours: `{"action": "apply_leave"}`).
    #[serde(default)]
    pub value: Value,
    #[serde(default)]
    pub tag: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The form's inputs by component `name`; a date_picker gives `"2024-04-01 +0800"`.
    #[serde(default)]
    pub form_value: Map<String, Value>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Context {
    /// The card's message: an application made with one form card is one application.
    pub open_message_id: String,
    #[serde(default)]
    pub open_chat_id: Option<String>,
}

impl CardActionTrigger {
    pub fn into_domain(self, envelope_tenant: Option<&str>) -> DomainEvent {
        DomainEvent::CardSubmitted(CardSubmission {
            tenant_key: super::tenant_of(self.operator.tenant_key.clone(), envelope_tenant),
            open_id: self.operator.ids.open_id.clone(),
            card_message_id: self.context.open_message_id,
            value: self.action.value,
            form: self.action.form_value,
        })
    }
}
