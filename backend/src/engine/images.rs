//! Images on one engine: list, inspect, history, pull with live progress, tag, remove, prune,
//! save (export), load, import and registry search. Bodies stream both ways: a pull's progress
//! is handed on event by event, a save is the engine's tar passed through, a load or import
//! reads a spooled upload from disk as the engine takes it.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::pin::Pin;
use std::time::Duration;

use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    CreateImageOptions, ImportImageOptions, ListContainersOptions, ListImagesOptions,
    PruneImagesOptions, RemoveImageOptions, SearchImagesOptions, TagImageOptions,
};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio_util::io::ReaderStream;

use super::container_fs::{ByteStream, Download, SpooledBody};
use super::container_ops::{validate_repo, validate_tag};
use super::run::validate_image;
use super::{classify, Engine};
pub use crate::error::SEARCH_DEADLINE;
use crate::error::{Error, Result};

/// A pull, load or import that goes this long without a word from the engine is given up.
const STALL: Duration = Duration::from_secs(120);
/// A save whose engine sends nothing for this long is cut.
const IDLE: Duration = Duration::from_secs(60);
/// Long transfers are bounded by their stall timers, not by the client's per-call timeout.
const LONG: Duration = Duration::from_secs(24 * 3600);

/// An image in a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageSummary {
    /// `sha256:…`.
    pub id: String,
    /// `repo:tag` names; empty for a dangling image.
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// Bytes, shared layers included.
    pub size: u64,
    /// Unix seconds.
    pub created: i64,
    /// Containers (any state) made from this image.
    pub containers: u32,
    /// No tag: left behind by a newer image of the same name.
    pub dangling: bool,
    pub labels: BTreeMap<String, String>,
}

/// `docker image inspect`, the parts a person reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageDetail {
    pub id: String,
    pub repo_tags: Vec<String>,
    pub repo_digests: Vec<String>,
    /// RFC 3339, as the engine reports it.
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
    /// Layer digests of the root filesystem, bottom first.
    pub layers: Vec<String>,
    /// Names of the containers made from this image.
    pub containers: Vec<String>,
}

pub use wire::images::{HistoryEntry, Pruned, RemovedImage, SearchHit};

/// One progress event of a pull, as the engine sent it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PullProgress {
    /// The layer (short digest) the event is about; `None` for messages about the whole pull.
    pub id: Option<String>,
    /// `Pulling fs layer`, `Downloading`, `Extracting`, `Pull complete`, `Digest: …`, …
    pub status: String,
    /// Bytes done and in all, for `Downloading` and `Extracting`.
    pub current: Option<u64>,
    pub total: Option<u64>,
}

/// A pull in progress: events in the engine's order. An `Err` is the last item. Dropping the
/// stream stops reading from the engine.
pub type PullStream = Pin<Box<dyn Stream<Item = Result<PullProgress>> + Send>>;

/// Credentials for a registry, sent to the engine with a pull. The password never leaves
/// Capstan otherwise.
#[derive(Clone, PartialEq, Eq)]
pub struct RegistryAuth {
    /// `registry.example.com:5000`, or `docker.io`.
    pub server: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for RegistryAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryAuth")
            .field("server", &self.server)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The registry an image reference pulls from: its first part when that looks like a host
/// (a dot, a port, or `localhost`), else Docker Hub (`docker.io`).
pub fn registry_of(reference: &str) -> &str {
    match reference.split_once('/') {
        Some((first, _)) if first.contains(['.', ':']) || first == "localhost" => first,
        _ => "docker.io",
    }
}

/// An image as the engine's URL names it: an id, a digest reference or `repo[:tag]`. Anything
/// else cannot name an image and must never reach the URL, where `..` or `?` would address
/// another endpoint.
pub(super) fn check_image_ref(id: &str) -> Result<&str> {
    let ok = !id.is_empty()
        && id.len() <= 512
        && id.chars().next().is_some_and(|c| c.is_ascii_alphanumeric())
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '@'))
        && !id.split('/').any(|p| p.is_empty() || p == "." || p == "..");
    if ok {
        Ok(id)
    } else {
        Err(Error::NotFound("image".into()))
    }
}

/// Who uses what, from one `/containers/json?all=1`: the images, volumes and networks of every
/// container, so lists can count users without a call per object.
#[derive(Debug, Clone, Default)]
pub(super) struct Usage {
    pub containers: Vec<UsedBy>,
}

