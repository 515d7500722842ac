//! The chat bot: employees apply for leave and overtime by writing to the bot (Feishu's
//! tutorial, reference §5), on the same queue, processor and ledger as the leave sync.
//! The instances it creates are synced like any other when their approval arrives.
//!
//! - [`command`]: the message → a command (pure; both languages).
//! - [`form`]: a period → the approval form in Feishu's create shape.
//! - [`bot`]: one message handled once; [`apply`]: applying for leave.
//! - [`replies`]: the cards it answers with.

mod apply;
pub mod bot;
pub mod command;
mod follow;
pub mod form;
pub mod form_card;
pub mod replies;
pub mod settings;
mod withdraw;

pub use bot::{ChatBot, ChatError};
