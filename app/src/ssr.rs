//! Server-only glue between the axum request and the rendered page.

pub mod load;

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
pub fn provide_server_context(
    fleet: backend::fleet::Fleet,
    accounts: backend::auth::Accounts,
    registry: backend::hosts::Registry,
    live: backend::live::Hub,
    data_dir: DataDir,
    api: ApiDocument,
) {
    provide_context(api);
    provide_context(live);
    provide_context(fleet);
    provide_context(accounts);
    provide_context(registry);
    provide_context(data_dir);
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

/// The server's live hub: streams and host totals shared by every viewer.
pub fn hub() -> Result<backend::live::Hub, crate::error::AppError> {
    use_context::<backend::live::Hub>().ok_or_else(|| {
        tracing::error!("the live hub was not provided to the Leptos context");
        crate::error::AppError::Internal
    })
}

pub fn registry() -> Result<backend::hosts::Registry, crate::error::AppError> {
    use_context::<backend::hosts::Registry>().ok_or_else(|| {
        tracing::error!("the host registry was not provided to the Leptos context");
        crate::error::AppError::Internal
    })
}

pub fn accounts() -> Result<backend::auth::Accounts, crate::error::AppError> {
    use_context::<backend::auth::Accounts>().ok_or_else(|| {
        tracing::error!("the accounts were not provided to the Leptos context");
        crate::error::AppError::Internal
    })
}

/// The request's signed-in person, as the server's identity middleware found it.
pub fn identity() -> Option<backend::auth::Identity> {
    use_context::<http::request::Parts>()?
        .extensions
        .get::<backend::auth::Identity>()
        .cloned()
}

/// The signed-in person, or the error a server fn returns when there is none.
pub fn principal() -> Result<backend::policy::Principal, crate::error::AppError> {
    identity().map(|i| i.principal).ok_or_else(|| {
        crate::error::AppError::Unauthenticated("your session has ended — sign in again".into())
            .respond()
    })
}

/// The signed-in person as a use case's caller, with the request's audit trail (the server's
/// audit middleware writes its steps); the error a server fn returns when nobody is signed in.
pub fn caller() -> Result<backend::ops::Caller, crate::error::AppError> {
    let who = principal()?;
    let trail = use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<backend::ops::Trail>().cloned())
        .unwrap_or_default();
    Ok(backend::ops::Caller::new(who, trail))
}

/// A list of backend records as the views the pages show.
pub fn views<T, V: From<T>>(items: Vec<T>) -> Vec<V> {
    items.into_iter().map(V::from).collect()
}

/// The use cases every server fn calls.
pub fn ops() -> Result<backend::ops::Ops, crate::error::AppError> {
    Ok(backend::ops::Ops::new(&registry()?, &accounts()?))
}

/// The request's session (for signing in and out from server fns).
pub fn session() -> Result<tower_sessions::Session, crate::error::AppError> {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<tower_sessions::Session>().cloned())
        .ok_or_else(|| {
            tracing::error!("no session layer in front of a server fn");
            crate::error::AppError::Internal
        })
}

/// The client's address, for throttling sign-in attempts.
pub fn client_ip() -> Option<std::net::IpAddr> {
    use_context::<http::request::Parts>()?
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

/// Starts a fresh session for a user who just proved who they are: a new session id (so a
/// planted id is worthless) holding the user's stamp. Shared by the REST API and server fns.
pub async fn start_session(
    session: &tower_sessions::Session,
    accounts: &backend::auth::Accounts,
    user_id: i64,
) -> Result<(), backend::Error> {
    let stamp = accounts.session_stamp(user_id).await?;
    let stored = async {
        session.cycle_id().await?;
        session.insert(SESSION_KEY, stamp).await
    };
    stored
        .await
        .map_err(|e| backend::Error::Internal(format!("session store: {e}")))
}

/// `start_session` for the current request's session, from a server fn.
pub async fn sign_in(
    accounts: &backend::auth::Accounts,
    user_id: i64,
) -> Result<(), crate::error::AppError> {
    Ok(start_session(&session()?, accounts, user_id).await?)
}

/// Where the session keeps who signed in; the server's identity middleware reads it.
pub const SESSION_KEY: &str = "who";

/// The REST API's OpenAPI document as served (the API reference page reads it).
#[derive(Clone, Copy, Debug)]
pub struct ApiDocument(pub &'static str);

pub fn api_document() -> Result<&'static str, crate::error::AppError> {
    use_context::<ApiDocument>().map(|d| d.0).ok_or_else(|| {
        tracing::error!("the API document was not provided to the Leptos context");
        crate::error::AppError::Internal
    })
}

/// The server's data directory.
#[derive(Clone, Debug)]
pub struct DataDir(pub std::path::PathBuf);

pub fn data_dir() -> Result<std::path::PathBuf, crate::error::AppError> {
    use_context::<DataDir>().map(|d| d.0).ok_or_else(|| {
        tracing::error!("the data directory was not provided to the Leptos context");
        crate::error::AppError::Internal
    })
}