#[derive(Debug, Clone, Default)]
pub(super) struct UsedBy {
    pub id: String,
    pub name: String,
    pub image_id: String,
    pub volumes: Vec<String>,
    /// (network name, network id).
    pub networks: Vec<(String, String)>,
}

impl Usage {
    pub fn of_image(&self, image_id: &str) -> Vec<String> {
        self.names(|c| c.image_id == image_id)
    }

    pub fn of_volume(&self, volume: &str) -> Vec<String> {
        self.names(|c| c.volumes.iter().any(|v| v == volume))
    }

    pub fn on_network(&self, network_id: &str) -> Vec<&UsedBy> {
        self.containers
            .iter()
            .filter(|c| c.networks.iter().any(|(_, id)| id == network_id))
            .collect()
    }

    fn names(&self, pred: impl Fn(&UsedBy) -> bool) -> Vec<String> {
        let mut names: Vec<String> = self
            .containers
            .iter()
            .filter(|c| pred(c))
            .map(|c| c.name.clone())
            .collect();
        names.sort();
        names
    }
}

/// "a, b and 3 more" for messages that name the containers in the way.
pub(super) fn name_list(names: &[String]) -> String {
    const SHOWN: usize = 5;
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
}

fn real_tags(tags: Vec<String>) -> Vec<String> {
    tags.into_iter().filter(|t| t != "<none>:<none>").collect()
}

fn real_digests(digests: Vec<String>) -> Vec<String> {
    digests
        .into_iter()
        .filter(|d| d != "<none>@<none>")
        .collect()
}

