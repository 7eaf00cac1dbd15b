//! `docker version` + `docker info`, reduced to what the console shows about an engine.

use std::time::{Duration, Instant};

use bollard::models::{SystemInfo, SystemVersion};
use serde::{Deserialize, Serialize};

use super::Engine;
use crate::error::Result;

pub use wire::system::{DiskUsage, EngineSummary, UsageTotals};

/// The result of probing an engine: its summary and how long the round trip took.
#[derive(Debug, Clone)]
pub struct HostProbe {
    pub summary: EngineSummary,
    pub latency: Duration,
}

/// The summary from `version` and `info`; version's fields win where both have one.
fn summarize(version: &SystemVersion, info: &SystemInfo) -> EngineSummary {
    let or = |a: &Option<String>, b: &Option<String>| {
        a.clone().or_else(|| b.clone()).unwrap_or_default()
    };
    EngineSummary {
        hostname: info.name.clone().unwrap_or_default(),
        engine_version: or(&version.version, &info.server_version),
        api_version: version.api_version.clone().unwrap_or_default(),
        os: info.operating_system.clone().unwrap_or_default(),
        os_type: or(&version.os, &info.os_type),
        arch: or(&version.arch, &info.architecture),
        kernel: or(&version.kernel_version, &info.kernel_version),
        cpus: count(info.ncpu),
        memory_bytes: info
            .mem_total
            .and_then(|m| u64::try_from(m).ok())
            .unwrap_or(0),
        storage_driver: info.driver.clone().unwrap_or_default(),
        containers_total: count(info.containers),
        containers_running: count(info.containers_running),
        containers_paused: count(info.containers_paused),
        containers_stopped: count(info.containers_stopped),
        images: count(info.images),
        swarm_role: swarm_role(info),
        // `info` has no volume count; callers fill it in from the volume list.
        volumes: 0,
    }
}

fn swarm_role(info: &SystemInfo) -> String {
    let Some(swarm) = &info.swarm else {
        return String::new();
    };
    let active = swarm
        .local_node_state
        .as_ref()
        .is_some_and(|s| s.to_string() == "active");
    match (active, swarm.control_available.unwrap_or(false)) {
        (false, _) => String::new(),
        (true, true) => "manager".into(),
        (true, false) => "worker".into(),
    }
}

fn count(n: Option<i64>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

impl Engine {
    /// Ping, then version, info and the volume count in parallel.
    pub async fn probe(&self) -> Result<HostProbe> {
        let started = Instant::now();
        self.call(|d| async move { d.ping().await }).await?;
        let latency = started.elapsed();
        let (version, info, volumes) = futures::try_join!(
            self.call(|d| async move { d.version().await }),
            self.call(|d| async move { d.info().await }),
            self.volume_count(),
        )?;
        Ok(HostProbe {
            summary: EngineSummary {
                volumes,
                ..summarize(&version, &info)
            },
            latency,
        })
    }
}

impl Engine {
    async fn volume_count(&self) -> Result<u32> {
        let list = self
            .call(|d| async move {
                d.list_volumes(None::<bollard::query_parameters::ListVolumesOptions>)
                    .await
            })
            .await?;
        Ok(list
            .volumes
            .map(|v| u32::try_from(v.len()).unwrap_or(u32::MAX))
            .unwrap_or(0))
    }
}

/// Everything the host page shows about an engine beyond the summary. Host paths and proxy
/// settings (which can hold credentials) are deliberately left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineInfo {
    pub summary: EngineSummary,
    pub id: String,
    pub os_version: String,
    pub min_api_version: String,
    pub go_version: String,
    pub git_commit: String,
    pub logging_driver: String,
    pub cgroup_driver: String,
    pub cgroup_version: String,
    pub default_runtime: String,
    pub runtimes: Vec<String>,
    pub security_options: Vec<String>,
    pub labels: Vec<String>,
    pub live_restore: bool,
    pub experimental: bool,
    /// `inactive`, `active`, `pending`, `error` or `locked`.
    pub swarm_state: String,
    /// True when this engine is a swarm manager.
    pub swarm_manager: bool,
    pub swarm_nodes: u32,
    pub swarm_managers: u32,
    pub warnings: Vec<String>,
}

