//! The audit middleware: every state-changing request (REST and server fns), every download or
//! terminal opened, every sign-in and sign-out and every denial becomes one audit row, written
//! after the response by the audit log's own task so the request never waits for it.
//!
//! Host, object and action come from the request's path: `/api/v1/hosts/web-1/containers/db/stop`
//! is host `web-1`, object `db`, action `container.stop`, so "who stopped this container" is a
//! filter away. JSON and form bodies of ordinary requests are buffered (within the body limit;
//! 16 KiB for someone not signed in) for their parameters, with secret-looking values redacted;
//! uploads and other streams are never buffered. A row too big is cut down to the fields that
//! matter. A request that runs use cases (`backend::ops`) is recorded from their steps instead:
//! one row per operation, named the same from every door (a bulk action is one row per target).

use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use backend::audit::{redact, Outcome, Record};
use backend::auth::Identity;
use backend::ops::{Step, Trail};
use serde_json::{Map, Value};

use super::ApiError;
use crate::state::AppState;

/// Parameters bigger than this (as JSON) are cut down to the fields that matter
/// ([`KEPT_FIELDS`]) and the names of the others.
const MAX_PARAMS: usize = 8 * 1024;
/// The most bytes of a request body read for the log from someone not signed in: sign-in and
/// setup forms are small, and nobody unknown may make the server buffer megabytes.
pub const ANONYMOUS_BODY_LIMIT: usize = 16 * 1024;
/// What a truncated row keeps, each cut to size: what was run, what it mounts and may do, and
/// which objects it named.
const KEPT_FIELDS: &[&str] = &[
    "image",
    "name",
    "id",
    "host",
    "spec",
    "volumes",
    "volumes_from",
    "mounts",
    "privileged",
    "cap_add",
    "devices",
    "network",
    "pid",
    "ipc",
    "security_opt",
    "driver",
    "driver_opts",
    "targets",
    "action",
    "force",
    "created_id",
];
/// The most field names a truncated row lists.
const MAX_FIELD_NAMES: usize = 64;
/// Server fns that only read: not recorded unless refused. Every other server fn is recorded,
/// so a new one that changes something is never forgotten.
const READ_ONLY_FNS: &[&str] = &[
    "list_",
    "load_",
    "read_",
    "search_",
    "current_user",
    "host_",
    "image_detail",
    "log_sources",
    "run_hosts",
    "storage_hosts",
    "container_changes",
    "container_spec",
    "container_top",
];

/// Routes whose bodies stream (uploads): never buffered.
fn is_upload(method: &Method, path: &str) -> bool {
    (method == Method::PUT && path.ends_with("/archive"))
        || (method == Method::POST
            && (path.ends_with("/images/load") || path.ends_with("/images/import")))
}

/// What a request is, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Described {
    pub action: String,
    pub host: Option<String>,
    pub object: Option<String>,
    /// A server fn's name, when it is one.
    pub server_fn: Option<String>,
}

fn singular(kind: &str) -> String {
    match kind {
        "registries" => "registry".into(),
        "df" | "info" | "nodes" | "stats" | "events" | "settings" | "guardrails" | "access"
        | "session" | "setup" => kind.into(),
        k => k.strip_suffix('s').unwrap_or(k).into(),
    }
}

fn method_verb(method: &Method, collection: bool) -> &'static str {
    match *method {
        Method::GET if collection => "list",
        Method::GET => "get",
        Method::POST if collection => "create",
        Method::POST => "do",
        Method::PUT => "set",
        Method::PATCH => "update",
        Method::DELETE => "remove",
        _ => "other",
    }
}

