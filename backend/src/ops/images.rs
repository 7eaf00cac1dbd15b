//! Images: lists, inspect and history, pull (with live progress), tag, remove, prune, save,
//! load, import and registry search.

use super::{spool_within, Caller, Op, Ops, Upload};
use crate::engine::{
    validate_image, validate_repo, validate_search_term, validate_tag, Download, HistoryEntry,
    ImageDetail, ImageSummary, Pruned, PullStream, RemovedImage, SearchHit,
};
use crate::error::{Error, Result};
use crate::policy::HostAction;
use crate::step_params;
use crate::storage::FleetList;

pub const LIST: Op = Op::read("image.list");
pub const GET: Op = Op::read("image.get");
pub const HISTORY: Op = Op::read("image.history");
pub const SEARCH: Op = Op::read("image.search");
pub const PULL: Op = Op::answer("image.pull", HostAction::ManageStorage);
pub const TAG: Op = Op::create("image.tag", HostAction::ManageStorage);
pub const REMOVE: Op = Op::answer("image.remove", HostAction::ManageStorage);
pub const PRUNE: Op = Op::answer("image.prune", HostAction::ManageStorage);
pub const EXPORT: Op = Op::answer("image.export", HostAction::ManageStorage);
pub const LOAD: Op = Op::answer("image.load", HostAction::ManageStorage);
pub const IMPORT: Op = Op::create("image.import", HostAction::ManageStorage);

/// An image with its layers, and whether the caller may change it.
#[derive(Debug, Clone)]
pub struct ImageFacts {
    pub detail: ImageDetail,
    pub history: Vec<HistoryEntry>,
    pub manage: bool,
}

/// The reference as the engine will name it: `latest` when no tag or digest is given.
pub fn with_tag(reference: &str) -> String {
    let last = reference.rsplit('/').next().unwrap_or(reference);
    if reference.contains('@') || last.contains(':') {
        reference.to_owned()
    } else {
        format!("{reference}:latest")
    }
}

impl Ops {
    /// The images of every host the caller may view (only dangling or only tagged ones with
    /// `dangling`).
    pub async fn images(&self, c: &Caller, dangling: Option<bool>) -> FleetList<ImageSummary> {
        crate::storage::images(self.fleet(), &c.who, dangling).await
    }

    /// One host's images.
    pub async fn images_on(
        &self,
        c: &Caller,
        host: &str,
        dangling: Option<bool>,
    ) -> Result<Vec<ImageSummary>> {
        self.on_host(c, &LIST, (host, None), step_params!(), |h| async move {
            h.engine.list_images(dangling).await
        })
        .await
    }

    /// `docker image inspect`.
    pub async fn image(&self, c: &Caller, host: &str, id: &str) -> Result<ImageDetail> {
        self.on_host(c, &GET, (host, Some(id)), step_params!(), |h| async move {
            h.engine.inspect_image(id).await
        })
        .await
    }

    /// `docker history`, newest layer first.
    pub async fn image_history(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
    ) -> Result<Vec<HistoryEntry>> {
        self.on_host(
            c,
            &HISTORY,
            (host, Some(id)),
            step_params!(),
            |h| async move { h.engine.image_history(id).await },
        )
        .await
    }

    /// An image's page: the inspect, its history, and whether the caller may manage it.
    pub async fn image_facts(&self, c: &Caller, host: &str, id: &str) -> Result<ImageFacts> {
        self.on_host(c, &GET, (host, Some(id)), step_params!(), |h| async move {
            let (detail, history) =
                tokio::try_join!(h.engine.inspect_image(id), h.engine.image_history(id))?;
            let manage =
                crate::policy::authorize(&c.who, &h.slug, HostAction::ManageStorage).is_ok();
            Ok(ImageFacts {
                detail,
                history,
                manage,
            })
        })
        .await
    }

    /// `docker pull`, with the host's stored registry credentials when the image's registry has
    /// some: the engine's progress as it arrives. The step is recorded when the pull starts;
    /// a failure before the first event is the call's error.
    pub async fn pull_image(&self, c: &Caller, host: &str, reference: &str) -> Result<PullStream> {
        let reference = reference.trim();
        self.on_host(
            c,
            &PULL,
            (host, None),
            step_params!("image": reference),
            |h| async move {
                validate_image(reference)?;
                let auth = self.credentials.auth_for(reference).await?;
                h.engine.pull_image_progress(reference, auth).await
            },
        )
        .await
    }

