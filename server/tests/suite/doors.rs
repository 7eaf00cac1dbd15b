//! Every door, every identity: one table lists every REST route (the API router and the
//! upload routes), every stream, every Leptos server fn and every page, with the gate api.md
//! prescribes for it; each identity knocks on each door and gets exactly the answer its role
//! calls for (401 not signed in, 403 signed in but not allowed, 404 for a host the caller may
//! not see — the same body as a host that does not exist — and admin-only doors 403 for
//! non-admins). The table must match the server: a route, server fn or page that it does not
//! list fails the test, and so does a listed one that no longer exists.
//!
//! "Allowed" is proven without destroying anything: calls name objects that do not exist
//! (`doors-none-…`) so the engine's own 404 answers, an admin acts on a host slug that does not
//! exist, and calls that would create or prune go to the test fleet's dead engine
//! (`stopped-engine`, 502 after the gate), so nothing is made on the shared engines.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use crate::common::*;
use axum::body::Body;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use backend::audit::{Entry, Filter};
use backend::policy::Role;
use http_body_util::BodyExt;
use serde_json::{json, Value};
use std::process::Command;
use tower::ServiceExt;

/// Engine a: where every role is granted.
const A: &str = "unix-engine";
/// Engine b: the only host of the "other host" user.
const B: &str = "tls-engine";
/// The fleet's dead engine: creates and prunes go here, past the gate, to a 502.
const DEAD: &str = "stopped-engine";
/// A slug no host has: admin-only host changes act on it.
const NO_HOST: &str = "doors-no-such-host";
/// A container, image, volume and network name no engine has.
const NONE: &str = "doors-none-7c1e";
/// A numeric id no user, team, token or registry has.
const NO_ID: &str = "999999";

/// Who may pass a door.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Gate {
    /// No sign-in needed; the answer for everyone (a bad bearer token still gets 401).
    Public(Open),
    /// Anyone signed in.
    Signed,
    /// Anyone signed in with a session: an API token gets 403 (minting tokens).
    Session,
    /// Admins only: 403 for everyone else signed in.
    Admin,
    /// At least this role on the door's host; no grant at all: 404 as if the host did not exist.
    Host(Role),
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Open {
    /// Passes (not 401/403).
    Pass,
    /// Always one of these statuses (setup once done: 409; a wrong sign-in: 401, or 429 once
    /// the address is throttled).
    Only(&'static [u16]),
}

/// Which host `{host}` names for a door.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Target {
    A,
    Dead,
    NoHost,
}

