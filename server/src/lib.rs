#![recursion_limit = "256"]
//! The `capstan` server: configuration, the axum router (Leptos pages, server fns, the REST
//! API, static files) and the layers every request passes through.

pub mod config;
pub mod http;
pub mod state;

pub use http::router;
pub use state::AppState;
