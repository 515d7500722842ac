//! The operator subcommands.

pub mod calendar;
pub mod digest;
pub mod doctor;
pub mod ledger;
pub mod reconcile;
pub mod redrive;
pub mod reindex;
pub mod send_event;
pub mod serve;
pub mod status;
pub mod subscribe;
