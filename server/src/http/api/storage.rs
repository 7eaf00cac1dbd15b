//! Volumes and networks: lists (one host or every visible host), create, inspect, remove,
//! prune; connect and disconnect a container. Each handler reads the request and calls one use
//! case (`backend::ops::storage`).

use super::{Body, Params};
use crate::http::{ApiError, ErrorResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;

use app::model::storage::{
    AttachRequest, CreateNetworkRequest, CreateVolumeRequest, FleetNetworks, FleetVolumes,
    NetworkView, PruneParams, Pruned, VolumeView,
};
use backend::ops::storage::Attach;

use super::images::{flag, ForceParams};
use crate::http::auth::Caller;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// `GET /api/v1/volumes`: every visible host's volumes, as an array; hosts that do not answer
/// are named in the `X-Capstan-Unreachable` header.
#[utoipa::path(
    get,
    path = "/volumes",
    operation_id = "storage.list_all_volumes",
    tag = "volumes",
    summary = "Volumes across every visible host; hosts that did not answer are named in the X-Capstan-Unreachable header",
    responses(
        (status = 200, description = "ok", body = Vec<VolumeView>),
        (status = 404, description = "no such host or object (or not visible to the caller)", body = ErrorResponse),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/hosts/{host}/volumes",
    operation_id = "storage.list_volumes",
    tag = "volumes",
    summary = "Volumes of one host",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "ok", body = Vec<VolumeView>),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/hosts/{host}/volumes",
    operation_id = "storage.create_volume",
    tag = "volumes",
    summary = "Create a volume (manager)",
    params(("host" = String, Path, description = "the host's slug")),
    request_body = CreateVolumeRequest,
    responses(
        (status = 201, description = "ok", body = VolumeView),
        (status = 409, description = "name in use", body = ErrorResponse),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/hosts/{host}/volumes/{name}",
    operation_id = "storage.inspect_volume",
    tag = "volumes",
    summary = "Inspect a volume",
    params(("host" = String, Path, description = "the host's slug"), ("name" = String, Path, description = "the volume's name")),
    responses(
        (status = 200, description = "ok", body = VolumeView),
    ),
)]
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
#[utoipa::path(
    delete,
    path = "/hosts/{host}/volumes/{name}",
    operation_id = "storage.remove_volume",
    tag = "volumes",
    summary = "Remove a volume (manager); in use → 409 naming the containers",
    params(("host" = String, Path, description = "the host's slug"), ("name" = String, Path, description = "the volume's name"), ForceParams),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "in use", body = ErrorResponse),
    ),
)]
pub async fn remove_volume(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, name)): Path<(String, String)>,
    Params(query): Params<ForceParams>,
) -> ApiResult<StatusCode> {
    let force = flag("force", query.force())?.unwrap_or(false);
    state.ops().remove_volume(&c, &host, &name, force).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/hosts/{host}/volumes/prune?label=` → `{deleted, space_reclaimed}`.
#[utoipa::path(
    post,
    path = "/hosts/{host}/volumes/prune",
    operation_id = "storage.prune_volumes",
    tag = "volumes",
    summary = "Remove unused volumes (manager)",
    params(("host" = String, Path, description = "the host's slug"), PruneParams),
    responses(
        (status = 200, description = "ok", body = Pruned),
    ),
)]
pub async fn prune_volumes(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Params(query): Params<PruneParams>,
) -> ApiResult<Json<Pruned>> {
    let label = query.label.filter(|l| !l.is_empty());
    let pruned = state
        .ops()
        .prune_volumes(&c, &host, label.as_deref())
        .await?;
    Ok(Json(pruned))
}

/// `GET /api/v1/networks`: as an array; hosts that do not answer are named in the
/// `X-Capstan-Unreachable` header.
#[utoipa::path(
    get,
    path = "/networks",
    operation_id = "storage.list_all_networks",
    tag = "networks",
    summary = "Networks across every visible host; hosts that did not answer are named in the X-Capstan-Unreachable header",
    responses(
        (status = 200, description = "ok", body = Vec<NetworkView>),
        (status = 404, description = "no such host or object (or not visible to the caller)", body = ErrorResponse),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/hosts/{host}/networks",
    operation_id = "storage.list_networks",
    tag = "networks",
    summary = "Networks of one host",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "ok", body = Vec<NetworkView>),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/hosts/{host}/networks",
    operation_id = "storage.create_network",
    tag = "networks",
    summary = "Create a network (manager); an overlapping subnet → 409 naming subnet",
    params(("host" = String, Path, description = "the host's slug")),
    request_body = CreateNetworkRequest,
    responses(
        (status = 201, description = "ok", body = NetworkView),
        (status = 409, description = "name in use or subnet overlaps", body = ErrorResponse),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/hosts/{host}/networks/{id}",
    operation_id = "storage.inspect_network",
    tag = "networks",
    summary = "Inspect a network",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = NetworkView),
    ),
)]
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
#[utoipa::path(
    delete,
    path = "/hosts/{host}/networks/{id}",
    operation_id = "storage.remove_network",
    tag = "networks",
    summary = "Remove a network (manager); built-in or in use → 409",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "built-in or in use", body = ErrorResponse),
    ),
)]
pub async fn remove_network(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    state.ops().remove_network(&c, &host, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/hosts/{host}/networks/{id}/connect` `{container, aliases?}` → 204.
#[utoipa::path(
    post,
    path = "/hosts/{host}/networks/{id}/connect",
    operation_id = "storage.connect",
    tag = "networks",
    summary = "Connect a container (manager)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    request_body = AttachRequest,
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "conflict", body = ErrorResponse),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/hosts/{host}/networks/{id}/disconnect",
    operation_id = "storage.disconnect",
    tag = "networks",
    summary = "Disconnect a container (manager)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    request_body = AttachRequest,
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "conflict", body = ErrorResponse),
    ),
)]
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
#[utoipa::path(
    post,
    path = "/hosts/{host}/networks/prune",
    operation_id = "storage.prune_networks",
    tag = "networks",
    summary = "Remove unused networks (manager)",
    params(("host" = String, Path, description = "the host's slug"), PruneParams),
    responses(
        (status = 200, description = "ok", body = Pruned),
    ),
)]
pub async fn prune_networks(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Params(query): Params<PruneParams>,
) -> ApiResult<Json<Pruned>> {
    let label = query.label.filter(|l| !l.is_empty());
    let pruned = state
        .ops()
        .prune_networks(&c, &host, label.as_deref())
        .await?;
    Ok(Json(pruned))
}
