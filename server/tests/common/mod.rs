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
use backend::auth::Accounts;
use backend::engine::{EngineSpec, Timeouts, TlsFiles};
use backend::fleet::{Fleet, HostConfig};
use backend::store::Store;
use http_body_util::BodyExt;
use leptos::config::LeptosOptions;
use server::http::auth::{session_layer, SessionOptions};
use server::state::Settings;
use server::{router, AppState};
use tower::ServiceExt;

pub const PW: &str = "a long enough password";

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} is not set: run the tests with `./dev test`"))
}

fn host(slug: &str, url: String, tls: Option<TlsFiles>) -> HostConfig {
    HostConfig::new(slug, slug, EngineSpec { url, tls })
}

pub struct TestApp {
    pub router: Router,
    pub accounts: Accounts,
    pub state: AppState,
    pub dir: Arc<tempfile::TempDir>,
}

pub struct Resp {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("JSON body, got {}", self.text()))
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
        self.headers.get(header::SET_COOKIE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
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
        app.accounts.create_user("root", PW, true).await.expect("admin");
        app
    }

    /// A router over an existing data directory, as after a restart.
    pub async fn in_dir(dir: Arc<tempfile::TempDir>) -> TestApp {
        let store = Store::open(dir.path()).await.expect("store");
        let accounts = Accounts::new(store.clone());
        let fleet = Fleet::new(
            vec![
                host("unix-engine", env("CAPSTAN_TEST_UNIX_URL"), None),
                host("tls-engine", env("CAPSTAN_TEST_TLS_URL"), Some(TlsFiles::from_dir(env("CAPSTAN_TEST_TLS_DIR")))),
                host("stopped-engine", env("CAPSTAN_TEST_REFUSED_URL"), None),
            ],
            Timeouts { call: Duration::from_secs(5) },
            Duration::from_secs(5),
        )
        .expect("fleet");
        let leptos_options = LeptosOptions::builder().output_name("capstan").site_root("target/site").build();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let sessions = session_layer(
            store.pool().clone(),
            dir.path(),
            SessionOptions { idle: Duration::from_secs(3600), secure: false },
            shutdown.clone(),
        )
        .await
        .expect("sessions");
        let settings = Settings { data_dir: dir.path().to_path_buf(), body_limit: 64 * 1024, upload_limit: 4 * 1024 * 1024, session_max: Duration::from_secs(86_400) };
        let registry = backend::hosts::Registry::open(store.clone(), fleet.clone(), dir.path()).expect("registry");
        let state = AppState {
            leptos_options,
            fleet,
            accounts: accounts.clone(),
            registry,
            settings: Arc::new(settings),
            live: backend::live::Hub::new(backend::live::HubConfig::default(), shutdown.clone()),
            audit: backend::audit::Audit::start(store.pool().clone(), shutdown.clone()),
            shutdown,
        };
        let router = router(state.clone(), sessions).layer(MockConnectInfo(SocketAddr::from(([10, 1, 2, 3], 4000))));
        TestApp { router, accounts, state, dir }
    }

    pub async fn send(&self, method: Method, uri: &str, headers: &[(&str, &str)], body: Option<serde_json::Value>) -> Resp {
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
        let res = self.router.clone().oneshot(req.body(body).expect("request")).await.expect("response");
        let (parts, body) = res.into_parts();
        let body = body.collect().await.expect("body").to_bytes().to_vec();
        Resp { status: parts.status, headers: parts.headers, body }
    }

    pub async fn get(&self, uri: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(Method::GET, uri, headers, None).await
    }

    /// Signs in through the API and returns the session cookie.
    pub async fn login(&self, username: &str, password: &str) -> String {
        let res = self
            .send(Method::POST, "/api/v1/session", &[], Some(serde_json::json!({"username": username, "password": password})))
            .await;
        assert_eq!(res.status, StatusCode::OK, "login as {username}: {}", res.text());
        res.session_cookie().expect("a session cookie")
    }

    pub async fn as_root(&self) -> String {
        self.login("root", PW).await
    }
}
