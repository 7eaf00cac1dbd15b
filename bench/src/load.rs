//! The engines the bench measures and the load it puts on them: containers made with the
//! engine API (created, mostly never started), every one labelled with the run's id so the
//! cleanup finds all of them, whatever happened before.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, ImportImageOptionsBuilder, ListContainersOptionsBuilder,
    RemoveContainerOptionsBuilder, RemoveImageOptions,
};
use bollard::Docker;
use futures::stream::{self, StreamExt, TryStreamExt};

use crate::http::Endpoint;
use crate::Fail;

/// The label every container of the bench carries; its value is the run's id.
pub const LABEL: &str = "capstan.bench";
/// Containers created at once.
const PARALLEL: usize = 16;

/// One engine: how Capstan is told about it, how the bench reaches it directly, and a bollard
/// client for the load.
#[derive(Clone)]
pub struct Engine {
    pub slug: String,
    /// `SLUG=URL[,tls=DIR]` for `capstan --engine`.
    pub flag: String,
    pub endpoint: Endpoint,
    pub docker: Docker,
    /// An image the bench copied here (removed again by the cleanup).
    copied_image: Arc<Mutex<Option<String>>>,
}

impl Engine {
    pub async fn new(slug: &str, url: &str, tls_dir: Option<PathBuf>) -> Result<Engine, Fail> {
        let endpoint = Endpoint::from_url(url, tls_dir.as_deref())?;
        let version = bollard::API_DEFAULT_VERSION;
        let docker = match (&endpoint, &tls_dir) {
            (Endpoint::Unix(_), _) => Docker::connect_with_unix(url, 120, version),
            (_, Some(dir)) => Docker::connect_with_ssl(
                url,
                &dir.join("key.pem"),
                &dir.join("cert.pem"),
                &dir.join("ca.pem"),
                120,
                version,
            ),
            (_, None) => Docker::connect_with_http(url, 120, version),
        }
        .map_err(|e| Fail::new(format!("engine {slug} ({url}): {e}")))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| Fail::new(format!("engine {slug} ({url}) does not answer: {e}")))?;
        let flag = match &tls_dir {
            Some(dir) => format!("{slug}={url},tls={}", dir.display()),
            None => format!("{slug}={url}"),
        };
        Ok(Engine {
            slug: slug.to_owned(),
            flag,
            endpoint,
            docker,
            copied_image: Arc::new(Mutex::new(None)),
        })
    }

    /// The engine's version and API version, for the record.
    pub async fn version(&self) -> String {
        match self.docker.version().await {
            Ok(v) => format!(
                "{} (API {})",
                v.version.unwrap_or_default(),
                v.api_version.unwrap_or_default()
            ),
            Err(e) => format!("unknown ({e})"),
        }
    }

    /// Makes sure `image` is here, copying it from `source` (`docker save | docker load`) when
    /// it is not; a copied image is removed again by [`Engine::clean`].
    pub async fn ensure_image(&self, source: &Engine, image: &str) -> Result<(), Fail> {
        if self.docker.inspect_image(image).await.is_ok() {
            return Ok(());
        }
        eprintln!(
            "copying {image} from engine {} to engine {}",
            source.slug, self.slug
        );
        let tar = source.docker.export_image(image);
        let mut load = std::pin::pin!(self.docker.import_image_stream(
            ImportImageOptionsBuilder::default().quiet(true).build(),
            tar,
            None,
        ));
        while let Some(item) = load.next().await {
            let item =
                item.map_err(|e| Fail::new(format!("loading {image} into {}: {e}", self.slug)))?;
            if let Some(err) = item.error_detail.and_then(|d| d.message) {
                return Err(Fail::new(format!(
                    "loading {image} into {}: {err}",
                    self.slug
                )));
            }
        }
        self.docker
            .inspect_image(image)
            .await
            .map_err(|e| Fail::new(format!("{image} is still missing on {}: {e}", self.slug)))?;
        *self
            .copied_image
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(image.to_owned());
        Ok(())
    }

    /// Creates (never starts) containers until `total` of this run exist, `PARALLEL` at a time.
    pub async fn fill(
        &self,
        run_id: &str,
        image: &str,
        have: usize,
        total: usize,
    ) -> Result<(), Fail> {
        if total <= have {
            return Ok(());
        }
        stream::iter(have..total)
            .map(|n| async move {
                let name = format!("capbench-{run_id}-{}-{n:05}", self.slug);
                self.create(run_id, image, &name, vec!["true".to_owned()], false)
                    .await
            })
            .buffer_unordered(PARALLEL)
            .try_collect::<Vec<_>>()
            .await?;
        Ok(())
    }

    /// One labelled container; started when `start`. Returns its id.
    pub async fn create(
        &self,
        run_id: &str,
        image: &str,
        name: &str,
        cmd: Vec<String>,
        start: bool,
    ) -> Result<String, Fail> {
        let body = ContainerCreateBody {
            image: Some(image.to_owned()),
            cmd: Some(cmd),
            labels: Some(HashMap::from([(LABEL.to_owned(), run_id.to_owned())])),
            host_config: Some(HostConfig {
                network_mode: Some("none".to_owned()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(name).build();
        let created = self
            .docker
            .create_container(Some(options), body)
            .await
            .map_err(|e| Fail::new(format!("creating {name} on {}: {e}", self.slug)))?;
        if start {
            self.docker
                .start_container(&created.id, None)
                .await
                .map_err(|e| Fail::new(format!("starting {name} on {}: {e}", self.slug)))?;
        }
        Ok(created.id)
    }

    /// Removes one container (forced, with its anonymous volumes).
    pub async fn remove(&self, id: &str) -> Result<(), Fail> {
        let options = RemoveContainerOptionsBuilder::default()
            .force(true)
            .v(true)
            .build();
        match self.docker.remove_container(id, Some(options)).await {
            Ok(()) => Ok(()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(()),
            Err(e) => Err(Fail::new(format!("removing {id} on {}: {e}", self.slug))),
        }
    }

    /// Removes every container labelled with `run_id` (best effort); how many were removed.
    pub async fn clean(&self, run_id: &str) -> usize {
        let filters = HashMap::from([("label", vec![format!("{LABEL}={run_id}")])]);
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&filters)
            .build();
        let list = match tokio::time::timeout(
            Duration::from_secs(60),
            self.docker.list_containers(Some(options)),
        )
        .await
        {
            Ok(Ok(list)) => list,
            Ok(Err(e)) => {
                eprintln!(
                    "cleanup: listing the bench's containers on {}: {e}",
                    self.slug
                );
                return 0;
            }
            Err(_) => {
                eprintln!(
                    "cleanup: listing the bench's containers on {} timed out",
                    self.slug
                );
                return 0;
            }
        };
        let ids: Vec<String> = list.into_iter().filter_map(|c| c.id).collect();
        let results: Vec<Result<(), Fail>> = stream::iter(ids.iter())
            .map(|id| self.remove(id))
            .buffer_unordered(PARALLEL)
            .collect()
            .await;
        let mut removed = 0;
        for r in results {
            match r {
                Ok(()) => removed += 1,
                Err(e) => eprintln!("cleanup: {e}"),
            }
        }
        let copied = self
            .copied_image
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(image) = copied {
            if let Err(e) = self
                .docker
                .remove_image(&image, None::<RemoveImageOptions>, None)
                .await
            {
                eprintln!(
                    "cleanup: removing the copied image {image} from {}: {e}",
                    self.slug
                );
            }
        }
        removed
    }
}
