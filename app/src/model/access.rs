//! Teams and the audit log, as the REST API and the pages see them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: i64,
    pub username: String,
}

/// `GET /api/v1/teams` items and `GET /api/v1/teams/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TeamView {
    pub id: i64,
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    pub members: Vec<MemberView>,
}

/// `POST /api/v1/teams` and `PATCH /api/v1/teams/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TeamRequest {
    pub name: String,
}

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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

/// `GET /api/v1/audit`: newest first; pass `next_before` as `before` for the next page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPageView {
    pub entries: Vec<AuditEntryView>,
    pub next_before: Option<i64>,
}

/// `GET|PUT /api/v1/audit/settings`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditSettingsView {
    pub retention_days: u32,
}

/// May non-admins bind-mount host paths?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
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
#[serde(default, deny_unknown_fields)]
pub struct GuardrailsView {
    pub privileged: bool,
    pub bind_mounts: BindMountsView,
    pub bind_prefixes: Vec<String>,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    pub cap_add: bool,
    pub devices: bool,
}

#[cfg(feature = "ssr")]
mod convert {
    use super::*;

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
