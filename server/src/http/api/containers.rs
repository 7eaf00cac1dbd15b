//! Containers: lists (one host or every visible host), inspect, lifecycle actions, run and
//! recreate. Each handler reads the request and calls one use case (`backend::ops`).

use super::{Body, Params};
use crate::http::{ApiError, ErrorResponse};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use app::model::containers::{
    BulkError, BulkRequest, BulkResult, BulkResults, CarryOver, ContainerDetail,
    ContainerListParams, ContainerSummary, Created, RecreateRequest, RenameRequest, RunSpec,
};
use backend::ops::containers::{Lifecycle, Recreate};

use crate::http::auth::Caller;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

/// `GET /api/v1/containers`: across every host the caller may view, as a JSON array (api.md:
/// lists are arrays). A host that does not answer is skipped, and named in the
/// `X-Capstan-Unreachable` header (comma-separated slugs; `/api/v1/hosts` says why).
#[utoipa::path(
    get,
    path = "/containers",
    operation_id = "containers.list_all",
    tag = "containers",
    summary = "Containers across every host the caller may see (each item has host); hosts that did not answer are named in the X-Capstan-Unreachable header",
    params(ContainerListParams),
    responses(
        (status = 200, description = "ok", body = Vec<ContainerSummary>),
        (status = 404, description = "no such host or object (or not visible to the caller)", body = ErrorResponse),
        (status = 422, description = "invalid filter", body = ErrorResponse),
    ),
)]
pub async fn list_all(
    State(state): State<AppState>,
    Caller(c): Caller,
    Params(params): Params<ContainerListParams>,
) -> ApiResult<Response> {
    let query = params.to_query()?;
    // Written straight from the engines' answers, like the one-host list below.
    let fleet = state.ops().containers_json(&c, &query).await?;
    let unreachable: Vec<String> = fleet.unreachable.into_iter().map(|n| n.host).collect();
    Ok(super::with_unreachable(
        super::json_bytes(fleet.json),
        &unreachable,
    ))
}

/// `GET /api/v1/hosts/{host}/containers`.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers",
    operation_id = "containers.list",
    tag = "containers",
    summary = "Containers of one host",
    params(("host" = String, Path, description = "the host's slug"), ContainerListParams),
    responses(
        (status = 200, description = "ok", body = Vec<ContainerSummary>),
        (status = 422, description = "invalid filter", body = ErrorResponse),
        (status = 502, description = "engine unreachable", body = ErrorResponse),
        (status = 504, description = "engine timeout", body = ErrorResponse),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Params(params): Params<ContainerListParams>,
) -> ApiResult<Response> {
    let query = params.to_query()?;
    // Written straight from the engine's answer, in the shape of `ContainerSummary` (the test
    // below holds the two together).
    Ok(super::json_bytes(
        state.ops().containers_on_json(&c, &host, &query).await?,
    ))
}