/// Names the action, host and object of a request from its method and path.
pub fn describe(method: &Method, path: &str) -> Described {
    let mut out = Described {
        action: String::new(),
        host: None,
        object: None,
        server_fn: None,
    };
    let Some(rest) = path.strip_prefix("/api/") else {
        out.action = format!("page.{}", method_verb(method, false));
        return out;
    };
    let Some(rest) = rest.strip_prefix("v1/") else {
        let name = rest
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .trim_matches('/')
            .to_string();
        out.action = format!("fn.{name}");
        out.server_fn = Some(name);
        return out;
    };
    let segs: Vec<&str> = rest.split('/').filter(|s| !s.is_empty()).collect();
    match segs.as_slice() {
        ["session"] => {
            out.action = if method == Method::DELETE {
                "session.logout"
            } else {
                "session.login"
            }
            .into()
        }
        ["setup"] => out.action = "setup.complete".into(),
        ["me", "password"] => out.action = "account.password".into(),
        ["audit", "settings"] => {
            out.action = format!("audit.settings.{}", method_verb(method, false))
        }
        ["tokens"] => out.action = format!("token.{}", method_verb(method, true)),
        ["tokens", id] => {
            out.action = if method == Method::DELETE {
                "token.revoke".into()
            } else {
                format!("token.{}", method_verb(method, false))
            };
            out.object = Some((*id).into());
        }
        ["teams", id, "members", user] => {
            out.action = if method == Method::DELETE {
                "team.member.remove"
            } else {
                "team.member.add"
            }
            .into();
            out.object = Some(format!("{id}/{user}"));
        }
        ["hosts", host] => {
            out.action = format!("host.{}", method_verb(method, false));
            out.host = Some((*host).into());
        }
        ["hosts", host, kind] => {
            out.host = Some((*host).into());
            out.action = format!("{}.{}", singular(kind), method_verb(method, true));
        }
        ["hosts", host, kind, op]
            if (*kind == "images"
                && ["pull", "prune", "load", "import", "search"].contains(op))
                || (["volumes", "networks"].contains(kind) && *op == "prune") =>
        {
            out.host = Some((*host).into());
            out.action = format!("{}.{op}", singular(kind));
        }
        ["hosts", host, kind, object, tail @ ..] => {
            out.host = Some((*host).into());
            out.object = Some((*object).into());
            let kind = singular(kind);
            out.action = match (tail, method.clone()) {
                ([], m) => format!("{kind}.{}", method_verb(&m, false)),
                (["archive"], Method::GET) => format!("{kind}.download"),
                (["archive"], Method::PUT) => format!("{kind}.upload"),
                (tail, _) => format!("{kind}.{}", tail.join(".")),
            };
        }
        [kind] => out.action = format!("{}.{}", singular(kind), method_verb(method, true)),
        [kind, object, tail @ ..] => {
            out.object = Some((*object).into());
            out.action = if tail.is_empty() {
                format!("{}.{}", singular(kind), method_verb(method, false))
            } else {
                format!("{}.{}", singular(kind), tail.join("."))
            };
        }
        [] => out.action = "api.other".into(),
    }
    out
}

fn is_download(method: &Method, path: &str) -> bool {
    method == Method::GET
        && path.starts_with("/api/v1/hosts/")
        && (path.ends_with("/archive")
            || path.ends_with("/export")
            || path.ends_with("/exec")
            || path.ends_with("/logs/download"))
}

fn query_params(query: Option<&str>) -> Map<String, Value> {
    let mut map = Map::new();
    if let Some(q) = query {
        for (k, v) in form_pairs(q.as_bytes()) {
            map.insert(k, Value::String(v));
        }
    }
    map
}

fn form_pairs(bytes: &[u8]) -> Vec<(String, String)> {
    let uri = format!("/?{}", String::from_utf8_lossy(bytes));
    uri.parse::<axum::http::Uri>()
        .ok()
        .and_then(|u| axum::extract::Query::<Vec<(String, String)>>::try_from_uri(&u).ok())
        .map(|q| q.0)
        .unwrap_or_default()
}

fn body_params(content_type: &str, bytes: &[u8], into: &mut Map<String, Value>) {
    if bytes.is_empty() {
        return;
    }
    if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(bytes) {
            Ok(Value::Object(m)) => into.extend(m),
            Ok(other) => {
                into.insert("body".into(), other);
            }
            Err(_) => {}
        }
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        for (k, v) in form_pairs(bytes) {
            into.insert(k, Value::String(v));
        }
    }
}

/// A value cut to size: strings to 256 characters, lists to 32 items, objects to 32 fields,
/// four levels deep.
fn trimmed(v: &Value, depth: usize) -> Value {
    match v {
        Value::String(s) if s.len() > 256 => {
            Value::String(format!("{}…", s.chars().take(256).collect::<String>()))
        }
        Value::Array(a) if depth < 4 => {
            Value::Array(a.iter().take(32).map(|x| trimmed(x, depth + 1)).collect())
        }
        Value::Object(m) if depth < 4 => Value::Object(
            m.iter()
                .take(32)
                .map(|(k, x)| (k.clone(), trimmed(x, depth + 1)))
                .collect(),
        ),
        Value::Array(_) | Value::Object(_) => Value::String("…".into()),
        other => other.clone(),
    }
}

