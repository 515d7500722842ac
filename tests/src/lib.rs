//! Test support for feishu-leave-sync: the Feishu simulator, a moto harness and helpers.
//! The scenarios themselves live in `tests/tests/`.

pub mod events;
pub mod harness;
pub mod moto;
pub mod sim;
