//! Teams: named groups of users that host grants may name. A user's role on a host is the
//! highest of its own grant and its teams' grants (resolved in `auth::Accounts`). Deleting a
//! team removes its grants; deleting a user removes its memberships (foreign keys).

use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use crate::auth::Accounts;
use crate::error::{Error, Result};
use crate::store::{internal, now};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: i64,
    pub username: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Team {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub members: Vec<Member>,
}

/// Admin operations on teams. Cheap to make from the accounts service, whose revocations
/// it signals when a team's members lose access.
#[derive(Clone)]
pub struct Teams {
    pool: AnyPool,
    accounts: Accounts,
}

pub fn validate_team_name(name: &str) -> Result<String> {
    let name = name.trim();
    let ok = !name.is_empty()
        && name.chars().count() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '.' | '_' | '-'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(Error::invalid(
            "name",
            "use 1 to 64 letters, digits, spaces, dots, dashes or underscores",
        ))
    }
}

fn unique_violation(name: &str) -> impl FnOnce(sqlx::Error) -> Error + '_ {
    move |e| match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => {
            Error::Conflict(format!("a team named {name} already exists"))
        }
        other => internal(other),
    }
}

impl Teams {
    pub fn new(accounts: &Accounts) -> Self {
        Teams {
            pool: accounts.pool().clone(),
            accounts: accounts.clone(),
        }
    }

    pub async fn list(&self) -> Result<Vec<Team>> {
        let rows =
            sqlx::query("SELECT id, name, created_at FROM teams ORDER BY name COLLATE NOCASE")
                .fetch_all(&self.pool)
                .await
                .map_err(internal)?;
        let members = sqlx::query(
            "SELECT m.team_id, u.id, u.username FROM team_members m JOIN users u ON u.id = m.user_id
             ORDER BY u.username COLLATE NOCASE",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let id: i64 = r.get(0);
                Team {
                    id,
                    name: r.get(1),
                    created_at: r.get(2),
                    members: members
                        .iter()
                        .filter(|m| m.get::<i64, _>(0) == id)
                        .map(|m| Member {
                            user_id: m.get(1),
                            username: m.get(2),
                        })
                        .collect(),
                }
            })
            .collect())
    }

    pub async fn get(&self, id: i64) -> Result<Team> {
        let row = sqlx::query("SELECT id, name, created_at FROM teams WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?
            .ok_or_else(|| Error::NotFound("team".into()))?;
        let members = sqlx::query(
            "SELECT u.id, u.username FROM team_members m JOIN users u ON u.id = m.user_id
             WHERE m.team_id = $1 ORDER BY u.username COLLATE NOCASE",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        Ok(Team {
            id: row.get(0),
            name: row.get(1),
            created_at: row.get(2),
            members: members
                .into_iter()
                .map(|m| Member {
                    user_id: m.get(0),
                    username: m.get(1),
                })
                .collect(),
        })
    }

    pub async fn create(&self, name: &str) -> Result<Team> {
        let name = validate_team_name(name)?;
        let id: i64 =
            sqlx::query_scalar("INSERT INTO teams (name, created_at) VALUES ($1, $2) RETURNING id")
                .bind(&name)
                .bind(now())
                .fetch_one(&self.pool)
                .await
                .map_err(unique_violation(&name))?;
        self.get(id).await
    }

    pub async fn rename(&self, id: i64, name: &str) -> Result<Team> {
        let name = validate_team_name(name)?;
        let n = sqlx::query("UPDATE teams SET name = $1 WHERE id = $2")
            .bind(&name)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(unique_violation(&name))?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("team".into()));
        }
        self.get(id).await
    }

    /// Deletes the team, its memberships and every grant naming it, in one transaction.
    pub async fn delete(&self, id: i64) -> Result<()> {
        let members = self.accounts.team_member_ids(id).await?;
        let mut tx = self.pool.begin().await.map_err(internal)?;
        let n = sqlx::query("DELETE FROM teams WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("team".into()));
        }
        sqlx::query("DELETE FROM grants WHERE subject_kind = 'team' AND subject_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        self.accounts.store().revoke(members);
        Ok(())
    }

    /// Adds a user to a team; adding a member twice is fine. Returns whether it was new.
    pub async fn add_member(&self, team_id: i64, user_id: i64) -> Result<bool> {
        self.exists(team_id).await?;
        let user: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?;
        if user.is_none() {
            return Err(Error::NotFound("user".into()));
        }
        let n = sqlx::query("INSERT INTO team_members (team_id, user_id, added_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING")
            .bind(team_id)
            .bind(user_id)
            .bind(now())
            .execute(&self.pool)
            .await
            .map_err(internal)?
            .rows_affected();
        // The member gains the team's grants.
        self.accounts.access_changed();
        Ok(n > 0)
    }

    pub async fn remove_member(&self, team_id: i64, user_id: i64) -> Result<()> {
        self.exists(team_id).await?;
        let n = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND user_id = $2")
            .bind(team_id)
            .bind(user_id)
            .execute(&self.pool)
            .await
            .map_err(internal)?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("member".into()));
        }
        self.accounts.store().revoke([user_id]);
        Ok(())
    }

    async fn exists(&self, id: i64) -> Result<()> {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(internal)?;
        found
            .map(|_| ())
            .ok_or_else(|| Error::NotFound("team".into()))
    }
}
