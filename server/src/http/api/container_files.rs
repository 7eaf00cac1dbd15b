//! A container's processes, changes, commit, export and files (`docker top / diff / commit /
//! export / cp`). Each handler calls one use case (`backend::ops`); downloads stream the engine's tar
//! straight through, uploads are spooled to disk within `upload_limit` before the engine sees
//! a byte.

use axum::body::Body as HttpBody;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::Json;
use serde::Deserialize;

use app::model::files::{Change, CommitRequest, Committed, DirListing, Processes};
use backend::engine::{validate_file_name, UploadContent};

use super::Body;
use crate::http::auth::Caller;
use crate::http::ApiError;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

#[derive(Debug, Deserialize)]
pub struct TopParams {
    ps_args: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct PathParams {
    path: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct UploadParams {
    path: Option<String>,
    name: Option<String>,
}

/// A query string that does not parse is a bad request in the API's own error shape.
fn params<T>(query: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    query.map(|Query(p)| p).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the query string does not fit: {}", e.body_text()),
        )
    })
}

fn required_path(path: Option<String>) -> ApiResult<String> {
    path.filter(|p| !p.is_empty()).ok_or_else(|| {
        backend::Error::invalid("path", "is required (an absolute path in the container)").into()
    })
}

/// `GET /api/v1/hosts/{host}/containers/{id}/top?ps_args=` → `{titles, rows}`; 409 when the
/// container is not running.
pub async fn top(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    query: Result<Query<TopParams>, QueryRejection>,
) -> ApiResult<Json<Processes>> {
    let ps_args = params(query)?.ps_args.filter(|a| !a.is_empty());
    let top = state
        .ops()
        .container_top(&c, &host, &id, ps_args.as_deref())
        .await?;
    Ok(Json(top.into()))
}

/// `GET /api/v1/hosts/{host}/containers/{id}/changes` → `[{path, kind}]`, kind being `added`,
/// `changed` or `deleted`.
pub async fn changes(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<Change>>> {
    let changes = state.ops().container_changes(&c, &host, &id).await?;
    Ok(Json(changes.into_iter().map(Change::from).collect()))
}

/// `POST /api/v1/hosts/{host}/containers/{id}/commit` `{repo, tag?, author?, message?, pause?}`
/// → 201 `{image_id}`.
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
pub async fn download(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    query: Result<Query<PathParams>, QueryRejection>,
) -> ApiResult<Response> {
    let path = required_path(params(query)?.path)?;
    Ok(super::tar_download(
        state.ops().download_files(&c, &host, &id, &path).await?,
        ARCHIVE_FALLBACK,
    ))
}

const ARCHIVE_FALLBACK: &str = "attachment; filename=\"archive.tar\"";

/// `GET /api/v1/hosts/{host}/containers/{id}/files?path=` (default `/`) → `{path, entries,
/// truncated}`: the folder's direct children, read from the engine's tar headers.
pub async fn list(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    query: Result<Query<PathParams>, QueryRejection>,
) -> ApiResult<Json<DirListing>> {
    let path = params(query)?.path.unwrap_or_default();
    let listing = state.ops().container_dir(&c, &host, &id, &path).await?;
    Ok(Json(listing.into()))
}

/// `PUT /api/v1/hosts/{host}/containers/{id}/archive?path=<folder>[&name=<file>]` → 204.
/// The body is a tar (`application/x-tar`, extracted into the folder) or one file
/// (`application/octet-stream` with `name`). Over `upload_limit` → 413 and nothing written.
pub async fn upload(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    query: Result<Query<UploadParams>, QueryRejection>,
    headers: HeaderMap,
    body: HttpBody,
) -> ApiResult<StatusCode> {
    let UploadParams { path, name } = params(query)?;
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
