//! Guardrails: per host, what non-admins may ask of the engine when they create or recreate a
//! container. Everything is refused until an admin allows it: privileged containers, bind
//! mounts of host paths (never, under listed prefixes, or any), the host's network, PID or IPC
//! namespace, added capabilities, and devices.
//!
//! Enforcement lives in the engine's create and recreate paths
//! (`Engine::run_container_within`, `Engine::recreate_container_within`), which turn what the
//! engine would be asked into a [`Requested`] — including named volumes whose `local` driver
//! options amount to a bind mount — and ask [`Guardrails::check`].
//!
//! `volumes_from` is allowed whatever the source container mounts: those mounts were vetted
//! when that container was made, and anyone who may create containers on the host may already
//! exec into it and reach the same files, so refusing it would protect nothing.

use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use sqlx::{Row, SqlitePool};

use crate::error::{Error, Result};
use crate::policy::Principal;
use crate::store::{internal, now};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindMounts {
    #[default]
    Never,
    /// Only host paths under one of `bind_prefixes`.
    Prefixes,
    Any,
}

impl BindMounts {
    fn as_str(self) -> &'static str {
        match self {
            BindMounts::Never => "never",
            BindMounts::Prefixes => "prefixes",
            BindMounts::Any => "any",
        }
    }

    fn parse(s: &str) -> BindMounts {
        match s {
            "prefixes" => BindMounts::Prefixes,
            "any" => BindMounts::Any,
            _ => BindMounts::Never,
        }
    }
}

/// A host's guardrails; the default refuses everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Guardrails {
    pub privileged: bool,
    pub bind_mounts: BindMounts,
    pub bind_prefixes: Vec<String>,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    pub cap_add: bool,
    pub devices: bool,
}

/// What a create or recreate would ask of the engine, in the words the guardrails judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requested {
    pub privileged: bool,
    /// Host paths that would be mounted: bind mounts, and the devices of `local` volumes
    /// created with `o=bind` or `type=none`.
    pub bind_sources: Vec<String>,
    pub network_mode: Option<String>,
    pub pid_mode: Option<String>,
    pub ipc_mode: Option<String>,
    pub cap_add: Vec<String>,
    pub devices: Vec<String>,
}

fn refuse(what: &str) -> Error {
    Error::Denied(format!(
        "{what} is not allowed on this host for non-admins (guardrails; ask an admin)"
    ))
}

