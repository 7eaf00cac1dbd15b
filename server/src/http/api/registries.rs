//! Stored registry credentials (admins): list without passwords, add, remove. Pulls use them
//! when an image's registry matches.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use app::model::images::{NewRegistryRequest, RegistryView};
use backend::registries::Registries;

use super::Body;
use crate::http::auth::Admin;
use crate::http::ApiError;
use crate::state::AppState;

/// The credential store over the server's database, sealing with the data directory's key
/// (opened once at start, held by the host registry).
pub(super) fn registries(state: &AppState) -> Result<Registries, ApiError> {
    Ok(state.registry.credentials())
}

/// `GET /api/v1/registries` → `[{id, server, username, created_at}]`.
pub async fn list(
    State(state): State<AppState>,
    Admin(_): Admin,
) -> Result<Json<Vec<RegistryView>>, ApiError> {
    let list = registries(&state)?.list().await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// `POST /api/v1/registries` `{server, username, password}` → 201 `{id, server, username,
/// created_at}`; 409 when the server already has credentials.
pub async fn create(
    State(state): State<AppState>,
    Admin(by): Admin,
    Body(body): Body<NewRegistryRequest>,
) -> Result<(StatusCode, Json<RegistryView>), ApiError> {
    let stored = registries(&state)?.add(&body.into()).await?;
    tracing::info!(by = %by.username, server = %stored.server, "registry credentials added");
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// `DELETE /api/v1/registries/{id}` → 204.
pub async fn remove(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    registries(&state)?.remove(id).await?;
    tracing::info!(by = %by.username, id, "registry credentials removed");
    Ok(StatusCode::NO_CONTENT)
}
