//! A counting proxy in front of an engine's unix socket: Capstan is given it as one more host,
//! and the proxy counts the log-follow requests that reach the engine through it (Capstan does
//! not publish its own counter over HTTP). Bytes pass through unchanged.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinHandle;

use crate::Fail;

#[derive(Default)]
pub struct Counts {
    /// Connections Capstan opened to the engine through the proxy.
    pub connections: AtomicU64,
    /// Requests for a container's logs with `follow` set.
    pub log_follows: AtomicU64,
    /// Requests for a container's logs without `follow` (a viewer's history).
    pub log_reads: AtomicU64,
}

pub struct Proxy {
    pub path: PathBuf,
    pub counts: Arc<Counts>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Listens on `path`, forwarding every connection to `engine`.
    pub fn start(path: &Path, engine: &Path) -> Result<Proxy, Fail> {
        let listener = UnixListener::bind(path)
            .map_err(|e| Fail::new(format!("proxy socket {}: {e}", path.display())))?;
        let counts = Arc::new(Counts::default());
        let engine = engine.to_owned();
        let task = {
            let counts = counts.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    counts.connections.fetch_add(1, Ordering::Relaxed);
                    let counts = counts.clone();
                    let engine = engine.clone();
                    tokio::spawn(async move {
                        if let Ok(upstream) = UnixStream::connect(&engine).await {
                            relay(client, upstream, &counts).await;
                        }
                    });
                }
            })
        };
        Ok(Proxy {
            path: path.to_owned(),
            counts,
            task,
        })
    }

    pub fn log_follows(&self) -> u64 {
        self.counts.log_follows.load(Ordering::Relaxed)
    }

    pub fn log_reads(&self) -> u64 {
        self.counts.log_reads.load(Ordering::Relaxed)
    }

    pub fn connections(&self) -> u64 {
        self.counts.connections.load(Ordering::Relaxed)
    }
}

/// Copies both ways; requests (client to engine) are looked at for their request lines.
async fn relay(client: UnixStream, upstream: UnixStream, counts: &Counts) {
    let (mut cr, mut cw) = client.into_split();
    let (mut ur, mut uw) = upstream.into_split();
    let up = async {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = match cr.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            count_requests(&buf[..n], counts);
            if uw.write_all(&buf[..n]).await.is_err() {
                break;
            }
        }
        let _ = uw.shutdown().await;
    };
    let down = async {
        let _ = tokio::io::copy(&mut ur, &mut cw).await;
        let _ = cw.shutdown().await;
    };
    tokio::join!(up, down);
}

/// Counts `GET …/containers/{id}/logs?…` request lines in a chunk of what the client sent
/// (GET requests have no body, so request lines start the chunks they arrive in).
fn count_requests(chunk: &[u8], counts: &Counts) {
    let text = String::from_utf8_lossy(chunk);
    for line in text.lines().filter(|l| l.starts_with("GET ")) {
        let Some(target) = line.split(' ').nth(1) else {
            continue;
        };
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        if !(path.contains("/containers/") && path.ends_with("/logs")) {
            continue;
        }
        let follow = query
            .split('&')
            .any(|kv| kv == "follow=true" || kv == "follow=1");
        if follow {
            counts.log_follows.fetch_add(1, Ordering::Relaxed);
        } else {
            counts.log_reads.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines_are_counted_by_kind() {
        let counts = Counts::default();
        count_requests(
            b"GET /v1.41/containers/abc/logs?follow=true&stdout=true HTTP/1.1\r\nhost: x\r\n\r\n",
            &counts,
        );
        count_requests(
            b"GET /v1.41/containers/abc/logs?follow=false&tail=0 HTTP/1.1\r\n\r\n",
            &counts,
        );
        count_requests(b"GET /v1.41/containers/abc/json HTTP/1.1\r\n\r\n", &counts);
        assert_eq!(counts.log_follows.load(Ordering::Relaxed), 1);
        assert_eq!(counts.log_reads.load(Ordering::Relaxed), 1);
    }
}
