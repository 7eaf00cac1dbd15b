//! `/api/v1`: the public REST surface of docs/design/api.md. Handlers are thin: who is asking
//! (the `Auth`/`Admin` extractors), the policy, one backend call, convert.

mod account;
mod audit;
mod container_files;
mod containers;
mod guardrails;
mod host_admin;
mod hosts;
mod images;
mod live;
mod live_exec;
mod registries;
mod storage;
mod teams;
mod users;

use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ApiError;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(account::setup))
        .routes(routes!(account::login, account::logout))
        .routes(routes!(account::me))
        .routes(routes!(account::change_password))
        .routes(routes!(account::list_tokens, account::create_token))
        .routes(routes!(account::revoke_token))
        .routes(routes!(users::list, users::create))
        .routes(routes!(users::get, users::update, users::remove))
        .routes(routes!(teams::list, teams::create))
        .routes(routes!(teams::get, teams::rename, teams::remove))
        .routes(routes!(teams::add_member, teams::remove_member))
        .routes(routes!(audit::list))
        .routes(routes!(audit::csv))
        .routes(routes!(audit::settings, audit::set_settings))
        .routes(routes!(hosts::list, host_admin::create))
        .routes(routes!(hosts::get, host_admin::update, host_admin::remove))
        .routes(routes!(host_admin::settings))
        .routes(routes!(hosts::info))
        .routes(routes!(hosts::disk_usage))
        .routes(routes!(hosts::nodes))
        .routes(routes!(users::grants, users::grant, users::revoke))
        .routes(routes!(guardrails::get, guardrails::set))
        .routes(routes!(containers::list_all))
        .routes(routes!(containers::list, containers::create))
        .routes(routes!(containers::inspect, containers::remove))
        .routes(routes!(containers::run_spec))
        .routes(routes!(containers::carry_over))
        .routes(routes!(containers::bulk))
        .routes(routes!(containers::start))
        .routes(routes!(containers::stop))
        .routes(routes!(containers::restart))
        .routes(routes!(containers::kill))
        .routes(routes!(containers::pause))
        .routes(routes!(containers::unpause))
        .routes(routes!(containers::rename))
        .routes(routes!(containers::recreate))
        .routes(routes!(container_files::top))
        .routes(routes!(container_files::changes))
        .routes(routes!(container_files::commit))
        .routes(routes!(container_files::export))
        .routes(routes!(container_files::list))
        .routes(routes!(live::logs))
        .routes(routes!(live::merged_logs))
        .routes(routes!(live::download))
        .routes(routes!(live::stats))
        .routes(routes!(live_exec::exec))
        .routes(routes!(live::host_stats))
        .routes(routes!(live::host_events))
        .routes(routes!(live::fleet_events))
        .routes(routes!(registries::list, registries::create))
        .routes(routes!(registries::remove))
        .routes(routes!(images::list_all))
        .routes(routes!(images::list))
        .routes(routes!(images::pull))
        .routes(routes!(images::prune))
        .routes(routes!(images::search))
        .routes(routes!(images::inspect, images::remove))
        .routes(routes!(images::history))
        .routes(routes!(images::export))
        .routes(routes!(images::tag))
        .routes(routes!(storage::list_all_volumes))
        .routes(routes!(storage::list_volumes, storage::create_volume))
        .routes(routes!(storage::prune_volumes))
        .routes(routes!(storage::inspect_volume, storage::remove_volume))
        .routes(routes!(storage::list_all_networks))
        .routes(routes!(storage::list_networks, storage::create_network))
        .routes(routes!(storage::prune_networks))
        .routes(routes!(storage::inspect_network, storage::remove_network))
        .routes(routes!(storage::connect))
        .routes(routes!(storage::disconnect))
        .routes(routes!(super::openapi::serve))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint")
        })
        .layer(axum::middleware::map_response(json_errors))
        .layer(no_store())
}