/// `GET /api/v1/hosts/{host}/containers/{id}`.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}",
    operation_id = "containers.inspect",
    tag = "containers",
    summary = "Inspect a container",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = ContainerDetail),
    ),
)]
pub async fn inspect(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<ContainerDetail>> {
    let seen = state.ops().container(&c, &host, &id).await?;
    Ok(Json(ContainerDetail::new(host, seen.detail)))
}

/// `GET /api/v1/hosts/{host}/containers/{id}/spec`: the container's configuration as a run
/// spec, to prefill the run form (duplicate / edit).
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/spec",
    operation_id = "containers.run_spec",
    tag = "containers",
    summary = "The container as a RunSpec, to prefill duplicate/edit",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = RunSpec),
    ),
)]
pub async fn run_spec(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<RunSpec>> {
    Ok(Json(state.ops().container_spec(&c, &host, &id).await?))
}

/// `POST /api/v1/containers/bulk`: one action on up to 200 containers of any hosts the caller
/// may act on. Each target is authorized, done and audited on its own (one row each, named like
/// the single action); the answer is 200 with every target's result in the order asked.
#[utoipa::path(
    post,
    path = "/containers/bulk",
    operation_id = "containers.bulk",
    tag = "containers",
    summary = "One action on many containers, across hosts; a result per target",
    request_body = BulkRequest,
    responses(
        (status = 200, description = "every target's result (status 204 when done)", body = BulkResults),
        (status = 422, description = "invalid action or targets", body = ErrorResponse),
    ),
)]
pub async fn bulk(
    State(state): State<AppState>,
    Caller(c): Caller,
    Body(req): Body<BulkRequest>,
) -> ApiResult<Json<BulkResults>> {
    let act = backend::ops::containers::BulkAct::from_words(
        req.action.trim(),
        req.t,
        req.signal,
        req.force,
        req.volumes,
    )?;
    let pairs: Vec<(String, String)> = req
        .targets
        .iter()
        .map(|t| (t.host.clone(), t.id.clone()))
        .collect();
    let outcomes = state.ops().bulk(&c, &act, &pairs).await?;
    let results: Vec<BulkResult> = req
        .targets
        .into_iter()
        .zip(outcomes)
        .map(|(t, r)| match r {
            Ok(()) => BulkResult {
                host: t.host,
                id: t.id,
                status: 204,
                error: None,
            },
            Err(e) => {
                let (status, code) = e.http_status();
                BulkResult {
                    host: t.host,
                    id: t.id,
                    status,
                    error: Some(BulkError {
                        code: code.to_string(),
                        message: e.public_message(),
                        field: e.field().map(str::to_string),
                    }),
                }
            }
        })
        .collect();
    let failed = results.iter().filter(|r| r.error.is_some()).count();
    Ok(Json(BulkResults { results, failed }))
}

/// `GET /api/v1/hosts/{host}/containers/{id}/carry-over`: what an edit or a recreate cannot
/// take to the new container (its own files outside volumes, addresses the engine gave it, its
/// id and logs), in words to read before confirming.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/carry-over",
    operation_id = "containers.carry_over",
    tag = "containers",
    summary = "What an edit cannot take along",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = CarryOver),
    ),
)]
pub async fn carry_over(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Json<CarryOver>> {
    Ok(Json(
        state.ops().container_carry_over(&c, &host, &id).await?,
    ))
}

/// `POST /api/v1/hosts/{host}/containers` → 201 `{id, name, warnings}`.
#[utoipa::path(
    post,
    path = "/hosts/{host}/containers",
    operation_id = "containers.create",
    tag = "containers",
    summary = "Create a container (manager), pulling the image when missing; start with \"start\": true. A failed start leaves no container",
    params(("host" = String, Path, description = "the host's slug")),
    request_body = RunSpec,
    responses(
        (status = 201, description = "ok", body = Created),
        (status = 409, description = "name or port in use", body = ErrorResponse),
        (status = 502, description = "engine error", body = ErrorResponse),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
    Body(spec): Body<RunSpec>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let created = state.ops().create_container(&c, &host, &spec).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// `POST .../{id}/recreate` → 201 `{id, name, warnings}` of the new container.
///
/// Without a body: recreated with its own settings and the image pulled again. With a JSON body
/// `{"spec": <RunSpec>, "pull": bool}`: edited, i.e. replaced under the same name by a container
/// made from `spec` (see [`RecreateRequest`]); nothing is touched when the spec is refused
/// (422 naming the field, 403 naming the guardrail), and a failure later puts the old container
/// back.
#[utoipa::path(
    post,
    path = "/hosts/{host}/containers/{id}/recreate",
    operation_id = "containers.recreate",
    tag = "containers",
    summary = "Recreate (manager): without a body, pull the image again and recreate with the same configuration, name and volumes; with {spec, pull}, edit: replace the container under its name with one made from spec (validated and guardrailed first; rolled back on failure)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    request_body(content = Option<RecreateRequest>, description = "absent: recreate as is; {spec, pull}: edit"),
    responses(
        (status = 201, description = "ok", body = Created),
        (status = 409, description = "conflict", body = ErrorResponse),
        (status = 422, description = "invalid field (the message names it)", body = ErrorResponse),
    ),
)]
pub async fn recreate(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    request: axum::extract::Request,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let body = recreate_body(request).await?;
    let how = match body.spec {
        Some(spec) => Recreate::Edit {
            spec: Box::new(spec),
            pull: body.pull.unwrap_or(false),
        },
        None if body.pull == Some(false) => {
            return Err(backend::Error::invalid("pull", "a recreate without a spec always pulls the image again; send a spec to edit without pulling").into())
        }
        None => Recreate::Same,
    };
    let created = state.ops().recreate_container(&c, &host, &id, &how).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The most a recreate body may hold: a run spec is small.
const RECREATE_BODY_LIMIT: usize = 256 * 1024;

/// The recreate body, which is optional: an empty body is `{}`.
async fn recreate_body(request: axum::extract::Request) -> ApiResult<RecreateRequest> {
    use axum::extract::FromRequest;
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, RECREATE_BODY_LIMIT)
        .await
        .map_err(|_| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "the request body is too large",
            )
        })?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(RecreateRequest::default());
    }
    let request = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
    let Body(body) = Body::<RecreateRequest>::from_request(request, &()).await?;
    Ok(body)
}

