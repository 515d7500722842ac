//! Everything both feishu-leave-sync functions need. The Lambda crates and the CLI are
//! thin wiring around [`ingress::Ingress`] and [`processor::Processor`].

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
