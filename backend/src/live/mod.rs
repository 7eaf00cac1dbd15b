//! Live streams: logs, stats, events and terminals. One engine stream per (host, container,
//! kind) feeds every viewer through a bounded broadcast; a viewer that falls behind is told
//! how much it skipped and goes on, so the server never buffers without bound. Streams end
//! when the container exits (with an end item), when the viewer goes away, and on shutdown.

mod events;
mod exec;
mod hub;
mod logs;
mod stats;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tokio_util::sync::CancellationToken;

pub use events::{EventFilter, EventItem, FleetItem, HostEvent, EVENT_TYPES};
pub use exec::{
    can_open_terminal, start_terminal, terminal_size, ExecParams, ExecRequest, DEFAULT_SHELL,
    SHELLS,
};
pub use logs::{
    parse_time, LogBatch, LogFeed, LogItem, LogLine, LogMessage, LogParams, LogQuery, Search,
    DEFAULT_TAIL, MAX_LINE, MAX_TAIL,
};
pub use stats::{
    compute, host_usage, memory_without_cache, ContainerUsage, HostUsage, StatsItem, StatsSample,
};

use hub::{Channels, Pumps};

/// Why a stream ended, as the viewer is told.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum LogEnd {
    /// The container stopped (its exit code when known).
    Exited { exit_code: Option<i64> },
    /// The server is shutting down.
    Shutdown,
    /// The engine closed the stream for another reason.
    Closed,
    /// The engine stream failed; the message is safe to show.
    Error { message: String },
}

/// Sizes and timings of the hub.
#[derive(Debug, Clone, Copy)]
pub struct HubConfig {
    /// Items each shared channel holds for its slowest viewer (a logs item is a batch of up
    /// to 64 lines of at most [`MAX_LINE`] bytes).
    pub capacity: usize,
    /// How long an engine stream stays open after its last viewer left.
    pub linger: Duration,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            capacity: 256,
            linger: Duration::from_secs(5),
        }
    }
}

/// The shared streams of the whole server. Cheap to clone.
#[derive(Clone)]
pub struct Hub {
    pumps: Pumps,
    logs: Arc<Channels<LogMessage>>,
    stats: Arc<Channels<StatsItem>>,
    events: Arc<Channels<events::SharedEvent>>,
    capacity: usize,
    /// Each host's last totals, shared by every viewer.
    usage: Arc<stats::UsageCache>,
    /// Told about container, image, volume and network events, so the hosts snapshot follows
    /// them at once (set with [`Hub::with_fleet`]).
    fleet: Option<crate::fleet::Fleet>,
}

impl Hub {
    /// Engine events seen by this hub refresh the fleet's snapshot of their host, and the
    /// fleet's monitor follows each host's events through this hub's shared stream.
    pub fn with_fleet(mut self, fleet: crate::fleet::Fleet) -> Hub {
        // Given before the fleet is set, so the fleet does not keep itself alive through it.
        fleet.follow_events_from(Arc::new(self.clone()));
        self.fleet = Some(fleet);
        self
    }

    /// Every stream ends when `shutdown` is cancelled.
    pub fn new(config: HubConfig, shutdown: CancellationToken) -> Hub {
        Hub {
            pumps: Pumps {
                shutdown,
                linger: config.linger,
                opened: Arc::new(AtomicU64::new(0)),
            },
            logs: Arc::new(Channels::new(config.capacity)),
            stats: Arc::new(Channels::new(config.capacity)),
            events: Arc::new(Channels::new(config.capacity)),
            capacity: config.capacity.max(1),
            usage: Arc::new(stats::UsageCache::default()),
            fleet: None,
        }
    }

    /// Engine streams opened since start (logs, stats and events together).
    pub fn engine_streams_opened(&self) -> u64 {
        self.pumps.opened.load(Ordering::Relaxed)
    }

    /// Shared engine streams open now.
    pub fn open_streams(&self) -> usize {
        self.logs.open() + self.stats.open() + self.events.open()
    }

    /// The most items any shared channel holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    pub fn shutdown_token(&self) -> &CancellationToken {
        &self.pumps.shutdown
    }
}

/// Nanoseconds since the epoch, now.
pub(crate) fn now_nanos() -> i128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i128::try_from(d.as_nanos()).unwrap_or(i128::MAX))
        .unwrap_or(0)
}
