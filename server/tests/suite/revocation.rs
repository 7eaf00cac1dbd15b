//! Open streams end when their caller's access goes away: removing or lowering a grant,
//! disabling the user. Logs (SSE, by cookie), stats (SSE, by token) and the terminal
//! (WebSocket, close 1008 "access changed"), against the private unix engine.

use std::time::Duration;

use crate::common::{docker, env, serve, Container, TestApp};
use backend::auth::{SubjectKind, UserPatch};
use backend::policy::Role;
use futures::StreamExt;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

const HOST: &str = "unix-engine";

/// A raw HTTP/1.1 GET with one credential header, left open for reading.
async fn open(addr: std::net::SocketAddr, path: &str, credential: &str) -> tokio::net::TcpStream {
    let request =
        format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{credential}\r\nConnection: close\r\n\r\n");
    let mut s = tokio::net::TcpStream::connect(addr).await.expect("connect");
    s.write_all(request.as_bytes()).await.expect("write");
    s
}

async fn read_until(s: &mut tokio::net::TcpStream, needle: &str, limit: Duration) -> String {
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

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn terminal(addr: std::net::SocketAddr, name: &str, cookie: &str) -> Ws {
    let url = format!("ws://{addr}/api/v1/hosts/{HOST}/containers/{name}/exec");
    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", cookie.parse().expect("cookie"));
    req.headers_mut()
        .insert("origin", format!("http://{addr}").parse().expect("origin"));
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .expect("upgrade");
    ws
}

/// The close frame the server sends, within `limit`.
async fn closed(ws: &mut Ws, limit: Duration) -> Option<(CloseCode, String)> {
    tokio::time::timeout(limit, async {
        while let Some(msg) = ws.next().await {
            match msg {
                Ok(Message::Close(frame)) => return frame.map(|f| (f.code, f.reason.to_string())),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
        None
    })
    .await
    .ok()
    .flatten()
}

async fn still_open(ws: &mut Ws, for_: Duration) -> bool {
    tokio::time::timeout(for_, async {
        while let Some(Ok(msg)) = ws.next().await {
            if matches!(msg, Message::Close(_)) {
                return;
            }
        }
    })
    .await
    .is_err()
}

/// A followed log (by cookie) that has shown a line, and an open terminal, of `name`.
async fn follow_and_attach(
    addr: std::net::SocketAddr,
    name: &str,
    cookie: &str,
) -> (tokio::net::TcpStream, Ws) {
    let mut logs = open(
        addr,
        &format!("/api/v1/hosts/{HOST}/containers/{name}/logs?follow=true"),
        &format!("Cookie: {cookie}"),
    )
    .await;
    assert!(
        read_until(&mut logs, "event: line", Duration::from_secs(10))
            .await
            .contains("event: line")
    );
    let mut ws = terminal(addr, name, cookie).await;
    assert!(
        still_open(&mut ws, Duration::from_millis(500)).await,
        "the terminal opened"
    );
    (logs, ws)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lowering_then_removing_a_grant_ends_what_it_no_longer_allows() {
    let app = TestApp::new().await;
    let who = app.user_with_role("rev-grant", HOST, Role::Manager).await;
    let name = "capstan-rev-grant";
    let _c = Container::run(name, "while true; do echo tick; sleep 1; done");
    let addr = serve(&app).await;

    let cookie = format!("Cookie: {}", who.cookie);
    let bearer = format!("Authorization: {}", who.bearer());
    let mut logs = open(
        addr,
        &format!("/api/v1/hosts/{HOST}/containers/{name}/logs?follow=true"),
        &cookie,
    )
    .await;
    let mut stats = open(
        addr,
        &format!("/api/v1/hosts/{HOST}/containers/{name}/stats"),
        &bearer,
    )
    .await;
    assert!(
        read_until(&mut logs, "event: line", Duration::from_secs(10))
            .await
            .contains("event: line")
    );
    assert!(
        read_until(&mut stats, "event: stats", Duration::from_secs(10))
            .await
            .contains("event: stats")
    );
    let mut ws = terminal(addr, name, &who.cookie).await;
    assert!(
        still_open(&mut ws, Duration::from_millis(500)).await,
        "the terminal opened"
    );

    // Manager → viewer: the terminal is no longer allowed, following logs still is.
    app.accounts
        .set_grant(HOST, SubjectKind::User, who.id, Role::Viewer)
        .await
        .expect("lower");
    let close = closed(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(
        close,
        Some((CloseCode::Policy, "access changed".to_string()))
    );
    let more = read_until(&mut logs, "event: line", Duration::from_secs(5)).await;
    assert!(
        more.contains("event: line") && !more.contains("access_changed"),
        "{more}"
    );

    // No grant at all: both streams end with their end marker.
    app.accounts
        .remove_grant(HOST, SubjectKind::User, who.id)
        .await
        .expect("remove");
    let rest = read_until(&mut logs, "access_changed", Duration::from_secs(5)).await;
    assert!(
        rest.contains("event: end") && rest.contains("\"reason\":\"access_changed\""),
        "{rest}"
    );
    let rest = read_until(&mut stats, "access_changed", Duration::from_secs(5)).await;
    assert!(
        rest.contains("event: end") && rest.contains("\"reason\":\"access_changed\""),
        "{rest}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disabling_the_user_ends_open_streams() {
    let app = TestApp::new().await;
    let who = app.user_with_role("rev-disable", HOST, Role::Manager).await;
    let name = "capstan-rev-disable";
    let _c = Container::run(name, "while true; do echo tick; sleep 1; done");
    let addr = serve(&app).await;

    let (mut logs, mut ws) = follow_and_attach(addr, name, &who.cookie).await;

    let patch = UserPatch {
        disabled: Some(true),
        ..UserPatch::default()
    };
    app.accounts
        .update_user(who.id, patch)
        .await
        .expect("disable");
    let close = closed(&mut ws, Duration::from_secs(5)).await;
    assert_eq!(
        close,
        Some((CloseCode::Policy, "access changed".to_string()))
    );
    let rest = read_until(&mut logs, "access_changed", Duration::from_secs(5)).await;
    assert!(rest.contains("\"reason\":\"access_changed\""), "{rest}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_on_a_stopped_container_is_refused_before_the_upgrade() {
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let name = "capstan-rev-stopped";
    docker(&["rm", "-f", name]);
    docker(&[
        "create",
        "--name",
        name,
        &env("CAPSTAN_TEST_IMAGE"),
        "sleep",
        "60",
    ]);
    let _c = Container(name.to_owned());
    let addr = serve(&app).await;
    let url = format!("ws://{addr}/api/v1/hosts/{HOST}/containers/{name}/exec");
    let mut req = url.as_str().into_client_request().expect("request");
    req.headers_mut()
        .insert("cookie", root.parse().expect("cookie"));
    req.headers_mut()
        .insert("origin", format!("http://{addr}").parse().expect("origin"));
    match tokio_tungstenite::connect_async(req).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(res)) => {
            assert_eq!(res.status(), 409);
            let body =
                String::from_utf8_lossy(res.body().as_deref().unwrap_or_default()).into_owned();
            assert!(body.contains("not running"), "{body}");
        }
        other => panic!("expected a 409 before the upgrade, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_terminal_client_that_stops_reading_does_not_hold_shutdown() {
    use futures::SinkExt;
    let app = TestApp::new().await;
    let root = app.as_root().await;
    let name = "capstan-rev-stalled";
    let _c = Container::run(name, "while true; do echo tick; sleep 1; done");
    let addr = serve(&app).await;
    let mut ws = terminal(addr, name, &root).await;
    let flood = b"while :; do echo 0123456789abcdef0123456789abcdef0123456789abcdef; done\n";
    ws.send(Message::Binary(flood.to_vec().into()))
        .await
        .expect("input");
    // The client reads nothing from here on: the socket's buffers fill up.
    tokio::time::sleep(Duration::from_secs(4)).await;
    app.state.shutdown.cancel();
    let filter = backend::audit::Filter {
        action: Some("container.exec.close".into()),
        ..Default::default()
    };
    let mut ended = None;
    for _ in 0..50 {
        app.state.audit.flush().await;
        let rows = app.state.audit.query(&filter).await.expect("audit");
        if let Some(row) = rows
            .into_iter()
            .find(|e| e.record.object.as_deref() == Some(name))
        {
            ended = Some(row.record.params["ended"].clone());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        ended,
        Some(serde_json::json!("server_shutdown")),
        "the session ended within 5 s of shutdown"
    );
    drop(ws);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revoking_the_token_and_signing_out_end_their_streams() {
    let app = TestApp::new().await;
    let who = app.user_with_role("rev-out", HOST, Role::Viewer).await;
    let name = "capstan-rev-out";
    let _c = Container::run(name, "while true; do echo tick; sleep 1; done");
    let addr = serve(&app).await;
    let stats_path = format!("/api/v1/hosts/{HOST}/containers/{name}/stats");
    let logs_path = format!("/api/v1/hosts/{HOST}/containers/{name}/logs?follow=true");
    let mut stats = open(
        addr,
        &stats_path,
        &format!("Authorization: {}", who.bearer()),
    )
    .await;
    let mut logs = open(addr, &logs_path, &format!("Cookie: {}", who.cookie)).await;
    assert!(
        read_until(&mut stats, "event: stats", Duration::from_secs(10))
            .await
            .contains("event: stats")
    );
    assert!(
        read_until(&mut logs, "event: line", Duration::from_secs(10))
            .await
            .contains("event: line")
    );

    // The token is revoked: its stream ends at once (the cookie's goes on).
    let tokens = app.accounts.list_tokens(who.id).await.expect("tokens");
    app.accounts
        .revoke_token(who.id, tokens[0].id)
        .await
        .expect("revoke");
    let rest = read_until(&mut stats, "access_changed", Duration::from_secs(5)).await;
    assert!(rest.contains("\"reason\":\"access_changed\""), "{rest}");

    // Signing out ends the session on the server; the periodic check ends its stream.
    let out = app
        .send(
            axum::http::Method::DELETE,
            "/api/v1/session",
            &who.page(),
            None,
        )
        .await;
    assert!(out.status.is_success(), "{}", out.text());
    let rest = read_until(&mut logs, "access_changed", Duration::from_secs(20)).await;
    assert!(rest.contains("\"reason\":\"access_changed\""), "{rest}");
}

/// Two replicas on one PostgreSQL database (the PostgreSQL pass of `./dev test`): a grant
/// removed through one ends, within a second, the log stream and the terminal the user has
/// open on the other, and the other stops taking the user's token at once (no stale cache).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_grant_removed_on_one_replica_ends_streams_on_another() {
    let first = TestApp::new().await;
    if !first.accounts.store().database().is_postgres() {
        eprintln!("SQLite: one process serves it; this test runs in the PostgreSQL pass");
        return;
    }
    let second = TestApp::in_dir(first.dir.clone()).await;
    let who = first
        .user_with_role("rev-replica", HOST, Role::Manager)
        .await;
    let name = "capstan-rev-replica";
    let _c = Container::run(name, "while true; do echo tick; sleep 1; done");
    let addr = serve(&second).await;

    // The session and the token made on the first replica work on the second.
    let (mut logs, mut ws) = follow_and_attach(addr, name, &who.cookie).await;
    let path = format!("/api/v1/hosts/{HOST}/containers/{name}");
    let bearer = who.bearer();
    let auth = [("authorization", bearer.as_str())];
    assert_eq!(
        second.get(&path, &auth).await.status,
        200,
        "the token is cached now"
    );

    first
        .accounts
        .remove_grant(HOST, SubjectKind::User, who.id)
        .await
        .expect("remove");
    let close = closed(&mut ws, Duration::from_secs(1)).await;
    assert_eq!(
        close,
        Some((CloseCode::Policy, "access changed".to_string())),
        "the terminal on the other replica ends within a second"
    );
    let rest = read_until(&mut logs, "access_changed", Duration::from_secs(1)).await;
    assert!(
        rest.contains("\"reason\":\"access_changed\""),
        "the log stream on the other replica ends within a second: {rest}"
    );
    assert_eq!(
        second.get(&path, &auth).await.status,
        404,
        "the other replica's cached identity no longer counts"
    );
}
