//! Volumes and networks: lists, create (within the host's guardrails), inspect, remove, prune;
//! connect and disconnect a container. Capstan's own volumes and container are guarded here
//! (`crate::engine::own`).

use super::{Caller, Op, Ops};
use crate::engine::own::{guard_container, guard_volume, ContainerAct};
use crate::engine::{NetworkDetail, NetworkSpec, Pruned, VolumeInfo, VolumeSpec};
use crate::error::{Error, Result};
use crate::policy::HostAction;
use crate::step_params;
use crate::storage::FleetList;

pub const VOLUME_LIST: Op = Op::read("volume.list");
pub const VOLUME_GET: Op = Op::read("volume.get");
pub const VOLUME_CREATE: Op = Op::create("volume.create", HostAction::ManageStorage);
pub const VOLUME_REMOVE: Op = Op::change("volume.remove", HostAction::ManageStorage);
pub const VOLUME_PRUNE: Op = Op::answer("volume.prune", HostAction::ManageStorage);
pub const NETWORK_LIST: Op = Op::read("network.list");
pub const NETWORK_GET: Op = Op::read("network.get");
pub const NETWORK_CREATE: Op = Op::create("network.create", HostAction::ManageStorage);
pub const NETWORK_REMOVE: Op = Op::change("network.remove", HostAction::ManageStorage);
pub const NETWORK_PRUNE: Op = Op::answer("network.prune", HostAction::ManageStorage);
pub const NETWORK_CONNECT: Op = Op::change("network.connect", HostAction::ManageStorage);
pub const NETWORK_DISCONNECT: Op = Op::change("network.disconnect", HostAction::ManageStorage);

/// `docker network connect` or `disconnect`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attach {
    Connect { aliases: Vec<String> },
    Disconnect { force: bool },
}

impl Ops {
    /// The volumes of every host the caller may view.
    pub async fn volumes(&self, c: &Caller) -> FleetList<VolumeInfo> {
        crate::storage::volumes(self.fleet(), &c.who).await
    }

    /// One host's volumes.
    pub async fn volumes_on(&self, c: &Caller, host: &str) -> Result<Vec<VolumeInfo>> {
        self.on_host(
            c,
            &VOLUME_LIST,
            (host, None),
            step_params!(),
            |h| async move { h.engine.list_volumes().await },
        )
        .await
    }

    /// `docker volume inspect`.
    pub async fn volume(&self, c: &Caller, host: &str, name: &str) -> Result<VolumeInfo> {
        self.on_host(
            c,
            &VOLUME_GET,
            (host, Some(name)),
            step_params!(),
            |h| async move { h.engine.inspect_volume(name).await },
        )
        .await
    }

    /// `docker volume create`, within the host's guardrails (drivers, host mounts).
    pub async fn create_volume(
        &self,
        c: &Caller,
        host: &str,
        spec: &VolumeSpec,
    ) -> Result<VolumeInfo> {
        let params = serde_json::to_value(spec).unwrap_or_default();
        self.on_host(c, &VOLUME_CREATE, (host, None), params, |h| async move {
            let limits = self.guardrails.limits_for(&c.who, &h.slug).await?;
            h.engine.create_volume_within(spec, limits.as_ref()).await
        })
        .await
    }

    /// `docker volume rm`, with `--force`; Capstan's own volumes are refused to non-admins.
    pub async fn remove_volume(
        &self,
        c: &Caller,
        host: &str,
        name: &str,
        force: bool,
    ) -> Result<()> {
        self.on_host(
            c,
            &VOLUME_REMOVE,
            (host, Some(name)),
            step_params!("force": force),
            |h| async move {
                guard_volume(&h.engine, &c.who, name).await?;
                h.engine.remove_volume(name, force).await
            },
        )
        .await
    }

    /// `docker volume prune`, with a `label` filter.
    pub async fn prune_volumes(
        &self,
        c: &Caller,
        host: &str,
        label: Option<&str>,
    ) -> Result<Pruned> {
        self.on_host(
            c,
            &VOLUME_PRUNE,
            (host, None),
            step_params!("label": label),
            |h| async move { h.engine.prune_volumes(label).await },
        )
        .await
    }

    /// The networks of every host the caller may view.
    pub async fn networks(&self, c: &Caller) -> FleetList<NetworkDetail> {
        crate::storage::networks(self.fleet(), &c.who).await
    }

    /// One host's networks.
    pub async fn networks_on(&self, c: &Caller, host: &str) -> Result<Vec<NetworkDetail>> {
        self.on_host(
            c,
            &NETWORK_LIST,
            (host, None),
            step_params!(),
            |h| async move { h.engine.list_networks().await },
        )
        .await
    }

    /// `docker network inspect`, with the attached containers' addresses.
    pub async fn network(&self, c: &Caller, host: &str, id: &str) -> Result<NetworkDetail> {
        self.on_host(
            c,
            &NETWORK_GET,
            (host, Some(id)),
            step_params!(),
            |h| async move { h.engine.inspect_network(id).await },
        )
        .await
    }

    /// `docker network create`, within the host's guardrails (drivers).
    pub async fn create_network(
        &self,
        c: &Caller,
        host: &str,
        spec: &NetworkSpec,
    ) -> Result<NetworkDetail> {
        let params = serde_json::to_value(spec).unwrap_or_default();
        self.on_host(c, &NETWORK_CREATE, (host, None), params, |h| async move {
            let limits = self.guardrails.limits_for(&c.who, &h.slug).await?;
            h.engine.create_network_within(spec, limits.as_ref()).await
        })
        .await
    }

    /// `docker network rm`.
    pub async fn remove_network(&self, c: &Caller, host: &str, id: &str) -> Result<()> {
        self.on_host(
            c,
            &NETWORK_REMOVE,
            (host, Some(id)),
            step_params!(),
            |h| async move { h.engine.remove_network(id).await },
        )
        .await
    }

    /// `docker network prune`, with a `label` filter.
    pub async fn prune_networks(
        &self,
        c: &Caller,
        host: &str,
        label: Option<&str>,
    ) -> Result<Pruned> {
        self.on_host(
            c,
            &NETWORK_PRUNE,
            (host, None),
            step_params!("label": label),
            |h| async move { h.engine.prune_networks(label).await },
        )
        .await
    }

    /// Connects a container to a network or disconnects it; Capstan's own container is
    /// refused to non-admins.
    pub async fn attach(
        &self,
        c: &Caller,
        (host, network): (&str, &str),
        container: &str,
        how: &Attach,
    ) -> Result<()> {
        let container = container.trim();
        let (op, params) = match how {
            Attach::Connect { aliases } => (
                &NETWORK_CONNECT,
                step_params!("container": container, "aliases": aliases),
            ),
            Attach::Disconnect { force } => (
                &NETWORK_DISCONNECT,
                step_params!("container": container, "force": force),
            ),
        };
        self.on_host(c, op, (host, Some(network)), params, |h| async move {
            if container.is_empty() {
                return Err(Error::invalid(
                    "container",
                    "is required: a container's name or id",
                ));
            }
            guard_container(&h.engine, &c.who, &h.slug, container, ContainerAct::Network).await?;
            match how {
                Attach::Connect { aliases } => {
                    h.engine.connect_network(network, container, aliases).await
                }
                Attach::Disconnect { force } => {
                    h.engine
                        .disconnect_network(network, container, *force)
                        .await
                }
            }
        })
        .await
    }
}
