//! Capstan protects itself (issue 18, item 5): the capstan binary of this build runs inside a
//! container of the private engine `a`, with its data on a named volume and the engine's socket
//! mounted, as people deploy it; a manager of that host cannot reach Capstan's container, its
//! data volume or the host paths it mounts, a viewer cannot read its logs, and admins can.

use std::time::Duration;

use crate::common::{docker, free_port};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn env(name: &str) -> String {
    std::env::var(name)
        .unwrap_or_else(|_| panic!("{name} is not set: run the tests with `./dev test`"))
}

/// Removes the containers and volumes the test made, also when it fails.
struct Cleanup(Vec<String>, Vec<String>);

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.0 {
            let _ = docker(&["rm", "-f", "-v", c]);
        }
        for v in &self.1 {
            let _ = docker(&["volume", "rm", "-f", v]);
        }
    }
}

struct Answer {
    status: u16,
    /// The `name=value` of the session cookie the answer sets, if any.
    cookie: Option<String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }
}

/// One HTTP/1.1 request to the Capstan in the container (a plain client: the test must not
/// depend on the server's own crates to talk to it).
async fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<&Value>,
) -> Answer {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .expect("connects");
    let body = body.map(Value::to_string).unwrap_or_default();
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\nsec-fetch-site: same-origin\r\n\
         content-type: application/json\r\ncontent-length: {}\r\n",
        body.len()
    );
    if let Some(c) = cookie {
        request.push_str(&format!("cookie: {c}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(&body);
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("reads");
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        unchunk(rest)
    } else {
        rest.to_string()
    };
    let cookie = head.lines().find_map(|l| {
        l.to_ascii_lowercase()
            .starts_with("set-cookie:")
            .then(|| l[11..].trim().split(';').next().unwrap_or("").to_string())
    });
    Answer {
        status,
        cookie,
        body,
    }
}

fn unchunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || tail.len() < n {
            break;
        }
        out.push_str(&tail[..n]);
        rest = tail[n..].trim_start_matches("\r\n");
    }
    out
}

async fn login(port: u16, username: &str, password: &str) -> String {
    let body = json!({"username": username, "password": password});
    let a = http(port, "POST", "/api/v1/session", None, Some(&body)).await;
    assert_eq!(a.status, 200, "{username} signs in: {}", a.body);
    a.cookie.expect("a session cookie")
}

