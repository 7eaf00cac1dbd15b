//! One Docker engine behind Capstan's own types. bollard stays inside this module: callers see
//! [`Engine`], [`EngineSpec`] and the `convert`ed structs, never a bollard type.

mod carry;
mod classify;
mod container_fs;
pub mod container_list;
mod container_ops;
mod containers;
mod flags;
mod images;
mod networks;
pub mod own;
mod run;
mod streams;
mod swarm;
mod system;
mod vetting;
mod volumes;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::Docker;
use bytes::Bytes;
use http_body_util::BodyExt;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::OnceCell;

use crate::error::{Error, Result, Unreachable};

/// The most bytes of one engine answer read whole (a list of thousands of containers is a few
/// MiB).
pub(crate) const MAX_ANSWER: usize = 64 * 1024 * 1024;

pub use container_fs::{
    normalize_path, spool, validate_file_name, ByteStream, DirListing, Download, FileEntry,
    FileKind, Spooled, SpooledBody, UploadContent, UploadTarget, LISTING_CAP,
};
pub use container_list::{
    ContainerSummary, ListQuery, PortMapping, PsWords, Sort, StateFilter, COMPOSE_PROJECT_LABEL,
};
pub use container_ops::{
    validate_ps_args, validate_repo, validate_tag, ChangeKind, CommitOptions, FsChange, ProcessList,
};
pub(crate) use containers::read_sized;
pub use containers::{
    is_secret_key, CarryOver, ContainerDetail, Created, EnvVar, HealthCheck, HealthInfo, MountInfo,
    NetworkInfo,
};
pub use images::{
    registry_of, validate_search_term, HistoryEntry, ImageDetail, ImageSummary, Pruned,
    PullProgress, PullStream, RegistryAuth, RemovedImage, SearchHit, SEARCH_DEADLINE,
};
pub use networks::{
    AttachedContainer, Cidr, NetworkDetail, NetworkSpec, SubnetInfo, BUILTIN_NETWORKS,
};
pub use run::{hide_env_lines, validate_image, RunSpec, HIDDEN_VALUE};
pub use streams::{
    parse_rfc3339_nanos, Chunks, EngineEvent, ExecSession, ExecState, LogChunk, LogStream,
    LogsOptions, RawStats,
};
pub use swarm::SwarmNode;
pub use system::{DiskUsage, EngineInfo, EngineSummary, HostProbe, UsageTotals};
pub use volumes::{VolumeInfo, VolumeSpec};

/// Where an engine is and how to reach it.
#[derive(Clone, PartialEq, Eq)]
pub struct EngineSpec {
    /// `unix:///path`, `tcp://host:port` or `http://host:port`.
    pub url: String,
    /// Client certificate, key and CA for `tcp://` with TLS.
    pub tls: Option<Tls>,
}

impl std::fmt::Debug for EngineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSpec")
            .field("url", &self.url)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Where the TLS material of an engine comes from: files an admin named on the command line
/// (the docker CLI's `--tlsverify` layout), or PEM held in memory — hosts stored in the database
/// keep their sealed key there and it is opened into memory only, never written to disk.
#[derive(Clone, PartialEq, Eq)]
pub enum Tls {
    Files(TlsFiles),
    Pem(TlsMemory),
}

/// PEM texts held in memory. `key` is `None` when the stored key could not be opened; the
/// connection then fails with a TLS-files error that names it.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsMemory {
    pub ca: Arc<[u8]>,
    pub cert: Arc<[u8]>,
    pub key: Option<Arc<[u8]>>,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Tls::Files(files) => files.fmt(f),
            Tls::Pem(m) => f
                .debug_struct("TlsMemory")
                .field("key", &m.key.is_some())
                .finish_non_exhaustive(),
        }
    }
}

impl From<TlsFiles> for Tls {
    fn from(files: TlsFiles) -> Self {
        Tls::Files(files)
    }
}

impl Tls {
    /// The CA, certificate and key as bytes, each with the name an error about it uses.
    fn read(&self) -> Result<[(Vec<u8>, String); 3]> {
        match self {
            Tls::Files(f) => Ok([
                (read_pem(&f.ca)?, f.ca.display().to_string()),
                (read_pem(&f.cert)?, f.cert.display().to_string()),
                (read_pem(&f.key)?, f.key.display().to_string()),
            ]),
            Tls::Pem(m) => {
                let key = m.key.as_ref().ok_or_else(|| {
                    tls_files(
                        "the client key",
                        "cannot be opened with this data directory's key",
                    )
                })?;
                Ok([
                    (m.ca.to_vec(), "the CA certificate".into()),
                    (m.cert.to_vec(), "the client certificate".into()),
                    (key.to_vec(), "the client key".into()),
                ])
            }
        }
    }
}

