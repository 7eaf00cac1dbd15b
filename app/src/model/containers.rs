//! Containers on the wire: the lists, the detail, the run spec and what a create answers. The
//! REST API and the UI's server fns both speak these.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A container in a list (per host or across the fleet).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ContainerSummary {
    /// The host's slug.
    pub host: String,
    pub id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub command: String,
    /// Unix seconds.
    pub created: i64,
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    pub state: String,
    /// The engine's words: `Up 3 hours (healthy)`, `Exited (0) 2 minutes ago`.
    pub status: String,
    /// `healthy`, `unhealthy` or `starting` for containers with a health check.
    pub health: Option<String>,
    pub ports: Vec<PortMapping>,
    pub labels: BTreeMap<String, String>,
    /// The docker compose project the container belongs to.
    pub compose_project: Option<String>,
    pub networks: Vec<String>,
    pub mounts: u32,
}

pub use super::HostProblem;
pub use wire::containers::{
    BulkError, BulkRequest, BulkResult, BulkResults, BulkTarget, CarryOver, Created, PortMapping,
    RecreateRequest, RunSpec, MAX_LOG_SOURCES,
};

/// `GET /api/v1/containers`: every visible host's containers, and the hosts that did not answer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FleetContainers {
    pub containers: Vec<ContainerSummary>,
    pub unreachable: Vec<HostProblem>,
}

