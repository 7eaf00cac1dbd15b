use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::FromRef;
use backend::auth::Accounts;
use backend::fleet::Fleet;
use backend::hosts::Registry;
use leptos::config::LeptosOptions;
use tokio_util::sync::CancellationToken;

/// Everything a handler may need, injected. One `Arc`: every middleware layer and handler takes
/// its own clone of the state, so a clone is one reference count, not one per part (the parts
/// were a dozen reference counts and the Leptos options, about 4 % of a small request's CPU).
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// What [`AppState`] shares; its fields read through the state (`state.fleet`).
#[derive(Clone)]
pub struct Shared {
    pub leptos_options: LeptosOptions,
    pub fleet: Fleet,
    pub accounts: Accounts,
    pub registry: Registry,
    pub settings: Arc<Settings>,
    /// Live streams (logs, stats, events) shared between viewers; they end on `shutdown`.
    pub live: backend::live::Hub,
    /// The audit log: every request worth recording is queued here (never waits).
    pub audit: backend::audit::Audit,
    /// Cancelled when the server shuts down; long-lived streams end on it.
    pub shutdown: CancellationToken,
}

/// Fixed for the life of the process.
#[derive(Debug, Clone)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub body_limit: usize,
    /// Largest file or image upload accepted (container archives, image tars), in bytes.
    pub upload_limit: u64,
    /// A session older than this is over, however active.
    pub session_max: Duration,
    /// Proxies whose `X-Forwarded-For` names the client (`--trusted-proxy`); none by default.
    pub trusted_proxies: crate::http::security::TrustedProxies,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        AppState(Arc::new(shared))
    }

    /// The use cases every door calls.
    pub fn ops(&self) -> backend::ops::Ops {
        backend::ops::Ops::new(&self.registry, &self.accounts)
    }

    /// The database pool, for tests that need to age rows.
    pub fn accounts_pool(&self) -> &sqlx::AnyPool {
        self.accounts.pool()
    }
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// leptos_axum's handlers take the Leptos options from the state.
impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}
