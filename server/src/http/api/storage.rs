//! Volumes and networks: lists (one host or every visible host), create, inspect, remove,
//! prune; connect and disconnect a container. Each handler asks the policy first.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

use app::model::storage::{
    AttachRequest, CreateNetworkRequest, CreateVolumeRequest, FleetNetworks, FleetVolumes,
    NetworkView, PruneParams, PruneResult, VolumeView,
};
use backend::policy::HostAction;

use super::images::{checked_host, flag, host_for, params, ForceParams};
use super::Body;
use crate::http::auth::Auth;
use crate::http::ApiError;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// `GET /api/v1/volumes`: every visible host's volumes, as an array; hosts that do not answer
/// are named in the `X-Capstan-Unreachable` header.
pub async fn list_all_volumes(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> axum::response::Response {
    let fleet: FleetVolumes = backend::storage::volumes(&state.fleet, &who).await.into();
    super::fleet_list(
        fleet.volumes,
        fleet.unreachable.into_iter().map(|n| n.host).collect(),
    )
    .await
}

/// `GET /api/v1/hosts/{host}/volumes`.
pub async fn list_volumes(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
) -> ApiResult<Json<Vec<VolumeView>>> {
    let host = host_for(&state, &who, &host, HostAction::View)?;
    let list = host.engine.list_volumes().await?;
    Ok(Json(
        list.into_iter()
            .map(|v| VolumeView::new(host.slug.clone(), v))
            .collect(),
    ))
}

/// `POST /api/v1/hosts/{host}/volumes` `{name, driver?, driver_opts?, labels?}` → 201 the
/// volume; 409 when the name is taken.
pub async fn create_volume(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    Body(request): Body<CreateVolumeRequest>,
) -> ApiResult<(StatusCode, Json<VolumeView>)> {
    let host = host_for(&state, &who, &host, HostAction::ManageStorage)?;
    let limits = backend::guardrails::GuardrailStore::new(state.accounts.pool().clone())
        .limits_for(&who, &host.slug)
        .await?;
    let created = host
        .engine
        .create_volume_within(&request.into(), limits.as_ref())
        .await?;
    tracing::info!(by = %who.username, host = %host.slug, volume = %created.name, "volume created");
    Ok((
        StatusCode::CREATED,
        Json(VolumeView::new(host.slug.clone(), created)),
    ))
}

/// `GET /api/v1/hosts/{host}/volumes/{name}`.
pub async fn inspect_volume(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, name)): Path<(String, String)>,
) -> ApiResult<Json<VolumeView>> {
    let host = host_for(&state, &who, &host, HostAction::View)?;
    let volume = host.engine.inspect_volume(&name).await?;
    Ok(Json(VolumeView::new(host.slug.clone(), volume)))
}

