//! REST for images and registry credentials, over the router, the private test engines and the
//! local registry. Everything made here is named `capstan-h7-…` and removed when a test ends.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{docker, env, must, people, unique, Resp, TestApp, SAME_ORIGIN};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::{json, Value};
use tower::ServiceExt;

fn docker_with(args: &[&str], stdin: Option<&[u8]>) -> (bool, Vec<u8>, String) {
    let mut child = Command::new("docker")
        .arg("-H")
        .arg(env("CAPSTAN_TEST_UNIX_URL"))
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("docker CLI runs");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
    }
    let out = child.wait_with_output().expect("docker finishes");
    (
        out.status.success(),
        out.stdout,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn image_exists(name: &str) -> bool {
    docker(&["image", "inspect", name]).0
}

/// Images and containers to remove when a test ends, however it ends.
#[derive(Default)]
struct Cleanup {
    images: Vec<String>,
    containers: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = docker(&["rm", "-f", c]);
        }
        for i in &self.images {
            let _ = docker(&["rmi", "-f", i]);
        }
    }
}

/// A tar with one file, for imports.
fn tiny_fs_tar(content: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("hello.txt"), content).expect("write");
    let out = Command::new("tar")
        .arg("-cf")
        .arg("-")
        .arg("-C")
        .arg(dir.path())
        .arg("hello.txt")
        .output()
        .expect("tar");
    assert!(out.status.success());
    out.stdout
}

