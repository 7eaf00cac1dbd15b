//! Who is asking: sessions (tower-sessions in the store's database, a signed cookie whose key
//! lives in the data directory), bearer tokens, the same-origin rule for cookie-authenticated
//! writes, and the redirect to the login page.

use std::path::Path;
use std::time::Duration;

use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use backend::auth::{Credential, Identity, SessionStamp};
use backend::policy::Principal;
use tokio_util::sync::CancellationToken;
use tower_sessions::cookie::{Key, SameSite};
use tower_sessions::service::SignedCookie;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store;
use tower_sessions::session_store::ExpiredDeletion;
use tower_sessions::SessionStore;
use tower_sessions::{Expiry, Session, SessionManagerLayer};
use tower_sessions_sqlx_store::{PostgresStore, SqliteStore};

use super::ApiError;
use crate::state::AppState;

pub const SESSION_COOKIE: &str = "capstan_session";
pub use app::ssr::SESSION_KEY;
const KEY_FILE: &str = "session.key";

pub type SessionLayer = SessionManagerLayer<Sessions, SignedCookie>;

/// Sessions kept in the store's database (tower-sessions' table for it), so that every
/// replica on one PostgreSQL knows every session.
#[derive(Clone, Debug)]
pub enum Sessions {
    Sqlite(SqliteStore),
    Postgres(PostgresStore),
}

macro_rules! each_store {
    ($self:expr, $s:ident => $e:expr) => {
        match $self {
            Sessions::Sqlite($s) => $e,
            Sessions::Postgres($s) => $e,
        }
    };
}

#[async_trait::async_trait]
impl SessionStore for Sessions {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        each_store!(self, s => s.create(record).await)
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        each_store!(self, s => s.save(record).await)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        each_store!(self, s => s.load(id).await)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        each_store!(self, s => s.delete(id).await)
    }
}

#[async_trait::async_trait]
impl ExpiredDeletion for Sessions {
    async fn delete_expired(&self) -> session_store::Result<()> {
        each_store!(self, s => s.delete_expired().await)
    }
}

impl Sessions {
    pub fn new(native: &backend::store::Native) -> Sessions {
        match native {
            backend::store::Native::Sqlite(pool) => {
                Sessions::Sqlite(SqliteStore::new(pool.clone()))
            }
            backend::store::Native::Postgres(pool) => {
                Sessions::Postgres(PostgresStore::new(pool.clone()))
            }
        }
    }

    /// The session table in the store's database, created if needed.
    async fn open(native: &backend::store::Native) -> Result<Sessions, String> {
        let sessions = Sessions::new(native);
        each_store!(&sessions, s => s.migrate().await)
            .map_err(|e| format!("session table: {e}"))?;
        Ok(sessions)
    }
}

pub struct SessionOptions {
    pub idle: Duration,
    pub secure: bool,
}

/// The session layer, its table created if needed, and the background sweep of expired
/// sessions (ended by `shutdown`).
pub async fn session_layer(
    native: &backend::store::Native,
    key_dir: &Path,
    options: SessionOptions,
    shutdown: CancellationToken,
) -> Result<SessionLayer, String> {
    let store = Sessions::open(native).await?;
    let key = load_or_create_key(&key_dir.join(KEY_FILE))?;
    let sweeper = store.clone();
    tokio::spawn(async move {
        let mut every = tokio::time::interval(Duration::from_secs(600));
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = every.tick() => {
                    if let Err(e) = sweeper.delete_expired().await {
                        tracing::warn!("sweeping expired sessions: {e}");
                    }
                }
            }
        }
    });
    let idle = time::Duration::seconds(i64::try_from(options.idle.as_secs()).unwrap_or(i64::MAX));
    Ok(SessionManagerLayer::new(store)
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(options.secure)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
        .with_signed(key))
}

/// The cookie-signing key: made once, kept in the key directory (0600), so a restart does not
/// sign everyone out; replicas sharing the directory share it.
fn load_or_create_key(path: &Path) -> Result<Key, String> {
    let bytes = backend::secret::key_file(path, 64).map_err(|e| e.log_detail())?;
    if bytes.len() < 64 {
        return Err(format!(
            "{} is too short to be a session key (64 bytes): remove it to make a new one (everyone signs in again)",
            path.display()
        ));
    }
    Key::try_from(bytes.as_slice()).map_err(|e| format!("{}: {e}", path.display()))
}

/// Marks the session cookie `Secure` on responses to requests that reached us over https
/// through a proxy (`X-Forwarded-Proto: https`), even without `--cookie-secure`. A client that
/// sends the header itself only hardens its own cookie.
pub async fn secure_cookie_behind_https(req: Request, next: Next) -> Response {
    let https = req
        .headers()
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .next()
                .is_some_and(|p| p.trim().eq_ignore_ascii_case("https"))
        });
    let mut res = next.run(req).await;
    if https {
        let cookies: Vec<HeaderValue> = res
            .headers()
            .get_all(header::SET_COOKIE)
            .iter()
            .cloned()
            .collect();
        if cookies
            .iter()
            .any(|c| c.to_str().is_ok_and(|c| c.starts_with(SESSION_COOKIE)))
        {
            res.headers_mut().remove(header::SET_COOKIE);
            for c in cookies {
                let text = c.to_str().unwrap_or_default();
                let value = if text.starts_with(SESSION_COOKIE) && !text.contains("; Secure") {
                    HeaderValue::from_str(&format!("{text}; Secure")).unwrap_or(c)
                } else {
                    c
                };
                res.headers_mut().append(header::SET_COOKIE, value);
            }
        }
    }
    res
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// Resolves the request's identity from a bearer token or the session and puts it in the
/// request's extensions. A bearer token that does not work is refused outright (401), so a
/// script learns at once that its token is wrong.
pub async fn identify(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Static files and the health check are public: no store lookups for them.
    let path = req.uri().path();
    if path.starts_with("/pkg/") || path == "/healthz" || path == "/favicon.svg" {
        return next.run(req).await;
    }
    let identity = if let Some(token) = bearer(req.headers()) {
        match state.accounts.principal_for_token(token).await {
            Ok(Some(principal)) => Some(Identity {
                principal,
                via: Credential::Token,
            }),
            Ok(None) => {
                return ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the API token is not valid, has expired or was revoked",
                )
                .into_response()
            }
            Err(e) => return ApiError::from(e).into_response(),
        }
    } else if let Some(session) = req.extensions().get::<Session>().cloned() {
        match session_identity(&state, &session).await {
            Ok(found) => found,
            Err(e) => return e.into_response(),
        }
    } else {
        None
    };
    if let Some(identity) = identity {
        req.extensions_mut().insert(identity);
    }
    next.run(req).await
}

