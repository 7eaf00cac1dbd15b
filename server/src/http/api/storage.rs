//! Volumes and networks: lists (one host or every visible host), create, inspect, remove,
//! prune; connect and disconnect a container. Each handler reads the request and calls one use
//! case (`backend::ops::storage`).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;

use app::model::storage::{
    AttachRequest, CreateNetworkRequest, CreateVolumeRequest, FleetNetworks, FleetVolumes,
    NetworkView, PruneParams, PruneResult, VolumeView,
};
use backend::ops::storage::Attach;

use super::images::{flag, params, ForceParams};
use super::Body;
use crate::http::auth::Caller;
use crate::http::ApiError;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// `GET /api/v1/volumes`: every visible host's volumes, as an array; hosts that do not answer
/// are named in the `X-Capstan-Unreachable` header.
pub async fn list_all_volumes(
    State(state): State<AppState>,
    Caller(c): Caller,
) -> axum::response::Response {
    let fleet: FleetVolumes = state.ops().volumes(&c).await.into();
    super::fleet_list(
        fleet.volumes,
        fleet.unreachable.into_iter().map(|n| n.host).collect(),
    )
    .await
}

/// `GET /api/v1/hosts/{host}/volumes`.
pub async fn list_volumes(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> ApiResult<Json<Vec<VolumeView>>> {
    let list = state.ops().volumes_on(&c, &host).await?;
    Ok(Json(
        list.into_iter()
            .map(|v| VolumeView::new(host.clone(), v))
            .collect(),
    ))
}

/// `POST /api/v1/hosts/{host}/volumes` `{name, driver?, driver_opts?, labels?}` → 201 the
/// volume; 409 when the name is taken.
pub async fn create_volume(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Body(request): Body<CreateVolumeRequest>,
) -> ApiResult<(StatusCode, Json<VolumeView>)> {
    let created = state
        .ops()
        .create_volume(&c, &host, &request.into())
        .await?;
    Ok((StatusCode::CREATED, Json(VolumeView::new(host, created))))
}

/// `GET /api/v1/hosts/{host}/volumes/{name}`.
pub async fn inspect_volume(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, name)): Path<(String, String)>,
) -> ApiResult<Json<VolumeView>> {
    let volume = state.ops().volume(&c, &host, &name).await?;
    Ok(Json(VolumeView::new(host, volume)))
}

/// `DELETE /api/v1/hosts/{host}/volumes/{name}?force=` → 204; 409 naming the containers that
/// use it.
pub async fn remove_volume(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, name)): Path<(String, String)>,
    query: Result<Query<ForceParams>, QueryRejection>,
) -> ApiResult<StatusCode> {
    let force = flag("force", params(query)?.force())?.unwrap_or(false);
    state.ops().remove_volume(&c, &host, &name, force).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/hosts/{host}/volumes/prune?label=` → `{deleted, space_reclaimed}`.
pub async fn prune_volumes(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    query: Result<Query<PruneParams>, QueryRejection>,
) -> ApiResult<Json<PruneResult>> {
    let label = params(query)?.label.filter(|l| !l.is_empty());
    let pruned = state
        .ops()
        .prune_volumes(&c, &host, label.as_deref())
        .await?;
    Ok(Json(pruned.into()))
}

/// `GET /api/v1/networks`: as an array; hosts that do not answer are named in the
/// `X-Capstan-Unreachable` header.
pub async fn list_all_networks(
    State(state): State<AppState>,
    Caller(c): Caller,
) -> axum::response::Response {
    let fleet: FleetNetworks = state.ops().networks(&c).await.into();
    super::fleet_list(
        fleet.networks,
        fleet.unreachable.into_iter().map(|n| n.host).collect(),
    )
    .await
}

/// `GET /api/v1/hosts/{host}/networks`.
pub async fn list_networks(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> ApiResult<Json<Vec<NetworkView>>> {
    let list = state.ops().networks_on(&c, &host).await?;
    Ok(Json(
        list.into_iter()
            .map(|n| NetworkView::new(host.clone(), n))
            .collect(),
    ))
}

/// `POST /api/v1/hosts/{host}/networks` `{name, driver?, subnet?, gateway?, internal?,
/// attachable?, labels?, options?}` → 201 the network; 409 when the name is taken or the subnet
/// overlaps another network's (the message starts with `subnet:`).
pub async fn create_network(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Body(request): Body<CreateNetworkRequest>,
) -> ApiResult<(StatusCode, Json<NetworkView>)> {
    let created = state
        .ops()
        .create_network(&c, &host, &request.into())
        .await?;
    Ok((StatusCode::CREATED, Json(NetworkView::new(host, created))))
}

/// `GET /api/v1/hosts/{host}/networks/{id}`: with the attached containers' addresses.
pub async fn inspect_network(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<NetworkView>> {
    let network = state.ops().network(&c, &host, &id).await?;
    Ok(Json(NetworkView::new(host, network)))
}

/// `DELETE /api/v1/hosts/{host}/networks/{id}` → 204; 409 for `bridge`, `host`, `none` and for
/// a network with containers attached (named).
pub async fn remove_network(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.ops().remove_network(&c, &host, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/hosts/{host}/networks/{id}/connect` `{container, aliases?}` → 204.
pub async fn connect(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Body(request): Body<AttachRequest>,
) -> ApiResult<StatusCode> {
    let how = Attach::Connect {
        aliases: request.aliases,
    };
    state
        .ops()
        .attach(&c, (&host, &id), &request.container, &how)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/hosts/{host}/networks/{id}/disconnect` `{container, force?}` → 204.
pub async fn disconnect(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Body(request): Body<AttachRequest>,
) -> ApiResult<StatusCode> {
    let how = Attach::Disconnect {
        force: request.force,
    };
    state
        .ops()
        .attach(&c, (&host, &id), &request.container, &how)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/hosts/{host}/networks/prune?label=` → `{deleted, space_reclaimed: 0}`.
pub async fn prune_networks(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    query: Result<Query<PruneParams>, QueryRejection>,
) -> ApiResult<Json<PruneResult>> {
    let label = params(query)?.label.filter(|l| !l.is_empty());
    let pruned = state
        .ops()
        .prune_networks(&c, &host, label.as_deref())
        .await?;
    Ok(Json(pruned.into()))
}
