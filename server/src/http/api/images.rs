//! Images: lists (one host or every visible host), inspect, history, pull with live progress
//! (`application/x-ndjson`), tag, remove, prune, save, load, import and registry search.
//! Each handler asks the policy first. Saves stream the engine's tar through; loads and imports
//! are spooled to disk within `upload_limit` before the engine sees a byte.

use axum::body::Body as HttpBody;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::Deserialize;

use app::model::images::{
    FleetImages, HistoryView, ImageDetailView, ImageListParams, ImageView, ImportParams,
    ImportedView, LoadedView, PullLine, PullRequest, RemovedView, SearchHitView, SearchParams,
    TagRequest,
};
use app::model::storage::{PruneParams, PruneResult};
use backend::engine::{spool, validate_image, Download, Spooled, SpooledBody, SEARCH_DEADLINE};
use backend::fleet::Host;
use backend::policy::{authorize, HostAction, Principal};

use super::registries::registries;
use super::Body;
use crate::http::auth::Auth;
use crate::http::ApiError;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// A query string that does not parse is a bad request in the API's own error shape.
pub(super) fn params<T>(query: Result<Query<T>, QueryRejection>) -> ApiResult<T> {
    query.map(|Query(p)| p).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "bad_request",
            format!("the query string does not fit: {}", e.body_text()),
        )
    })
}

/// The host a request names, once the policy allows `action` on it: the policy is asked
/// before the host is looked up, so a caller without access learns nothing about the host.
pub(super) fn host_for(
    state: &AppState,
    who: &Principal,
    slug: &str,
    action: HostAction,
) -> ApiResult<Host> {
    checked_host(state, who, slug, action, || Ok(())).map(|(host, ())| host)
}

/// [`host_for`] with the request's own input checked in between, in the order every handler
/// keeps: a denial (403/404) first, then bad input (400/422), then an unknown host (404).
pub(super) fn checked_host<T>(
    state: &AppState,
    who: &Principal,
    slug: &str,
    action: HostAction,
    check: impl FnOnce() -> ApiResult<T>,
) -> ApiResult<(Host, T)> {
    let permit = authorize(who, slug, action)?;
    let checked = check()?;
    Ok((state.fleet.host(&permit)?, checked))
}

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
pub struct ForceParams {
    force: Option<String>,
}

impl ForceParams {
    pub(super) fn force(&self) -> Option<&str> {
        self.force.as_deref()
    }
}

/// `GET /api/v1/images?dangling=`: every visible host's images, as an array; hosts that do not
/// answer are named in the `X-Capstan-Unreachable` header.
pub async fn list_all(
    State(state): State<AppState>,
    Auth(who): Auth,
    query: Result<Query<ImageListParams>, QueryRejection>,
) -> ApiResult<axum::response::Response> {
    let dangling = flag("dangling", params(query)?.dangling.as_deref())?;
    let fleet: FleetImages = backend::storage::images(&state.fleet, &who, dangling)
        .await
        .into();
    Ok(super::fleet_list(
        fleet.images,
        fleet.unreachable.into_iter().map(|n| n.host).collect(),
    )
    .await)
}

/// `GET /api/v1/hosts/{host}/images?dangling=`.
pub async fn list(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    query: Result<Query<ImageListParams>, QueryRejection>,
) -> ApiResult<Json<Vec<ImageView>>> {
    let (host, dangling) = checked_host(&state, &who, &host, HostAction::View, || {
        flag("dangling", params(query)?.dangling.as_deref())
    })?;
    let list = host.engine.list_images(dangling).await?;
    Ok(Json(
        list.into_iter()
            .map(|i| ImageView::new(host.slug.clone(), i))
            .collect(),
    ))
}