async fn session_identity(
    state: &AppState,
    session: &Session,
) -> Result<Option<Identity>, ApiError> {
    let stamp = match session.get::<SessionStamp>(SESSION_KEY).await {
        Ok(Some(stamp)) => stamp,
        Ok(None) => return Ok(None),
        Err(e) => {
            tracing::warn!("reading a session: {e}");
            return Ok(None);
        }
    };
    let age = backend::store::now().saturating_sub(stamp.signed_in_at);
    let too_old = u64::try_from(age).unwrap_or(0) > state.settings.session_max.as_secs();
    let principal = if too_old {
        None
    } else {
        state.accounts.principal_for_session(stamp).await?
    };
    match principal {
        Some(principal) => Ok(Some(Identity {
            principal,
            via: Credential::Session,
        })),
        None => {
            // Over: lifetime passed, user disabled or gone, or the password changed.
            let _ = session.flush().await;
            Ok(None)
        }
    }
}

/// Starts a fresh session for a user who just proved who they are (see `app::ssr::start_session`).
pub async fn sign_in(session: &Session, state: &AppState, user_id: i64) -> Result<(), ApiError> {
    Ok(app::ssr::start_session(session, &state.accounts, user_id).await?)
}

pub fn session_error(e: tower_sessions::session::Error) -> ApiError {
    tracing::error!("session store: {e}");
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "something went wrong on the server; it has been logged",
    )
}

/// State-changing requests that ride on the browser's cookie must come from our own pages.
/// Bearer-token requests carry no ambient authority and are exempt; a request with neither a
/// cookie nor a browser's origin headers (a script logging in) is let through.
pub async fn same_origin(req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        || bearer(req.headers()).is_some()
    {
        return next.run(req).await;
    }
    let headers = req.headers();
    let verdict = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some("same-origin") | Some("none") => true,
        Some(_) => false,
        None => match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            Some(origin) => origin_matches_host(origin, headers.get(header::HOST)),
            None => !has_session_cookie(headers),
        },
    };
    if verdict {
        next.run(req).await
    } else {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "cross-site requests are refused; use Capstan's own pages or an API token",
        )
        .into_response()
    }
}

fn origin_matches_host(origin: &str, host: Option<&HeaderValue>) -> bool {
    let Some(host) = host.and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let authority = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("");
    !authority.is_empty() && authority.eq_ignore_ascii_case(host)
}

fn has_session_cookie(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            v.split(';')
                .any(|c| c.trim_start().starts_with(SESSION_COOKIE))
        })
}

/// Pages need a signed-in person: anyone else is sent to the login page (or, before the first
/// admin exists, to setup), with where they were going kept in `next`.
pub async fn require_login_for_pages(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path();
    let is_page = req.method() == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && path != "/healthz"
        && !path.contains('.');
    if !is_page {
        return next.run(req).await;
    }
    let signed_in = req.extensions().get::<Identity>().is_some();
    let needs_setup = if signed_in {
        false
    } else {
        state
            .accounts
            .user_count()
            .await
            .map(|n| n == 0)
            .unwrap_or(false)
    };
    match path {
        "/setup" if !needs_setup => {
            Redirect::to(if signed_in { "/hosts" } else { "/login" }).into_response()
        }
        "/setup" => next.run(req).await,
        _ if needs_setup => Redirect::to("/setup").into_response(),
        "/login" if signed_in => Redirect::to("/hosts").into_response(),
        "/login" => next.run(req).await,
        _ if !signed_in => {
            let wanted = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            Redirect::to(&format!("/login?next={}", app::safe_next::encode(wanted))).into_response()
        }
        _ => next.run(req).await,
    }
}

/// The signed-in person, for REST handlers: 401 when there is none.
pub struct Auth(pub Principal);

impl<S: Send + Sync> FromRequestParts<S> for Auth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Identity>()
            .map(|i| Auth(i.principal.clone()))
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "sign in or send an API token",
                )
            })
    }
}

/// The signed-in person as a use case's caller, with the request's audit trail: 401 when
/// nobody is signed in.
pub struct Caller(pub backend::ops::Caller);

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Auth(who) = Auth::from_request_parts(parts, state).await?;
        // Outside the audit middleware (a test router) the steps go nowhere.
        let trail = parts
            .extensions
            .get::<backend::ops::Trail>()
            .cloned()
            .unwrap_or_default();
        Ok(Caller(backend::ops::Caller::new(who, trail)))
    }
}
