//! Everything the feishu-leave-sync functions need. The Lambda crates and the CLI are
//! thin wiring around [`ingress::Ingress`] and [`processor::Processor`]; the processor
//! routes each event to the workflow that owns it (today [`sync`]).

pub mod aws;
pub mod config;
pub mod event;
pub mod feishu;
pub mod ingress;
pub mod ledger;
pub mod processor;
pub mod queue;
pub mod secret;
pub mod sync;
pub mod telemetry;
pub mod webhook;
pub mod workflow;
