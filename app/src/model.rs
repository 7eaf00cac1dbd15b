//! The DTOs both the browser and the server use: the UI's server fns and the REST API return
//! these, so a script sees exactly what a page shows.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostState {
    Up,
    Down,
}

/// A host as listed: identity, status and — when up — the engine's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostView {
    pub slug: String,
    pub name: String,
    pub url: String,
    pub tls: bool,
    pub status: HostState,
    /// Why the host is down, in words a person can act on.
    pub error: Option<String>,
    pub latency_ms: Option<u64>,
    pub engine: Option<EngineView>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineView {
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
}

#[cfg(feature = "ssr")]
mod convert {
    use backend::engine::EngineSummary;
    use backend::fleet::{Health, HostStatus};

    use super::*;

    impl From<EngineSummary> for EngineView {
        fn from(s: EngineSummary) -> Self {
            EngineView {
                hostname: s.hostname,
                engine_version: s.engine_version,
                api_version: s.api_version,
                os: s.os,
                os_type: s.os_type,
                arch: s.arch,
                kernel: s.kernel,
                cpus: s.cpus,
                memory_bytes: s.memory_bytes,
                storage_driver: s.storage_driver,
                containers_total: s.containers_total,
                containers_running: s.containers_running,
                containers_paused: s.containers_paused,
                containers_stopped: s.containers_stopped,
                images: s.images,
            }
        }
    }

    impl From<HostStatus> for HostView {
        fn from(s: HostStatus) -> Self {
            let (status, error, latency_ms, engine) = match s.health {
                Health::Up { summary, latency } => (
                    HostState::Up,
                    None,
                    Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX)),
                    Some(summary.into()),
                ),
                Health::Down { error } => (HostState::Down, Some(error), None, None),
            };
            HostView { slug: s.slug, name: s.name, url: s.url, tls: s.tls, status, error, latency_ms, engine }
        }
    }
}
