//! A container's processes, changes, commit, export and files (`docker top / diff / commit /
//! export / cp`). Each handler calls one use case (`backend::ops`); downloads stream the engine's tar
//! straight through, uploads are spooled to disk within `upload_limit` before the engine sees
//! a byte.

use super::{Body, Params};
use crate::http::openapi::Binary;
use crate::http::{ApiError, ErrorResponse};
use axum::body::Body as HttpBody;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;

use app::model::files::{CommitRequest, Committed, DirListing, FsChange, ProcessList};
use backend::engine::{validate_file_name, UploadContent};

use crate::http::auth::Caller;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TopParams {
    ps_args: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PathParams {
    path: Option<String>,
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UploadParams {
    path: Option<String>,
    name: Option<String>,
}

fn required_path(path: Option<String>) -> ApiResult<String> {
    path.filter(|p| !p.is_empty()).ok_or_else(|| {
        backend::Error::invalid("path", "is required (an absolute path in the container)").into()
    })
}

/// `GET /api/v1/hosts/{host}/containers/{id}/top?ps_args=` → `{titles, rows}`; 409 when the
/// container is not running.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/top",
    operation_id = "container_files.top",
    tag = "containers",
    summary = "Processes in the container (docker top); 409 when not running",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), TopParams),
    responses(
        (status = 200, description = "ok", body = ProcessList),
        (status = 409, description = "container is not running", body = ErrorResponse),
        (status = 422, description = "invalid ps_args", body = ErrorResponse),
    ),
)]
pub async fn top(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(query): Params<TopParams>,
) -> ApiResult<Json<ProcessList>> {
    let ps_args = query.ps_args.filter(|a| !a.is_empty());
    let top = state
        .ops()
        .container_top(&c, &host, &id, ps_args.as_deref())
        .await?;
    Ok(Json(top))
}

/// `GET /api/v1/hosts/{host}/containers/{id}/changes` → `[{path, kind}]`, kind being `added`,
/// `changed` or `deleted`.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/changes",
    operation_id = "container_files.changes",
    tag = "containers",
    summary = "Filesystem changes (docker diff)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = Vec<FsChange>),
    ),
)]
pub async fn changes(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<FsChange>>> {
    let changes = state.ops().container_changes(&c, &host, &id).await?;
    Ok(Json(changes.into_iter().collect()))
}

/// `POST /api/v1/hosts/{host}/containers/{id}/commit` `{repo, tag?, author?, message?, pause?}`
/// → 201 `{image_id}`.
#[utoipa::path(
    post,
    path = "/hosts/{host}/containers/{id}/commit",
    operation_id = "container_files.commit",
    tag = "containers",
    summary = "Commit the container to an image (manager)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    request_body = CommitRequest,
    responses(
        (status = 201, description = "ok", body = Committed),
    ),
)]
pub async fn commit(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Body(request): Body<CommitRequest>,
) -> ApiResult<(StatusCode, Json<Committed>)> {
    let image_id = state
        .ops()
        .commit_container(&c, &host, &id, &request.into())
        .await?;
    Ok((StatusCode::CREATED, Json(Committed { image_id })))
}

/// `GET /api/v1/hosts/{host}/containers/{id}/export`: the filesystem as a tar, streamed.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/export",
    operation_id = "container_files.export",
    tag = "containers",
    summary = "The container filesystem as a tar, streamed (manager)",
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
        state.ops().export_container(&c, &host, &id).await?,
        ARCHIVE_FALLBACK,
    ))
}

/// `GET /api/v1/hosts/{host}/containers/{id}/archive?path=`: a file or folder as a tar,
/// streamed; 404 when the path does not exist.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/archive",
    operation_id = "container_files.download",
    tag = "containers",
    summary = "A file or folder as a tar, streamed (manager)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), PathParams),
    responses(
        (status = 200, description = "ok", body = Binary, content_type = "application/x-tar"),
        (status = 422, description = "invalid path", body = ErrorResponse),
    ),
)]
pub async fn download(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(query): Params<PathParams>,
) -> ApiResult<Response> {
    let path = required_path(query.path)?;
    Ok(super::tar_download(
        state.ops().download_files(&c, &host, &id, &path).await?,
        ARCHIVE_FALLBACK,
    ))
}

const ARCHIVE_FALLBACK: &str = "attachment; filename=\"archive.tar\"";

/// `GET /api/v1/hosts/{host}/containers/{id}/files?path=` (default `/`) → `{path, entries,
/// truncated}`: the folder's direct children, read from the engine's tar headers.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/files",
    operation_id = "container_files.list",
    tag = "containers",
    summary = "Directory listing from the engine's archive (no agent, works on stopped containers)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), PathParams),
    responses(
        (status = 200, description = "ok", body = DirListing),
        (status = 422, description = "invalid path or not a folder", body = ErrorResponse),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(query): Params<PathParams>,
) -> ApiResult<Json<DirListing>> {
    let path = query.path.unwrap_or_default();
    let listing = state.ops().container_dir(&c, &host, &id, &path).await?;
    Ok(Json(listing))
}

/// `PUT /api/v1/hosts/{host}/containers/{id}/archive?path=<folder>[&name=<file>]` → 204.
/// The body is a tar (`application/x-tar`, extracted into the folder) or one file
/// (`application/octet-stream` with `name`). Over `upload_limit` → 413 and nothing written.
#[utoipa::path(
    put,
    path = "/hosts/{host}/containers/{id}/archive",
    operation_id = "container_files.upload",
    tag = "containers",
    summary = "Upload into a folder (manager): a tar (application/x-tar) or one file (application/octet-stream with name); at most --upload-limit bytes; nothing is written on failure",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), UploadParams),
    request_body(content((Binary = "application/x-tar"), (Binary = "application/octet-stream"))),
    responses(
        (status = 204, description = "written"),
        (status = 409, description = "a file would replace a folder or the reverse", body = ErrorResponse),
        (status = 413, description = "larger than the upload limit", body = ErrorResponse),
        (status = 415, description = "unsupported content type", body = ErrorResponse),
        (status = 422, description = "invalid path, name or body", body = ErrorResponse),
    ),
)]
pub async fn upload(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(query): Params<UploadParams>,
    headers: HeaderMap,
    body: HttpBody,
) -> ApiResult<StatusCode> {
    let UploadParams { path, name } = query;
    let path = required_path(path)?;
    let content = upload_content(&headers, name)?;
    let upload = super::upload(&state, &headers, body)?;
    state
        .ops()
        .upload_files(&c, (&host, &id), (&path, content), upload)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn upload_content(headers: &HeaderMap, name: Option<String>) -> ApiResult<UploadContent> {
    let media = super::media_type(headers);
    let name = name.filter(|n| !n.is_empty());
    match (media.as_deref(), name) {
        (Some("application/x-tar"), None) => Ok(UploadContent::Tar),
        (Some("application/x-tar"), Some(_)) => {
            Err(backend::Error::invalid("name", "is only for a single file (application/octet-stream); a tar names its own entries").into())
        }
        (Some("application/octet-stream") | None, Some(name)) => {
            validate_file_name(&name)?;
            Ok(UploadContent::File { name })
        }
        (Some("application/octet-stream"), None) => {
            Err(backend::Error::invalid("name", "is required for a single file (application/octet-stream)").into())
        }
        _ => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a tar (Content-Type: application/x-tar) or one file (application/octet-stream with ?name=)",
        )),
    }
}
