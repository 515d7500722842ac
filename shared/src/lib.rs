//! Everything the feishu-leave-sync functions need. The Lambda crates and the CLI are
//! thin wiring around [`ingress::Ingress`] and [`processor::Processor`]; the processor
//! routes each event to the workflow that owns it (today [`sync`]).

pub mod aws;
pub mod chat;
pub mod config;
pub mod digest;
pub mod duration;
pub mod event;
pub mod feishu;
pub mod ingress;
pub mod ledger;
pub mod processor;
pub mod queue;
pub mod reconcile;
pub mod secret;
pub mod sync;
pub mod telemetry;
pub mod webhook;
pub mod workflow;

/// An error and its causes on one line ("dispatch failure: io error: connection refused"),
/// without the Debug dumps some errors append.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