impl Target {
    fn slug(self) -> &'static str {
        match self {
            Target::A => A,
            Target::Dead => DEAD,
            Target::NoHost => NO_HOST,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Rest,
    ServerFn,
}

#[derive(Clone, Debug)]
enum Payload {
    Empty,
    Json(Value),
    Form(String),
    /// An upload's raw body.
    Bytes(&'static [u8]),
}

#[derive(Clone, Debug)]
struct Door {
    kind: Kind,
    method: Method,
    /// The route as the router spells it (`/hosts/{host}/containers/{id}/stop`), or the server
    /// fn's name.
    key: String,
    /// The request's path and query, `{host}` still to fill.
    uri: String,
    gate: Gate,
    target: Target,
    payload: Payload,
}

impl Door {
    fn json(mut self, v: Value) -> Door {
        self.payload = Payload::Json(v);
        self
    }
    fn bytes(mut self, b: &'static [u8]) -> Door {
        self.payload = Payload::Bytes(b);
        self
    }
    fn on(mut self, t: Target) -> Door {
        self.target = t;
        self
    }
    fn query(mut self, q: &str) -> Door {
        self.uri = format!("{}?{q}", self.uri);
        self
    }
}

/// A REST door; `{id}`, `{name}` and `{user_id}` are filled with things that do not exist.
fn rest(method: Method, key: &str, gate: Gate) -> Door {
    let id = if key.starts_with("/hosts/{host}/") {
        NONE
    } else {
        NO_ID
    };
    let uri = format!(
        "/api/v1{}",
        key.replace("{id}", id)
            .replace("{name}", NONE)
            .replace("{user_id}", NO_ID)
    );
    Door {
        kind: Kind::Rest,
        method,
        key: key.into(),
        uri,
        gate,
        target: Target::A,
        payload: Payload::Empty,
    }
}

/// A server fn door (its path is looked up at run time); `args` is its form body, with `{host}`.
fn sfn(name: &str, gate: Gate, args: &str) -> Door {
    Door {
        kind: Kind::ServerFn,
        method: Method::POST,
        key: name.into(),
        uri: String::new(),
        gate,
        target: Target::A,
        payload: Payload::Form(args.into()),
    }
}

/// A server fn that takes JSON.
fn sfn_json(name: &str, gate: Gate, args: Value) -> Door {
    sfn(name, gate, "").json(args)
}

const VIEW: Gate = Gate::Host(Role::Viewer);
const OPERATE: Gate = Gate::Host(Role::Operator);
const MANAGE: Gate = Gate::Host(Role::Manager);
const OPEN: Gate = Gate::Public(Open::Pass);

fn rest_doors() -> Vec<Door> {
    use Gate::{Admin, Public, Signed};
    use Method as M;
    let registry = env("CAPSTAN_TEST_REGISTRY");
    let absent = format!("{registry}/doors/absent-7c1e:1");
    let guardrails = json!({"privileged": false, "bind_mounts": "never", "bind_prefixes": [], "host_network": false,
        "host_pid": false, "host_ipc": false, "cap_add": false, "devices": false});
    vec![
        // Account and session.
        rest(M::POST, "/setup", Public(Open::Only(&[409])))
            .json(json!({"setup_token": "doors-wrong", "username": "doors-setup", "password": PW})),
        rest(M::POST, "/session", Public(Open::Only(&[401, 429])))
            .json(json!({"username": "doors-nobody", "password": "not anyone's password"})),
        rest(M::DELETE, "/session", OPEN),
        rest(M::GET, "/me", Signed),
        rest(M::POST, "/me/password", Signed)
            .json(json!({"current": "not the current password", "new": "another long enough password"})),
        rest(M::GET, "/tokens", Signed),
        rest(M::POST, "/tokens", Gate::Session).json(json!({"name": "doors"})),
        rest(M::DELETE, "/tokens/{id}", Signed),
        // Users, teams, audit: admins.
        rest(M::GET, "/users", Admin),
        rest(M::POST, "/users", Admin).json(json!({"username": "doors-made", "password": PW, "admin": false})),
        rest(M::GET, "/users/{id}", Admin),
        rest(M::PATCH, "/users/{id}", Admin).json(json!({"disabled": false})),
        rest(M::DELETE, "/users/{id}", Admin),
        rest(M::GET, "/teams", Admin),
        rest(M::POST, "/teams", Admin).json(json!({"name": "doors-team"})),
        rest(M::GET, "/teams/{id}", Admin),
        rest(M::PATCH, "/teams/{id}", Admin).json(json!({"name": "doors-team-2"})),
        rest(M::DELETE, "/teams/{id}", Admin),
        rest(M::PUT, "/teams/{id}/members/{user_id}", Admin),
        rest(M::DELETE, "/teams/{id}/members/{user_id}", Admin),
        rest(M::GET, "/audit", Admin),
        rest(M::GET, "/audit.csv", Admin),
        rest(M::GET, "/audit/settings", Admin),
        rest(M::PUT, "/audit/settings", Admin).json(json!({"retention_days": 90})),
        // Hosts.
        rest(M::GET, "/hosts", Signed),
        rest(M::POST, "/hosts", Admin)
            .json(json!({"slug": "doors-new", "name": "Doors", "url": env("CAPSTAN_TEST_REFUSED_URL")})),
        rest(M::GET, "/hosts/{host}", VIEW),
        rest(M::PATCH, "/hosts/{host}", Admin).on(Target::NoHost).json(json!({"name": "Doors"})),
        rest(M::DELETE, "/hosts/{host}", Admin).on(Target::NoHost),
        rest(M::GET, "/hosts/{host}/settings", Admin),
        rest(M::GET, "/hosts/{host}/info", VIEW),
        rest(M::GET, "/hosts/{host}/df", VIEW).on(Target::Dead),
        rest(M::GET, "/hosts/{host}/nodes", VIEW),
        rest(M::GET, "/hosts/{host}/grants", Admin),
        rest(M::PUT, "/hosts/{host}/grants", Admin).on(Target::NoHost).json(json!({"user": 999_999, "role": "viewer"})),
        rest(M::DELETE, "/hosts/{host}/grants", Admin).on(Target::NoHost).query("user=999999"),
        rest(M::GET, "/hosts/{host}/guardrails", Admin),
        rest(M::PUT, "/hosts/{host}/guardrails", Admin).on(Target::NoHost).json(guardrails),
        // Containers.
        rest(M::GET, "/containers", Signed),
        rest(M::GET, "/logs", VIEW).query(&format!("c={{host}}/{NONE}")),
        // Each target is judged on its own; the request itself is anyone's.
        rest(M::POST, "/containers/bulk", Signed)
            .json(json!({"action": "stop", "targets": [{"host": "{host}", "id": NONE}]})),
        rest(M::GET, "/hosts/{host}/containers", VIEW),
        rest(M::POST, "/hosts/{host}/containers", MANAGE).json(json!({"image": absent, "name": NONE})),
        rest(M::GET, "/hosts/{host}/containers/{id}", VIEW),
        rest(M::DELETE, "/hosts/{host}/containers/{id}", MANAGE),
        rest(M::GET, "/hosts/{host}/containers/{id}/spec", VIEW),
        rest(M::GET, "/hosts/{host}/containers/{id}/carry-over", VIEW),
        rest(M::POST, "/hosts/{host}/containers/{id}/start", OPERATE),
        rest(M::POST, "/hosts/{host}/containers/{id}/stop", OPERATE),
        rest(M::POST, "/hosts/{host}/containers/{id}/restart", OPERATE),
        rest(M::POST, "/hosts/{host}/containers/{id}/kill", OPERATE),
        rest(M::POST, "/hosts/{host}/containers/{id}/pause", OPERATE),
        rest(M::POST, "/hosts/{host}/containers/{id}/unpause", OPERATE),
        rest(M::POST, "/hosts/{host}/containers/{id}/rename", MANAGE).json(json!({"name": "doors-renamed"})),
        rest(M::POST, "/hosts/{host}/containers/{id}/recreate", MANAGE),
        rest(M::GET, "/hosts/{host}/containers/{id}/top", VIEW),
        rest(M::GET, "/hosts/{host}/containers/{id}/changes", VIEW),
        rest(M::POST, "/hosts/{host}/containers/{id}/commit", MANAGE).json(json!({"repo": "doors/none"})),
        rest(M::GET, "/hosts/{host}/containers/{id}/export", MANAGE),
        rest(M::GET, "/hosts/{host}/containers/{id}/archive", MANAGE).query("path=/etc"),
        rest(M::PUT, "/hosts/{host}/containers/{id}/archive", MANAGE).query("path=/etc").bytes(b""),
        rest(M::GET, "/hosts/{host}/containers/{id}/files", VIEW).query("path=/"),
        // Streams: the SSE follow of logs, stats, host and fleet events; the exec WebSocket.
        rest(M::GET, "/hosts/{host}/containers/{id}/logs", VIEW).query("follow=true"),
        rest(M::GET, "/hosts/{host}/containers/{id}/logs/download", VIEW),
        rest(M::GET, "/hosts/{host}/containers/{id}/stats", VIEW),
        rest(M::GET, "/hosts/{host}/containers/{id}/exec", MANAGE),
        rest(M::GET, "/hosts/{host}/stats", VIEW),
        rest(M::GET, "/hosts/{host}/events", VIEW),
        rest(M::GET, "/events", Signed),
        // Registries: admins.
        rest(M::GET, "/registries", Admin),
        rest(M::POST, "/registries", Admin)
            .json(json!({"server": "doors.invalid:5000", "username": "doors", "password": "doors-secret"})),
        rest(M::DELETE, "/registries/{id}", Admin),
        // Images.
        rest(M::GET, "/images", Signed),
        rest(M::GET, "/hosts/{host}/images", VIEW),
        rest(M::POST, "/hosts/{host}/images/pull", MANAGE).json(json!({"image": absent})),
        rest(M::POST, "/hosts/{host}/images/prune", MANAGE).on(Target::Dead),
        // An empty term: the gate first, then 422 (a real search would wait on the internet).
        rest(M::GET, "/hosts/{host}/images/search", VIEW).query("term="),
        rest(M::GET, "/hosts/{host}/images/{id}", VIEW),
        rest(M::DELETE, "/hosts/{host}/images/{id}", MANAGE),
        rest(M::GET, "/hosts/{host}/images/{id}/history", VIEW),
        rest(M::GET, "/hosts/{host}/images/{id}/export", MANAGE),
        rest(M::POST, "/hosts/{host}/images/{id}/tag", MANAGE).json(json!({"repo": "doors/none", "tag": "1"})),
        rest(M::POST, "/hosts/{host}/images/load", MANAGE).on(Target::Dead).bytes(b""),
        rest(M::POST, "/hosts/{host}/images/import", MANAGE).on(Target::Dead).query("repo=doors/none").bytes(b""),
        // Volumes and networks.
        rest(M::GET, "/volumes", Signed),
        rest(M::GET, "/hosts/{host}/volumes", VIEW),
        rest(M::POST, "/hosts/{host}/volumes", MANAGE).on(Target::Dead).json(json!({"name": NONE})),
        rest(M::POST, "/hosts/{host}/volumes/prune", MANAGE).on(Target::Dead),
        rest(M::GET, "/hosts/{host}/volumes/{name}", VIEW),
        rest(M::DELETE, "/hosts/{host}/volumes/{name}", MANAGE),
        rest(M::GET, "/networks", Signed),
        rest(M::GET, "/hosts/{host}/networks", VIEW),
        rest(M::POST, "/hosts/{host}/networks", MANAGE).on(Target::Dead).json(json!({"name": NONE})),
        rest(M::POST, "/hosts/{host}/networks/prune", MANAGE).on(Target::Dead),
        rest(M::GET, "/hosts/{host}/networks/{id}", VIEW),
        rest(M::DELETE, "/hosts/{host}/networks/{id}", MANAGE),
        rest(M::POST, "/hosts/{host}/networks/{id}/connect", MANAGE).json(json!({"container": NONE})),
        rest(M::POST, "/hosts/{host}/networks/{id}/disconnect", MANAGE).json(json!({"container": NONE})),
        rest(M::GET, "/openapi.json", OPEN),
    ]
}

fn fn_doors() -> Vec<Door> {
    use Gate::{Admin, Public, Signed};
    let on = |rest: &str| format!("host={{host}}&id={NONE}{rest}");
    let registry = env("CAPSTAN_TEST_REGISTRY");
    let refused = env("CAPSTAN_TEST_REFUSED_URL");
    vec![
        // Account and session.
        sfn("login", Public(Open::Only(&[401, 429])), "username=doors-nobody&password=not+anyone%27s+password"),
        sfn(
            "setup",
            Public(Open::Only(&[409])),
            "setup_token=doors-wrong&username=doors-setup&password=a+long+enough+password&confirm=a+long+enough+password",
        ),
        sfn("logout", OPEN, ""),
        sfn("current_user", Signed, ""),
        sfn("read_api_reference", Signed, ""),
        sfn(
            "change_password",
            Signed,
            "current=not+the+current+password&new=another+long+enough+password&confirm=another+long+enough+password",
        ),
        sfn("list_tokens", Signed, ""),
        sfn("create_token", Gate::Session, "name=doors&expires_days="),
        sfn("revoke_token", Signed, &format!("id={NO_ID}")),
        // Admin pages.
        sfn("list_audit", Admin, "filter[user]=&filter[host]=&filter[action]=&filter[outcome]=&filter[since]=&filter[until]="),
        sfn("load_audit_retention", Admin, ""),
        sfn("set_audit_retention", Admin, "days=90"),
        sfn("list_users", Admin, ""),
        sfn("create_user", Admin, "username=doors-made-fn&password=a+long+enough+password"),
        sfn("update_user", Admin, &format!("id={NO_ID}&disabled=false")),
        sfn("delete_user", Admin, &format!("id={NO_ID}")),
        sfn("list_access", Admin, ""),
        sfn("grant", Admin, &format!("host={NO_HOST}&user={NO_ID}&role=viewer")),
        sfn("revoke", Admin, &format!("host={NO_HOST}&user={NO_ID}")),
        sfn("list_teams", Admin, ""),
        sfn("create_team", Admin, "name=doors-team-fn"),
        sfn("rename_team", Admin, &format!("id={NO_ID}&name=doors-team-fn-2")),
        sfn("delete_team", Admin, &format!("id={NO_ID}")),
        sfn("add_team_member", Admin, &format!("team={NO_ID}&user={NO_ID}")),
        sfn("remove_team_member", Admin, &format!("team={NO_ID}&user={NO_ID}")),
        sfn("list_registries", Admin, ""),
        sfn("add_registry", Admin, "server=doors.invalid%3A5000&username=doors&password=doors-secret"),
        sfn("remove_registry", Admin, &format!("id={NO_ID}")),
        sfn("host_access", Admin, "host={host}"),
        sfn("set_host_grant", Admin, &format!("host={NO_HOST}&subject=user%3A{NO_ID}&role=viewer")),
        sfn("remove_host_grant", Admin, &format!("host={NO_HOST}&subject=user%3A{NO_ID}")),
        sfn(
            "save_guardrails",
            Admin,
            &format!("host={NO_HOST}&bind_mounts=never&bind_prefixes=&cap_add=&devices=&volume_drivers=&network_drivers="),
        ),
        sfn_json("test_host_connection", Admin, json!({"input": {"slug": "doors-new", "url": refused}})),
        sfn_json("add_host", Admin, json!({"input": {"slug": "doors-new", "url": refused}})),
        sfn("host_settings", Admin, "slug={host}"),
        sfn_json("update_host", Admin, json!({"slug": NO_HOST, "patch": {"name": "Doors"}})),
        sfn("remove_host", Admin, &format!("slug={NO_HOST}")),
        // Hosts and fleet-wide lists.
        sfn("list_hosts", Signed, "fresh=false"),
        sfn("host_detail", VIEW, "host={host}"),
        sfn("read_host_totals", VIEW, "host={host}"),
        sfn("host_containers", VIEW, "host={host}"),
        sfn("storage_hosts", Signed, ""),
        sfn("run_hosts", Signed, ""),
        sfn("list_images", Signed, ""),
        sfn("list_volumes", Signed, ""),
        sfn("list_networks", Signed, ""),
        // Containers.
        sfn("list_containers", VIEW, "host={host}"),
        sfn("load_container", VIEW, &on("")),
        sfn("container_spec", VIEW, &on("")),
        sfn("container_spec_carry_over", VIEW, &on("")),
        sfn("container_top", VIEW, &on("")),
        sfn("container_changes", VIEW, &on("")),
        sfn("list_files", VIEW, &on("&path=%2F")),
        sfn("log_sources", VIEW, &format!("cs[0]={{host}}%2F{NONE}")),
        sfn("container_action", OPERATE, &on("&action=stop")),
        sfn("remove_container", MANAGE, &on("&force=false&volumes=false")),
        sfn("rename_container", MANAGE, &on("&name=doors-renamed")),
        sfn("recreate_container", MANAGE, &on("")),
        sfn_json("commit_container", MANAGE, json!({"host": "{host}", "id": NONE, "request": {"repo": "doors/none"}})),
        sfn_json(
            "run_container",
            MANAGE,
            json!({"host": "{host}", "spec": {"image": format!("{registry}/doors/absent-7c1e:1"), "name": NONE}}),
        ),
        sfn_json(
            "edit_container",
            MANAGE,
            json!({"host": "{host}", "id": NONE, "spec": {"image": format!("{registry}/doors/absent-7c1e:1")}, "pull": false}),
        ),
        // Images, volumes, networks.
        sfn("image_detail", VIEW, &on("")),
        sfn("search_images", VIEW, "host={host}&term="),
        sfn("tag_image", MANAGE, &on("&repo=doors%2Fnone&tag=1")),
        sfn("remove_image", MANAGE, &on("&force=false")),
        sfn("prune_images", MANAGE, "host={host}").on(Target::Dead),
        sfn(
            "create_volume",
            MANAGE,
            &format!("host={{host}}&name={NONE}&driver=&driver_opts=&labels="),
        )
        .on(Target::Dead),
        sfn("remove_volume", MANAGE, &format!("host={{host}}&name={NONE}")),
        sfn("prune_volumes", MANAGE, "host={host}").on(Target::Dead),
        sfn(
            "create_network",
            MANAGE,
            &format!("host={{host}}&name={NONE}&driver=&subnet=&gateway=&labels="),
        )
        .on(Target::Dead),
        sfn("remove_network", MANAGE, &on("")),
        sfn("attach_container", MANAGE, &format!("host={{host}}&network={NONE}&container={NONE}&connect=true")),
        sfn("prune_networks", MANAGE, "host={host}").on(Target::Dead),
        // Each target is authorized on its own: the call passes, each outcome carries its refusal.
        sfn_json(
            "bulk_action",
            Signed,
            json!({"action": "stop", "targets": [{"host": "{host}", "id": NONE, "name": NONE}], "force": false}),
        ),
    ]
}

// ---------- identities ----------

#[derive(Clone, Copy, Debug, PartialEq)]
enum Who {
    Anonymous,
    /// An expired, revoked or disabled user's token: refused outright.
    BadToken,
    /// `role` on engine a and on the dead engine (none: granted engine b only).
    User {
        admin: bool,
        role: Option<Role>,
    },
}

struct Ident {
    label: String,
    headers: Vec<(String, String)>,
    who: Who,
}

fn by_cookie(label: &str, c: &Creds, who: Who) -> Ident {
    Ident {
        label: format!("{label} (cookie)"),
        headers: vec![
            ("cookie".into(), c.cookie.clone()),
            ("sec-fetch-site".into(), "same-origin".into()),
        ],
        who,
    }
}

fn by_token(label: &str, token: &str, who: Who) -> Ident {
    Ident {
        label: format!("{label} (token)"),
        headers: vec![("authorization".into(), format!("Bearer {token}"))],
        who,
    }
}

/// What the door must answer this identity.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Want {
    Pass,
    Only(&'static [u16]),
    Unauthorized,
    Forbidden,
    Hidden,
}

fn want(gate: Gate, who: Who) -> Want {
    let open = |o: Open| match o {
        Open::Pass => Want::Pass,
        Open::Only(s) => Want::Only(s),
    };
    match (who, gate) {
        (Who::BadToken, _) => Want::Unauthorized,
        (Who::Anonymous, Gate::Public(o)) | (Who::User { .. }, Gate::Public(o)) => open(o),
        (Who::Anonymous, _) => Want::Unauthorized,
        (Who::User { .. }, Gate::Signed | Gate::Session) => Want::Pass,
        (Who::User { admin, .. }, Gate::Admin) => {
            if admin {
                Want::Pass
            } else {
                Want::Forbidden
            }
        }
        (Who::User { admin: true, .. }, Gate::Host(_)) => Want::Pass,
        (Who::User { role: None, .. }, Gate::Host(_)) => Want::Hidden,
        (Who::User { role: Some(r), .. }, Gate::Host(need)) => {
            if r >= need {
                Want::Pass
            } else {
                Want::Forbidden
            }
        }
    }
}

// ---------- requests ----------

struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    /// Read only for errors unless asked (`read_all`): a successful stream is dropped unread,
    /// which ends it.
    body: String,
}

async fn knock(
    app: &TestApp,
    method: Method,
    uri: &str,
    headers: &[(String, String)],
    payload: &Payload,
) -> Answer {
    knock_with(app, method, uri, headers, payload, false).await
}

async fn knock_with(
    app: &TestApp,
    method: Method,
    uri: &str,
    headers: &[(String, String)],
    payload: &Payload,
    read_all: bool,
) -> Answer {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(k.as_str(), v.as_str());
    }
    let body = match payload {
        Payload::Empty => Body::empty(),
        Payload::Json(v) => {
            req = req.header(header::CONTENT_TYPE, "application/json");
            Body::from(v.to_string())
        }
        Payload::Form(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            Body::from(f.clone())
        }
        Payload::Bytes(b) => {
            req = req.header(header::CONTENT_TYPE, "application/x-tar");
            Body::from(*b)
        }
    };
    let res = tokio::time::timeout(
        Duration::from_secs(20),
        app.router.clone().oneshot(req.body(body).expect("request")),
    )
    .await
    .unwrap_or_else(|_| panic!("{uri} did not answer within 20 s"))
    .expect("response");
    let (parts, body) = res.into_parts();
    let body = if read_all || parts.status.is_client_error() || parts.status.is_server_error() {
        let bytes = tokio::time::timeout(Duration::from_secs(10), body.collect())
            .await
            .unwrap_or_else(|_| panic!("{uri}: the error body did not end"))
            .expect("body")
            .to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    } else {
        String::new()
    };
    Answer {
        status: parts.status,
        headers: parts.headers,
        body,
    }
}