fn bytes(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// An engine error about one image, in words: 404 is the image; a server error's text (which
/// may name paths on the engine's host) is logged and replaced.
fn image_error(err: Error, doing: &str) -> Error {
    match err {
        Error::Engine { status: 404, .. } => Error::NotFound("image".into()),
        Error::Engine { status, message } if status >= 500 => {
            tracing::warn!(status, engine = %message, "engine failed to {doing}");
            Error::Engine {
                status,
                message: format!("the engine could not {doing}"),
            }
        }
        other => other,
    }
}

/// A failed pull in words: a missing image is 404, a refusal or an unreachable registry is 422
/// on `image` (the reference is what the person can change).
fn pull_failure(reference: &str, message: &str) -> Error {
    let m = message.to_ascii_lowercase();
    tracing::info!(image = %reference, error = %message, "pull failed");
    if m.contains("not found")
        || m.contains("manifest unknown")
        || m.contains("pull access denied")
        || m.contains("repository does not exist")
    {
        Error::NotFound(format!("image {reference}"))
    } else if m.contains("unauthorized")
        || m.contains("authentication required")
        || m.contains("denied")
    {
        Error::invalid(
            "image",
            format!("{reference} could not be pulled: the registry refused access"),
        )
    } else {
        Error::invalid(
            "image",
            format!("{reference} could not be pulled: its registry could not be reached or refused the pull"),
        )
    }
}

/// `name:tag` split for the engine's `fromImage`/`tag` parameters; no tag means `latest`.
fn pull_parts(reference: &str) -> (String, Option<String>) {
    if reference.contains('@') {
        return (reference.to_owned(), None);
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last_slash..].rfind(':') {
        Some(i) => (
            reference[..last_slash + i].to_owned(),
            Some(reference[last_slash + i + 1..].to_owned()),
        ),
        None => (reference.to_owned(), Some("latest".into())),
    }
}

/// A file name for a saved image: letters, digits, `.`, `_`, `-`.
fn save_name(reference: &str) -> String {
    let safe: String = reference
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let safe = safe.trim_start_matches(['.', '_']);
    if safe.is_empty() {
        "image.tar".to_owned()
    } else {
        format!("{safe}.tar")
    }
}

/// Validates a search term: what a person types, on one line.
pub fn validate_search_term(term: &str) -> Result<()> {
    let term = term.trim();
    if term.is_empty() {
        return Err(Error::invalid("term", "is required: what to search for"));
    }
    if term.len() > 256 || term.chars().any(char::is_control) {
        return Err(Error::invalid(
            "term",
            "use at most 256 characters on one line",
        ));
    }
    // `host[:port]/name` makes the engine connect to that host: searching would become a way
    // to probe addresses from the engine's network. Only Docker Hub is searched.
    if let Some((first, _)) = term.split_once('/') {
        let registry = first.contains(['.', ':']) || first == "localhost";
        if registry
            && !matches!(
                first,
                "docker.io" | "index.docker.io" | "registry-1.docker.io"
            )
        {
            return Err(Error::invalid(
                "term",
                "search Docker Hub by name (nginx, bitnami/redis); a registry address such as host:port/ is not searched",
            ));
        }
    }
    Ok(())
}

impl Engine {
    /// Who uses which image, volume and network: one container list.
    pub(super) async fn usage(&self) -> Result<Usage> {
        let options = ListContainersOptions {
            all: true,
            ..Default::default()
        };
        let list = self
            .call(|d| async move { d.list_containers(Some(options)).await })
            .await?;
        let containers = list
            .into_iter()
            .map(|c| UsedBy {
                id: c.id.unwrap_or_default(),
                name: c
                    .names
                    .and_then(|n| n.into_iter().next())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_owned(),
                image_id: c.image_id.unwrap_or_default(),
                volumes: c
                    .mounts
                    .unwrap_or_default()
                    .into_iter()
                    .filter(|m| m.typ.as_deref() == Some("volume"))
                    .filter_map(|m| m.name)
                    .collect(),
                networks: c
                    .network_settings
                    .and_then(|n| n.networks)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(name, ep)| (name, ep.network_id.unwrap_or_default()))
                    .collect(),
            })
            .collect();
        Ok(Usage { containers })
    }

    /// `docker images`: tagged and dangling images (or only one kind with `dangling`), newest
    /// first, each with the number of containers made from it.
    pub async fn list_images(&self, dangling: Option<bool>) -> Result<Vec<ImageSummary>> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(d) = dangling {
            filters.insert("dangling".into(), vec![d.to_string()]);
        }
        let options = ListImagesOptions {
            all: false,
            filters: Some(filters),
            ..Default::default()
        };
        let (images, usage) = tokio::join!(
            self.call(|d| async move { d.list_images(Some(options)).await }),
            self.usage()
        );
        let (images, usage) = (images?, usage?);
        let mut counts: HashMap<&str, u32> = HashMap::new();
        for c in &usage.containers {
            *counts.entry(c.image_id.as_str()).or_default() += 1;
        }
        let mut out: Vec<ImageSummary> = images
            .into_iter()
            .map(|i| {
                let repo_tags = real_tags(i.repo_tags);
                ImageSummary {
                    containers: counts.get(i.id.as_str()).copied().unwrap_or(0),
                    dangling: repo_tags.is_empty(),
                    id: i.id,
                    repo_tags,
                    repo_digests: real_digests(i.repo_digests),
                    size: bytes(i.size),
                    created: i.created,
                    labels: i.labels.into_iter().collect(),
                }
            })
            .collect();
        out.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// `docker image inspect`, with the names of the containers made from the image.
    pub async fn inspect_image(&self, id: &str) -> Result<ImageDetail> {
        let id = check_image_ref(id)?.to_owned();
        let (image, usage) = tokio::join!(
            self.call(|d| async move { d.inspect_image(&id).await }),
            self.usage()
        );
        let image = image.map_err(|e| image_error(e, "inspect the image"))?;
        let usage = usage?;
        let image_id = image.id.unwrap_or_default();
        let config = image.config.unwrap_or_default();
        Ok(ImageDetail {
            containers: usage.of_image(&image_id),
            id: image_id,
            repo_tags: real_tags(image.repo_tags.unwrap_or_default()),
            repo_digests: real_digests(image.repo_digests.unwrap_or_default()),
            created: image.created.filter(|c| !c.is_empty()),
            author: image.author.unwrap_or_default(),
            comment: image.comment.unwrap_or_default(),
            architecture: image.architecture.unwrap_or_default(),
            os: image.os.unwrap_or_default(),
            size: bytes(image.size.unwrap_or(0)),
            cmd: config.cmd.unwrap_or_default(),
            entrypoint: config.entrypoint.unwrap_or_default(),
            env: config.env.unwrap_or_default(),
            exposed_ports: config.exposed_ports.unwrap_or_default(),
            volumes: config.volumes.unwrap_or_default(),
            working_dir: config.working_dir.unwrap_or_default(),
            user: config.user.unwrap_or_default(),
            labels: config.labels.unwrap_or_default().into_iter().collect(),
            layers: image.root_fs.and_then(|r| r.layers).unwrap_or_default(),
        })
    }

    /// `docker history`: the steps that made the image, newest first.
    pub async fn image_history(&self, id: &str) -> Result<Vec<HistoryEntry>> {
        let id = check_image_ref(id)?.to_owned();
        let history = self
            .call(|d| async move { d.image_history(&id).await })
            .await
            .map_err(|e| image_error(e, "read the image's history"))?;
        Ok(history
            .into_iter()
            .map(|h| HistoryEntry {
                id: Some(h.id).filter(|i| !i.is_empty() && i != "<missing>"),
                created: h.created,
                created_by: h.created_by,
                size: bytes(h.size),
                tags: real_tags(h.tags),
                comment: h.comment,
            })
            .collect())
    }

    /// `docker pull` with its progress: the engine's events, one by one as they arrive.
    /// Failures before the first event (a missing image, a refused login) are returned as the
    /// error; later ones end the stream. Without a tag, `latest` is pulled.
    pub async fn pull_image_progress(
        &self,
        reference: &str,
        auth: Option<RegistryAuth>,
    ) -> Result<PullStream> {
        validate_image(reference)?;
        let (name, tag) = pull_parts(reference);
        let options = CreateImageOptions {
            from_image: Some(name),
            tag,
            ..Default::default()
        };
        let credentials = auth.map(|a| bollard::auth::DockerCredentials {
            username: Some(a.username),
            password: Some(a.password),
            serveraddress: Some(a.server),
            ..Default::default()
        });
        let docker = self.docker().await?.with_timeout(LONG);
        let mut stream = docker
            .create_image(Some(options), None, credentials)
            .boxed();
        let reference = reference.to_owned();
        let first = match tokio::time::timeout(STALL, stream.next()).await {
            Err(_) => return Err(Error::EngineTimeout),
            Ok(None) => None,
            Ok(Some(Ok(info))) => Some(progress(info)),
            Ok(Some(Err(e))) => return Err(pull_error(&reference, e)),
        };
        let rest = futures::stream::unfold(Some((stream, reference)), |state| async move {
            let (mut stream, reference) = state?;
            match tokio::time::timeout(STALL, stream.next()).await {
                Err(_) => {
                    tracing::warn!(image = %reference, "a pull stalled");
                    Some((Err(Error::EngineTimeout), None))
                }
                Ok(None) => None,
                Ok(Some(Ok(info))) => Some((Ok(progress(info)), Some((stream, reference)))),
                Ok(Some(Err(e))) => Some((Err(pull_error(&reference, e)), None)),
            }
        });
        Ok(Box::pin(futures::stream::iter(first.map(Ok)).chain(rest)))
    }

    /// `docker tag`: gives the image another name, `repo:tag` (`latest` without a tag).
    pub async fn tag_image(&self, id: &str, repo: &str, tag: Option<&str>) -> Result<()> {
        let id = check_image_ref(id)?.to_owned();
        validate_repo(repo)?;
        if let Some(t) = tag {
            validate_tag(t)?;
        }
        let options = TagImageOptions {
            repo: Some(repo.to_owned()),
            tag: Some(tag.unwrap_or("latest").to_owned()),
        };
        self.call(|d| async move { d.tag_image(&id, Some(options)).await })
            .await
            .map_err(|e| image_error(e, "tag the image"))
    }

    /// `docker rmi [--force]`. An image that containers use is refused with their names, even
    /// with force when one of them is running.
    pub async fn remove_image(&self, id: &str, force: bool) -> Result<RemovedImage> {
        let id = check_image_ref(id)?.to_owned();
        let options = RemoveImageOptions {
            force,
            noprune: false,
            platforms: None,
        };
        let owned = id.clone();
        let result = self
            .call(|d| async move { d.remove_image(&owned, Some(options), None).await })
            .await;
        match result {
            Ok(items) => {
                let mut out = RemovedImage::default();
                for item in items {
                    out.untagged.extend(item.untagged);
                    out.deleted.extend(item.deleted);
                }
                Ok(out)
            }
            Err(Error::Engine {
                status: 409,
                message,
            }) => Err(self.removal_conflict(&id, &message).await),
            Err(e) => Err(image_error(e, "remove the image")),
        }
    }

    async fn removal_conflict(&self, id: &str, message: &str) -> Error {
        tracing::info!(image = %id, engine = %message, "the engine refused to remove an image");
        let owned = id.to_owned();
        let image_id = self
            .call(|d| async move { d.inspect_image(&owned).await })
            .await
            .ok()
            .and_then(|i| i.id);
        let users = match (image_id, self.usage().await) {
            (Some(image_id), Ok(usage)) => usage.of_image(&image_id),
            _ => Vec::new(),
        };
        if !users.is_empty() {
            return Error::Conflict(format!(
                "the image is in use by containers: {}",
                name_list(&users)
            ));
        }
        let m = message.to_ascii_lowercase();
        if m.contains("child") {
            Error::Conflict("other images are built on this image; remove them first".into())
        } else if m.contains("multiple repositories") {
            Error::Conflict(
                "the image has several names; remove one name at a time, or force".into(),
            )
        } else {
            Error::Conflict("the engine refused to remove the image in its current state".into())
        }
    }

    /// `docker image prune`: removes dangling images (only those with `label`, a `key` or
    /// `key=value`, when given).
    pub async fn prune_images(&self, label: Option<&str>) -> Result<Pruned> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        filters.insert("dangling".into(), vec!["true".into()]);
        if let Some(l) = label {
            validate_label_filter(l)?;
            filters.insert("label".into(), vec![l.to_owned()]);
        }
        let options = PruneImagesOptions {
            filters: Some(filters),
        };
        let docker = self.docker().await?.with_timeout(LONG);
        let pruned = tokio::time::timeout(STALL, docker.prune_images(Some(options)))
            .await
            .map_err(|_| Error::EngineTimeout)?
            .map_err(classify::call)
            .map_err(|e| match e {
                Error::Engine { status: 409, .. } => {
                    Error::Conflict("a prune is already running on this engine".into())
                }
                other => image_error(other, "prune images"),
            })?;
        Ok(Pruned {
            deleted: pruned
                .images_deleted
                .unwrap_or_default()
                .into_iter()
                .filter_map(|i| i.deleted)
                .collect(),
            space_reclaimed: bytes(pruned.space_reclaimed.unwrap_or(0)),
        })
    }

    /// `docker save`: the image as a tar stream (`docker load` takes it back).
    pub async fn export_image(&self, id: &str) -> Result<Download> {
        let id = check_image_ref(id)?.to_owned();
        // The save endpoint answers 200 before it fails on a missing image; ask first.
        let owned = id.clone();
        self.call(|d| async move { d.inspect_image(&owned).await })
            .await
            .map_err(|e| image_error(e, "inspect the image"))?;
        let docker = self.docker().await?.with_timeout(LONG);
        let stream = streamed(
            docker.export_image(&id),
            self.inner.timeouts.call.max(Duration::from_secs(60)),
        )
        .await?;
        Ok(Download {
            filename: save_name(&id),
            stream,
        })
    }

    /// `docker load`: the images of a `docker save` tar. Returns what the engine loaded
    /// (`repo:tag` names, or `sha256:…` ids for untagged images).
    pub async fn load_images(&self, body: SpooledBody) -> Result<Vec<String>> {
        if body.is_empty() {
            return Err(Error::invalid(
                "body",
                "is empty; send a tar made by docker save",
            ));
        }
        let deadline =
            self.inner.timeouts.call + Duration::from_secs(body.len() / (1024 * 1024)) + STALL;
        let file = body.into_file();
        let stream = ReaderStream::with_capacity(file, 64 * 1024);
        let docker = self.docker().await?.with_timeout(LONG);
        let mut events = docker
            .import_image(
                ImportImageOptions {
                    quiet: false,
                    platform: None,
                },
                bollard::body_try_stream(stream),
                None,
            )
            .boxed();
        let work = async {
            let mut loaded = Vec::new();
            while let Some(event) = events.next().await {
                match event {
                    Ok(info) => {
                        for line in info.stream.iter().flat_map(|s| s.lines()) {
                            if let Some(name) = line
                                .strip_prefix("Loaded image: ")
                                .or_else(|| line.strip_prefix("Loaded image ID: "))
                            {
                                loaded.push(name.trim().to_owned());
                            }
                        }
                    }
                    Err(e) => return Err(load_error(e)),
                }
            }
            Ok(loaded)
        };
        let loaded = tokio::time::timeout(deadline, work)
            .await
            .map_err(|_| Error::EngineTimeout)??;
        if loaded.is_empty() {
            return Err(Error::invalid(
                "body",
                "holds no image; send a tar made by docker save",
            ));
        }
        Ok(loaded)
    }

    /// `docker import`: a filesystem tar becomes a one-layer image `repo:tag` (`latest` without
    /// a tag). Returns the new image's id.
    pub async fn import_image(
        &self,
        body: SpooledBody,
        repo: &str,
        tag: Option<&str>,
    ) -> Result<String> {
        validate_repo(repo)?;
        if let Some(t) = tag {
            validate_tag(t)?;
        }
        if body.is_empty() {
            return Err(Error::invalid(
                "body",
                "is empty; send a tar of a filesystem",
            ));
        }
        let deadline =
            self.inner.timeouts.call + Duration::from_secs(body.len() / (1024 * 1024)) + STALL;
        let file = body.into_file();
        let stream = ReaderStream::with_capacity(file, 64 * 1024);
        let options = CreateImageOptions {
            from_src: Some("-".into()),
            repo: Some(repo.to_owned()),
            tag: Some(tag.unwrap_or("latest").to_owned()),
            ..Default::default()
        };
        let docker = self.docker().await?.with_timeout(LONG);
        let mut events = docker
            .create_image(Some(options), Some(bollard::body_try_stream(stream)), None)
            .boxed();
        let work = async {
            let mut id = None;
            while let Some(event) = events.next().await {
                match event {
                    Ok(info) => {
                        if let Some(status) = info.status.filter(|s| s.starts_with("sha256:")) {
                            id = Some(status.trim().to_owned());
                        }
                    }
                    Err(e) => return Err(load_error(e)),
                }
            }
            Ok(id)
        };
        let id = tokio::time::timeout(deadline, work)
            .await
            .map_err(|_| Error::EngineTimeout)??;
        id.ok_or_else(|| {
            Error::invalid(
                "body",
                "the engine made no image of it; send a tar of a filesystem",
            )
        })
    }

    /// `docker search` through the engine (which asks its registry). Bounded by
    /// [`SEARCH_DEADLINE`]: an engine that cannot reach a registry answers `EngineTimeout` or
    /// an engine error, never a hang.
    pub async fn search_images(&self, term: &str, limit: Option<u32>) -> Result<Vec<SearchHit>> {
        validate_search_term(term)?;
        let limit = limit.unwrap_or(25);
        if !(1..=100).contains(&limit) {
            return Err(Error::invalid("limit", "must be from 1 to 100"));
        }
        let options = SearchImagesOptions {
            term: term.trim().to_owned(),
            limit: Some(i32::try_from(limit).unwrap_or(25)),
            filters: None,
        };
        let docker = self.docker().await?;
        let hits = tokio::time::timeout(SEARCH_DEADLINE, docker.search_images(options))
            .await
            .map_err(|_| Error::EngineTimeout)?
            .map_err(classify::call)?;
        Ok(hits
            .into_iter()
            .map(|h| SearchHit {
                name: h.name.unwrap_or_default(),
                description: h.description.unwrap_or_default(),
                stars: bytes(h.star_count.unwrap_or(0)),
                official: h.is_official.unwrap_or(false),
                automated: h.is_automated.unwrap_or(false),
            })
            .collect())
    }
}

