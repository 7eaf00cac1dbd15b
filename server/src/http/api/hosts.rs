//! Hosts as the caller may see them: a host without a grant is absent from lists and 404. Each
//! handler calls one use case (`backend::ops::hosts`).

use axum::extract::{Path, State};
use axum::Json;

use app::model::system::{DiskUsageView, SwarmNodeView};
use app::model::{EngineInfoView, HostView};

use crate::http::auth::Caller;
use crate::http::ApiError;
use crate::state::AppState;

pub async fn list(State(state): State<AppState>, Caller(c): Caller) -> Json<Vec<HostView>> {
    let hosts = state.ops().hosts(&c, false).await;
    Json(
        hosts
            .into_iter()
            .map(|s| HostView::seen_by(s, &c.who))
            .collect(),
    )
}

pub async fn get(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<HostView>, ApiError> {
    let status = state.ops().host(&c, &host).await?;
    Ok(Json(HostView::seen_by(status, &c.who)))
}

/// `docker info` + `docker version` of one host, for anyone who may see it.
pub async fn info(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<EngineInfoView>, ApiError> {
    Ok(Json(state.ops().host_info(&c, &host).await?.into()))
}

/// `docker system df` of one host: counts, sizes and what a prune would free, per kind.
pub async fn disk_usage(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<DiskUsageView>, ApiError> {
    Ok(Json(state.ops().disk_usage(&c, &host).await?.into()))
}

/// The swarm's nodes when the host is a swarm manager; `[]` when it is not.
pub async fn nodes(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<Vec<SwarmNodeView>>, ApiError> {
    let nodes = state.ops().swarm_nodes(&c, &host).await?;
    Ok(Json(nodes.into_iter().map(SwarmNodeView::from).collect()))
}