/// The 404 the policy gives for a host the caller may not see (and for a host that does not
/// exist): told apart from an engine's "container not found" by its body.
fn host_hidden(kind: Kind, a: &Answer) -> bool {
    a.status == StatusCode::NOT_FOUND
        && match kind {
            Kind::Rest => serde_json::from_str::<Value>(&a.body).is_ok_and(|v| {
                v["error"]["code"] == "not_found" && v["error"]["message"] == "host not found"
            }),
            Kind::ServerFn => serde_json::from_str::<Value>(&a.body)
                .is_ok_and(|v| v == json!({"NotFound": "host"})),
        }
}

fn judge(door: &Door, want: Want, a: &Answer) -> Result<(), String> {
    let s = a.status.as_u16();
    let ok = match want {
        // Admins see every host: a host 404 for them is a host that does not exist.
        Want::Pass => {
            !matches!(s, 401 | 403 | 500)
                && (door.gate == Gate::Admin
                    || door.target == Target::NoHost
                    || !host_hidden(door.kind, a))
        }
        Want::Only(list) => list.contains(&s),
        Want::Unauthorized => s == 401,
        Want::Forbidden => s == 403,
        Want::Hidden => host_hidden(door.kind, a),
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{want:?} wanted, got {s} {}",
            a.body.chars().take(200).collect::<String>()
        ))
    }
}