fn refused_as_own(a: &Answer, what: &str) {
    assert_eq!(a.status, 403, "{what}: {}", a.body);
    let e = &a.json()["error"];
    assert!(
        e["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Capstan"),
        "{what} names Capstan: {}",
        a.body
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capstan_in_a_container_keeps_its_container_and_data_to_admins() {
    let binary = env!("CARGO_BIN_EXE_capstan");
    let socket = env("CAPSTAN_TEST_UNIX_URL")
        .trim_start_matches("unix://")
        .to_string();
    let image = env("CAPSTAN_TEST_IMAGE");
    let tag = format!(
        "{:x}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0) as u64
            ^ u64::from(std::process::id())
    );
    let (me, data) = (format!("capstan-self-{tag}"), format!("capstan-data-{tag}"));
    let (made, other) = (format!("own-made-{tag}"), format!("own-other-{tag}"));
    let _cleanup = Cleanup(
        vec![me.clone(), made.clone(), other.clone()],
        vec![data.clone()],
    );
    let port = free_port();

    // Deployed as people do: the binary and the host's libraries read-only, the engine's socket,
    // a named volume for the data; the host's network so the test reaches the listener.
    let mounts = [
        format!("{binary}:/capstan:ro"),
        "/lib:/lib:ro".into(),
        "/lib64:/lib64:ro".into(),
        "/usr/lib:/usr/lib:ro".into(),
        format!("{socket}:/var/run/docker.sock"),
        format!("{data}:/data"),
    ];
    let mut common: Vec<String> = mounts
        .iter()
        .flat_map(|m| ["-v".to_string(), m.clone()])
        .collect();
    common.extend(
        [
            "-e",
            "CAPSTAN_DATA=/data",
            "-e",
            "CAPSTAN_PASSWORD=root-password-1",
        ]
        .map(String::from),
    );
    let args = |extra: &[&str]| -> Vec<String> {
        let mut a: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
        a.extend(common.clone());
        a
    };
    let mut first = args(&["run", "--rm"]);
    first.extend([
        image.clone(),
        "/capstan".into(),
        "admin".into(),
        "create".into(),
        "root".into(),
    ]);
    let (ok, out) = docker(&first.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "the first admin is made with the binary: {out}");
    let mut serve = args(&["run", "-d", "--name", &me, "--network", "host"]);
    serve.extend([
        image.clone(),
        "/capstan".into(),
        "--listen".into(),
        format!("127.0.0.1:{port}"),
    ]);
    let (ok, out) = docker(&serve.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(ok, "capstan starts in a container: {out}");
    let id = out.lines().last().unwrap_or_default().to_string();

    let mut up = false;
    for _ in 0..150 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
            && http(port, "GET", "/healthz", None, None).await.status == 200
        {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(
        up,
        "capstan answers /healthz: {}",
        docker(&["logs", "--tail", "30", &me]).1
    );

    let root = login(port, "root", "root-password-1").await;
    let mut cookies = Vec::new();
    for (name, role) in [("mia", "manager"), ("vic", "viewer")] {
        let u = http(
            port,
            "POST",
            "/api/v1/users",
            Some(&root),
            Some(&json!({"username": name, "password": "a-long-password-1", "admin": false})),
        )
        .await;
        assert_eq!(u.status, 201, "user {name}: {}", u.body);
        let uid = u.json()["id"].as_i64().expect("user id");
        let g = http(
            port,
            "PUT",
            "/api/v1/hosts/local/grants",
            Some(&root),
            Some(&json!({"user": uid, "role": role})),
        )
        .await;
        assert_eq!(g.status, 204, "grant: {}", g.body);
        cookies.push(login(port, name, "a-long-password-1").await);
    }
    let (mia, vic) = (cookies[0].as_str(), cookies[1].as_str());
    // Host mounts anywhere are allowed on this host: what stops the manager below is that the
    // paths are Capstan's, not the guardrail.
    let g = http(
        port,
        "PUT",
        "/api/v1/hosts/local/guardrails",
        Some(&root),
        Some(&json!({"bind_mounts": "any", "bind_writable": true})),
    )
    .await;
    assert_eq!(g.status, 200, "guardrails: {}", g.body);

    let c = format!("/api/v1/hosts/local/containers/{me}");
    let short = format!("/api/v1/hosts/local/containers/{}", &id[..12]);
    for (method, path, body, what) in [
        ("POST", format!("{c}/stop"), None, "stop"),
        ("POST", format!("{short}/kill"), None, "kill by short id"),
        ("POST", format!("{c}/restart"), None, "restart"),
        ("POST", format!("{c}/pause"), None, "pause"),
        (
            "POST",
            format!("{c}/rename"),
            Some(json!({"name": "not-capstan"})),
            "rename",
        ),
        ("POST", format!("{c}/recreate"), None, "recreate"),
        ("DELETE", format!("{c}?force=true"), None, "remove"),
        ("GET", format!("{c}/export"), None, "export"),
        ("GET", format!("{c}/archive?path=/data"), None, "archive"),
        ("GET", format!("{c}/files?path=/data"), None, "files"),
        (
            "POST",
            format!("{c}/commit"),
            Some(json!({"repo": "stolen"})),
            "commit",
        ),
        ("GET", format!("{c}/top"), None, "top"),
        ("GET", format!("{c}/exec?cmd=/bin/sh"), None, "exec"),
        (
            "DELETE",
            format!("/api/v1/hosts/local/volumes/{data}"),
            None,
            "remove the data volume",
        ),
    ] {
        refused_as_own(
            &http(port, method, &path, Some(mia), body.as_ref()).await,
            what,
        );
    }
    let run = |spec: Value| async move {
        http(
            port,
            "POST",
            "/api/v1/hosts/local/containers",
            Some(mia),
            Some(&spec),
        )
        .await
    };
    let volume_root = docker(&["volume", "inspect", "-f", "{{.Mountpoint}}", &data]).1;
    let engine_dir = std::path::Path::new(&volume_root)
        .ancestors()
        .nth(3)
        .expect("the engine's directory")
        .display()
        .to_string();
    for (spec, what) in [
        (
            json!({"image": image, "name": made, "volumes": [format!("{data}:/stolen")]}),
            "mount the data volume",
        ),
        (
            json!({"image": image, "name": made, "volumes_from": [me]}),
            "volumes_from",
        ),
        (
            json!({"image": image, "name": made, "pid": format!("container:{me}")}),
            "join its PID namespace",
        ),
        (
            json!({"image": image, "name": made, "network": format!("container:{}", &id[..12])}),
            "join its network",
        ),
        (
            json!({"image": image, "name": made, "volumes": [format!("{engine_dir}:/engine")]}),
            "bind the engine's directory",
        ),
        (
            json!({"image": image, "name": made, "volumes": [format!("{socket}:/var/run/docker.sock")]}),
            "bind the engine socket",
        ),
    ] {
        refused_as_own(&run(spec).await, what);
    }
    assert!(
        !docker(&["inspect", &made]).0,
        "no container was left by the refused creates"
    );

    // What is not Capstan's still works for the manager; its logs too; values of its
    // environment stay hidden even from managers.
    let made_ok =
        run(json!({"image": image, "name": other, "cmd": ["true"], "start": false})).await;
    assert_eq!(made_ok.status, 201, "{}", made_ok.body);
    assert_eq!(
        http(
            port,
            "DELETE",
            &format!("/api/v1/hosts/local/containers/{other}"),
            Some(mia),
            None
        )
        .await
        .status,
        204
    );
    assert_eq!(
        http(port, "GET", &format!("{c}/logs?tail=5"), Some(mia), None)
            .await
            .status,
        200
    );
    let seen = http(port, "GET", &c, Some(mia), None).await;
    assert_eq!(
        (seen.status, seen.json()["env_hidden"].clone()),
        (200, json!(true)),
        "{}",
        seen.body
    );
    assert!(!seen.body.contains("root-password-1"));
    refused_as_own(
        &http(port, "GET", &format!("{c}/logs?tail=5"), Some(vic), None).await,
        "viewer logs",
    );

    // Admins are not limited.
    assert_eq!(
        http(port, "GET", &format!("{c}/top"), Some(&root), None)
            .await
            .status,
        200
    );
    assert_eq!(
        http(
            port,
            "GET",
            &format!("{c}/files?path=/data"),
            Some(&root),
            None
        )
        .await
        .status,
        200
    );
    assert!(
        http(port, "GET", &c, Some(&root), None)
            .await
            .body
            .contains("root-password-1"),
        "admins see the environment"
    );
    assert_eq!(
        docker(&["inspect", "-f", "{{.State.Running}}", &me]),
        (true, "true".to_string()),
        "capstan's container is untouched"
    );
}
