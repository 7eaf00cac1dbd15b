//! The audit log through the router: REST actions, a server fn, sign-in, failed sign-in and
//! sign-out, denials (403 and the 404 of a hidden host), redaction, filters, the CSV export,
//! retention, and that rows cannot be changed. Also teams over REST, since team
//! administration is audited too. Containers made here are named `aud-<test>-<random>`.

use std::process::Command;

use crate::common::*;
use axum::http::{Method, StatusCode};
use backend::auth::SubjectKind;
use backend::policy::Role;
use serde_json::{json, Value};

struct Cleanup(String);

impl Drop for Cleanup {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args([
                "-H",
                &env("CAPSTAN_TEST_UNIX_URL"),
                "rm",
                "-f",
                "-v",
                &self.0,
            ])
            .output();
    }
}

/// A cookie-authenticated request from our own pages.
fn same(cookie: &str) -> [(&str, &str); 2] {
    [("cookie", cookie), ("sec-fetch-site", "same-origin")]
}

/// No flush first: a request is answered only once its row is committed, so every row of an
/// answered request is there (the audit tests check that on both databases).
async fn entries(app: &TestApp, cookie: &str, query: &str) -> Vec<Value> {
    let res = app
        .get(&format!("/api/v1/audit?{query}"), &same(cookie))
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    res.json()["entries"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_ins_admin_actions_and_denials_are_recorded_with_secrets_redacted() {
    let app = TestApp::new().await;
    // A failed sign-in names the account tried and is a denial.
    let bad = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"username": "root", "password": "wrong password!!"})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNAUTHORIZED);
    let root = app.as_root().await;

    let created = app
        .send(
            Method::POST,
            "/api/v1/users",
            &same(&root),
            Some(json!({"username": "vic", "password": PW, "admin": false})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text());
    let vic_id = created.json()["id"].as_i64().expect("id");
    app.accounts
        .set_grant("unix-engine", SubjectKind::User, vic_id, Role::Viewer)
        .await
        .expect("grant");
    let vic = app.login("vic", PW).await;

    // A viewer may not stop (403) and may not see tls-engine (404): both are denials.
    let stop = app
        .send(
            Method::POST,
            "/api/v1/hosts/unix-engine/containers/nothing-here/stop",
            &same(&vic),
            None,
        )
        .await;
    assert_eq!(stop.status, StatusCode::FORBIDDEN);
    let hidden = app
        .get("/api/v1/hosts/tls-engine/containers", &same(&vic))
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    // Non-admins cannot read the log.
    assert_eq!(
        app.get("/api/v1/audit", &same(&vic)).await.status,
        StatusCode::FORBIDDEN
    );
    let out = app
        .send(Method::DELETE, "/api/v1/session", &same(&vic), None)
        .await;
    assert!(out.status.is_success(), "{}", out.text());

    let logins = entries(&app, &root, "action=session.login").await;
    let failed = logins
        .iter()
        .find(|e| e["outcome"] == "denied")
        .expect("failed login row");
    assert_eq!(
        (failed["username"].as_str(), failed["status"].as_u64()),
        (Some("root"), Some(401))
    );
    assert_eq!(failed["client"], "10.1.2.3");
    assert_eq!(failed["params"]["password"], "[redacted]");
    assert!(logins
        .iter()
        .any(|e| e["outcome"] == "ok" && e["username"] == "vic"));

    let create = entries(&app, &root, "action=user.create").await;
    assert_eq!(create.len(), 1);
    assert_eq!(create[0]["username"], "root");
    assert_eq!(create[0]["params"]["username"], "vic");
    // The use case records what it made (the name, admin or not), never the password.
    assert!(
        create[0]["params"]["password"].is_null(),
        "the password never reaches the log: {}",
        create[0]["params"]
    );
    let raw: String = sqlx::query_scalar("SELECT string_agg(params, ',') FROM audit_log")
        .fetch_one(app.state.accounts_pool())
        .await
        .expect("params");
    assert!(
        !raw.contains(PW) && !raw.contains("wrong password"),
        "no password anywhere in the log: {raw}"
    );

    let denials = entries(&app, &root, "outcome=denied&user=vic").await;
    assert!(
        denials
            .iter()
            .any(|e| e["action"] == "audit.list" && e["status"] == 403),
        "reading the log is a denial too"
    );
    let forbidden = denials
        .iter()
        .find(|e| e["status"] == 403 && e["action"] == "container.stop")
        .expect("403 row");
    assert_eq!(
        (
            forbidden["action"].as_str(),
            forbidden["host"].as_str(),
            forbidden["object"].as_str()
        ),
        (
            Some("container.stop"),
            Some("unix-engine"),
            Some("nothing-here")
        )
    );
    let not_found = denials
        .iter()
        .find(|e| e["status"] == 404)
        .expect("hidden host row");
    assert_eq!(not_found["host"], "tls-engine");
    assert_eq!(not_found["action"], "container.list");

    let logout = entries(&app, &root, "action=session.logout").await;
    assert_eq!(logout[0]["username"], "vic");

    // Pages: newest first, `next_before` continues.
    let page = app.get("/api/v1/audit?limit=2", &same(&root)).await.json();
    let first: Vec<i64> = page["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|e| e["id"].as_i64())
        .collect();
    assert_eq!(first.len(), 2);
    assert!(first[0] > first[1]);
    let next = page["next_before"].as_i64().expect("more pages");
    let second = entries(&app, &root, &format!("limit=2&before={next}")).await;
    assert!(second
        .iter()
        .all(|e| e["id"].as_i64().is_some_and(|id| id < first[1])));
    // Bad filters name their field.
    let bad = app.get("/api/v1/audit?outcome=maybe", &same(&root)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("outcome"), "{}", bad.text());
    assert_eq!(
        app.get("/api/v1/audit?since=abc", &same(&root))
            .await
            .status,
        StatusCode::UNPROCESSABLE_ENTITY
    );

    // The CSV export, streamed, with the same filters.
    let csv = app.get("/api/v1/audit.csv?user=vic", &same(&root)).await;
    assert_eq!(csv.status, StatusCode::OK);
    assert!(csv.headers["content-type"]
        .to_str()
        .unwrap_or_default()
        .starts_with("text/csv"));
    let text = csv.text();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("id,time,user_id,user,client,host,object,action,params,status,outcome")
    );
    assert!(
        text.contains("container.stop") && text.contains("session.logout"),
        "{text}"
    );
    assert!(text.lines().skip(1).all(|l| l.contains(",vic,")), "{text}");
    let same = app
        .get("/api/v1/audit?format=csv&user=vic", &same(&root))
        .await;
    assert_eq!(same.text(), text);
    // As a browser asks for it: compressed, and whole once inflated (the stream used to be
    // polled again after its end under compression, which killed the connection mid-file).
    let mut headers = crate::common::from_page(&root).to_vec();
    headers.push(("accept-encoding", "gzip"));
    let zipped = app.get("/api/v1/audit.csv?user=vic", &headers).await;
    assert_eq!(zipped.headers["content-encoding"], "gzip");
    let mut inflated = String::new();
    std::io::Read::read_to_string(
        &mut flate2::read::GzDecoder::new(&zipped.body[..]),
        &mut inflated,
    )
    .expect("a whole gzip stream");
    assert_eq!(inflated, text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_fn_call_is_recorded() {
    use leptos::server_fn::ServerFn;
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let path = <app::client::session::Logout as ServerFn>::PATH;
    let res = app
        .send(
            Method::POST,
            path,
            &[
                ("cookie", &root),
                ("sec-fetch-site", "same-origin"),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            None,
        )
        .await;
    assert!(
        res.status.is_success() || res.status.is_redirection(),
        "{}: {}",
        res.status,
        res.text()
    );
    let root = app.as_root().await;
    let rows = entries(&app, &root, "action=fn.logout").await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["username"], "root");
    // Reads through server fns are not recorded.
    let reads = entries(&app, &root, "action=fn.current_user").await;
    assert!(reads.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn who_stopped_this_container_and_when() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let name = unique("stop");
    let _cleanup = Cleanup(name.clone());
    let image = env("CAPSTAN_TEST_IMAGE");
    let run = app
        .send(
            Method::POST,
            "/api/v1/hosts/unix-engine/containers",
            &same(&root),
            Some(json!({"image": image, "name": name, "cmd": ["sleep", "300"], "start": true})),
        )
        .await;
    assert_eq!(run.status, StatusCode::CREATED, "{}", run.text());
    let before = backend::store::now();
    let stop = app
        .send(
            Method::POST,
            &format!("/api/v1/hosts/unix-engine/containers/{name}/stop?t=0"),
            &same(&root),
            None,
        )
        .await;
    assert_eq!(stop.status, StatusCode::NO_CONTENT, "{}", stop.text());

    let rows = entries(&app, &root, "action=container.stop&host=unix-engine").await;
    let row = rows
        .iter()
        .find(|e| e["object"] == name.as_str())
        .expect("the stop is in the log");
    assert_eq!(row["username"], "root");
    assert_eq!(row["outcome"], "ok");
    assert_eq!(row["params"]["t"], 0);
    assert!(row["at"].as_i64().is_some_and(|at| at >= before - 1));
    // Prefix filters: every action on containers.
    let all = entries(&app, &root, "action=container.&host=unix-engine").await;
    assert!(all
        .iter()
        .any(|e| e["action"] == "container.create" && e["params"]["name"] == name.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_prunes_old_rows_and_rows_cannot_be_changed() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let pool = app.state.accounts_pool();
    let now = backend::store::now();
    for (age_days, action) in [(40, "test.old"), (10, "test.recent")] {
        sqlx::query("INSERT INTO audit_log (at, action, params, status, outcome) VALUES ($1, $2, '{}', 200, 'ok')")
            .bind(now - age_days * 86_400)
            .bind(action)
            .execute(pool)
            .await
            .expect("insert");
    }
    assert_eq!(
        app.get("/api/v1/audit/settings", &same(&root)).await.json()["retention_days"],
        90
    );
    let bad = app
        .send(
            Method::PUT,
            "/api/v1/audit/settings",
            &same(&root),
            Some(json!({"retention_days": 0})),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("retention_days"));
    let set = app
        .send(
            Method::PUT,
            "/api/v1/audit/settings",
            &same(&root),
            Some(json!({"retention_days": 30})),
        )
        .await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.text());

    assert_eq!(app.state.audit.prune().await.expect("prune"), 1);
    assert!(entries(&app, &root, "action=test.old").await.is_empty());
    assert_eq!(entries(&app, &root, "action=test.recent").await.len(), 1);
    let changes = entries(&app, &root, "action=audit.settings.set").await;
    assert!(changes.iter().any(|e| e["params"]["retention_days"] == 30));

    let update = sqlx::query("UPDATE audit_log SET action = 'forged'")
        .execute(pool)
        .await;
    assert!(update.is_err(), "the store refuses to change audit rows");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_over_rest_give_their_members_the_team_role() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let dee = app
        .accounts
        .create_user("dee", PW, false)
        .await
        .expect("user");
    let dee_cookie = app.login("dee", PW).await;
    assert_eq!(
        app.get("/api/v1/teams", &same(&dee_cookie)).await.status,
        StatusCode::FORBIDDEN
    );

    let team = app
        .send(
            Method::POST,
            "/api/v1/teams",
            &same(&root),
            Some(json!({"name": "ops"})),
        )
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.text());
    let id = team.json()["id"].as_i64().expect("id");
    let dup = app
        .send(
            Method::POST,
            "/api/v1/teams",
            &same(&root),
            Some(json!({"name": "OPS"})),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
    let nameless = app
        .send(Method::POST, "/api/v1/teams", &same(&root), Some(json!({})))
        .await;
    assert_eq!(nameless.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(nameless.text().contains("name"));

    let add = app
        .send(
            Method::PUT,
            &format!("/api/v1/teams/{id}/members/{}", dee.id),
            &same(&root),
            None,
        )
        .await;
    assert_eq!(add.status, StatusCode::CREATED);
    let again = app
        .send(
            Method::PUT,
            &format!("/api/v1/teams/{id}/members/{}", dee.id),
            &same(&root),
            None,
        )
        .await;
    assert_eq!(again.status, StatusCode::NO_CONTENT);
    assert_eq!(
        app.send(
            Method::PUT,
            &format!("/api/v1/teams/{id}/members/9999"),
            &same(&root),
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );
    let grant = app
        .send(
            Method::PUT,
            "/api/v1/hosts/unix-engine/grants",
            &same(&root),
            Some(json!({"team": id, "role": "operator"})),
        )
        .await;
    assert_eq!(grant.status, StatusCode::NO_CONTENT, "{}", grant.text());

    let me = app.get("/api/v1/me", &same(&dee_cookie)).await.json();
    assert_eq!(
        me["hosts"],
        json!([{"host": "unix-engine", "role": "operator"}])
    );
    let grants = app
        .get("/api/v1/hosts/unix-engine/grants", &same(&root))
        .await
        .json();
    assert_eq!(grants[0]["subject"], "team");
    assert_eq!(grants[0]["name"], "ops");

    let renamed = app
        .send(
            Method::PATCH,
            &format!("/api/v1/teams/{id}"),
            &same(&root),
            Some(json!({"name": "platform"})),
        )
        .await;
    assert_eq!(renamed.json()["name"], "platform");
    let got = app
        .get(&format!("/api/v1/teams/{id}"), &same(&root))
        .await
        .json();
    assert_eq!(
        got["members"],
        json!([{"user_id": dee.id, "username": "dee"}])
    );
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("/api/v1/teams/{id}"),
            &same(&root),
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.get("/api/v1/me", &same(&dee_cookie)).await.json()["hosts"],
        json!([])
    );
    assert_eq!(
        app.get(&format!("/api/v1/teams/{id}"), &same(&root))
            .await
            .status,
        StatusCode::NOT_FOUND
    );

    let rows = entries(&app, &root, "action=team.").await;
    let actions: Vec<&str> = rows.iter().filter_map(|e| e["action"].as_str()).collect();
    for a in [
        "team.create",
        "team.member.add",
        "team.update",
        "team.remove",
    ] {
        assert!(actions.contains(&a), "{a} missing from {actions:?}");
    }
}

/// The CSV link of the `/audit` page for a filter, as the page renders it.
async fn csv_link(app: &TestApp, cookie: &str, page_query: &str) -> String {
    let html = app
        .get(&format!("/audit?{page_query}"), &same(cookie))
        .await
        .text();
    let start = html
        .find("href=\"/api/v1/audit.csv")
        .unwrap_or_else(|| panic!("no CSV link in {html}"))
        + "href=\"".len();
    let end = start + html[start..].find('"').expect("end of the link");
    html[start..end].replace("&amp;", "&")
}

fn data_lines(text: &str) -> Vec<&str> {
    text.lines().skip(1).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_export_honours_every_filter_and_the_pages_link_keeps_them() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let ann = app
        .user_with_role("csv-ann", "unix-engine", Role::Viewer)
        .await;
    // Two denials of ann's (a 403 on engine a, the hidden 404 of engine b) and an admin change.
    let stop = app
        .send(
            Method::POST,
            "/api/v1/hosts/unix-engine/containers/csv-nothing/stop",
            &ann.page(),
            None,
        )
        .await;
    assert_eq!(stop.status, StatusCode::FORBIDDEN);
    let hidden = app
        .get("/api/v1/hosts/tls-engine/containers", &ann.page())
        .await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let team = app
        .send(
            Method::POST,
            "/api/v1/teams",
            &same(&root),
            Some(json!({"name": "csv-team"})),
        )
        .await;
    assert_eq!(team.status, StatusCode::CREATED, "{}", team.text());
    app.state.audit.flush().await;

    let today = time::OffsetDateTime::now_utc().date();
    let day = format!(
        "{:04}-{:02}-{:02}",
        today.year(),
        u8::from(today.month()),
        today.day()
    );
    let midnight = backend::audit::day_start("since", &day).expect("day");

    // The page's link carries every filter; the dates become the export's seconds.
    let link = csv_link(
        &app,
        &root,
        &format!("user=csv-ann&host=unix-engine&action=container.&outcome=denied&since={day}&until={day}"),
    )
    .await;
    for part in [
        "user=csv-ann".to_string(),
        "host=unix-engine".into(),
        "action=container.".into(),
        "outcome=denied".into(),
        format!("since={midnight}"),
        format!("until={}", midnight + 86_400),
    ] {
        assert!(link.contains(&part), "{part} missing from {link}");
    }
    let csv = app.get(&link, &same(&root)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.text());
    let text = csv.text();
    let lines = data_lines(&text);
    assert_eq!(lines.len(), 1, "only ann's denial on engine a: {text}");
    assert!(
        lines[0].contains(",csv-ann,")
            && lines[0].contains(",unix-engine,csv-nothing,container.stop,")
            && lines[0].ends_with(",403,denied"),
        "{text}"
    );

    // Each filter narrows on its own.
    let count = |query: &'static str| {
        let app = &app;
        let root = root.clone();
        async move {
            let res = app
                .get(&format!("/api/v1/audit.csv?{query}"), &same(&root))
                .await;
            assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.text());
            let text = res.text();
            data_lines(&text)
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
        }
    };
    let all_ann = count("user=csv-ann").await;
    assert!(all_ann.iter().all(|l| l.contains(",csv-ann,")));
    assert!(all_ann.iter().any(|l| l.contains("session.login")));
    let denied = count("user=csv-ann&outcome=denied").await;
    assert_eq!(denied.len(), 2, "{denied:#?}");
    let on_b = count("user=csv-ann&host=tls-engine").await;
    assert!(
        on_b.len() == 1 && on_b[0].contains("container.list") && on_b[0].ends_with(",404,denied"),
        "{on_b:#?}"
    );
    let teams = count("action=team.").await;
    assert!(
        teams.len() == 1 && teams[0].contains(",root,") && teams[0].contains("team.create"),
        "{teams:#?}"
    );
    // A time range before today, or after it, holds none of it.
    let before = app
        .get(
            &format!("/api/v1/audit.csv?user=csv-ann&until={midnight}"),
            &same(&root),
        )
        .await;
    assert_eq!(data_lines(&before.text()).len(), 0, "{}", before.text());
    let after = app
        .get(
            &format!("/api/v1/audit.csv?user=csv-ann&since={}", midnight + 86_400),
            &same(&root),
        )
        .await;
    assert_eq!(data_lines(&after.text()).len(), 0, "{}", after.text());

    // No filter on the page: the link is the whole log.
    assert_eq!(csv_link(&app, &root, "").await, "/api/v1/audit.csv?");
}

/// Issue 18: the log cannot be flooded or emptied. Bodies of people not signed in are not read
/// past 16 KiB; a big request's row keeps what matters and the created id; a bulk action is one
/// row per target on its host, named like the single action (`container.stop`, status 204); a flood of rows waits for the writer instead of losing rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn floods_keep_their_rows_and_bulk_actions_have_one_row_per_target() {
    use leptos::server_fn::ServerFn;
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let image = env("CAPSTAN_TEST_IMAGE");
    let name = unique("flood");
    let _cleanup = Cleanup(name.clone());

    // Nobody signed in: a sign-in body past 16 KiB is refused before it is buffered.
    let big = "x".repeat(100 * 1024);
    let res = app
        .send(
            Method::POST,
            "/api/v1/session",
            &[],
            Some(json!({"username": "root", "password": big})),
        )
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text());

    // A big create: the row is cut down but keeps the image, mounts, privileges and the new id.
    let env_lines: Vec<String> = (0..300)
        .map(|i| format!("VAR_{i}={}", "v".repeat(100)))
        .collect();
    let made = app
        .send(
            Method::POST,
            "/api/v1/hosts/unix-engine/containers",
            &same(&root),
            Some(json!({"image": image, "name": name, "cmd": ["sleep", "300"], "start": false, "env": env_lines,
                        "privileged": true, "volumes": ["/tmp:/mnt:ro"], "cap_add": ["NET_ADMIN"]})),
        )
        .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.text());
    let id = made.json()["id"].as_str().expect("id").to_string();
    let rows = entries(&app, &root, "action=container.create&host=unix-engine").await;
    let row = rows
        .iter()
        .find(|e| e["params"]["name"] == name.as_str())
        .expect("the create's row");
    let p = &row["params"];
    assert_eq!(p["truncated"], true, "{p}");
    assert_eq!(p["image"], image.as_str());
    assert_eq!(p["privileged"], true);
    assert_eq!(p["volumes"], json!(["/tmp:/mnt:ro"]));
    assert_eq!(p["cap_add"], json!(["NET_ADMIN"]));
    assert_eq!(p["created_id"], id.as_str());
    assert!(
        p["fields"]
            .as_array()
            .is_some_and(|f| f.contains(&json!("env"))),
        "{p}"
    );
    assert!(row.to_string().len() < 12 * 1024, "the row is bounded");

    // A bulk action through the page's server fn: one row per target, on its own host.
    let path = <app::pages::containers::BulkAction as ServerFn>::PATH;
    let targets = json!([
        {"host": "unix-engine", "id": id, "name": name},
        {"host": "tls-engine", "id": "aud-nobody-here", "name": "aud-nobody-here"},
    ]);
    let bulk = app
        .send(
            Method::POST,
            path,
            &same(&root),
            Some(json!({"action": "stop", "targets": targets, "force": false})),
        )
        .await;
    assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.text());
    let stops = entries(&app, &root, "action=container.stop").await;
    let mine = stops
        .iter()
        .find(|e| e["object"] == id.as_str())
        .expect("the running one's row");
    assert_eq!(
        (
            mine["host"].as_str(),
            mine["status"].as_u64(),
            mine["outcome"].as_str()
        ),
        (Some("unix-engine"), Some(204), Some("ok"))
    );
    let missing = stops
        .iter()
        .find(|e| e["object"] == "aud-nobody-here")
        .expect("the missing one's row");
    assert_eq!(
        (
            missing["host"].as_str(),
            missing["status"].as_u64(),
            missing["outcome"].as_str()
        ),
        (Some("tls-engine"), Some(404), Some("failed"))
    );
    assert!(
        entries(&app, &root, "action=fn.bulk_action")
            .await
            .is_empty(),
        "no summary row instead of the targets'"
    );
    // The REST door of the same use case: a row per target too, and none for the request.
    let bulk = app
        .send(
            Method::POST,
            "/api/v1/containers/bulk",
            &same(&root),
            Some(json!({"action": "stop", "targets": [{"host": "unix-engine", "id": id}]})),
        )
        .await;
    assert_eq!(bulk.status, StatusCode::OK, "{}", bulk.text());
    assert_eq!(bulk.json()["results"][0]["status"], 204, "{}", bulk.text());
    let starts = entries(&app, &root, "action=container.stop").await;
    assert!(
        starts
            .iter()
            .any(|e| e["object"] == id.as_str() && e["host"] == "unix-engine"),
        "{starts:?}"
    );
    assert!(entries(&app, &root, "action=containers.bulk")
        .await
        .is_empty());

    // A flood bigger than the queue (3,000 rows of 12 KiB, 36 MiB): every row is written.
    let rows: Vec<_> = (0..3000)
        .map(|i| {
            let audit = app.state.audit.clone();
            tokio::spawn(async move {
                audit
                    .record(backend::audit::Record {
                        at: backend::store::now(),
                        user_id: None,
                        username: None,
                        client: None,
                        host: None,
                        object: Some(format!("row-{i}")),
                        action: "test.flood".into(),
                        params: json!({"pad": "p".repeat(12 * 1024)}),
                        status: 200,
                        outcome: backend::audit::Outcome::Ok,
                    })
                    .await
            })
        })
        .collect();
    for r in rows {
        r.await.expect("recorded");
    }
    app.state.audit.flush().await;
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM audit_log WHERE action = 'test.flood'")
            .fetch_one(app.accounts.pool())
            .await
            .expect("count");
    assert_eq!(count, 3000, "no row was dropped");
    assert_eq!(app.state.audit.queued_bytes(), 0);
}
