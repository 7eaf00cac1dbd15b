//! `/api/v1/hosts` for admins: add (tested first), settings without the key, change, remove with
//! grants; what other people see of it.

use crate::common::{env, TestApp, PW};
use axum::http::{Method, StatusCode};
use backend::auth::SubjectKind;
use backend::policy::Role;
use serde_json::json;

fn pem(dir: &str, file: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(&env(dir)).join(file)).expect("pem")
}

async fn bearer(app: &TestApp, username: &str, admin: bool) -> (i64, String) {
    let user = app
        .accounts
        .create_user(username, PW, admin)
        .await
        .expect("user");
    let (_, token) = app
        .accounts
        .create_token(user.id, "test", None)
        .await
        .expect("token");
    (user.id, format!("Bearer {token}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_manage_hosts_and_others_see_only_what_they_were_granted() {
    let app = TestApp::new().await;
    let (_, admin) = bearer(&app, "boss", true).await;
    let (dev_id, dev) = bearer(&app, "dev", false).await;

    let tls = json!({
        "ca": pem("CAPSTAN_TEST_TLS_DIR", "ca.pem"),
        "cert": pem("CAPSTAN_TEST_TLS_DIR", "cert.pem"),
        "key": pem("CAPSTAN_TEST_TLS_DIR", "key.pem"),
    });
    let hdr = [("authorization", admin.as_str())];
    let dev_hdr = [("authorization", dev.as_str())];

    // A dry run tests and saves nothing.
    let dry = app
        .send(Method::POST, "/api/v1/hosts", &hdr, Some(json!({"slug": "tls-2", "url": env("CAPSTAN_TEST_TLS_URL"), "tls": tls, "dry_run": true})))
        .await;
    assert_eq!(dry.status, StatusCode::OK, "{}", dry.text());
    assert!(
        !dry.json()["engine_version"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "{}",
        dry.text()
    );
    assert_eq!(
        app.get("/api/v1/hosts/tls-2", &hdr).await.status,
        StatusCode::NOT_FOUND
    );

    // Add a TLS host: 201, up, and its settings never include the key.
    let added = app
        .send(Method::POST, "/api/v1/hosts", &hdr, Some(json!({"slug": "tls-2", "name": "TLS two", "url": env("CAPSTAN_TEST_TLS_URL"), "tls": tls, "labels": {"env": "ci"}})))
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    assert_eq!(added.json()["status"], "up", "{}", added.text());
    assert_eq!(added.json()["source"], "stored");
    let settings = app.get("/api/v1/hosts/tls-2/settings", &hdr).await;
    assert_eq!(settings.status, StatusCode::OK, "{}", settings.text());
    assert!(
        !settings.text().contains("PRIVATE KEY"),
        "the key never leaves: {}",
        settings.text()
    );
    assert!(settings.json()["tls"]["cert_fingerprint"].is_string());
    assert_eq!(settings.json()["labels"]["env"], "ci");

    // Failures name the field and say what to fix.
    let cases = [
        (
            json!({"slug": "x", "url": env("CAPSTAN_TEST_REFUSED_URL")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "connection refused",
        ),
        (
            json!({"slug": "x", "url": env("CAPSTAN_TEST_TLS_URL"), "tls": {"ca": pem("CAPSTAN_TEST_ROGUE_TLS_DIR", "ca.pem"), "cert": tls["cert"], "key": tls["key"]}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "not signed by the configured CA",
        ),
        (
            json!({"slug": "x", "url": "ftp://nope"}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "url",
        ),
        (
            json!({"slug": "tls-2", "url": env("CAPSTAN_TEST_UNIX_URL")}),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (
            json!({"slug": "unix-engine", "url": env("CAPSTAN_TEST_UNIX_URL")}),
            StatusCode::CONFLICT,
            "already exists",
        ),
        (
            json!({"url": env("CAPSTAN_TEST_UNIX_URL")}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "slug",
        ),
    ];
    for (body, status, words) in cases {
        let res = app
            .send(Method::POST, "/api/v1/hosts", &hdr, Some(body.clone()))
            .await;
        assert_eq!(res.status, status, "{body}: {}", res.text());
        let message = res.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(
            message.contains(words),
            "{body}: {message:?} should mention {words:?}"
        );
    }

    // Only admins administer hosts; a non-admin's attempt is 403, and hosts they were not
    // granted are absent.
    let res = app
        .send(
            Method::POST,
            "/api/v1/hosts",
            &dev_hdr,
            Some(json!({"slug": "mine", "url": env("CAPSTAN_TEST_UNIX_URL")})),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/hosts/tls-2", &dev_hdr).await.status,
        StatusCode::NOT_FOUND
    );
    let listed = app.get("/api/v1/hosts", &dev_hdr).await.json();
    assert_eq!(listed.as_array().map(Vec::len), Some(0), "{listed}");
    app.accounts
        .set_grant("tls-2", SubjectKind::User, dev_id, Role::Viewer)
        .await
        .expect("grant");
    let listed = app.get("/api/v1/hosts", &dev_hdr).await.json();
    let slugs: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|h| h["slug"].as_str())
        .collect();
    assert_eq!(slugs, ["tls-2"]);
    assert_eq!(
        app.send(
            Method::PATCH,
            "/api/v1/hosts/tls-2",
            &dev_hdr,
            Some(json!({"name": "x"}))
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.send(Method::DELETE, "/api/v1/hosts/tls-2", &dev_hdr, None)
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    // Change: the name alone; then a bad address is refused and nothing changes.
    let res = app
        .send(
            Method::PATCH,
            "/api/v1/hosts/tls-2",
            &hdr,
            Some(json!({"name": "TLS 2"})),
        )
        .await;
    assert_eq!(
        (res.status, res.json()["name"].as_str()),
        (StatusCode::OK, Some("TLS 2")),
        "{}",
        res.text()
    );
    let res = app
        .send(
            Method::PATCH,
            "/api/v1/hosts/tls-2",
            &hdr,
            Some(json!({"tls": null})),
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "plain http to a TLS port fails the test: {}",
        res.text()
    );
    assert_eq!(
        app.get("/api/v1/hosts/tls-2", &hdr).await.json()["tls"],
        true
    );
    // Command-line hosts are read-only here.
    let res = app
        .send(Method::DELETE, "/api/v1/hosts/unix-engine", &hdr, None)
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res.text().contains("--engine"), "{}", res.text());

    // Remove: the host and its grants are gone.
    assert_eq!(
        app.send(Method::DELETE, "/api/v1/hosts/tls-2", &hdr, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/v1/hosts/tls-2", &hdr).await.status,
        StatusCode::NOT_FOUND
    );
    assert!(app
        .accounts
        .grants_on("tls-2")
        .await
        .expect("grants")
        .is_empty());
    let me = app.get("/api/v1/me", &dev_hdr).await.json();
    assert_eq!(me["hosts"].as_array().map(Vec::len), Some(0), "{me}");
    assert_eq!(
        app.send(Method::DELETE, "/api/v1/hosts/tls-2", &hdr, None)
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

/// What `/api/v1/hosts/{slug}` answers on `app`, polled for a second until it is `want`.
async fn settles(app: &TestApp, slug: &str, hdr: &[(&str, &str)], want: StatusCode) -> String {
    let mut last = String::new();
    for _ in 0..20 {
        let res = app.get(&format!("/api/v1/hosts/{slug}"), hdr).await;
        if res.status == want {
            return res.text();
        }
        last = format!("{} {}", res.status, res.text());
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("{slug} did not answer {want} within a second: {last}");
}

/// Two replicas on one PostgreSQL database (the PostgreSQL pass): a host added, renamed and
/// removed through one is added, renamed and removed on the other within a second.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hosts_changed_on_one_replica_change_on_the_other() {
    let first = TestApp::new().await;
    if !first.accounts.store().database().is_postgres() {
        eprintln!("SQLite: one process serves it; this test runs in the PostgreSQL pass");
        return;
    }
    let second = TestApp::in_dir(first.dir.clone()).await;
    let (_, admin) = bearer(&first, "boss", true).await;
    let hdr = [("authorization", admin.as_str())];
    let url = env("CAPSTAN_TEST_UNIX_URL");
    let added = first
        .send(
            Method::POST,
            "/api/v1/hosts",
            &hdr,
            Some(json!({"slug": "shared", "name": "Shared", "url": url})),
        )
        .await;
    assert_eq!(added.status, StatusCode::CREATED, "{}", added.text());
    let seen = settles(&second, "shared", &hdr, StatusCode::OK).await;
    assert!(seen.contains("\"Shared\""), "{seen}");

    let renamed = first
        .send(
            Method::PATCH,
            "/api/v1/hosts/shared",
            &hdr,
            Some(json!({"name": "Renamed"})),
        )
        .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.text());
    let mut name = String::new();
    for _ in 0..20 {
        name = second.get("/api/v1/hosts/shared", &hdr).await.text();
        if name.contains("\"Renamed\"") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(name.contains("\"Renamed\""), "{name}");

    let removed = first
        .send(Method::DELETE, "/api/v1/hosts/shared", &hdr, None)
        .await;
    assert_eq!(removed.status, StatusCode::NO_CONTENT, "{}", removed.text());
    settles(&second, "shared", &hdr, StatusCode::NOT_FOUND).await;
}
