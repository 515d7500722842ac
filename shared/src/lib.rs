//! Everything both feishu-leave-sync functions need. The Lambda crates and the CLI are
//! thin wiring around [`ingress::Ingress`] and [`processor::Processor`].

pub mod aws;
pub mod config;
pub mod event;
pub mod ingress;
pub mod queue;
pub mod secret;
pub mod telemetry;
pub mod webhook;