/// The list endpoints' query: `all`, `state` (running|paused|exited|created|all), `q` (text in
/// name or image), `label` (`k` or `k=v`), `sort` (name|created|state).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "ssr", into_params(parameter_in = Query))]
#[serde(default)]
pub struct ContainerListParams {
    #[cfg_attr(feature = "ssr", param(value_type = Option<bool>))]
    pub all: Option<String>,
    /// running, paused, exited, created, restarting, removing, dead or all.
    pub state: Option<String>,
    pub q: Option<String>,
    pub label: Option<String>,
    pub sort: Option<String>,
    /// `docker ps --filter ancestor=`: made from this image (name, name:tag or id).
    pub ancestor: Option<String>,
    /// `--filter network=`: on this network.
    pub network: Option<String>,
    /// `--filter volume=`: mounting this volume.
    pub volume: Option<String>,
    /// `--filter exited=`: exited with this code.
    #[cfg_attr(feature = "ssr", param(value_type = Option<u8>))]
    pub exited: Option<String>,
    /// `--filter health=`: healthy, unhealthy, starting or none.
    pub health: Option<String>,
    /// `-n`: the N created last (stopped ones too), newest first unless `sort` says.
    #[cfg_attr(feature = "ssr", param(value_type = Option<u32>))]
    pub n: Option<String>,
    /// `-l`: the one created last.
    #[cfg_attr(feature = "ssr", param(value_type = Option<bool>))]
    pub latest: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EnvVarView {
    pub key: String,
    pub value: String,
    /// The key looks like it holds a secret: show the value masked until revealed.
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MountView {
    /// `bind`, `volume`, `tmpfs`, …
    pub kind: String,
    pub name: Option<String>,
    pub source: String,
    pub destination: String,
    pub mode: String,
    pub rw: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ssr", schema(as = ContainerNetworkView))]
pub struct NetworkView {
    pub name: String,
    pub ip_address: Option<String>,
    pub ipv6_address: Option<String>,
    pub gateway: Option<String>,
    pub mac_address: Option<String>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HealthCheckView {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HealthView {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    pub failing_streak: i64,
    pub log: Vec<HealthCheckView>,
}

/// `GET /api/v1/hosts/{host}/containers/{id}`: everything the detail page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ContainerDetail {
    pub host: String,
    pub id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub state: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    pub oom_killed: bool,
    pub pid: i64,
    pub exit_code: i64,
    pub error: Option<String>,
    pub health: Option<HealthView>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    /// RFC 3339.
    pub created: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub restart_count: i64,
    /// `no`, `always`, `unless-stopped`, `on-failure` or `on-failure:N`.
    pub restart_policy: String,
    pub ports: Vec<PortMapping>,
    pub mounts: Vec<MountView>,
    pub env: Vec<EnvVarView>,
    /// The values of `env` are left out for this reader (only an admin, the host's managers,
    /// or everyone when the host's guardrails say so, see them).
    pub env_hidden: bool,
    pub labels: BTreeMap<String, String>,
    pub network_mode: String,
    pub networks: Vec<NetworkView>,
    /// Bytes; 0 when unlimited.
    pub memory: i64,
    /// Billionths of a CPU; 0 when unlimited.
    pub nano_cpus: i64,
    pub tty: bool,
    pub stdin: bool,
    pub workdir: String,
    pub user: String,
    pub hostname: String,
    pub auto_remove: bool,
    /// The engine's inspect answer.
    pub raw: serde_json::Value,
}

/// `POST .../rename`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenameRequest {
    pub name: String,
}

#[cfg(feature = "ssr")]
mod convert {
    use backend::containers::{FleetContainers as Fleet, HostContainer};
    use backend::engine as e;

    use super::*;

    impl ContainerSummary {
        pub fn new(host: impl Into<String>, c: e::ContainerSummary) -> Self {
            ContainerSummary {
                host: host.into(),
                id: c.id,
                name: c.name,
                image: c.image,
                image_id: c.image_id,
                command: c.command,
                created: c.created,
                state: c.state,
                status: c.status,
                health: c.health,
                ports: c.ports.into_iter().collect(),
                labels: c.labels,
                compose_project: c.compose_project,
                networks: c.networks,
                mounts: c.mounts,
            }
        }
    }

    impl From<HostContainer> for ContainerSummary {
        fn from(c: HostContainer) -> Self {
            ContainerSummary::new(c.host, c.container)
        }
    }

    impl From<Fleet> for FleetContainers {
        fn from(f: Fleet) -> Self {
            FleetContainers {
                containers: f
                    .containers
                    .into_iter()
                    .map(ContainerSummary::from)
                    .collect(),
                unreachable: f.unreachable.into_iter().collect(),
            }
        }
    }

    impl ContainerListParams {
        /// The checked query; a bad parameter is a 422 naming it.
        pub fn to_query(&self) -> backend::Result<e::ListQuery> {
            e::ListQuery::parse(
                self.all.as_deref(),
                self.state.as_deref(),
                self.q.as_deref(),
                self.label.as_deref(),
                self.sort.as_deref(),
            )?
            .with_ps(&e::PsWords {
                ancestor: self.ancestor.as_deref(),
                network: self.network.as_deref(),
                volume: self.volume.as_deref(),
                exited: self.exited.as_deref(),
                health: self.health.as_deref(),
                n: self.n.as_deref(),
                latest: self.latest.as_deref(),
                sort_given: self.sort.as_deref().is_some_and(|s| !s.trim().is_empty()),
            })
        }
    }

    impl ContainerDetail {
        pub fn new(host: impl Into<String>, d: e::ContainerDetail) -> Self {
            ContainerDetail {
                host: host.into(),
                id: d.id,
                name: d.name,
                image: d.image,
                image_id: d.image_id,
                state: d.state,
                running: d.running,
                paused: d.paused,
                restarting: d.restarting,
                oom_killed: d.oom_killed,
                pid: d.pid,
                exit_code: d.exit_code,
                error: d.error,
                health: d.health.map(|h| HealthView {
                    status: h.status,
                    failing_streak: h.failing_streak,
                    log: h
                        .log
                        .into_iter()
                        .map(|l| HealthCheckView {
                            start: l.start,
                            end: l.end,
                            exit_code: l.exit_code,
                            output: l.output,
                        })
                        .collect(),
                }),
                cmd: d.cmd,
                entrypoint: d.entrypoint,
                created: d.created,
                started_at: d.started_at,
                finished_at: d.finished_at,
                restart_count: d.restart_count,
                restart_policy: d.restart_policy,
                ports: d.ports.into_iter().collect(),
                mounts: d
                    .mounts
                    .into_iter()
                    .map(|m| MountView {
                        kind: m.kind,
                        name: m.name,
                        source: m.source,
                        destination: m.destination,
                        mode: m.mode,
                        rw: m.rw,
                    })
                    .collect(),
                env: d
                    .env
                    .into_iter()
                    .map(|v| EnvVarView {
                        key: v.key,
                        value: v.value,
                        secret: v.secret,
                    })
                    .collect(),
                env_hidden: d.env_hidden,
                labels: d.labels,
                network_mode: d.network_mode,
                networks: d
                    .networks
                    .into_iter()
                    .map(|n| NetworkView {
                        name: n.name,
                        ip_address: n.ip_address,
                        ipv6_address: n.ipv6_address,
                        gateway: n.gateway,
                        mac_address: n.mac_address,
                        aliases: n.aliases,
                    })
                    .collect(),
                memory: d.memory,
                nano_cpus: d.nano_cpus,
                tty: d.tty,
                stdin: d.stdin,
                workdir: d.workdir,
                user: d.user,
                hostname: d.hostname,
                auto_remove: d.auto_remove,
                raw: d.raw,
            }
        }
    }
}
