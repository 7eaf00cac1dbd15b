//! Teams and the audit log, as the REST API and the pages see them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemberView {
    pub user_id: i64,
    pub username: String,
}

/// `GET /api/v1/teams` items and `GET /api/v1/teams/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TeamView {
    pub id: i64,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    pub members: Vec<MemberView>,
}

/// `POST /api/v1/teams` and `PATCH /api/v1/teams/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    pub name: String,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditEntryView {
    pub id: i64,
    /// Unix seconds.
    pub at: i64,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub client: Option<String>,
    pub host: Option<String>,
    pub object: Option<String>,
    /// e.g. `container.stop`, `session.login`, `user.create`.
    pub action: String,
    /// The parameters that matter, secrets replaced by `"[redacted]"`.
    pub params: serde_json::Value,
    pub status: u16,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
}

#[cfg(feature = "ssr")]
impl From<backend::audit::Entry> for AuditEntryView {
    fn from(e: backend::audit::Entry) -> Self {
        let r = e.record;
        AuditEntryView {
            id: e.id,
            at: r.at,
            user_id: r.user_id,
            username: r.username,
            client: r.client,
            host: r.host,
            object: r.object,
            action: r.action,
            params: r.params,
            status: r.status,
            outcome: r.outcome.as_str().to_string(),
        }
    }
}

/// `GET /api/v1/audit`: newest first; pass `next_before` as `before` for the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct AuditPageView {
    pub entries: Vec<AuditEntryView>,
    pub next_before: Option<i64>,
}

/// `GET|PUT /api/v1/audit/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AuditSettingsView {
    pub retention_days: u32,
}

/// May non-admins bind-mount host paths?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum BindMountsView {
    #[default]
    Never,
    /// Only under `bind_prefixes`.
    Prefixes,
    Any,
}

/// `GET|PUT /api/v1/hosts/{host}/guardrails`: what non-admins may ask of this host's engine.
/// Everything is refused by default.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct GuardrailsView {
    pub privileged: bool,
    pub bind_mounts: BindMountsView,
    pub bind_prefixes: Vec<String>,
    /// Binds under `bind_prefixes` may be writable (else they are mounted read-only).
    pub bind_writable: bool,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    /// Capabilities non-admins may add. Older scripts' `true` means the common set
    /// (`backend::guardrails::COMMON_CAPS`), `false` none.
    #[serde(deserialize_with = "list_or_flag::caps")]
    pub cap_add: Vec<String>,
    /// Host devices (or device cgroup rules) non-admins may map; `true` means `/dev/fuse`.
    #[serde(deserialize_with = "list_or_flag::devices")]
    pub devices: Vec<String>,
    /// Volume drivers other than `local` non-admins may use.
    pub volume_drivers: Vec<String>,
    /// Network drivers other than `bridge` and `overlay` non-admins may use.
    pub network_drivers: Vec<String>,
    /// Viewers and operators see the values of containers' environment variables (else only
    /// the names; admins and the host's managers always see them).
    #[serde(default)]
    pub env_visible: bool,
}

/// The marker an old `cap_add: true` becomes until the server expands it.
pub const COMMON_CAPS_MARKER: &str = "(common)";

mod list_or_flag {
    use serde::{Deserialize, Deserializer};

    #[derive(Deserialize)]
    #[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
    #[serde(untagged)]
    enum ListOrFlag {
        Flag(bool),
        List(Vec<String>),
    }

    fn read<'de, D: Deserializer<'de>>(d: D, yes: &[&str]) -> Result<Vec<String>, D::Error> {
        Ok(match ListOrFlag::deserialize(d)? {
            ListOrFlag::Flag(true) => yes.iter().map(|s| s.to_string()).collect(),
            ListOrFlag::Flag(false) => Vec::new(),
            ListOrFlag::List(l) => l,
        })
    }

    pub fn caps<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        read(d, &[super::COMMON_CAPS_MARKER])
    }

    pub fn devices<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
        read(d, &["/dev/fuse"])
    }
}

/// `/hosts/:host/access`: the host's grants, the teams and users one may grant, and its
/// guardrails.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostAccessView {
    pub host: String,
    pub grants: Vec<crate::model::GrantView>,
    pub teams: Vec<TeamView>,
    pub users: Vec<crate::model::UserView>,
    pub guardrails: GuardrailsView,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

    impl From<backend::guardrails::Guardrails> for GuardrailsView {
        fn from(g: backend::guardrails::Guardrails) -> Self {
            use backend::guardrails::BindMounts;
            GuardrailsView {
                privileged: g.privileged,
                bind_mounts: match g.bind_mounts {
                    BindMounts::Never => BindMountsView::Never,
                    BindMounts::Prefixes => BindMountsView::Prefixes,
                    BindMounts::Any => BindMountsView::Any,
                },
                bind_prefixes: g.bind_prefixes,
                bind_writable: g.bind_writable,
                host_network: g.host_network,
                host_pid: g.host_pid,
                host_ipc: g.host_ipc,
                cap_add: g.cap_add,
                devices: g.devices,
                volume_drivers: g.volume_drivers,
                network_drivers: g.network_drivers,
                env_visible: g.env_visible,
            }
        }
    }

    impl From<GuardrailsView> for backend::guardrails::Guardrails {
        fn from(v: GuardrailsView) -> Self {
            use backend::guardrails::BindMounts;
            let cap_add = v
                .cap_add
                .into_iter()
                .flat_map(|c| {
                    if c == COMMON_CAPS_MARKER {
                        backend::guardrails::COMMON_CAPS
                            .iter()
                            .map(|s| s.to_string())
                            .collect()
                    } else {
                        vec![c]
                    }
                })
                .collect();
            backend::guardrails::Guardrails {
                privileged: v.privileged,
                bind_mounts: match v.bind_mounts {
                    BindMountsView::Never => BindMounts::Never,
                    BindMountsView::Prefixes => BindMounts::Prefixes,
                    BindMountsView::Any => BindMounts::Any,
                },
                bind_prefixes: v.bind_prefixes,
                bind_writable: v.bind_writable,
                host_network: v.host_network,
                host_pid: v.host_pid,
                host_ipc: v.host_ipc,
                cap_add,
                devices: v.devices,
                volume_drivers: v.volume_drivers,
                network_drivers: v.network_drivers,
                env_visible: v.env_visible,
            }
        }
    }

    impl From<backend::teams::Team> for TeamView {
        fn from(t: backend::teams::Team) -> Self {
            TeamView {
                id: t.id,
                name: t.name,
                created_at: t.created_at,
                members: t
                    .members
                    .into_iter()
                    .map(|m| MemberView {
                        user_id: m.user_id,
                        username: m.username,
                    })
                    .collect(),
            }
        }
    }
}
