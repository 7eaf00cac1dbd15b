//! The hosts Capstan manages and the fan-out over them. The background health monitor and the
//! stored host registry arrive with the hosts issue; today the fleet is the configured engines.

use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;

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
        Ok(Fleet { hosts: Arc::new(hosts), deadline })
    }

    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    pub fn host(&self, slug: &str) -> Result<&Host> {
        self.hosts.iter().find(|h| h.slug == slug).ok_or_else(|| Error::NotFound("host".into()))
    }

    /// Probes every host in parallel; a host that fails or passes the deadline is `Down`, and
    /// never delays the others beyond the deadline.
    pub async fn statuses(&self) -> Vec<HostStatus> {
        join_all(self.hosts.iter().map(|h| self.status_of(h))).await
    }

    pub async fn status_of(&self, host: &Host) -> HostStatus {
        let probe = tokio::time::timeout(self.deadline, host.engine.probe())
            .await
            .unwrap_or(Err(Error::EngineTimeout));
        let health = match probe {
            Ok(p) => Health::Up { summary: p.summary, latency: p.latency },
            Err(e) => {
                tracing::debug!(host = %host.slug, error = %e.log_detail(), "engine probe failed");
                Health::Down { error: e.public_message() }
            }
        };
        let spec = host.engine.spec();
        HostStatus {
            slug: host.slug.clone(),
            name: host.name.clone(),
            url: spec.url.clone(),
            tls: spec.tls.is_some(),
            health,
        }
    }
}
