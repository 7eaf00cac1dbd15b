//! `docker version` + `docker info`, reduced to what the console shows about an engine.

use std::time::{Duration, Instant};

use bollard::models::{SystemInfo, SystemVersion};
use serde::{Deserialize, Serialize};

use super::Engine;
use crate::error::Result;

/// What Capstan shows about an engine. Every field is optional on the wire of old engines, so
/// missing ones become empty strings or zero rather than errors.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
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

/// The result of probing an engine: its summary and how long the round trip took.
#[derive(Debug, Clone)]
pub struct HostProbe {
    pub summary: EngineSummary,
    pub latency: Duration,
}

/// The summary from `version` and `info`; version's fields win where both have one.
fn summarize(version: &SystemVersion, info: &SystemInfo) -> EngineSummary {
    let or = |a: &Option<String>, b: &Option<String>| a.clone().or_else(|| b.clone()).unwrap_or_default();
    EngineSummary {
        hostname: info.name.clone().unwrap_or_default(),
        engine_version: or(&version.version, &info.server_version),
        api_version: version.api_version.clone().unwrap_or_default(),
        os: info.operating_system.clone().unwrap_or_default(),
        os_type: or(&version.os, &info.os_type),
        arch: or(&version.arch, &info.architecture),
        kernel: or(&version.kernel_version, &info.kernel_version),
        cpus: count(info.ncpu),
        memory_bytes: info.mem_total.and_then(|m| u64::try_from(m).ok()).unwrap_or(0),
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
    let Some(swarm) = &info.swarm else { return String::new() };
    let active = swarm.local_node_state.as_ref().is_some_and(|s| s.to_string() == "active");
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
        Ok(HostProbe { summary: EngineSummary { volumes, ..summarize(&version, &info) }, latency })
    }
}

impl Engine {
    async fn volume_count(&self) -> Result<u32> {
        let list = self
            .call(|d| async move { d.list_volumes(None::<bollard::query_parameters::ListVolumesOptions>).await })
            .await?;
        Ok(list.volumes.map(|v| u32::try_from(v.len()).unwrap_or(u32::MAX)).unwrap_or(0))
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
        let mut runtimes: Vec<String> = info.runtimes.clone().unwrap_or_default().into_keys().collect();
        runtimes.sort();
        let summary = EngineSummary { volumes, ..summarize(&version, &info) };
        Ok(EngineInfo {
            summary,
            id: info.id.unwrap_or_default(),
            os_version: info.os_version.unwrap_or_default(),
            min_api_version: version.min_api_version.unwrap_or_default(),
            go_version: version.go_version.unwrap_or_default(),
            git_commit: version.git_commit.unwrap_or_default(),
            logging_driver: info.logging_driver.unwrap_or_default(),
            cgroup_driver: info.cgroup_driver.map(|d| d.to_string()).unwrap_or_default(),
            cgroup_version: info.cgroup_version.map(|v| v.to_string()).unwrap_or_default(),
            default_runtime: info.default_runtime.unwrap_or_default(),
            runtimes,
            security_options: info.security_options.unwrap_or_default(),
            labels: info.labels.unwrap_or_default(),
            live_restore: info.live_restore_enabled.unwrap_or(false),
            experimental: info.experimental_build.unwrap_or(false),
            swarm_state: swarm.local_node_state.map(|s| s.to_string()).filter(|s| !s.is_empty()).unwrap_or_else(|| "inactive".into()),
            swarm_manager: swarm.control_available.unwrap_or(false),
            swarm_nodes: count(swarm.nodes),
            swarm_managers: count(swarm.managers),
            warnings: info.warnings.unwrap_or_default(),
        })
    }
}
