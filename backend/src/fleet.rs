//! The hosts Capstan manages, the fan-out over them, and the health monitor that keeps a
//! snapshot of every host so pages read it instead of calling every engine per request. The
//! stored host registry arrives with the hosts issue; today the fleet is the configured engines.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use futures::future::join_all;
use tokio_util::sync::CancellationToken;

use crate::engine::{Engine, EngineSpec, EngineSummary, Timeouts};
use crate::error::{Error, Result};

/// A host slug: `[a-z0-9][a-z0-9-]{0,62}` (api.md).
pub fn validate_slug(slug: &str) -> Result<()> {
    let mut chars = slug.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if first_ok && rest_ok && slug.len() <= 63 {
        Ok(())
    } else {
        Err(Error::invalid(
            "slug",
            "use 1 to 63 lowercase letters, digits and dashes, starting with a letter or digit",
        ))
    }
}

#[derive(Debug, Clone)]
pub struct HostConfig {
    pub slug: String,
    pub name: String,
    pub engine: EngineSpec,
}

#[derive(Clone)]
pub struct Host {
    pub slug: String,
    pub name: String,
    pub engine: Engine,
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
}

#[derive(Debug, Clone)]
pub enum Health {
    Up { summary: EngineSummary, latency: Duration },
    Down { error: String },
}

#[derive(Clone)]
pub struct Fleet {
    hosts: Arc<Vec<Host>>,
    deadline: Duration,
    /// The latest status of each host, by slug, written by probes (the monitor's or a refresh).
    snapshot: Arc<RwLock<HashMap<String, HostStatus>>>,
}

impl Fleet {
    /// `deadline` bounds how long one host may hold up a fleet-wide answer.
    pub fn new(configs: Vec<HostConfig>, timeouts: Timeouts, deadline: Duration) -> Result<Self> {
        let mut hosts: Vec<Host> = Vec::with_capacity(configs.len());
        for c in configs {
            validate_slug(&c.slug)?;
            c.engine.validate()?;
            if hosts.iter().any(|h| h.slug == c.slug) {
                return Err(Error::Conflict(format!("host {} is configured twice", c.slug)));
            }
            hosts.push(Host { slug: c.slug, name: c.name, engine: Engine::new(c.engine, timeouts) });
        }
        Ok(Fleet { hosts: Arc::new(hosts), deadline, snapshot: Arc::default() })
    }

    /// How long one host may hold up a fleet-wide answer.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn host(&self, slug: &str) -> Result<&Host> {
        self.hosts.iter().find(|h| h.slug == slug).ok_or_else(|| Error::NotFound("host".into()))
    }

    /// Probes every host now, in parallel; a host that fails or passes the deadline is `Down`,
    /// and never delays the others beyond the deadline. The snapshot is updated.
    pub async fn statuses(&self) -> Vec<HostStatus> {
        join_all(self.hosts.iter().map(|h| self.status_of(h))).await
    }

    /// Probes one host now and records the result in the snapshot.
    pub async fn status_of(&self, host: &Host) -> HostStatus {
        let probe = tokio::time::timeout(self.deadline, host.engine.probe())
            .await
            .unwrap_or(Err(Error::EngineTimeout));
        let now = crate::store::now();
        let previous = self.cached(&host.slug);
        let (health, last_seen) = match probe {
            Ok(p) => (Health::Up { summary: p.summary, latency: p.latency }, Some(now)),
            Err(e) => {
                tracing::debug!(host = %host.slug, error = %e.log_detail(), "engine probe failed");
                (Health::Down { error: e.public_message() }, previous.as_ref().and_then(|p| p.last_seen))
            }
        };
        let spec = host.engine.spec();
        let status = HostStatus {
            slug: host.slug.clone(),
            name: host.name.clone(),
            url: spec.url.clone(),
            tls: spec.tls.is_some(),
            health,
            checked_at: now,
            last_seen,
        };
        log_change(previous.as_ref(), &status);
        if let Ok(mut map) = self.snapshot.write() {
            map.insert(host.slug.clone(), status.clone());
        }
        status
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
    pub async fn known_statuses<'a>(&self, hosts: impl Iterator<Item = &'a Host>) -> Vec<HostStatus> {
        join_all(hosts.map(|h| self.known_status(h))).await
    }

    /// Keeps the snapshot fresh: one task per host, so a slow or dead engine never delays the
    /// others. An up host is probed every `interval`; a down one backs off to every two
    /// intervals, so it is seen down within two intervals and up again within two intervals of
    /// coming back. Ends on `shutdown`.
    pub fn spawn_monitor(&self, interval: Duration, shutdown: CancellationToken) {
        for index in 0..self.hosts.len() {
            let fleet = self.clone();
            let shutdown = shutdown.clone();
            tokio::spawn(async move {
                let mut failures: u32 = 0;
                loop {
                    let host = &fleet.hosts[index];
                    let status = tokio::select! {
                        _ = shutdown.cancelled() => break,
                        s = fleet.status_of(host) => s,
                    };
                    failures = match status.health {
                        Health::Up { .. } => 0,
                        Health::Down { .. } => failures.saturating_add(1),
                    };
                    let wait = if failures <= 1 { interval } else { interval * 2 };
                    tokio::select! {
                        _ = shutdown.cancelled() => break,
                        _ = tokio::time::sleep(wait) => {}
                    }
                }
            });
        }
    }
}

fn log_change(previous: Option<&HostStatus>, now: &HostStatus) {
    let was_up = previous.map(|p| matches!(p.health, Health::Up { .. }));
    match (&now.health, was_up) {
        (Health::Up { .. }, Some(false)) => tracing::info!(host = %now.slug, "engine is up again"),
        (Health::Up { .. }, None) => tracing::info!(host = %now.slug, "engine is up"),
        (Health::Down { error }, Some(true) | None) => tracing::warn!(host = %now.slug, %error, "engine is down"),
        _ => {}
    }
}
