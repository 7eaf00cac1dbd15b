//! A Capstan router over a real SQLite file in a temporary directory and the private test
//! engines, driven with `oneshot`.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::connect_info::MockConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use backend::auth::{Accounts, SubjectKind};
use backend::engine::{EngineSpec, Timeouts, TlsFiles};
use backend::fleet::{Fleet, HostConfig};
use backend::policy::Role;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use serde_json::json;
use server::http::auth::{session_layer, SessionOptions};
use server::state::Settings;
use server::{router, AppState};
use tower::ServiceExt;

pub const PW: &str = "a long enough password";

pub fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests with `./dev test`"))
}

/// Headers that mark a cookie request as coming from Capstan's own pages.
pub const SAME_ORIGIN: (&str, &str) = ("sec-fetch-site", "same-origin");

/// The docker CLI against test engine `a` (the unix one) or `b` (the TLS one): whether it
/// succeeded, and its trimmed output (stderr when it failed).
pub fn docker_at(engine: char, args: &[&str]) -> (bool, String) {
    let mut cmd = std::process::Command::new("docker");
    if engine == 'a' {
        cmd.arg("-H").arg(env("CAPSTAN_TEST_UNIX_URL"));
    } else {
        let dir = env("CAPSTAN_TEST_TLS_DIR");
        cmd.arg("-H")
            .arg(env("CAPSTAN_TEST_TLS_URL"))
            .arg("--tlsverify")
            .arg("--tlscacert")
            .arg(format!("{dir}/ca.pem"))
            .arg("--tlscert")
            .arg(format!("{dir}/cert.pem"))
            .arg("--tlskey")
            .arg(format!("{dir}/key.pem"));
    }
    let out = cmd.args(args).output().expect("the docker CLI runs");
    let text = if out.status.success() {
        &out.stdout
    } else {
        &out.stderr
    };
    (
        out.status.success(),
        String::from_utf8_lossy(text).trim().to_string(),
    )
}

/// [`docker_at`] engine `a`.
pub fn docker(args: &[&str]) -> (bool, String) {
    docker_at('a', args)
}

/// [`docker`] that must succeed: its output.
pub fn must(args: &[&str]) -> String {
    let (ok, text) = docker(args);
    assert!(ok, "docker {args:?}: {text}");
    text
}

/// A name no other test (or earlier run) uses: `capstan-<test>-<random>`.
pub fn unique(test: &str) -> String {
    format!("capstan-{test}-{:08x}", rand::random::<u32>())
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A container on engine `a` running `sh -c script`, removed when dropped.
pub struct Container(pub String);

impl Container {
    pub fn run(name: &str, script: &str) -> Container {
        docker(&["rm", "-f", name]);
        must(&[
            "run",
            "-d",
            "--name",
            name,
            &env("CAPSTAN_TEST_IMAGE"),
            "sh",
            "-c",
            script,
        ]);
        Container(name.to_owned())
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        docker(&["rm", "-f", &self.0]);
    }
}

fn host(slug: &str, url: String, tls: Option<TlsFiles>) -> HostConfig {
    HostConfig::new(
        slug,
        slug,
        EngineSpec {
            url,
            tls: tls.map(Into::into),
        },
    )
}

pub struct TestApp {
    pub router: Router,
    pub accounts: Accounts,
    pub state: AppState,
    pub dir: Arc<tempfile::TempDir>,
}

/// A person made for a test: the user's id, a signed-in session cookie (`name=value`) and a
/// personal API token.
#[derive(Debug, Clone)]
pub struct Creds {
    pub id: i64,
    pub username: String,
    pub cookie: String,
    pub token: String,
}

impl Creds {
    /// Headers of a cookie-authenticated request from Capstan's own pages (writes need the
    /// same-origin mark).
    pub fn page(&self) -> [(&str, &str); 2] {
        from_page(&self.cookie)
    }

    /// The `Authorization` header value for the token.
    pub fn bearer(&self) -> String {
        format!("Bearer {}", self.token)
    }
}

/// Headers of a cookie-authenticated request from Capstan's own pages.
pub fn from_page(cookie: &str) -> [(&str, &str); 2] {
    [("cookie", cookie), ("sec-fetch-site", "same-origin")]
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("JSON body, got {}", self.text()))
    }
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The `name=value` part of the session cookie this response sets.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("capstan_session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_string())
    }
    pub fn set_cookie_header(&self) -> String {
        self.headers
            .get(header::SET_COOKIE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    }
}

impl TestApp {
    /// A fresh data directory with no users.
    pub async fn empty() -> TestApp {
        Self::in_dir(Arc::new(tempfile::tempdir().expect("tempdir"))).await
    }

    /// A fresh data directory with the admin `root`.
    pub async fn new() -> TestApp {
        let app = Self::empty().await;
        app.accounts
            .create_user("root", PW, true)
            .await
            .expect("admin");
        app
    }

