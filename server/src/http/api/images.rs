//! Images: lists (one host or every visible host), inspect, history, pull with live progress
//! (`application/x-ndjson`), tag, remove, prune, save, load, import and registry search. Each
//! handler reads the request and calls one use case (`backend::ops::images`). Saves stream the
//! engine's tar through; loads and imports are spooled to disk within `upload_limit` before the
//! engine sees a byte.

use super::{Body, Params};
use crate::http::openapi::Binary;
use crate::http::{ApiError, ErrorResponse};
use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;

use app::model::images::{
    FleetImages, HistoryEntry, ImageDetailView, ImageListParams, ImageView, ImportParams,
    ImportedView, LoadedView, PullLine, PullRequest, RemovedImage, SearchHit, SearchParams,
    TagRequest,
};
use app::model::storage::{PruneParams, Pruned};
use backend::ops::images::with_tag;

use crate::http::auth::Caller;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// `true`/`false` (also `1`/`0`, `yes`/`no`); absent or empty is `None`.
pub(super) fn flag(field: &str, value: Option<&str>) -> ApiResult<Option<bool>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some("true" | "1" | "yes") => Ok(Some(true)),
        Some("false" | "0" | "no") => Ok(Some(false)),
        Some(_) => Err(backend::Error::invalid(field, "must be true or false").into()),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ForceParams {
    #[param(value_type = Option<bool>)]
    force: Option<String>,
}

impl ForceParams {
    pub(super) fn force(&self) -> Option<&str> {
        self.force.as_deref()
    }
}

/// `GET /api/v1/images?dangling=`: every visible host's images, as an array; hosts that do not
/// answer are named in the `X-Capstan-Unreachable` header.
#[utoipa::path(
    get,
    path = "/images",
    operation_id = "images.list_all",
    tag = "images",
    summary = "Images across every visible host (each has host); hosts that did not answer are named in the X-Capstan-Unreachable header",
    params(ImageListParams),
    responses(
        (status = 200, description = "ok", body = Vec<ImageView>),
        (status = 404, description = "no such host or object (or not visible to the caller)", body = ErrorResponse),
    ),
)]
pub async fn list_all(
    State(state): State<AppState>,
    Caller(c): Caller,
    Params(query): Params<ImageListParams>,
) -> ApiResult<Response> {
    let dangling = flag("dangling", query.dangling.as_deref())?;
    let fleet: FleetImages = state.ops().images(&c, dangling).await.into();
    Ok(super::fleet_list(
        fleet.images,
        fleet.unreachable.into_iter().map(|n| n.host).collect(),
    )
    .await)
}

/// `GET /api/v1/hosts/{host}/images?dangling=`.
#[utoipa::path(
    get,
    path = "/hosts/{host}/images",
    operation_id = "images.list",
    tag = "images",
    summary = "Images of one host",
    params(("host" = String, Path, description = "the host's slug"), ImageListParams),
    responses(
        (status = 200, description = "ok", body = Vec<ImageView>),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Params(query): Params<ImageListParams>,
) -> ApiResult<Json<Vec<ImageView>>> {
    let dangling = flag("dangling", query.dangling.as_deref())?;
    let list = state.ops().images_on(&c, &host, dangling).await?;
    Ok(Json(
        list.into_iter()
            .map(|i| ImageView::new(host.clone(), i))
            .collect(),
    ))
}

