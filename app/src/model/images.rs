//! Images and registry credentials on the wire: lists, detail, history, pull progress lines,
//! tag, remove, load, import and search. The REST API and the UI's server fns both speak these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::storage::HostProblem;
pub use wire::images::{HistoryEntry, RemovedImage, SearchHit, StoredRegistry};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageView {
    pub host: String,
    /// `sha256:…`.
    pub id: String,
    /// `repo:tag` names; empty for a dangling image.
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// Bytes.
    pub size: u64,
    /// Unix seconds.
    pub created: i64,
    /// Containers made from this image.
    pub containers: u32,
    pub dangling: bool,
    pub labels: BTreeMap<String, String>,
}

/// `GET /api/v1/images`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FleetImages {
    pub images: Vec<ImageView>,
    pub unreachable: Vec<HostProblem>,
}

/// The image lists' query: `dangling=true` for dangling images only, `false` for tagged only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(default)]
pub struct ImageListParams {
    #[cfg_attr(feature = "ssr", param(value_type = Option<bool>))]
    pub dangling: Option<String>,
}

/// `GET /api/v1/hosts/{host}/images/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImageDetailView {
    pub host: String,
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// RFC 3339.
    pub created: Option<String>,
    pub author: String,
    pub comment: String,
    pub architecture: String,
    pub os: String,
    pub size: u64,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    pub env: Vec<String>,
    pub exposed_ports: Vec<String>,
    pub volumes: Vec<String>,
    pub working_dir: String,
    pub user: String,
    pub labels: BTreeMap<String, String>,
    /// Layer digests, bottom first.
    pub layers: Vec<String>,
    /// Names of the containers made from the image.
    pub containers: Vec<String>,
}

/// `POST …/images/pull`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PullRequest {
    /// `registry:5000/team/app:1.2`; `latest` when no tag is given.
    pub image: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// One line of a pull's `application/x-ndjson` answer: a progress event
/// `{"id","status","current","total"}`, then `{"status":"done","image"}` or `{"error":{…}}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PullLine {
    /// The layer the event is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    /// On the `done` line: the image pulled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl PullLine {
    pub const DONE: &'static str = "done";

    pub fn is_done(&self) -> bool {
        self.status.as_deref() == Some(Self::DONE) && self.image.is_some()
    }

    pub fn done(image: String) -> Self {
        PullLine {
            status: Some(Self::DONE.into()),
            image: Some(image),
            ..Default::default()
        }
    }

    pub fn failed(code: &str, message: String) -> Self {
        PullLine {
            error: Some(ErrorBody {
                code: code.into(),
                message,
            }),
            ..Default::default()
        }
    }
}

/// `POST …/images/{id}/tag`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TagRequest {
    /// `[registry[:port]/]name[/name…]`, lowercase.
    pub repo: String,
    /// `latest` when absent.
    #[serde(default)]
    pub tag: Option<String>,
}

/// `POST …/images/load`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LoadedView {
    /// `repo:tag` names, or `sha256:…` for untagged images.
    pub images: Vec<String>,
}

/// `POST …/images/import?repo=&tag=`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ImportedView {
    pub id: String,
    /// `repo:tag`.
    pub image: String,
}

/// The import endpoint's query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(default)]
pub struct ImportParams {
    pub repo: Option<String>,
    pub tag: Option<String>,
}

/// The search endpoint's query.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(default)]
pub struct SearchParams {
    pub term: Option<String>,
    pub limit: Option<u32>,
}

/// `POST /api/v1/registries`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewRegistryRequest {
    pub server: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for NewRegistryRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRegistryRequest")
            .field("server", &self.server)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "ssr")]
mod convert {
    use backend::engine::{ImageDetail, ImageSummary, PullProgress};
    use backend::registries::NewRegistry;

    use super::*;

    impl ImageView {
        pub fn new(host: String, i: ImageSummary) -> Self {
            ImageView {
                host,
                id: i.id,
                repo_tags: i.repo_tags,
                repo_digests: i.repo_digests,
                size: i.size,
                created: i.created,
                containers: i.containers,
                dangling: i.dangling,
                labels: i.labels,
            }
        }
    }

    impl From<backend::storage::FleetList<ImageSummary>> for FleetImages {
        fn from(l: backend::storage::FleetList<ImageSummary>) -> Self {
            FleetImages {
                images: l
                    .items
                    .into_iter()
                    .map(|o| ImageView::new(o.host, o.item))
                    .collect(),
                unreachable: l.unreachable.into_iter().collect(),
            }
        }
    }

    impl ImageDetailView {
        pub fn new(host: String, d: ImageDetail) -> Self {
            ImageDetailView {
                host,
                id: d.id,
                repo_tags: d.repo_tags,
                repo_digests: d.repo_digests,
                created: d.created,
                author: d.author,
                comment: d.comment,
                architecture: d.architecture,
                os: d.os,
                size: d.size,
                cmd: d.cmd,
                entrypoint: d.entrypoint,
                env: d.env,
                exposed_ports: d.exposed_ports,
                volumes: d.volumes,
                working_dir: d.working_dir,
                user: d.user,
                labels: d.labels,
                layers: d.layers,
                containers: d.containers,
            }
        }
    }

    impl From<PullProgress> for PullLine {
        fn from(p: PullProgress) -> Self {
            PullLine {
                id: p.id,
                status: Some(p.status),
                current: p.current,
                total: p.total,
                image: None,
                error: None,
            }
        }
    }

    impl From<NewRegistryRequest> for NewRegistry {
        fn from(r: NewRegistryRequest) -> Self {
            NewRegistry {
                server: r.server,
                username: r.username,
                password: r.password,
            }
        }
    }
}