/// `/srv/data/../etc` → `/etc`; `None` for a relative path.
fn normalize(path: &str) -> Option<String> {
    let p = Path::new(path);
    if !p.is_absolute() {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    Some(format!("/{}", parts.join("/")))
}

fn under(path: &str, prefix: &str) -> bool {
    let (Some(path), Some(prefix)) = (normalize(path), normalize(prefix)) else {
        return false;
    };
    prefix == "/" || path == prefix || path.starts_with(&format!("{prefix}/"))
}

impl Guardrails {
    /// Checks every field, naming the first that is wrong.
    pub fn validate(&mut self) -> Result<()> {
        let mut prefixes = Vec::new();
        for p in &self.bind_prefixes {
            let p = p.trim();
            let n = normalize(p).ok_or_else(|| {
                Error::invalid("bind_prefixes", format!("{p:?} must be an absolute path"))
            })?;
            if p.contains('\0') || p.len() > 4096 {
                return Err(Error::invalid(
                    "bind_prefixes",
                    "a prefix may not contain NUL or exceed 4096 bytes",
                ));
            }
            if !prefixes.contains(&n) {
                prefixes.push(n);
            }
        }
        if self.bind_mounts == BindMounts::Prefixes && prefixes.is_empty() {
            return Err(Error::invalid(
                "bind_prefixes",
                "list at least one path when bind mounts are allowed under prefixes",
            ));
        }
        self.bind_prefixes = prefixes;
        Ok(())
    }

    /// Whether a non-admin may ask for `r`; the refusal names the guardrail.
    pub fn check(&self, r: &Requested) -> Result<()> {
        if r.privileged && !self.privileged {
            return Err(refuse("a privileged container"));
        }
        if !r.cap_add.is_empty() && !self.cap_add {
            return Err(refuse(&format!(
                "adding capabilities ({})",
                r.cap_add.join(", ")
            )));
        }
        if !r.devices.is_empty() && !self.devices {
            return Err(refuse(&format!(
                "adding devices ({})",
                r.devices.join(", ")
            )));
        }
        if r.network_mode.as_deref() == Some("host") && !self.host_network {
            return Err(refuse("the host's network namespace (network: host)"));
        }
        if r.pid_mode.as_deref() == Some("host") && !self.host_pid {
            return Err(refuse("the host's PID namespace (pid: host)"));
        }
        if r.ipc_mode.as_deref() == Some("host") && !self.host_ipc {
            return Err(refuse("the host's IPC namespace (ipc: host)"));
        }
        for source in &r.bind_sources {
            let allowed = match self.bind_mounts {
                BindMounts::Any => true,
                BindMounts::Never => false,
                BindMounts::Prefixes => self.bind_prefixes.iter().any(|p| under(source, p)),
            };
            if !allowed {
                let rule = if self.bind_mounts == BindMounts::Prefixes {
                    format!(
                        "a bind mount of {source} (only under {})",
                        self.bind_prefixes.join(", ")
                    )
                } else {
                    format!("a bind mount of the host path {source}")
                };
                return Err(refuse(&rule));
            }
        }
        Ok(())
    }
}

/// Reads and writes hosts' guardrails.
#[derive(Clone)]
pub struct GuardrailStore {
    pool: SqlitePool,
}

impl GuardrailStore {
    pub fn new(pool: SqlitePool) -> Self {
        GuardrailStore { pool }
    }

    /// The host's guardrails (everything refused when none were set).
    pub async fn get(&self, host: &str) -> Result<Guardrails> {
        let row = sqlx::query(
            "SELECT privileged, bind_mounts, bind_prefixes, host_network, host_pid, host_ipc, cap_add, devices
             FROM host_guardrails WHERE host = ?",
        )
        .bind(host)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        let Some(r) = row else {
            return Ok(Guardrails::default());
        };
        Ok(Guardrails {
            privileged: r.get(0),
            bind_mounts: BindMounts::parse(r.get::<&str, _>(1)),
            bind_prefixes: serde_json::from_str(r.get::<&str, _>(2)).unwrap_or_default(),
            host_network: r.get(3),
            host_pid: r.get(4),
            host_ipc: r.get(5),
            cap_add: r.get(6),
            devices: r.get(7),
        })
    }

    /// Sets the host's guardrails (the caller checks the host exists).
    pub async fn set(&self, host: &str, mut g: Guardrails) -> Result<Guardrails> {
        g.validate()?;
        let prefixes = serde_json::to_string(&g.bind_prefixes).map_err(internal)?;
        sqlx::query(
            "INSERT INTO host_guardrails (host, privileged, bind_mounts, bind_prefixes, host_network, host_pid, host_ipc, cap_add, devices, updated_at)
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (host) DO UPDATE SET privileged = excluded.privileged, bind_mounts = excluded.bind_mounts,
               bind_prefixes = excluded.bind_prefixes, host_network = excluded.host_network, host_pid = excluded.host_pid,
               host_ipc = excluded.host_ipc, cap_add = excluded.cap_add, devices = excluded.devices, updated_at = excluded.updated_at",
        )
        .bind(host)
        .bind(g.privileged)
        .bind(g.bind_mounts.as_str())
        .bind(prefixes)
        .bind(g.host_network)
        .bind(g.host_pid)
        .bind(g.host_ipc)
        .bind(g.cap_add)
        .bind(g.devices)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        Ok(g)
    }

    /// The limits for this person on this host: `None` for admins (no limits).
    pub async fn limits_for(&self, who: &Principal, host: &str) -> Result<Option<Guardrails>> {
        if who.admin {
            Ok(None)
        } else {
            self.get(host).await.map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_is_refused_by_default_and_named() {
        let g = Guardrails::default();
        let cases = [
            (
                Requested {
                    privileged: true,
                    ..Default::default()
                },
                "privileged",
            ),
            (
                Requested {
                    cap_add: vec!["NET_ADMIN".into()],
                    ..Default::default()
                },
                "capabilities",
            ),
            (
                Requested {
                    devices: vec!["/dev/fuse".into()],
                    ..Default::default()
                },
                "devices",
            ),
            (
                Requested {
                    network_mode: Some("host".into()),
                    ..Default::default()
                },
                "network",
            ),
            (
                Requested {
                    pid_mode: Some("host".into()),
                    ..Default::default()
                },
                "PID",
            ),
            (
                Requested {
                    ipc_mode: Some("host".into()),
                    ..Default::default()
                },
                "IPC",
            ),
            (
                Requested {
                    bind_sources: vec!["/etc".into()],
                    ..Default::default()
                },
                "bind mount",
            ),
        ];
        for (r, word) in cases {
            match g.check(&r) {
                Err(Error::Denied(m)) => assert!(m.contains(word), "{m} names {word}"),
                other => panic!("{r:?} should be refused, got {other:?}"),
            }
        }
        assert!(g
            .check(&Requested {
                network_mode: Some("bridge".into()),
                ..Default::default()
            })
            .is_ok());
    }

    #[test]
    fn prefixes_cannot_be_escaped_with_dot_dot() {
        let mut g = Guardrails {
            bind_mounts: BindMounts::Prefixes,
            bind_prefixes: vec!["/srv/data/".into()],
            ..Default::default()
        };
        g.validate().expect("valid");
        let ok = |p: &str| {
            g.check(&Requested {
                bind_sources: vec![p.into()],
                ..Default::default()
            })
            .is_ok()
        };
        assert!(ok("/srv/data") && ok("/srv/data/app") && ok("/srv/data/x/../y"));
        assert!(!ok("/srv/database") && !ok("/srv/data/../../etc") && !ok("/etc"));
        let mut bad = Guardrails {
            bind_mounts: BindMounts::Prefixes,
            ..Default::default()
        };
        assert!(matches!(bad.validate(), Err(Error::Invalid { .. })));
        let mut relative = Guardrails {
            bind_prefixes: vec!["srv".into()],
            ..Default::default()
        };
        assert!(matches!(relative.validate(), Err(Error::Invalid { .. })));
    }
}
