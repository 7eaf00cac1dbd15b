//! Hosts as the caller may see them: a host without a grant is absent from lists and 404. Each
//! handler calls one use case (`backend::ops::hosts`).

use crate::http::{ApiError, ErrorResponse};
use axum::extract::{Path, State};
use axum::Json;

use app::model::system::{DiskUsage, SwarmNode};
use app::model::{EngineInfoView, HostView};

use crate::http::auth::Caller;
use crate::state::AppState;

#[utoipa::path(
    get,
    path = "/hosts",
    operation_id = "hosts.list",
    tag = "hosts",
    summary = "Hosts the caller may see, with status and engine summary",
    responses(
        (status = 200, description = "hosts", body = Vec<HostView>),
    ),
)]
pub async fn list(State(state): State<AppState>, Caller(c): Caller) -> Json<Vec<HostView>> {
    let hosts = state.ops().hosts(&c, false).await;
    Json(
        hosts
            .into_iter()
            .map(|s| HostView::seen_by(s, &c.who))
            .collect(),
    )
}

#[utoipa::path(
    get,
    path = "/hosts/{host}",
    operation_id = "hosts.get",
    tag = "hosts",
    summary = "One host (404 also when the caller may not see it)",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "ok", body = HostView),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<HostView>, ApiError> {
    let status = state.ops().host(&c, &host).await?;
    Ok(Json(HostView::seen_by(status, &c.who)))
}

/// `docker info` + `docker version` of one host, for anyone who may see it.
#[utoipa::path(
    get,
    path = "/hosts/{host}/info",
    operation_id = "hosts.info",
    tag = "hosts",
    summary = "The engine's info and version (OS, kernel, CPUs, memory, drivers, runtimes, swarm state, warnings)",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "engine info", body = EngineInfoView),
        (status = 404, description = "no such host, or not yours to see"),
        (status = 502, description = "engine unreachable or engine error"),
        (status = 504, description = "engine timeout"),
    ),
)]
pub async fn info(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<EngineInfoView>, ApiError> {
    Ok(Json(state.ops().host_info(&c, &host).await?.into()))
}

/// `docker system df` of one host: counts, sizes and what a prune would free, per kind.
#[utoipa::path(
    get,
    path = "/hosts/{host}/df",
    operation_id = "hosts.disk_usage",
    tag = "hosts",
    summary = "Disk usage of the engine (images, containers, volumes, build cache, reclaimable)",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "ok", body = DiskUsage),
        (status = 502, description = "engine unreachable or engine error", body = ErrorResponse),
        (status = 504, description = "engine timeout", body = ErrorResponse),
    ),
)]
pub async fn disk_usage(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<DiskUsage>, ApiError> {
    Ok(Json(state.ops().disk_usage(&c, &host).await?))
}

/// The swarm's nodes when the host is a swarm manager; `[]` when it is not.
#[utoipa::path(
    get,
    path = "/hosts/{host}/nodes",
    operation_id = "hosts.nodes",
    tag = "hosts",
    summary = "Swarm nodes when the engine is a swarm manager, else []",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "ok", body = Vec<SwarmNode>),
        (status = 502, description = "engine unreachable or engine error", body = ErrorResponse),
        (status = 504, description = "engine timeout", body = ErrorResponse),
    ),
)]
pub async fn nodes(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> Result<Json<Vec<SwarmNode>>, ApiError> {
    let nodes = state.ops().swarm_nodes(&c, &host).await?;
    Ok(Json(nodes.into_iter().collect()))
}