/// `GET /api/v1/hosts/{host}/images/{id}`.
#[utoipa::path(
    get,
    path = "/hosts/{host}/images/{id}",
    operation_id = "images.inspect",
    tag = "images",
    summary = "Inspect an image (id or name; encode / as %2F)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = ImageDetailView),
    ),
)]
pub async fn inspect(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<ImageDetailView>> {
    let detail = state.ops().image(&c, &host, &id).await?;
    Ok(Json(ImageDetailView::new(host, detail)))
}

/// `GET /api/v1/hosts/{host}/images/{id}/history` → `[{id, created, created_by, size, tags,
/// comment}]`, newest first.
#[utoipa::path(
    get,
    path = "/hosts/{host}/images/{id}/history",
    operation_id = "images.history",
    tag = "images",
    summary = "Layers with sizes and the commands that made them",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = Vec<HistoryEntry>),
    ),
)]
pub async fn history(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<HistoryEntry>>> {
    let history = state.ops().image_history(&c, &host, &id).await?;
    Ok(Json(history.into_iter().collect()))
}

/// `POST /api/v1/hosts/{host}/images/pull` `{image}` → 200 `application/x-ndjson`: one
/// `{"id","status","current","total"}` per engine event as it arrives, then
/// `{"status":"done","image"}` or `{"error":{"code","message"}}`. Failures before the first
/// event answer with their status instead (404 unknown image, 422 refused or unreachable
/// registry). The engine is read only as fast as the client reads; a client that goes away
/// stops the reading.
#[utoipa::path(
    post,
    path = "/hosts/{host}/images/pull",
    operation_id = "images.pull",
    tag = "images",
    summary = "Pull (manager): application/x-ndjson progress, ending with {\"status\":\"done\",\"image\"} or {\"error\":{…}}; stored registry credentials are used when the registry matches",
    params(("host" = String, Path, description = "the host's slug")),
    request_body = PullRequest,
    responses(
        (status = 200, description = "ok", body = PullLine, content_type = "application/x-ndjson"),
        (status = 422, description = "invalid image reference", body = ErrorResponse),
    ),
)]
pub async fn pull(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Body(request): Body<PullRequest>,
) -> ApiResult<Response> {
    let reference = request.image.trim();
    let progress = state.ops().pull_image(&c, &host, reference).await?;
    let image = with_tag(reference);
    let lines = progress
        .map(Some)
        .chain(futures::stream::once(async { None }))
        .scan(false, move |failed, item| {
            let line = match item {
                _ if *failed => return futures::future::ready(None),
                Some(Ok(p)) => PullLine::from(p),
                Some(Err(e)) => {
                    *failed = true;
                    let e = ApiError::from(e);
                    PullLine::failed(e.code, e.message)
                }
                None => PullLine::done(image.clone()),
            };
            futures::future::ready(Some(line))
        })
        .map(|line| {
            let mut text = serde_json::to_vec(&line).unwrap_or_else(|_| b"{}".to_vec());
            text.push(b'\n');
            Ok::<_, std::convert::Infallible>(axum::body::Bytes::from(text))
        })
        .take_until(state.shutdown.clone().cancelled_owned());
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-ndjson"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (
                header::HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        super::streamed(lines),
    )
        .into_response())
}

/// `POST /api/v1/hosts/{host}/images/{id}/tag` `{repo, tag?}` → 201.
#[utoipa::path(
    post,
    path = "/hosts/{host}/images/{id}/tag",
    operation_id = "images.tag",
    tag = "images",
    summary = "Tag (manager)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    request_body = TagRequest,
    responses(
        (status = 201, description = "ok"),
        (status = 422, description = "invalid repo or tag", body = ErrorResponse),
    ),
)]
pub async fn tag(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Body(request): Body<TagRequest>,
) -> ApiResult<StatusCode> {
    state
        .ops()
        .tag_image(&c, &host, &id, (&request.repo, request.tag.as_deref()))
        .await?;
    Ok(StatusCode::CREATED)
}

/// `DELETE /api/v1/hosts/{host}/images/{id}?force=` → 200 `{untagged, deleted}`; 409 naming
/// the containers that use the image.
#[utoipa::path(
    delete,
    path = "/hosts/{host}/images/{id}",
    operation_id = "images.remove",
    tag = "images",
    summary = "Remove an image (manager); in use → 409 naming the containers",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), ForceParams),
    responses(
        (status = 200, description = "ok", body = RemovedImage),
        (status = 409, description = "in use", body = ErrorResponse),
    ),
)]
pub async fn remove(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(query): Params<ForceParams>,
) -> ApiResult<Json<RemovedImage>> {
    let force = flag("force", query.force())?.unwrap_or(false);
    let removed = state.ops().remove_image(&c, &host, &id, force).await?;
    Ok(Json(removed))
}

/// `POST /api/v1/hosts/{host}/images/prune?label=` → `{deleted, space_reclaimed}`: dangling
/// images only.
#[utoipa::path(
    post,
    path = "/hosts/{host}/images/prune",
    operation_id = "images.prune",
    tag = "images",
    summary = "Remove dangling images (manager)",
    params(("host" = String, Path, description = "the host's slug"), PruneParams),
    responses(
        (status = 200, description = "ok", body = Pruned),
    ),
)]
pub async fn prune(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Params(query): Params<PruneParams>,
) -> ApiResult<Json<Pruned>> {
    let label = query.label.filter(|l| !l.is_empty());
    let pruned = state
        .ops()
        .prune_images(&c, &host, label.as_deref())
        .await?;
    Ok(Json(pruned))
}

