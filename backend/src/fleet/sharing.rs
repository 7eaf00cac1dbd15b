//! Host monitoring shared by the replicas on one PostgreSQL: each host is probed (and its
//! events followed) by one replica only, the one holding the host's lease, which tells the
//! others what it saw over the database's notifications. A lease lasts one monitor interval
//! and is renewed three times per interval; when its holder dies, another replica takes it
//! over within an interval and a third and probes at once, so a host is never left unwatched
//! for longer than two intervals. The hosts are dealt out evenly among the live replicas (each
//! holds a lease of its own presence): one that joins gets its share within a few turns, as
//! the others let go of the hosts that fall to it. On SQLite there is nothing to share: one
//! process serves it.
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

/// The database's clock, in milliseconds.
const NOW: &str = "(EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT";

/// Each live replica holds a lease named after itself: the replicas share the hosts out.
const PRESENCE: &str = "replica:";

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

/// What the lease keeper remembers from one turn to the next.
struct Turn {
    interval: Duration,
    /// The live replicas, sorted, as the last turn saw them.
    live: Vec<String>,
    /// Hosts that fall to another replica, since when (reset when the replicas change).
    waiting: HashMap<String, Instant>,
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

    /// Holds and renews the leases of the fleet's hosts until `shutdown`, sharing them out
    /// evenly among the live replicas: each turn this replica says it is alive, takes and
    /// renews the leases of the hosts that fall to it ([`deal`]), lets go of those that fall
    /// to another live replica (which takes them on its next turn), and drops those of hosts
    /// that are gone. A host that falls to a replica that does not take it (its fleet lacks the
    /// host) is taken, once it has waited an interval, by one that has it.
    pub(super) fn keep(
        self: Arc<Self>,
        fleet: Fleet,
        interval: Duration,
        shutdown: CancellationToken,
    ) {
        let pause = (interval / 3).max(Duration::from_millis(50));
        tokio::spawn(async move {
            let mut failing = false;
            let mut turn = Turn {
                interval,
                live: Vec::new(),
                waiting: HashMap::new(),
            };
            loop {
                let asked = Instant::now();
                match self.turn(&fleet, &mut turn).await {
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
                    _ = tokio::time::sleep(pause) => {}
                }
            }
        });
    }

    /// One turn; returns the leases this replica holds now.
    async fn turn(&self, fleet: &Fleet, turn: &mut Turn) -> sqlx::Result<Vec<String>> {
        let mut live: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT substr(name, {}) FROM leases WHERE name LIKE '{PRESENCE}%' AND expires_at >= {NOW}",
            PRESENCE.len() + 1
        ))
        .fetch_all(&self.pool)
        .await?;
        if !live.contains(&self.holder) {
            live.push(self.holder.clone());
        }
        live.sort();
        if live != turn.live {
            // Replicas came or went: the hosts are dealt out again.
            turn.waiting.clear();
            turn.live = live;
        }
        let slugs: Vec<String> = fleet.hosts().into_iter().map(|h| h.slug).collect();
        let now = Instant::now();
        let (mut mine, mut others) = (Vec::new(), Vec::new());
        for (slug, to) in deal(&slugs, &turn.live) {
            let takes = to == self.holder
                || now.duration_since(*turn.waiting.entry(slug.clone()).or_insert(now))
                    >= turn.interval;
            if takes { &mut mine } else { &mut others }.push(slug.clone());
        }
        turn.waiting.retain(|slug, _| slugs.contains(slug));
        let ttl = i64::try_from(turn.interval.as_millis()).unwrap_or(i64::MAX);
        self.claim(&mine, &others, ttl).await
    }

    /// Takes (when free) or renews the leases of `mine` and this replica's presence, lets go of
    /// those of `others`, drops those of hosts in neither; returns the leases held.
    async fn claim(
        &self,
        mine: &[String],
        others: &[String],
        ttl: i64,
    ) -> sqlx::Result<Vec<String>> {
        let named = |slugs: &[String]| -> Vec<String> {
            let mut names: Vec<String> = slugs.iter().map(|s| format!("{PREFIX}{s}")).collect();
            // Rows are locked in the order of the names, the same on every replica.
            names.sort();
            names
        };
        let mut wanted = named(mine);
        wanted.insert(0, format!("{PRESENCE}{}", self.holder));
        let others = named(others);
        // Hosts in neither list are gone from this replica; those in `others` are another's.
        sqlx::query(&format!(
            "WITH gone AS (DELETE FROM leases WHERE holder = $1 AND name LIKE '{PREFIX}%' \
               AND NOT (name = ANY($2)) AND NOT (name = ANY($3))) \
             UPDATE leases SET expires_at = {NOW} WHERE holder = $1 AND name = ANY($3)"
        ))
        .bind(&self.holder)
        .bind(&wanted)
        .bind(&others)
        .execute(&self.pool)
        .await?;
        sqlx::query_scalar(&format!(
            "INSERT INTO leases (name, holder, expires_at) \
             SELECT n, $1, {NOW} + $2 FROM unnest($3::TEXT[]) AS n \
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at \
             WHERE leases.holder = EXCLUDED.holder OR leases.expires_at < {NOW} \
             RETURNING name"
        ))
        .bind(&self.holder)
        .bind(ttl)
        .bind(&wanted)
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

/// Which live replica (of `live`, sorted) monitors each host (of `slugs`): the hosts, sorted,
/// dealt out in turn, so each replica has as many as another, give or take one. Replicas that
/// see the same hosts and the same replicas agree. In the hosts' order.
fn deal<'a, 'b>(slugs: &'a [String], live: &'b [String]) -> Vec<(&'a String, &'b str)> {
    let mut sorted: Vec<&String> = slugs.iter().collect();
    sorted.sort();
    sorted
        .into_iter()
        .enumerate()
        .map(|(at, slug)| {
            let to = live.get(at % live.len().max(1)).map_or("", String::as_str);
            (slug, to)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::deal;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn hosts_are_dealt_out_evenly_and_the_same_everywhere() {
        let live = strings(&["r1", "r2"]);
        let hosts = strings(&["c", "a", "b"]);
        let to: Vec<(&str, &str)> = deal(&hosts, &live)
            .into_iter()
            .map(|(h, r)| (h.as_str(), r))
            .collect();
        assert_eq!(to, [("a", "r1"), ("b", "r2"), ("c", "r1")]);
        assert_eq!(deal(&hosts, &strings(&["r1"]))[0], (&"a".to_string(), "r1"));
    }
}
