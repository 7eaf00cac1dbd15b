//! A small HTTP/1.1 client over the three transports the bench talks to: Capstan over TCP, the
//! engines over a unix socket or over TCP with mutual TLS. Bodies are counted as they arrive on
//! the wire (never decompressed), so "bytes" always means bytes transferred.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpStream, UnixStream};

use crate::Fail;

/// Anything a connection can run over.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Where a server listens and how to reach it.
#[derive(Clone)]
pub enum Endpoint {
    Unix(PathBuf),
    Tcp(SocketAddr),
    Tls {
        addr: SocketAddr,
        config: Arc<rustls::ClientConfig>,
        name: ServerName<'static>,
    },
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(p) => write!(f, "unix://{}", p.display()),
            Endpoint::Tcp(a) => write!(f, "tcp://{a}"),
            Endpoint::Tls { addr, .. } => write!(f, "tcp+tls://{addr}"),
        }
    }
}

impl Endpoint {
    /// A docker-style URL (`unix:///path`, `tcp://host:port`), with TLS when `tls_dir` holds
    /// `ca.pem`, `cert.pem` and `key.pem`.
    pub fn from_url(url: &str, tls_dir: Option<&Path>) -> Result<Endpoint, Fail> {
        if let Some(path) = url.strip_prefix("unix://") {
            return Ok(Endpoint::Unix(PathBuf::from(path)));
        }
        let Some(rest) = url.strip_prefix("tcp://") else {
            return Err(Fail::new(format!(
                "engine URL {url:?}: expected unix:// or tcp://"
            )));
        };
        let addr: SocketAddr = rest
            .parse()
            .map_err(|_| Fail::new(format!("engine URL {url:?}: expected tcp://IP:PORT")))?;
        match tls_dir {
            None => Ok(Endpoint::Tcp(addr)),
            Some(dir) => Ok(Endpoint::Tls {
                addr,
                config: Arc::new(tls_config(dir)?),
                name: ServerName::IpAddress(addr.ip().into()),
            }),
        }
    }

    /// The value of the `Host` header.
    fn authority(&self) -> String {
        match self {
            Endpoint::Unix(_) => "localhost".to_owned(),
            Endpoint::Tcp(a) | Endpoint::Tls { addr: a, .. } => a.to_string(),
        }
    }

    async fn io(&self) -> Result<Box<dyn Io>, Fail> {
        Ok(match self {
            Endpoint::Unix(path) => Box::new(
                UnixStream::connect(path)
                    .await
                    .map_err(|e| Fail::new(format!("connecting to {}: {e}", path.display())))?,
            ),
            Endpoint::Tcp(addr) => {
                let s = TcpStream::connect(addr)
                    .await
                    .map_err(|e| Fail::new(format!("connecting to {addr}: {e}")))?;
                s.set_nodelay(true).ok();
                Box::new(s)
            }
            Endpoint::Tls { addr, config, name } => {
                let s = TcpStream::connect(addr)
                    .await
                    .map_err(|e| Fail::new(format!("connecting to {addr}: {e}")))?;
                s.set_nodelay(true).ok();
                let tls = tokio_rustls::TlsConnector::from(config.clone())
                    .connect(name.clone(), s)
                    .await
                    .map_err(|e| Fail::new(format!("TLS handshake with {addr}: {e}")))?;
                Box::new(tls)
            }
        })
    }

    /// A new HTTP/1.1 connection.
    pub async fn connect(&self) -> Result<Conn, Fail> {
        let io = self.io().await?;
        let (sender, conn) = http1::handshake(TokioIo::new(io))
            .await
            .map_err(|e| Fail::new(format!("HTTP handshake with {self:?}: {e}")))?;
        tokio::spawn(async move {
            // The connection ends when the server closes it or the sender is dropped.
            let _ = conn.await;
        });
        Ok(Conn {
            sender,
            authority: self.authority(),
        })
    }
}