impl Engine {
    /// `docker info` + `docker version`, as the host page shows them.
    pub async fn info(&self) -> Result<EngineInfo> {
        let (version, info, volumes) = futures::try_join!(
            self.call(|d| async move { d.version().await }),
            self.call(|d| async move { d.info().await }),
            self.volume_count(),
        )?;
        let swarm = info.swarm.clone().unwrap_or_default();
        let mut runtimes: Vec<String> = info
            .runtimes
            .clone()
            .unwrap_or_default()
            .into_keys()
            .collect();
        runtimes.sort();
        let summary = EngineSummary {
            volumes,
            ..summarize(&version, &info)
        };
        Ok(EngineInfo {
            summary,
            id: info.id.unwrap_or_default(),
            os_version: info.os_version.unwrap_or_default(),
            min_api_version: version.min_api_version.unwrap_or_default(),
            go_version: version.go_version.unwrap_or_default(),
            git_commit: version.git_commit.unwrap_or_default(),
            logging_driver: info.logging_driver.unwrap_or_default(),
            cgroup_driver: info
                .cgroup_driver
                .map(|d| d.to_string())
                .unwrap_or_default(),
            cgroup_version: info
                .cgroup_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
            default_runtime: info.default_runtime.unwrap_or_default(),
            runtimes,
            security_options: info.security_options.unwrap_or_default(),
            labels: info.labels.unwrap_or_default(),
            live_restore: info.live_restore_enabled.unwrap_or(false),
            experimental: info.experimental_build.unwrap_or(false),
            swarm_state: swarm
                .local_node_state
                .map(|s| s.to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "inactive".into()),
            swarm_manager: swarm.control_available.unwrap_or(false),
            swarm_nodes: count(swarm.nodes),
            swarm_managers: count(swarm.managers),
            warnings: info.warnings.unwrap_or_default(),
        })
    }
}

impl Engine {
    /// `GET /system/df`, read whatever the engine's API version answers: engines before API
    /// 1.52 send the objects themselves (`LayersSize`, `Images`, `Containers`, `Volumes`,
    /// `BuildCache`) and the totals are computed here as the docker CLI does; newer ones send
    /// the totals (`ImageUsage`, `ContainerUsage`, …). bollard's `df()` only knows the newer
    /// shape, so the answer is fetched as text (see [`raw_df`]) and parsed by hand.
    pub async fn disk_usage(&self) -> Result<DiskUsage> {
        let body = self.call(|d| async move { raw_df(d).await }).await?;
        // An old engine lists every image, container and volume: parse that off the runtime.
        tokio::task::spawn_blocking(move || parse_disk_usage(body.as_bytes()))
            .await
            .map_err(|e| crate::error::Error::Internal(format!("disk usage parser: {e}")))?
    }
}

/// bollard keeps its raw-request helpers private, so this borrows a plain text call (`ping`,
/// `GET /_ping`, whose answer bollard hands over unparsed) and points it at `/system/df` with a
/// request modifier on a clone of the client used for this one call. Status handling, the
/// transport (unix, TCP, TLS) and the version prefix are bollard's own.
async fn raw_df(docker: bollard::Docker) -> std::result::Result<String, bollard::errors::Error> {
    let docker = docker.with_request_modifier(|mut req: bollard::BollardRequest| {
        let uri = req.uri().to_string();
        if let Some(base) = uri.split('?').next().and_then(|u| u.strip_suffix("/_ping")) {
            if let Ok(df) = format!("{base}/system/df").parse() {
                *req.uri_mut() = df;
            }
        }
        req
    });
    docker.ping().await
}