/// `/api/<name><hash>` → (name, path, method) of every registered server fn.
fn registered_fns() -> Vec<(String, String, Method)> {
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, method)| {
            let name = path
                .trim_start_matches("/api/")
                .trim_end_matches(|c: char| c.is_ascii_digit())
                .to_string();
            (name, path.to_string(), method)
        })
        .collect()
}

fn api_routes() -> BTreeSet<(String, String)> {
    crate::common::api_routes()
        .into_iter()
        .map(|(path, method)| (path, method.to_uppercase()))
        .collect()
}

fn fill(door: &Door, fns: &[(String, String, Method)]) -> (Method, String, Payload) {
    let host = door.target.slug();
    let payload = match &door.payload {
        Payload::Json(v) => Payload::Json(
            serde_json::from_str(&v.to_string().replace("{host}", host)).expect("json"),
        ),
        Payload::Form(f) => Payload::Form(f.replace("{host}", host)),
        other => other.clone(),
    };
    match door.kind {
        Kind::Rest => (
            door.method.clone(),
            door.uri.replace("{host}", host),
            payload,
        ),
        Kind::ServerFn => {
            let (_, path, method) = fns
                .iter()
                .find(|(n, _, _)| *n == door.key)
                .expect("a registered server fn");
            (method.clone(), path.clone(), payload)
        }
    }
}

