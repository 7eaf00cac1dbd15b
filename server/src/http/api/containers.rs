//! Containers: lists (one host or every visible host), inspect, lifecycle actions, run and
//! recreate. Each handler asks the policy first, then makes one backend call.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use app::model::containers::{
    ContainerDetail, ContainerListParams, ContainerSummary, Created, FleetContainers,
    RenameRequest, RunSpec,
};
use backend::policy::{authorize, HostAction};

use super::Body;
use crate::http::auth::Auth;
use crate::http::ApiError;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// `GET /api/v1/containers`: across every host the caller may view, as a JSON array (api.md:
/// lists are arrays). A host that does not answer is skipped, and named in the
/// `X-Capstan-Unreachable` header (comma-separated slugs; `/api/v1/hosts` says why).
pub async fn list_all(
    State(state): State<AppState>,
    Auth(who): Auth,
    Query(params): Query<ContainerListParams>,
) -> ApiResult<Response> {
    let query = params.to_query()?;
    let fleet: FleetContainers = backend::containers::list(&state.fleet, &who, &query).await.into();
    Ok(super::fleet_list(fleet.containers, fleet.unreachable.into_iter().map(|n| n.host).collect()))
}

/// `GET /api/v1/hosts/{host}/containers`.
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    Query(params): Query<ContainerListParams>,
) -> ApiResult<Json<Vec<ContainerSummary>>> {
    authorize(&who, &host, HostAction::View)?;
    let query = params.to_query()?;
    let host = state.fleet.host(&host)?;
    let list = host.engine.list_containers(&query).await?;
    Ok(Json(
        list.into_iter()
            .map(|c| ContainerSummary::new(host.slug.clone(), c))
            .collect(),
    ))
}

/// `GET /api/v1/hosts/{host}/containers/{id}`.
pub async fn inspect(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<ContainerDetail>> {
    authorize(&who, &host, HostAction::View)?;
    let host = state.fleet.host(&host)?;
    let detail = host.engine.inspect_container(&id).await?;
    Ok(Json(ContainerDetail::new(host.slug.clone(), detail)))
}

/// `GET /api/v1/hosts/{host}/containers/{id}/spec`: the container's configuration as a run
/// spec, to prefill the run form (duplicate / edit).
pub async fn run_spec(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<RunSpec>> {
    authorize(&who, &host, HostAction::View)?;
    let host = state.fleet.host(&host)?;
    Ok(Json(host.engine.run_spec_of(&id).await?.into()))
}

/// `POST /api/v1/hosts/{host}/containers` → 201 `{id, name, warnings}`.
pub async fn create(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    Body(spec): Body<RunSpec>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    authorize(&who, &host, HostAction::ManageContainers)?;
    let limits = backend::guardrails::GuardrailStore::new(state.accounts.pool().clone()).limits_for(&who, &host).await?;
    let host = state.fleet.host(&host)?;
    let created = host.engine.run_container_within(&spec.into(), limits.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// `POST .../{id}/recreate` → 201 `{id, name, warnings}` of the new container.
pub async fn recreate(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    authorize(&who, &host, HostAction::ManageContainers)?;
    let limits = backend::guardrails::GuardrailStore::new(state.accounts.pool().clone()).limits_for(&who, &host).await?;
    let host = state.fleet.host(&host)?;
    let created = host.engine.recreate_container_within(&id, limits.as_ref()).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

fn done() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

fn flag(field: &str, value: Option<&str>) -> ApiResult<bool> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(_) => Err(backend::Error::invalid(field, "must be true or false").into()),
    }
}

fn seconds(value: Option<&str>) -> ApiResult<Option<i64>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            backend::Error::invalid("t", "seconds to wait, from 0 to 3600 (-1 waits forever)")
                .into()
        }),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct WaitParams {
    t: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct KillParams {
    signal: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RemoveParams {
    force: Option<String>,
    volumes: Option<String>,
}

pub async fn start(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    authorize(&who, &host, HostAction::Operate)?;
    state.fleet.host(&host)?.engine.start_container(&id).await?;
    Ok(done())
}

pub async fn stop(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
    Query(p): Query<WaitParams>,
) -> ApiResult<Response> {
    authorize(&who, &host, HostAction::Operate)?;
    let t = seconds(p.t.as_deref())?;
    state
        .fleet
        .host(&host)?
        .engine
        .stop_container(&id, t)
        .await?;
    Ok(done())
}

pub async fn restart(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
    Query(p): Query<WaitParams>,
) -> ApiResult<Response> {
    authorize(&who, &host, HostAction::Operate)?;
    let t = seconds(p.t.as_deref())?;
    state
        .fleet
        .host(&host)?
        .engine
        .restart_container(&id, t)
        .await?;
    Ok(done())
}

pub async fn kill(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
    Query(p): Query<KillParams>,
) -> ApiResult<Response> {
    authorize(&who, &host, HostAction::Operate)?;
    state
        .fleet
        .host(&host)?
        .engine
        .kill_container(&id, p.signal.as_deref())
        .await?;
    Ok(done())
}

pub async fn pause(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    authorize(&who, &host, HostAction::Operate)?;
    state.fleet.host(&host)?.engine.pause_container(&id).await?;
    Ok(done())
}

pub async fn unpause(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    authorize(&who, &host, HostAction::Operate)?;
    state
        .fleet
        .host(&host)?
        .engine
        .unpause_container(&id)
        .await?;
    Ok(done())
}

pub async fn rename(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
    Body(body): Body<RenameRequest>,
) -> ApiResult<Response> {
    authorize(&who, &host, HostAction::ManageContainers)?;
    state
        .fleet
        .host(&host)?
        .engine
        .rename_container(&id, &body.name)
        .await?;
    Ok(done())
}

/// `DELETE .../{id}?force=&volumes=`.
pub async fn remove(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
    Query(p): Query<RemoveParams>,
) -> ApiResult<Response> {
    authorize(&who, &host, HostAction::ManageContainers)?;
    let force = flag("force", p.force.as_deref())?;
    let volumes = flag("volumes", p.volumes.as_deref())?;
    state
        .fleet
        .host(&host)?
        .engine
        .remove_container(&id, force, volumes)
        .await?;
    Ok(done())
}
