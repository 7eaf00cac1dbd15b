//! Accounts through the router: setup, login/logout, cookies, restarts, throttling, the
//! same-origin rule, tokens, disabled users, last-admin protection and per-host visibility;
//! and the HTTP listener itself over real sockets (timeouts, the connection cap, upgrades,
//! graceful shutdown, trusted proxies).

use crate::common::*;
use axum::http::{header, Method, StatusCode};
use serde_json::json;

const ORIGIN: (&str, &str) = ("origin", "http://capstan.test");
const HOST: (&str, &str) = ("host", "capstan.test");

/// Calls a server fn by name with a form body, as the pages do.
async fn server_fn(app: &TestApp, name: &str, form: &str, headers: &[(&str, &str)]) -> Resp {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let path = leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path.to_string())
        .find(|p| {
            p.trim_start_matches("/api/")
                .trim_end_matches(|c: char| c.is_ascii_digit())
                == name
        })
        .expect("a registered server fn");
    let mut req = axum::http::Request::post(path)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
        .router
        .clone()
        .oneshot(
            req.body(axum::body::Body::from(form.to_string()))
                .expect("request"),
        )
        .await
        .expect("response");
    let (parts, body) = res.into_parts();
    Resp {
        status: parts.status,
        headers: parts.headers,
        body: body.collect().await.expect("body").to_bytes().to_vec(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn setup_is_the_only_way_in_and_closes_after_use() {
    let app = TestApp::empty().await;
    let token = app
        .accounts
        .prepare_setup(app.dir.path())
        .await
        .expect("prepare")
        .expect("token");

    let page = app.get("/hosts", &[]).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.headers[header::LOCATION], "/setup");
    assert_eq!(
        app.get("/api/v1/hosts", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
    let login = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"username": "admin", "password": "admin"})),
        )
        .await;
    assert_eq!(
        login.status,
        StatusCode::UNAUTHORIZED,
        "no default credentials"
    );

    let wrong = app
        .send(
            Method::POST,
            "/api/v1/setup",
            &[],
            Some(json!({"setup_token": "nope", "username": "root", "password": PW})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    let missing = app
        .send(
            Method::POST,
            "/api/v1/setup",
            &[],
            Some(json!({"setup_token": token})),
        )
        .await;
    assert_eq!(missing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        missing.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("username"),
        "{}",
        missing.text()
    );

    let done = app
        .send(
            Method::POST,
            "/api/v1/setup",
            &[],
            Some(json!({"setup_token": token, "username": "root", "password": PW})),
        )
        .await;
    assert_eq!(done.status, StatusCode::CREATED, "{}", done.text());
    assert_eq!(done.json()["admin"], true);
    assert!(done.json().get("password_hash").is_none());
    let cookie = done.session_cookie().expect("signed in by setup");
    assert_eq!(
        app.get("/api/v1/me", &[("cookie", &cookie)]).await.json()["username"],
        "root"
    );

    let again = app
        .send(
            Method::POST,
            "/api/v1/setup",
            &[],
            Some(json!({"setup_token": token, "username": "x", "password": PW})),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(
        app.get("/setup", &[]).await.headers[header::LOCATION],
        "/login"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_errors_are_generic_and_cookies_are_safe() {
    let app = TestApp::new().await;
    let unknown = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"username": "ghost", "password": PW})),
        )
        .await;
    let wrong = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"username": "root", "password": "not it at all"})),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        unknown.body, wrong.body,
        "same body for unknown user and wrong password"
    );

    let ok = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"username": "root", "password": PW})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    let set_cookie = ok.set_cookie_header();
    assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
    assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    assert!(set_cookie.contains("Path=/"), "{set_cookie}");
    assert!(
        !set_cookie.contains("Secure"),
        "plain http by default: {set_cookie}"
    );
    assert!(ok.json().get("password_hash").is_none());

    // Behind a TLS-terminating proxy the cookie is Secure without any configuration.
    let proxied = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[("x-forwarded-proto", "https")],
            Some(json!({"username": "root", "password": PW})),
        )
        .await;
    assert_eq!(proxied.status, StatusCode::OK);
    assert!(
        proxied.set_cookie_header().contains("; Secure"),
        "{}",
        proxied.set_cookie_header()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_id_changes_at_login_and_logout_ends_it_on_the_server() {
    let app = TestApp::new().await;
    let first = app.as_root().await;
    let relogin = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[("cookie", &first), ORIGIN, HOST],
            Some(json!({"username": "root", "password": PW})),
        )
        .await;
    let second = relogin.session_cookie().expect("new cookie");
    assert_ne!(first, second, "a new session id at every login");
    assert_eq!(
        app.get("/api/v1/me", &[("cookie", &first)]).await.status,
        StatusCode::UNAUTHORIZED,
        "the old id is dead"
    );

    let out = app
        .send(
            Method::DELETE,
            "/api/v1/session",
            &[("cookie", &second), ORIGIN, HOST],
            None,
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    // Replaying the cookie after logout does not work: the session is gone server-side.
    assert_eq!(
        app.get("/api/v1/me", &[("cookie", &second)]).await.status,
        StatusCode::UNAUTHORIZED
    );
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
        let r = app
            .send(
                Method::POST,
                "/api/v1/session",
                &[],
                Some(json!({"username": "root", "password": "wrong password!"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"username": "root", "password": PW})),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let wait: u64 = r.headers[header::RETRY_AFTER]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert!((1..=60).contains(&wait), "{wait}");
    assert_eq!(r.json()["error"]["code"], "rate_limited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_writes_must_be_same_origin() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let body = Some(json!({"name": "t"}));
    let cases: [(&[(&str, &str)], StatusCode); 5] = [
        (
            &[("origin", "http://evil.example"), HOST],
            StatusCode::FORBIDDEN,
        ),
        (
            &[("sec-fetch-site", "cross-site"), ORIGIN, HOST],
            StatusCode::FORBIDDEN,
        ),
        (&[], StatusCode::FORBIDDEN),
        (&[ORIGIN, HOST], StatusCode::CREATED),
        (&[("sec-fetch-site", "same-origin")], StatusCode::CREATED),
    ];
    for (extra, want) in cases {
        let mut headers = vec![("cookie", cookie.as_str())];
        headers.extend_from_slice(extra);
        let r = app
            .send(Method::POST, "/api/v1/tokens", &headers, body.clone())
            .await;
        assert_eq!(r.status, want, "{extra:?}: {}", r.text());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_work_everywhere_until_revoked_or_expired() {
    let app = TestApp::new().await;
    let cookie = app.as_root().await;
    let made = app
        .send(
            Method::POST,
            "/api/v1/tokens",
            &[("cookie", &cookie), ORIGIN, HOST],
            Some(json!({"name": "ci", "expires_days": 7})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let token = made.json()["token"]
        .as_str()
        .expect("secret shown once")
        .to_string();
    let id = made.json()["id"].as_i64().expect("id");
    let bearer = format!("Bearer {token}");

    let me = app.get("/api/v1/me", &[("authorization", &bearer)]).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(
        me.json()["hosts"].as_array().expect("hosts").len(),
        3,
        "admins see every host"
    );
    // A token cannot mint tokens (one leaked token must not outlive its revocation)...
    let minted = app
        .send(
            Method::POST,
            "/api/v1/tokens",
            &[("authorization", &bearer)],
            Some(json!({"name": "from-script"})),
        )
        .await;
    assert_eq!(minted.status, StatusCode::FORBIDDEN, "{}", minted.text());
    assert!(
        minted.json()["error"]["message"]
            .as_str()
            .expect("msg")
            .contains("API token cannot create API tokens"),
        "{}",
        minted.text()
    );
    let minted_fn = server_fn(
        &app,
        "create_token",
        "name=from-script&expires_days=",
        &[("authorization", &bearer)],
    )
    .await;
    assert_eq!(
        minted_fn.status,
        StatusCode::FORBIDDEN,
        "the server fn too: {}",
        minted_fn.text()
    );
    let second = app
        .send(
            Method::POST,
            "/api/v1/tokens",
            &[("cookie", &cookie), ORIGIN, HOST],
            Some(json!({"name": "from-page"})),
        )
        .await;
    assert_eq!(second.status, StatusCode::CREATED);

    let listed = app
        .get("/api/v1/tokens", &[("authorization", &bearer)])
        .await
        .json();
    let listed = listed.as_array().expect("list");
    assert_eq!(listed.len(), 2);
    assert!(
        listed.iter().all(|t| t.get("token").is_none()),
        "secrets are never listed"
    );

    // Bearer writes need no Origin: scripts are not browsers.
    let revoke = app
        .send(
            Method::DELETE,
            &format!("/api/v1/tokens/{id}"),
            &[("authorization", &bearer)],
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    let after = app.get("/api/v1/me", &[("authorization", &bearer)]).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED);
    assert_eq!(after.json()["error"]["code"], "unauthorized");

    let other = second.json()["token"].as_str().expect("secret").to_string();
    sqlx::query("UPDATE api_tokens SET expires_at = 1")
        .execute(app.state.accounts_pool())
        .await
        .expect("age tokens");
    assert_eq!(
        app.get(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {other}"))]
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabled_users_are_out_at_once_and_the_last_admin_stays() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), ORIGIN, HOST];
    let dev = app
        .send(
            Method::POST,
            "/api/v1/users",
            &w,
            Some(json!({"username": "dev", "password": PW})),
        )
        .await;
    assert_eq!(dev.status, StatusCode::CREATED, "{}", dev.text());
    let dev_id = dev.json()["id"].as_i64().expect("id");
    let dev_cookie = app.login("dev", PW).await;
    let dev_token = app
        .send(
            Method::POST,
            "/api/v1/tokens",
            &[("cookie", &dev_cookie), ORIGIN, HOST],
            Some(json!({"name": "t"})),
        )
        .await
        .json()["token"]
        .as_str()
        .expect("token")
        .to_string();
    assert_eq!(
        app.get("/api/v1/users", &[("cookie", &dev_cookie)])
            .await
            .status,
        StatusCode::FORBIDDEN,
        "not an admin"
    );

    let disable = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{dev_id}"),
            &w,
            Some(json!({"disabled": true})),
        )
        .await;
    assert_eq!(disable.status, StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &[("cookie", &dev_cookie)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.get(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {dev_token}"))]
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );

    let root_id = app.get("/api/v1/me", &[("cookie", &root)]).await.json()["id"]
        .as_i64()
        .expect("id");
    for patch in [json!({"admin": false}), json!({"disabled": true})] {
        let r = app
            .send(
                Method::PATCH,
                &format!("/api/v1/users/{root_id}"),
                &w,
                Some(patch),
            )
            .await;
        assert_eq!(r.status, StatusCode::CONFLICT, "{}", r.text());
    }
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("/api/v1/users/{root_id}"),
            &w,
            None
        )
        .await
        .status,
        StatusCode::CONFLICT
    );
    let short = app
        .send(
            Method::POST,
            "/api/v1/users",
            &w,
            Some(json!({"username": "x", "password": "short"})),
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.json()["error"]["message"]
        .as_str()
        .expect("msg")
        .starts_with("password"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_without_a_grant_does_not_exist_for_that_user() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), ORIGIN, HOST];
    let dev_id = app
        .send(
            Method::POST,
            "/api/v1/users",
            &w,
            Some(json!({"username": "dev", "password": PW})),
        )
        .await
        .json()["id"]
        .as_i64()
        .expect("id");
    let dev = app.login("dev", PW).await;
    assert_eq!(
        app.get("/api/v1/hosts", &[("cookie", &dev)]).await.json(),
        json!([]),
        "no grants, no hosts"
    );

    let put = app
        .send(
            Method::PUT,
            "/api/v1/hosts/unix-engine/grants",
            &w,
            Some(json!({"user": dev_id, "role": "operator"})),
        )
        .await;
    assert_eq!(put.status, StatusCode::NO_CONTENT, "{}", put.text());
    let bad_role = app
        .send(
            Method::PUT,
            "/api/v1/hosts/unix-engine/grants",
            &w,
            Some(json!({"user": dev_id, "role": "owner"})),
        )
        .await;
    assert_eq!(bad_role.status, StatusCode::UNPROCESSABLE_ENTITY);
    let no_host = app
        .send(
            Method::PUT,
            "/api/v1/hosts/nope/grants",
            &w,
            Some(json!({"user": dev_id, "role": "viewer"})),
        )
        .await;
    assert_eq!(no_host.status, StatusCode::NOT_FOUND);

    let hosts = app.get("/api/v1/hosts", &[("cookie", &dev)]).await.json();
    let slugs: Vec<_> = hosts
        .as_array()
        .expect("list")
        .iter()
        .map(|h| h["slug"].clone())
        .collect();
    assert_eq!(slugs, vec![json!("unix-engine")]);
    assert_eq!(
        app.get("/api/v1/hosts/unix-engine", &[("cookie", &dev)])
            .await
            .status,
        StatusCode::OK
    );
    let hidden = app
        .get("/api/v1/hosts/tls-engine", &[("cookie", &dev)])
        .await;
    let missing = app
        .get("/api/v1/hosts/no-such-host", &[("cookie", &dev)])
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    assert_eq!(
        hidden.body, missing.body,
        "a hidden host looks exactly like a missing one"
    );
    assert_eq!(
        app.get("/api/v1/me", &[("cookie", &dev)]).await.json()["hosts"],
        json!([{"host": "unix-engine", "role": "operator"}])
    );
    let grants = app
        .get("/api/v1/hosts/unix-engine/grants", &[("cookie", &root)])
        .await
        .json();
    assert_eq!(grants[0]["name"], "dev");
    assert_eq!(
        app.get("/api/v1/hosts/unix-engine/grants", &[("cookie", &dev)])
            .await
            .status,
        StatusCode::FORBIDDEN
    );

    let revoke = app
        .send(
            Method::DELETE,
            &format!("/api/v1/hosts/unix-engine/grants?user={dev_id}"),
            &w,
            None,
        )
        .await;
    assert_eq!(revoke.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.get("/api/v1/hosts/unix-engine", &[("cookie", &dev)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changing_the_password_ends_other_sessions_but_not_this_one() {
    let app = TestApp::new().await;
    let here = app.as_root().await;
    let elsewhere = app.login("root", PW).await;
    let wrong = app
        .send(
            Method::POST,
            "/api/v1/me/password",
            &[("cookie", &here), ORIGIN, HOST],
            Some(json!({"current": "nope nope nope", "new": "a brand new password"})),
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ok = app
        .send(
            Method::POST,
            "/api/v1/me/password",
            &[("cookie", &here), ORIGIN, HOST],
            Some(json!({"current": PW, "new": "a brand new password"})),
        )
        .await;
    assert_eq!(ok.status, StatusCode::NO_CONTENT, "{}", ok.text());
    let here = ok.session_cookie().unwrap_or(here);
    assert_eq!(
        app.get("/api/v1/me", &[("cookie", &here)]).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.get("/api/v1/me", &[("cookie", &elsewhere)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_password_change_revokes_the_callers_tokens_unless_asked_to_keep_them() {
    let app = TestApp::new().await;
    let dev = app.user_with_roles("dev", &[]).await;
    let bearer = dev.bearer();
    let change = |current: &'static str, new: &'static str, keep: Option<bool>| {
        let mut body = json!({"current": current, "new": new});
        if let Some(keep) = keep {
            body["keep_tokens"] = json!(keep);
        }
        body
    };
    // Kept on purpose: the token still works.
    let kept = app
        .send(
            Method::POST,
            "/api/v1/me/password",
            &dev.page(),
            Some(change(PW, "a second long password", Some(true))),
        )
        .await;
    assert_eq!(kept.status, StatusCode::NO_CONTENT, "{}", kept.text());
    assert_eq!(
        app.get("/api/v1/me", &[("authorization", &bearer)])
            .await
            .status,
        StatusCode::OK
    );
    let cookie = kept.session_cookie().expect("this session carries on");

    // By default (no keep_tokens): revoked with the change, through the token cache.
    let changed = app
        .send(
            Method::POST,
            "/api/v1/me/password",
            &from_page(&cookie),
            Some(change(
                "a second long password",
                "a third long password",
                None,
            )),
        )
        .await;
    assert_eq!(changed.status, StatusCode::NO_CONTENT, "{}", changed.text());
    assert_eq!(
        app.get("/api/v1/me", &[("authorization", &bearer)])
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    let cookie = changed.session_cookie().expect("this session carries on");
    assert_eq!(
        app.get("/api/v1/tokens", &[("cookie", &cookie)])
            .await
            .json(),
        json!([])
    );

    // An admin's reset revokes them too.
    let token = app.token_for(dev.id).await;
    let root = app.as_root().await;
    let reset = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{}", dev.id),
            &from_page(&root),
            Some(json!({"password": "set by the admin"})),
        )
        .await;
    assert_eq!(reset.status, StatusCode::OK, "{}", reset.text());
    assert_eq!(
        app.get(
            "/api/v1/me",
            &[("authorization", &format!("Bearer {token}"))]
        )
        .await
        .status,
        StatusCode::UNAUTHORIZED
    );

    // Guessing the current password is throttled like signing in.
    let cookie = app.login("dev", "set by the admin").await;
    for _ in 0..5 {
        let r = app
            .send(
                Method::POST,
                "/api/v1/me/password",
                &from_page(&cookie),
                Some(change("a wrong guess!", "a fifth long password", None)),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", r.text());
    }
    let r = app
        .send(
            Method::POST,
            "/api/v1/me/password",
            &from_page(&cookie),
            Some(change("set by the admin", "a fifth long password", None)),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
    assert!(r.headers.contains_key(header::RETRY_AFTER));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forwarded_for_header_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::new().await;
    // No proxy is trusted: a client choosing a new X-Forwarded-For each time is still one address.
    for i in 0..5 {
        let xff = format!("203.0.113.{i}");
        let r = app
            .send(
                Method::POST,
                "/api/v1/session",
                &[("x-forwarded-for", &xff)],
                Some(json!({"username": format!("u{i}"), "password": "wrong password!"})),
            )
            .await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    let r = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[("x-forwarded-for", "198.51.100.77")],
            Some(json!({"username": "root", "password": PW})),
        )
        .await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS, "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_send_strangers_to_login_with_a_safe_next() {
    let app = TestApp::new().await;
    let r = app.get("/hosts?x=1", &[]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(r.headers[header::LOCATION], "/login?next=/hosts%3Fx%3D1");
    assert_eq!(app.get("/login", &[]).await.status, StatusCode::OK);
    let cookie = app.as_root().await;
    assert_eq!(
        app.get("/login", &[("cookie", &cookie)]).await.headers[header::LOCATION],
        "/hosts"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_info_is_behind_the_policy_and_a_dead_engine_is_a_502() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let info = app
        .get("/api/v1/hosts/tls-engine/info", &[("cookie", &root)])
        .await;
    assert_eq!(info.status, StatusCode::OK, "{}", info.text());
    let body = info.json();
    assert!(body["engine"]["api_version"]
        .as_str()
        .expect("api")
        .starts_with("1."));
    assert!(body["runtimes"]
        .as_array()
        .expect("runtimes")
        .iter()
        .any(|r| r == "runc"));
    assert_eq!(body["swarm_state"], "inactive");

    let dead = app
        .get("/api/v1/hosts/stopped-engine/info", &[("cookie", &root)])
        .await;
    assert_eq!(dead.status, StatusCode::BAD_GATEWAY);
    assert_eq!(dead.json()["error"]["code"], "engine_unreachable");
    assert!(
        !dead.text().contains("127.0.0.1"),
        "no transport detail: {}",
        dead.text()
    );

    app.accounts
        .create_user("dev", PW, false)
        .await
        .expect("dev");
    let dev = app.login("dev", PW).await;
    assert_eq!(
        app.get("/api/v1/hosts/tls-engine/info", &[("cookie", &dev)])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get("/api/v1/hosts/tls-engine/info", &[]).await.status,
        StatusCode::UNAUTHORIZED
    );
}

// ---------- the HTTP listener, over real sockets ----------

mod listener {
    use std::net::SocketAddr;
    use std::time::{Duration, Instant};

    use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
    use axum::extract::ConnectInfo;
    use axum::routing::get;
    use axum::Router;
    use futures::{SinkExt, StreamExt};
    use server::http::listener::{serve, Limits};
    use server::http::security::{client_address, Cidr, TrustedProxies};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpStream;
    use tokio_util::sync::CancellationToken;

    struct Listening {
        addr: SocketAddr,
        stop: CancellationToken,
        served: tokio::task::JoinHandle<std::io::Result<()>>,
    }

    impl Listening {
        async fn stop(self) {
            self.stop.cancel();
            let served = tokio::time::timeout(Duration::from_secs(10), self.served).await;
            served
                .expect("serve returns after shutdown")
                .expect("task")
                .expect("served");
        }
    }

    async fn listen(app: Router, limits: Limits) -> Listening {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = CancellationToken::new();
        let served = tokio::spawn(serve(listener, app, limits, stop.clone().cancelled_owned()));
        Listening { addr, stop, served }
    }

    fn limits(header_read: u64, idle: u64, max_connections: usize) -> Limits {
        Limits {
            header_read: Duration::from_secs(header_read),
            idle: Duration::from_secs(idle),
            max_connections,
        }
    }

    fn hello() -> Router {
        Router::new().route("/", get(|| async { "hello" })).route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                "slow"
            }),
        )
    }

    /// One keep-alive request on `s`; the answer's body.
    async fn ask(s: &mut TcpStream, path: &str, extra: &str) -> String {
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: capstan.test\r\n{extra}\r\n").as_bytes())
            .await
            .expect("write");
        read_answer(s).await.expect("an answer")
    }

    async fn read_answer(s: &mut TcpStream) -> Option<String> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let text = String::from_utf8_lossy(&buf).into_owned();
            if let Some((head, body)) = text.split_once("\r\n\r\n") {
                let len: usize = head
                    .lines()
                    .find_map(|l| {
                        l.to_ascii_lowercase()
                            .strip_prefix("content-length:")
                            .map(|v| v.trim().parse().expect("length"))
                    })
                    .unwrap_or(0);
                if body.len() >= len {
                    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
                    return Some(body.to_string());
                }
            }
            let n = s.read(&mut chunk).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    /// Waits for the server to close `s`; how long that took.
    async fn closed_after(s: &mut TcpStream, within: Duration) -> Duration {
        let started = Instant::now();
        let mut chunk = [0u8; 1024];
        loop {
            match tokio::time::timeout(within, s.read(&mut chunk)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
                Ok(Ok(_)) => continue,
                Err(_) => panic!("the connection was still open after {within:?}"),
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_request_head_that_never_ends_is_cut_at_the_header_timeout() {
        let server = listen(hello(), limits(1, 60, 16)).await;

        // Half a request line, then nothing.
        let mut half = TcpStream::connect(server.addr).await.expect("connect");
        half.write_all(b"GET / HT").await.expect("write");
        let took = closed_after(&mut half, Duration::from_secs(5)).await;
        assert!(
            took >= Duration::from_millis(800),
            "not before the timeout: {took:?}"
        );

        // A byte every 300 ms is activity, but the head still has to be done within the timeout.
        let mut trickle = TcpStream::connect(server.addr).await.expect("connect");
        let started = Instant::now();
        let mut cut = false;
        for b in b"GET / HTTP/1.1\r\nHost: capstan.test\r\nX-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
        {
            if trickle.write_all(&[*b]).await.is_err() {
                cut = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
            if started.elapsed() > Duration::from_secs(4) {
                break;
            }
        }
        if !cut {
            closed_after(&mut trickle, Duration::from_secs(2)).await;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a trickling head is cut: {:?}",
            started.elapsed()
        );

        // A connection that sends nothing at all is cut too.
        let mut silent = TcpStream::connect(server.addr).await.expect("connect");
        closed_after(&mut silent, Duration::from_secs(5)).await;

        // A real request is answered, and its connection kept alive past the header timeout.
        let mut ok = TcpStream::connect(server.addr).await.expect("connect");
        assert_eq!(ask(&mut ok, "/", "").await, "hello");
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(
            ask(&mut ok, "/", "").await,
            "hello",
            "idle keep-alive is judged by the idle timeout"
        );
        // A slow answer is not a slow client: the header timeout does not cut it.
        assert_eq!(ask(&mut ok, "/slow", "").await, "slow");
        server.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_idle_keep_alive_connection_is_closed_after_the_idle_timeout() {
        let server = listen(hello(), limits(1, 2, 16)).await;
        let mut s = TcpStream::connect(server.addr).await.expect("connect");
        assert_eq!(ask(&mut s, "/", "").await, "hello");
        let took = closed_after(&mut s, Duration::from_secs(6)).await;
        assert!(
            took >= Duration::from_millis(1700),
            "the idle timeout, not the header one: {took:?}"
        );
        server.stop().await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn connections_over_the_cap_wait_for_a_free_slot() {
        let server = listen(hello(), limits(10, 60, 2)).await;
        let mut a = TcpStream::connect(server.addr).await.expect("connect");
        let mut b = TcpStream::connect(server.addr).await.expect("connect");
        assert_eq!(ask(&mut a, "/", "").await, "hello");
        assert_eq!(ask(&mut b, "/", "").await, "hello");

        // A third connection gets through the kernel's backlog but is not served...
        let mut c = TcpStream::connect(server.addr)
            .await
            .expect("the backlog takes it");
        c.write_all(b"GET / HTTP/1.1\r\nHost: capstan.test\r\n\r\n")
            .await
            .expect("write");
        let early = tokio::time::timeout(Duration::from_millis(800), read_answer(&mut c)).await;
        assert!(early.is_err(), "served over the cap: {early:?}");
        // ...until one of the two ends.
        drop(a);
        let late = tokio::time::timeout(Duration::from_secs(5), read_answer(&mut c)).await;
        assert_eq!(
            late.expect("served once a slot is free").as_deref(),
            Some("hello")
        );
        server.stop().await;
    }

    async fn echo(ws: WebSocket, stop: CancellationToken) {
        let (mut tx, mut rx) = ws.split();
        loop {
            tokio::select! {
                () = stop.cancelled() => {
                    let _ = tx.send(Message::Close(None)).await;
                    return;
                }
                m = rx.next() => match m {
                    Some(Ok(Message::Text(t))) => { let _ = tx.send(Message::Text(t)).await; }
                    Some(Ok(_)) => {}
                    _ => return,
                },
            }
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn websockets_upgrade_hold_a_slot_and_end_with_a_graceful_shutdown() {
        let streams = CancellationToken::new();
        let app = hello().route(
            "/ws",
            get({
                let streams = streams.clone();
                move |ws: WebSocketUpgrade| async move { ws.on_upgrade(move |s| echo(s, streams)) }
            }),
        );
        // Short timeouts: an open WebSocket is not an idle HTTP connection.
        let server = listen(app, limits(1, 1, 1)).await;
        let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{}/ws", server.addr))
            .await
            .expect("upgrade");
        ws.send(tokio_tungstenite::tungstenite::Message::text("ping"))
            .await
            .expect("send");
        tokio::time::sleep(Duration::from_millis(2500)).await;
        let back = ws.next().await.expect("a message").expect("ok");
        assert_eq!(back.into_text().expect("text").as_str(), "ping");

        // The WebSocket holds the only slot.
        let mut other = TcpStream::connect(server.addr).await.expect("backlog");
        other
            .write_all(b"GET / HTTP/1.1\r\nHost: capstan.test\r\n\r\n")
            .await
            .expect("write");
        assert!(
            tokio::time::timeout(Duration::from_millis(600), read_answer(&mut other))
                .await
                .is_err()
        );

        // Shutdown: the app's streams end on their token (as Capstan's do on its shutdown
        // token), and serve returns once every connection is over.
        server.stop.cancel();
        streams.cancel();
        let closed = tokio::time::timeout(Duration::from_secs(5), async {
            while let Some(Ok(m)) = ws.next().await {
                if m.is_close() {
                    break;
                }
            }
        })
        .await;
        assert!(closed.is_ok(), "the WebSocket was closed at shutdown");
        drop(ws);
        drop(other);
        let served = tokio::time::timeout(Duration::from_secs(10), server.served).await;
        served
            .expect("serve returns")
            .expect("task")
            .expect("served");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_graceful_shutdown_finishes_answers_in_progress() {
        let server = listen(hello(), limits(10, 60, 16)).await;
        let mut idle = TcpStream::connect(server.addr).await.expect("connect");
        assert_eq!(ask(&mut idle, "/", "").await, "hello");
        let mut busy = TcpStream::connect(server.addr).await.expect("connect");
        busy.write_all(b"GET /slow HTTP/1.1\r\nHost: capstan.test\r\n\r\n")
            .await
            .expect("write");
        tokio::time::sleep(Duration::from_millis(300)).await;
        server.stop.cancel();
        assert_eq!(
            read_answer(&mut busy).await.as_deref(),
            Some("slow"),
            "the answer in progress completes"
        );
        closed_after(&mut idle, Duration::from_secs(3)).await;
        closed_after(&mut busy, Duration::from_secs(3)).await;
        let served = tokio::time::timeout(Duration::from_secs(5), server.served).await;
        served
            .expect("serve returns")
            .expect("task")
            .expect("served");
        assert!(
            TcpStream::connect(server.addr).await.is_err(),
            "no longer listening"
        );
    }

    fn whoami(trusted: &[&str]) -> Router {
        let trusted: TrustedProxies = trusted
            .iter()
            .map(|c| c.parse::<Cidr>().expect("cidr"))
            .collect::<Vec<_>>()
            .into();
        Router::new()
            .route("/ip", get(|ConnectInfo(addr): ConnectInfo<SocketAddr>| async move { addr.ip().to_string() }))
            .layer(axum::middleware::from_fn_with_state(trusted, client_address))
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn forwarded_for_counts_only_from_a_trusted_proxy() {
        let header = "X-Forwarded-For: 198.51.100.9, 203.0.113.7\r\n";
        let proxied = listen(whoami(&["127.0.0.0/8"]), Limits::default()).await;
        let mut s = TcpStream::connect(proxied.addr).await.expect("connect");
        assert_eq!(
            ask(&mut s, "/ip", header).await,
            "203.0.113.7",
            "the rightmost untrusted hop"
        );
        assert_eq!(
            ask(&mut s, "/ip", "").await,
            "127.0.0.1",
            "no header: the proxy itself"
        );
        proxied.stop().await;

        let direct = listen(whoami(&["10.0.0.0/8"]), Limits::default()).await;
        let mut s = TcpStream::connect(direct.addr).await.expect("connect");
        assert_eq!(
            ask(&mut s, "/ip", header).await,
            "127.0.0.1",
            "an untrusted peer's header is ignored"
        );
        direct.stop().await;
    }
}
