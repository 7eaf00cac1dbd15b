//! Stored registry credentials (admins): list without passwords, add, remove. Pulls use them
//! when an image's registry matches. Each handler calls one use case (`backend::ops`).

use crate::http::{ApiError, ErrorResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use app::model::images::{NewRegistryRequest, StoredRegistry};

use super::Body;
use crate::http::auth::Caller;
use crate::state::AppState;

/// `GET /api/v1/registries` → `[{id, server, username, created_at}]`.
#[utoipa::path(
    get,
    path = "/registries",
    operation_id = "registries.list",
    tag = "registries",
    summary = "Stored registry credentials (admin); passwords are never returned",
    responses(
        (status = 200, description = "ok", body = Vec<StoredRegistry>),
        (status = 404, description = "no such host or object (or not visible to the caller)", body = ErrorResponse),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(c): Caller,
) -> Result<Json<Vec<StoredRegistry>>, ApiError> {
    let list = state.ops().registries(&c).await?;
    Ok(Json(list.into_iter().collect()))
}

/// `POST /api/v1/registries` `{server, username, password}` → 201 `{id, server, username,
/// created_at}`; 409 when the server already has credentials.
#[utoipa::path(
    post,
    path = "/registries",
    operation_id = "registries.create",
    tag = "registries",
    summary = "Store credentials for a registry (admin); the password is sealed",
    request_body = NewRegistryRequest,
    responses(
        (status = 201, description = "ok", body = StoredRegistry),
        (status = 404, description = "no such host or object (or not visible to the caller)", body = ErrorResponse),
        (status = 409, description = "already stored", body = ErrorResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(c): Caller,
    Body(body): Body<NewRegistryRequest>,
) -> Result<(StatusCode, Json<StoredRegistry>), ApiError> {
    let stored = state.ops().add_registry(&c, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(stored)))
}

/// `DELETE /api/v1/registries/{id}` → 204.
#[utoipa::path(
    delete,
    path = "/registries/{id}",
    operation_id = "registries.remove",
    tag = "registries",
    summary = "Forget stored credentials (admin)",
    params(("id" = i64, Path, description = "the object's id or name")),
    responses(
        (status = 204, description = "ok"),
    ),
)]
pub async fn remove(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.ops().remove_registry(&c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
