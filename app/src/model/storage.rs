//! Volumes and networks on the wire (and what prunes answer, images included). The REST API
//! and the UI's server fns both speak these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use super::HostProblem;
pub use wire::images::Pruned;
pub use wire::networks::{AttachedContainer, SubnetInfo};

/// The prune endpoints' query: only objects with this label (`key` or `key=value`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(default)]
pub struct PruneParams {
    pub label: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct VolumeView {
    pub host: String,
    pub name: String,
    pub driver: String,
    /// Where the volume lives on the engine's host.
    pub mountpoint: String,
    /// RFC 3339.
    pub created: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `local` or `global`.
    pub scope: String,
    pub options: BTreeMap<String, String>,
    /// Bytes, where the engine reports it.
    pub size: Option<u64>,
    /// Names of the containers that mount it.
    pub containers: Vec<String>,
}

/// `GET /api/v1/volumes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FleetVolumes {
    pub volumes: Vec<VolumeView>,
    pub unreachable: Vec<HostProblem>,
}

/// `POST /api/v1/hosts/{host}/volumes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CreateVolumeRequest {
    pub name: String,
    /// `local` when absent.
    #[serde(default)]
    pub driver: Option<String>,
    #[serde(default)]
    pub driver_opts: BTreeMap<String, String>,
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NetworkView {
    pub host: String,
    pub id: String,
    pub name: String,
    pub driver: String,
    pub scope: String,
    pub created: Option<String>,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub ipv6: bool,
    pub subnets: Vec<SubnetInfo>,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    pub containers: Vec<AttachedContainer>,
    /// `bridge`, `host`, `none`: cannot be removed.
    pub builtin: bool,
}

/// `GET /api/v1/networks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FleetNetworks {
    pub networks: Vec<NetworkView>,
    pub unreachable: Vec<HostProblem>,
}

/// `POST /api/v1/hosts/{host}/networks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct CreateNetworkRequest {
    pub name: String,
    /// `bridge` when absent.
    pub driver: Option<String>,
    /// CIDR, like `10.42.0.0/24`.
    pub subnet: Option<String>,
    /// An address inside `subnet`.
    pub gateway: Option<String>,
    pub internal: bool,
    pub attachable: bool,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
}

/// `POST …/networks/{id}/connect` and `…/disconnect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AttachRequest {
    /// The container's name or id.
    pub container: String,
    /// Extra names for the container on this network (connect only).
    #[serde(default)]
    pub aliases: Vec<String>,
    /// Disconnect even when the container is not running (disconnect only).
    #[serde(default)]
    pub force: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    use backend::engine::{NetworkDetail, NetworkSpec, VolumeInfo, VolumeSpec};

    use super::*;

    impl VolumeView {
        pub fn new(host: String, v: VolumeInfo) -> Self {
            VolumeView {
                host,
                name: v.name,
                driver: v.driver,
                mountpoint: v.mountpoint,
                created: v.created,
                labels: v.labels,
                scope: v.scope,
                options: v.options,
                size: v.size,
                containers: v.containers,
            }
        }
    }

    impl From<backend::storage::FleetList<VolumeInfo>> for FleetVolumes {
        fn from(l: backend::storage::FleetList<VolumeInfo>) -> Self {
            FleetVolumes {
                volumes: l
                    .items
                    .into_iter()
                    .map(|o| VolumeView::new(o.host, o.item))
                    .collect(),
                unreachable: l.unreachable.into_iter().collect(),
            }
        }
    }

    impl From<CreateVolumeRequest> for VolumeSpec {
        fn from(r: CreateVolumeRequest) -> Self {
            VolumeSpec {
                name: r.name,
                driver: r.driver.filter(|d| !d.is_empty()),
                driver_opts: r.driver_opts,
                labels: r.labels,
            }
        }
    }

    impl NetworkView {
        pub fn new(host: String, n: NetworkDetail) -> Self {
            NetworkView {
                host,
                id: n.id,
                name: n.name,
                driver: n.driver,
                scope: n.scope,
                created: n.created,
                internal: n.internal,
                attachable: n.attachable,
                ingress: n.ingress,
                ipv6: n.ipv6,
                subnets: n.subnets.into_iter().collect(),
                labels: n.labels,
                options: n.options,
                containers: n.containers.into_iter().collect(),
                builtin: n.builtin,
            }
        }
    }

    impl From<backend::storage::FleetList<NetworkDetail>> for FleetNetworks {
        fn from(l: backend::storage::FleetList<NetworkDetail>) -> Self {
            FleetNetworks {
                networks: l
                    .items
                    .into_iter()
                    .map(|o| NetworkView::new(o.host, o.item))
                    .collect(),
                unreachable: l.unreachable.into_iter().collect(),
            }
        }
    }

    impl From<CreateNetworkRequest> for NetworkSpec {
        fn from(r: CreateNetworkRequest) -> Self {
            NetworkSpec {
                name: r.name,
                driver: r.driver.filter(|d| !d.is_empty()),
                subnet: r.subnet.filter(|s| !s.is_empty()),
                gateway: r.gateway.filter(|g| !g.is_empty()),
                internal: r.internal,
                attachable: r.attachable,
                labels: r.labels,
                options: r.options,
            }
        }
    }
}