/// The fixtures: one person per role on engine a (and the dead engine), a user of engine b
/// only, and the tokens that must not work.
async fn identities(app: &TestApp) -> (Vec<Ident>, Creds) {
    let admin = app.admin_user("doors-admin").await;
    let mut out = vec![Ident {
        label: "anonymous".into(),
        headers: vec![],
        who: Who::Anonymous,
    }];
    let admin_who = Who::User {
        admin: true,
        role: None,
    };
    out.push(by_cookie("admin", &admin, admin_who));
    out.push(by_token("admin", &admin.token, admin_who));
    for (label, role) in [
        ("viewer", Role::Viewer),
        ("operator", Role::Operator),
        ("manager", Role::Manager),
    ] {
        let c = app
            .user_with_roles(&format!("doors-{label}"), &[(A, role), (DEAD, role)])
            .await;
        let who = Who::User {
            admin: false,
            role: Some(role),
        };
        out.push(by_cookie(label, &c, who));
        out.push(by_token(label, &c.token, who));
    }
    let other = app.user_with_role("doors-other", B, Role::Manager).await;
    let who = Who::User {
        admin: false,
        role: None,
    };
    out.push(by_cookie("other host's manager", &other, who));
    out.push(by_token("other host's manager", &other.token, who));

    // Disabled after its cookie and token were made: both stop working at once.
    let gone = app.user_with_role("doors-disabled", A, Role::Manager).await;
    let res = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{}", gone.id),
            &admin.page(),
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "disabling: {}", res.text());
    out.push(Ident {
        who: Who::Anonymous,
        ..by_cookie("disabled", &gone, Who::Anonymous)
    });
    out.push(by_token("disabled", &gone.token, Who::BadToken));

    // Expired: the only way to age a token without waiting days is to move its expiry into the
    // past in the test's own SQLite file.
    let aging = app.user_with_role("doors-expired", A, Role::Manager).await;
    let (info, expired) = app
        .accounts
        .create_token(aging.id, "soon", Some(1))
        .await
        .expect("token");
    assert_eq!(
        app.get(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {expired}"))]
        )
        .await
        .status,
        StatusCode::OK
    );
    sqlx::query("UPDATE api_tokens SET expires_at = $1 WHERE id = $2")
        .bind(backend::store::now() - 60)
        .bind(info.id)
        .execute(app.state.accounts_pool())
        .await
        .expect("age the token");
    out.push(by_token("expired", &expired, Who::BadToken));

    // Revoked through the API by its owner.
    let tokens: Value = app
        .get("/api/v1/tokens", &[("authorization", &aging.bearer())])
        .await
        .json();
    let id = tokens
        .as_array()
        .and_then(|t| t.iter().find(|t| t["name"] == "test"))
        .and_then(|t| t["id"].as_i64())
        .expect("the token's id");
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &aging.page(),
            None,
        )
        .await;
    assert!(res.status.is_success(), "revoking: {}", res.text());
    out.push(by_token("revoked", &aging.token, Who::BadToken));
    (out, admin)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_door_answers_every_identity_as_api_md_prescribes() {
    let started = Instant::now();
    let app = TestApp::new().await;
    let fns = registered_fns();
    let mut doors = rest_doors();
    doors.extend(fn_doors());

    // The table and the server agree: nothing unlisted, nothing stale.
    let listed: BTreeSet<(String, String)> = doors
        .iter()
        .filter(|d| d.kind == Kind::Rest)
        .map(|d| (d.key.clone(), d.method.as_str().to_string()))
        .collect();
    let routes = api_routes();
    let unlisted: Vec<_> = routes.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&routes).collect();
    assert!(
        unlisted.is_empty(),
        "routes the door table does not list: {unlisted:#?}"
    );
    assert!(
        stale.is_empty(),
        "the door table lists routes that no longer exist: {stale:#?}"
    );
    let listed_fns: BTreeSet<&str> = doors
        .iter()
        .filter(|d| d.kind == Kind::ServerFn)
        .map(|d| d.key.as_str())
        .collect();
    let registered: BTreeSet<&str> = fns.iter().map(|(n, _, _)| n.as_str()).collect();
    assert!(registered.len() > 40, "server fns found: {registered:?}");
    let unlisted: Vec<_> = registered.difference(&listed_fns).collect();
    let stale: Vec<_> = listed_fns.difference(&registered).collect();
    assert!(
        unlisted.is_empty(),
        "server fns the door table does not list: {unlisted:#?}"
    );
    assert!(
        stale.is_empty(),
        "the door table lists server fns that no longer exist: {stale:#?}"
    );
    assert_eq!(registered.len(), fns.len(), "two server fns share a name");

    let (people, _admin) = identities(&app).await;
    let container = Container::create();
    let mut wrong = pages(&app, &people, &container.0).await;
    wrong.extend(bulk_targets_are_gated_one_by_one(&app, &people, &fns).await);
    // Signing out ends the cookie's session: each identity knocks on those doors last.
    let logout = |d: &Door| d.key == "/session" && d.method == Method::DELETE || d.key == "logout";
    let mut order: Vec<&Door> = doors.iter().filter(|d| !logout(d)).collect();
    order.extend(doors.iter().filter(|d| logout(d)));

    for who in &people {
        for door in &order {
            let (method, uri, payload) = fill(door, &fns);
            let answer = knock(&app, method.clone(), &uri, &who.headers, &payload).await;
            let by_bearer = who.headers.iter().any(|(k, _)| k == "authorization");
            let want = match door.gate {
                Gate::Session if by_bearer && matches!(who.who, Who::User { .. }) => {
                    Want::Forbidden
                }
                gate => want(gate, who.who),
            };
            if let Err(e) = judge(door, want, &answer) {
                wrong.push(format!("{} {method} {uri} [{}]: {e}", who.label, door.key));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "{} doors or pages answered wrongly:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    denials_are_in_the_audit_log(&app).await;
    eprintln!(
        "{} identities × {} doors in {:?}",
        people.len(),
        order.len(),
        started.elapsed()
    );
}

/// A stopped container of the test image on engine a, for the pages of a real container.
struct Container(String);

impl Container {
    fn create() -> Container {
        let name = format!("doors-{}-page", std::process::id());
        let out = docker(&[
            "create",
            "--name",
            &name,
            &env("CAPSTAN_TEST_IMAGE"),
            "true",
        ]);
        assert!(
            out.status.success(),
            "docker create: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Container(name)
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.0]);
    }
}

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .arg("-H")
        .arg(env("CAPSTAN_TEST_UNIX_URL"))
        .args(args)
        .output()
        .expect("docker")
}