fn bounded(params: Value) -> Value {
    if params.to_string().len() <= MAX_PARAMS {
        return params;
    }
    let Some(map) = params.as_object() else {
        return serde_json::json!({ "truncated": true });
    };
    let mut out = Map::new();
    out.insert("truncated".into(), Value::Bool(true));
    for key in KEPT_FIELDS {
        if let Some(v) = map.get(*key) {
            let mut v = trimmed(v, 0);
            if v.to_string().len() > MAX_PARAMS / 4 {
                v = trimmed(&v, 2);
            }
            out.insert((*key).into(), v);
        }
    }
    let names: Vec<Value> = map
        .keys()
        .take(MAX_FIELD_NAMES)
        .cloned()
        .map(Value::String)
        .collect();
    out.insert("fields".into(), Value::Array(names));
    if map.len() > MAX_FIELD_NAMES {
        out.insert(
            "more_fields".into(),
            Value::from(map.len() - MAX_FIELD_NAMES),
        );
    }
    Value::Object(out)
}

/// The row of one use case's step: what it did, by whom, from where.
fn step_record(
    step: Step,
    who: Option<&backend::policy::Principal>,
    client: Option<String>,
) -> Record {
    let mut params = step.params;
    redact(&mut params);
    Record {
        at: backend::store::now(),
        user_id: who.map(|p| p.user_id),
        username: who.map(|p| p.username.clone()),
        client,
        host: step.host,
        object: step.object.map(|o| o.chars().take(256).collect()),
        action: step.action.to_owned(),
        params: bounded(params),
        status: step.status,
        outcome: step.outcome,
    }
}

fn text_param(params: &Map<String, Value>, key: &str) -> Option<String> {
    params
        .get(key)
        .and_then(Value::as_str)
        .map(|s| s.chars().take(256).collect())
}

/// The middleware. Runs inside `identify`, so the caller (if any) is known.
pub async fn record(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let is_api = path.starts_with("/api/");
    if !is_api {
        return next.run(req).await;
    }
    let described = describe(&method, &path);
    let read_only_fn = described
        .server_fn
        .as_deref()
        .is_some_and(|n| READ_ONLY_FNS.iter().any(|p| n.starts_with(p)));
    let mutating = !matches!(method, Method::GET | Method::HEAD | Method::OPTIONS);
    let wanted = (mutating && !read_only_fn) || is_download(&method, &path);

    let who = req
        .extensions()
        .get::<Identity>()
        .map(|i| i.principal.clone());
    let client = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0)
        .or_else(|| {
            req.extensions()
                .get::<axum::extract::connect_info::MockConnectInfo<SocketAddr>>()
                .map(|c| c.0)
        })
        .map(|a| a.ip().to_string());
    // The use cases the request runs add their steps here; without any, the row is made from
    // the path.
    let trail = Trail::default();
    let mut req = req;
    req.extensions_mut().insert(trail.clone());
    let mut params = query_params(req.uri().query());

    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let bufferable = mutating
        && !is_upload(&method, &path)
        && (content_type.starts_with("application/json")
            || content_type.starts_with("application/x-www-form-urlencoded"));
    let req = if bufferable {
        let (parts, body) = req.into_parts();
        let limit = if who.is_some() {
            state.settings.body_limit
        } else {
            ANONYMOUS_BODY_LIMIT.min(state.settings.body_limit)
        };
        let bytes = match axum::body::to_bytes(body, limit).await {
            Ok(b) => b,
            Err(_) => {
                let res = ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "too_large",
                    "the request body is too large",
                )
                .into_response();
                let r = make_record(
                    &described,
                    who.as_ref(),
                    client,
                    params,
                    res.status(),
                    false,
                );
                state.audit.record(r).await;
                return res;
            }
        };
        body_params(&content_type, &bytes, &mut params);
        Request::from_parts(parts, Body::from(bytes))
    } else {
        req
    };

    let res = next.run(req).await;
    let status = res.status();
    let steps = trail.take();
    if !steps.is_empty() {
        for step in steps {
            state
                .audit
                .record(step_record(step, who.as_ref(), client.clone()))
                .await;
        }
        return res;
    }
    let host = described
        .host
        .clone()
        .or_else(|| text_param(&params, "host"));
    // A host the caller may not see answers 404 exactly like a missing one: a denial all the same.
    let hidden_host = status == StatusCode::NOT_FOUND
        && host
            .as_deref()
            .is_some_and(|h| who.as_ref().is_some_and(|w| !w.can_see(h)));
    let denied = status == StatusCode::FORBIDDEN || hidden_host;
    if wanted || denied {
        let mut d = described;
        d.host = host;
        let r = make_record(&d, who.as_ref(), client, params, status, hidden_host);
        state.audit.record(r).await;
    }
    res
}

