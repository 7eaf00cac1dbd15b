//! Hosts as the caller may see them: the list, one host's status, its engine (`docker info`,
//! `docker system df`) and its swarm's nodes. A host without a grant is absent from lists and
//! answers 404.

use super::{Caller, Op, Ops};
use crate::engine::{DiskUsage, EngineInfo, SwarmNode};
use crate::error::Result;
use crate::fleet::HostStatus;
use crate::policy::HostAction;
use crate::step_params;

pub const GET: Op = Op::read("host.get");
pub const INFO: Op = Op::read("host.info");
pub const DISK_USAGE: Op = Op::read("host.df");
pub const NODES: Op = Op::read("host.nodes");

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
    /// The hosts the caller may view, with their last known status.
    pub async fn hosts(&self, c: &Caller) -> Vec<HostStatus> {
        let hosts = self.fleet.visible(&c.who, HostAction::View);
        self.fleet.known_statuses(hosts.iter()).await
    }

    /// One host's last known status.
    pub async fn host(&self, c: &Caller, host: &str) -> Result<HostStatus> {
        self.on_host(c, &GET, (host, None), step_params!(), |h| async move {
            Ok(self.fleet.known_status(&h).await)
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
                self.fleet.known_status(&h),
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
}