fn parse_disk_usage(body: &[u8]) -> Result<DiskUsage> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| {
        tracing::warn!(error = %e, "the engine's disk usage answer is not JSON");
        crate::error::Error::Engine {
            status: 502,
            message: "the engine's disk usage answer could not be read".into(),
        }
    })?;
    let Some(df) = value.as_object() else {
        return Err(crate::error::Error::Engine {
            status: 502,
            message: "the engine's disk usage answer could not be read".into(),
        });
    };
    let totals = |key: &str| {
        df.get(key)
            .and_then(serde_json::Value::as_object)
            .map(modern_totals)
    };
    Ok(DiskUsage {
        images: totals("ImageUsage")
            .or_else(|| legacy_list(df, "Images").map(|l| legacy_images(l, df))),
        containers: totals("ContainerUsage")
            .or_else(|| legacy_list(df, "Containers").map(legacy_containers)),
        volumes: totals("VolumeUsage").or_else(|| legacy_list(df, "Volumes").map(legacy_volumes)),
        build_cache: totals("BuildCacheUsage")
            .or_else(|| legacy_list(df, "BuildCache").map(legacy_build_cache)),
    })
}

type Object = serde_json::Map<String, serde_json::Value>;

/// API ≥ 1.52: the engine's own totals. Negative numbers are the engine's "unknown".
fn modern_totals(o: &Object) -> UsageTotals {
    UsageTotals {
        count: unsigned(o, "TotalCount"),
        active: unsigned(o, "ActiveCount"),
        size_bytes: unsigned(o, "TotalSize"),
        reclaimable_bytes: unsigned(o, "Reclaimable"),
    }
}

fn unsigned(o: &Object, key: &str) -> Option<u64> {
    o.get(key)
        .and_then(serde_json::Value::as_i64)
        .and_then(|n| u64::try_from(n).ok())
}

fn signed(o: &Object, key: &str) -> Option<i64> {
    o.get(key).and_then(serde_json::Value::as_i64)
}

/// API < 1.52: the list under `key`. Present but `null` is Go's empty list; absent is unknown.
fn legacy_list<'a>(df: &'a Object, key: &str) -> Option<Vec<&'a Object>> {
    match df.get(key)? {
        serde_json::Value::Null => Some(Vec::new()),
        serde_json::Value::Array(items) => Some(
            items
                .iter()
                .filter_map(serde_json::Value::as_object)
                .collect(),
        ),
        _ => None,
    }
}

fn len(items: &[&Object]) -> Option<u64> {
    u64::try_from(items.len()).ok()
}

fn sum<'a>(items: impl Iterator<Item = &'a &'a Object>, key: &str) -> u64 {
    items
        .filter_map(|o| unsigned(o, key))
        .fold(0u64, u64::saturating_add)
}

/// As `docker system df`: the size is all layers; what is reclaimable is what the images
/// with containers do not hold exclusively.
fn legacy_images(images: Vec<&Object>, df: &Object) -> UsageTotals {
    let in_use = |o: &&&Object| signed(o, "Containers").is_some_and(|n| n > 0);
    let size = unsigned(df, "LayersSize");
    let held: u64 = images
        .iter()
        .filter(in_use)
        .filter_map(|o| match (signed(o, "Size"), signed(o, "SharedSize")) {
            (Some(size), Some(shared)) if size >= 0 && shared >= 0 => {
                u64::try_from(size - shared).ok()
            }
            _ => None,
        })
        .fold(0u64, u64::saturating_add);
    UsageTotals {
        count: len(&images),
        active: len(&images.iter().filter(in_use).copied().collect::<Vec<_>>()),
        size_bytes: size,
        reclaimable_bytes: size.map(|s| s.saturating_sub(held)),
    }
}

