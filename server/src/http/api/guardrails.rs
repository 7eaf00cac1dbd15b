//! A host's guardrails for non-admins: admins only.

use crate::http::{ApiError, ErrorResponse};
use axum::extract::{Path, State};
use axum::Json;

use app::model::access::GuardrailsView;

use super::Body;
use crate::http::auth::Caller;
use crate::state::AppState;

/// `GET /api/v1/hosts/{host}/guardrails` → 200 `GuardrailsView` (all off when never set).
#[utoipa::path(
    get,
    path = "/hosts/{host}/guardrails",
    operation_id = "guardrails.get",
    tag = "access",
    summary = "The host's guardrails for non-admins (admin)",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "ok", body = GuardrailsView),
        (status = 404, description = "no such host", body = ErrorResponse),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<GuardrailsView>, ApiError> {
    Ok(Json(state.ops().guardrails(&c, &host).await?.into()))
}

/// `PUT /api/v1/hosts/{host}/guardrails` (the whole set; omitted fields are off) → 200.
#[utoipa::path(
    put,
    path = "/hosts/{host}/guardrails",
    operation_id = "guardrails.set",
    tag = "access",
    summary = "Set the host's guardrails for non-admins (admin)",
    params(("host" = String, Path, description = "the host's slug")),
    request_body = GuardrailsView,
    responses(
        (status = 200, description = "ok", body = GuardrailsView),
        (status = 404, description = "no such host", body = ErrorResponse),
    ),
)]
pub async fn set(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Body(body): Body<GuardrailsView>,
) -> Result<Json<GuardrailsView>, ApiError> {
    let saved = state.ops().set_guardrails(&c, &host, body.into()).await?;
    Ok(Json(saved.into()))
}
