//! Hosts as the caller may see them: a host without a grant is absent from lists and 404.

use axum::extract::{Path, State};
use axum::Json;

use app::model::system::{DiskUsageView, SwarmNodeView};
use app::model::{EngineInfoView, HostView};
use backend::policy::{authorize, HostAction};

use crate::http::auth::Auth;
use crate::http::ApiError;
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, Auth(who): Auth) -> Json<Vec<HostView>> {
    let hosts = state.fleet.visible(&who, HostAction::View);
    let visible = hosts.iter();
    Json(
        state
            .fleet
            .known_statuses(visible)
            .await
            .into_iter()
            .map(|s| HostView::seen_by(s, &who))
            .collect(),
    )
}

pub async fn get(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
) -> Result<Json<HostView>, ApiError> {
    let permit = authorize(&who, &host, HostAction::View)?;
    let host = state.fleet.host(&permit)?;
    Ok(Json(HostView::seen_by(
        state.fleet.known_status(&host).await,
        &who,
    )))
}

/// `docker info` + `docker version` of one host, for anyone who may see it.
pub async fn info(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
) -> Result<Json<EngineInfoView>, ApiError> {
    let permit = authorize(&who, &host, HostAction::View)?;
    let host = state.fleet.host(&permit)?;
    Ok(Json(host.engine.info().await?.into()))
}

/// `docker system df` of one host: counts, sizes and what a prune would free, per kind.
pub async fn disk_usage(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
) -> Result<Json<DiskUsageView>, ApiError> {
    let permit = authorize(&who, &host, HostAction::View)?;
    let host = state.fleet.host(&permit)?;
    Ok(Json(host.engine.disk_usage().await?.into()))
}

/// The swarm's nodes when the host is a swarm manager; `[]` when it is not.
pub async fn nodes(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
) -> Result<Json<Vec<SwarmNodeView>>, ApiError> {
    let permit = authorize(&who, &host, HostAction::View)?;
    let host = state.fleet.host(&permit)?;
    Ok(Json(
        host.engine
            .swarm_nodes()
            .await?
            .into_iter()
            .map(SwarmNodeView::from)
            .collect(),
    ))
}