/// The writable layers; a container that is not running (or paused, restarting) is reclaimable.
fn legacy_containers(containers: Vec<&Object>) -> UsageTotals {
    let active = |o: &&&Object| {
        o.get("State")
            .and_then(serde_json::Value::as_str)
            .is_some_and(|s| matches!(s, "running" | "paused" | "restarting"))
    };
    // `SizeRw` is left out of the answer when it is zero.
    UsageTotals {
        count: len(&containers),
        active: len(&containers
            .iter()
            .filter(active)
            .copied()
            .collect::<Vec<_>>()),
        size_bytes: Some(sum(containers.iter(), "SizeRw")),
        reclaimable_bytes: Some(sum(containers.iter().filter(|o| !active(o)), "SizeRw")),
    }
}

/// Sizes come from `UsageData` (-1 when the engine cannot tell, e.g. other drivers); a volume
/// no container references is reclaimable.
fn legacy_volumes(volumes: Vec<&Object>) -> UsageTotals {
    let usage = |o: &Object, key: &str| {
        o.get("UsageData")
            .and_then(serde_json::Value::as_object)
            .and_then(|u| unsigned(u, key))
    };
    let known: Vec<(u64, Option<u64>)> = volumes
        .iter()
        .filter_map(|v| usage(v, "Size").map(|s| (s, usage(v, "RefCount"))))
        .collect();
    let size = (!known.is_empty() || volumes.is_empty()).then(|| {
        known
            .iter()
            .map(|(s, _)| *s)
            .fold(0u64, u64::saturating_add)
    });
    let reclaimable = size.map(|_| {
        known
            .iter()
            .filter(|(_, refs)| *refs == Some(0))
            .map(|(s, _)| *s)
            .fold(0u64, u64::saturating_add)
    });
    UsageTotals {
        count: len(&volumes),
        active: len(&volumes
            .iter()
            .filter(|v| usage(v, "RefCount").is_some_and(|n| n > 0))
            .copied()
            .collect::<Vec<_>>()),
        size_bytes: size,
        reclaimable_bytes: reclaimable,
    }
}

