//! `docker version` + `docker info`, reduced to what the console shows about an engine.

use std::time::{Duration, Instant};

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
}

/// The result of probing an engine: its summary and how long the round trip took.
#[derive(Debug, Clone)]
pub struct HostProbe {
    pub summary: EngineSummary,
    pub latency: Duration,
}

fn count(n: Option<i64>) -> u32 {
    n.and_then(|n| u32::try_from(n).ok()).unwrap_or(0)
}

impl Engine {
    /// Ping, then version and info in parallel.
    pub async fn probe(&self) -> Result<HostProbe> {
        let started = Instant::now();
        self.call(|d| async move { d.ping().await }).await?;
        let latency = started.elapsed();
        let (version, info) = futures::try_join!(
            self.call(|d| async move { d.version().await }),
            self.call(|d| async move { d.info().await }),
        )?;
        let summary = EngineSummary {
            hostname: info.name.unwrap_or_default(),
            engine_version: version.version.or(info.server_version).unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
            os: info.operating_system.unwrap_or_default(),
            os_type: version.os.or(info.os_type).unwrap_or_default(),
            arch: version.arch.or(info.architecture).unwrap_or_default(),
            kernel: version.kernel_version.or(info.kernel_version).unwrap_or_default(),
            cpus: count(info.ncpu),
            memory_bytes: info.mem_total.and_then(|m| u64::try_from(m).ok()).unwrap_or(0),
            storage_driver: info.driver.unwrap_or_default(),
            containers_total: count(info.containers),
            containers_running: count(info.containers_running),
            containers_paused: count(info.containers_paused),
            containers_stopped: count(info.containers_stopped),
            images: count(info.images),
        };
        Ok(HostProbe { summary, latency })
    }
}
