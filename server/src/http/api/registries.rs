//! Stored registry credentials (admins): list without passwords, add, remove. Pulls use them
//! when an image's registry matches. Each handler calls one use case (`backend::ops`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use app::model::images::{NewRegistryRequest, RegistryView};

use super::Body;
use crate::http::auth::Caller;
use crate::http::ApiError;
use crate::state::AppState;

/// `GET /api/v1/registries` → `[{id, server, username, created_at}]`.
pub async fn list(
    State(state): State<AppState>,
    Caller(c): Caller,
) -> Result<Json<Vec<RegistryView>>, ApiError> {
    let list = state.ops().registries(&c).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// `POST /api/v1/registries` `{server, username, password}` → 201 `{id, server, username,
/// created_at}`; 409 when the server already has credentials.
pub async fn create(
    State(state): State<AppState>,
    Caller(c): Caller,
    Body(body): Body<NewRegistryRequest>,
) -> Result<(StatusCode, Json<RegistryView>), ApiError> {
    let stored = state.ops().add_registry(&c, &body.into()).await?;
    Ok((StatusCode::CREATED, Json(stored.into())))
}

/// `DELETE /api/v1/registries/{id}` → 204.
pub async fn remove(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.ops().remove_registry(&c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
