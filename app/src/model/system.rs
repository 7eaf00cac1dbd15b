//! An engine's disk usage and swarm nodes on the wire (`GET /api/v1/hosts/{host}/df` and
//! `…/nodes`), as the host page shows them.

pub use wire::system::{DiskUsage, SwarmNode, UsageTotals};

#[cfg(feature = "ssr")]
mod convert {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_and_totals_skip_what_is_unknown() {
        let u = |size, free| {
            Some(UsageTotals {
                count: Some(1),
                active: Some(0),
                size_bytes: size,
                reclaimable_bytes: free,
            })
        };
        let df = DiskUsage {
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