    /// A router over an existing data directory, as after a restart.
    pub async fn in_dir(dir: Arc<tempfile::TempDir>) -> TestApp {
        let store = backend::store::open_for_test(dir.path())
            .await
            .expect("store");
        let accounts = Accounts::new(store.clone());
        let fleet = Fleet::new(
            vec![
                host("unix-engine", env("CAPSTAN_TEST_UNIX_URL"), None),
                host(
                    "tls-engine",
                    env("CAPSTAN_TEST_TLS_URL"),
                    Some(TlsFiles::from_dir(env("CAPSTAN_TEST_TLS_DIR"))),
                ),
                host("stopped-engine", env("CAPSTAN_TEST_REFUSED_URL"), None),
            ],
            Timeouts {
                call: Duration::from_secs(5),
            },
            Duration::from_secs(5),
        )
        .expect("fleet");
        let leptos_options = LeptosOptions::builder()
            .output_name("capstan")
            .site_root("target/site")
            .build();
        let shutdown = tokio_util::sync::CancellationToken::new();
        store.follow_replicas(shutdown.clone());
        let sessions = session_layer(
            store.native(),
            dir.path(),
            SessionOptions {
                idle: Duration::from_secs(3600),
                secure: false,
            },
            shutdown.clone(),
        )
        .await
        .expect("sessions");
        let settings = Settings {
            data_dir: dir.path().to_path_buf(),
            body_limit: 64 * 1024,
            upload_limit: 4 * 1024 * 1024,
            session_max: Duration::from_secs(86_400),
            trusted_proxies: Default::default(),
        };
        let registry = backend::hosts::Registry::open(store.clone(), fleet.clone(), dir.path())
            .expect("registry");
        registry
            .load()
            .await
            .expect("stored hosts load, as at start");
        registry.follow_replicas(shutdown.clone());
        let state = AppState::new(server::state::Shared {
            leptos_options,
            fleet,
            accounts: accounts.clone(),
            registry,
            settings: Arc::new(settings),
            live: backend::live::Hub::new(backend::live::HubConfig::default(), shutdown.clone()),
            audit: backend::audit::Audit::start(store.pool().clone(), shutdown.clone()),
            shutdown,
        });
        let router = router(state.clone(), sessions)
            .layer(MockConnectInfo(SocketAddr::from(([10, 1, 2, 3], 4000))));
        TestApp {
            router,
            accounts,
            state,
            dir,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        uri: &str,
        headers: &[(&str, &str)],
        body: Option<serde_json::Value>,
    ) -> Resp {
        let mut req = Request::builder().method(method).uri(uri);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let body = match body {
            Some(json) => {
                req = req.header(header::CONTENT_TYPE, "application/json");
                Body::from(json.to_string())
            }
            None => Body::empty(),
        };
        let res = self
            .router
            .clone()
            .oneshot(req.body(body).expect("request"))
            .await
            .expect("response");
        let (parts, body) = res.into_parts();
        let body = body.collect().await.expect("body").to_bytes().to_vec();
        Resp {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    pub async fn get(&self, uri: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(Method::GET, uri, headers, None).await
    }

    /// Signs in through the API and returns the session cookie.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self
            .send(
                Method::POST,
                "/api/v1/session",
                &[],
                Some(serde_json::json!({"username": username, "password": password})),
            )
            .await;
        assert_eq!(
            res.status,
            StatusCode::OK,
            "login as {username}: {}",
            res.text()
        );
        res.session_cookie().expect("a session cookie")
    }

    pub async fn as_root(&self) -> String {
        self.login("root", PW).await
    }

    /// A new non-admin user with the given roles (`&[("unix-engine", Role::Viewer)]`; empty for
    /// none), signed in, with an API token.
    pub async fn user_with_roles(&self, username: &str, grants: &[(&str, Role)]) -> Creds {
        let user = self
            .accounts
            .create_user(username, PW, false)
            .await
            .expect("user");
        for (host, role) in grants {
            self.accounts
                .set_grant(host, SubjectKind::User, user.id, *role)
                .await
                .expect("grant");
        }
        self.creds(user.id, username).await
    }

    /// A new non-admin user with `role` on `host`, signed in, with an API token.
    pub async fn user_with_role(&self, username: &str, host: &str, role: Role) -> Creds {
        self.user_with_roles(username, &[(host, role)]).await
    }

    /// A new admin, signed in, with an API token.
    pub async fn admin_user(&self, username: &str) -> Creds {
        let user = self
            .accounts
            .create_user(username, PW, true)
            .await
            .expect("admin");
        self.creds(user.id, username).await
    }

    /// A fresh API token (no expiry) for the user.
    pub async fn token_for(&self, user_id: i64) -> String {
        self.accounts
            .create_token(user_id, "test", None)
            .await
            .expect("token")
            .1
    }

    async fn creds(&self, id: i64, username: &str) -> Creds {
        let cookie = self.login(username, PW).await;
        let token = self.token_for(id).await;
        Creds {
            id,
            username: username.to_string(),
            cookie,
            token,
        }
    }
}

/// `(path under /api/v1, method)` of every API route. The router and the OpenAPI document are
/// built from the same declarations, so the document's operations are the routes.
pub fn api_routes() -> Vec<(String, &'static str)> {
    let doc = server::http::openapi::document();
    let mut routes = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        let Some(path) = path.strip_prefix("/api/v1") else {
            continue;
        };
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                routes.push((path.to_string(), method));
            }
        }
    }
    assert!(
        routes.len() > 40,
        "the document lists only {} routes",
        routes.len()
    );
    routes
}

/// Serves the app on 127.0.0.1:0 (for streams that need a real socket); returns its address.
pub async fn serve(app: &TestApp) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let router = app.router.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    addr
}

/// The root admin, a viewer of `unix-engine` and a stranger (no grant): their session cookies.
pub async fn people(app: &TestApp) -> (String, String, String) {
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), SAME_ORIGIN];
    let mut ids = Vec::new();
    for name in ["viewer", "stranger"] {
        let res = app
            .send(
                Method::POST,
                "/api/v1/users",
                &w,
                Some(json!({"username": name, "password": PW})),
            )
            .await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
        ids.push(res.json()["id"].as_i64().expect("id"));
    }
    let grant = app
        .send(
            Method::PUT,
            "/api/v1/hosts/unix-engine/grants",
            &w,
            Some(json!({"user": ids[0], "role": "viewer"})),
        )
        .await;
    assert_eq!(grant.status, StatusCode::NO_CONTENT, "{}", grant.text());
    (
        root,
        app.login("viewer", PW).await,
        app.login("stranger", PW).await,
    )
}
