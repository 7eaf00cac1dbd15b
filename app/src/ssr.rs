//! Server-only glue between the axum request and the rendered page.

use std::sync::Arc;

use leptos::prelude::*;

/// The per-response CSP nonce, minted by the server's security-headers middleware and put in
/// the request's extensions, so the inline hydration script and the header agree.
#[derive(Clone, Debug)]
pub struct CspNonce(pub Arc<str>);

pub(crate) fn provide_csp_nonce() {
    let nonce = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<CspNonce>().cloned());
    if let Some(CspNonce(value)) = nonce {
        provide_context(leptos::nonce::Nonce::from_value(value));
    }
}

/// What every page and server fn of a request may use, provided by the server per request.
pub fn provide_server_context(fleet: backend::fleet::Fleet) {
    provide_context(fleet);
    // `<Redirect/>` answers with a real 302 during server rendering.
    leptos_router::components::provide_server_redirect(leptos_axum::redirect);
}

/// The fleet the server injected, or a safe error when it did not (a wiring bug).
pub fn fleet() -> Result<backend::fleet::Fleet, crate::error::AppError> {
    use_context::<backend::fleet::Fleet>().ok_or_else(|| {
        tracing::error!("the fleet was not provided to the Leptos context");
        crate::error::AppError::Internal
    })
}
