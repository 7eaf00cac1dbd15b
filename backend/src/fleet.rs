//! The hosts Capstan manages, the fan-out over them, and the health monitor that keeps a
//! snapshot of every host so pages read it instead of calling every engine per request. Hosts
//! come from the command line (`--engine`) and from the registry in the store
//! ([`crate::hosts::Registry`]), which adds, replaces and removes them while the server runs.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::{Duration, Instant};

use futures::future::join_all;
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineSpec, EngineSummary, Timeouts};
use crate::error::{Error, Result};
use crate::policy::{authorize, HostAction, Permit, Principal};
use crate::store::Store;

mod sharing;

/// The kinds of engine event that change what the hosts snapshot counts.
const SNAPSHOT_EVENT_TYPES: [&str; 4] = ["container", "image", "volume", "network"];

/// The longest wait between two attempts to reopen a host's event stream.
const EVENTS_BACKOFF_MAX: Duration = Duration::from_secs(30);

/// What the monitor reads from a host's engine events: that something changed, or that the
/// stream is over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// An event (or events skipped by a slow reader) that may change the host's counts.
    Seen,
    /// The stream ended or broke (with what broke it); the monitor opens it again.
    Ended(Option<String>),
    /// The server is shutting down.
    Shutdown,
}

/// A shared source of each host's engine events (the live hub: [`crate::live::Hub`]), so a
/// host costs one engine event stream however many people watch its feed. Without one the
/// monitor opens the engine's stream itself.
pub trait EventSource: Send + Sync + 'static {
    /// The host's events of the given types (`container`, `image`, …) as [`Change`]s.
    fn changes(&self, host: &Host, types: Vec<String>) -> BoxStream<'static, Change>;
}

/// A host slug: `[a-z0-9][a-z0-9-]{0,62}` (api.md).
pub fn validate_slug(slug: &str) -> Result<()> {
    let mut chars = slug.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if slug == "new" {
        // `/hosts/new` is the page that adds a host.
        Err(Error::invalid(
            "slug",
            "\"new\" is reserved; choose another slug",
        ))
    } else if first_ok && rest_ok && slug.len() <= 63 {
        Ok(())
    } else {
        Err(Error::invalid(
            "slug",
            "use 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit",
        ))
    }
}

pub use wire::system::HostSource;

#[derive(Debug, Clone)]
pub struct HostConfig {
    pub slug: String,
    pub name: String,
    pub engine: EngineSpec,
    pub labels: BTreeMap<String, String>,
    pub source: HostSource,
    /// Why this host cannot be used as configured (a sealed key that no longer opens): it is
    /// shown down with this text instead of being probed.
    pub problem: Option<String>,
}

impl HostConfig {
    /// A host from the command line, without labels.
    pub fn new(slug: impl Into<String>, name: impl Into<String>, engine: EngineSpec) -> Self {
        HostConfig {
            slug: slug.into(),
            name: name.into(),
            engine,
            labels: BTreeMap::new(),
            source: HostSource::Config,
            problem: None,
        }
    }
}

#[derive(Clone)]
pub struct Host {
    pub slug: String,
    pub name: String,
    /// Reached only inside the backend: a door gets to an engine through a use case
    /// (`crate::ops`), which asks the policy first.
    pub(crate) engine: Engine,
    pub labels: BTreeMap<String, String>,
    pub source: HostSource,
    pub problem: Option<String>,
}

impl Host {
    /// A host outside any fleet, over an engine the caller made itself (tools and tests):
    /// it carries no grant, and a fleet's doors never see it.
    pub fn standalone(slug: impl Into<String>, engine: Engine) -> Host {
        let slug = slug.into();
        Host {
            name: slug.clone(),
            slug,
            engine,
            labels: BTreeMap::new(),
            source: HostSource::Config,
            problem: None,
        }
    }

    /// The engine's address (a socket path or a `tcp://` URL): for admins and for where
    /// published ports are reachable.
    pub fn engine_url(&self) -> &str {
        &self.engine.spec().url
    }

