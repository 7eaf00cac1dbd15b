use axum::extract::FromRef;
use backend::fleet::Fleet;
use leptos::config::LeptosOptions;
use tokio_util::sync::CancellationToken;

/// Everything a handler may need, injected; cheap to clone.
#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub fleet: Fleet,
    /// Cancelled when the server shuts down; long-lived streams end on it.
    pub shutdown: CancellationToken,
}
