//! The DTOs both the browser and the server use: the UI's server fns and the REST API return
//! these, so a script sees exactly what a page shows.

use serde::{Deserialize, Serialize};
pub use wire::containers::HostProblem;
pub use wire::system::EngineSummary;

pub mod access;
pub mod containers;
pub mod files;
pub mod hosts;
pub mod images;
pub mod reference;
pub mod storage;
pub mod system;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum HostState {
    Up,
    Down,
}

/// A host as listed: identity, status and — when up — the engine's summary.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostView {
    pub slug: String,
    pub name: String,
    /// The engine's address: only admins are told it (it names internal addresses and
    /// socket paths); `None` for everyone else.
    pub url: Option<String>,
    pub tls: bool,
    pub status: HostState,
    /// Why the host is down, in words a person can act on.
    pub error: Option<String>,
    pub latency_ms: Option<u64>,
    pub engine: Option<EngineSummary>,
    /// Unix seconds of the probe this status comes from.
    pub checked_at: i64,
    /// Unix seconds of the last probe that found the host up.
    pub last_seen: Option<i64>,
    /// The admin's labels on the host (`env=prod`, `site=fra`).
    #[serde(default)]
    pub labels: std::collections::BTreeMap<String, String>,
    /// Where the host is configured: the registry (editable here) or the `--engine` option.
    pub source: hosts::HostSource,
}

/// `GET /api/v1/hosts/{host}/info`: the engine in full, for the host page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct EngineInfoView {
    pub engine: EngineSummary,
    pub id: String,
    pub os_version: String,
    pub min_api_version: String,
    pub go_version: String,
    pub git_commit: String,
    pub logging_driver: String,
    pub cgroup_driver: String,
    pub cgroup_version: String,
    pub default_runtime: String,
    pub runtimes: Vec<String>,
    pub security_options: Vec<String>,
    pub labels: Vec<String>,
    pub live_restore: bool,
    pub experimental: bool,
    pub swarm_state: String,
    pub swarm_manager: bool,
    pub swarm_nodes: u32,
    pub swarm_managers: u32,
    pub warnings: Vec<String>,
}

/// A role on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum RoleView {
    Viewer,
    Operator,
    Manager,
}

impl RoleView {
    pub const ALL: [RoleView; 3] = [RoleView::Viewer, RoleView::Operator, RoleView::Manager];

