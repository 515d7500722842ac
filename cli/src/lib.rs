//! The `leave-sync` CLI as a library, so its commands run in tests without a subprocess.

pub mod commands;
pub mod deployment;
pub mod dev;
pub mod longconn;
