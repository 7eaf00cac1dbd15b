//! Who may do what (admins): users, their grants on each host, teams and their members, each
//! host's guardrails for non-admins, and the audit log (its rows and its retention). Anyone but
//! an admin is refused inside the use case, and the refusal is recorded under the operation's
//! name, whichever door it came through.

use futures::Stream;

use super::{Caller, Op, Ops};
use crate::audit::{Entry, Filter};
use crate::auth::{Grant, SubjectKind, User, UserPatch};
use crate::error::Result;
use crate::guardrails::Guardrails;
use crate::policy::Role;
use crate::step_params;
use crate::teams::{Team, Teams};

pub const USER_LIST: Op = Op::admin_read("user.list");
pub const USER_GET: Op = Op::admin_read("user.get");
pub const USER_CREATE: Op = Op::admin("user.create", 201);
pub const USER_UPDATE: Op = Op::admin("user.update", 200);
pub const USER_REMOVE: Op = Op::admin("user.remove", 204);
pub const GRANT_LIST: Op = Op::admin_read("grant.list");
pub const GRANT_SET: Op = Op::admin("grant.set", 204);
pub const GRANT_REMOVE: Op = Op::admin("grant.remove", 204);
pub const TEAM_LIST: Op = Op::admin_read("team.list");
pub const TEAM_GET: Op = Op::admin_read("team.get");
pub const TEAM_CREATE: Op = Op::admin("team.create", 201);
pub const TEAM_UPDATE: Op = Op::admin("team.update", 200);
pub const TEAM_REMOVE: Op = Op::admin("team.remove", 204);
pub const TEAM_MEMBER_ADD: Op = Op::admin("team.member.add", 204);
pub const TEAM_MEMBER_REMOVE: Op = Op::admin("team.member.remove", 204);
pub const GUARDRAILS_GET: Op = Op::admin_read("guardrails.get");
pub const GUARDRAILS_SET: Op = Op::admin("guardrails.set", 200);
pub const AUDIT_LIST: Op = Op::admin_read("audit.list");
pub const AUDIT_SETTINGS_GET: Op = Op::admin_read("audit.settings.get");
pub const AUDIT_SETTINGS_SET: Op = Op::admin("audit.settings.set", 200);

/// A new account, as an admin asks for it.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub admin: bool,
}

/// Who a grant is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Subject {
    pub kind: SubjectKind,
    pub id: i64,
}

impl Subject {
    fn label(self) -> String {
        match self.kind {
            SubjectKind::User => format!("user:{}", self.id),
            SubjectKind::Team => format!("team:{}", self.id),
        }
    }
}

/// What the audit log's retention setting holds, in days.
pub type RetentionDays = u32;

impl Ops {
    fn teams(&self) -> Teams {
        Teams::new(&self.accounts)
    }

    pub async fn users(&self, c: &Caller) -> Result<Vec<User>> {
        self.as_admin(c, &USER_LIST, (None, None), step_params!(), || {
            self.accounts.list_users()
        })
        .await
    }

    pub async fn user(&self, c: &Caller, id: i64) -> Result<User> {
        let object = id.to_string();
        self.as_admin(c, &USER_GET, (None, Some(&object)), step_params!(), || {
            self.accounts.user(id)
        })
        .await
    }

    /// Makes an account; the password is checked (and never recorded).
    pub async fn create_user(&self, c: &Caller, new: &NewUser<'_>) -> Result<User> {
        let username = new.username.trim();
        let params = step_params!("username": username, "admin": new.admin);
        self.as_admin(c, &USER_CREATE, (None, None), params, || {
            self.accounts.create_user(username, new.password, new.admin)
        })
        .await
    }

    /// Changes an account; the last enabled admin cannot be demoted or disabled (409).
    pub async fn update_user(&self, c: &Caller, id: i64, patch: UserPatch) -> Result<User> {
        let object = id.to_string();
        let params = step_params!(
            "admin": patch.admin,
            "disabled": patch.disabled,
            "password_changed": patch.password.as_ref().map(|_| true),
        );
        self.as_admin(c, &USER_UPDATE, (None, Some(&object)), params, || {
            self.accounts.update_user(id, patch)
        })
        .await
    }

    pub async fn remove_user(&self, c: &Caller, id: i64) -> Result<()> {
        let object = id.to_string();
        self.as_admin(
            c,
            &USER_REMOVE,
            (None, Some(&object)),
            step_params!(),
            || self.accounts.delete_user(id),
        )
        .await
    }

    /// Who has which role on `host` (404 for a host that does not exist).
    pub async fn grants(&self, c: &Caller, host: &str) -> Result<Vec<Grant>> {
        self.as_admin(
            c,
            &GRANT_LIST,
            (Some(host), None),
            step_params!(),
            || async {
                self.fleet().exists(host)?;
                self.accounts.grants_on(host).await
            },
        )
        .await
    }

    pub async fn set_grant(
        &self,
        c: &Caller,
        host: &str,
        subject: Subject,
        role: Role,
    ) -> Result<()> {
        let object = subject.label();
        let params = step_params!("role": role.as_str());
        self.as_admin(
            c,
            &GRANT_SET,
            (Some(host), Some(&object)),
            params,
            || async {
                self.fleet().exists(host)?;
                self.accounts
                    .set_grant(host, subject.kind, subject.id, role)
                    .await
            },
        )
        .await
    }

