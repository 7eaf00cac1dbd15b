//! One Docker engine behind Capstan's own types. bollard stays inside this module: callers see
//! [`Engine`], [`EngineSpec`] and the `convert`ed structs, never a bollard type.

mod classify;
mod container_fs;
mod container_ops;
mod containers;
mod images;
mod networks;
mod run;
mod streams;
mod swarm;
mod system;
mod volumes;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use tokio::sync::OnceCell;

use crate::error::{Error, Result, Unreachable};

pub use containers::{
    is_secret_key, ContainerDetail, ContainerSummary, Created, EnvVar, HealthCheck, HealthInfo, ListQuery, MountInfo,
    NetworkInfo, PortMapping, Sort, StateFilter, COMPOSE_PROJECT_LABEL,
};
pub use container_fs::{
    normalize_path, spool, validate_file_name, ByteStream, DirListing, Download, FileEntry, FileKind, Spooled,
    SpooledBody, UploadContent, UploadTarget, LISTING_CAP,
};
pub use container_ops::{validate_ps_args, validate_repo, validate_tag, ChangeKind, CommitOptions, FsChange, ProcessList};
pub use images::{
    registry_of, validate_search_term, HistoryEntry, ImageDetail, ImageSummary, Pruned, PullProgress, PullStream,
    RegistryAuth, RemovedImage, SearchHit, SEARCH_DEADLINE,
};
pub use networks::{AttachedContainer, Cidr, NetworkDetail, NetworkSpec, SubnetInfo, BUILTIN_NETWORKS};
pub use run::{validate_image, RunSpec};
pub use streams::{
    parse_rfc3339_nanos, Chunks, EngineEvent, ExecSession, ExecState, LogChunk, LogStream, LogsOptions, RawStats,
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
    pub tls: Option<TlsFiles>,
}

impl std::fmt::Debug for EngineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineSpec").field("url", &self.url).field("tls", &self.tls.is_some()).finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub ca: PathBuf,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TlsFiles {
    /// The docker CLI's layout: `ca.pem`, `cert.pem` and `key.pem` in one directory.
    pub fn from_dir(dir: impl Into<PathBuf>) -> Self {
        let dir = dir.into();
        TlsFiles { ca: dir.join("ca.pem"), cert: dir.join("cert.pem"), key: dir.join("key.pem") }
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
        Timeouts { call: Duration::from_secs(10) }
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
    client: tokio::sync::Mutex<Arc<OnceCell<Docker>>>,
}

impl Engine {
    pub fn new(spec: EngineSpec, timeouts: Timeouts) -> Self {
        Engine {
            inner: Arc::new(Inner {
                spec,
                timeouts,
                client: tokio::sync::Mutex::new(Arc::new(OnceCell::new())),
            }),
        }
    }

    pub fn spec(&self) -> &EngineSpec {
        &self.inner.spec
    }

    /// Whether both handles are the same connection (not merely the same address).
    pub fn same_connection(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// The negotiated client, connecting first if needed.
    async fn docker(&self) -> Result<Docker> {
        let cell = self.inner.client.lock().await.clone();
        let timeout = self.inner.timeouts.call;
        let docker = cell
            .get_or_try_init(|| async {
                let docker = connect(&self.inner.spec, timeout)?;
                tokio::time::timeout(timeout, docker.negotiate_version())
                    .await
                    .map_err(|_| Error::EngineTimeout)?
                    .map_err(classify::negotiation)
            })
            .await?;
        Ok(docker.clone())
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
        Fut: Future<Output = std::result::Result<T, bollard::errors::Error>>,
    {
        let result = async {
            let docker = self.docker().await?;
            tokio::time::timeout(self.inner.timeouts.call, f(docker))
                .await
                .map_err(|_| Error::EngineTimeout)?
                .map_err(classify::call)
        }
        .await;
        if matches!(result, Err(Error::EngineUnreachable { .. } | Error::EngineTimeout)) {
            self.reset().await;
        }
        result
    }
}

fn connect(spec: &EngineSpec, timeout: Duration) -> Result<Docker> {
    spec.validate()?;
    // bollard's own timeout is a backstop; `Engine::call` enforces the real deadline.
    let secs = timeout.as_secs().max(1) * 2;
    let version = bollard::API_DEFAULT_VERSION;
    let url = spec.url.as_str();
    let result = if let Some(path) = url.strip_prefix("unix://") {
        if !std::path::Path::new(path).exists() {
            return Err(Error::EngineUnreachable {
                reason: Unreachable::NoSuchSocket,
                detail: format!("{path} does not exist"),
            });
        }
        Docker::connect_with_unix(url, secs, version)
    } else if let Some(tls) = &spec.tls {
        Docker::connect_with_ssl(url, &tls.key, &tls.cert, &tls.ca, secs, version)
    } else {
        Docker::connect_with_http(url, secs, version)
    };
    result.map_err(classify::call)
}
