//! Container stats: the engine's cumulative counters turned into the numbers `docker stats`
//! prints, shared per container like logs; and one snapshot of a host's running containers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::stream::{self, BoxStream};
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::engine::{Chunks, Engine, ListQuery, RawStats, StateFilter};
use crate::error::{Error, Result};

use super::logs::end_of;
use super::{Hub, LogEnd};

/// One computed sample.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatsSample {
    /// Milliseconds since the epoch.
    pub time: i64,
    /// 100 is one CPU fully busy (like `docker stats`): up to `online_cpus` × 100.
    pub cpu_percent: f64,
    pub online_cpus: u32,
    /// Bytes in use, page cache that can be reclaimed not counted.
    pub memory_usage: u64,
    pub memory_limit: u64,
    pub memory_percent: f64,
    pub net_rx: u64,
    pub net_tx: u64,
    /// Bytes per second since the previous sample.
    pub net_rx_rate: f64,
    pub net_tx_rate: f64,
    pub block_read: u64,
    pub block_write: u64,
    pub block_read_rate: f64,
    pub block_write_rate: f64,
    pub pids: u64,
}

/// What the shared stats channel carries and a viewer receives.
#[derive(Debug, Clone)]
pub enum StatsItem {
    Sample(Arc<StatsSample>),
    /// This viewer fell behind and missed this many samples.
    Skipped(u64),
    End(LogEnd),
}

/// Memory in use as the docker CLI counts it: without inactive page cache (`inactive_file` on
/// cgroup v2, `total_inactive_file` on v1, `cache` on old v1 engines).
pub fn memory_without_cache(raw: &RawStats) -> u64 {
    let usage = raw.memory_usage;
    let cache = raw
        .memory_stats
        .get("total_inactive_file")
        .or_else(|| raw.memory_stats.get("inactive_file"))
        .or_else(|| raw.memory_stats.get("cache"))
        .copied()
        .unwrap_or(0);
    if cache < usage {
        usage - cache
    } else {
        usage
    }
}

#[allow(clippy::cast_precision_loss)]
fn ratio(a: u64, b: u64) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// The sample's numbers; rates against `previous` (none for the first sample).
#[allow(clippy::cast_precision_loss)]
pub fn compute(raw: &RawStats, previous: Option<&RawStats>) -> StatsSample {
    let cpu_delta = raw.cpu_total.saturating_sub(raw.pre_cpu_total);
    let system_delta = raw.system_cpu.saturating_sub(raw.pre_system_cpu);
    let cpu_percent = if cpu_delta > 0 && system_delta > 0 {
        ratio(cpu_delta, system_delta) * f64::from(raw.online_cpus) * 100.0
    } else {
        0.0
    };
    let memory_usage = memory_without_cache(raw);
    let now_nanos = raw.read_nanos.unwrap_or_else(super::now_nanos);
    let elapsed = previous
        .and_then(|p| p.read_nanos)
        .map(|p| (now_nanos - p) as f64 / 1e9)
        .filter(|s| *s > 0.0);
    let rate = |now: u64, before: Option<u64>| match (elapsed, before) {
        (Some(secs), Some(before)) => now.saturating_sub(before) as f64 / secs,
        _ => 0.0,
    };
    StatsSample {
        time: i64::try_from(now_nanos / 1_000_000).unwrap_or(0),
        cpu_percent,
        online_cpus: raw.online_cpus,
        memory_usage,
        memory_limit: raw.memory_limit,
        memory_percent: ratio(memory_usage, raw.memory_limit) * 100.0,
        net_rx: raw.net_rx,
        net_tx: raw.net_tx,
        net_rx_rate: rate(raw.net_rx, previous.map(|p| p.net_rx)),
        net_tx_rate: rate(raw.net_tx, previous.map(|p| p.net_tx)),
        block_read: raw.block_read,
        block_write: raw.block_write,
        block_read_rate: rate(raw.block_read, previous.map(|p| p.block_read)),
        block_write_rate: rate(raw.block_write, previous.map(|p| p.block_write)),
        pids: raw.pids,
    }
}

