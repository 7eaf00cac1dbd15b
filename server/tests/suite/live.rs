//! Logs, stats, events and the exec terminal over HTTP, against the private unix engine, with
//! the router served on a real socket for streams and WebSockets.

use std::time::Duration;

use crate::common::{serve, Container, TestApp, PW};
use futures::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const HOST: &str = "unix-engine";

/// Signs in a new user with `role` on the unix engine (none: no grant); returns the cookie.
async fn user_with(app: &TestApp, user: &str, role: Option<&str>) -> String {
    let root = app.as_root().await;
    let w = [
        ("cookie", root.as_str()),
        ("origin", "http://localhost"),
        ("host", "localhost"),
    ];
    let res = app
        .send(
            axum::http::Method::POST,
            "/api/v1/users",
            &w,
            Some(serde_json::json!({"username": user, "password": PW})),
        )
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let id = res.json()["id"].as_i64().expect("id");
    if let Some(role) = role {
        let res = app
            .send(
                axum::http::Method::PUT,
                &format!("/api/v1/hosts/{HOST}/grants"),
                &w,
                Some(serde_json::json!({"user": id, "role": role})),
            )
            .await;
        assert!(res.status.is_success(), "{}", res.text());
    }
    app.login(user, PW).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_json_text_sse_and_download() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let c = [("cookie", root.as_str())];
    let name = "capstan-h6-srv-logs";
    let _c = Container::run(
        name,
        "echo one; echo two >&2; printf '\\033[31mred\\033[0m\\n'; sleep 2; echo three; sleep 1",
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    let base = format!("/api/v1/hosts/{HOST}/containers/{name}/logs");
    let res = app.get(&format!("{base}?tail=all"), &c).await;
    assert_eq!(res.status, 200, "{}", res.text());
    let lines = res.json();
    let lines = lines.as_array().expect("array");
    // stdout and stderr are copied separately by the engine: find each line by its text.
    let find = |text: &str| {
        lines
            .iter()
            .find(|l| l["line"] == text)
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(find("one")["stream"], "stdout");
    assert_eq!(find("two")["stream"], "stderr");
    assert_eq!(
        find("\u{1b}[31mred\u{1b}[0m")["stream"],
        "stdout",
        "ANSI passed through: {lines:?}"
    );
    assert!(find("one")["ts"].is_null());
    let res = app
        .get(
            &format!("{base}?format=text&timestamps=true&stderr=false"),
            &c,
        )
        .await;
    let text = res.text();
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.starts_with("20") && l.ends_with(" one")),
        "{text}"
    );
    assert!(!text.contains("two"));
    let res = app.get(&format!("{base}?q=(&regex=true"), &c).await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("q:"), "{}", res.text());
    assert_eq!(
        app.get(&format!("{base}?tail=1000001"), &c).await.status,
        422
    );
    assert_eq!(
        app.get(
            &format!("/api/v1/hosts/{HOST}/containers/capstan-h6-nope/logs"),
            &c
        )
        .await
        .status,
        404
    );
    let res = app.get(&format!("{base}/download"), &c).await;
    assert_eq!(res.status, 200);
    assert!(res.headers["content-disposition"]
        .to_str()
        .unwrap_or_default()
        .contains("attachment"));
    assert!(
        res.text().lines().any(|l| l == "one") && res.text().lines().any(|l| l == "two"),
        "{}",
        res.text()
    );

    // Follow over SSE: history, the live line, then the end event.
    let res = app.get(&format!("{base}?follow=true&q=e"), &c).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.headers["content-type"], "text/event-stream");
    let body = res.text();
    let events: Vec<&str> = body.split("\n\n").filter(|e| !e.is_empty()).collect();
    assert!(
        events[0]
            .starts_with("event: line\ndata: {\"stream\":\"stdout\",\"ts\":null,\"line\":\"one\"}"),
        "{body}"
    );
    assert!(body.contains("\"line\":\"three\""), "{body}");
    assert!(!body.contains("\"two\""), "search filters: {body}");
    assert!(
        events.last().is_some_and(
            |e| e.starts_with("event: end\ndata: {\"reason\":\"exited\",\"exit_code\":0}")
        ),
        "{body}"
    );
}

