//! Who may do what on which host: the only place that knows the role matrix of api.md.
//! Every entry point (server fn, REST handler, stream) asks here before touching an engine.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A role on one host. Ordered: a higher role can do everything a lower one can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Viewer,
    Operator,
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Operator => "operator",
            Role::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Result<Role> {
        match s {
            "viewer" => Ok(Role::Viewer),
            "operator" => Ok(Role::Operator),
            "manager" => Ok(Role::Manager),
            _ => Err(Error::invalid(
                "role",
                "must be viewer, operator or manager",
            )),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Everything a person can do on a host, as api.md's role table lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HostAction {
    /// See the host; list and inspect containers, images, volumes, networks; logs, stats, top,
    /// diff, events.
    View,
    /// start, stop, restart, kill, pause, unpause.
    Operate,
    /// create/run, remove, rename, commit, recreate, exec, file download/upload, export.
    ManageContainers,
    /// pull, tag, remove, prune, load, save images; create/remove volumes and networks.
    ManageStorage,
}

impl HostAction {
    pub const ALL: [HostAction; 4] = [
        HostAction::View,
        HostAction::Operate,
        HostAction::ManageContainers,
        HostAction::ManageStorage,
    ];

    pub fn required_role(self) -> Role {
        match self {
            HostAction::View => Role::Viewer,
            HostAction::Operate => Role::Operator,
            HostAction::ManageContainers | HostAction::ManageStorage => Role::Manager,
        }
    }
}

/// A signed-in person (by session or token) with what they may do, resolved per request.
#[derive(Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: i64,
    pub username: String,
    pub admin: bool,
    /// Effective role per host slug: the highest of the user's own grant and its teams' grants.
    pub roles: BTreeMap<String, Role>,
}

impl fmt::Debug for Principal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Principal")
            .field("user_id", &self.user_id)
            .field("username", &self.username)
            .field("admin", &self.admin)
            .finish()
    }
}

impl Principal {
    /// The role on a host, `None` when the host does not exist for this person. Admins are
    /// managers everywhere.
    pub fn role_on(&self, host: &str) -> Option<Role> {
        if self.admin {
            Some(Role::Manager)
        } else {
            self.roles.get(host).copied()
        }
    }

    pub fn can_see(&self, host: &str) -> bool {
        self.role_on(host).is_some()
    }
}

/// Proof that the gate let a principal act on a host. It is the only way to a host's engine
/// ([`crate::fleet::Fleet::host`]), so no door can reach an engine without asking the policy
/// first: the compiler holds the rule, not a test. Only [`authorize`] makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    host: String,
    role: Role,
}

impl Permit {
    /// The host it is for.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The principal's role on that host (admins: manager).
    pub fn role(&self) -> Role {
        self.role
    }
}

/// The gate. A host without a grant answers `NotFound`, exactly like a host that does not
/// exist, so its existence is never revealed; a role too low answers `Forbidden`.
pub fn authorize(who: &Principal, host: &str, action: HostAction) -> Result<Permit> {
    let role = who
        .role_on(host)
        .ok_or_else(|| Error::NotFound("host".into()))?;
    if role >= action.required_role() {
        Ok(Permit {
            host: host.to_string(),
            role,
        })
    } else {
        Err(Error::Forbidden)
    }
}

/// Users, teams, hosts, grants, settings and audit are for admins only.
pub fn require_admin(who: &Principal) -> Result<()> {
    if who.admin {
        Ok(())
    } else {
        Err(Error::Forbidden)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(admin: bool, grants: &[(&str, Role)]) -> Principal {
        Principal {
            user_id: 1,
            username: "p".into(),
            admin,
            roles: grants.iter().map(|(h, r)| (h.to_string(), *r)).collect(),
        }
    }

    /// The matrix of api.md, row by row: (role, action) → allowed.
    #[test]
    fn role_matrix() {
        use HostAction::*;
        let expect = [
            (Role::Viewer, [true, false, false, false]),
            (Role::Operator, [true, true, false, false]),
            (Role::Manager, [true, true, true, true]),
        ];
        for (role, allowed) in expect {
            let p = person(false, &[("h", role)]);
            for (action, ok) in [View, Operate, ManageContainers, ManageStorage]
                .into_iter()
                .zip(allowed)
            {
                let got = authorize(&p, "h", action);
                if ok {
                    assert_eq!(
                        got.ok().map(|p| p.role()),
                        Some(role),
                        "{role} may {action:?}"
                    );
                } else {
                    assert!(
                        matches!(got, Err(Error::Forbidden)),
                        "{role} may not {action:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_host_without_a_grant_does_not_exist() {
        let p = person(false, &[("mine", Role::Manager)]);
        for action in HostAction::ALL {
            assert!(matches!(
                authorize(&p, "other", action),
                Err(Error::NotFound(_))
            ));
        }
        assert!(!p.can_see("other") && p.can_see("mine"));
    }

    #[test]
    fn admins_manage_every_host_and_only_they_administer() {
        let admin = person(true, &[]);
        for action in HostAction::ALL {
            assert_eq!(
                authorize(&admin, "anything", action).ok().map(|p| p.role()),
                Some(Role::Manager)
            );
        }
        assert!(require_admin(&admin).is_ok());
        assert!(matches!(
            require_admin(&person(false, &[("h", Role::Manager)])),
            Err(Error::Forbidden)
        ));
    }

    #[test]
    fn roles_parse_and_order() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Manager);
        for r in [Role::Viewer, Role::Operator, Role::Manager] {
            assert_eq!(Role::parse(r.as_str()).ok(), Some(r));
        }
        assert!(matches!(Role::parse("owner"), Err(Error::Invalid { .. })));
    }
}