    fn new(c: HostConfig, timeouts: Timeouts) -> Self {
        Host {
            slug: c.slug,
            name: c.name,
            engine: Engine::new(c.engine, timeouts),
            labels: c.labels,
            source: c.source,
            problem: c.problem,
        }
    }
}

/// One host's state as seen by one probe.
#[derive(Debug, Clone)]
pub struct HostStatus {
    pub slug: String,
    pub name: String,
    pub url: String,
    pub tls: bool,
    pub health: Health,
    /// Unix seconds of this probe.
    pub checked_at: i64,
    /// Unix seconds of the last probe that found the host up, if any.
    pub last_seen: Option<i64>,
    pub labels: BTreeMap<String, String>,
    pub source: HostSource,
}

impl HostStatus {
    /// `host` as found at `checked_at` (Unix seconds); `last_seen` is the last time it was up.
    fn of(host: &Host, health: Health, checked_at: i64, last_seen: Option<i64>) -> Self {
        let spec = host.engine.spec();
        HostStatus {
            slug: host.slug.clone(),
            name: host.name.clone(),
            url: spec.url.clone(),
            tls: spec.tls.is_some(),
            health,
            checked_at,
            last_seen,
            labels: host.labels.clone(),
            source: host.source,
        }
    }
}

/// One per host, kept in the status map: the size of `Up` costs nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Health {
    Up {
        summary: EngineSummary,
        latency: Duration,
    },
    Down {
        error: String,
    },
}

#[derive(Clone)]
pub struct Fleet {
    hosts: Arc<RwLock<Vec<Host>>>,
    timeouts: Timeouts,
    deadline: Duration,
    /// The latest status of each host, by slug, written by probes (the monitor's or a refresh).
    snapshot: Arc<RwLock<HashMap<String, HostStatus>>>,
    /// Set once the monitor runs: hosts added later get their own probe task.
    monitor: Arc<Mutex<Option<Monitor>>>,
    /// Hosts with a probe scheduled by [`Fleet::refresh_soon`].
    refreshing: Arc<Mutex<std::collections::HashSet<String>>>,
    /// The shared per-host event streams the monitor follows ([`EventSource`]).
    events: Arc<watch::Sender<Option<Arc<dyn EventSource>>>>,
    /// Set when replicas on one database share the monitoring ([`Fleet::share_with`]).
    sharing: Arc<OnceLock<Arc<sharing::Sharing>>>,
}

struct Monitor {
    interval: Duration,
    shutdown: CancellationToken,
    /// One token per host's probe task, cancelled when the host is removed or replaced.
    tasks: HashMap<String, CancellationToken>,
}

impl Fleet {
    /// `deadline` bounds how long one host may hold up a fleet-wide answer.
    pub fn new(configs: Vec<HostConfig>, timeouts: Timeouts, deadline: Duration) -> Result<Self> {
        let fleet = Fleet {
            hosts: Arc::default(),
            timeouts,
            deadline,
            snapshot: Arc::default(),
            monitor: Arc::default(),
            refreshing: Arc::default(),
            events: Arc::new(watch::channel(None).0),
            sharing: Arc::default(),
        };
        for c in configs {
            fleet.add(c)?;
        }
        Ok(fleet)
    }

    /// How long one host may hold up a fleet-wide answer.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    /// The engine call timeouts every host uses.
    pub fn timeouts(&self) -> Timeouts {
        self.timeouts
    }

    /// Every host with its engine, in the order they were added (command line first, then the
    /// registry's): for the backend's own work (probes, monitors). Doors reach hosts through a
    /// [`Permit`] ([`Fleet::host`], [`Fleet::visible`]).
    pub(crate) fn hosts(&self) -> Vec<Host> {
        self.hosts.read().map(|h| h.clone()).unwrap_or_default()
    }

    /// The host a permit is for: the only way a door reaches an engine.
    pub fn host(&self, permit: &Permit) -> Result<Host> {
        self.by_slug(permit.host())
    }