impl TlsFiles {
    /// The docker CLI's layout: `ca.pem`, `cert.pem` and `key.pem` in one directory.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        TlsFiles {
            ca: dir.join("ca.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
        }
    }
}

impl EngineSpec {
    pub fn validate(&self) -> Result<()> {
        let url = self.url.as_str();
        let ok = match url.split_once("://") {
            Some(("unix", path)) => path.starts_with('/'),
            Some(("tcp" | "http" | "https", rest)) => {
                !rest.is_empty() && !rest.contains('/') && rest.contains(':')
            }
            _ => false,
        };
        if !ok {
            return Err(Error::invalid(
                "url",
                "must be unix:///path/to/docker.sock or tcp://host:port",
            ));
        }
        if self.tls.is_some() && url.starts_with("unix://") {
            return Err(Error::invalid("tls", "TLS applies to tcp:// engines only"));
        }
        Ok(())
    }
}

/// Timeouts for calls to an engine. A call that passes `call` is abandoned (not retried).
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub call: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            call: Duration::from_secs(10),
        }
    }
}

/// A connection to one engine. Cheap to clone; the API version is negotiated on first use and
/// again after a failure, so an engine that was down at start-up is picked up when it returns.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    spec: EngineSpec,
    timeouts: Timeouts,
    client: tokio::sync::Mutex<Arc<OnceCell<Connected>>>,
    /// Whether this engine holds Capstan's own container ([`own`]).
    own: own::OwnCell,
}

/// A negotiated bollard client and the transport under it.
#[derive(Clone)]
struct Connected {
    docker: Docker,
    wire: Wire,
}

type Sent = Pin<
    Box<
        dyn Future<
                Output = std::result::Result<
                    http::Response<hyper::body::Incoming>,
                    hyper_util::client::legacy::Error,
                >,
            > + Send,
    >,
>;

/// The pooled transport every call to an engine goes through, kept beside bollard's client so
/// that an answer bollard would parse into its full models can be read as bytes instead.
#[derive(Clone)]
struct Wire {
    send: Arc<dyn Fn(bollard::BollardRequest) -> Sent + Send + Sync>,
    /// What request URIs start with: `unix://<hex of the socket path>` or `http(s)://host:port`.
    base: String,
}

impl Engine {
    pub fn new(spec: EngineSpec, timeouts: Timeouts) -> Self {
        Engine {
            inner: Arc::new(Inner {
                spec,
                timeouts,
                client: tokio::sync::Mutex::new(Arc::new(OnceCell::new())),
                own: own::OwnCell::new(),
            }),
        }
    }

    pub(crate) fn own_cell(&self) -> &own::OwnCell {
        &self.inner.own
    }

    pub fn spec(&self) -> &EngineSpec {
        &self.inner.spec
    }

    /// Whether both handles are the same connection (not merely the same address).
    pub fn same_connection(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The negotiated bollard client, connecting first if needed.
    async fn docker(&self) -> Result<Docker> {
        Ok(self.connected().await?.docker)
    }

    /// The negotiated client and its transport, connecting first if needed.
    async fn connected(&self) -> Result<Connected> {
        let cell = self.inner.client.lock().await.clone();
        let timeout = self.inner.timeouts.call;
        let connected = cell
            .get_or_try_init(|| async {
                let (docker, wire) = connect(&self.inner.spec, timeout)?;
                match negotiate(docker, timeout).await {
                    Ok(docker) => Ok(Connected { docker, wire }),
                    Err(e) if self.inner.spec.tls.is_some() && unclear_tls_failure(&e) => {
                        Err(diagnose_tls(&self.inner.spec, timeout).await.unwrap_or(e))
                    }
                    Err(e) => Err(e),
                }
            })
            .await?;
        Ok(connected.clone())
    }

    /// Forget the negotiated client so the next call connects afresh (after the engine was
    /// unreachable, it may have come back as another version).
    async fn reset(&self) {
        *self.inner.client.lock().await = Arc::new(OnceCell::new());
    }

    /// Runs one engine call under the per-call deadline and maps its error.
    pub(crate) async fn call<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Docker) -> Fut,
        Fut: Future<Output = std::result::Result<T, BollardError>>,
    {
        self.on_connection(|c| f(c.docker)).await
    }

