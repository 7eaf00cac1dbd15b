//! `GET /api/v1/hosts/{host}/nodes` and `…/df` through the router: the policy comes first (a
//! host the caller has no grant on is a 404, as if it did not exist), then the engine.

use crate::common::*;
use axum::http::{Method, StatusCode};
use backend::auth::SubjectKind;
use backend::policy::Role;

/// A viewer of `unix-engine` only, signed in.
async fn viewer_of_unix_engine(app: &TestApp) -> String {
    let user = app
        .accounts
        .create_user("viewer", PW, false)
        .await
        .expect("viewer");
    app.accounts
        .set_grant("unix-engine", SubjectKind::User, user.id, Role::Viewer)
        .await
        .expect("grant");
    app.login("viewer", PW).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_sees_the_nodes_and_disk_usage_of_their_host_only() {
    let app = TestApp::new().await;
    let cookie = viewer_of_unix_engine(&app).await;
    let auth = [("cookie", cookie.as_str())];

    let nodes = app.get("/api/v1/hosts/unix-engine/nodes", &auth).await;
    assert_eq!(nodes.status, StatusCode::OK, "{}", nodes.text());
    assert_eq!(
        nodes.json(),
        serde_json::json!([]),
        "engine a is not a swarm manager"
    );

    let df = app.get("/api/v1/hosts/unix-engine/df", &auth).await;
    assert_eq!(df.status, StatusCode::OK, "{}", df.text());
    let df = df.json();
    for kind in ["images", "containers", "volumes", "build_cache"] {
        let k = &df[kind];
        for field in ["count", "active", "size_bytes", "reclaimable_bytes"] {
            assert!(
                k[field].is_u64(),
                "{kind}.{field} is reported by API 1.41: {df}"
            );
        }
        assert!(
            k["reclaimable_bytes"].as_u64() <= k["size_bytes"].as_u64(),
            "{kind}: {k}"
        );
    }
    assert!(
        df["images"]["count"].as_u64() >= Some(1),
        "the test image: {df}"
    );

    for path in [
        "/api/v1/hosts/tls-engine/nodes",
        "/api/v1/hosts/tls-engine/df",
        "/api/v1/hosts/nope/nodes",
        "/api/v1/hosts/nope/df",
    ] {
        let res = app.get(path, &auth).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {}", res.text());
        assert_eq!(res.json()["error"]["code"], "not_found", "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_and_disk_usage_need_a_session_and_a_live_engine() {
    let app = TestApp::new().await;
    for path in [
        "/api/v1/hosts/unix-engine/nodes",
        "/api/v1/hosts/unix-engine/df",
    ] {
        assert_eq!(
            app.get(path, &[]).await.status,
            StatusCode::UNAUTHORIZED,
            "{path}"
        );
    }
    let root = app.as_root().await;
    for path in [
        "/api/v1/hosts/stopped-engine/nodes",
        "/api/v1/hosts/stopped-engine/df",
    ] {
        let res = app.get(path, &[("cookie", &root)]).await;
        assert_eq!(
            res.status,
            StatusCode::BAD_GATEWAY,
            "{path}: {}",
            res.text()
        );
        let error = res.json()["error"].clone();
        assert_eq!(error["code"], "engine_unreachable", "{path}");
        assert!(
            !error["message"]
                .as_str()
                .unwrap_or_default()
                .contains("127.0.0.1"),
            "no transport detail: {error}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_host_page_is_rendered_with_disk_usage_and_labels() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let res = app.get("/hosts/unix-engine", &[("cookie", &root)]).await;
    assert_eq!(res.status, StatusCode::OK);
    let html = res.text();
    assert!(
        html.contains(r#"data-testid="disk-usage""#),
        "disk usage section"
    );
    for kind in ["images", "containers", "local-volumes", "build-cache"] {
        assert!(
            html.contains(&format!(r#"data-kind="{kind}""#)),
            "{kind} row"
        );
    }
    assert!(
        html.contains("reclaimable by removing what nothing uses"),
        "summary line"
    );
    assert!(html.contains(r#"data-testid="labels""#), "labels section");
    assert!(
        !html.contains(r#"data-testid="swarm-nodes""#),
        "engine a is no swarm manager"
    );
}

/// Leaves the swarm when dropped, so engine c is no manager after the test, pass or fail.
struct LeaveSwarm(String);

impl Drop for LeaveSwarm {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["-H", &self.0, "swarm", "leave", "--force"])
            .output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swarm_managers_nodes_through_the_api_and_on_its_page() {
    let url = env("CAPSTAN_TEST_SWARM_URL");
    let docker = |args: &[&str]| {
        std::process::Command::new("docker")
            .arg("-H")
            .arg(&url)
            .args(args)
            .output()
            .expect("docker CLI")
    };
    drop(LeaveSwarm(url.clone())); // whatever an earlier run left
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let init = docker(&[
        "swarm",
        "init",
        "--advertise-addr",
        "127.0.0.1",
        "--listen-addr",
        &format!("127.0.0.1:{port}"),
    ]);
    assert!(
        init.status.success(),
        "swarm init: {}",
        String::from_utf8_lossy(&init.stderr)
    );
    let _leave = LeaveSwarm(url.clone());

    let app = TestApp::new().await;
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), ("sec-fetch-site", "same-origin")];
    let add = app
        .send(
            Method::POST,
            "/api/v1/hosts",
            &w,
            Some(serde_json::json!({"slug": "swarm-engine", "name": "swarm", "url": url})),
        )
        .await;
    assert_eq!(add.status, StatusCode::CREATED, "{}", add.text());

    let mut nodes = serde_json::Value::Null;
    for _ in 0..50 {
        let res = app.get("/api/v1/hosts/swarm-engine/nodes", &w).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.text());
        nodes = res.json();
        if nodes[0]["status"] == "ready" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let list = nodes.as_array().expect("array");
    assert_eq!(list.len(), 1, "{nodes}");
    let n = &list[0];
    assert_eq!(
        (n["role"].as_str(), n["manager_status"].as_str()),
        (Some("manager"), Some("leader")),
        "{n}"
    );
    assert_eq!(
        (n["status"].as_str(), n["availability"].as_str()),
        (Some("ready"), Some("active")),
        "{n}"
    );
    assert_eq!(n["address"], "127.0.0.1");
    assert!(
        n["engine_version"].as_str().is_some_and(|v| !v.is_empty()) && n["hostname"].is_string(),
        "{n}"
    );

    let page = app.get("/hosts/swarm-engine", &w).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains(r#"data-testid="swarm-nodes""#),
        "a manager's page lists its nodes"
    );
    assert!(
        html.contains(&format!(
            r#"data-node="{}""#,
            n["id"].as_str().unwrap_or_default()
        )),
        "the node's row"
    );
}