/// `GET /api/v1/hosts/{host}/images/{id}`.
pub async fn inspect(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<ImageDetailView>> {
    let host = host_for(&state, &who, &host, HostAction::View)?;
    let detail = host.engine.inspect_image(&id).await?;
    Ok(Json(ImageDetailView::new(host.slug.clone(), detail)))
}

/// `GET /api/v1/hosts/{host}/images/{id}/history` → `[{id, created, created_by, size, tags,
/// comment}]`, newest first.
pub async fn history(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<Vec<HistoryView>>> {
    let host = host_for(&state, &who, &host, HostAction::View)?;
    let history = host.engine.image_history(&id).await?;
    Ok(Json(history.into_iter().map(Into::into).collect()))
}

/// `POST /api/v1/hosts/{host}/images/pull` `{image}` → 200 `application/x-ndjson`: one
/// `{"id","status","current","total"}` per engine event as it arrives, then
/// `{"status":"done","image"}` or `{"error":{"code","message"}}`. Failures before the first
/// event answer with their status instead (404 unknown image, 422 refused or unreachable
/// registry). The engine is read only as fast as the client reads; a client that goes away
/// stops the reading.
pub async fn pull(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    Body(request): Body<PullRequest>,
) -> ApiResult<Response> {
    let (host, reference) = checked_host(&state, &who, &host, HostAction::ManageStorage, || {
        let reference = request.image.trim().to_owned();
        validate_image(&reference)?;
        Ok(reference)
    })?;
    let auth = registries(&state)?.auth_for(&reference).await?;
    let progress = host.engine.pull_image_progress(&reference, auth).await?;
    let image = with_tag(&reference);
    let slug = host.slug.clone();
    tracing::info!(by = %who.username, host = %slug, %image, "pull started");
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

/// The reference as the engine will name it: `latest` when no tag or digest is given.
fn with_tag(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if reference.contains('@') || last.contains(':') {
        reference.to_owned()
    } else {
        format!("{reference}:latest")
    }
}

/// `POST /api/v1/hosts/{host}/images/{id}/tag` `{repo, tag?}` → 201.
pub async fn tag(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
    Body(request): Body<TagRequest>,
) -> ApiResult<StatusCode> {
    let host = host_for(&state, &who, &host, HostAction::ManageStorage)?;
    let tag = request.tag.filter(|t| !t.is_empty());
    host.engine
        .tag_image(&id, &request.repo, tag.as_deref())
        .await?;
    Ok(StatusCode::CREATED)
}

/// `DELETE /api/v1/hosts/{host}/images/{id}?force=` → 200 `{untagged, deleted}`; 409 naming
/// the containers that use the image.
pub async fn remove(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
    query: Result<Query<ForceParams>, QueryRejection>,
) -> ApiResult<Json<RemovedView>> {
    let (host, force) = checked_host(&state, &who, &host, HostAction::ManageStorage, || {
        Ok(flag("force", params(query)?.force())?.unwrap_or(false))
    })?;
    Ok(Json(host.engine.remove_image(&id, force).await?.into()))
}

/// `POST /api/v1/hosts/{host}/images/prune?label=` → `{deleted, space_reclaimed}`: dangling
/// images only.
pub async fn prune(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    query: Result<Query<PruneParams>, QueryRejection>,
) -> ApiResult<Json<PruneResult>> {
    let (host, label) = checked_host(&state, &who, &host, HostAction::ManageStorage, || {
        Ok(params(query)?.label.filter(|l| !l.is_empty()))
    })?;
    Ok(Json(
        host.engine.prune_images(label.as_deref()).await?.into(),
    ))
}

/// `GET /api/v1/hosts/{host}/images/{id}/export`: `docker save` as a tar, streamed.
pub async fn export(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let host = host_for(&state, &who, &host, HostAction::ManageStorage)?;
    Ok(tar_download(host.engine.export_image(&id).await?))
}

/// `GET /api/v1/hosts/{host}/images/search?term=&limit=` → `[{name, description, stars,
/// official, automated}]`. When the engine's registry cannot be reached: 504 after at most
/// ten seconds, or 502 as soon as the engine gives up.
pub async fn search(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    query: Result<Query<SearchParams>, QueryRejection>,
) -> ApiResult<Json<Vec<SearchHitView>>> {
    let (host, (term, limit)) = checked_host(&state, &who, &host, HostAction::View, || {
        let SearchParams { term, limit } = params(query)?;
        let term = term.unwrap_or_default();
        backend::engine::validate_search_term(&term)?;
        Ok((term, limit))
    })?;
    match host.engine.search_images(&term, limit).await {
        Ok(hits) => Ok(Json(hits.into_iter().map(Into::into).collect())),
        Err(backend::Error::EngineTimeout) => Err(ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "registry_timeout",
            format!(
                "no registry answered the search within {} seconds: the engine may have no route to its registry",
                SEARCH_DEADLINE.as_secs()
            ),
        )),
        Err(backend::Error::Engine { status, message }) => {
            tracing::warn!(host = %host.slug, status, engine = %message, "registry search failed");
            Err(ApiError::new(
                StatusCode::BAD_GATEWAY,
                "registry_unreachable",
                "the engine could not search: its registry could not be reached or refused the search",
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /api/v1/hosts/{host}/images/load` (tar body from `docker save`) → 200 `{images}`.
/// Over `upload_limit` → 413 and nothing loaded.
pub async fn load(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    headers: HeaderMap,
    body: HttpBody,
) -> ApiResult<Json<LoadedView>> {
    let host = host_for(&state, &who, &host, HostAction::ManageStorage)?;
    let spooled = spooled(&state, &headers, body).await?;
    let images = host.engine.load_images(spooled).await?;
    tracing::info!(by = %who.username, host = %host.slug, ?images, "images loaded");
    Ok(Json(LoadedView { images }))
}

/// `POST /api/v1/hosts/{host}/images/import?repo=&tag=` (a filesystem tar) → 201 `{id,
/// image}`. Over `upload_limit` → 413 and nothing made.
pub async fn import(
    State(state): State<AppState>,
    Auth(who): Auth,
    Path(host): Path<String>,
    query: Result<Query<ImportParams>, QueryRejection>,
    headers: HeaderMap,
    body: HttpBody,
) -> ApiResult<(StatusCode, Json<ImportedView>)> {
    let (host, (repo, tag)) = checked_host(&state, &who, &host, HostAction::ManageStorage, || {
        let ImportParams { repo, tag } = params(query)?;
        let repo = repo.filter(|r| !r.is_empty()).ok_or_else(|| {
            ApiError::from(backend::Error::invalid(
                "repo",
                "is required: the new image's repository, like team/app",
            ))
        })?;
        backend::engine::validate_repo(&repo)?;
        let tag = tag.filter(|t| !t.is_empty());
        if let Some(t) = &tag {
            backend::engine::validate_tag(t)?;
        }
        Ok((repo, tag))
    })?;
    let spooled = spooled(&state, &headers, body).await?;
    let id = host
        .engine
        .import_image(spooled, &repo, tag.as_deref())
        .await?;
    let image = format!("{repo}:{}", tag.as_deref().unwrap_or("latest"));
    tracing::info!(by = %who.username, host = %host.slug, %image, "image imported");
    Ok((StatusCode::CREATED, Json(ImportedView { id, image })))
}

/// Spools an upload within `upload_limit`: a declared length over it is refused before a byte
/// is read, a body that grows past it is cut there.
async fn spooled(state: &AppState, headers: &HeaderMap, body: HttpBody) -> ApiResult<SpooledBody> {
    let media = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    if !matches!(
        media.as_deref(),
        None | Some("application/x-tar" | "application/octet-stream")
    ) {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send a tar archive (Content-Type: application/x-tar)",
        ));
    }
    let limit = state.settings.upload_limit;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large(limit));
    }
    let dir = state.settings.data_dir.join("uploads");
    match spool(body.into_data_stream(), limit, &dir).await? {
        Spooled::Ready(body) => Ok(body),
        Spooled::TooLarge => Err(too_large(limit)),
    }
}

fn too_large(limit: u64) -> ApiError {
    let limit = if limit >= 1024 * 1024 {
        format!("{} MiB", limit / (1024 * 1024))
    } else {
        format!("{limit} bytes")
    };
    ApiError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        "too_large",
        format!("the upload is larger than the limit of {limit}"),
    )
}

fn tar_download(download: Download) -> Response {
    // The file name is reduced to [A-Za-z0-9._-] by the backend, so it is a valid header value.
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", download.filename))
            .unwrap_or_else(|_| HeaderValue::from_static("attachment; filename=\"image.tar\""));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-tar"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        super::streamed(download.stream),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_added_only_when_missing() {
        assert_eq!(with_tag("busybox"), "busybox:latest");
        assert_eq!(with_tag("127.0.0.1:5000/a/b"), "127.0.0.1:5000/a/b:latest");
        assert_eq!(with_tag("127.0.0.1:5000/a/b:1"), "127.0.0.1:5000/a/b:1");
        assert_eq!(with_tag("a@sha256:00"), "a@sha256:00");
    }
}
