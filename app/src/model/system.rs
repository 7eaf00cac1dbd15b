//! An engine's disk usage and swarm nodes on the wire (`GET /api/v1/hosts/{host}/df` and
//! `…/nodes`), as the host page shows them.

use serde::{Deserialize, Serialize};

/// `GET /api/v1/hosts/{host}/df`: `docker system df`. A kind of object the engine did not
/// report is `null`, and so is any figure it did not report: never a made-up zero.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DiskUsageView {
    pub images: Option<UsageView>,
    pub containers: Option<UsageView>,
    pub volumes: Option<UsageView>,
    pub build_cache: Option<UsageView>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UsageView {
    pub count: Option<u64>,
    /// In use: images with containers, running containers, mounted volumes, cache in use.
    pub active: Option<u64>,
    pub size_bytes: Option<u64>,
    /// What removing the unused objects of this kind would free.
    pub reclaimable_bytes: Option<u64>,
}

impl DiskUsageView {
    /// The kinds in the order `docker system df` prints them, with their names.
    pub fn rows(&self) -> [(&'static str, Option<UsageView>); 4] {
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

impl UsageView {
    /// Reclaimable as a whole percentage of the size, when both are known and the size is not 0.
    pub fn reclaimable_percent(&self) -> Option<u64> {
        match (self.size_bytes, self.reclaimable_bytes) {
            (Some(size), Some(free)) if size > 0 => Some(free.min(size).saturating_mul(100) / size),
            _ => None,
        }
    }
}

/// `GET /api/v1/hosts/{host}/nodes`: one node of the swarm the engine manages.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SwarmNodeView {
    pub id: String,
    pub hostname: String,
    /// `manager` or `worker`.
    pub role: String,
    /// `active`, `pause` or `drain`.
    pub availability: String,
    /// `ready`, `down`, `disconnected` or `unknown`.
    pub status: String,
    /// Managers: `leader`, `reachable`, `unreachable` or `unknown`; `null` for workers.
    pub manager_status: Option<String>,
    pub engine_version: String,
    pub address: String,
    /// `linux/x86_64`.
    pub platform: String,
}

#[cfg(feature = "ssr")]
mod convert {
    use backend::engine::{DiskUsage, SwarmNode, UsageTotals};

    use super::*;

    impl From<UsageTotals> for UsageView {
        fn from(t: UsageTotals) -> Self {
            UsageView {
                count: t.count,
                active: t.active,
                size_bytes: t.size_bytes,
                reclaimable_bytes: t.reclaimable_bytes,
            }
        }
    }

    impl From<DiskUsage> for DiskUsageView {
        fn from(d: DiskUsage) -> Self {
            DiskUsageView {
                images: d.images.map(Into::into),
                containers: d.containers.map(Into::into),
                volumes: d.volumes.map(Into::into),
                build_cache: d.build_cache.map(Into::into),
            }
        }
    }

    impl From<SwarmNode> for SwarmNodeView {
        fn from(n: SwarmNode) -> Self {
            SwarmNodeView {
                id: n.id,
                hostname: n.hostname,
                role: n.role,
                availability: n.availability,
                status: n.status,
                manager_status: n.manager_status,
                engine_version: n.engine_version,
                address: n.address,
                platform: n.platform,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_totals_skip_what_is_unknown() {
        let u = |size, free| {
            Some(UsageView {
                count: Some(1),
                active: Some(0),
                size_bytes: size,
                reclaimable_bytes: free,
            })
        };
        let df = DiskUsageView {
            images: u(Some(200), Some(50)),
            containers: u(Some(0), Some(0)),
            volumes: u(None, None),
            build_cache: None,
        };
        assert_eq!(df.images.and_then(|i| i.reclaimable_percent()), Some(25));
        assert_eq!(
            df.containers.and_then(|c| c.reclaimable_percent()),
            None,
            "0 of 0 is no percentage"
        );
        assert_eq!(df.volumes.and_then(|v| v.reclaimable_percent()), None);
        assert_eq!(df.totals(), (200, 50));
    }
}