/// Shared records are counted once, by whoever owns them; records not in use are reclaimable.
fn legacy_build_cache(records: Vec<&Object>) -> UsageTotals {
    let flag = |o: &Object, key: &str| {
        o.get(key)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let own: Vec<&Object> = records
        .iter()
        .copied()
        .filter(|o| !flag(o, "Shared"))
        .collect();
    UsageTotals {
        count: len(&records),
        active: len(&records
            .iter()
            .copied()
            .filter(|o| flag(o, "InUse"))
            .collect::<Vec<_>>()),
        size_bytes: Some(sum(own.iter(), "Size")),
        reclaimable_bytes: Some(sum(own.iter().filter(|o| !flag(o, "InUse")), "Size")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: serde_json::Value) -> DiskUsage {
        parse_disk_usage(json.to_string().as_bytes()).expect("parses")
    }

    #[test]
    fn api_1_41_lists_are_totalled_like_the_docker_cli() {
        let df = parse(serde_json::json!({
            "LayersSize": 1000,
            "Images": [
                {"Id": "a", "Size": 600, "SharedSize": 100, "Containers": 2},
                {"Id": "b", "Size": 300, "SharedSize": 100, "Containers": 0},
                {"Id": "c", "Size": 100, "SharedSize": -1, "Containers": 1}
            ],
            "Containers": [
                {"Id": "1", "State": "running", "SizeRw": 10},
                {"Id": "2", "State": "exited", "SizeRw": 20},
                {"Id": "3", "State": "created"}
            ],
            "Volumes": [
                {"Name": "used", "UsageData": {"Size": 50, "RefCount": 1}},
                {"Name": "idle", "UsageData": {"Size": 70, "RefCount": 0}},
                {"Name": "remote", "UsageData": {"Size": -1, "RefCount": -1}}
            ],
            "BuildCache": null,
            "BuilderSize": 0
        }));
        let images = df.images.expect("images");
        assert_eq!(
            images,
            UsageTotals {
                count: Some(3),
                active: Some(2),
                size_bytes: Some(1000),
                reclaimable_bytes: Some(500)
            }
        );
        let containers = df.containers.expect("containers");
        assert_eq!(
            containers,
            UsageTotals {
                count: Some(3),
                active: Some(1),
                size_bytes: Some(30),
                reclaimable_bytes: Some(20)
            }
        );
        let volumes = df.volumes.expect("volumes");
        assert_eq!(
            volumes,
            UsageTotals {
                count: Some(3),
                active: Some(1),
                size_bytes: Some(120),
                reclaimable_bytes: Some(70)
            }
        );
        let cache = df
            .build_cache
            .expect("an empty build cache is still reported");
        assert_eq!(
            cache,
            UsageTotals {
                count: Some(0),
                active: Some(0),
                size_bytes: Some(0),
                reclaimable_bytes: Some(0)
            }
        );
    }

    #[test]
    fn build_cache_records_shared_and_in_use() {
        let df = parse(serde_json::json!({
            "BuildCache": [
                {"ID": "x", "Size": 5, "InUse": true, "Shared": false},
                {"ID": "y", "Size": 7, "InUse": false, "Shared": false},
                {"ID": "z", "Size": 11, "InUse": false, "Shared": true}
            ]
        }));
        assert_eq!(
            df.build_cache,
            Some(UsageTotals {
                count: Some(3),
                active: Some(1),
                size_bytes: Some(12),
                reclaimable_bytes: Some(7)
            })
        );
        assert_eq!(
            df.images, None,
            "a kind the engine did not mention is absent"
        );
    }

    #[test]
    fn api_1_52_totals_are_taken_as_they_are() {
        let df = parse(serde_json::json!({
            "ImageUsage": {"ActiveCount": 2, "TotalCount": 5, "Reclaimable": 300, "TotalSize": 900},
            "ContainerUsage": {"ActiveCount": 1, "TotalCount": 4, "Reclaimable": 8, "TotalSize": 12},
            "VolumeUsage": {"ActiveCount": 0, "TotalCount": 1, "Reclaimable": 0, "TotalSize": -1},
            "BuildCacheUsage": {"TotalCount": 0, "TotalSize": 0}
        }));
        assert_eq!(
            df.images,
            Some(UsageTotals {
                count: Some(5),
                active: Some(2),
                size_bytes: Some(900),
                reclaimable_bytes: Some(300)
            })
        );
        assert_eq!(
            df.containers,
            Some(UsageTotals {
                count: Some(4),
                active: Some(1),
                size_bytes: Some(12),
                reclaimable_bytes: Some(8)
            })
        );
        assert_eq!(
            df.volumes.and_then(|v| v.size_bytes),
            None,
            "an unknown size stays unknown"
        );
        assert_eq!(
            df.build_cache,
            Some(UsageTotals {
                count: Some(0),
                active: None,
                size_bytes: Some(0),
                reclaimable_bytes: None
            })
        );
    }

    #[test]
    fn volumes_of_unknown_size_are_not_reported_as_empty() {
        let df = parse(
            serde_json::json!({"Volumes": [{"Name": "nfs", "UsageData": {"Size": -1, "RefCount": -1}}]}),
        );
        let v = df.volumes.expect("volumes");
        assert_eq!(
            (v.count, v.size_bytes, v.reclaimable_bytes),
            (Some(1), None, None)
        );
    }

    #[test]
    fn an_answer_that_is_not_json_is_an_engine_error() {
        assert!(matches!(
            parse_disk_usage(b"<html>"),
            Err(crate::error::Error::Engine { .. })
        ));
        assert!(matches!(
            parse_disk_usage(b"[]"),
            Err(crate::error::Error::Engine { .. })
        ));
    }
}