/// One running container's numbers in a host snapshot.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ContainerUsage {
    pub id: String,
    pub name: String,
    pub cpu_percent: f64,
    pub memory_usage: u64,
    pub memory_limit: u64,
    pub memory_percent: f64,
    pub pids: u64,
}

/// The running containers of one host, added up.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HostUsage {
    pub running: usize,
    /// Containers whose sample did not come in time (left out of the totals).
    pub missing: usize,
    pub cpu_percent: f64,
    pub memory_usage: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
    pub containers: Vec<ContainerUsage>,
}

/// How many containers' samples are asked for at once in a host snapshot.
const SNAPSHOT_CONCURRENCY: usize = 8;

impl Hub {
    /// Live samples of a container, one engine stream shared by every viewer. A container
    /// that is not running gives an end item at once.
    pub async fn stats(
        &self,
        engine: &Engine,
        host: &str,
        id: &str,
    ) -> Result<BoxStream<'static, StatsItem>> {
        let detail = engine.inspect_container(id).await?;
        if !detail.running {
            let end = LogEnd::Exited {
                exit_code: Some(detail.exit_code),
            };
            return Ok(Box::pin(stream::iter([StatsItem::End(end)])));
        }
        let rx = self.subscribe_stats(engine, host, &detail.id);
        let shutdown = self.pumps.shutdown.clone();
        let items = stream::unfold((rx, false), |(mut rx, done)| async move {
            if done {
                return None;
            }
            match rx.recv().await {
                Ok(StatsItem::End(end)) => Some((StatsItem::End(end), (rx, true))),
                Ok(item) => Some((item, (rx, false))),
                Err(broadcast::error::RecvError::Lagged(n)) => {
                    Some((StatsItem::Skipped(n), (rx, false)))
                }
                Err(broadcast::error::RecvError::Closed) => None,
            }
        })
        .take_until(async move { shutdown.cancelled_owned().await });
        Ok(Box::pin(items))
    }

    fn subscribe_stats(
        &self,
        engine: &Engine,
        host: &str,
        container_id: &str,
    ) -> broadcast::Receiver<StatsItem> {
        let key = (host.to_owned(), container_id.to_owned());
        let open_engine = engine.clone();
        let end_engine = engine.clone();
        let id = container_id.to_owned();
        let end_id = container_id.to_owned();
        self.pumps.subscribe(
            &self.stats,
            key,
            move || async move {
                let raw = open_engine.container_stats(&id, true).await?;
                let samples = raw
                    // A stopped container's sample has no time; its stream is over.
                    .take_while(|r| std::future::ready(!matches!(r, Ok(r) if r.read_nanos.is_none())))
                    .scan(None::<RawStats>, |previous, raw| {
                        let item = raw.map(|raw| {
                            let sample = compute(&raw, previous.as_ref());
                            *previous = Some(raw);
                            StatsItem::Sample(Arc::new(sample))
                        });
                        std::future::ready(Some(item))
                    });
                Ok(Box::pin(samples) as Chunks<StatsItem>)
            },
            move |stop| async move { Some(StatsItem::End(end_of(&end_engine, &end_id, stop).await)) },
        )
    }
}

/// How long a host's totals are served to further viewers before the engine is asked again.
pub(crate) const USAGE_FRESH: Duration = Duration::from_secs(5);

/// The last totals of each host, shared by every viewer: one fan-out at a time per host
/// (later callers wait for it) and its result reused for [`USAGE_FRESH`].
#[derive(Default)]
pub(crate) struct UsageCache {
    #[allow(clippy::type_complexity)]
    hosts: std::sync::Mutex<
        std::collections::HashMap<
            (String, String),
            Arc<tokio::sync::Mutex<Option<(Instant, HostUsage)>>>,
        >,
    >,
    pub(crate) fanouts: std::sync::atomic::AtomicU64,
}