    pub fn as_str(self) -> &'static str {
        match self {
            RoleView::Viewer => "viewer",
            RoleView::Operator => "operator",
            RoleView::Manager => "manager",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HostRole {
    pub host: String,
    pub role: RoleView,
}

/// `GET /api/v1/me`: who I am and what I may touch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeView {
    pub id: i64,
    pub username: String,
    pub admin: bool,
    pub hosts: Vec<HostRole>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub admin: bool,
    pub disabled: bool,
    /// Unix seconds.
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TokenView {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

/// A token just created: the secret is in here and nowhere else, ever again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NewTokenView {
    pub id: i64,
    pub name: String,
    pub token: String,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct GrantView {
    pub host: String,
    /// `user` or `team`.
    pub subject: String,
    pub subject_id: i64,
    pub name: String,
    pub role: RoleView,
}

#[cfg(feature = "ssr")]
mod convert {

    use backend::fleet::{Health, HostStatus};

    use super::*;

    impl From<backend::engine::EngineInfo> for EngineInfoView {
        fn from(i: backend::engine::EngineInfo) -> Self {
            EngineInfoView {
                engine: i.summary,
                id: i.id,
                os_version: i.os_version,
                min_api_version: i.min_api_version,
                go_version: i.go_version,
                git_commit: i.git_commit,
                logging_driver: i.logging_driver,
                cgroup_driver: i.cgroup_driver,
                cgroup_version: i.cgroup_version,
                default_runtime: i.default_runtime,
                runtimes: i.runtimes,
                security_options: i.security_options,
                labels: i.labels,
                live_restore: i.live_restore,
                experimental: i.experimental,
                swarm_state: i.swarm_state,
                swarm_manager: i.swarm_manager,
                swarm_nodes: i.swarm_nodes,
                swarm_managers: i.swarm_managers,
                warnings: i.warnings,
            }
        }
    }

    impl From<backend::policy::Role> for RoleView {
        fn from(r: backend::policy::Role) -> Self {
            use backend::policy::Role;
            match r {
                Role::Viewer => RoleView::Viewer,
                Role::Operator => RoleView::Operator,
                Role::Manager => RoleView::Manager,
            }
        }
    }

    impl From<RoleView> for backend::policy::Role {
        fn from(r: RoleView) -> Self {
            use backend::policy::Role;
            match r {
                RoleView::Viewer => Role::Viewer,
                RoleView::Operator => Role::Operator,
                RoleView::Manager => Role::Manager,
            }
        }
    }

    impl From<backend::auth::User> for UserView {
        fn from(u: backend::auth::User) -> Self {
            UserView {
                id: u.id,
                username: u.username,
                admin: u.admin,
                disabled: u.disabled,
                created_at: u.created_at,
                last_login_at: u.last_login_at,
            }
        }
    }

    impl From<backend::auth::TokenInfo> for TokenView {
        fn from(t: backend::auth::TokenInfo) -> Self {
            TokenView {
                id: t.id,
                name: t.name,
                created_at: t.created_at,
                last_used_at: t.last_used_at,
                expires_at: t.expires_at,
            }
        }
    }

    impl From<backend::auth::Grant> for GrantView {
        fn from(g: backend::auth::Grant) -> Self {
            let subject = match g.subject {
                backend::auth::SubjectKind::User => "user",
                backend::auth::SubjectKind::Team => "team",
            };
            GrantView {
                host: g.host,
                subject: subject.into(),
                subject_id: g.subject_id,
                name: g.subject_name,
                role: g.role.into(),
            }
        }
    }

    impl MeView {
        /// What a person may see: admins every host (as managers), others their grants.
        pub fn new(who: &backend::policy::Principal, fleet: &backend::fleet::Fleet) -> Self {
            let hosts = fleet
                .visible(who, backend::policy::HostAction::View)
                .iter()
                .filter_map(|h| {
                    who.role_on(&h.slug).map(|r| HostRole {
                        host: h.slug.clone(),
                        role: r.into(),
                    })
                })
                .collect();
            MeView {
                id: who.user_id,
                username: who.username.clone(),
                admin: who.admin,
                hosts,
            }
        }
    }

    impl HostView {
        /// The view for `who`: the engine's address only when `who` is an admin.
        pub fn seen_by(s: HostStatus, who: &backend::policy::Principal) -> Self {
            let url = who.admin.then(|| s.url.clone());
            HostView {
                url,
                ..HostView::from(s)
            }
        }
    }

    /// Without the engine's address; see [`HostView::seen_by`].
    impl From<HostStatus> for HostView {
        fn from(s: HostStatus) -> Self {
            let (status, error, latency_ms, engine) = match s.health {
                Health::Up { summary, latency } => (
                    HostState::Up,
                    None,
                    Some(u64::try_from(latency.as_millis()).unwrap_or(u64::MAX)),
                    Some(summary),
                ),
                Health::Down { error } => (HostState::Down, Some(error), None, None),
            };
            HostView {
                slug: s.slug,
                name: s.name,
                url: None,
                tls: s.tls,
                status,
                error,
                latency_ms,
                engine,
                checked_at: s.checked_at,
                last_seen: s.last_seen,
                labels: s.labels,
                source: s.source,
            }
        }
    }
}

pub fn role_at_least(role: Option<RoleView>, needed: RoleView) -> bool {
    let rank = |r: RoleView| match r {
        RoleView::Viewer => 0,
        RoleView::Operator => 1,
        RoleView::Manager => 2,
    };
    role.is_some_and(|r| rank(r) >= rank(needed))
}
