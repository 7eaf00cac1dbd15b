//! Capstan's domain, free of Leptos: engines (bollard behind our own types) and the fleet of
//! hosts. Accounts, policy and audit join it in later issues; nothing here knows about HTTP.

pub mod audit;
pub mod auth;
pub mod containers;
pub mod engine;
pub mod error;
pub mod fleet;
pub mod guardrails;
pub mod hosts;
pub mod live;
pub mod names;
pub mod ops;
pub mod policy;
pub mod registries;
pub mod secret;
pub mod storage;
pub mod store;
pub mod teams;

pub use error::{Error, Result};