/// `DELETE /api/v1/hosts/{host}/volumes/{name}?force=` → 204; 409 naming the containers that
/// use it.
pub async fn remove_volume(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, name)): Path<(String, String)>,
    query: Result<Query<ForceParams>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let (host, force) = checked_host(&state, &who, &host, HostAction::ManageStorage, || {
        Ok(flag("force", params(query)?.force())?.unwrap_or(false))
    })?;
    backend::own::guard_volume(&host.engine, &who, &name).await?;
    host.engine.remove_volume(&name, force).await?;
    tracing::info!(by = %who.username, host = %host.slug, volume = %name, "volume removed");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/hosts/{host}/volumes/prune?label=` → `{deleted, space_reclaimed}`.
pub async fn prune_volumes(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    query: Result<Query<PruneParams>, QueryRejection>,
) -> ApiResult<Json<PruneResult>> {
    let (host, label) = checked_host(&state, &who, &host, HostAction::ManageStorage, || {
        Ok(params(query)?.label.filter(|l| !l.is_empty()))
    })?;
    Ok(Json(
        host.engine.prune_volumes(label.as_deref()).await?.into(),
    ))
}

/// `GET /api/v1/networks`: as an array; hosts that do not answer are named in the
/// `X-Capstan-Unreachable` header.
pub async fn list_all_networks(
    State(state): State<AppState>,
    Auth(who): Auth,
) -> axum::response::Response {
    let fleet: FleetNetworks = backend::storage::networks(&state.fleet, &who).await.into();
    super::fleet_list(
        fleet.networks,
        fleet.unreachable.into_iter().map(|n| n.host).collect(),
    )
    .await
}

/// `GET /api/v1/hosts/{host}/networks`.
pub async fn list_networks(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
) -> ApiResult<Json<Vec<NetworkView>>> {
    let host = host_for(&state, &who, &host, HostAction::View)?;
    let list = host.engine.list_networks().await?;
    Ok(Json(
        list.into_iter()
            .map(|n| NetworkView::new(host.slug.clone(), n))
            .collect(),
    ))
}

/// `POST /api/v1/hosts/{host}/networks` `{name, driver?, subnet?, gateway?, internal?,
/// attachable?, labels?, options?}` → 201 the network; 409 when the name is taken or the subnet
/// overlaps another network's (the message starts with `subnet:`).
pub async fn create_network(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    Body(request): Body<CreateNetworkRequest>,
) -> ApiResult<(StatusCode, Json<NetworkView>)> {
    let host = host_for(&state, &who, &host, HostAction::ManageStorage)?;
    let limits = backend::guardrails::GuardrailStore::new(state.accounts.pool().clone())
        .limits_for(&who, &host.slug)
        .await?;
    let created = host
        .engine
        .create_network_within(&request.into(), limits.as_ref())
        .await?;
    tracing::info!(by = %who.username, host = %host.slug, network = %created.name, "network created");
    Ok((
        StatusCode::CREATED,
        Json(NetworkView::new(host.slug.clone(), created)),
    ))
}

/// `GET /api/v1/hosts/{host}/networks/{id}`: with the attached containers' addresses.
pub async fn inspect_network(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<NetworkView>> {
    let host = host_for(&state, &who, &host, HostAction::View)?;
    let network = host.engine.inspect_network(&id).await?;
    Ok(Json(NetworkView::new(host.slug.clone(), network)))
}

/// `DELETE /api/v1/hosts/{host}/networks/{id}` → 204; 409 for `bridge`, `host`, `none` and for
/// a network with containers attached (named).
pub async fn remove_network(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let host = host_for(&state, &who, &host, HostAction::ManageStorage)?;
    host.engine.remove_network(&id).await?;
    tracing::info!(by = %who.username, host = %host.slug, network = %id, "network removed");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/hosts/{host}/networks/{id}/connect` `{container, aliases?}` → 204.
pub async fn connect(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
    Body(request): Body<AttachRequest>,
) -> ApiResult<StatusCode> {
    let (host, container) = checked_host(&state, &who, &host, HostAction::ManageStorage, || {
        required_container(&request)
    })?;
    backend::own::guard_container(
        &host.engine,
        &who,
        &host.slug,
        container,
        backend::own::ContainerAct::Network,
    )
    .await?;
    host.engine
        .connect_network(&id, container, &request.aliases)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/hosts/{host}/networks/{id}/disconnect` `{container, force?}` → 204.
pub async fn disconnect(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
    Body(request): Body<AttachRequest>,
) -> ApiResult<StatusCode> {
    let (host, container) = checked_host(&state, &who, &host, HostAction::ManageStorage, || {
        required_container(&request)
    })?;
    backend::own::guard_container(
        &host.engine,
        &who,
        &host.slug,
        container,
        backend::own::ContainerAct::Network,
    )
    .await?;
    host.engine
        .disconnect_network(&id, container, request.force)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn required_container(request: &AttachRequest) -> ApiResult<&str> {
    let c = request.container.trim();
    if c.is_empty() {
        return Err(
            backend::Error::invalid("container", "is required: a container's name or id").into(),
        );
    }
    Ok(c)
}

/// `POST /api/v1/hosts/{host}/networks/prune?label=` → `{deleted, space_reclaimed: 0}`.
pub async fn prune_networks(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    query: Result<Query<PruneParams>, QueryRejection>,
) -> ApiResult<Json<PruneResult>> {
    let (host, label) = checked_host(&state, &who, &host, HostAction::ManageStorage, || {
        Ok(params(query)?.label.filter(|l| !l.is_empty()))
    })?;
    Ok(Json(
        host.engine.prune_networks(label.as_deref()).await?.into(),
    ))
}