/// Two containers' logs as one: in time order, tagged with host and container; followed over
/// SSE until both end; a container the caller may not read refuses the whole request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_logs_of_several_containers() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let c = [("cookie", root.as_str())];
    let (a, b) = ("capstan-h6-merge-a", "capstan-h6-merge-b");
    // b starts well within a's first two seconds (the docker CLI returns once it runs).
    let _a = Container::run(a, "echo a1; sleep 2; echo a2; sleep 2; echo a3");
    let _b = Container::run(b, "echo b1; sleep 2; echo b2; sleep 2; echo b3");
    tokio::time::sleep(Duration::from_millis(2600)).await;
    let res = app
        .get(
            &format!("/api/v1/logs?c={HOST}/{a},{HOST}/{b}&tail=all"),
            &c,
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.text());
    let lines: Vec<(String, String)> = res
        .json()
        .as_array()
        .expect("array")
        .iter()
        .map(|l| {
            assert_eq!(l["host"], HOST);
            (
                l["container"].as_str().unwrap_or_default().to_string(),
                l["line"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let texts: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(texts, ["a1", "b1", "a2", "b2"], "in time order: {lines:?}");
    assert_eq!(lines[1].0, b);
    let res = app
        .get(
            &format!("/api/v1/logs?c={HOST}/{a},{HOST}/{b}&format=text"),
            &c,
        )
        .await;
    assert!(
        res.text().lines().next() == Some(&format!("{HOST}/{a} | a1")[..]),
        "{}",
        res.text()
    );
    // Followed: every line of both, each container's end, then the end of all.
    let res = app
        .get(
            &format!("/api/v1/logs?c={HOST}/{a},{HOST}/{b}&follow=true"),
            &c,
        )
        .await;
    assert_eq!(res.headers["content-type"], "text/event-stream");
    let body = res.text();
    for line in ["a1", "a2", "a3", "b1", "b2", "b3"] {
        assert!(
            body.contains(&format!("\"line\":\"{line}\"")),
            "{line}: {body}"
        );
    }
    assert_eq!(body.matches("event: source_end").count(), 2, "{body}");
    assert!(
        body.trim_end().ends_with("data: {\"reason\":\"closed\"}"),
        "{body}"
    );
    for bad in ["", "c=nohost", &format!("c={HOST}/{a}/x")] {
        let res = app.get(&format!("/api/v1/logs?{bad}"), &c).await;
        assert_eq!(res.status, 422, "{bad}: {}", res.text());
        assert_eq!(res.json()["error"]["field"], "c", "{bad}");
    }
    let stranger = user_with(&app, "merge-stranger", None).await;
    let res = app
        .get(
            &format!("/api/v1/logs?c={HOST}/{a}"),
            &[("cookie", stranger.as_str())],
        )
        .await;
    assert_eq!(
        res.status,
        404,
        "a host the caller has no grant on: {}",
        res.text()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_and_events_stream_and_roles_apply() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let c = [("cookie", root.as_str())];
    let name = "capstan-h6-srv-stats";
    let _c = Container::run(name, "while :; do :; done");
    let addr = serve(&app).await;
    let client = reqwest_like(addr, &root);
    let mut stats = client(&format!("/api/v1/hosts/{HOST}/containers/{name}/stats")).await;
    let text = read_until(&mut stats, "event: stats", Duration::from_secs(10)).await;
    assert!(text.contains("\"cpu_percent\""), "{text}");
    drop(stats);
    let res = app.get(&format!("/api/v1/hosts/{HOST}/stats"), &c).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert!(res.json()["running"].as_u64().unwrap_or(0) >= 1);

    let mut events = client("/api/v1/events?type=container&action=start").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let other = "capstan-h6-srv-ev";
    let _o = Container::run(other, "sleep 30");
    let text = read_until(&mut events, other, Duration::from_secs(10)).await;
    assert!(
        text.contains("\"host\":\"unix-engine\"") && text.contains("\"action\":\"start\""),
        "{text}"
    );
    assert_eq!(
        app.get("/api/v1/hosts/unix-engine/events?type=bogus", &c)
            .await
            .status,
        422
    );

    // A viewer reads logs but cannot open a terminal; someone without a grant sees nothing.
    let viewer = user_with(&app, "vera", Some("viewer")).await;
    let v = [("cookie", viewer.as_str())];
    assert_eq!(
        app.get(&format!("/api/v1/hosts/{HOST}/containers/{name}/logs"), &v)
            .await
            .status,
        200
    );
    assert_eq!(
        app.get(&format!("/api/v1/hosts/{HOST}/containers/{name}/exec"), &v)
            .await
            .status,
        403
    );
    let nobody = user_with(&app, "nora", None).await;
    let n = [("cookie", nobody.as_str())];
    assert_eq!(
        app.get(&format!("/api/v1/hosts/{HOST}/containers/{name}/logs"), &n)
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&format!("/api/v1/hosts/{HOST}/events"), &n)
            .await
            .status,
        404
    );
}

/// A GET over the real socket with the session cookie, returning the raw stream.
fn reqwest_like(
    addr: std::net::SocketAddr,
    cookie: &str,
) -> impl Fn(&str) -> std::pin::Pin<Box<dyn std::future::Future<Output = tokio::net::TcpStream> + Send>>
{
    let cookie = cookie.to_owned();
    move |path: &str| {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        );
        Box::pin(async move {
            use tokio::io::AsyncWriteExt;
            let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
            s.write_all(request.as_bytes()).await.expect("write");
            s
        })
    }
}

async fn read_until(s: &mut tokio::net::TcpStream, needle: &str, limit: Duration) -> String {
    use tokio::io::AsyncReadExt;
    let mut got = Vec::new();
    let _ = tokio::time::timeout(limit, async {
        let mut buf = [0u8; 4096];
        loop {
            let n = s.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            got.extend_from_slice(&buf[..n]);
            if String::from_utf8_lossy(&got).contains(needle) {
                break;
            }
        }
    })
    .await;
    String::from_utf8_lossy(&got).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_terminal_runs_commands_resizes_and_refuses_other_origins() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let name = "capstan-h6-srv-exec";
    let _c = Container::run(name, "sleep 120");
    let addr = serve(&app).await;
    let url = format!("ws://{addr}/api/v1/hosts/{HOST}/containers/{name}/exec?cols=100&rows=30");
    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", root.parse().expect("cookie"));
    req.headers_mut()
        .insert("origin", format!("http://{addr}").parse().expect("origin"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    ws.send(Message::Text(r#"{"resize":{"cols":123,"rows":45}}"#.into()))
        .await
        .expect("resize");
    tokio::time::sleep(Duration::from_millis(300)).await;
    ws.send(Message::Binary(
        b"stty size; echo h''i; exit 3\n".to_vec().into(),
    ))
    .await
    .expect("input");
    let mut out = Vec::new();
    let mut exit = None;
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(msg)) = ws.next().await {
            match msg {
                Message::Binary(b) => out.extend_from_slice(&b),
                Message::Text(t) => exit = Some(t.to_string()),
                Message::Close(_) => break,
                _ => {}
            }
        }
    })
    .await;
    let out = String::from_utf8_lossy(&out);
    assert!(out.contains("45 123"), "resize reached the engine: {out}");
    assert!(out.contains("\nhi") || out.contains("\r\nhi"), "{out}");
    let exit: serde_json::Value =
        serde_json::from_str(exit.as_deref().unwrap_or("null")).expect("exit frame");
    assert_eq!(
        exit,
        serde_json::json!({"type": "exit", "code": 3}),
        "{out}"
    );

    // A missing shell is a message frame.
    let url = format!("ws://{addr}/api/v1/hosts/{HOST}/containers/{name}/exec?cmd=/bin/bash");
    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", root.parse().expect("cookie"));
    let (mut ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    let first = tokio::time::timeout(Duration::from_secs(10), ws.next())
        .await
        .expect("a frame");
    let text = match first {
        Some(Ok(Message::Text(t))) => t.to_string(),
        other => panic!("{other:?}"),
    };
    assert!(text.contains("/bin/bash is not available"), "{text}");

    // Another site's page may not open a terminal.
    let url = format!("ws://{addr}/api/v1/hosts/{HOST}/containers/{name}/exec");
    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", root.parse().expect("cookie"));
    req.headers_mut()
        .insert("origin", "https://evil.example".parse().expect("origin"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => assert_eq!(res.status(), 403),
        other => panic!(
            "cross-origin upgrade must be refused: {:?}",
            other.map(|(_, r)| r.status())
        ),
    }
    // Not a shell of the allow-list: 422 naming cmd.
    let res = app
        .get(
            &format!("/api/v1/hosts/{HOST}/containers/{name}/exec?cmd=/usr/bin/python"),
            &[("cookie", root.as_str())],
        )
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("cmd"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_streams() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let name = "capstan-h6-srv-shutdown";
    let _c = Container::run(name, "while true; do echo x; sleep 1; done");
    let addr = serve(&app).await;
    let client = reqwest_like(addr, &root);
    let mut logs = client(&format!(
        "/api/v1/hosts/{HOST}/containers/{name}/logs?follow=true"
    ))
    .await;
    let _ = read_until(&mut logs, "event: line", Duration::from_secs(5)).await;
    app.state.shutdown.cancel();
    let rest = read_until(&mut logs, "\r\n0\r\n\r\n", Duration::from_secs(5)).await;
    assert!(
        rest.contains("\"reason\":\"shutdown\"") || rest.contains("0\r\n\r\n"),
        "the stream ends: {rest}"
    );
}

/// The audit rows of a terminal's end, newest first, waiting (up to 5 s) for `n` of them: the
/// server records the end once it has noticed it.
async fn exec_closes(app: &TestApp, object: &str, n: usize) -> Vec<backend::audit::Entry> {
    let filter = backend::audit::Filter {
        action: Some("container.exec.close".into()),
        ..Default::default()
    };
    for _ in 0..50 {
        app.state.audit.flush().await;
        let rows: Vec<_> = app
            .state
            .audit
            .query(&filter)
            .await
            .expect("audit")
            .into_iter()
            .filter(|e| e.record.object.as_deref() == Some(object))
            .collect();
        if rows.len() >= n {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{n} container.exec.close rows for {object} were not recorded");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_sessions_are_audited_when_they_end() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let name = format!("capstan-h8-srv-exec-close-{}", std::process::id());
    let _c = Container::run(&name, "sleep 120");
    let addr = serve(&app).await;
    let open = || {
        let url = format!("ws://{addr}/api/v1/hosts/{HOST}/containers/{name}/exec");
        let mut req = url.as_str().into_client_request().expect("request");
        req.headers_mut()
            .insert("cookie", root.parse().expect("cookie"));
        req.headers_mut()
            .insert("origin", format!("http://{addr}").parse().expect("origin"));
        tokio_tungstenite::connect_async(req)
    };

    // The command ends by itself: "exited" with its code.
    let (mut ws, _) = open().await.expect("upgrade");
    ws.send(Message::Binary(b"exit 3\n".to_vec().into()))
        .await
        .expect("input");
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(msg)) = ws.next().await {
            if matches!(msg, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
    let rows = exec_closes(&app, &name, 1).await;
    let r = &rows[0].record;
    assert_eq!(
        (
            r.username.as_deref(),
            r.host.as_deref(),
            r.client.as_deref()
        ),
        (Some("root"), Some(HOST), Some("10.1.2.3"))
    );
    assert_eq!(r.outcome, backend::audit::Outcome::Ok);
    assert_eq!(r.params["ended"], "exited", "{:?}", r.params);
    assert_eq!(r.params["exit_code"], 3);
    assert_eq!(r.params["shell"], "/bin/sh");
    assert!(r.params["duration_secs"].as_u64().is_some_and(|s| s < 30));

    // The browser goes away mid-session: "client_closed".
    let (mut ws, _) = open().await.expect("upgrade");
    ws.send(Message::Binary(b"echo still here\n".to_vec().into()))
        .await
        .expect("input");
    tokio::time::sleep(Duration::from_millis(300)).await;
    ws.close(None).await.expect("close");
    drop(ws);
    let rows = exec_closes(&app, &name, 2).await;
    assert_eq!(
        rows[0].record.params["ended"], "client_closed",
        "{:?}",
        rows[0].record.params
    );
    assert!(rows[0].record.params["exit_code"].is_null());

    // Each session's opening was recorded too, by the same user on the same object.
    let opened = app
        .state
        .audit
        .query(&backend::audit::Filter {
            action: Some("container.exec".into()),
            user: Some("root".into()),
            ..Default::default()
        })
        .await
        .expect("audit");
    assert_eq!(
        opened
            .iter()
            .filter(|e| e.record.object.as_deref() == Some(name.as_str()))
            .count(),
        2
    );
}