    pub async fn remove_grant(&self, c: &Caller, host: &str, subject: Subject) -> Result<()> {
        let object = subject.label();
        self.as_admin(
            c,
            &GRANT_REMOVE,
            (Some(host), Some(&object)),
            step_params!(),
            || async {
                self.fleet().exists(host)?;
                self.accounts
                    .remove_grant(host, subject.kind, subject.id)
                    .await
            },
        )
        .await
    }

    pub async fn team_list(&self, c: &Caller) -> Result<Vec<Team>> {
        self.as_admin(c, &TEAM_LIST, (None, None), step_params!(), || async {
            self.teams().list().await
        })
        .await
    }

    pub async fn team(&self, c: &Caller, id: i64) -> Result<Team> {
        let object = id.to_string();
        self.as_admin(
            c,
            &TEAM_GET,
            (None, Some(&object)),
            step_params!(),
            || async { self.teams().get(id).await },
        )
        .await
    }

    pub async fn create_team(&self, c: &Caller, name: &str) -> Result<Team> {
        let params = step_params!("name": name);
        self.as_admin(c, &TEAM_CREATE, (None, None), params, || async {
            self.teams().create(name).await
        })
        .await
    }

    pub async fn rename_team(&self, c: &Caller, id: i64, name: &str) -> Result<Team> {
        let object = id.to_string();
        let params = step_params!("name": name);
        self.as_admin(c, &TEAM_UPDATE, (None, Some(&object)), params, || async {
            self.teams().rename(id, name).await
        })
        .await
    }

    pub async fn remove_team(&self, c: &Caller, id: i64) -> Result<()> {
        let object = id.to_string();
        self.as_admin(
            c,
            &TEAM_REMOVE,
            (None, Some(&object)),
            step_params!(),
            || async { self.teams().delete(id).await },
        )
        .await
    }

    /// Adds `user` to `team`; `true` when they were not a member yet.
    pub async fn add_team_member(&self, c: &Caller, team: i64, user: i64) -> Result<bool> {
        let object = format!("{team}/{user}");
        self.as_admin(
            c,
            &TEAM_MEMBER_ADD,
            (None, Some(&object)),
            step_params!(),
            || async { self.teams().add_member(team, user).await },
        )
        .await
    }

    pub async fn remove_team_member(&self, c: &Caller, team: i64, user: i64) -> Result<()> {
        let object = format!("{team}/{user}");
        self.as_admin(
            c,
            &TEAM_MEMBER_REMOVE,
            (None, Some(&object)),
            step_params!(),
            || async { self.teams().remove_member(team, user).await },
        )
        .await
    }

    /// The host's guardrails for non-admins (all off when never set).
    pub async fn guardrails(&self, c: &Caller, host: &str) -> Result<Guardrails> {
        self.as_admin(
            c,
            &GUARDRAILS_GET,
            (Some(host), None),
            step_params!(),
            || async {
                self.fleet().exists(host)?;
                self.guardrails.get(host).await
            },
        )
        .await
    }

    /// Replaces the host's guardrails (what is left out is off); answers what was stored.
    pub async fn set_guardrails(
        &self,
        c: &Caller,
        host: &str,
        guardrails: Guardrails,
    ) -> Result<Guardrails> {
        let params = serde_json::to_value(&guardrails).unwrap_or_default();
        self.as_admin(c, &GUARDRAILS_SET, (Some(host), None), params, || async {
            self.fleet().exists(host)?;
            self.guardrails.set(host, guardrails).await
        })
        .await
    }

    /// A page of the audit log, newest first.
    pub async fn audit_entries(&self, c: &Caller, filter: &Filter) -> Result<Vec<Entry>> {
        self.as_admin(c, &AUDIT_LIST, (None, None), step_params!(), || {
            crate::audit::query_in(self.hosts.pool(), filter)
        })
        .await
    }

    /// Every matching row as CSV, streamed (checked and refused like a page of it).
    pub async fn audit_csv(
        &self,
        c: &Caller,
        filter: Filter,
    ) -> Result<impl Stream<Item = std::io::Result<bytes::Bytes>> + Send + 'static + use<>> {
        let pool = self.hosts.pool().clone();
        self.as_admin(
            c,
            &AUDIT_LIST,
            (None, None),
            step_params!(),
            || async move { crate::audit::csv_in(pool, filter) },
        )
        .await
    }

    pub async fn audit_retention(&self, c: &Caller) -> Result<RetentionDays> {
        self.as_admin(c, &AUDIT_SETTINGS_GET, (None, None), step_params!(), || {
            crate::audit::retention_days_in(self.hosts.pool())
        })
        .await
    }

    /// Sets how many days audit rows are kept (checked: 1 to 3650, a refusal naming `field`, the
    /// door's name for it); answers the stored value.
    pub async fn set_audit_retention(
        &self,
        c: &Caller,
        (field, days): (&str, RetentionDays),
    ) -> Result<RetentionDays> {
        let params = step_params!("retention_days": days);
        self.as_admin(c, &AUDIT_SETTINGS_SET, (None, None), params, || async {
            crate::audit::set_retention_days_in(self.hosts.pool(), field, days).await?;
            Ok(days)
        })
        .await
    }
}
