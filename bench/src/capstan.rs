//! The Capstan under test: the release binary, started on a free port with a temporary data
//! directory, a first admin made with `capstan admin create`, signed in, with an API token.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use http::Method;
use serde_json::{json, Value};
use tokio::process::{Child, Command};

use crate::http::{Conn, Endpoint};
use crate::Fail;

/// Memory of a process as the kernel reports it, in KiB.
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct Memory {
    pub rss_kib: u64,
    pub hwm_kib: u64,
    /// Of the RSS: anonymous memory (heap, stacks) and file-backed pages (the binary's code).
    pub anon_kib: u64,
    pub file_kib: u64,
}

pub struct Capstan {
    child: Child,
    pub endpoint: Endpoint,
    /// `Authorization: Bearer …` for the REST API.
    pub bearer: String,
    /// `Cookie: …` of a signed-in session, for pages.
    pub cookie: String,
    _data: tempfile::TempDir,
}

fn free_port() -> Result<SocketAddr, Fail> {
    let l = TcpListener::bind("127.0.0.1:0")
        .map_err(|e| Fail::new(format!("finding a free port: {e}")))?;
    l.local_addr()
        .map_err(|e| Fail::new(format!("finding a free port: {e}")))
}

const USER: &str = "bench";

impl Capstan {
    /// Starts `binary` managing `engines` (each `SLUG=URL[,tls=DIR]`) and signs in.
    pub async fn start(
        binary: &Path,
        site_root: &Path,
        engines: &[String],
        run_id: &str,
    ) -> Result<Capstan, Fail> {
        if !binary.is_file() {
            return Err(Fail::new(format!(
                "no Capstan binary at {} (build it with `cargo leptos build --release`, or pass --capstan)",
                binary.display()
            )));
        }
        let data = tempfile::Builder::new()
            .prefix("capstan-bench-")
            .tempdir()
            .map_err(|e| Fail::new(format!("making a data directory: {e}")))?;
        let password = format!("bench-{run_id}-{}", std::process::id());
        let out = Command::new(binary)
            .args(["admin", "create", USER, "--data-dir"])
            .arg(data.path())
            .env("CAPSTAN_PASSWORD", &password)
            .env("CAPSTAN_LOG", "warn")
            .stdin(Stdio::null())
            .output()
            .await
            .map_err(|e| Fail::new(format!("running {} admin create: {e}", binary.display())))?;
        if !out.status.success() {
            return Err(Fail::new(format!(
                "capstan admin create failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        let addr = free_port()?;
        let mut cmd = Command::new(binary);
        cmd.arg("--listen")
            .arg(addr.to_string())
            .arg("--data-dir")
            .arg(data.path())
            .env("CAPSTAN_LOG", "warn")
            .env("LEPTOS_SITE_ROOT", site_root)
            .env_remove("CAPSTAN_ENGINES")
            .env_remove("DOCKER_HOST")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        for e in engines {
            cmd.arg("--engine").arg(e);
        }
        let child = cmd
            .spawn()
            .map_err(|e| Fail::new(format!("starting {}: {e}", binary.display())))?;
        let mut capstan = Capstan {
            child,
            endpoint: Endpoint::Tcp(addr),
            bearer: String::new(),
            cookie: String::new(),
            _data: data,
        };
        capstan.wait_healthy().await?;
        capstan.sign_in(&password).await?;
        Ok(capstan)
    }

    pub fn pid(&self) -> Option<u32> {
        self.child.id()
    }

    async fn wait_healthy(&mut self) -> Result<(), Fail> {
        let start = Instant::now();
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Fail::new(format!(
                    "capstan exited before it served ({status})"
                )));
            }
            if let Ok(mut c) = self.endpoint.connect().await {
                if c.get_ok("/healthz", &[], false).await.is_ok() {
                    return Ok(());
                }
            }
            if start.elapsed() > Duration::from_secs(60) {
                return Err(Fail::new("capstan did not answer /healthz within 60 s"));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn sign_in(&mut self, password: &str) -> Result<(), Fail> {
        let mut c = self.endpoint.connect().await?;
        let same_origin = [("sec-fetch-site", "same-origin")];
        let body = json!({ "username": USER, "password": password }).to_string();
        let res = c
            .fetch(
                Method::POST,
                "/api/v1/session",
                &same_origin,
                Some(body.into_bytes()),
                true,
            )
            .await?;
        if !res.status.is_success() {
            return Err(Fail::new(format!("signing in: status {}", res.status)));
        }
        let cookie = res
            .headers
            .get_all(http::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(|v| v.split(';').next())
            .map(str::to_owned)
            .collect::<Vec<_>>()
            .join("; ");
        if cookie.is_empty() {
            return Err(Fail::new("signing in: no session cookie"));
        }
        self.cookie = cookie;
        let headers = [
            ("sec-fetch-site", "same-origin"),
            ("cookie", self.cookie.as_str()),
        ];
        let body = json!({ "name": "capstan-bench" }).to_string();
        let res = c
            .fetch(
                Method::POST,
                "/api/v1/tokens",
                &headers,
                Some(body.into_bytes()),
                true,
            )
            .await?;
        if !res.status.is_success() {
            return Err(Fail::new(format!(
                "making an API token: status {}",
                res.status
            )));
        }
        let v: Value = serde_json::from_slice(&res.body)
            .map_err(|e| Fail::new(format!("the token answer is not JSON: {e}")))?;
        let token = v
            .get("token")
            .and_then(Value::as_str)
            .ok_or_else(|| Fail::new("the token answer has no \"token\""))?;
        self.bearer = format!("Bearer {token}");
        Ok(())
    }

    /// A new keep-alive connection to Capstan.
    pub async fn connect(&self) -> Result<Conn, Fail> {
        self.endpoint.connect().await
    }

    /// Headers for the REST API.
    pub fn api_headers(&self) -> [(&str, &str); 1] {
        [("authorization", self.bearer.as_str())]
    }

    /// VmRSS and VmHWM from /proc.
    pub fn memory(&self) -> Result<Memory, Fail> {
        let pid = self.pid().ok_or_else(|| Fail::new("capstan has exited"))?;
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
            .map_err(|e| Fail::new(format!("reading /proc/{pid}/status: {e}")))?;
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        };
        match (field("VmRSS:"), field("VmHWM:")) {
            (Some(rss_kib), Some(hwm_kib)) => Ok(Memory {
                rss_kib,
                hwm_kib,
                anon_kib: field("RssAnon:").unwrap_or(0),
                file_kib: field("RssFile:").unwrap_or(0),
            }),
            _ => Err(Fail::new(format!("/proc/{pid}/status has no VmRSS/VmHWM"))),
        }
    }

    /// Stops the server and waits for it.
    pub async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = tokio::time::timeout(Duration::from_secs(10), self.child.wait()).await;
    }
}
