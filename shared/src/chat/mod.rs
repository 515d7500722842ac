//! The chat bot: employees apply for leave and overtime by writing to the bot (Feishu's
//! tutorial, reference §5), on the same queue, processor and ledger as the leave sync.
//! The instances it creates are synced like any other when their approval arrives.
//!
//! - [`command`]: the message → a command (pure; both languages).
//! - [`form`]: a period → the approval form in Feishu's create shape.
//! - [`bot`]: one message handled once; `answer`: replying once (or replacing the form
//!   card); `apply`: applying for leave; [`form_card`]: the form card and its callback;
//!   `withdraw`, `my_leave`; `follow`: the reply card follows the approval.
//! - [`replies`]: the cards it answers with; [`settings`]: `CHAT_LEAVE_TYPES`.

mod answer;
mod apply;
pub mod bot;
pub mod command;
mod follow;
pub mod form;
pub mod form_card;
mod my_leave;
pub mod replies;
pub mod settings;
mod who_is_out;
mod withdraw;

pub use bot::{ChatBot, ChatError};
