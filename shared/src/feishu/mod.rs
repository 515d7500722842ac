//! Feishu Open Platform client: one module per API, types named as in the reference.

pub mod approval;
pub mod attendance;
pub mod calendar;
pub mod client;
pub mod contact;
pub mod error;
pub mod im;
pub mod tenant;

pub use client::{FeishuClient, RetryPolicy};
pub use error::FeishuError;