fn tls_config(dir: &Path) -> Result<rustls::ClientConfig, Fail> {
    let read = |name: &str| {
        let path = dir.join(name);
        std::fs::read(&path).map_err(|e| Fail::new(format!("reading {}: {e}", path.display())))
    };
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(&read("ca.pem")?) {
        let cert = cert.map_err(|e| Fail::new(format!("ca.pem: {e}")))?;
        roots
            .add(cert)
            .map_err(|e| Fail::new(format!("ca.pem: {e}")))?;
    }
    let certs = CertificateDer::pem_slice_iter(&read("cert.pem")?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Fail::new(format!("cert.pem: {e}")))?;
    let key = PrivateKeyDer::from_pem_slice(&read("key.pem")?)
        .map_err(|e| Fail::new(format!("key.pem: {e}")))?;
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| Fail::new(format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .map_err(|e| Fail::new(format!("TLS client certificate: {e}")))
}

/// One HTTP/1.1 connection; requests on it run one after the other.
pub struct Conn {
    sender: http1::SendRequest<Full<Bytes>>,
    authority: String,
}

/// A response read to its end.
pub struct Fetched {
    pub status: StatusCode,
    pub headers: HeaderMap,
    /// Bytes of the body as transferred (compressed when the server compressed it).
    pub wire_bytes: u64,
    /// The body, when it was asked to be kept.
    pub body: Bytes,
    /// From sending the request to the last byte of the body.
    pub elapsed: Duration,
}

impl Conn {
    /// Sends a request and returns the response head; the body is left to the caller.
    pub async fn send(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<http::Response<Incoming>, Fail> {
        self.sender
            .ready()
            .await
            .map_err(|e| Fail::new(format!("connection closed before {method} {path}: {e}")))?;
        let mut req = Request::builder()
            .method(method.clone())
            .uri(path)
            .header(http::header::HOST, &self.authority);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if body.is_some() {
            req = req.header(http::header::CONTENT_TYPE, "application/json");
        }
        let req = req
            .body(Full::new(Bytes::from(body.unwrap_or_default())))
            .map_err(|e| Fail::new(format!("building {method} {path}: {e}")))?;
        self.sender
            .send_request(req)
            .await
            .map_err(|e| Fail::new(format!("{method} {path}: {e}")))
    }

    /// A request read to its end; the body is kept when `keep`.
    pub async fn fetch(
        &mut self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
        keep: bool,
    ) -> Result<Fetched, Fail> {
        let start = Instant::now();
        let res = self.send(method.clone(), path, headers, body).await?;
        let (parts, mut incoming) = res.into_parts();
        let mut wire_bytes = 0u64;
        let mut kept = Vec::new();
        while let Some(frame) = incoming.frame().await {
            let frame = frame.map_err(|e| Fail::new(format!("reading {method} {path}: {e}")))?;
            if let Ok(data) = frame.into_data() {
                wire_bytes += data.len() as u64;
                if keep {
                    kept.extend_from_slice(&data);
                }
            }
        }
        Ok(Fetched {
            status: parts.status,
            headers: parts.headers,
            wire_bytes,
            body: Bytes::from(kept),
            elapsed: start.elapsed(),
        })
    }

    /// A GET whose status must be 2xx, read to its end.
    pub async fn get_ok(
        &mut self,
        path: &str,
        headers: &[(&str, &str)],
        keep: bool,
    ) -> Result<Fetched, Fail> {
        let f = self.fetch(Method::GET, path, headers, None, keep).await?;
        if !f.status.is_success() {
            return Err(Fail::new(format!(
                "GET {path}: status {} ({})",
                f.status,
                String::from_utf8_lossy(&f.body)
                    .chars()
                    .take(200)
                    .collect::<String>()
            )));
        }
        Ok(f)
    }
}

/// A GET over a new connection (as the docker CLI and Capstan's engine client do: one
/// connection per call), read to its end and timed from connecting to the last byte.
pub async fn get_fresh(endpoint: &Endpoint, path: &str) -> Result<Fetched, Fail> {
    let start = Instant::now();
    let mut conn = endpoint.connect().await?;
    let mut f = conn.get_ok(path, &[], false).await?;
    f.elapsed = start.elapsed();
    Ok(f)
}
