//! Accounts through the router: setup, login/logout, cookies, restarts, throttling, the
//! same-origin rule, tokens, disabled users, last-admin protection and per-host visibility.

mod common;

use axum::http::{header, Method, StatusCode};
use common::*;
use serde_json::json;

const ORIGIN: (&str, &str) = ("origin", "http://capstan.test");
const HOST: (&str, &str) = ("host", "capstan.test");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_is_the_only_way_in_and_closes_after_use() {
    let app = TestApp::empty().await;
    let token = app.accounts.prepare_setup(app.dir.path()).await.expect("prepare").expect("token");

    let page = app.get("/hosts", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers[header::LOCATION], "/setup");
    assert_eq!(app.get("/api/v1/hosts", &[]).await.status, StatusCode::UNAUTHORIZED);
    let login = app.send(Method::POST, "/api/v1/session", &[], Some(json!({"username": "admin", "password": "admin"}))).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED, "no default credentials");

    let wrong = app.send(Method::POST, "/api/v1/setup", &[], Some(json!({"setup_token": "nope", "username": "root", "password": PW}))).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let missing = app.send(Method::POST, "/api/v1/setup", &[], Some(json!({"setup_token": token}))).await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(missing.json()["error"]["message"].as_str().expect("msg").contains("username"), "{}", missing.text());

    let done = app.send(Method::POST, "/api/v1/setup", &[], Some(json!({"setup_token": token, "username": "root", "password": PW}))).await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.text());
    assert_eq!(done.json()["admin"], true);
    assert!(done.json().get("password_hash").is_none());
    let cookie = done.session_cookie().expect("signed in by setup");
    assert_eq!(app.get("/api/v1/me", &[("cookie", &cookie)]).await.json()["username"], "root");

    let again = app.send(Method::POST, "/api/v1/setup", &[], Some(json!({"setup_token": token, "username": "x", "password": PW}))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(app.get("/setup", &[]).await.headers[header::LOCATION], "/login");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_errors_are_generic_and_cookies_are_safe() {
    let app = TestApp::new().await;
    let unknown = app.send(Method::POST, "/api/v1/session", &[], Some(json!({"username": "ghost", "password": PW}))).await;
    let wrong = app.send(Method::POST, "/api/v1/session", &[], Some(json!({"username": "root", "password": "not it at all"}))).await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(unknown.body, wrong.body, "same body for unknown user and wrong password");

    let ok = app.send(Method::POST, "/api/v1/session", &[], Some(json!({"username": "root", "password": PW}))).await;
    assert_eq!(ok.status, StatusCode::OK);
    let set_cookie = ok.set_cookie_header();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(!set_cookie.contains("Secure"), "plain http by default: {set_cookie}");
    assert!(ok.json().get("password_hash").is_none());

    // Behind a TLS-terminating proxy the cookie is Secure without any configuration.
    let proxied = app
        .send(Method::POST, "/api/v1/session", &[("x-forwarded-proto", "https")], Some(json!({"username": "root", "password": PW})))
        .await;
    assert_eq!(proxied.status, StatusCode::OK);
    assert!(proxied.set_cookie_header().contains("; Secure"), "{}", proxied.set_cookie_header());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_id_changes_at_login_and_logout_ends_it_on_the_server() {
    let app = TestApp::new().await;
    let first = app.as_root().await;
    let relogin = app
        .send(Method::POST, "/api/v1/session", &[("cookie", &first), ORIGIN, HOST], Some(json!({"username": "root", "password": PW})))
        .await;
    let second = relogin.session_cookie().expect("new cookie");
    assert_ne!(first, second, "a new session id at every login");
    assert_eq!(app.get("/api/v1/me", &[("cookie", &first)]).await.status, StatusCode::UNAUTHORIZED, "the old id is dead");

    let out = app.send(Method::DELETE, "/api/v1/session", &[("cookie", &second), ORIGIN, HOST], None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    // Replaying the cookie after logout does not work: the session is gone server-side.
    assert_eq!(app.get("/api/v1/me", &[("cookie", &second)]).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_survive_a_restart() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let dir = app.dir.clone();
    drop(app);
    let restarted = TestApp::in_dir(dir).await;
    let me = restarted.get("/api/v1/me", &[("cookie", &cookie)]).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.text());
    assert_eq!(me.json()["username"], "root");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_logins_are_throttled_with_retry_after() {
    let app = TestApp::new().await;
    for _ in 0..5 {
        let r = app.send(Method::POST, "/api/v1/session", &[], Some(json!({"username": "root", "password": "wrong password!"}))).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app.send(Method::POST, "/api/v1/session", &[], Some(json!({"username": "root", "password": PW}))).await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers[header::RETRY_AFTER].to_str().expect("ascii").parse().expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(r.json()["error"]["code"], "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_writes_must_be_same_origin() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let body = Some(json!({"name": "t"}));
    let cases: [(&[(&str, &str)], StatusCode); 5] = [
        (&[("origin", "http://evil.example"), HOST], StatusCode::FORBIDDEN),
        (&[("sec-fetch-site", "cross-site"), ORIGIN, HOST], StatusCode::FORBIDDEN),
        (&[], StatusCode::FORBIDDEN),
        (&[ORIGIN, HOST], StatusCode::CREATED),
        (&[("sec-fetch-site", "same-origin")], StatusCode::CREATED),
    ];
    for (extra, want) in cases {
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend_from_slice(extra);
        let r = app.send(Method::POST, "/api/v1/tokens", &headers, body.clone()).await;
        assert_eq!(r.status, want, "{extra:?}: {}", r.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_work_everywhere_until_revoked_or_expired() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let made = app.send(Method::POST, "/api/v1/tokens", &[("cookie", &cookie), ORIGIN, HOST], Some(json!({"name": "ci", "expires_days": 7}))).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let token = made.json()["token"].as_str().expect("secret shown once").to_string();
    let id = made.json()["id"].as_i64().expect("id");
    let bearer = format!("Bearer {token}");

    let me = app.get("/api/v1/me", &[("authorization", &bearer)]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.json()["hosts"].as_array().expect("hosts").len(), 3, "admins see every host");
    // Bearer writes need no Origin: scripts are not browsers.
    let second = app.send(Method::POST, "/api/v1/tokens", &[("authorization", &bearer)], Some(json!({"name": "from-script"}))).await;
    assert_eq!(second.status, StatusCode::CREATED);

    let listed = app.get("/api/v1/tokens", &[("authorization", &bearer)]).await.json();
    let listed = listed.as_array().expect("list");
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|t| t.get("token").is_none()), "secrets are never listed");

    let revoke = app.send(Method::DELETE, &format!("/api/v1/tokens/{id}"), &[("authorization", &bearer)], None).await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let after = app.get("/api/v1/me", &[("authorization", &bearer)]).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.json()["error"]["code"], "unauthorized");

    let other = second.json()["token"].as_str().expect("secret").to_string();
    sqlx::query("UPDATE api_tokens SET expires_at = 1").execute(app.state.accounts_pool()).await.expect("age tokens");
    assert_eq!(app.get("/api/v1/me", &[("authorization", &format!("Bearer {other}"))]).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_users_are_out_at_once_and_the_last_admin_stays() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), ORIGIN, HOST];
    let dev = app.send(Method::POST, "/api/v1/users", &w, Some(json!({"username": "dev", "password": PW}))).await;
    assert_eq!(dev.status, StatusCode::CREATED, "{}", dev.text());
    let dev_id = dev.json()["id"].as_i64().expect("id");
    let dev_cookie = app.login("dev", PW).await;
    let dev_token = app
        .send(Method::POST, "/api/v1/tokens", &[("cookie", &dev_cookie), ORIGIN, HOST], Some(json!({"name": "t"})))
        .await
        .json()["token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(app.get("/api/v1/users", &[("cookie", &dev_cookie)]).await.status, StatusCode::FORBIDDEN, "not an admin");

    let disable = app.send(Method::PATCH, &format!("/api/v1/users/{dev_id}"), &w, Some(json!({"disabled": true}))).await;
    assert_eq!(disable.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/me", &[("cookie", &dev_cookie)]).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get("/api/v1/me", &[("authorization", &format!("Bearer {dev_token}"))]).await.status, StatusCode::UNAUTHORIZED);

    let root_id = app.get("/api/v1/me", &[("cookie", &root)]).await.json()["id"].as_i64().expect("id");
    for patch in [json!({"admin": false}), json!({"disabled": true})] {
        let r = app.send(Method::PATCH, &format!("/api/v1/users/{root_id}"), &w, Some(patch)).await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    }
    assert_eq!(app.send(Method::DELETE, &format!("/api/v1/users/{root_id}"), &w, None).await.status, StatusCode::CONFLICT);
    let short = app.send(Method::POST, "/api/v1/users", &w, Some(json!({"username": "x", "password": "short"}))).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.json()["error"]["message"].as_str().expect("msg").starts_with("password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_without_a_grant_does_not_exist_for_that_user() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), ORIGIN, HOST];
    let dev_id = app.send(Method::POST, "/api/v1/users", &w, Some(json!({"username": "dev", "password": PW}))).await.json()["id"]
        .as_i64()
        .expect("id");
    let dev = app.login("dev", PW).await;
    assert_eq!(app.get("/api/v1/hosts", &[("cookie", &dev)]).await.json(), json!([]), "no grants, no hosts");

    let put = app.send(Method::PUT, "/api/v1/hosts/unix-engine/grants", &w, Some(json!({"user": dev_id, "role": "operator"}))).await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.text());
    let bad_role = app.send(Method::PUT, "/api/v1/hosts/unix-engine/grants", &w, Some(json!({"user": dev_id, "role": "owner"}))).await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_host = app.send(Method::PUT, "/api/v1/hosts/nope/grants", &w, Some(json!({"user": dev_id, "role": "viewer"}))).await;
    assert_eq!(no_host.status, StatusCode::NOT_FOUND);

    let hosts = app.get("/api/v1/hosts", &[("cookie", &dev)]).await.json();
    let slugs: Vec<_> = hosts.as_array().expect("list").iter().map(|h| h["slug"].clone()).collect();
    assert_eq!(slugs, vec![json!("unix-engine")]);
    assert_eq!(app.get("/api/v1/hosts/unix-engine", &[("cookie", &dev)]).await.status, StatusCode::OK);
    let hidden = app.get("/api/v1/hosts/tls-engine", &[("cookie", &dev)]).await;
    let missing = app.get("/api/v1/hosts/no-such-host", &[("cookie", &dev)]).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(hidden.body, missing.body, "a hidden host looks exactly like a missing one");
    assert_eq!(
        app.get("/api/v1/me", &[("cookie", &dev)]).await.json()["hosts"],
        json!([{"host": "unix-engine", "role": "operator"}])
    );
    let grants = app.get("/api/v1/hosts/unix-engine/grants", &[("cookie", &root)]).await.json();
    assert_eq!(grants[0]["name"], "dev");
    assert_eq!(app.get("/api/v1/hosts/unix-engine/grants", &[("cookie", &dev)]).await.status, StatusCode::FORBIDDEN);

    let revoke = app.send(Method::DELETE, &format!("/api/v1/hosts/unix-engine/grants?user={dev_id}"), &w, None).await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get("/api/v1/hosts/unix-engine", &[("cookie", &dev)]).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_ends_other_sessions_but_not_this_one() {
    let app = TestApp::new().await;
    let here = app.as_root().await;
    let elsewhere = app.login("root", PW).await;
    let wrong = app
        .send(Method::POST, "/api/v1/me/password", &[("cookie", &here), ORIGIN, HOST], Some(json!({"current": "nope nope nope", "new": "a brand new password"})))
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = app
        .send(Method::POST, "/api/v1/me/password", &[("cookie", &here), ORIGIN, HOST], Some(json!({"current": PW, "new": "a brand new password"})))
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text());
    let here = ok.session_cookie().unwrap_or(here);
    assert_eq!(app.get("/api/v1/me", &[("cookie", &here)]).await.status, StatusCode::OK);
    assert_eq!(app.get("/api/v1/me", &[("cookie", &elsewhere)]).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_strangers_to_login_with_a_safe_next() {
    let app = TestApp::new().await;
    let r = app.get("/hosts?x=1", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/login?next=/hosts%3Fx%3D1");
    assert_eq!(app.get("/login", &[]).await.status, StatusCode::OK);
    let cookie = app.as_root().await;
    assert_eq!(app.get("/login", &[("cookie", &cookie)]).await.headers[header::LOCATION], "/hosts");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_info_is_behind_the_policy_and_a_dead_engine_is_a_502() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let info = app.get("/api/v1/hosts/tls-engine/info", &[("cookie", &root)]).await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.text());
    let body = info.json();
    assert!(body["engine"]["api_version"].as_str().expect("api").starts_with("1."));
    assert!(body["runtimes"].as_array().expect("runtimes").iter().any(|r| r == "runc"));
    assert_eq!(body["swarm_state"], "inactive");

    let dead = app.get("/api/v1/hosts/stopped-engine/info", &[("cookie", &root)]).await;
    assert_eq!(dead.status, StatusCode::BAD_GATEWAY);
    assert_eq!(dead.json()["error"]["code"], "engine_unreachable");
    assert!(!dead.text().contains("127.0.0.1"), "no transport detail: {}", dead.text());

    app.accounts.create_user("dev", PW, false).await.expect("dev");
    let dev = app.login("dev", PW).await;
    assert_eq!(app.get("/api/v1/hosts/tls-engine/info", &[("cookie", &dev)]).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get("/api/v1/hosts/tls-engine/info", &[]).await.status, StatusCode::UNAUTHORIZED);
}
