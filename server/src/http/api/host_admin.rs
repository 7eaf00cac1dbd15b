//! The host registry, for admins: add (connection tested first), change, remove. Hosts from
//! the `--engine` option are read-only here (409 saying where to change them). Each handler
//! calls one use case (`backend::ops::hosts`).

use crate::http::{ApiError, ErrorResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

use app::model::hosts::{HostInput, HostPatchInput, HostSettingsView};
use app::model::HostView;

use super::Body;
use crate::http::auth::Caller;
use crate::state::AppState;

/// `POST /api/v1/hosts` → 201 with the host as listed; with `dry_run`, 200 with the engine's
/// summary and nothing saved.
#[utoipa::path(
    post,
    path = "/hosts",
    operation_id = "host_admin.create",
    tag = "hosts",
    summary = "Add a host (admin): the connection is tested first (422 naming url or tls with what to fix); dry_run only tests",
    request_body = HostInput,
    responses(
        (status = 201, description = "ok", body = HostView),
        (status = 404, description = "no such host or object (or not visible to the caller)", body = ErrorResponse),
        (status = 409, description = "slug already in use", body = ErrorResponse),
        (status = 422, description = "invalid field or failed connection test", body = ErrorResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(c): Caller,
    Body(input): Body<HostInput>,
) -> Result<Response, ApiError> {
    let ops = state.ops();
    if input.dry_run {
        let tls = input.tls.clone().map(Into::into);
        let summary = ops.test_host(&c, &input.url, tls.as_ref()).await?;
        return Ok(Json(summary).into_response());
    }
    let status = ops.create_host(&c, input.into()).await?;
    Ok((StatusCode::CREATED, Json(HostView::seen_by(status, &c.who))).into_response())
}

/// `GET /api/v1/hosts/{host}/settings`: the configuration (no private key), for admins.
#[utoipa::path(
    get,
    path = "/hosts/{host}/settings",
    operation_id = "host_admin.settings",
    tag = "hosts",
    summary = "A host's configuration (admin); the TLS key is never returned",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "ok", body = HostSettingsView),
    ),
)]
pub async fn settings(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<HostSettingsView>, ApiError> {
    Ok(Json(state.ops().host_settings(&c, &host).await?.into()))
}

/// `PATCH /api/v1/hosts/{host}`: a changed address or TLS material is tested before it is saved.
#[utoipa::path(
    patch,
    path = "/hosts/{host}",
    operation_id = "host_admin.update",
    tag = "hosts",
    summary = "Change a host (admin); a new address or TLS material is tested first; --engine hosts are read-only (409)",
    params(("host" = String, Path, description = "the host's slug")),
    request_body = HostPatchInput,
    responses(
        (status = 200, description = "ok", body = HostView),
        (status = 409, description = "host comes from --engine", body = ErrorResponse),
        (status = 422, description = "invalid field or failed connection test", body = ErrorResponse),
    ),
)]
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
#[utoipa::path(
    delete,
    path = "/hosts/{host}",
    operation_id = "host_admin.remove",
    tag = "hosts",
    summary = "Remove a host and every grant on it (admin); --engine hosts are read-only (409)",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "host comes from --engine", body = ErrorResponse),
    ),
)]
pub async fn remove(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.ops().remove_host(&c, &host).await?;
    Ok(StatusCode::NO_CONTENT)
}