fn done() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// One lifecycle action through its use case; 204 when it is done.
async fn act(
    state: &AppState,
    c: &backend::ops::Caller,
    (host, id): (&str, &str),
    what: Lifecycle,
) -> ApiResult<Response> {
    state.ops().lifecycle(c, host, id, &what).await?;
    Ok(done())
}

fn flag(field: &str, value: Option<&str>) -> backend::Result<bool> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None | Some("false" | "0" | "no") => Ok(false),
        Some("true" | "1" | "yes") => Ok(true),
        Some(_) => Err(backend::Error::invalid(field, "must be true or false")),
    }
}

fn seconds(value: Option<&str>) -> backend::Result<Option<i64>> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            backend::Error::invalid("t", "seconds to wait, from 0 to 3600 (-1 waits forever)")
        }),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WaitParams {
    t: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct KillParams {
    signal: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RemoveParams {
    #[param(value_type = Option<bool>)]
    force: Option<String>,
    #[param(value_type = Option<bool>)]
    volumes: Option<String>,
}

#[utoipa::path(
    post,
    path = "/hosts/{host}/containers/{id}/start",
    operation_id = "containers.start",
    tag = "containers",
    summary = "start (operator); an already satisfied start is not an error",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "not possible in the container's state", body = ErrorResponse),
        (status = 422, description = "invalid parameter", body = ErrorResponse),
    ),
)]
pub async fn start(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    act(&state, &c, (&host, &id), Lifecycle::Start).await
}

#[utoipa::path(
    post,
    path = "/hosts/{host}/containers/{id}/stop",
    operation_id = "containers.stop",
    tag = "containers",
    summary = "stop (operator); an already satisfied stop is not an error",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), WaitParams),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "not possible in the container's state", body = ErrorResponse),
        (status = 422, description = "invalid parameter", body = ErrorResponse),
    ),
)]
pub async fn stop(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(p): Params<WaitParams>,
) -> ApiResult<Response> {
    let t = seconds(p.t.as_deref())?;
    act(&state, &c, (&host, &id), Lifecycle::Stop(t)).await
}

#[utoipa::path(
    post,
    path = "/hosts/{host}/containers/{id}/restart",
    operation_id = "containers.restart",
    tag = "containers",
    summary = "restart (operator); an already satisfied restart is not an error",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), WaitParams),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "not possible in the container's state", body = ErrorResponse),
        (status = 422, description = "invalid parameter", body = ErrorResponse),
    ),
)]
pub async fn restart(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(p): Params<WaitParams>,
) -> ApiResult<Response> {
    let t = seconds(p.t.as_deref())?;
    act(&state, &c, (&host, &id), Lifecycle::Restart(t)).await
}

