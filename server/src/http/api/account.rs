//! Setup, sign-in and sign-out, the caller's own account and API tokens.

use crate::http::{ApiError, ErrorResponse};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::{Extension, Json};
use serde::Deserialize;
use tower_sessions::Session;

use crate::http::auth::{session_error, sign_in, Auth, Caller};
use app::model::{MeView, NewTokenView, TokenView, UserView};
use backend::auth::{Credential, Identity};
use backend::ops::account::PasswordChange;

use super::Body;
use crate::state::AppState;

#[derive(Deserialize, utoipa::ToSchema)]
pub struct SetupBody {
    setup_token: String,
    username: String,
    password: String,
}

/// The first admin, with the one-time token; signs them in. 409 once any user exists.
#[utoipa::path(
    post,
    path = "/setup",
    operation_id = "account.setup",
    tag = "account",
    summary = "Create the first admin with the one-time setup token (409 once done)",
    request_body = SetupBody,
    responses(
        (status = 201, description = "ok", body = UserView),
        (status = 429, description = "too many wrong setup tokens from this client (Retry-After says when to retry)", body = ErrorResponse),
    ),
)]
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

#[derive(Deserialize, utoipa::ToSchema)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[utoipa::path(
    post,
    path = "/session",
    operation_id = "account.login",
    tag = "account",
    summary = "Sign in; sets the session cookie. 401 for any wrong credential, 429 when throttled",
    request_body = LoginBody,
    responses(
        (status = 200, description = "ok", body = UserView),
    ),
)]
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
#[utoipa::path(
    delete,
    path = "/session",
    operation_id = "account.logout",
    tag = "account",
    summary = "Sign out (the session is destroyed on the server)",
    responses(
        (status = 204, description = "ok"),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn logout(session: Session) -> Result<StatusCode, ApiError> {
    session.flush().await.map_err(session_error)?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/me",
    operation_id = "account.me",
    tag = "account",
    summary = "Who am I, and my role on each host I may see",
    responses(
        (status = 200, description = "ok", body = MeView),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn me(State(state): State<AppState>, Auth(who): Auth) -> Json<MeView> {
    Json(MeView::new(&who, &state.fleet))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct PasswordBody {
    current: String,
    new: String,
    /// Keep the caller's API tokens; by default a password change revokes them all.
    #[serde(default)]
    keep_tokens: bool,
}

/// Changes the caller's password; every other session ends, this one carries on, and the
/// caller's API tokens are revoked unless `keep_tokens`. Wrong guesses are throttled (429).
#[utoipa::path(
    post,
    path = "/me/password",
    operation_id = "account.change_password",
    tag = "account",
    summary = "Change my password (needs the current one); my other sessions end, and my API tokens are revoked unless keep_tokens",
    request_body = PasswordBody,
    responses(
        (status = 204, description = "ok"),
        (status = 429, description = "too many wrong current passwords (Retry-After says when to retry)", body = ErrorResponse),
    ),
)]
pub async fn change_password(
    State(state): State<AppState>,
    // Not signed in: 401 (extractors run in order; a missing identity would otherwise be a 500).
    Caller(c): Caller,
    Extension(identity): Extension<Identity>,
    session: Session,
    Body(body): Body<PasswordBody>,
) -> Result<StatusCode, ApiError> {
    let change = PasswordChange {
        current: &body.current,
        new: &body.new,
        keep_tokens: body.keep_tokens,
    };
    state.ops().change_password(&c, &change).await?;
    if identity.via == Credential::Session {
        sign_in(&session, &state, c.who.user_id).await?;
    }
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/tokens",
    operation_id = "account.list_tokens",
    tag = "account",
    summary = "My API tokens (never their secrets)",
    responses(
        (status = 200, description = "ok", body = Vec<TokenView>),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn list_tokens(
    State(state): State<AppState>,
    Caller(c): Caller,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tokens = state.ops().tokens(&c).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct TokenBody {
    name: String,
    expires_days: Option<u32>,
}

/// A new token for the caller; only from a session (403 for a bearer token).
#[utoipa::path(
    post,
    path = "/tokens",
    operation_id = "account.create_token",
    tag = "account",
    summary = "Create an API token (from a signed-in session only: a bearer token gets 403); the secret is in this answer only",
    request_body = TokenBody,
    responses(
        (status = 201, description = "ok", body = NewTokenView),
        (status = 403, description = "not allowed (the request was made with an API token: tokens cannot create tokens)", body = ErrorResponse),
    ),
)]
pub async fn create_token(
    State(state): State<AppState>,
    Caller(c): Caller,
    Extension(identity): Extension<Identity>,
    Body(body): Body<TokenBody>,
) -> Result<impl IntoResponse, ApiError> {
    let (info, token) = state
        .ops()
        .create_token(&c, identity.via, (&body.name, body.expires_days))
        .await?;
    let view = NewTokenView {
        id: info.id,
        name: info.name,
        token,
        expires_at: info.expires_at,
    };
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    delete,
    path = "/tokens/{id}",
    operation_id = "account.revoke_token",
    tag = "account",
    summary = "Revoke one of my tokens",
    params(("id" = i64, Path, description = "the object's id or name")),
    responses(
        (status = 204, description = "ok"),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.ops().revoke_token(&c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
