//! The real `capstan` binary, killed with SIGKILL in the middle of writes: everything it
//! acknowledged is there after a restart, and it starts cleanly. Also covers `capstan admin`,
//! `backup`, `restore` and `migrate`.

use std::process::Stdio;
use std::time::Duration;

use crate::common::free_port;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::process::{Child, Command};

const BIN: &str = env!("CARGO_BIN_EXE_capstan");
const PW: &str = "a long enough password";

fn start(dir: &std::path::Path, port: u16) -> Child {
    start_with(dir, port, &[])
}

fn start_with(dir: &std::path::Path, port: u16, extra: &[&str]) -> Child {
    Command::new(BIN)
        .args(extra)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--engine",
            "none=unix:///nonexistent/docker.sock",
            "--log",
            "warn",
        ])
        .arg("--data-dir")
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("capstan starts")
}

/// One HTTP/1.1 request over a fresh connection; returns (status, headers+body text).
async fn http(
    port: u16,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    body: Option<&str>,
) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).await.ok()?;
    let host = format!("127.0.0.1:{port}");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nConnection: close\r\n");
    if let Some(c) = cookie {
        req.push_str(&format!("Cookie: {c}\r\n"));
    }
    let body = body.unwrap_or("");
    req.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(req.as_bytes()).await.ok()?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.ok()?;
    let text = String::from_utf8_lossy(&out).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