    /// The hosts on which `who` may do `action`, in the fleet's order.
    pub fn visible(&self, who: &Principal, action: HostAction) -> Vec<Host> {
        self.hosts()
            .into_iter()
            .filter(|h| authorize(who, &h.slug, action).is_ok())
            .collect()
    }

    /// Each host's slug and engine address, for the start-up log.
    pub fn addresses(&self) -> Vec<(String, String)> {
        self.hosts()
            .into_iter()
            .map(|h| (h.slug, h.engine.spec().url.clone()))
            .collect()
    }

    pub(crate) fn by_slug(&self, slug: &str) -> Result<Host> {
        self.hosts
            .read()
            .ok()
            .and_then(|hosts| hosts.iter().find(|h| h.slug == slug).cloned())
            .ok_or_else(|| Error::NotFound("host".into()))
    }

    pub fn contains(&self, slug: &str) -> bool {
        self.by_slug(slug).is_ok()
    }

    /// `NotFound` unless the host exists: for admin pages that name a host but need no engine.
    pub fn exists(&self, slug: &str) -> Result<()> {
        self.by_slug(slug).map(|_| ())
    }

    /// Adds a host; its probe task starts at once when the monitor runs.
    pub fn add(&self, config: HostConfig) -> Result<()> {
        validate_slug(&config.slug)?;
        config.engine.validate()?;
        let slug = config.slug.clone();
        {
            let mut hosts = self
                .hosts
                .write()
                .map_err(|_| Error::Internal("fleet lock poisoned".into()))?;
            if hosts.iter().any(|h| h.slug == slug) {
                return Err(Error::Conflict(format!(
                    "a host named {slug} already exists"
                )));
            }
            hosts.push(Host::new(config, self.timeouts));
        }
        self.start_probe(&slug);
        Ok(())
    }

    /// Replaces a host's configuration (name, engine, labels): the old engine connection is
    /// dropped, the host is probed afresh.
    pub fn replace(&self, config: HostConfig) -> Result<()> {
        validate_slug(&config.slug)?;
        config.engine.validate()?;
        let slug = config.slug.clone();
        {
            let mut hosts = self
                .hosts
                .write()
                .map_err(|_| Error::Internal("fleet lock poisoned".into()))?;
            let slot = hosts
                .iter_mut()
                .find(|h| h.slug == slug)
                .ok_or_else(|| Error::NotFound("host".into()))?;
            *slot = Host::new(config, self.timeouts);
        }
        self.forget(&slug);
        self.start_probe(&slug);
        Ok(())
    }

    /// Removes a host: its probe task ends and its snapshot entry is dropped.
    pub fn remove(&self, slug: &str) -> Result<()> {
        {
            let mut hosts = self
                .hosts
                .write()
                .map_err(|_| Error::Internal("fleet lock poisoned".into()))?;
            let before = hosts.len();
            hosts.retain(|h| h.slug != slug);
            if hosts.len() == before {
                return Err(Error::NotFound("host".into()));
            }
        }
        self.forget(slug);
        Ok(())
    }

    /// Ends a host's probe task and drops what the snapshot knew about it.
    fn forget(&self, slug: &str) {
        if let Ok(mut monitor) = self.monitor.lock() {
            if let Some(token) = monitor.as_mut().and_then(|m| m.tasks.remove(slug)) {
                token.cancel();
            }
        }
        if let Ok(mut map) = self.snapshot.write() {
            map.remove(slug);
        }
    }

    /// Probes every host now, in parallel; a host that fails or passes the deadline is `Down`,
    /// and never delays the others beyond the deadline. The snapshot is updated.
    pub async fn statuses(&self) -> Vec<HostStatus> {
        let hosts = self.hosts();
        join_all(hosts.iter().map(|h| self.status_of(h))).await
    }