    /// `GET path_and_query` (a path of the Engine API without the version prefix), the answer
    /// read as bytes — for answers so large that parsing them into bollard's full models costs
    /// more than the few fields the caller needs. Same deadline and error mapping as `call`.
    pub(crate) async fn get_bytes(&self, path_and_query: &str) -> Result<Bytes> {
        self.on_connection(|c| async move {
            let version = c.docker.client_version();
            let uri = format!(
                "{}/v{}.{}{path_and_query}",
                c.wire.base, version.major_version, version.minor_version
            );
            let request = http::Request::get(uri).body(bollard::body_full(Bytes::new()))?;
            let response = (c.wire.send)(request).await?;
            let status = response.status();
            // An engine's answer is capped, so no list (a manager's containers with huge labels,
            // say) can make Capstan allocate without bound.
            let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER)
                .collect()
                .await
                .map_err(|e| BollardError::IOError {
                    err: std::io::Error::other(format!(
                        "the engine's answer exceeds {MAX_ANSWER} bytes ({e})"
                    )),
                })?
                .to_bytes();
            if status.is_success() {
                return Ok(body);
            }
            #[derive(serde::Deserialize)]
            struct Message {
                message: String,
            }
            let message = serde_json::from_slice::<Message>(&body)
                .map(|m| m.message)
                .unwrap_or_else(|_| String::from_utf8_lossy(&body).into_owned());
            Err(BollardError::DockerResponseServerError {
                status_code: status.as_u16(),
                message,
            })
        })
        .await
    }

    async fn on_connection<T, F, Fut>(&self, f: F) -> Result<T>
    where
        F: FnOnce(Connected) -> Fut,
        Fut: Future<Output = std::result::Result<T, BollardError>>,
    {
        let result = async {
            let connected = self.connected().await?;
            tokio::time::timeout(self.inner.timeouts.call, f(connected))
                .await
                .map_err(|_| Error::EngineTimeout)?
                .map_err(classify::call)
        }
        .await;
        if matches!(
            result,
            Err(Error::EngineUnreachable { .. } | Error::EngineTimeout)
        ) {
            self.reset().await;
        }
        result
    }
}

async fn negotiate(docker: Docker, timeout: Duration) -> Result<Docker> {
    tokio::time::timeout(timeout, docker.negotiate_version())
        .await
        .map_err(|_| Error::EngineTimeout)?
        .map_err(classify::negotiation)
}

/// With TLS 1.3 the engine judges our client certificate after the handshake has finished on
/// our side; when it refuses, it sends its alert and closes, and whether we read the alert or a
/// bare reset depends on timing. A failure that says nothing clear is worth one more look.
fn unclear_tls_failure(err: &Error) -> bool {
    matches!(
        err,
        Error::EngineUnreachable {
            reason: Unreachable::Other | Unreachable::TlsHandshake,
            ..
        }
    )
}

/// Connects once more with TLS 1.2 only, where the client certificate is judged inside the
/// handshake, so its refusal arrives as an alert we always read. Returns that connection's
/// failure when it names a TLS cause; `None` when it tells nothing new.
async fn diagnose_tls(spec: &EngineSpec, timeout: Duration) -> Option<Error> {
    let files = spec.tls.as_ref()?;
    let config = tls_config(files, &[&rustls::version::TLS12]).ok()?;
    let (docker, _) = tls_client(spec, config, timeout).ok()?;
    match negotiate(docker, timeout).await {
        Err(
            e @ Error::EngineUnreachable {
                reason: Unreachable::TlsBadClientCert | Unreachable::TlsUnknownCa,
                ..
            },
        ) => Some(e),
        _ => None,
    }
}

fn connect(spec: &EngineSpec, timeout: Duration) -> Result<(Docker, Wire)> {
    spec.validate()?;
    let secs = backstop_secs(timeout);
    let url = spec.url.as_str();
    if let Some(path) = url.strip_prefix("unix://") {
        if !std::path::Path::new(path).exists() {
            return Err(Error::EngineUnreachable {
                reason: Unreachable::NoSuchSocket,
                detail: format!("{path} does not exist"),
            });
        }
        // hyperlocal finds the socket in the URI's host, hex-encoded (as bollard's own unix
        // client writes it).
        let hex: String = path.bytes().map(|b| format!("{b:02x}")).collect();
        return pooled(hyperlocal::UnixConnector, format!("unix://{hex}"), secs);
    }
    match &spec.tls {
        Some(files) => tls_client(spec, tls_config(files, rustls::DEFAULT_VERSIONS)?, timeout),
        None => pooled(
            tcp_connector(timeout),
            format!("http://{}", authority(spec)),
            secs,
        ),
    }
}

/// bollard's own timeout is a backstop; `Engine::call` enforces the real deadline.
fn backstop_secs(timeout: Duration) -> u64 {
    timeout.as_secs().max(1) * 2
}

/// The host:port of a `tcp://`, `http://` or `https://` URL (`validate` accepted it).
fn authority(spec: &EngineSpec) -> &str {
    let url = spec.url.as_str();
    url.split_once("://").map_or(url, |(_, rest)| rest)
}