/// A prune filter on labels: `key` or `key=value` (or `key!=value`), on one line.
pub(super) fn validate_label_filter(label: &str) -> Result<()> {
    let key = label.split(['=', '!']).next().unwrap_or_default();
    if key.is_empty() || label.len() > 512 || label.chars().any(char::is_control) {
        return Err(Error::invalid("label", "use key or key=value"));
    }
    Ok(())
}

fn progress(info: bollard::models::CreateImageInfo) -> PullProgress {
    let detail = info.progress_detail.unwrap_or_default();
    PullProgress {
        id: info.id.filter(|i| !i.is_empty()),
        status: info.status.unwrap_or_default(),
        current: detail.current.and_then(|c| u64::try_from(c).ok()),
        total: detail
            .total
            .and_then(|t| u64::try_from(t).ok())
            .filter(|t| *t > 0),
    }
}

fn pull_error(reference: &str, err: BollardError) -> Error {
    match err {
        BollardError::DockerStreamError { error } => pull_failure(reference, &error),
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } if (400..=500).contains(&status_code) => pull_failure(reference, &message),
        other => classify::call(other),
    }
}

/// A load or import the engine refused: the archive is what the person can change.
fn load_error(err: BollardError) -> Error {
    match err {
        BollardError::DockerStreamError { error } => {
            tracing::info!(engine = %error, "the engine refused an image archive");
            Error::invalid("body", "the engine could not read the archive as an image")
        }
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } if (400..=500).contains(&status_code) => {
            tracing::info!(status = status_code, engine = %message, "the engine refused an image archive");
            Error::invalid("body", "the engine could not read the archive as an image")
        }
        other => classify::call(other),
    }
}