    /// Probes one host now and records the result in the snapshot.
    pub async fn status_of(&self, host: &Host) -> HostStatus {
        let probe = match &host.problem {
            Some(problem) => Err(Error::Conflict(problem.clone())),
            None => tokio::time::timeout(self.deadline, host.engine.probe())
                .await
                .unwrap_or(Err(Error::EngineTimeout)),
        };
        let now = crate::store::now();
        let previous = self.cached(&host.slug);
        let (health, last_seen) = match probe {
            Ok(p) => (
                Health::Up {
                    summary: p.summary,
                    latency: p.latency,
                },
                Some(now),
            ),
            Err(e) => {
                tracing::debug!(host = %host.slug, error = %e.log_detail(), "engine probe failed");
                (
                    Health::Down {
                        error: e.public_message(),
                    },
                    previous.as_ref().and_then(|p| p.last_seen),
                )
            }
        };
        let status = HostStatus::of(host, health, now, last_seen);
        log_change(previous.as_ref(), &status);
        // A host removed or replaced while this probe ran must not come back into the snapshot.
        let current = self
            .by_slug(&host.slug)
            .is_ok_and(|h| h.engine.same_connection(&host.engine));
        if current {
            if let Ok(mut map) = self.snapshot.write() {
                map.insert(host.slug.clone(), status.clone());
            }
            if let Some(sharing) = self.sharing.get().filter(|s| s.holds(&host.slug)) {
                sharing.publish(&status);
            }
        }
        status
    }

    /// What another replica's probe of a host found, for this replica's snapshot: kept when
    /// this replica has the host at the same address.
    fn observed(
        &self,
        slug: &str,
        url: &str,
        health: Health,
        checked_at: i64,
        last_seen: Option<i64>,
    ) {
        let Ok(host) = self.by_slug(slug) else {
            return;
        };
        if host.engine.spec().url != url {
            return;
        }
        let status = HostStatus::of(&host, health, checked_at, last_seen);
        if let Ok(mut map) = self.snapshot.write() {
            // Notifications from one replica arrive in order; a takeover may overlap a late one.
            if map.get(slug).is_some_and(|s| s.checked_at > checked_at) {
                return;
            }
            map.insert(host.slug.clone(), status);
        }
    }

    /// Makes the monitor share its work with the other replicas on `store`'s database (nothing
    /// to share on SQLite): each host is probed by one replica, which tells the others. Call it
    /// before [`Fleet::spawn_monitor`].
    pub fn share_with(&self, store: &Store) {
        if let Some(sharing) = sharing::Sharing::new(store) {
            let _ = self.sharing.set(Arc::new(sharing));
        }
    }

    /// The hosts this replica monitors when sharing with others (all of them when not).
    pub fn monitored(&self) -> Vec<String> {
        match self.sharing.get() {
            Some(sharing) => sharing.held(),
            None => {
                let mut slugs: Vec<String> = self.hosts().into_iter().map(|h| h.slug).collect();
                slugs.sort();
                slugs
            }
        }
    }

    /// At a clean stop: the other replicas take this one's hosts at once instead of waiting
    /// for its leases to run out.
    pub async fn stop_sharing(&self) {
        if let Some(sharing) = self.sharing.get() {
            sharing.release().await;
        }
    }

