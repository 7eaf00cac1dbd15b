//! Users and per-host grants: admins only.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;

use app::model::{GrantView, RoleView, UserView};
use backend::auth::{SubjectKind, UserPatch};

use super::Body;
use crate::http::auth::Admin;
use crate::http::ApiError;
use crate::state::AppState;

pub async fn list(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(
        state
            .accounts
            .list_users()
            .await?
            .into_iter()
            .map(UserView::from)
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct NewUser {
    username: String,
    password: String,
    #[serde(default)]
    admin: bool,
}

pub async fn create(
    State(state): State<AppState>,
    Admin(by): Admin,
    Body(body): Body<NewUser>,
) -> Result<impl IntoResponse, ApiError> {
    let user = state
        .accounts
        .create_user(&body.username, &body.password, body.admin)
        .await?;
    tracing::info!(by = %by.username, user = %user.username, admin = user.admin, "user created");
    Ok((StatusCode::CREATED, Json(UserView::from(user))))
}

pub async fn get(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<i64>,
) -> Result<Json<UserView>, ApiError> {
    Ok(Json(state.accounts.user(id).await?.into()))
}

pub async fn update(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<i64>,
    Body(patch): Body<UserPatch>,
) -> Result<Json<UserView>, ApiError> {
    let user = state.accounts.update_user(id, patch).await?;
    tracing::info!(by = %by.username, user = %user.username, admin = user.admin, disabled = user.disabled, "user changed");
    Ok(Json(user.into()))
}

pub async fn remove(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    state.accounts.delete_user(id).await?;
    tracing::info!(by = %by.username, user_id = id, "user deleted");
    Ok(StatusCode::NO_CONTENT)
}

pub async fn grants(
    State(state): State<AppState>,
    _: Admin,
    Path(host): Path<String>,
) -> Result<Json<Vec<GrantView>>, ApiError> {
    state.fleet.exists(&host)?;
    Ok(Json(
        state
            .accounts
            .grants_on(&host)
            .await?
            .into_iter()
            .map(GrantView::from)
            .collect(),
    ))
}

#[derive(Deserialize)]
pub struct GrantBody {
    user: Option<i64>,
    team: Option<i64>,
    role: RoleView,
}

fn subject(user: Option<i64>, team: Option<i64>) -> Result<(SubjectKind, i64), ApiError> {
    match (user, team) {
        (Some(id), None) => Ok((SubjectKind::User, id)),
        (None, Some(id)) => Ok((SubjectKind::Team, id)),
        _ => Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid",
            "user: name exactly one of user or team",
        )),
    }
}

pub async fn grant(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(host): Path<String>,
    Body(body): Body<GrantBody>,
) -> Result<StatusCode, ApiError> {
    state.fleet.exists(&host)?;
    let (kind, id) = subject(body.user, body.team)?;
    state
        .accounts
        .set_grant(&host, kind, id, body.role.into())
        .await?;
    tracing::info!(by = %by.username, host, subject_id = id, role = body.role.as_str(), "grant set");
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
pub struct RevokeQuery {
    user: Option<i64>,
    team: Option<i64>,
}

pub async fn revoke(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(host): Path<String>,
    Query(q): Query<RevokeQuery>,
) -> Result<StatusCode, ApiError> {
    state.fleet.exists(&host)?;
    let (kind, id) = subject(q.user, q.team)?;
    state.accounts.remove_grant(&host, kind, id).await?;
    tracing::info!(by = %by.username, host, subject_id = id, "grant revoked");
    Ok(StatusCode::NO_CONTENT)
}