    /// `docker tag` → the new name (`repo:tag`, `latest` when no tag is given).
    pub async fn tag_image(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
        (repo, tag): (&str, Option<&str>),
    ) -> Result<String> {
        let repo = repo.trim();
        let tag = tag.map(str::trim).filter(|t| !t.is_empty());
        self.on_host(
            c,
            &TAG,
            (host, Some(id)),
            step_params!("repo": repo, "tag": tag),
            |h| async move {
                h.engine.tag_image(id, repo, tag).await?;
                Ok(format!("{repo}:{}", tag.unwrap_or("latest")))
            },
        )
        .await
    }

    /// `docker rmi`, with `--force`.
    pub async fn remove_image(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
        force: bool,
    ) -> Result<RemovedImage> {
        self.on_host(
            c,
            &REMOVE,
            (host, Some(id)),
            step_params!("force": force),
            |h| async move { h.engine.remove_image(id, force).await },
        )
        .await
    }

    /// `docker image prune`: dangling images only, with a `label` filter.
    pub async fn prune_images(
        &self,
        c: &Caller,
        host: &str,
        label: Option<&str>,
    ) -> Result<Pruned> {
        self.on_host(
            c,
            &PRUNE,
            (host, None),
            step_params!("label": label),
            |h| async move { h.engine.prune_images(label).await },
        )
        .await
    }

    /// `docker save`: the image as a tar, streamed.
    pub async fn export_image(&self, c: &Caller, host: &str, id: &str) -> Result<Download> {
        self.on_host(
            c,
            &EXPORT,
            (host, Some(id)),
            step_params!(),
            |h| async move { h.engine.export_image(id).await },
        )
        .await
    }

    /// `docker search` through the host's engine. A registry that cannot be reached is
    /// [`Error::RegistryUnreachable`] (504 when it did not answer in time, 502 otherwise).
    pub async fn search_images(
        &self,
        c: &Caller,
        host: &str,
        term: &str,
        limit: Option<u32>,
    ) -> Result<Vec<SearchHit>> {
        let term = term.trim();
        self.on_host(
            c,
            &SEARCH,
            (host, None),
            step_params!("term": term),
            |h| async move {
                validate_search_term(term)?;
                match h.engine.search_images(term, limit).await {
                    Err(Error::EngineTimeout) => Err(Error::RegistryUnreachable { timeout: true }),
                    Err(Error::Engine { status, message }) => {
                        tracing::warn!(host = %h.slug, status, engine = %message, "registry search failed");
                        Err(Error::RegistryUnreachable { timeout: false })
                    }
                    other => other,
                }
            },
        )
        .await
    }

    /// `docker load`: a tar made by `docker save`, spooled within the upload limit before the
    /// engine sees a byte → the loaded images' names.
    pub async fn load_images<S, E>(
        &self,
        c: &Caller,
        host: &str,
        upload: Upload<S>,
    ) -> Result<Vec<String>>
    where
        S: futures::Stream<Item = std::result::Result<bytes::Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        self.on_host_then(
            c,
            &LOAD,
            (host, None),
            step_params!(),
            |h| async move {
                let body = spool_within(upload).await?;
                h.engine.load_images(body).await
            },
            |images, params| {
                params.insert("images".into(), images.clone().into());
            },
        )
        .await
    }

    /// `docker import`: a filesystem tar as a new image `repo:tag`, spooled like
    /// [`Ops::load_images`] → the image's id and name.
    pub async fn import_image<S, E>(
        &self,
        c: &Caller,
        host: &str,
        (repo, tag): (&str, Option<&str>),
        upload: Upload<S>,
    ) -> Result<(String, String)>
    where
        S: futures::Stream<Item = std::result::Result<bytes::Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let tag = tag.filter(|t| !t.is_empty());
        self.on_host_then(
            c,
            &IMPORT,
            (host, None),
            step_params!("repo": repo, "tag": tag),
            |h| async move {
                if repo.is_empty() {
                    return Err(Error::invalid(
                        "repo",
                        "is required: the new image's repository, like team/app",
                    ));
                }
                validate_repo(repo)?;
                if let Some(t) = tag {
                    validate_tag(t)?;
                }
                let body = spool_within(upload).await?;
                let id = h.engine.import_image(body, repo, tag).await?;
                Ok((id, format!("{repo}:{}", tag.unwrap_or("latest"))))
            },
            |(id, _), params| {
                params.insert("created_id".into(), id.clone().into());
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_added_only_when_missing() {
        assert_eq!(with_tag("busybox"), "busybox:latest");
        assert_eq!(with_tag("127.0.0.1:5000/a/b"), "127.0.0.1:5000/a/b:latest");
        assert_eq!(with_tag("127.0.0.1:5000/a/b:1"), "127.0.0.1:5000/a/b:1");
        assert_eq!(with_tag("a@sha256:00"), "a@sha256:00");
    }
}
