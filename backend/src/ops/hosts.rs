//! Hosts as the caller may see them: the list, one host's status, its engine (`docker info`,
//! `docker system df`) and its swarm's nodes. A host without a grant is absent from lists and
//! answers 404.

use super::{Caller, Op, Ops};
use crate::engine::{DiskUsage, EngineInfo, EngineSummary, SwarmNode};
use crate::error::Result;
use crate::fleet::HostStatus;
use crate::hosts::{HostPatch, HostRecord, NewHost, TlsPem};
use crate::policy::HostAction;
use crate::step_params;

pub const GET: Op = Op::read("host.get");
pub const INFO: Op = Op::read("host.info");
pub const DISK_USAGE: Op = Op::read("host.df");
pub const NODES: Op = Op::read("host.nodes");
/// An engine's address tried before it is saved (nothing is stored; recorded, as it makes the
/// server connect where the admin says).
pub const TEST: Op = Op::admin("host.test", 200);
pub const SETTINGS: Op = Op::admin_read("host.settings");
pub const CREATE: Op = Op::admin("host.create", 201);
pub const UPDATE: Op = Op::admin("host.update", 200);
pub const REMOVE: Op = Op::admin("host.remove", 204);

/// A host's page: its status from the monitor, and each part of its engine as it answered (a
/// part that failed does not hide the others).
#[derive(Debug)]
pub struct HostFacts {
    pub status: HostStatus,
    pub info: Result<EngineInfo>,
    pub disk_usage: Result<DiskUsage>,
    pub nodes: Result<Vec<SwarmNode>>,
}

impl Ops {
    /// The hosts the caller may view, with their last known status (asked of every engine now
    /// with `fresh`).
    pub async fn hosts(&self, c: &Caller, fresh: bool) -> Vec<HostStatus> {
        let hosts = self.fleet().visible(&c.who, HostAction::View);
        if fresh {
            futures::future::join_all(hosts.iter().map(|h| self.fleet().status_of(h))).await
        } else {
            self.fleet().known_statuses(hosts.iter()).await
        }
    }

    /// One host's last known status.
    pub async fn host(&self, c: &Caller, host: &str) -> Result<HostStatus> {
        self.on_host(c, &GET, (host, None), step_params!(), |h| async move {
            Ok(self.fleet().known_status(&h).await)
        })
        .await
    }

    /// `docker info` and `docker version`.
    pub async fn host_info(&self, c: &Caller, host: &str) -> Result<EngineInfo> {
        self.on_host(c, &INFO, (host, None), step_params!(), |h| async move {
            h.engine.info().await
        })
        .await
    }

    /// `docker system df`: counts, sizes and what a prune would free, per kind.
    pub async fn disk_usage(&self, c: &Caller, host: &str) -> Result<DiskUsage> {
        self.on_host(
            c,
            &DISK_USAGE,
            (host, None),
            step_params!(),
            |h| async move { h.engine.disk_usage().await },
        )
        .await
    }

    /// The swarm's nodes when the host is a swarm manager; none when it is not.
    pub async fn swarm_nodes(&self, c: &Caller, host: &str) -> Result<Vec<SwarmNode>> {
        self.on_host(c, &NODES, (host, None), step_params!(), |h| async move {
            h.engine.swarm_nodes().await
        })
        .await
    }

    /// Everything a host's page shows, asked of the engine at once: the page waits for the
    /// slowest part and no longer.
    pub async fn host_facts(&self, c: &Caller, host: &str) -> Result<HostFacts> {
        self.on_host(c, &GET, (host, None), step_params!(), |h| async move {
            let (status, info, disk_usage, nodes) = futures::join!(
                self.fleet().known_status(&h),
                h.engine.info(),
                h.engine.disk_usage(),
                h.engine.swarm_nodes()
            );
            Ok(HostFacts {
                status,
                info,
                disk_usage,
                nodes,
            })
        })
        .await
    }

    /// Tries an engine's address (and TLS material) the way adding it would, saving nothing.
    pub async fn test_host(
        &self,
        c: &Caller,
        url: &str,
        tls: Option<&TlsPem>,
    ) -> Result<EngineSummary> {
        let params = step_params!("url": url.trim());
        self.as_admin(c, &TEST, (None, None), params, || self.hosts.test(url, tls))
            .await
    }

    /// Adds a host (its connection tested first) → its status, probed now.
    pub async fn create_host(&self, c: &Caller, new: NewHost) -> Result<HostStatus> {
        let slug = new.slug.clone();
        let params = step_params!("slug": new.slug, "name": new.name, "url": new.url, "labels": new.labels, "tls": new.tls.is_some());
        self.as_admin(c, &CREATE, (Some(&slug), None), params, || async {
            let record = self.hosts.create(new).await?;
            self.probed(&record.slug).await
        })
        .await
    }

    /// A host's configuration (never its private key).
    pub async fn host_settings(&self, c: &Caller, slug: &str) -> Result<HostRecord> {
        self.as_admin(c, &SETTINGS, (Some(slug), None), step_params!(), || {
            self.hosts.get(slug)
        })
        .await
    }

    /// Changes a stored host; a changed address or TLS material is tested before it is saved
    /// → its status, probed now.
    pub async fn update_host(
        &self,
        c: &Caller,
        slug: &str,
        patch: HostPatch,
    ) -> Result<HostStatus> {
        let params = step_params!(
            "name": patch.name,
            "url": patch.url,
            "labels": patch.labels,
            "tls": patch.tls.as_ref().map(|t| t.is_some())
        );
        self.as_admin(c, &UPDATE, (Some(slug), None), params, || async {
            let record = self.hosts.update(slug, patch).await?;
            self.probed(&record.slug).await
        })
        .await
    }

    /// A host just added or changed, with its status probed now.
    async fn probed(&self, slug: &str) -> Result<HostStatus> {
        let host = self.fleet().by_slug(slug)?;
        Ok(self.fleet().status_of(&host).await)
    }

    /// Removes a stored host and every grant and guardrail on it.
    pub async fn remove_host(&self, c: &Caller, slug: &str) -> Result<()> {
        self.as_admin(c, &REMOVE, (Some(slug), None), step_params!(), || {
            self.hosts.remove(slug)
        })
        .await
    }
}
