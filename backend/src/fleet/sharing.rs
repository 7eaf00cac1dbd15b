//! Host monitoring shared by the replicas on one PostgreSQL: each host is probed (and its
//! events followed) by one replica only, the one holding the host's lease, which tells the
//! others what it saw over the database's notifications. A lease lasts one monitor interval
//! and is renewed three times per interval; when its holder dies, another replica takes it
//! over within an interval and a third and probes at once, so a host is never left unwatched
//! for longer than two intervals. On SQLite there is nothing to share: one process serves it.
//!
//! Time is the database's clock, so replicas' clocks need not agree; a replica that cannot
//! reach the database stops counting a lease as its own when its interval is up (by its own
//! clock, started before it asked), before any other replica may take it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgPool;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::{Fleet, Health, HostStatus};
use crate::engine::EngineSummary;
use crate::store::Store;

/// The lease of a host's monitor is named after the host.
const PREFIX: &str = "monitor:";

/// The most a notification may carry (PostgreSQL takes just under 8000 bytes).
const MAX_TOLD: usize = 7800;

/// What the monitoring replica tells the others after each probe.
#[derive(Debug, Serialize, Deserialize)]
struct Seen {
    slug: String,
    /// The engine it probed: a replica that has the host at another address ignores it.
    url: String,
    summary: Option<EngineSummary>,
    latency_us: u64,
    error: Option<String>,
    checked_at: i64,
    last_seen: Option<i64>,
}

pub struct Sharing {
    store: Store,
    pool: PgPool,
    holder: String,
    /// Hosts whose lease this replica holds, until when (its own clock).
    held: Mutex<HashMap<String, Instant>>,
    /// Bumped when this replica gains a lease, so that host's probe starts at once.
    gained: watch::Sender<u64>,
}

impl Sharing {
    /// `None` on SQLite.
    pub(super) fn new(store: &Store) -> Option<Sharing> {
        Some(Sharing {
            pool: store.postgres()?.clone(),
            store: store.clone(),
            holder: format!("{:016x}", store.replica()),
            held: Mutex::default(),
            gained: watch::channel(0).0,
        })
    }

    /// Whether this replica monitors `slug` now.
    pub(super) fn holds(&self, slug: &str) -> bool {
        self.held
            .lock()
            .ok()
            .and_then(|held| held.get(slug).copied())
            .is_some_and(|until| until > Instant::now())
    }

    /// The hosts this replica monitors now, by slug, sorted.
    pub(super) fn held(&self) -> Vec<String> {
        let now = Instant::now();
        let mut slugs: Vec<String> = self
            .held
            .lock()
            .map(|held| {
                held.iter()
                    .filter(|(_, until)| **until > now)
                    .map(|(slug, _)| slug.clone())
                    .collect()
            })
            .unwrap_or_default();
        slugs.sort();
        slugs
    }

    pub(super) fn gains(&self) -> watch::Receiver<u64> {
        self.gained.subscribe()
    }

    /// Tells the other replicas what a probe of a host this replica monitors found.
    pub(super) fn publish(&self, status: &HostStatus) {
        let (summary, latency_us, error) = match &status.health {
            Health::Up { summary, latency } => (
                Some(summary.clone()),
                u64::try_from(latency.as_micros()).unwrap_or(u64::MAX),
                None,
            ),
            Health::Down { error } => (None, 0, Some(error.clone())),
        };
        let seen = Seen {
            slug: status.slug.clone(),
            url: status.url.clone(),
            summary,
            latency_us,
            error,
            checked_at: status.checked_at,
            last_seen: status.last_seen,
        };
        match serde_json::to_string(&seen) {
            Ok(told) if told.len() <= MAX_TOLD => self.store.tell_health(told),
            Ok(_) => {
                tracing::warn!(host = %status.slug, "what the engine says of itself is too long to tell the other replicas")
            }
            Err(e) => tracing::warn!(host = %status.slug, error = %e, "telling the other replicas"),
        }
    }

