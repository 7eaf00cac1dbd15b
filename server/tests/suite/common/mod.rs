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
use backend::store::Store;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::http::auth::{session_layer, SessionOptions};
use server::state::Settings;
use server::{router, AppState};
use tower::ServiceExt;

pub const PW: &str = "a long enough password";

pub fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests with `./dev test`"))
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
        let store = Store::open(dir.path()).await.expect("store");
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
        let sessions = session_layer(
            store.pool().clone(),
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