fn tls_client(
    spec: &EngineSpec,
    config: rustls::ClientConfig,
    timeout: Duration,
) -> Result<(Docker, Wire)> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .wrap_connector(tcp_connector(timeout));
    pooled(
        https,
        format!("https://{}", authority(spec)),
        backstop_secs(timeout),
    )
}

/// Idle connections kept per engine: enough for the usual handful of concurrent calls (a page
/// asks for a list, a probe and stats at once) without holding sockets nobody uses.
const IDLE_CONNECTIONS: usize = 4;
/// How long an idle connection is kept for the next call.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The TCP side of a `tcp://` engine. `TCP_NODELAY` matters: without it, a request or a TLS
/// handshake flight written in two pieces waits for the engine's delayed ACK (40 ms on Linux)
/// before the second piece leaves, on every call.
fn tcp_connector(timeout: Duration) -> HttpConnector {
    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(Some(timeout));
    tcp
}

/// A bollard client over `connector` that keeps a few idle connections (and their TLS
/// sessions) for the next call, where bollard's own clients open a new one per call; and the
/// same transport as a [`Wire`] for calls read as bytes.
fn pooled<C>(connector: C, base: String, secs: u64) -> Result<(Docker, Wire)>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let client = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(IDLE_CONNECTIONS)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .pool_timer(TokioTimer::new())
        .build(connector);
    let send: Arc<dyn Fn(bollard::BollardRequest) -> Sent + Send + Sync> =
        Arc::new(move |request| Box::pin(client.request(request)));
    let wire = Wire {
        send: send.clone(),
        base: base.clone(),
    };
    let docker = Docker::connect_with_custom_transport(
        move |request: bollard::BollardRequest| {
            let sent = send(request);
            async move { sent.await.map_err(BollardError::from) }
        },
        Some(base),
        secs,
        bollard::API_DEFAULT_VERSION,
    )
    .map_err(classify::call)?;
    Ok((docker, wire))
}

/// Mutual TLS as the docker CLI does it with `--tlsverify`: the engine's certificate must chain
/// to the configured CA (and only to it) and name the host of the URL; we present the client
/// certificate and key.
fn tls_config(
    tls: &Tls,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Result<rustls::ClientConfig> {
    let [(ca, ca_name), (cert, cert_name), (key, key_name)] = tls.read()?;
    let mut roots = rustls::RootCertStore::empty();
    let ca_certs = CertificateDer::pem_slice_iter(&ca)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_files(&ca_name, &format!("not a PEM certificate: {e}")))?;
    let (added, _) = roots.add_parsable_certificates(ca_certs);
    if added == 0 {
        return Err(tls_files(&ca_name, "holds no usable CA certificate"));
    }
    let chain = CertificateDer::pem_slice_iter(&cert)
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| tls_files(&cert_name, &format!("not a PEM certificate: {e}")))?;
    if chain.is_empty() {
        return Err(tls_files(&cert_name, "holds no certificate"));
    }
    let key = PrivateKeyDer::from_pem_slice(&key)
        .map_err(|e| tls_files(&key_name, &format!("holds no usable private key: {e}")))?;
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(versions)
        .map_err(|e| tls_files(&ca_name, &format!("TLS setup: {e}")))?
        .with_root_certificates(roots)
        .with_client_auth_cert(chain, key)
        .map_err(|e| {
            tls_files(
                &key_name,
                &format!("does not fit the client certificate: {e}"),
            )
        })
}

fn read_pem(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path)
        .map_err(|e| tls_files(&path.display().to_string(), &format!("cannot be read: {e}")))
}

fn tls_files(what_file: &str, what: &str) -> Error {
    Error::EngineUnreachable {
        reason: Unreachable::TlsFiles,
        detail: format!("{what_file}: {what}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_service::Service;

    /// The engine transport must not wait for delayed ACKs: every connection it opens has
    /// `TCP_NODELAY` set (the timing it saves is shown by `./dev bench`, not asserted here).
    #[tokio::test]
    async fn tcp_engine_connections_set_nodelay() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let accept = tokio::spawn(async move { listener.accept().await.map(|(s, _)| s) });
        let uri: http::Uri = format!("http://{addr}").parse().expect("uri");
        let mut connector = tcp_connector(Duration::from_secs(5));
        let stream = connector.call(uri).await.expect("connects");
        assert!(stream.inner().nodelay().expect("nodelay readable"));
        drop(accept.await.expect("accept task").expect("accepted"));
    }

    #[test]
    fn unreadable_tls_files_are_named() {
        let files = Tls::from(TlsFiles::from_dir("/nonexistent/capstan-tls"));
        let err = tls_config(&files, rustls::DEFAULT_VERSIONS).expect_err("no files");
        assert!(
            matches!(err, Error::EngineUnreachable { reason: Unreachable::TlsFiles, ref detail } if detail.contains("ca.pem")),
            "{err:?}"
        );
    }
}