    /// Holds and renews the leases of the fleet's hosts until `shutdown`: every lease no live
    /// replica holds is taken, every lease of this replica renewed, those of hosts that are
    /// gone let go, in one statement per turn.
    pub(super) fn keep(
        self: Arc<Self>,
        fleet: Fleet,
        interval: Duration,
        shutdown: CancellationToken,
    ) {
        let turn = (interval / 3).max(Duration::from_millis(50));
        let ttl = i64::try_from(interval.as_millis()).unwrap_or(i64::MAX);
        tokio::spawn(async move {
            let mut failing = false;
            loop {
                let mut wanted: Vec<String> = fleet
                    .hosts()
                    .iter()
                    .map(|h| format!("{PREFIX}{}", h.slug))
                    .collect();
                wanted.sort();
                let asked = Instant::now();
                match self.claim(&wanted, ttl).await {
                    Ok(names) => {
                        if failing {
                            tracing::info!("host leases are renewed again");
                            failing = false;
                        }
                        self.now_holding(names, asked + interval);
                    }
                    Err(e) => {
                        if !failing {
                            tracing::warn!(error = %e, "renewing this replica's host leases; its hosts go to other replicas if this lasts");
                            failing = true;
                        }
                    }
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(turn) => {}
                }
            }
        });
    }

    async fn claim(&self, wanted: &[String], ttl: i64) -> sqlx::Result<Vec<String>> {
        // The database's clock, in milliseconds.
        const NOW: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";
        // Rows are locked in the order of the (sorted) names, the same on every replica.
        let sql = format!(
            "WITH gone AS (DELETE FROM leases WHERE holder = $1 AND name LIKE '{PREFIX}%' \
               AND NOT (name = ANY($3))) \
             INSERT INTO leases (name, holder, expires_at) \
             SELECT n, $1, {NOW} + $2 FROM unnest($3::TEXT[]) AS n \
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at \
             WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < {NOW} \
             RETURNING name"
        );
        sqlx::query_scalar(&sql)
            .bind(&self.holder)
            .bind(ttl)
            .bind(wanted)
            .fetch_all(&self.pool)
            .await
    }

    fn now_holding(&self, names: Vec<String>, until: Instant) {
        let Ok(mut held) = self.held.lock() else {
            return;
        };
        let now = Instant::now();
        let mut gained = false;
        let mut next = HashMap::with_capacity(names.len());
        for name in names {
            let Some(slug) = name.strip_prefix(PREFIX) else {
                continue;
            };
            if held.get(slug).is_none_or(|was| *was <= now) {
                tracing::info!(host = %slug, "this replica monitors the host now");
                gained = true;
            }
            next.insert(slug.to_string(), until);
        }
        for slug in held.keys() {
            if !next.contains_key(slug) {
                tracing::info!(host = %slug, "another replica monitors the host now");
            }
        }
        *held = next;
        drop(held);
        if gained {
            self.gained.send_modify(|n| *n += 1);
        }
    }

    /// Puts what the other replicas tell of the hosts they monitor into this replica's
    /// snapshot, until `shutdown`.
    pub(super) fn listen(self: Arc<Self>, fleet: Fleet, shutdown: CancellationToken) {
        let mut heard = self.store.health_heard();
        tokio::spawn(async move {
            loop {
                let told = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    told = heard.recv() => told,
                };
                let told = match told {
                    Ok(told) => told,
                    // The next probe of each host says it again.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                let Ok(seen) = serde_json::from_str::<Seen>(&told) else {
                    tracing::debug!("a replica told something this one does not read");
                    continue;
                };
                if self.holds(&seen.slug) {
                    continue;
                }
                let health = match (seen.summary, seen.error) {
                    (Some(summary), _) => Health::Up {
                        summary,
                        latency: Duration::from_micros(seen.latency_us),
                    },
                    (None, error) => Health::Down {
                        error: error.unwrap_or_default(),
                    },
                };
                fleet.observed(
                    &seen.slug,
                    &seen.url,
                    health,
                    seen.checked_at,
                    seen.last_seen,
                );
            }
        });
    }

    /// Lets this replica's leases go (a clean stop), so the others take its hosts at once.
    pub(super) async fn release(&self) {
        if let Ok(mut held) = self.held.lock() {
            held.clear();
        }
        if let Err(e) = sqlx::query("DELETE FROM leases WHERE holder = $1")
            .bind(&self.holder)
            .execute(&self.pool)
            .await
        {
            tracing::warn!(error = %e, "letting this replica's host leases go");
        }
    }
}
