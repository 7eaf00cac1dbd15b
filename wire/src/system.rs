//! Engines and hosts.

use serde::{Deserialize, Serialize};

/// What Capstan shows about an engine. Every field is optional on the wire of old engines, so
/// missing ones become empty strings or zero rather than errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EngineSummary {
    pub hostname: String,
    pub engine_version: String,
    pub api_version: String,
    pub os: String,
    pub os_type: String,
    pub arch: String,
    pub kernel: String,
    pub cpus: u32,
    pub memory_bytes: u64,
    pub storage_driver: String,
    pub containers_total: u32,
    pub containers_running: u32,
    pub containers_paused: u32,
    pub containers_stopped: u32,
    pub images: u32,
    /// `manager`, `worker`, or empty when the engine is not in a swarm.
    pub swarm_role: String,
    pub volumes: u32,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsageTotals {
    pub count: Option<u64>,
    /// In use: images with containers, running (or paused, restarting) containers, volumes
    /// mounted by a container, build cache records in use.
    pub active: Option<u64>,
    pub size_bytes: Option<u64>,
    /// What a prune of the unused objects of this kind would free.
    pub reclaimable_bytes: Option<u64>,
}

impl UsageTotals {
    /// Reclaimable as a whole percentage of the size, when both are known and the size is not 0.
    pub fn reclaimable_percent(&self) -> Option<u64> {
        match (self.size_bytes, self.reclaimable_bytes) {
            (Some(size), Some(free)) if size > 0 => Some(free.min(size).saturating_mul(100) / size),
            _ => None,
        }
    }
}

/// One node of a swarm, as a manager sees it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SwarmNode {
    pub id: String,
    pub hostname: String,
    /// `manager` or `worker`.
    pub role: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// `ready`, `down`, `disconnected` or `unknown`.
    pub status: String,
    /// For managers: `leader`, `reachable`, `unreachable` or `unknown`; `None` for workers.
    pub manager_status: Option<String>,
    pub engine_version: String,
    /// The address the node is reached at (its IP, as the swarm knows it).
    pub address: String,
    /// `linux/x86_64`, as the node reports it.
    pub platform: String,
}

/// Where a host's configuration comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HostSource {
    /// `--engine` on the command line: fixed for the life of the process.
    Config,
    /// The host registry in the store: admins add, edit and remove it.
    Stored,
}

/// `docker system df`: for each kind of object, how many there are, how many are in use, the
/// space they take and what removing the unused ones would free. A kind the engine did not
/// report is `None`; a figure it did not report is `None` too, never a made-up zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DiskUsage {
    pub images: Option<UsageTotals>,
    pub containers: Option<UsageTotals>,
    pub volumes: Option<UsageTotals>,
    pub build_cache: Option<UsageTotals>,
}

impl DiskUsage {
    /// The kinds in the order `docker system df` prints them, with their names.
    pub fn rows(&self) -> [(&'static str, Option<UsageTotals>); 4] {
        [
            ("Images", self.images),
            ("Containers", self.containers),
            ("Local volumes", self.volumes),
            ("Build cache", self.build_cache),
        ]
    }

    /// Space taken and reclaimable over every kind the engine reported a size for.
    pub fn totals(&self) -> (u64, u64) {
        self.rows()
            .iter()
            .filter_map(|(_, u)| *u)
            .fold((0, 0), |(size, free), u| {
                (
                    size.saturating_add(u.size_bytes.unwrap_or(0)),
                    free.saturating_add(u.reclaimable_bytes.unwrap_or(0)),
                )
            })
    }
}