    /// Probes a host again shortly, because something changed on it (an engine event): the
    /// snapshot catches up at once instead of at the next interval. Bursts of events cost one
    /// probe per host per half second.
    pub fn refresh_soon(&self, slug: &str) {
        let Ok(mut pending) = self.refreshing.lock() else {
            return;
        };
        if !pending.insert(slug.to_string()) {
            return;
        }
        drop(pending);
        let fleet = self.clone();
        let slug = slug.to_string();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Ok(mut pending) = fleet.refreshing.lock() {
                pending.remove(&slug);
            }
            if let Ok(host) = fleet.by_slug(&slug) {
                fleet.status_of(&host).await;
            }
        });
    }

    /// Makes the monitor follow each host's events through `source`'s shared streams (the ones
    /// the events feed uses). Event watchers already running switch over at once. The source
    /// must not hold this fleet (it would keep itself alive).
    pub fn follow_events_from(&self, source: Arc<dyn EventSource>) {
        self.events.send_replace(Some(source));
    }

    /// A host's snapshot-relevant engine events: the attached source's shared stream, else a
    /// stream of the monitor's own.
    fn snapshot_events(
        &self,
        host: &Host,
        source: Option<&Arc<dyn EventSource>>,
    ) -> BoxStream<'static, Change> {
        let kinds: Vec<String> = SNAPSHOT_EVENT_TYPES
            .iter()
            .map(|k| (*k).to_owned())
            .collect();
        if let Some(source) = source {
            return source.changes(host, kinds);
        }
        let engine = host.engine.clone();
        let opened = stream::once(async move {
            let filters = HashMap::from([("type".to_owned(), kinds)]);
            engine.events(&filters).await
        });
        Box::pin(opened.flat_map(|opened| {
            match opened {
                Ok(events) => events
                    .map(|e| match e {
                        Ok(_) => Change::Seen,
                        Err(e) => Change::Ended(Some(e.log_detail())),
                    })
                    .boxed(),
                Err(e) => stream::iter([Change::Ended(Some(e.log_detail()))]).boxed(),
            }
        }))
    }

    /// Follows a host's engine events while `token` lives and asks for a fresh probe on each
    /// container, image, volume or network event. A broken stream is reopened with backoff
    /// (1 s doubling to 30 s, back to 1 s once a stream has worked).
    async fn watch_events(self, slug: String, token: CancellationToken) {
        let mut sources = self.events.subscribe();
        let mut backoff = Duration::from_secs(1);
        loop {
            let Ok(host) = self.by_slug(&slug) else {
                return;
            };
            let source = sources.borrow_and_update().clone();
            let opened = Instant::now();
            let mut events = self.snapshot_events(&host, source.as_ref());
            let mut delivered = false;
            let mut switched = false;
            loop {
                let item = tokio::select! {
                    _ = token.cancelled() => return,
                    changed = sources.changed() => {
                        if changed.is_ok() {
                            switched = true;
                            break;
                        }
                        // The fleet is gone: nothing is left to refresh.
                        return;
                    }
                    item = events.next() => item,
                };
                match item {
                    Some(Change::Seen) => {
                        delivered = true;
                        self.refresh_soon(&slug);
                    }
                    Some(Change::Shutdown) => return,
                    Some(Change::Ended(broke)) => {
                        if let Some(message) = broke {
                            tracing::debug!(host = %slug, error = %message, "the event stream broke; reopening");
                        }
                        break;
                    }
                    None => break,
                }
            }
            drop(events);
            if switched {
                continue;
            }
            // Events may have been missed while the stream was down.
            self.refresh_soon(&slug);
            if delivered || opened.elapsed() >= EVENTS_BACKOFF_MAX {
                backoff = Duration::from_secs(1);
            }
            tokio::select! {
                _ = token.cancelled() => return,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(EVENTS_BACKOFF_MAX);
        }
    }

    /// The last recorded status of a host, without probing.
    pub fn snapshot_of(&self, slug: &str) -> Option<HostStatus> {
        self.cached(slug)
    }

    fn cached(&self, slug: &str) -> Option<HostStatus> {
        self.snapshot.read().ok()?.get(slug).cloned()
    }

    /// The last known status of a host, probing it first if it was never probed.
    pub async fn known_status(&self, host: &Host) -> HostStatus {
        match self.cached(&host.slug) {
            Some(s) => s,
            None => self.status_of(host).await,
        }
    }

    /// The last known status of the given hosts, in parallel; only never-probed hosts are
    /// probed, so this answers from memory once the monitor runs.
    pub async fn known_statuses<'a>(
        &self,
        hosts: impl Iterator<Item = &'a Host>,
    ) -> Vec<HostStatus> {
        join_all(hosts.map(|h| self.known_status(h))).await
    }

    /// Keeps the snapshot fresh: one task per host, so a slow or dead engine never delays the
    /// others. An up host is probed every `interval`; a down one backs off to every two
    /// intervals, so it is seen down within two intervals and up again within two intervals of
    /// coming back. While a host is up its engine events are followed too (one stream per host,
    /// shared with the events feed through the attached hub), so a change shows in the snapshot
    /// within a second instead of at the next interval. Hosts added later get their task when
    /// added. Shared with other replicas ([`Fleet::share_with`]), a host's task probes only
    /// while this replica holds the host's lease. Ends on `shutdown`.
    pub fn spawn_monitor(&self, interval: Duration, shutdown: CancellationToken) {
        if let Ok(mut monitor) = self.monitor.lock() {
            *monitor = Some(Monitor {
                interval,
                shutdown: shutdown.clone(),
                tasks: HashMap::new(),
            });
        }
        if let Some(sharing) = self.sharing.get() {
            sharing
                .clone()
                .keep(self.clone(), interval, shutdown.clone());
            sharing.clone().listen(self.clone(), shutdown);
        }
        for host in self.hosts() {
            self.start_probe(&host.slug);
        }
    }

    fn start_probe(&self, slug: &str) {
        let Ok(mut guard) = self.monitor.lock() else {
            return;
        };
        let Some(monitor) = guard.as_mut() else {
            return;
        };
        let token = monitor.shutdown.child_token();
        if let Some(old) = monitor.tasks.insert(slug.to_string(), token.clone()) {
            old.cancel();
        }
        let interval = monitor.interval;
        drop(guard);
        let fleet = self.clone();
        let slug = slug.to_string();
        tokio::spawn(async move {
            let mut failures: u32 = 0;
            // The event watcher's token while the host is up; a child of the probe task's, so
            // removing or replacing the host ends it too.
            let mut watching: Option<CancellationToken> = None;
            loop {
                // The host as it is now: a replaced host is probed with its new engine.
                let Ok(host) = fleet.by_slug(&slug) else {
                    break;
                };
                if let Some(sharing) = fleet.sharing.get() {
                    // Subscribed before looking, so a lease gained meanwhile wakes this.
                    let mut gains = sharing.gains();
                    if !sharing.holds(&slug) {
                        // Another replica probes it and says what it saw.
                        if let Some(watcher) = watching.take() {
                            watcher.cancel();
                        }
                        failures = 0;
                        tokio::select! {
                            _ = token.cancelled() => break,
                            _ = gains.changed() => {}
                            _ = tokio::time::sleep(interval) => {}
                        }
                        continue;
                    }
                }
                let status = tokio::select! {
                    _ = token.cancelled() => break,
                    s = fleet.status_of(&host) => s,
                };
                failures = match status.health {
                    Health::Up { .. } => {
                        if watching.is_none() {
                            let child = token.child_token();
                            tokio::spawn(fleet.clone().watch_events(slug.clone(), child.clone()));
                            watching = Some(child);
                        }
                        0
                    }
                    Health::Down { .. } => {
                        if let Some(watcher) = watching.take() {
                            watcher.cancel();
                        }
                        failures.saturating_add(1)
                    }
                };
                let wait = if failures <= 1 {
                    interval
                } else {
                    interval * 2
                };
                tokio::select! {
                    _ = token.cancelled() => break,
                    _ = tokio::time::sleep(wait) => {}
                }
            }
        });
    }
}

fn log_change(previous: Option<&HostStatus>, now: &HostStatus) {
    let was_up = previous.map(|p| matches!(p.health, Health::Up { .. }));
    match (&now.health, was_up) {
        (Health::Up { .. }, Some(false)) => tracing::info!(host = %now.slug, "engine is up again"),
        (Health::Up { .. }, None) => tracing::info!(host = %now.slug, "engine is up"),
        (Health::Down { error }, Some(true) | None) => {
            tracing::warn!(host = %now.slug, %error, "engine is down")
        }
        _ => {}
    }
}