async fn send_raw(
    app: &TestApp,
    method: Method,
    uri: &str,
    headers: &[(&str, &str)],
    body: Body,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = app
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pull_streams_progress_from_the_registry_before_it_is_done() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let mut cleanup = Cleanup::default();
    let image = format!("{}/{}:v1", env("CAPSTAN_TEST_REGISTRY"), unique("pull"));
    cleanup.images.push(image.clone());
    must(&["tag", &env("CAPSTAN_TEST_IMAGE"), &image]);
    must(&["push", &image]);
    must(&["rmi", &image]);
    assert!(!image_exists(&image));

    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/hosts/unix-engine/images/pull")
        .header("cookie", &root)
        .header(SAME_ORIGIN.0, SAME_ORIGIN.1)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json!({ "image": image }).to_string()))
        .expect("request");
    let res = app.router.clone().oneshot(req).await.expect("response");
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()[header::CONTENT_TYPE], "application/x-ndjson");
    // Read the body frame by frame, as a client would, noting when each line arrived.
    let mut body = res.into_body();
    let mut pending = Vec::new();
    let mut lines: Vec<(usize, Value)> = Vec::new();
    let mut frame_no = 0;
    let started = Instant::now();
    while let Some(frame) = tokio::time::timeout(Duration::from_secs(60), body.frame())
        .await
        .expect("a frame in time")
    {
        let frame = frame.expect("frame");
        let Some(data) = frame.data_ref() else {
            continue;
        };
        frame_no += 1;
        pending.extend_from_slice(data);
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            lines.push((
                frame_no,
                serde_json::from_slice(&line).expect("each line is JSON"),
            ));
        }
    }
    assert!(pending.is_empty(), "the body ends with a newline");
    assert!(started.elapsed() < Duration::from_secs(120));
    let (last_frame, last) = lines.last().expect("lines");
    assert_eq!(last["status"], "done", "{lines:?}");
    assert_eq!(last["image"], image.as_str());
    let progress: Vec<&(usize, Value)> = lines
        .iter()
        .filter(|(_, l)| l.get("error").is_none() && l["status"] != "done")
        .collect();
    assert!(!progress.is_empty(), "progress events: {lines:?}");
    assert!(
        progress.iter().any(|(f, _)| f < last_frame),
        "progress arrived in frames before the end: {lines:?}"
    );
    assert!(
        progress.iter().any(
            |(_, l)| l["id"].is_string() && l["status"].as_str().is_some_and(|s| !s.is_empty())
        ),
        "layer events carry an id: {lines:?}"
    );
    assert!(
        image_exists(&image),
        "the image is on the engine after the pull"
    );

    // A missing image in the same registry is a 404 before any stream; a bad reference is 422.
    let w = [("cookie", root.as_str()), SAME_ORIGIN];
    let missing = format!(
        "{}/{}:nope",
        env("CAPSTAN_TEST_REGISTRY"),
        unique("missing")
    );
    let res = app
        .send(
            Method::POST,
            "/api/v1/hosts/unix-engine/images/pull",
            &w,
            Some(json!({ "image": missing })),
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.text());
    let res = app
        .send(
            Method::POST,
            "/api/v1/hosts/unix-engine/images/pull",
            &w,
            Some(json!({ "image": "Bad Name" })),
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert!(res.json()["error"]["message"]
        .as_str()
        .unwrap_or_default()
        .contains("image"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_inspect_history_tag_and_remove() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), SAME_ORIGIN];
    let mut cleanup = Cleanup::default();
    let repo = unique("tag");
    cleanup.images.push(format!("{repo}:v2"));
    let container = unique("user");
    cleanup.containers.push(container.clone());

    let res = app
        .send(
            Method::POST,
            &format!(
                "/api/v1/hosts/unix-engine/images/{}/tag",
                env("CAPSTAN_TEST_IMAGE").replace('/', "%2F")
            ),
            &w,
            Some(json!({"repo": repo, "tag": "v2"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let tagged = format!("{repo}:v2");
    assert!(image_exists(&tagged));

    let res = app.get("/api/v1/hosts/unix-engine/images", &[w[0]]).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let list = res.json();
    let ours = list
        .as_array()
        .expect("array")
        .iter()
        .find(|i| {
            i["repo_tags"]
                .as_array()
                .is_some_and(|t| t.iter().any(|t| t == tagged.as_str()))
        })
        .expect("the tagged image is listed")
        .clone();
    assert_eq!(ours["host"], "unix-engine");
    assert_eq!(ours["dangling"], false);
    let id = ours["id"].as_str().expect("id").to_owned();

    // A container made from it is counted and named, and blocks removal without force.
    must(&["create", "--name", &container, &tagged, "true"]);
    let res = app
        .get(&format!("/api/v1/hosts/unix-engine/images/{id}"), &[w[0]])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let detail = res.json();
    assert!(
        detail["containers"]
            .as_array()
            .expect("containers")
            .iter()
            .any(|c| c == container.as_str()),
        "{detail}"
    );
    assert!(detail["layers"].as_array().is_some_and(|l| !l.is_empty()));
    let listed = app.get("/api/v1/images", &[w[0]]).await;
    let list = listed.json();
    let count = list
        .as_array()
        .expect("images")
        .iter()
        .find(|i| i["id"] == id.as_str() && i["host"] == "unix-engine")
        .expect("fleet list has it")["containers"]
        .as_u64()
        .expect("count");
    assert!(count >= 1);
    assert!(
        listed
            .headers
            .get("x-capstan-unreachable")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.split(',').any(|h| h == "stopped-engine")),
        "{list}"
    );

    let res = app
        .get(
            &format!("/api/v1/hosts/unix-engine/images/{id}/history"),
            &[w[0]],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let history = res.json();
    assert!(
        history
            .as_array()
            .expect("history")
            .iter()
            .any(|h| h["created_by"]
                .as_str()
                .is_some_and(|c| c.contains("busybox"))),
        "{history}"
    );

    // The tag is shared with the test image: removing the id is refused, naming the container.
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/hosts/unix-engine/images/{id}"),
            &w,
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&container),
        "{}",
        res.text()
    );
    // Removing our tag only untags.
    let res = app
        .send(
            Method::DELETE,
            &format!("/api/v1/hosts/unix-engine/images/{tagged}"),
            &w,
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(res.json()["untagged"]
        .as_array()
        .expect("untagged")
        .iter()
        .any(|u| u == tagged.as_str()));
    assert!(!image_exists(&tagged) && image_exists(&env("CAPSTAN_TEST_IMAGE")));

    for (uri, status) in [
        ("/api/v1/hosts/unix-engine/images/sha256:0000000000000000000000000000000000000000000000000000000000000000", StatusCode::NOT_FOUND),
        ("/api/v1/hosts/unix-engine/images/..%2Fcontainers%2Fjson", StatusCode::NOT_FOUND),
        ("/api/v1/hosts/unix-engine/images?dangling=perhaps", StatusCode::UNPROCESSABLE_ENTITY),
        ("/api/v1/hosts/nowhere/images", StatusCode::NOT_FOUND),
    ] {
        let res = app.get(uri, &[w[0]]).await;
        assert_eq!(res.status, status, "{uri}: {}", res.text());
    }
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/hosts/unix-engine/images/{id}/tag"),
            &w,
            Some(json!({"repo": "Bad Repo"})),
        )
        .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert!(res.text().contains("repo"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn save_load_import_and_prune() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let w = [("cookie", root.as_str()), SAME_ORIGIN];
    let mut cleanup = Cleanup::default();

    // Save a named copy of the test image, drop it, load it back.
    let saved = format!("{}:v1", unique("save"));
    cleanup.images.push(saved.clone());
    must(&["tag", &env("CAPSTAN_TEST_IMAGE"), &saved]);
    let res = app
        .get(
            &format!("/api/v1/hosts/unix-engine/images/{saved}/export"),
            &[w[0]],
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.headers[header::CONTENT_TYPE], "application/x-tar");
    let tar = res.body;
    assert!(
        tar.len() > 100_000,
        "a saved image is a tar of its layers: {} bytes",
        tar.len()
    );
    must(&["rmi", &saved]);
    assert!(!image_exists(&saved));
    let res = send_raw(
        &app,
        Method::POST,
        "/api/v1/hosts/unix-engine/images/load",
        &[w[0], w[1], ("content-type", "application/x-tar")],
        Body::from(tar),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(
        res.json()["images"]
            .as_array()
            .expect("images")
            .iter()
            .any(|i| i == saved.as_str()),
        "{}",
        res.text()
    );
    assert!(image_exists(&saved));

    // Not a tar, and too large: refused, nothing loaded.
    let res = send_raw(
        &app,
        Method::POST,
        "/api/v1/hosts/unix-engine/images/load",
        &[w[0], w[1], ("content-type", "application/x-tar")],
        Body::from(vec![7u8; 4096]),
    )
    .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    let big = vec![0u8; 5 * 1024 * 1024];
    let res = send_raw(
        &app,
        Method::POST,
        "/api/v1/hosts/unix-engine/images/load",
        &[w[0], w[1], ("content-type", "application/x-tar")],
        Body::from(big),
    )
    .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", res.text());

    // Import a container's filesystem: the image runs.
    let source = unique("src");
    cleanup.containers.push(source.clone());
    must(&[
        "create",
        "--name",
        &source,
        &env("CAPSTAN_TEST_IMAGE"),
        "true",
    ]);
    let (ok, fs_tar, err) = docker_with(&["export", &source], None);
    assert!(ok, "{err}");
    let repo = unique("imp");
    cleanup.images.push(format!("{repo}:v1"));
    let res = send_raw(
        &app,
        Method::POST,
        &format!("/api/v1/hosts/unix-engine/images/import?repo={repo}&tag=v1"),
        &[w[0], w[1], ("content-type", "application/x-tar")],
        Body::from(fs_tar),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let imported = res.json();
    assert_eq!(imported["image"], format!("{repo}:v1"));
    assert!(imported["id"]
        .as_str()
        .is_some_and(|i| i.starts_with("sha256:")));
    let echoed = must(&[
        "run",
        "--rm",
        &format!("{repo}:v1"),
        "/bin/busybox",
        "echo",
        "imported and running",
    ]);
    assert_eq!(echoed, "imported and running");
    let res = send_raw(
        &app,
        Method::POST,
        "/api/v1/hosts/unix-engine/images/import?tag=v1",
        &[w[0], w[1]],
        Body::from(tiny_fs_tar("x")),
    )
    .await;
    assert_eq!(
        res.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        res.text()
    );
    assert!(res.text().contains("repo"));

    // Two imports to one tag leave the first dangling; a prune by our label removes it only.
    let label = format!("capstan-h7-prune={:08x}", rand::random::<u32>());
    let target = format!("{}:v1", unique("dangle"));
    cleanup.images.push(target.clone());
    let change = format!("LABEL {label}");
    let (ok, first, err) = docker_with(
        &["import", "--change", &change, "-", &target],
        Some(&tiny_fs_tar("first")),
    );
    assert!(ok, "{err}");
    let first = String::from_utf8_lossy(&first).trim().to_owned();
    cleanup.images.push(first.clone());
    let (ok, _, err) = docker_with(
        &["import", "--change", &change, "-", &target],
        Some(&tiny_fs_tar("second")),
    );
    assert!(ok, "{err}");
    let dangling = app
        .get("/api/v1/hosts/unix-engine/images?dangling=true", &[w[0]])
        .await
        .json();
    assert!(
        dangling
            .as_array()
            .expect("list")
            .iter()
            .any(|i| i["id"] == first.as_str() && i["dangling"] == true),
        "{dangling}"
    );
    let res = app
        .send(
            Method::POST,
            &format!("/api/v1/hosts/unix-engine/images/prune?label={label}"),
            &w,
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let pruned = res.json();
    assert!(
        pruned["deleted"]
            .as_array()
            .expect("deleted")
            .iter()
            .any(|d| d == first.as_str()),
        "{pruned}"
    );
    assert!(pruned["space_reclaimed"].is_u64());
    assert!(
        !image_exists(&first) && image_exists(&target),
        "only the dangling one went"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_credentials_and_a_search_without_a_registry() {
    let app = TestApp::new().await;
    let (root, viewer, stranger) = people(&app).await;
    let w = [("cookie", root.as_str()), SAME_ORIGIN];
    let v = [("cookie", viewer.as_str()), SAME_ORIGIN];
    let s = [("cookie", stranger.as_str()), SAME_ORIGIN];
    let image = env("CAPSTAN_TEST_IMAGE").replace('/', "%2F");

    // A viewer lists and inspects, but may not pull, tag, remove, prune, save or load.
    assert_eq!(
        app.get("/api/v1/hosts/unix-engine/images", &[v[0]])
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/hosts/unix-engine/images/{image}"),
            &[v[0]]
        )
        .await
        .status,
        StatusCode::OK
    );
    for (method, uri, body) in [
        (
            Method::POST,
            "/api/v1/hosts/unix-engine/images/pull".to_owned(),
            Some(json!({"image": "busybox"})),
        ),
        (
            Method::DELETE,
            format!("/api/v1/hosts/unix-engine/images/{image}"),
            None,
        ),
        (
            Method::POST,
            format!("/api/v1/hosts/unix-engine/images/{image}/tag"),
            Some(json!({"repo": "x"})),
        ),
        (
            Method::POST,
            "/api/v1/hosts/unix-engine/images/prune".to_owned(),
            None,
        ),
        (
            Method::GET,
            format!("/api/v1/hosts/unix-engine/images/{image}/export"),
            None,
        ),
    ] {
        let res = app.send(method.clone(), &uri, &v, body.clone()).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "viewer {method} {uri}: {}",
            res.text()
        );
        let res = app.send(method.clone(), &uri, &s, body).await;
        assert_eq!(
            res.status,
            StatusCode::NOT_FOUND,
            "stranger {method} {uri}: {}",
            res.text()
        );
    }
    let res = send_raw(
        &app,
        Method::POST,
        "/api/v1/hosts/unix-engine/images/load",
        &[v[0], v[1]],
        Body::from(vec![0u8; 10]),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.text());
    assert_eq!(
        app.get("/api/v1/hosts/unix-engine/images", &[s[0]])
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let fleet = app.get("/api/v1/images", &[s[0]]).await.json();
    assert!(
        fleet.as_array().expect("images").is_empty(),
        "a stranger sees no host's images"
    );

    // Registry credentials: admins only; the password never comes back.
    let server = env("CAPSTAN_TEST_REGISTRY");
    let res = app
        .send(
            Method::POST,
            "/api/v1/registries",
            &v,
            Some(json!({"server": server, "username": "u", "password": "p"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app.send(Method::POST, "/api/v1/registries", &w, Some(json!({"server": format!("http://{server}/"), "username": "ci", "password": "s3cret-token"}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let created = res.json();
    assert_eq!(created["server"], server.as_str());
    assert!(!res.text().contains("s3cret"));
    let res = app
        .send(
            Method::POST,
            "/api/v1/registries",
            &w,
            Some(json!({"server": server, "username": "ci", "password": "x"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.text());
    let res = app
        .send(
            Method::POST,
            "/api/v1/registries",
            &w,
            Some(json!({"server": "not a host", "username": "ci", "password": "x"})),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text().contains("server"));
    let list = app.get("/api/v1/registries", &[w[0]]).await;
    assert_eq!(list.status, StatusCode::OK);
    assert!(
        !list.text().contains("s3cret") && !list.text().contains("password"),
        "{}",
        list.text()
    );
    assert_eq!(list.json().as_array().map(Vec::len), Some(1));
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT password_sealed FROM registry_credentials")
        .fetch_one(app.state.accounts_pool())
        .await
        .expect("row");
    assert!(!sealed.windows(6).any(|w| w == b"s3cret"), "stored sealed");
    // The stored credentials go along with a pull from that registry (which has no auth).
    let pulled = format!("{server}/{}:v1", unique("auth"));
    let mut cleanup = Cleanup::default();
    cleanup.images.push(pulled.clone());
    must(&["tag", &env("CAPSTAN_TEST_IMAGE"), &pulled]);
    must(&["push", &pulled]);
    must(&["rmi", &pulled]);
    let res = app
        .send(
            Method::POST,
            "/api/v1/hosts/unix-engine/images/pull",
            &w,
            Some(json!({"image": pulled})),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(
        res.text()
            .lines()
            .last()
            .is_some_and(|l| l.contains("\"done\"")),
        "{}",
        res.text()
    );
    assert!(image_exists(&pulled));
    let id = created["id"].as_i64().expect("id");
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("/api/v1/registries/{id}"),
            &w,
            None
        )
        .await
        .status,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        app.send(
            Method::DELETE,
            &format!("/api/v1/registries/{id}"),
            &w,
            None
        )
        .await
        .status,
        StatusCode::NOT_FOUND
    );

    // No internet here: a search ends quickly with a clear 502/504.
    let started = Instant::now();
    let res = app
        .get(
            "/api/v1/hosts/unix-engine/images/search?term=nginx",
            &[v[0]],
        )
        .await;
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "answered in {:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            res.status,
            StatusCode::BAD_GATEWAY | StatusCode::GATEWAY_TIMEOUT
        ),
        "{}: {}",
        res.status,
        res.text()
    );
    assert!(
        res.json()["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("registry"),
        "{}",
        res.text()
    );
    let res = app
        .get("/api/v1/hosts/unix-engine/images/search?term=", &[v[0]])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
}