impl Hub {
    /// [`host_usage`] of `host`, shared: viewers asking within a few seconds of each other
    /// cost the engine one stats call per running container, not one each.
    pub async fn host_usage(
        &self,
        engine: &Engine,
        host: &str,
        deadline: Duration,
    ) -> Result<HostUsage> {
        // Keyed by the connection too, so a host given a new address starts afresh.
        let key = (host.to_owned(), engine.spec().url.clone());
        let slot = {
            let mut hosts = self
                .usage
                .hosts
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // Hosts not asked for a while are forgotten, so removed hosts do not linger.
            hosts.retain(|_, slot| {
                Arc::strong_count(slot) > 1
                    || slot.try_lock().map_or(true, |s| {
                        s.as_ref()
                            .is_some_and(|(at, _)| at.elapsed() < USAGE_FRESH * 12)
                    })
            });
            hosts.entry(key).or_default().clone()
        };
        let mut cached = slot.lock().await;
        if let Some((at, usage)) = cached.as_ref() {
            if at.elapsed() < USAGE_FRESH {
                return Ok(usage.clone());
            }
        }
        self.usage
            .fanouts
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let usage = host_usage(engine, deadline).await?;
        *cached = Some((Instant::now(), usage.clone()));
        Ok(usage)
    }

    /// Fan-outs [`Hub::host_usage`] has made since start (for tests and metrics).
    pub fn host_usage_fanouts(&self) -> u64 {
        self.usage
            .fanouts
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// One sample of every running container of a host (asked a few at a time, all within
/// `deadline`; those that miss it are counted as missing), and their totals.
pub async fn host_usage(engine: &Engine, deadline: Duration) -> Result<HostUsage> {
    let query = ListQuery {
        all: false,
        state: Some(StateFilter::Running),
        ..ListQuery::default()
    };
    let running = engine.list_containers(&query).await?;
    let count = running.len();
    let fanout = stream::iter(running)
        .map(|c| async move {
            let sample = tokio::time::timeout(deadline, async {
                let mut raw = engine.container_stats(&c.id, false).await?;
                raw.next().await.ok_or_else(|| Error::NotFound("container".into()))?
            })
            .await;
            match sample {
                Ok(Ok(raw)) if raw.read_nanos.is_some() => {
                    let s = compute(&raw, None);
                    let usage = ContainerUsage {
                        id: c.id,
                        name: c.name,
                        cpu_percent: s.cpu_percent,
                        memory_usage: s.memory_usage,
                        memory_limit: s.memory_limit,
                        memory_percent: s.memory_percent,
                        pids: s.pids,
                    };
                    Some((usage, raw))
                }
                Ok(Ok(_)) => None,
                Ok(Err(e)) => {
                    tracing::debug!(error = %e.log_detail(), "a container's sample for the host totals");
                    None
                }
                Err(_) => None,
            }
        })
        .buffer_unordered(SNAPSHOT_CONCURRENCY);
    let mut samples: Vec<Option<(ContainerUsage, RawStats)>> = Vec::with_capacity(count);
    let _in_time = tokio::time::timeout(deadline, async {
        futures::pin_mut!(fanout);
        while let Some(sample) = fanout.next().await {
            samples.push(sample);
        }
    })
    .await;
    let mut total = HostUsage {
        running: count,
        missing: count - samples.len(),
        cpu_percent: 0.0,
        memory_usage: 0,
        net_rx: 0,
        net_tx: 0,
        block_read: 0,
        block_write: 0,
        pids: 0,
        containers: Vec::with_capacity(count),
    };
    for sample in samples {
        let Some((usage, raw)) = sample else {
            total.missing += 1;
            continue;
        };
        total.cpu_percent += usage.cpu_percent;
        total.memory_usage = total.memory_usage.saturating_add(usage.memory_usage);
        total.net_rx = total.net_rx.saturating_add(raw.net_rx);
        total.net_tx = total.net_tx.saturating_add(raw.net_tx);
        total.block_read = total.block_read.saturating_add(raw.block_read);
        total.block_write = total.block_write.saturating_add(raw.block_write);
        total.pids = total.pids.saturating_add(usage.pids);
        total.containers.push(usage);
    }
    total.containers.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(total)
}
