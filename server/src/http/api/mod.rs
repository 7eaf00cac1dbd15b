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
use axum::routing::{delete, get, post, put};
use axum::Router;

use super::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/setup", post(account::setup))
        .route("/session", post(account::login).delete(account::logout))
        .route("/me", get(account::me))
        .route("/me/password", post(account::change_password))
        .route(
            "/tokens",
            get(account::list_tokens).post(account::create_token),
        )
        .route("/tokens/{id}", delete(account::revoke_token))
        .route("/users", get(users::list).post(users::create))
        .route(
            "/users/{id}",
            get(users::get).patch(users::update).delete(users::remove),
        )
        .route("/teams", get(teams::list).post(teams::create))
        .route(
            "/teams/{id}",
            get(teams::get).patch(teams::rename).delete(teams::remove),
        )
        .route(
            "/teams/{id}/members/{user_id}",
            put(teams::add_member).delete(teams::remove_member),
        )
        .route("/audit", get(audit::list))
        .route("/audit.csv", get(audit::csv))
        .route(
            "/audit/settings",
            get(audit::settings).put(audit::set_settings),
        )
        .route("/hosts", get(hosts::list).post(host_admin::create))
        .route(
            "/hosts/{host}",
            get(hosts::get)
                .patch(host_admin::update)
                .delete(host_admin::remove),
        )
        .route("/hosts/{host}/settings", get(host_admin::settings))
        .route("/hosts/{host}/info", get(hosts::info))
        .route("/hosts/{host}/df", get(hosts::disk_usage))
        .route("/hosts/{host}/nodes", get(hosts::nodes))
        .route(
            "/hosts/{host}/grants",
            get(users::grants).put(users::grant).delete(users::revoke),
        )
        .route(
            "/hosts/{host}/guardrails",
            get(guardrails::get).put(guardrails::set),
        )
        .route("/containers", get(containers::list_all))
        .route(
            "/hosts/{host}/containers",
            get(containers::list).post(containers::create),
        )
        .route(
            "/hosts/{host}/containers/{id}",
            get(containers::inspect).delete(containers::remove),
        )
        .route(
            "/hosts/{host}/containers/{id}/spec",
            get(containers::run_spec),
        )
        .route(
            "/hosts/{host}/containers/{id}/start",
            post(containers::start),
        )
        .route("/hosts/{host}/containers/{id}/stop", post(containers::stop))
        .route(
            "/hosts/{host}/containers/{id}/restart",
            post(containers::restart),
        )
        .route("/hosts/{host}/containers/{id}/kill", post(containers::kill))
        .route(
            "/hosts/{host}/containers/{id}/pause",
            post(containers::pause),
        )
        .route(
            "/hosts/{host}/containers/{id}/unpause",
            post(containers::unpause),
        )
        .route(
            "/hosts/{host}/containers/{id}/rename",
            post(containers::rename),
        )
        .route(
            "/hosts/{host}/containers/{id}/recreate",
            post(containers::recreate),
        )
        .route(
            "/hosts/{host}/containers/{id}/top",
            get(container_files::top),
        )
        .route(
            "/hosts/{host}/containers/{id}/changes",
            get(container_files::changes),
        )
        .route(
            "/hosts/{host}/containers/{id}/commit",
            post(container_files::commit),
        )
        .route(
            "/hosts/{host}/containers/{id}/export",
            get(container_files::export),
        )
        .route(
            "/hosts/{host}/containers/{id}/archive",
            get(container_files::download),
        )
        .route(
            "/hosts/{host}/containers/{id}/files",
            get(container_files::list),
        )
        .route("/hosts/{host}/containers/{id}/logs", get(live::logs))
        .route(
            "/hosts/{host}/containers/{id}/logs/download",
            get(live::download),
        )
        .route("/hosts/{host}/containers/{id}/stats", get(live::stats))
        .route("/hosts/{host}/containers/{id}/exec", get(live_exec::exec))
        .route("/hosts/{host}/stats", get(live::host_stats))
        .route("/hosts/{host}/events", get(live::host_events))
        .route("/events", get(live::fleet_events))
        .route(
            "/registries",
            get(registries::list).post(registries::create),
        )
        .route("/registries/{id}", delete(registries::remove))
        .route("/images", get(images::list_all))
        .route("/hosts/{host}/images", get(images::list))
        .route("/hosts/{host}/images/pull", post(images::pull))
        .route("/hosts/{host}/images/prune", post(images::prune))
        .route("/hosts/{host}/images/search", get(images::search))
        .route(
            "/hosts/{host}/images/{id}",
            get(images::inspect).delete(images::remove),
        )
        .route("/hosts/{host}/images/{id}/history", get(images::history))
        .route("/hosts/{host}/images/{id}/export", get(images::export))
        .route("/hosts/{host}/images/{id}/tag", post(images::tag))
        .route("/volumes", get(storage::list_all_volumes))
        .route(
            "/hosts/{host}/volumes",
            get(storage::list_volumes).post(storage::create_volume),
        )
        .route("/hosts/{host}/volumes/prune", post(storage::prune_volumes))
        .route(
            "/hosts/{host}/volumes/{name}",
            get(storage::inspect_volume).delete(storage::remove_volume),
        )
        .route("/networks", get(storage::list_all_networks))
        .route(
            "/hosts/{host}/networks",
            get(storage::list_networks).post(storage::create_network),
        )
        .route(
            "/hosts/{host}/networks/prune",
            post(storage::prune_networks),
        )
        .route(
            "/hosts/{host}/networks/{id}",
            get(storage::inspect_network).delete(storage::remove_network),
        )
        .route(
            "/hosts/{host}/networks/{id}/connect",
            post(storage::connect),
        )
        .route(
            "/hosts/{host}/networks/{id}/disconnect",
            post(storage::disconnect),
        )
        .route("/openapi.json", get(openapi))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint")
        })
        .layer(no_store())
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
/// the general body limit and count bytes against `Settings::upload_limit` themselves.
pub fn uploads() -> Router<AppState> {
    Router::new()
        .route(
            "/hosts/{host}/containers/{id}/archive",
            put(container_files::upload),
        )
        .route("/hosts/{host}/images/load", post(images::load))
        .route("/hosts/{host}/images/import", post(images::import))
        .layer(no_store())
}

async fn openapi() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        include_str!("../openapi.json"),
    )
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