/// Who may see a page.
#[derive(Clone, Copy, Debug, PartialEq)]
enum PageGate {
    Login,
    Setup,
    Signed,
    Admin,
    /// A page of one host (and of an object on it).
    Host,
}

const PAGES: &[(&str, PageGate)] = &[
    ("/login", PageGate::Login),
    ("/setup", PageGate::Setup),
    ("/", PageGate::Signed),
    ("/hosts", PageGate::Signed),
    ("/hosts/new", PageGate::Admin),
    ("/hosts/{host}", PageGate::Host),
    ("/hosts/{host}/edit", PageGate::Admin),
    ("/hosts/{host}/access", PageGate::Admin),
    ("/containers", PageGate::Signed),
    ("/logs", PageGate::Signed),
    ("/events", PageGate::Signed),
    ("/run", PageGate::Signed),
    ("/images", PageGate::Signed),
    ("/images/{host}/{id}", PageGate::Host),
    ("/volumes", PageGate::Signed),
    ("/networks", PageGate::Signed),
    ("/hosts/{host}/containers/{id}/duplicate", PageGate::Host),
    ("/hosts/{host}/containers/{id}/edit", PageGate::Host),
    ("/hosts/{host}/containers/{id}", PageGate::Host),
    ("/hosts/{host}/containers/{id}/processes", PageGate::Host),
    ("/hosts/{host}/containers/{id}/changes", PageGate::Host),
    ("/hosts/{host}/containers/{id}/files", PageGate::Host),
    ("/hosts/{host}/containers/{id}/logs", PageGate::Host),
    ("/hosts/{host}/containers/{id}/stats", PageGate::Host),
    ("/hosts/{host}/containers/{id}/terminal", PageGate::Host),
    ("/account", PageGate::Signed),
    ("/users", PageGate::Admin),
    ("/teams", PageGate::Admin),
    ("/audit", PageGate::Admin),
    ("/registries", PageGate::Admin),
    ("/api-reference", PageGate::Signed),
];

