//! The host registry, for admins: add (connection tested first), change, remove. Hosts from
//! the `--engine` option are read-only here (409 saying where to change them).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use app::model::hosts::{HostInput, HostPatchInput, HostSettingsView};
use app::model::{EngineView, HostView};

use backend::policy::{authorize, HostAction};

use super::Body;
use crate::http::auth::Admin;
use crate::http::ApiError;
use crate::state::AppState;

/// `POST /api/v1/hosts` → 201 with the host as listed; with `dry_run`, 200 with the engine's
/// summary and nothing saved.
pub async fn create(
    State(state): State<AppState>,
    Admin(by): Admin,
    Body(input): Body<HostInput>,
) -> Result<Response, ApiError> {
    if input.dry_run {
        let summary = state
            .registry
            .test(&input.url, input.tls.clone().map(Into::into).as_ref())
            .await?;
        return Ok(Json(EngineView::from(summary)).into_response());
    }
    let record = state.registry.create(input.into()).await?;
    tracing::info!(by = %by.username, host = %record.slug, "host added");
    let host = state
        .fleet
        .host(&authorize(&by, &record.slug, HostAction::View)?)?;
    let status = state.fleet.status_of(&host).await;
    Ok((StatusCode::CREATED, Json(HostView::seen_by(status, &by))).into_response())
}

/// `GET /api/v1/hosts/{host}/settings`: the configuration (no private key), for admins.
pub async fn settings(
    State(state): State<AppState>,
    _: Admin,
    Path(host): Path<String>,
) -> Result<Json<HostSettingsView>, ApiError> {
    Ok(Json(state.registry.get(&host).await?.into()))
}

/// `PATCH /api/v1/hosts/{host}`: a changed address or TLS material is tested before it is saved.
pub async fn update(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(host): Path<String>,
    Body(patch): Body<HostPatchInput>,
) -> Result<Json<HostView>, ApiError> {
    let record = state.registry.update(&host, patch.into()).await?;
    tracing::info!(by = %by.username, host = %record.slug, "host changed");
    let host = state
        .fleet
        .host(&authorize(&by, &record.slug, HostAction::View)?)?;
    Ok(Json(HostView::seen_by(
        state.fleet.status_of(&host).await,
        &by,
    )))
}

/// `DELETE /api/v1/hosts/{host}`: the host and every grant on it.
pub async fn remove(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(host): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.registry.remove(&host).await?;
    tracing::info!(by = %by.username, %host, "host removed");
    Ok(StatusCode::NO_CONTENT)
}