/// `GET /api/v1/hosts/{host}/images/{id}/export`: `docker save` as a tar, streamed.
#[utoipa::path(
    get,
    path = "/hosts/{host}/images/{id}/export",
    operation_id = "images.export",
    tag = "images",
    summary = "Save the image as a tar, streamed (manager)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = Binary, content_type = "application/x-tar"),
    ),
)]
pub async fn export(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    Ok(super::tar_download(
        state.ops().export_image(&c, &host, &id).await?,
        "attachment; filename=\"image.tar\"",
    ))
}

/// `GET /api/v1/hosts/{host}/images/search?term=&limit=` → `[{name, description, stars,
/// official, automated}]`. When the engine's registry cannot be reached: 504 after at most
/// ten seconds, or 502 as soon as the engine gives up.
#[utoipa::path(
    get,
    path = "/hosts/{host}/images/search",
    operation_id = "images.search",
    tag = "images",
    summary = "Search a registry through the engine; a clear 502/504 within seconds when none is reachable",
    params(("host" = String, Path, description = "the host's slug"), SearchParams),
    responses(
        (status = 200, description = "ok", body = Vec<SearchHit>),
        (status = 422, description = "invalid term", body = ErrorResponse),
        (status = 502, description = "registry unreachable", body = ErrorResponse),
        (status = 504, description = "registry timeout", body = ErrorResponse),
    ),
)]
pub async fn search(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Params(query): Params<SearchParams>,
) -> ApiResult<Json<Vec<SearchHit>>> {
    let SearchParams { term, limit } = query;
    let term = term.unwrap_or_default();
    let hits = state.ops().search_images(&c, &host, &term, limit).await?;
    Ok(Json(hits.into_iter().collect()))
}

/// `POST /api/v1/hosts/{host}/images/load` (tar body from `docker save`) → 200 `{images}`.
/// Over `upload_limit` → 413 and nothing loaded.
#[utoipa::path(
    post,
    path = "/hosts/{host}/images/load",
    operation_id = "images.load",
    tag = "images",
    summary = "Load images from a tar body (manager), at most --upload-limit bytes",
    params(("host" = String, Path, description = "the host's slug")),
    request_body(content((Binary = "application/x-tar"))),
    responses(
        (status = 200, description = "ok", body = LoadedView),
        (status = 413, description = "too large", body = ErrorResponse),
        (status = 422, description = "not an image archive", body = ErrorResponse),
    ),
)]
pub async fn load(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    headers: HeaderMap,
    body: HttpBody,
) -> ApiResult<Json<LoadedView>> {
    let upload = tar_upload(&state, &headers, body)?;
    let images = state.ops().load_images(&c, &host, upload).await?;
    Ok(Json(LoadedView { images }))
}

/// `POST /api/v1/hosts/{host}/images/import?repo=&tag=` (a filesystem tar) → 201 `{id,
/// image}`. Over `upload_limit` → 413 and nothing made.
#[utoipa::path(
    post,
    path = "/hosts/{host}/images/import",
    operation_id = "images.import",
    tag = "images",
    summary = "Import a filesystem tar body as an image (manager)",
    params(("host" = String, Path, description = "the host's slug"), ImportParams),
    request_body(content((Binary = "application/x-tar"))),
    responses(
        (status = 201, description = "ok", body = ImportedView),
        (status = 413, description = "too large", body = ErrorResponse),
        (status = 422, description = "invalid field", body = ErrorResponse),
    ),
)]
pub async fn import(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Params(query): Params<ImportParams>,
    headers: HeaderMap,
    body: HttpBody,
) -> ApiResult<(StatusCode, Json<ImportedView>)> {
    let ImportParams { repo, tag } = query;
    let upload = tar_upload(&state, &headers, body)?;
    let (id, image) = state
        .ops()
        .import_image(
            &c,
            &host,
            (repo.as_deref().unwrap_or_default(), tag.as_deref()),
            upload,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(ImportedView { id, image })))
}

/// An image tar upload: a tar (or bytes without a type), within `upload_limit`.
fn tar_upload(
    state: &AppState,
    headers: &HeaderMap,
    body: HttpBody,
) -> ApiResult<backend::ops::Upload<axum::body::BodyDataStream>> {
    if !matches!(
        super::media_type(headers).as_deref(),
        None | Some("application/x-tar" | "application/octet-stream")
    ) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a tar archive (Content-Type: application/x-tar)",
        ));
    }
    super::upload(state, headers, body)
}
