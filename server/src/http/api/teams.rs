//! Teams and their members: admins only.

use crate::http::{ApiError, ErrorResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;

use app::model::access::{TeamRequest, TeamView};

use super::Body;
use crate::http::auth::Caller;
use crate::state::AppState;

/// `GET /api/v1/teams` → 200 `[TeamView]`, by name.
#[utoipa::path(
    get,
    path = "/teams",
    operation_id = "teams.list",
    tag = "teams",
    summary = "Teams with their members (admin)",
    responses(
        (status = 200, description = "ok", body = Vec<TeamView>),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(c): Caller,
) -> Result<Json<Vec<TeamView>>, ApiError> {
    Ok(Json(
        state
            .ops()
            .team_list(&c)
            .await?
            .into_iter()
            .map(TeamView::from)
            .collect(),
    ))
}

/// `POST /api/v1/teams {name}` → 201 `TeamView`; 409 when the name is taken.
#[utoipa::path(
    post,
    path = "/teams",
    operation_id = "teams.create",
    tag = "teams",
    summary = "Create a team (admin)",
    request_body = TeamRequest,
    responses(
        (status = 201, description = "ok", body = TeamView),
        (status = 409, description = "name taken", body = ErrorResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(c): Caller,
    Body(body): Body<TeamRequest>,
) -> Result<impl IntoResponse, ApiError> {
    let team = state.ops().create_team(&c, &body.name).await?;
    Ok((StatusCode::CREATED, Json(TeamView::from(team))))
}

/// `GET /api/v1/teams/{id}` → 200 `TeamView`.
#[utoipa::path(
    get,
    path = "/teams/{id}",
    operation_id = "teams.get",
    tag = "teams",
    summary = "One team (admin)",
    params(("id" = i64, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = TeamView),
        (status = 404, description = "no such team", body = ErrorResponse),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<i64>,
) -> Result<Json<TeamView>, ApiError> {
    Ok(Json(state.ops().team(&c, id).await?.into()))
}

/// `PATCH /api/v1/teams/{id} {name}` → 200 `TeamView` (rename).
#[utoipa::path(
    patch,
    path = "/teams/{id}",
    operation_id = "teams.rename",
    tag = "teams",
    summary = "Rename a team (admin)",
    params(("id" = i64, Path, description = "the object's id or name")),
    request_body = TeamRequest,
    responses(
        (status = 200, description = "ok", body = TeamView),
        (status = 404, description = "no such team", body = ErrorResponse),
        (status = 409, description = "name taken", body = ErrorResponse),
    ),
)]
pub async fn rename(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    Body(body): Body<TeamRequest>,
) -> Result<Json<TeamView>, ApiError> {
    let team = state.ops().rename_team(&c, id, &body.name).await?;
    Ok(Json(team.into()))
}

/// `DELETE /api/v1/teams/{id}` → 204; the team's grants go with it.
#[utoipa::path(
    delete,
    path = "/teams/{id}",
    operation_id = "teams.remove",
    tag = "teams",
    summary = "Delete a team and its grants (admin)",
    params(("id" = i64, Path, description = "the object's id or name")),
    responses(
        (status = 204, description = "ok"),
        (status = 404, description = "no such team", body = ErrorResponse),
    ),
)]
pub async fn remove(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.ops().remove_team(&c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `PUT /api/v1/teams/{id}/members/{user_id}` → 201 when added, 204 when already a member.
#[utoipa::path(
    put,
    path = "/teams/{id}/members/{user_id}",
    operation_id = "teams.add_member",
    tag = "teams",
    summary = "Add a user to a team (admin)",
    params(("id" = i64, Path, description = "the object's id or name"), ("user_id" = i64, Path, description = "the user's id")),
    responses(
        (status = 201, description = "added"),
        (status = 204, description = "already a member"),
        (status = 404, description = "no such team or user", body = ErrorResponse),
    ),
)]
pub async fn add_member(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    let added = state.ops().add_team_member(&c, id, user_id).await?;
    Ok(if added {
        StatusCode::CREATED
    } else {
        StatusCode::NO_CONTENT
    })
}

/// `DELETE /api/v1/teams/{id}/members/{user_id}` → 204; 404 when not a member.
#[utoipa::path(
    delete,
    path = "/teams/{id}/members/{user_id}",
    operation_id = "teams.remove_member",
    tag = "teams",
    summary = "Remove a user from a team (admin)",
    params(("id" = i64, Path, description = "the object's id or name"), ("user_id" = i64, Path, description = "the user's id")),
    responses(
        (status = 204, description = "ok"),
        (status = 404, description = "no such team or not a member", body = ErrorResponse),
    ),
)]
pub async fn remove_member(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((id, user_id)): Path<(i64, i64)>,
) -> Result<StatusCode, ApiError> {
    state.ops().remove_team_member(&c, id, user_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