#[utoipa::path(
    post,
    path = "/hosts/{host}/containers/{id}/kill",
    operation_id = "containers.kill",
    tag = "containers",
    summary = "kill (operator); an already satisfied kill is not an error",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), KillParams),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "not possible in the container's state", body = ErrorResponse),
        (status = 422, description = "invalid parameter", body = ErrorResponse),
    ),
)]
pub async fn kill(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(p): Params<KillParams>,
) -> ApiResult<Response> {
    act(&state, &c, (&host, &id), Lifecycle::Kill(p.signal)).await
}

#[utoipa::path(
    post,
    path = "/hosts/{host}/containers/{id}/pause",
    operation_id = "containers.pause",
    tag = "containers",
    summary = "pause (operator); an already satisfied pause is not an error",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "not possible in the container's state", body = ErrorResponse),
        (status = 422, description = "invalid parameter", body = ErrorResponse),
    ),
)]
pub async fn pause(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    act(&state, &c, (&host, &id), Lifecycle::Pause).await
}

#[utoipa::path(
    post,
    path = "/hosts/{host}/containers/{id}/unpause",
    operation_id = "containers.unpause",
    tag = "containers",
    summary = "unpause (operator); an already satisfied unpause is not an error",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "not possible in the container's state", body = ErrorResponse),
        (status = 422, description = "invalid parameter", body = ErrorResponse),
    ),
)]
pub async fn unpause(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    act(&state, &c, (&host, &id), Lifecycle::Unpause).await
}

#[utoipa::path(
    post,
    path = "/hosts/{host}/containers/{id}/rename",
    operation_id = "containers.rename",
    tag = "containers",
    summary = "Rename (manager)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    request_body = RenameRequest,
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "name in use", body = ErrorResponse),
        (status = 422, description = "invalid name", body = ErrorResponse),
    ),
)]
pub async fn rename(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Body(body): Body<RenameRequest>,
) -> ApiResult<Response> {
    state
        .ops()
        .rename_container(&c, &host, &id, &body.name)
        .await?;
    Ok(done())
}

/// `DELETE .../{id}?force=&volumes=`.
#[utoipa::path(
    delete,
    path = "/hosts/{host}/containers/{id}",
    operation_id = "containers.remove",
    tag = "containers",
    summary = "Remove a container (manager)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), RemoveParams),
    responses(
        (status = 204, description = "ok"),
        (status = 409, description = "running (use force)", body = ErrorResponse),
    ),
)]
pub async fn remove(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(p): Params<RemoveParams>,
) -> ApiResult<Response> {
    let force = flag("force", p.force.as_deref())?;
    let volumes = flag("volumes", p.volumes.as_deref())?;
    state
        .ops()
        .remove_container(&c, &host, &id, force, volumes)
        .await?;
    Ok(done())
}

#[cfg(test)]
mod tests {
    use app::model::containers::ContainerSummary;