/// Waits for a body's first chunk (so an early failure is a proper status, not a cut response)
/// and bounds the gaps between later chunks.
async fn streamed<S>(stream: S, first_wait: Duration) -> Result<ByteStream>
where
    S: Stream<Item = std::result::Result<Bytes, BollardError>> + Send + 'static,
{
    let mut stream = Box::pin(stream);
    let first = match tokio::time::timeout(first_wait, stream.next())
        .await
        .map_err(|_| Error::EngineTimeout)?
    {
        None => None,
        Some(Ok(b)) => Some(b),
        Some(Err(e)) => return Err(image_error(classify::call(e), "save the image")),
    };
    let rest = futures::stream::unfold(Some(stream), |state| async move {
        let mut stream = state?;
        match tokio::time::timeout(IDLE, stream.next()).await {
            Ok(Some(Ok(b))) => Some((Ok(b), Some(stream))),
            Ok(None) => None,
            Ok(Some(Err(e))) => {
                let detail = classify::call(e).log_detail();
                tracing::warn!(error = %detail, "an image save failed part-way");
                Some((Err(io::Error::other(detail)), None))
            }
            Err(_) => {
                tracing::warn!("an image save stalled");
                Some((
                    Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        "the engine stopped sending",
                    )),
                    None,
                ))
            }
        }
    });
    Ok(Box::pin(futures::stream::iter(first.map(Ok)).chain(rest)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registries_of_references() {
        assert_eq!(registry_of("busybox"), "docker.io");
        assert_eq!(registry_of("library/busybox:1"), "docker.io");
        assert_eq!(registry_of("127.0.0.1:5000/a/b:1"), "127.0.0.1:5000");
        assert_eq!(registry_of("localhost/a"), "localhost");
        assert_eq!(registry_of("ghcr.io/o/r@sha256:00"), "ghcr.io");
    }

    #[test]
    fn image_refs() {
        for ok in [
            "busybox",
            "sha256:0123abcd",
            "127.0.0.1:5000/a/b:1",
            "a@sha256:00ff",
            "0f80e3d4",
        ] {
            assert!(check_image_ref(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "../containers/json",
            "a/../b",
            "a?b",
            "/a",
            "a//b",
            "a b",
            "a/",
        ] {
            assert!(check_image_ref(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn parts_and_names() {
        assert_eq!(
            pull_parts("busybox"),
            ("busybox".into(), Some("latest".into()))
        );
        assert_eq!(
            pull_parts("r:5000/a:1"),
            ("r:5000/a".into(), Some("1".into()))
        );
        assert_eq!(
            pull_parts("r:5000/a"),
            ("r:5000/a".into(), Some("latest".into()))
        );
        assert_eq!(save_name("r:5000/a:1"), "r_5000_a_1.tar");
        assert_eq!(save_name("sha256:ab"), "sha256_ab.tar");
        assert_eq!(name_list(&["a".into(), "b".into()]), "a, b");
        let many: Vec<String> = (0..7).map(|i| format!("c{i}")).collect();
        assert_eq!(name_list(&many), "c0, c1, c2, c3, c4 and 2 more");
    }

    #[test]
    fn search_terms_and_labels() {
        assert!(validate_search_term("nginx").is_ok());
        assert!(validate_search_term("  ").is_err());
        assert!(validate_search_term("a\nb").is_err());
        assert!(
            validate_search_term("bitnami/redis").is_ok()
                && validate_search_term("docker.io/nginx").is_ok()
        );
        for probe in [
            "10.0.0.5:22/x",
            "localhost/x",
            "internal.example/x",
            "[::1]:80/x",
        ] {
            assert!(validate_search_term(probe).is_err(), "{probe}");
        }
        assert!(validate_label_filter("team=web").is_ok());
        assert!(validate_label_filter("=x").is_err());
    }
}
