//! Users and per-host grants: admins only.

use super::{Body, Params};
use crate::http::{ApiError, ErrorResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use app::model::{GrantView, RoleView, UserView};
use backend::auth::{SubjectKind, UserPatch};
use backend::ops::access::Subject;

use crate::http::auth::Caller;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/users",
    operation_id = "users.list",
    tag = "users",
    summary = "All users (admin)",
    responses(
        (status = 200, description = "ok", body = Vec<UserView>),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(c): Caller,
) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(
        state
            .ops()
            .users(&c)
            .await?
            .into_iter()
            .map(UserView::from)
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    admin: bool,
}

#[utoipa::path(
    post,
    path = "/users",
    operation_id = "users.create",
    tag = "users",
    summary = "Create a user (admin)",
    request_body = NewUser,
    responses(
        (status = 201, description = "ok", body = UserView),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(c): Caller,
    Body(body): Body<NewUser>,
) -> Result<impl IntoResponse, ApiError> {
    let new = backend::ops::access::NewUser {
        username: &body.username,
        password: &body.password,
        admin: body.admin,
    };
    let user = state.ops().create_user(&c, &new).await?;
    Ok((StatusCode::CREATED, Json(UserView::from(user))))
}

#[utoipa::path(
    get,
    path = "/users/{id}",
    operation_id = "users.get",
    tag = "users",
    summary = "One user (admin)",
    params(("id" = i64, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = UserView),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<i64>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(state.ops().user(&c, id).await?.into()))
}

#[utoipa::path(
    patch,
    path = "/users/{id}",
    operation_id = "users.update",
    tag = "users",
    summary = "Change a user (admin); the last enabled admin cannot be demoted or disabled (409)",
    params(("id" = i64, Path, description = "the object's id or name")),
    request_body = UserPatch,
    responses(
        (status = 200, description = "ok", body = UserView),
    ),
)]
pub async fn update(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<i64>,
    Body(patch): Body<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    let user = state.ops().update_user(&c, id, patch).await?;
    Ok(Json(user.into()))
}

#[utoipa::path(
    delete,
    path = "/users/{id}",
    operation_id = "users.remove",
    tag = "users",
    summary = "Delete a user and their grants (admin); 409 for the last admin",
    params(("id" = i64, Path, description = "the object's id or name")),
    responses(
        (status = 204, description = "ok"),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn remove(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.ops().remove_user(&c, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(
    get,
    path = "/hosts/{host}/grants",
    operation_id = "users.grants",
    tag = "users",
    summary = "Who has which role on the host (admin)",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "ok", body = Vec<GrantView>),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn grants(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    Ok(Json(
        state
            .ops()
            .grants(&c, &host)
            .await?
            .into_iter()
            .map(GrantView::from)
            .collect(),
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
pub struct GrantBody {
    user: Option<i64>,
    team: Option<i64>,
    role: RoleView,
}

fn subject(user: Option<i64>, team: Option<i64>) -> Result<Subject, ApiError> {
    match (user, team) {
        (Some(id), None) => Ok(Subject {
            kind: SubjectKind::User,
            id,
        }),
        (None, Some(id)) => Ok(Subject {
            kind: SubjectKind::Team,
            id,
        }),
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "user: name exactly one of user or team",
        )),
    }
}

#[utoipa::path(
    put,
    path = "/hosts/{host}/grants",
    operation_id = "users.grant",
    tag = "users",
    summary = "Grant or change a role (admin)",
    params(("host" = String, Path, description = "the host's slug")),
    request_body = GrantBody,
    responses(
        (status = 204, description = "ok"),
    ),
)]
pub async fn grant(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Body(body): Body<GrantBody>,
) -> Result<StatusCode, ApiError> {
    let who = subject(body.user, body.team)?;
    state
        .ops()
        .set_grant(&c, &host, who, body.role.into())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RevokeQuery {
    user: Option<i64>,
    team: Option<i64>,
}

#[utoipa::path(
    delete,
    path = "/hosts/{host}/grants",
    operation_id = "users.revoke",
    tag = "users",
    summary = "Revoke a grant (admin)",
    params(("host" = String, Path, description = "the host's slug"), RevokeQuery),
    responses(
        (status = 204, description = "ok"),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn revoke(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Params(q): Params<RevokeQuery>,
) -> Result<StatusCode, ApiError> {
    let who = subject(q.user, q.team)?;
    state.ops().remove_grant(&c, &host, who).await?;
    Ok(StatusCode::NO_CONTENT)
}
