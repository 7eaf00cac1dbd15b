//! A host's guardrails for non-admins: admins only.

use axum::extract::{Path, State};
use axum::Json;

use app::model::access::GuardrailsView;
use backend::guardrails::GuardrailStore;

use super::Body;
use crate::http::auth::Admin;
use crate::http::ApiError;
use crate::state::AppState;

/// `GET /api/v1/hosts/{host}/guardrails` → 200 `GuardrailsView` (all off when never set).
pub async fn get(
    State(state): State<AppState>,
    _: Admin,
    Path(host): Path<String>,
) -> Result<Json<GuardrailsView>, ApiError> {
    state.fleet.exists(&host)?;
    Ok(Json(
        GuardrailStore::new(state.accounts.pool().clone())
            .get(&host)
            .await?
            .into(),
    ))
}

/// `PUT /api/v1/hosts/{host}/guardrails` (the whole set; omitted fields are off) → 200.
pub async fn set(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(host): Path<String>,
    Body(body): Body<GuardrailsView>,
) -> Result<Json<GuardrailsView>, ApiError> {
    state.fleet.exists(&host)?;
    let saved = GuardrailStore::new(state.accounts.pool().clone())
        .set(&host, body.into())
        .await?;
    tracing::info!(by = %by.username, host, ?saved, "guardrails set");
    Ok(Json(saved.into()))
}