/// A refusal made by axum itself before a handler ran (a path segment that is not a number, a
/// method the path does not take) answers in the API's error shape like every other refusal.
async fn json_errors(res: axum::response::Response) -> axum::response::Response {
    let status = res.status();
    let json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !status.is_client_error() || json {
        return res;
    }
    let code = match status {
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
        StatusCode::PAYLOAD_TOO_LARGE => "too_large",
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type",
        StatusCode::UNPROCESSABLE_ENTITY => "invalid",
        _ => "bad_request",
    };
    let (parts, body) = res.into_parts();
    let text = axum::body::to_bytes(body, 4096).await.unwrap_or_default();
    let text = String::from_utf8_lossy(&text);
    let message = match text.trim() {
        "" => status
            .canonical_reason()
            .unwrap_or("refused")
            .to_lowercase(),
        text => text.to_string(),
    };
    let mut out = ApiError::new(status, code, message).into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        out.headers_mut().insert(header::ALLOW, allow.clone());
    }
    out
}

/// API answers hold what a person may see (containers, users, audit): no cache — the
/// browser's, a proxy's or a shared machine's — keeps them. Streams set their own.
fn no_store() -> tower_http::set_header::SetResponseHeaderLayer<axum::http::HeaderValue> {
    tower_http::set_header::SetResponseHeaderLayer::if_not_present(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    )
}

/// Routes whose request bodies are streamed (file and image uploads): they are mounted outside
/// the general body limit and count bytes against `Settings::upload_limit` themselves. A path
/// is declared once, so the archive's download (GET) is here beside its upload (PUT).
pub fn uploads() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(container_files::download, container_files::upload))
        .routes(routes!(images::load))
        .routes(routes!(images::import))
        .layer(axum::middleware::map_response(json_errors))
        .layer(no_store())
}

/// Names the hosts a fleet-wide list had to skip (comma-separated slugs; `/api/v1/hosts` says
/// why). Fleet-wide lists stay the plain JSON arrays api.md promises.
pub const UNREACHABLE: &str = "x-capstan-unreachable";

/// A fleet-wide list: the array, with the hosts that did not answer in [`UNREACHABLE`].
pub async fn fleet_list<T>(items: Vec<T>, unreachable: Vec<String>) -> axum::response::Response
where
    T: serde::Serialize + Send + 'static,
{
    with_unreachable(list_json(items).await, &unreachable)
}

/// Names in [`UNREACHABLE`] the hosts a fleet-wide list had to skip.
pub fn with_unreachable(
    mut response: axum::response::Response,
    unreachable: &[String],
) -> axum::response::Response {
    if !unreachable.is_empty() {
        if let Ok(value) = axum::http::HeaderValue::from_str(&unreachable.join(",")) {
            response.headers_mut().insert(UNREACHABLE, value);
        }
    }
    response
}

/// Lists longer than this are serialised on a blocking thread: a thousand containers are
/// ~400 KiB of JSON, a millisecond or more of CPU that should not hold a runtime worker.
const INLINE_LIST_MAX: usize = 200;

/// Room reserved per item when a list is serialised, about one container summary's JSON: the
/// buffer is made once instead of being regrown (and copied) a dozen times on the way to
/// 40 KiB for a hundred containers.
const LIST_ITEM_BYTES: usize = 512;

fn json_array<T: serde::Serialize>(items: &[T]) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(
        items
            .len()
            .saturating_mul(LIST_ITEM_BYTES)
            .saturating_add(2),
    );
    serde_json::to_writer(&mut out, items)?;
    Ok(out)
}

/// A streamed answer's body. The stream is fused: the compression layer may poll a body again
/// after it ended, and a stream such as `unfold` panics then (the audit CSV was cut off in
/// browsers that way). Every streamed answer goes through here.
pub fn streamed<S, O, E>(stream: S) -> axum::body::Body
where
    S: futures::Stream<Item = Result<O, E>> + Send + 'static,
    O: Into<axum::body::Bytes> + 'static,
    E: Into<axum::BoxError> + 'static,
{
    axum::body::Body::from_stream(futures::StreamExt::fuse(stream))
}