/// Anonymous: every page sends to the login page; a bad token: 401; a viewer: admin pages are
/// "not allowed" (403), the rest render; a user of another host: every page of engine a is the
/// not-found page; an admin: admin pages render.
async fn pages(app: &TestApp, people: &[Ident], container: &str) -> Vec<String> {
    let listed: BTreeSet<String> = PAGES.iter().map(|(p, _)| (*p).to_string()).collect();
    let routes: BTreeSet<String> = leptos_axum::generate_route_list(app::App)
        .iter()
        .map(|r| {
            let p = r.path().trim_end_matches('/');
            if p.is_empty() {
                "/".to_string()
            } else {
                p.to_string()
            }
        })
        .collect();
    let unlisted: Vec<_> = routes.difference(&listed).collect();
    let stale: Vec<_> = listed.difference(&routes).collect();
    assert!(
        unlisted.is_empty() && stale.is_empty(),
        "pages unlisted: {unlisted:?}; listed but gone: {stale:?}"
    );

    let image = String::from_utf8(
        docker(&[
            "image",
            "inspect",
            "-f",
            "{{.Id}}",
            &env("CAPSTAN_TEST_IMAGE"),
        ])
        .stdout,
    )
    .expect("utf-8")
    .trim()
    .to_string();
    let find = |label: &str| people.iter().find(|p| p.label == label).expect("identity");
    let (anon, expired) = (find("anonymous"), find("expired (token)"));
    let (viewer, other, admin) = (
        find("viewer (cookie)"),
        find("other host's manager (cookie)"),
        find("admin (cookie)"),
    );
    let mut wrong = Vec::new();
    for (pattern, gate) in PAGES {
        let id = if pattern.starts_with("/images/") {
            image.as_str()
        } else {
            container
        };
        let uri = pattern.replace("{host}", A).replace("{id}", id);
        let get = |who: &Ident| {
            let uri = uri.clone();
            let headers = who.headers.clone();
            async move { knock_with(app, Method::GET, &uri, &headers, &Payload::Empty, true).await }
        };
        let location = |a: &Answer| {
            a.headers
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("")
                .to_string()
        };
        let mut check = |who: &str, ok: bool, a: &Answer, wanted: &str| {
            if !ok {
                wrong.push(format!(
                    "{who} GET {uri}: {wanted} wanted, got {} {} {}",
                    a.status,
                    location(a),
                    a.body.chars().take(120).collect::<String>()
                ));
            }
        };

        let a = get(anon).await;
        let to_login = a.status.is_redirection() && location(&a).starts_with("/login");
        match gate {
            PageGate::Login => check(
                "anonymous",
                a.status == StatusCode::OK,
                &a,
                "the login page",
            ),
            PageGate::Setup => check(
                "anonymous",
                a.status.is_redirection() && location(&a) == "/login",
                &a,
                "to /login",
            ),
            _ => check(
                "anonymous",
                to_login && location(&a).contains("next="),
                &a,
                "to /login?next=",
            ),
        }
        let a = get(expired).await;
        check(
            "expired token",
            a.status == StatusCode::UNAUTHORIZED,
            &a,
            "401",
        );

        let not_allowed = |a: &Answer| {
            a.status == StatusCode::FORBIDDEN
                && a.body.contains("You are not allowed to see this page")
        };
        // The not-found answer: the same as for a host that does not exist.
        let not_found = |a: &Answer| a.status == StatusCode::NOT_FOUND && a.body.contains("<html");
        // Rendered for this person: a page may carry its own answer (422 for /logs without a
        // selection, 409 for the processes of a stopped container), never a refusal.
        let rendered = |a: &Answer| {
            !matches!(a.status.as_u16(), 401 | 403 | 404 | 500) && a.body.contains("<html")
        };
        let a = get(viewer).await;
        match gate {
            PageGate::Login | PageGate::Setup => check(
                "viewer",
                a.status.is_redirection() && location(&a) == "/hosts",
                &a,
                "to /hosts",
            ),
            PageGate::Admin => check("viewer", not_allowed(&a), &a, "the not-allowed page"),
            _ if *pattern == "/" => check("viewer", location(&a) == "/hosts", &a, "to /hosts"),
            // A viewer sees the host; a page for managers may say "not allowed" instead.
            PageGate::Host => check("viewer", rendered(&a) || not_allowed(&a), &a, "the page"),
            _ => check("viewer", rendered(&a), &a, "the page"),
        }
        if *gate == PageGate::Host {
            let a = get(other).await;
            check(
                "other host's manager",
                not_found(&a),
                &a,
                "the not-found page",
            );
        }
        if *gate == PageGate::Admin {
            let a = get(admin).await;
            check("admin", rendered(&a), &a, "the page");
        }
    }
    wrong
}