    /// The one-host list is written from the engine's answer without `ContainerSummary`; it
    /// must read exactly like the summaries every other list answers with.
    #[test]
    fn the_one_host_list_is_written_like_container_summaries() {
        let body = br#"[
          {"Id":"abc","Names":["/web","/other/web-alias"],"Image":"busybox:latest","ImageID":"sha256:1",
           "Command":"sh -c \"httpd -f\" \u00e9","Created":1700000000,
           "Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
                    {"IP":"::","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
                    {"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
                    {"PrivatePort":53,"Type":"udp"},{"IP":"","PrivatePort":9,"PublicPort":0,"Type":""}],
           "Labels":{"com.docker.compose.project":"shop","b":"2","a":"1\n"},
           "State":"running","Status":"Up 3 minutes (healthy)",
           "HostConfig":{"NetworkMode":"default"},
           "NetworkSettings":{"Networks":{"zeta":{"IPAddress":"172.18.0.2","Aliases":null},"bridge":{}}},
           "Mounts":[{"Type":"volume","Name":"data","Destination":"/data"},{"Type":"bind"}]},
          {"Id":"def","Names":null,"Image":"x","ImageID":"sha256:2","Command":"true","Created":1,
           "Ports":null,"Labels":null,"State":"exited","Status":"Exited (0) 2 minutes ago",
           "NetworkSettings":{"Networks":null},"Mounts":null,"SizeRw":12},
          {"Id":"ghi","Names":["/api"],"Image":"y","State":"created","Status":"Created",
           "Health":{"Status":"starting"},"Created":5}
        ]"#;
        for sort in [None, Some("created"), Some("state")] {
            let query = backend::engine::ListQuery::parse(Some("true"), None, None, None, sort)
                .expect("query");
            let written = backend::engine::container_list::json_for_host(body, "h-1", &query)
                .expect("written");
            let written: serde_json::Value = serde_json::from_slice(&written).expect("JSON");
            let mut owned = backend::engine::container_list::parse(body)
                .expect("parsed")
                .into_iter()
                .map(backend::engine::ContainerSummary::from)
                .collect::<Vec<_>>();
            query.sort_by(&mut owned, |c| (c, ""));
            let summaries: Vec<ContainerSummary> = owned
                .into_iter()
                .map(|c| ContainerSummary::new("h-1", c))
                .collect();
            assert_eq!(
                written,
                serde_json::to_value(&summaries).expect("JSON"),
                "sort {sort:?}"
            );
        }
        let query =
            backend::engine::ListQuery::parse(None, None, Some("WEB"), None, None).expect("query");
        let written =
            backend::engine::container_list::json_for_host(body, "h-1", &query).expect("written");
        let written: Vec<ContainerSummary> = serde_json::from_slice(&written).expect("summaries");
        assert_eq!(
            written.iter().map(|c| c.name.as_str()).collect::<Vec<_>>(),
            ["web"]
        );

        // The fleet-wide list: the same containers on two hosts (the host breaks every tie);
        // a host whose answer is not a list cannot give its share.
        use backend::engine::container_list::{json_for_hosts, HostShare};
        let other = br#"[{"Id":"xyz","Names":["/web"],"Image":"busybox","State":"paused","Status":"Up (Paused)","Created":1700000000},
                         {"Id":"zzz","Names":["/zed"],"Image":"y","State":"running","Status":"Up","Created":3}]"#;
        let answers: [(&str, &[u8]); 2] = [("h-2", other), ("h-1", body)];
        for sort in [None, Some("created"), Some("state")] {
            let query = backend::engine::ListQuery::parse(Some("true"), None, None, None, sort)
                .expect("query");
            assert!(HostShare::read(b"<html>proxy</html>", "h-3", &query).is_err());
            assert_eq!(json_for_hosts::<&str>(&[], &query), b"[]");
            let shares: Vec<(&str, HostShare)> = answers
                .iter()
                .map(|(host, body)| (*host, HostShare::read(body, host, &query).expect("share")))
                .collect();
            let written: serde_json::Value =
                serde_json::from_slice(&json_for_hosts(&shares, &query)).expect("JSON");
            let mut owned: Vec<(&str, backend::engine::ContainerSummary)> = answers
                .iter()
                .flat_map(|(host, body)| {
                    backend::engine::container_list::summaries(body, &query)
                        .expect("parsed")
                        .into_iter()
                        .map(move |c| (*host, c))
                })
                .collect();
            query.sort_by(&mut owned, |(host, c)| (c, host));
            let summaries: Vec<ContainerSummary> = owned
                .into_iter()
                .map(|(host, c)| ContainerSummary::new(host, c))
                .collect();
            assert_eq!(summaries.len(), 5);
            assert_eq!(
                written,
                serde_json::to_value(&summaries).expect("JSON"),
                "fleet, sort {sort:?}"
            );
        }
    }
}
