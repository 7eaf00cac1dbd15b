//! REST for top, changes, commit, export and the file browser, over the router and the private
//! test engines. Containers and images are named `capstan-h3-…` and removed when a test ends.

use crate::common::{docker, env, must, people, Resp, TestApp, SAME_ORIGIN};
use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use http_body_util::BodyExt;
use serde_json::json;
use tower::ServiceExt;

/// A busybox container running `sleep 600` on the unix engine; removed with its images on drop.
struct Scratch {
    name: String,
    images: Vec<String>,
}

impl Scratch {
    fn start(test: &str) -> Scratch {
        let name = format!("capstan-h3-{test}-{:08x}", rand::random::<u32>());
        must(&[
            "run",
            "-d",
            "--name",
            &name,
            &env("CAPSTAN_TEST_IMAGE"),
            "sleep",
            "600",
        ]);
        Scratch {
            name,
            images: Vec::new(),
        }
    }

    fn url(&self, rest: &str) -> String {
        format!("/api/v1/hosts/unix-engine/containers/{}/{rest}", self.name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.name]);
        for image in &self.images {
            let _ = docker(&["rmi", "-f", image]);
        }
    }
}

/// A PUT with a raw body and the caller's headers.
async fn put(app: &TestApp, uri: &str, headers: &[(&str, &str)], body: Body) -> Resp {
    let mut req = Request::builder().method(Method::PUT).uri(uri);
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

/// (path, contents) of the regular files of a tar: ustar and GNU headers, GNU long names and
/// pax `path` records — enough for what the engines send.
fn tar_files(tar: &[u8]) -> Vec<(String, Vec<u8>)> {
    let field = |b: &[u8]| {
        String::from_utf8_lossy(b.split(|c| *c == 0).next().unwrap_or_default()).into_owned()
    };
    let octal = |b: &[u8]| usize::from_str_radix(field(b).trim(), 8).unwrap_or(0);
    let mut files = Vec::new();
    let mut long_name: Option<String> = None;
    let mut at = 0;
    while at + 512 <= tar.len() {
        let h = &tar[at..at + 512];
        if h.iter().all(|b| *b == 0) {
            break;
        }
        let size = octal(&h[124..136]);
        let data = &tar[at + 512..at + 512 + size];
        let mut name = field(&h[0..100]);
        if &h[257..262] == b"ustar" && h[345] != 0 {
            name = format!("{}/{name}", field(&h[345..500]));
        }
        match h[156] {
            b'L' => long_name = Some(field(data)),
            b'x' => {
                let text = String::from_utf8_lossy(data);
                long_name = text
                    .lines()
                    .find_map(|l| l.split_once(" path=").map(|(_, p)| p.to_string()))
                    .or(long_name);
            }
            kind => {
                let name = long_name.take().unwrap_or(name);
                if kind == b'0' || kind == 0 {
                    files.push((name, data.to_vec()));
                }
            }
        }
        at += 512 + size.div_ceil(512) * 512;
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_download_changes_and_commit_as_a_manager() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let mut c = Scratch::start("rest-files");
    let w = [("cookie", root.as_str()), SAME_ORIGIN];

    // A single raw file into /etc, then back out as a tar.
    let content = b"written through the API\n".repeat(300);
    let up = put(
        &app,
        &c.url("archive?path=/etc&name=capstan-note.txt"),
        &[w[0], w[1], ("content-type", "application/octet-stream")],
        Body::from(content.clone()),
    )
    .await;
    assert_eq!(up.status, StatusCode::NO_CONTENT, "{}", up.text());

    let down = app
        .get(&c.url("archive?path=/etc/capstan-note.txt"), &[w[0]])
        .await;
    assert_eq!(down.status, StatusCode::OK, "{}", down.text());
    assert_eq!(down.headers[header::CONTENT_TYPE], "application/x-tar");
    assert_eq!(
        down.headers[header::CONTENT_DISPOSITION],
        "attachment; filename=\"capstan-note.txt.tar\""
    );
    let files = tar_files(&down.body);
    assert_eq!(files, vec![("capstan-note.txt".to_string(), content)]);

    // The listing shows it; so does diff.
    let listing = app.get(&c.url("files?path=/etc"), &[w[0]]).await;
    assert_eq!(listing.status, StatusCode::OK, "{}", listing.text());
    let listing = listing.json();
    assert_eq!(listing["path"], "/etc");
    assert_eq!(listing["truncated"], false);
    let note = listing["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["name"] == "capstan-note.txt")
        .cloned();
    let note = note.expect("the uploaded file is listed");
    assert_eq!(
        (
            note["kind"].as_str(),
            note["size"].as_u64(),
            note["mode"].as_u64()
        ),
        (Some("file"), Some(7200), Some(0o644))
    );
    assert!(note["link_target"].is_null());
    let mtab = listing["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .find(|e| e["name"] == "mtab")
        .cloned()
        .expect("mtab");
    assert_eq!(
        (mtab["kind"].as_str(), mtab["link_target"].as_str()),
        (Some("symlink"), Some("/proc/mounts"))
    );

    let changes = app.get(&c.url("changes"), &[w[0]]).await;
    assert_eq!(changes.status, StatusCode::OK);
    let changes = changes.json();
    assert!(
        changes
            .as_array()
            .expect("array")
            .contains(&json!({"path": "/etc/capstan-note.txt", "kind": "added"})),
        "{changes}"
    );
    assert!(
        changes
            .as_array()
            .expect("array")
            .contains(&json!({"path": "/etc", "kind": "changed"})),
        "{changes}"
    );

    // Commit: 201 with the image id, and the image holds the file.
    let repo = format!("capstan-h3/rest-{:08x}", rand::random::<u32>());
    c.images.push(format!("{repo}:snap"));
    let body =
        json!({"repo": repo, "tag": "snap", "author": "REST test", "message": "with a note"});
    let committed = app
        .send(Method::POST, &c.url("commit"), &w, Some(body))
        .await;
    assert_eq!(
        committed.status,
        StatusCode::CREATED,
        "{}",
        committed.text()
    );
    let image_id = committed.json()["image_id"]
        .as_str()
        .expect("image_id")
        .to_string();
    let seen = must(&[
        "image",
        "inspect",
        "--format",
        "{{.Id}} {{.Comment}}",
        &format!("{repo}:snap"),
    ]);
    assert_eq!(seen, format!("{image_id} with a note"));
    let out = must(&[
        "run",
        "--rm",
        &format!("{repo}:snap"),
        "wc",
        "-c",
        "/etc/capstan-note.txt",
    ]);
    assert!(out.starts_with("7200"), "{out}");

    for (body, field) in [
        (json!({"repo": "Has/Capitals"}), "repo"),
        (json!({"repo": "ok", "tag": "bad tag"}), "tag"),
        (json!({"tag": "x"}), "repo"),
    ] {
        let res = app
            .send(Method::POST, &c.url("commit"), &w, Some(body))
            .await;
        assert_eq!(
            res.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            res.text()
        );
        assert!(
            res.json()["error"]["message"]
                .as_str()
                .expect("message")
                .contains(field),
            "{}",
            res.text()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn top_export_and_a_tar_upload() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let c = Scratch::start("rest-top");
    let w = [("cookie", root.as_str()), SAME_ORIGIN];

    let top = app.get(&c.url("top"), &[w[0]]).await;
    assert_eq!(top.status, StatusCode::OK, "{}", top.text());
    let top = top.json();
    assert!(
        top["titles"]
            .as_array()
            .expect("titles")
            .iter()
            .any(|t| t == "CMD"),
        "{top}"
    );
    assert!(
        top["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .any(|r| r.to_string().contains("sleep 600")),
        "{top}"
    );
    let custom = app
        .get(&c.url("top?ps_args=-o%20pid,comm"), &[w[0]])
        .await
        .json();
    assert_eq!(custom["titles"], json!(["PID", "COMMAND"]));
    let bad = app.get(&c.url("top?ps_args=aux;reboot"), &[w[0]]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text().contains("ps_args"), "{}", bad.text());

    // A tar body is extracted into the folder.
    let mut tar = Vec::new();
    let mut header = [0u8; 512];
    header[..9].copy_from_slice(b"from-tar\0");
    header[100..108].copy_from_slice(b"0000644\0");
    header[108..116].copy_from_slice(b"0000000\0");
    header[116..124].copy_from_slice(b"0000000\0");
    header[124..136].copy_from_slice(b"00000000003\0");
    header[136..148].copy_from_slice(b"00000000000\0");
    header[156] = b'0';
    header[257..263].copy_from_slice(b"ustar\0");
    header[263..265].copy_from_slice(b"00");
    header[148..156].copy_from_slice(b"        ");
    let sum: u32 = header.iter().map(|b| u32::from(*b)).sum();
    header[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    tar.extend_from_slice(&header);
    tar.extend_from_slice(b"abc");
    tar.resize(512 * 4, 0);
    let up = put(
        &app,
        &c.url("archive?path=/etc"),
        &[w[0], w[1], ("content-type", "application/x-tar")],
        Body::from(tar),
    )
    .await;
    assert_eq!(up.status, StatusCode::NO_CONTENT, "{}", up.text());
    let back = tar_files(
        &app.get(&c.url("archive?path=/etc/from-tar"), &[w[0]])
            .await
            .body,
    );
    assert_eq!(back, vec![("from-tar".to_string(), b"abc".to_vec())]);

    // Asked as a browser asks: archives are never compressed on the way (issue 19, item 4).
    let export = app
        .get(
            &c.url("export"),
            &[w[0], ("accept-encoding", "gzip, deflate, br")],
        )
        .await;
    assert_eq!(export.status, StatusCode::OK, "{}", export.text());
    assert_eq!(export.headers[header::CONTENT_TYPE], "application/x-tar");
    assert!(
        !export.headers.contains_key(header::CONTENT_ENCODING),
        "a tar is sent as it is"
    );
    assert_eq!(
        export.headers[header::CONTENT_DISPOSITION],
        format!("attachment; filename=\"{}.tar\"", c.name).as_str()
    );
    let files = tar_files(&export.body);
    assert!(
        files
            .iter()
            .any(|(p, d)| p == "bin/busybox" && d.len() > 100_000),
        "{} files",
        files.len()
    );
    assert!(files
        .iter()
        .any(|(p, d)| p == "etc/from-tar" && d == b"abc"));

    must(&["stop", "-t", "0", &c.name]);
    let stopped = app.get(&c.url("top"), &[w[0]]).await;
    assert_eq!(stopped.status, StatusCode::CONFLICT);
    assert_eq!(
        stopped.json()["error"]["message"],
        "container is not running"
    );
    // Files still list on a stopped container.
    let listing = app.get(&c.url("files?path=/etc"), &[w[0]]).await;
    assert_eq!(listing.status, StatusCode::OK, "{}", listing.text());
    assert!(listing.json()["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .any(|e| e["name"] == "from-tar"));

    let missing = app
        .get(
            "/api/v1/hosts/unix-engine/containers/capstan-h3-no-such/top",
            &[w[0]],
        )
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.json()["error"]["message"], "container not found");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_paths_limits_and_roles() {
    let app = TestApp::new().await;
    let (root, viewer, stranger) = people(&app).await;
    let c = Scratch::start("rest-guard");
    let w = [("cookie", root.as_str()), SAME_ORIGIN];
    let octet = ("content-type", "application/octet-stream");

    // Over the limit (4 MiB in TestApp): by Content-Length, and by counting a chunked body.
    let limit = app.state.settings.upload_limit;
    let big = vec![b'x'; usize::try_from(limit).expect("limit") + 1];
    let declared = put(
        &app,
        &c.url("archive?path=/etc&name=too-big-1"),
        &[w[0], w[1], octet],
        Body::from(big.clone()),
    )
    .await;
    assert_eq!(
        declared.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        declared.text()
    );
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        big.chunks(64 * 1024).map(|c| Ok(c.to_vec())).collect();
    let streamed = put(
        &app,
        &c.url("archive?path=/etc&name=too-big-2"),
        &[w[0], w[1], octet],
        Body::from_stream(futures::stream::iter(chunks)),
    )
    .await;
    assert_eq!(
        streamed.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        streamed.text()
    );
    assert_eq!(streamed.json()["error"]["code"], "too_large");
    let diff = must(&["diff", &c.name]);
    assert!(!diff.contains("too-big"), "nothing may be written: {diff}");
    let (found, _) = docker(&["exec", &c.name, "ls", "/etc/too-big-1", "/etc/too-big-2"]);
    assert!(!found);

    // Paths and names.
    for (uri, status, field) in [
        (
            c.url("files?path=/etc/../bin"),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("path"),
        ),
        (
            c.url("files?path=etc"),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("path"),
        ),
        (
            c.url("files?path=/etc/hosts"),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("path"),
        ),
        (
            c.url("files?path=/no/such/dir"),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            c.url("archive?path=/no/such/file"),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            c.url("archive"),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("path"),
        ),
        (
            c.url("archive?path=/a/%00b"),
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("path"),
        ),
    ] {
        let res = app.get(&uri, &[w[0]]).await;
        assert_eq!(res.status, status, "{uri}: {}", res.text());
        if let Some(field) = field {
            assert!(
                res.json()["error"]["message"]
                    .as_str()
                    .expect("message")
                    .starts_with(field),
                "{uri}: {}",
                res.text()
            );
        }
    }
    for (query, content_type, status, what) in [
        (
            "path=/etc/..&name=a",
            "application/octet-stream",
            StatusCode::UNPROCESSABLE_ENTITY,
            "path",
        ),
        (
            "path=/etc&name=a%2Fb",
            "application/octet-stream",
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            "path=/etc",
            "application/octet-stream",
            StatusCode::UNPROCESSABLE_ENTITY,
            "name",
        ),
        (
            "path=/no/such/dir&name=a",
            "application/octet-stream",
            StatusCode::NOT_FOUND,
            "path",
        ),
        (
            "path=/etc",
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "tar",
        ),
        (
            "path=/etc",
            "application/x-tar",
            StatusCode::UNPROCESSABLE_ENTITY,
            "body",
        ),
    ] {
        let res = put(
            &app,
            &c.url(&format!("archive?{query}")),
            &[w[0], w[1], ("content-type", content_type)],
            Body::from("not a tar"),
        )
        .await;
        assert_eq!(res.status, status, "{query}: {}", res.text());
        assert!(
            res.json()["error"]["message"]
                .as_str()
                .expect("message")
                .contains(what),
            "{query}: {}",
            res.text()
        );
    }

    // A viewer sees processes, changes and files, but may not download, upload, export or commit.
    let v = [("cookie", viewer.as_str()), SAME_ORIGIN];
    for rest in ["top", "changes", "files?path=/etc"] {
        assert_eq!(
            app.get(&c.url(rest), &[v[0]]).await.status,
            StatusCode::OK,
            "viewer GET {rest}"
        );
    }
    for rest in ["archive?path=/etc/hosts", "export"] {
        assert_eq!(
            app.get(&c.url(rest), &[v[0]]).await.status,
            StatusCode::FORBIDDEN,
            "viewer GET {rest}"
        );
    }
    let up = put(
        &app,
        &c.url("archive?path=/etc&name=viewer-was-here"),
        &[v[0], v[1], octet],
        Body::from("x"),
    )
    .await;
    assert_eq!(up.status, StatusCode::FORBIDDEN);
    let commit = app
        .send(
            Method::POST,
            &c.url("commit"),
            &v,
            Some(json!({"repo": "capstan-h3/never"})),
        )
        .await;
    assert_eq!(commit.status, StatusCode::FORBIDDEN);

    // Without a grant the host does not exist.
    let s = [("cookie", stranger.as_str()), SAME_ORIGIN];
    for rest in [
        "top",
        "changes",
        "files?path=/etc",
        "archive?path=/etc/hosts",
        "export",
    ] {
        assert_eq!(
            app.get(&c.url(rest), &[s[0]]).await.status,
            StatusCode::NOT_FOUND,
            "stranger GET {rest}"
        );
    }
    let up = put(
        &app,
        &c.url("archive?path=/etc&name=stranger-was-here"),
        &[s[0], s[1], octet],
        Body::from("x"),
    )
    .await;
    assert_eq!(up.status, StatusCode::NOT_FOUND);
    // Not signed in.
    let anon = put(
        &app,
        &c.url("archive?path=/etc&name=anon"),
        &[octet],
        Body::from("x"),
    )
    .await;
    assert_eq!(anon.status, StatusCode::UNAUTHORIZED);
    let diff = must(&["diff", &c.name]);
    assert!(
        !diff.contains("was-here") && !diff.contains("anon"),
        "{diff}"
    );
}