/// `bulk_action` answers 200 to anyone signed in; each target is authorized on its own and its
/// outcome carries the refusal.
async fn bulk_targets_are_gated_one_by_one(
    app: &TestApp,
    people: &[Ident],
    fns: &[(String, String, Method)],
) -> Vec<String> {
    let mut wrong = Vec::new();
    let door = fn_doors()
        .into_iter()
        .find(|d| d.key == "bulk_action")
        .expect("bulk door");
    let (method, uri, payload) = fill(&door, fns);
    let rest_door = rest_doors()
        .into_iter()
        .find(|d| d.key == "/containers/bulk")
        .expect("REST bulk door");
    let (_, rest_uri, rest_payload) = fill(&rest_door, fns);
    for who in people.iter().filter(|p| matches!(p.who, Who::User { .. })) {
        // The REST door says the same per target, with the single action's status.
        let r = knock_with(
            app,
            Method::POST,
            &rest_uri,
            &who.headers,
            &rest_payload,
            true,
        )
        .await;
        let result: Value = serde_json::from_str(&r.body).unwrap_or_default();
        let (status, words) = match want(OPERATE, who.who) {
            Want::Pass => (404, "container not found"),
            Want::Forbidden => (403, "not allowed"),
            Want::Hidden => (404, "host not found"),
            other => panic!("{other:?}"),
        };
        let first = &result["results"][0];
        if r.status != StatusCode::OK
            || first["status"] != status
            || first["error"]["message"] != words
            || result["failed"] != 1
        {
            wrong.push(format!(
                "{} POST /containers/bulk: {status} {words:?} wanted, got {} {}",
                who.label, r.status, r.body
            ));
        }
        let a = knock_with(app, method.clone(), &uri, &who.headers, &payload, true).await;
        let Ok(outcomes) = serde_json::from_str::<Value>(&a.body) else {
            wrong.push(format!(
                "{} bulk_action: {} {}",
                who.label, a.status, a.body
            ));
            continue;
        };
        let error = outcomes[0]["error"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let expected = match want(OPERATE, who.who) {
            Want::Pass => "container not found",
            Want::Forbidden => "not allowed",
            Want::Hidden => "host not found",
            other => panic!("{other:?}"),
        };
        if a.status != StatusCode::OK || error != expected {
            wrong.push(format!(
                "{} bulk_action: {expected:?} wanted, got {} {}",
                who.label, a.status, a.body
            ));
        }
    }
    wrong
}

async fn rows(app: &TestApp, user: Option<&str>, action: &str) -> Vec<Entry> {
    let filter = Filter {
        user: user.map(str::to_string),
        action: Some(action.into()),
        outcome: Some("denied".into()),
        limit: Some(500),
        ..Filter::default()
    };
    app.state.audit.query(&filter).await.expect("audit")
}

/// Denials of each kind left their rows: the user, the host, the action, the status.
async fn denials_are_in_the_audit_log(app: &TestApp) {
    app.state.audit.flush().await;
    assert_eq!(
        app.state.audit.queued_bytes(),
        0,
        "every audit row was written"
    );
    let has = |rows: &[Entry], host: Option<&str>, status: u16| {
        rows.iter()
            .any(|e| e.record.host.as_deref() == host && e.record.status == status)
    };
    // 403: a viewer stopping a container (REST and server fn: one name, one row each) and
    // reading the user list.
    let stop = rows(app, Some("doors-viewer"), "container.stop").await;
    assert!(has(&stop, Some(A), 403), "{stop:#?}");
    assert!(stop
        .iter()
        .all(|e| e.record.object.as_deref() == Some(NONE) && e.record.user_id.is_some()));
    let refused =
        |rows: &[Entry], status: u16| rows.iter().filter(|e| e.record.status == status).count();
    assert!(
        refused(&stop, 403) >= 2,
        "the REST stop and the page's: {stop:#?}"
    );
    assert!(
        rows(app, Some("doors-viewer"), "fn.container_action")
            .await
            .is_empty(),
        "the page's stop is named like the REST one"
    );
    assert!(has(
        &rows(app, Some("doors-operator"), "user.list").await,
        None,
        403
    ));
    assert!(has(
        &rows(app, Some("doors-manager"), "user.list").await,
        None,
        403
    ));
    // Images, volumes, networks and hosts are operations too: one name from either door.
    for action in [
        "image.remove",
        "image.tag",
        "volume.remove",
        "network.remove",
        "network.connect",
    ] {
        let refused_rows = rows(app, Some("doors-viewer"), action).await;
        assert!(
            refused(&refused_rows, 403) >= 2,
            "{action} from REST and from the page: {refused_rows:#?}"
        );
    }
    for server_fn in [
        "fn.remove_image",
        "fn.tag_image",
        "fn.remove_volume",
        "fn.attach_container",
    ] {
        assert!(
            rows(app, Some("doors-viewer"), server_fn).await.is_empty(),
            "{server_fn} is recorded under its operation's name"
        );
    }
    // The admin's operations refuse everyone else under their own names, from both doors.
    for action in [
        "registry.create",
        "registry.remove",
        "host.create",
        "host.test",
    ] {
        let refused_rows = rows(app, Some("doors-manager"), action).await;
        assert!(
            !refused_rows.is_empty() && refused_rows.iter().all(|e| e.record.status == 403),
            "{action}: {refused_rows:#?}"
        );
    }
    for action in [
        "registry.create",
        "registry.remove",
        "host.update",
        "host.remove",
    ] {
        assert!(
            refused(&rows(app, Some("doors-manager"), action).await, 403) >= 2,
            "{action} from REST and from the page"
        );
    }
    // Who may do what is the admin's too: users, grants, teams, guardrails, the audit log.
    for action in [
        "user.create",
        "user.update",
        "user.remove",
        "grant.set",
        "grant.remove",
        "team.create",
        "team.update",
        "team.remove",
        "team.member.add",
        "team.member.remove",
        "guardrails.set",
        "audit.settings.set",
    ] {
        assert!(
            refused(&rows(app, Some("doors-manager"), action).await, 403) >= 2,
            "{action} from REST and from the page: {:#?}",
            rows(app, Some("doors-manager"), action).await
        );
    }
    for server_fn in [
        "fn.add_registry",
        "fn.remove_registry",
        "fn.add_host",
        "fn.remove_host",
        "fn.list_users",
        "fn.create_user",
        "fn.update_user",
        "fn.delete_user",
        "fn.grant",
        "fn.revoke",
        "fn.set_host_grant",
        "fn.remove_host_grant",
        "fn.create_team",
        "fn.rename_team",
        "fn.delete_team",
        "fn.add_team_member",
        "fn.remove_team_member",
        "fn.save_guardrails",
        "fn.set_audit_retention",
        "fn.change_password",
        "fn.create_token",
        "fn.revoke_token",
    ] {
        assert!(
            rows(app, Some("doors-manager"), server_fn).await.is_empty(),
            "{server_fn} is recorded under its operation's name"
        );
    }
    assert!(has(
        &rows(app, Some("doors-other"), "host.get").await,
        Some(A),
        404
    ));
    // The 404 of a host the caller may not see, from both doors.
    let hidden = rows(app, Some("doors-other"), "container.get").await;
    assert!(has(&hidden, Some(A), 404), "{hidden:#?}");
    assert!(refused(&hidden, 404) >= 2, "{hidden:#?}");
    assert!(hidden
        .iter()
        .all(|e| e.record.outcome == backend::audit::Outcome::Denied));
    // 401: a change asked for without signing in is recorded, nameless.
    let anon = rows(app, None, "container.stop").await;
    assert!(
        anon.iter().any(|e| e.record.username.is_none()
            && e.record.status == 401
            && e.record.host.as_deref() == Some(A)),
        "{anon:#?}"
    );
}

/// The terminal over a real socket: the gate comes before the upgrade, and an upgrade from
/// another site's page is refused even for a manager.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_exec_websocket_checks_the_gate_and_the_origin_before_upgrading() {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    use tokio_tungstenite::tungstenite::Error as WsError;

    let app = TestApp::new().await;
    let viewer = app.user_with_role("ws-viewer", A, Role::Viewer).await;
    let manager = app.user_with_role("ws-manager", A, Role::Manager).await;
    let other = app.user_with_role("ws-other", B, Role::Manager).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    let url = format!("ws://{addr}/api/v1/hosts/{A}/containers/{NONE}/exec");
    let here = format!("http://{addr}");
    let cases: [(&str, Option<&Creds>, &str, u16, &str); 5] = [
        ("anonymous", None, here.as_str(), 401, "unauthorized"),
        ("viewer", Some(&viewer), here.as_str(), 403, "forbidden"),
        (
            "other host's manager",
            Some(&other),
            here.as_str(),
            404,
            "host not found",
        ),
        (
            "manager from another site",
            Some(&manager),
            "https://evil.example",
            403,
            "cross_origin",
        ),
        // Past every check: the container does not exist.
        (
            "manager",
            Some(&manager),
            here.as_str(),
            404,
            "container not found",
        ),
    ];
    for (label, creds, origin, status, word) in cases {
        let mut req = url.as_str().into_client_request().expect("request");
        if let Some(c) = creds {
            req.headers_mut()
                .insert("cookie", c.cookie.parse().expect("cookie"));
        }
        req.headers_mut()
            .insert("origin", origin.parse().expect("origin"));
        match tokio_tungstenite::connect_async(req).await {
            Err(WsError::Http(res)) => {
                let body =
                    String::from_utf8_lossy(res.body().as_deref().unwrap_or_default()).into_owned();
                assert_eq!(res.status().as_u16(), status, "{label}: {body}");
                assert!(body.contains(word), "{label}: {body}");
            }
            other => panic!(
                "{label}: the upgrade must be refused, got {:?}",
                other.map(|(_, r)| r.status())
            ),
        }
    }
    // Denials before the upgrade are audited like any other.
    app.state.audit.flush().await;
    let refused = app
        .state
        .audit
        .query(&Filter {
            action: Some("container.exec".into()),
            outcome: Some("denied".into()),
            ..Filter::default()
        })
        .await
        .expect("audit");
    for user in ["ws-viewer", "ws-other", "ws-manager"] {
        assert!(
            refused
                .iter()
                .any(|e| e.record.username.as_deref() == Some(user)),
            "{user}: {refused:#?}"
        );
    }
}
