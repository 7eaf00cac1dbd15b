//! The host registry, for admins: add (connection tested first), change, remove. Hosts from
//! the `--engine` option are read-only here (409 saying where to change them). Each handler
//! calls one use case (`backend::ops::hosts`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use app::model::hosts::{HostInput, HostPatchInput, HostSettingsView};
use app::model::{EngineView, HostView};

use super::Body;
use crate::http::auth::Caller;
use crate::http::ApiError;
use crate::state::AppState;

/// `POST /api/v1/hosts` → 201 with the host as listed; with `dry_run`, 200 with the engine's
/// summary and nothing saved.
pub async fn create(
    State(state): State<AppState>,
    Caller(c): Caller,
    Body(input): Body<HostInput>,
) -> Result<Response, ApiError> {
    let ops = state.ops();
    if input.dry_run {
        let tls = input.tls.clone().map(Into::into);
        let summary = ops.test_host(&c, &input.url, tls.as_ref()).await?;
        return Ok(Json(EngineView::from(summary)).into_response());
    }
    let status = ops.create_host(&c, input.into()).await?;
    Ok((StatusCode::CREATED, Json(HostView::seen_by(status, &c.who))).into_response())
}

/// `GET /api/v1/hosts/{host}/settings`: the configuration (no private key), for admins.
pub async fn settings(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<HostSettingsView>, ApiError> {
    Ok(Json(state.ops().host_settings(&c, &host).await?.into()))
}

/// `PATCH /api/v1/hosts/{host}`: a changed address or TLS material is tested before it is saved.
pub async fn update(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Body(patch): Body<HostPatchInput>,
) -> Result<Json<HostView>, ApiError> {
    let status = state.ops().update_host(&c, &host, patch.into()).await?;
    Ok(Json(HostView::seen_by(status, &c.who)))
}

/// `DELETE /api/v1/hosts/{host}`: the host and every grant on it.
pub async fn remove(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.ops().remove_host(&c, &host).await?;
    Ok(StatusCode::NO_CONTENT)
}