/// An upload's body as the use cases take it: a declared length over `upload_limit` is refused
/// before a byte is read; the body is spooled under the data directory within the limit.
pub fn upload(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    body: axum::body::Body,
) -> Result<backend::ops::Upload<axum::body::BodyDataStream>, ApiError> {
    let limit = state.settings.upload_limit;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(backend::Error::too_large(limit).into());
    }
    Ok(backend::ops::Upload {
        body: body.into_data_stream(),
        limit,
        spool_dir: state.settings.data_dir.join("uploads"),
    })
}

/// The request's media type, lower-case and without parameters.
pub fn media_type(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        })
}

/// A tar download (`docker save`, `docker export`, `docker cp` out), streamed, named
/// `fallback` when the backend's name does not fit a header.
pub fn tar_download(
    download: backend::engine::Download,
    fallback: &'static str,
) -> axum::response::Response {
    use axum::http::HeaderValue;
    // The file name is reduced to [A-Za-z0-9._-] by the backend, so it is a valid header value.
    let disposition =
        HeaderValue::from_str(&format!("attachment; filename=\"{}\"", download.filename))
            .unwrap_or_else(|_| HeaderValue::from_static(fallback));
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-tar"),
            ),
            (header::CONTENT_DISPOSITION, disposition),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
        streamed(download.stream),
    )
        .into_response()
}

/// An answer of JSON already written.
pub fn json_bytes(json: Vec<u8>) -> axum::response::Response {
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response()
}

/// A JSON array answer, serialised off the runtime when it is long.
pub async fn list_json<T>(items: Vec<T>) -> axum::response::Response
where
    T: serde::Serialize + Send + 'static,
{
    let bytes = if items.len() <= INLINE_LIST_MAX {
        json_array(&items)
    } else {
        match tokio::task::spawn_blocking(move || json_array(&items)).await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::error!(error = %e, "the list serialiser stopped");
                return ApiError::from(backend::Error::Internal(e.to_string())).into_response();
            }
        }
    };
    match bytes {
        Ok(bytes) => json_bytes(bytes),
        Err(e) => {
            tracing::error!(error = %e, "a list could not be serialised");
            ApiError::from(backend::Error::Internal(e.to_string())).into_response()
        }
    }
}

/// JSON bodies whose problems are reported like every other invalid input: 400 for a body that
/// is not JSON, 422 naming the field for a body of the wrong shape.
pub struct Body<T>(pub T);

impl<S, T> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Body(v)),
            Err(JsonRejection::JsonDataError(e)) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid",
                json_problem(&e.body_text()),
            )),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            )),
            Err(JsonRejection::BytesRejection(_)) => Err(ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is too large",
            )),
            Err(_) => Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "the body is not valid JSON",
            )),
        }
    }
}

/// A query string read into `T`; a value that does not fit its parameter (a word where a
/// number belongs) is a 422 naming it, like a JSON body's field.
pub struct Params<T>(pub T);

impl<S, T> axum::extract::FromRequestParts<S> for Params<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Params(v)),
            Err(e) => {
                let text = e.body_text();
                let detail = text
                    .split_once(": ")
                    .map_or(text.as_str(), |(_, rest)| rest);
                Err(ApiError::new(
                    StatusCode::UNPROCESSABLE_ENTITY,
                    "invalid",
                    format!("the query string does not fit: {detail}"),
                ))
            }
        }
    }
}

/// serde's message names the field ("missing field `password`"); keep that part only.
fn json_problem(text: &str) -> String {
    // axum says "Failed to deserialize …: <path>: <serde message> at line …"; keep the path,
    // which names the field, and serde's message.
    let detail = text
        .split_once("target type: ")
        .map_or(text, |(_, rest)| rest);
    let detail = detail.split(" at line ").next().unwrap_or(detail);
    format!("the body does not fit: {detail}")
}
