//! The OpenAPI document of `/api/v1`, built from the same `#[utoipa::path]` declarations the
//! router is made of ([`super::api_routes`]): a route cannot be served undocumented, and a
//! documented schema is the type the handler really reads or writes.

use std::sync::LazyLock;

use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Capstan API",
        version = "1",
        description = "The public HTTP surface of Capstan. Authenticate with the session cookie \
from POST /api/v1/session or with `Authorization: Bearer <token>`. Errors are \
{\"error\": {\"code\", \"message\", \"field\"?}}; 401 not signed in, 403 not allowed, 404 not \
found (also a host you may not see), 409 conflict, 422 invalid field (named in `field`), \
429 throttled (Retry-After)."
    ),
    modifiers(&Schemes),
    security(("token" = []), ("session" = [])),
    tags(
        (name = "account", description = "Setup, sign-in, the caller's own account and API tokens"),
        (name = "users", description = "Accounts and their per-host roles (admin)"),
        (name = "teams", description = "Teams of users (admin)"),
        (name = "access", description = "Per-host guardrails for non-admins (admin)"),
        (name = "audit", description = "The audit trail (admin)"),
        (name = "hosts", description = "Docker engines: status, facts, and the admin's registry of them"),
        (name = "containers", description = "Containers: lists, lifecycle, run, files"),
        (name = "live", description = "Logs, stats, events (SSE) and the terminal (WebSocket)"),
        (name = "images", description = "Images: pull, tag, remove, save, load, import, search"),
        (name = "volumes", description = "Volumes"),
        (name = "networks", description = "Networks and their containers"),
        (name = "registries", description = "Registry credentials (admin)"),
        (name = "system", description = "Health and this document"),
    )
)]
struct ApiDoc;

struct Schemes;

impl utoipa::Modify for Schemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token (`cap_…`) from POST /api/v1/tokens"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                "capstan_session",
                "The session cookie POST /api/v1/session sets",
            ))),
        );
    }
}

/// A file's bytes in a request or an answer (a tar archive, an image).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct Binary(pub Vec<u8>);

/// The whole document: this process's routes as declared, with the refusals every door shares.
pub fn document() -> serde_json::Value {
    let (_, routes) = super::api_routes(0).split_for_parts();
    let mut doc = ApiDoc::openapi();
    doc.merge(routes);
    // Serialising a document of plain maps and strings cannot fail.
    let mut doc = serde_json::to_value(doc).unwrap_or_default();
    shared_refusals(&mut doc);
    doc
}

/// The answers that come from the shared parts of every door rather than from one handler:
/// the sign-in and policy check (401, 403), the extractors (a path segment that is not a
/// number, a query string or JSON body that does not fit), the host lookup (404) and the engine
/// behind it (502, 504). Handlers declare what is theirs (201, 409, their 422s, 429).
fn shared_refusals(doc: &mut serde_json::Value) {
    use serde_json::Value;
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    for (path, item) in paths.iter_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for (method, op) in item.iter_mut() {
            let add = refusals(path, method, op);
            let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else {
                continue;
            };
            for (status, description) in add {
                responses.entry(status.to_string()).or_insert_with(|| {
                    serde_json::json!({
                        "description": description,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
                    })
                });
            }
        }
    }
}

fn refusals(path: &str, method: &str, op: &serde_json::Value) -> Vec<(u16, &'static str)> {
    let mut add = Vec::new();
    if op.get("security") != Some(&serde_json::json!([{}])) {
        add.push((401, "not signed in (no session or token, or it has ended)"));
        add.push((403, "not allowed for the caller's role"));
    }
    let params = op.get("parameters").and_then(serde_json::Value::as_array);
    let has = |place: &str, integer: bool| {
        params.is_some_and(|ps| {
            ps.iter()
                .any(|p| p["in"] == place && (!integer || p["schema"]["type"] == "integer"))
        })
    };
    if has("path", true) {
        add.push((400, "a path segment is not a number"));
    }
    if has("query", false) {
        add.push((
            422,
            "a query parameter's value does not fit its type or rules",
        ));
    }
    if has("path", false) {
        add.push((404, "no such host or object, or not visible to the caller"));
        add.push((
            422,
            "the engine refused a name, id or reference in the path as malformed",
        ));
    }
    if op
        .pointer("/requestBody/content/application~1json")
        .is_some()
    {
        add.push((400, "the body is not valid JSON"));
        add.push((413, "the body is too large"));
        add.push((415, "the body is not sent as application/json"));
        add.push((422, "a field does not fit (named in `field`)"));
    }
    if reaches_engine(path, method) {
        add.push((502, "the host's engine could not be reached, or failed"));
        add.push((504, "the host's engine did not answer in time"));
    }
    add
}

/// Whether an operation calls the host's engine (and so may meet it down or slow). The host
/// registry's own records (settings, grants, guardrails, removal) do not.
fn reaches_engine(path: &str, method: &str) -> bool {
    let Some(rest) = path.strip_prefix("/api/v1/hosts/{host}") else {
        return false;
    };
    let records_only = matches!(rest, "/settings" | "/grants" | "/guardrails");
    let removal = rest.is_empty() && method == "delete";
    !(records_only || removal)
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| document().to_string());

/// The document as served, made once per process.
pub fn served() -> &'static str {
    DOCUMENT.as_str()
}

/// The served document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "system.openapi",
    tag = "system",
    summary = "This OpenAPI document",
    security(()),
    responses((status = 200, description = "the document", body = serde_json::Value)),
)]
pub async fn serve() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], served())
}