async fn wait_up(port: u16) {
    for _ in 0..200 {
        if let Some((200, _)) = http(port, "GET", "/healthz", None, None).await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("capstan did not come up on port {port}");
}

async fn login(port: u16) -> String {
    let (status, text) = http(
        port,
        "POST",
        "/api/v1/session",
        None,
        Some(&format!(r#"{{"username":"root","password":"{PW}"}}"#)),
    )
    .await
    .expect("login answers");
    assert_eq!(status, 200, "{text}");
    let line = text
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: capstan_session=")
        })
        .expect("cookie");
    line["set-cookie: ".len()..]
        .split(';')
        .next()
        .expect("pair")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_write_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let created = Command::new(BIN)
        .args(["admin", "create", "root"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("CAPSTAN_PASSWORD", PW)
        .output()
        .await
        .expect("admin create runs");
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    assert!(
        !dir.path().join("setup-token").exists(),
        "with an admin there is no setup token"
    );

    let port = free_port();
    let mut server = start(dir.path(), port);
    wait_up(port).await;
    let cookie = login(port).await;

    // Writers hammer the store; the server is killed while they run.
    let mut acknowledged = Vec::new();
    let mut i = 0;
    let killer = async {
        tokio::time::sleep(Duration::from_millis(700)).await;
    };
    tokio::pin!(killer);
    loop {
        let body = format!(r#"{{"name":"t{i}"}}"#);
        tokio::select! {
            _ = &mut killer => break,
            r = http(port, "POST", "/api/v1/tokens", Some(&cookie), Some(&body)) => {
                if let Some((201, _)) = r { acknowledged.push(format!("t{i}")); }
                i += 1;
            }
        }
    }
    server.start_kill().expect("SIGKILL");
    let _ = server.wait().await;
    assert!(
        acknowledged.len() >= 3,
        "some writes were acknowledged before the kill ({})",
        acknowledged.len()
    );

    let mut server = start(dir.path(), port);
    wait_up(port).await;
    let cookie = login(port).await;
    let (status, text) = http(port, "GET", "/api/v1/tokens", Some(&cookie), None)
        .await
        .expect("list");
    assert_eq!(status, 200);
    for name in &acknowledged {
        assert!(
            text.contains(&format!("\"name\":\"{name}\"")),
            "acknowledged token {name} survived the kill"
        );
    }
    server.start_kill().expect("kill");
    let _ = server.wait().await;

    // reset-password works on the database directly and ends sessions.
    let reset = Command::new(BIN)
        .args(["admin", "reset-password", "root"])
        .arg("--data-dir")
        .arg(dir.path())
        .env("CAPSTAN_PASSWORD", "a different long password")
        .output()
        .await
        .expect("reset runs");
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let mut server = start(dir.path(), port);
    wait_up(port).await;
    let (status, _) = http(port, "GET", "/api/v1/me", Some(&cookie), None)
        .await
        .expect("me");
    assert_eq!(status, 401, "the old session ended with the reset");
    let (status, _) = http(
        port,
        "POST",
        "/api/v1/session",
        None,
        Some(r#"{"username":"root","password":"a different long password"}"#),
    )
    .await
    .expect("login");
    assert_eq!(status, 200);
    server.start_kill().expect("kill");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_start_writes_a_private_setup_token_and_keeps_it_out_of_the_log() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut server = Command::new(BIN)
        .args([
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--engine",
            "none=unix:///nonexistent/docker.sock",
            "--log",
            "info",
        ])
        .arg("--data-dir")
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("capstan starts");
    wait_up(port).await;
    let token = std::fs::read_to_string(dir.path().join("setup-token")).expect("token file");
    assert!(token.trim().len() >= 40);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("setup-token"))
            .expect("meta")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let key = std::fs::metadata(dir.path().join("session.key"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(key & 0o777, 0o600);
        let db = std::fs::metadata(dir.path().join("capstan.db"))
            .expect("db")
            .permissions()
            .mode();
        assert_eq!(db & 0o777, 0o600, "the database is private");
        let data = std::fs::metadata(dir.path())
            .expect("dir")
            .permissions()
            .mode();
        assert_eq!(data & 0o777, 0o700, "the data directory is private");
    }
    server.start_kill().expect("kill");
    let out = server.wait_with_output().await.expect("output");
    let log = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        log.contains("setup-token"),
        "the log says where the token is: {log}"
    );
    assert!(
        !log.contains(token.trim()),
        "the token itself is not logged"
    );
}

/// `capstan <args…>` on a data directory: (success, stdout + stderr).
async fn capstan(dir: &std::path::Path, args: &[&str]) -> (bool, String) {
    let out = Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("CAPSTAN_PASSWORD", PW)
        .env("CAPSTAN_LOG", "error")
        .output()
        .await
        .expect("capstan runs");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backup_while_serving_restore_when_stopped_and_migrate_to_postgresql() {
    let dir = tempfile::tempdir().expect("tempdir");
    assert!(capstan(dir.path(), &["admin", "create", "root"]).await.0);
    let port = free_port();
    let mut server = start(dir.path(), port);
    wait_up(port).await;
    let cookie = login(port).await;

    let file = dir.path().join("before.db");
    let (ok, text) = capstan(dir.path(), &["backup", file.to_str().expect("path")]).await;
    assert!(ok, "{text}");
    assert!(
        text.contains("host-secrets.key"),
        "says which key files to keep: {text}"
    );
    let (ok, text) = capstan(dir.path(), &["restore", file.to_str().expect("path")]).await;
    assert!(
        !ok && text.contains("stop it first"),
        "no restore under a running server: {text}"
    );
    let (ok, text) = capstan(
        dir.path(),
        &[
            "--listen",
            "127.0.0.1:1",
            "--engine",
            "x=unix:///nonexistent",
        ],
    )
    .await;
    assert!(
        !ok && text.contains("stop it first"),
        "nor a second server: {text}"
    );

    // A token made after the backup is gone once the backup is back.
    let made = http(
        port,
        "POST",
        "/api/v1/tokens",
        Some(&cookie),
        Some(r#"{"name":"later"}"#),
    )
    .await;
    assert_eq!(made.map(|m| m.0), Some(201));
    server.start_kill().expect("kill");
    let _ = server.wait().await;
    let (ok, text) = capstan(dir.path(), &["restore", file.to_str().expect("path")]).await;
    assert!(ok, "{text}");
    let mut server = start(dir.path(), port);
    wait_up(port).await;
    let cookie = login(port).await;
    let (_, tokens) = http(port, "GET", "/api/v1/tokens", Some(&cookie), None)
        .await
        .expect("tokens");
    assert!(!tokens.contains("\"later\""), "{tokens}");
    server.start_kill().expect("kill");
    let _ = server.wait().await;

    let Ok(admin) = std::env::var("CAPSTAN_TEST_PG_URL") else {
        eprintln!("CAPSTAN_TEST_PG_URL is not set (scripts/testenv.sh up): migrate not tried");
        return;
    };
    let backend::store::Database::Postgres(url) = backend::store::scratch_postgres(&admin)
        .await
        .expect("database")
    else {
        unreachable!("scratch_postgres makes PostgreSQL databases");
    };
    let (ok, text) = capstan(dir.path(), &["migrate", "--to", &url]).await;
    assert!(ok && text.contains("users  1 rows"), "{text}");
    let keys = tempfile::tempdir().expect("key dir");
    let key_dir = keys.path().to_str().expect("path");
    let (ok, text) = capstan(
        dir.path(),
        &["--key-dir", "/nonexistent/keys", "--database", &url],
    )
    .await;
    assert!(!ok && text.contains("does not exist"), "{text}");
    let mut server = start_with(
        dir.path(),
        port,
        &["--database", &url, "--key-dir", key_dir],
    );
    wait_up(port).await;
    for file in backend::store::transfer::KEY_FILES {
        assert!(
            keys.path().join(file).exists(),
            "{file} is made in the key directory"
        );
    }
    let cookie = login(port).await;
    let (status, _) = http(port, "GET", "/api/v1/me", Some(&cookie), None)
        .await
        .expect("me");
    assert_eq!(status, 200, "the admin signs in on PostgreSQL");
    server.start_kill().expect("kill");
}