fn make_record(
    d: &Described,
    who: Option<&backend::policy::Principal>,
    client: Option<String>,
    mut params: Map<String, Value>,
    status: StatusCode,
    hidden_host: bool,
) -> Record {
    let login = matches!(
        d.action.as_str(),
        "session.login" | "fn.login" | "setup.complete" | "fn.setup"
    );
    let (user_id, username) = match who {
        Some(p) => (Some(p.user_id), Some(p.username.clone())),
        // Sign-ins (successful or not) name the account they tried.
        None if login => (None, text_param(&params, "username")),
        None => (None, None),
    };
    let object = d.object.clone().or_else(|| {
        d.server_fn
            .as_ref()
            .and_then(|_| text_param(&params, "id").or_else(|| text_param(&params, "name")))
    });
    let mut value = Value::Object(std::mem::take(&mut params));
    redact(&mut value);
    let outcome = if hidden_host {
        Outcome::Denied
    } else {
        Outcome::of_status(status.as_u16())
    };
    Record {
        at: backend::store::now(),
        user_id,
        username,
        client,
        host: d.host.clone(),
        object,
        action: d.action.clone(),
        params: bounded(value),
        status: status.as_u16(),
        outcome,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(method: Method, path: &str) -> (String, Option<String>, Option<String>) {
        let x = describe(&method, path);
        (x.action, x.host, x.object)
    }

    #[test]
    fn routes_name_their_action_host_and_object() {
        let s = |v: &str| Some(v.to_string());
        assert_eq!(
            d(Method::POST, "/api/v1/hosts/h1/containers/web/stop"),
            ("container.stop".into(), s("h1"), s("web"))
        );
        assert_eq!(
            d(Method::DELETE, "/api/v1/hosts/h1/containers/web"),
            ("container.remove".into(), s("h1"), s("web"))
        );
        assert_eq!(
            d(Method::POST, "/api/v1/hosts/h1/containers"),
            ("container.create".into(), s("h1"), None)
        );
        assert_eq!(
            d(Method::GET, "/api/v1/hosts/h1/containers/web/archive"),
            ("container.download".into(), s("h1"), s("web"))
        );
        assert_eq!(
            d(Method::PUT, "/api/v1/hosts/h1/containers/web/archive"),
            ("container.upload".into(), s("h1"), s("web"))
        );
        assert_eq!(
            d(Method::POST, "/api/v1/hosts/h1/images/pull"),
            ("image.pull".into(), s("h1"), None)
        );
        assert_eq!(
            d(Method::POST, "/api/v1/hosts/h1/volumes/prune"),
            ("volume.prune".into(), s("h1"), None)
        );
        assert_eq!(
            d(Method::PUT, "/api/v1/hosts/h1/grants"),
            ("grant.set".into(), s("h1"), None)
        );
        assert_eq!(
            d(Method::PATCH, "/api/v1/hosts/h1"),
            ("host.update".into(), s("h1"), None)
        );
        assert_eq!(
            d(Method::POST, "/api/v1/users"),
            ("user.create".into(), None, None)
        );
        assert_eq!(
            d(Method::DELETE, "/api/v1/users/4"),
            ("user.remove".into(), None, s("4"))
        );
        assert_eq!(
            d(Method::PUT, "/api/v1/teams/2/members/5"),
            ("team.member.add".into(), None, s("2/5"))
        );
        assert_eq!(
            d(Method::POST, "/api/v1/session"),
            ("session.login".into(), None, None)
        );
        assert_eq!(
            d(Method::DELETE, "/api/v1/session"),
            ("session.logout".into(), None, None)
        );
        assert_eq!(
            d(Method::POST, "/api/container_action12345678901234").0,
            "fn.container_action"
        );
    }

    #[test]
    fn secrets_in_bodies_are_redacted() {
        let mut p = Map::new();
        body_params("application/json", br#"{"username":"ann","password":"hunter2hunter2","tls":{"ca":"-----BEGIN X","key":"k"}}"#, &mut p);
        body_params(
            "application/x-www-form-urlencoded",
            b"new=abc&current=def&token_name=x",
            &mut p,
        );
        let mut v = Value::Object(p);
        redact(&mut v);
        assert_eq!(v["username"], "ann");
        assert_eq!(v["password"], "[redacted]");
        assert_eq!(v["tls"]["ca"], "[redacted]");
        assert_eq!(v["tls"]["key"], "[redacted]");
        assert_eq!(v["new"], "[redacted]");
        assert_eq!(v["current"], "[redacted]");
        assert_eq!(v["token_name"], "[redacted]");
    }
}
