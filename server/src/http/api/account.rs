//! Setup, sign-in and sign-out, the caller's own account and API tokens.

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use tower_sessions::Session;

use app::model::{MeView, NewTokenView, TokenView, UserView};
use backend::auth::{Credential, Identity};

use super::Body;
use crate::http::auth::{session_error, sign_in, Auth};
use crate::http::ApiError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SetupBody {
    setup_token: String,
    username: String,
    password: String,
}

/// The first admin, with the one-time token; signs them in. 409 once any user exists.
pub async fn setup(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    session: Session,
    Body(body): Body<SetupBody>,
) -> Result<impl IntoResponse, ApiError> {
    let user = state
        .accounts
        .complete_setup(
            &state.settings.data_dir,
            &body.setup_token,
            &body.username,
            &body.password,
            Some(peer.ip()),
        )
        .await?;
    tracing::info!(user = %user.username, "first admin created; setup is closed");
    sign_in(&session, &state, user.id).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(user))))
}

#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
}

pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    session: Session,
    Body(body): Body<LoginBody>,
) -> Result<Json<UserView>, ApiError> {
    let user = match state
        .accounts
        .login(&body.username, &body.password, Some(peer.ip()))
        .await
    {
        Ok(user) => user,
        Err(e) => {
            // Not the name tried: people type their password into the name field.
            tracing::info!(client = %peer.ip(), "failed login");
            return Err(e.into());
        }
    };
    sign_in(&session, &state, user.id).await?;
    tracing::info!(user = %user.username, client = %peer.ip(), "signed in");
    Ok(Json(user.into()))
}

/// Ends the session on the server (not only the cookie).
pub async fn logout(session: Session) -> Result<StatusCode, ApiError> {
    session.flush().await.map_err(session_error)?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn me(State(state): State<AppState>, Auth(who): Auth) -> Json<MeView> {
    Json(MeView::new(&who, &state.fleet))
}

#[derive(Deserialize)]
pub struct PasswordBody {
    current: String,
    new: String,
    /// Keep the caller's API tokens; by default a password change revokes them all.
    #[serde(default)]
    keep_tokens: bool,
}

/// Changes the caller's password; every other session ends, this one carries on, and the
/// caller's API tokens are revoked unless `keep_tokens`. Wrong guesses are throttled (429).
pub async fn change_password(
    State(state): State<AppState>,
    // Not signed in: 401 (extractors run in order; a missing identity would otherwise be a 500).
    _: Auth,
    Extension(identity): Extension<Identity>,
    session: Session,
    Body(body): Body<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    let id = identity.principal.user_id;
    state
        .accounts
        .change_own_password(id, &body.current, &body.new, body.keep_tokens)
        .await?;
    if identity.via == Credential::Session {
        sign_in(&session, &state, id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

pub async fn list_tokens(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state.accounts.list_tokens(who.user_id).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

#[derive(Deserialize)]
pub struct TokenBody {
    name: String,
    expires_days: Option<u32>,
}

/// A new token for the caller; only from a session (403 for a bearer token).
pub async fn create_token(
    State(state): State<AppState>,
    Auth(who): Auth,
    Extension(identity): Extension<Identity>,
    Body(body): Body<TokenBody>,
) -> Result<impl IntoResponse, ApiError> {
    backend::auth::require_session(&identity)?;
    let (info, token) = state
        .accounts
        .create_token(who.user_id, &body.name, body.expires_days)
        .await?;
    let view = NewTokenView {
        id: info.id,
        name: info.name,
        token,
        expires_at: info.expires_at,
    };
    Ok((StatusCode::CREATED, Json(view)))
}

pub async fn revoke_token(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.accounts.revoke_token(who.user_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
