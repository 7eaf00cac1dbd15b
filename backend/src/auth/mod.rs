//! Accounts: first-run setup, users, passwords, API tokens and per-host grants, and turning a
//! session or a token into a [`Principal`] the policy can judge.

mod limiter;
pub mod password;
mod token_cache;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::Path;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::Row;

pub use crate::store::Revocations;
use limiter::Key;
pub use limiter::{client_key, LoginLimiter};
use token_cache::{TokenCache, TokenHash};

use crate::error::{Error, Result};
use crate::policy::{Principal, Role};
use crate::store::{internal, now, Flag, Store};

pub const SETUP_TOKEN_FILE: &str = "setup-token";
const TOKEN_PREFIX: &str = "cap_";

/// How a request proved who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session,
    Token,
}

/// The signed-in person of one request, put in the request's extensions by the server.
#[derive(Debug, Clone)]
pub struct Identity {
    pub principal: Principal,
    pub via: Credential,
}

/// A user as everyone but the store sees it: never with its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct User {
    pub id: i64,
    pub username: String,
    #[sqlx(try_from = "Flag")]
    pub admin: bool,
    #[sqlx(try_from = "Flag")]
    pub disabled: bool,
    pub created_at: i64,
    pub last_login_at: Option<i64>,
}

/// What a session remembers about who signed in: the user and the user's session epoch at
/// that moment (a password change or disabling bumps the epoch and ends older sessions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionStamp {
    pub user_id: i64,
    pub epoch: i64,
    pub signed_in_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, sqlx::FromRow)]
pub struct TokenInfo {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SubjectKind {
    User,
    Team,
}

impl SubjectKind {
    fn as_str(self) -> &'static str {
        match self {
            SubjectKind::User => "user",
            SubjectKind::Team => "team",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    pub host: String,
    pub subject: SubjectKind,
    pub subject_id: i64,
    /// The user's or team's name, for display.
    pub subject_name: String,
    pub role: Role,
}

/// A change to a user by an admin; `None` leaves a field as it is.
#[derive(Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct UserPatch {
    pub admin: Option<bool>,
    pub disabled: Option<bool>,
    pub password: Option<String>,
}

impl std::fmt::Debug for UserPatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserPatch")
            .field("admin", &self.admin)
            .field("disabled", &self.disabled)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

#[derive(Clone)]
pub struct Accounts {
    store: Store,
    limiter: std::sync::Arc<LoginLimiter>,
    tokens: std::sync::Arc<TokenCache>,
}

fn bad_credentials() -> Error {
    Error::Unauthenticated("wrong username or password".into())
}

fn wrong_setup_token() -> Error {
    Error::Unauthenticated(
        "the setup token is not valid — use the one in the server's log or data directory".into(),
    )
}

/// Minting API tokens needs a signed-in session: a token that could make tokens would let one
/// leaked token outlive its own revocation (and its owner's password change).
pub fn require_session(via: Credential) -> Result<()> {
    match via {
        Credential::Session => Ok(()),
        Credential::Token => Err(Error::Denied {
            field: "authorization".into(),
            message:
                "an API token cannot create API tokens; sign in with your password to make one"
                    .into(),
        }),
    }
}

pub fn validate_username(name: &str) -> Result<()> {
    if crate::names::is_object_name(name, 1..=64) {
        Ok(())
    } else {
        Err(Error::invalid(
            "username",
            "use 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit",
        ))
    }
}

/// The roles of user `u` on each host, as `host role,host role,…` (NULL for none; slugs and
/// roles hold neither spaces nor commas): the user's own grants
/// and those of every team the user belongs to (a column of the query that reads the user, so a
/// request's identity costs one statement). A macro so the queries below are literals.
macro_rules! roles_of_u {
    () => {
        "(SELECT string_agg(g.host || ' ' || g.role, ',') FROM grants g
         WHERE (g.subject_kind = 'user' AND g.subject_id = u.id)
            OR (g.subject_kind = 'team' AND g.subject_id IN (SELECT team_id FROM team_members WHERE user_id = u.id)))"
    };
}

/// A session's user, with [`roles_of_u`].
const SESSION_USER: &str = concat!(
    "SELECT username, admin, disabled, session_epoch, ",
    roles_of_u!(),
    " FROM users u WHERE id = $1"
);

/// An API token's user, with [`roles_of_u`].
const TOKEN_USER: &str = concat!(
    "SELECT t.id, t.expires_at, u.id, u.username, u.admin, u.disabled, t.last_used_at, ",
    roles_of_u!(),
    " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.secret_hash = $1"
);

/// A principal from its user's row and [`roles_of_u`]; on a host with several grants the
/// highest role wins.
fn principal(
    user_id: i64,
    username: String,
    admin: Flag,
    grants: Option<&str>,
) -> Result<Principal> {
    let bad = || Error::Internal("bad role in store".into());
    let mut roles = BTreeMap::new();
    for grant in grants
        .unwrap_or_default()
        .split(',')
        .filter(|g| !g.is_empty())
    {
        let (host, role) = grant.split_once(' ').ok_or_else(bad)?;
        let role = Role::parse(role).map_err(|_| bad())?;
        let entry = roles.entry(host.to_string()).or_insert(role);
        *entry = (*entry).max(role);
    }
    Ok(Principal {
        user_id,
        username,
        admin: admin.0,
        roles,
    })
}

fn token_hash(secret: &str) -> TokenHash {
    Sha256::digest(secret.as_bytes()).into()
}

fn random_secret() -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

const USER_COLUMNS: &str = "id, username, admin, disabled, created_at, last_login_at";

impl Accounts {
    pub fn new(store: Store) -> Self {
        Accounts {
            store,
            limiter: std::sync::Arc::new(LoginLimiter::new()),
            tokens: std::sync::Arc::default(),
        }
    }

    /// Where open streams learn that a user's access may have shrunk; every change below
    /// that can take access away signals it.
    pub fn revocations(&self) -> &Revocations {
        self.store.revocations()
    }

    /// The members of a team, to wake their streams when the team's access shrinks.
    pub(crate) async fn team_member_ids(&self, team_id: i64) -> Result<Vec<i64>> {
        sqlx::query_scalar("SELECT user_id FROM team_members WHERE team_id = $1")
            .bind(team_id)
            .fetch_all(self.pool())
            .await
            .map_err(internal)
    }

    /// After a grant changed: cached identities stop counting, open streams check again.
    async fn revoke_subject(&self, subject: SubjectKind, subject_id: i64) -> Result<()> {
        match subject {
            SubjectKind::User => self.store.revoke([subject_id]),
            SubjectKind::Team => self.store.revoke(self.team_member_ids(subject_id).await?),
        }
        Ok(())
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub fn pool(&self) -> &sqlx::AnyPool {
        self.store.pool()
    }

    /// See [`Store::access_changed`]: called after committing a change that can change a
    /// principal (teams use it too).
    pub(crate) fn access_changed(&self) {
        self.store.access_changed();
    }

    pub async fn user_count(&self) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(self.pool())
            .await
            .map_err(internal)
    }

    /// On a start with no users: mints a one-time setup token, keeps only its hash, and writes
    /// the token to `<data>/setup-token` (mode 0600). Returns it so the caller can log it.
    /// With users, removes any leftover token and returns `None`.
    pub async fn prepare_setup(&self, data_dir: &Path) -> Result<Option<String>> {
        let file = data_dir.join(SETUP_TOKEN_FILE);
        if self.user_count().await? > 0 {
            sqlx::query("DELETE FROM meta WHERE substr(key, 1, 11) = 'setup_token'")
                .execute(self.pool())
                .await
                .map_err(internal)?;
            let _ = std::fs::remove_file(&file);
            return Ok(None);
        }
        // One token per data directory (replicas on one database each write their own, and any
        // of them sets up); this directory's earlier token, from a previous start, stops counting.
        if let Ok(old) = std::fs::read_to_string(&file) {
            sqlx::query("DELETE FROM meta WHERE substr(key, 1, 11) = 'setup_token' AND value = $1")
                .bind(hex(&token_hash(old.trim())))
                .execute(self.pool())
                .await
                .map_err(internal)?;
        }
        let token = random_secret();
        let hash = hex(&token_hash(&token));
        sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2)")
            .bind(format!("setup_token:{}", &hash[..16]))
            .bind(&hash)
            .execute(self.pool())
            .await
            .map_err(internal)?;
        write_private(&file, &token)
            .map_err(|e| Error::Internal(format!("writing {}: {e}", file.display())))?;
        Ok(Some(token))
    }

    /// Creates the first admin with the setup token. Single use: the token is consumed in the
    /// same transaction that creates the user, so two racing requests cannot both succeed.
    /// The token is checked (one cheap query) before the password is hashed, and wrong tokens
    /// are throttled per client like sign-ins, so the unauthenticated form cannot be used to
    /// make the server hash (19 MiB each) or to guess the token.
    pub async fn complete_setup(
        &self,
        data_dir: &Path,
        token: &str,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<User> {
        validate_username(username)?;
        password::check_strength("password", password)?;
        let keys = [Key::hard(format!("setup:{}", client_key(client)))];
        // Counted now, before any answer: parallel guesses are each counted.
        let attempt = self
            .limiter
            .attempt(&keys)
            .map_err(|retry_after| Error::Throttled { retry_after })?;
        if self.user_count().await? > 0 {
            self.limiter.forget(attempt);
            return Err(Error::Conflict(
                "setup is already done; sign in instead".into(),
            ));
        }
        let token_hex = hex(&token_hash(token.trim()));
        let known: Option<i64> = sqlx::query_scalar(
            "SELECT 1 FROM meta WHERE substr(key, 1, 11) = 'setup_token' AND value = $1",
        )
        .bind(&token_hex)
        .fetch_optional(self.pool())
        .await
        .map_err(internal)?;
        if known.is_none() {
            return Err(wrong_setup_token());
        }
        let hash = password::hash(password.to_string()).await?;
        let mut tx = self.pool().begin().await.map_err(internal)?;
        // Every setup token goes at once (so two replicas' tokens cannot make two first
        // admins: the second transaction finds them gone); this one must have been among them.
        let consumed: Vec<String> = sqlx::query_scalar(
            "DELETE FROM meta WHERE substr(key, 1, 11) = 'setup_token' RETURNING value",
        )
        .fetch_all(&mut *tx)
        .await
        .map_err(internal)?;
        if !consumed.contains(&token_hex) {
            let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                .fetch_one(&mut *tx)
                .await
                .map_err(internal)?;
            return Err(if users > 0 {
                Error::Conflict("setup is already done; sign in instead".into())
            } else {
                wrong_setup_token()
            });
        }
        let user = insert_user(&mut tx, username, &hash, true).await?;
        tx.commit().await.map_err(internal)?;
        self.limiter.succeeded(attempt);
        let _ = std::fs::remove_file(data_dir.join(SETUP_TOKEN_FILE));
        Ok(user)
    }

    /// Checks a username and password. Wrong username and wrong password give the same error
    /// and take the same time; failures are recorded and throttled per client (locks) and per
    /// username (pauses of seconds, never a lock; see [`limiter`]). The attempt is counted
    /// before the password is hashed.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        client: Option<IpAddr>,
    ) -> Result<User> {
        let keys = [
            Key::hard(client_key(client)),
            Key::soft(format!("user:{}", username.to_ascii_lowercase())),
        ];
        let attempt = self
            .limiter
            .attempt(&keys)
            .map_err(|retry_after| Error::Throttled { retry_after })?;
        if let Err(e) = self.replicas_allow(client, username).await {
            self.limiter.forget(attempt);
            return Err(e);
        }

        let row = sqlx::query("SELECT id, password_hash, disabled FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(self.pool())
            .await
            .map_err(internal)?;
        let (id, stored, disabled) = match row {
            Some(r) => (
                r.get::<i64, _>(0),
                Some(r.get::<String, _>(1)),
                r.get::<Flag, _>(2).0,
            ),
            None => (0, None, false),
        };
        let ok = password::verify(password.to_string(), stored).await?;
        if !ok || disabled {
            sqlx::query(
                "INSERT INTO login_failures (at, username, client, network) VALUES ($1, $2, $3, $4)",
            )
            .bind(now())
            .bind(username.chars().take(128).collect::<String>())
            .bind(client.map(|c| c.to_string()).unwrap_or_default())
            .bind(client_key(client))
            .execute(self.pool())
            .await
            .map_err(internal)?;
            return Err(bad_credentials());
        }
        self.limiter.succeeded(attempt);
        sqlx::query("UPDATE users SET last_login_at = $1 WHERE id = $2")
            .bind(now())
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(internal)?;
        self.user(id).await
    }

    /// On a database replicas share, failed sign-ins on every replica count: a client's (its
    /// network, as [`client_key`] has it: an IPv6 /64 is one client), as
    /// many within a minute as one process allows (the in-memory limiter's hard limit) and the
    /// next waits until the oldest is a minute old; an account's, the same growing pauses after
    /// its free failures since its last sign-in (within 15 minutes). (One process needs no such
    /// read: its own limiter sees every attempt, and sooner.)
    async fn replicas_allow(&self, client: Option<IpAddr>, username: &str) -> Result<()> {
        if !self.store.database().is_postgres() {
            return Ok(());
        }
        let window = limiter::WINDOW.as_secs() as i64;
        let t = now();
        let (failures, oldest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MIN(at) FROM login_failures WHERE network = $1 AND at > $2",
        )
        .bind(client_key(client))
        .bind(t - window)
        .fetch_one(self.pool())
        .await
        .map_err(internal)?;
        if failures >= limiter::MAX_ATTEMPTS as i64 {
            let wait = oldest.map_or(window, |at| at + window - t).clamp(1, window);
            return Err(Error::Throttled {
                retry_after: std::time::Duration::from_secs(wait as u64),
            });
        }
        // The account: its failures in a row (since it last signed in, none older than the
        // limiter forgets), and how long ago the latest was.
        let (failures, latest): (i64, Option<i64>) = sqlx::query_as(
            "SELECT COUNT(*), MAX(at) FROM login_failures \
             WHERE lower(username) = lower($1) AND at > $2 \
             AND at > COALESCE((SELECT last_login_at FROM users WHERE username = $1), 0)",
        )
        .bind(username.chars().take(128).collect::<String>())
        .bind(t - limiter::SOFT_FORGET.as_secs() as i64)
        .fetch_one(self.pool())
        .await
        .map_err(internal)?;
        let pause = limiter::soft_pause(u32::try_from(failures).unwrap_or(u32::MAX));
        if let (Some(pause), Some(latest)) = (pause, latest) {
            // Whole seconds: a failure in the current second may be up to one second old.
            let left = pause.as_secs() as i64 - (t - latest);
            if left > 0 {
                return Err(Error::Throttled {
                    retry_after: std::time::Duration::from_secs(left as u64),
                });
            }
        }
        Ok(())
    }

    /// Forgets failed sign-ins older than `days`, so the record cannot grow without bound.
    pub async fn prune_login_failures(&self, days: i64) -> Result<u64> {
        let done = sqlx::query("DELETE FROM login_failures WHERE at < $1")
            .bind(now() - days * 86_400)
            .execute(self.pool())
            .await
            .map_err(internal)?;
        Ok(done.rows_affected())
    }

    pub async fn login_failures(&self, username: &str) -> Result<i64> {
        sqlx::query_scalar("SELECT COUNT(*) FROM login_failures WHERE username = $1")
            .bind(username)
            .fetch_one(self.pool())
            .await
            .map_err(internal)
    }

    /// The stamp a new session stores for this user.
    pub async fn session_stamp(&self, user_id: i64) -> Result<SessionStamp> {
        let epoch: i64 = sqlx::query_scalar("SELECT session_epoch FROM users WHERE id = $1")
            .bind(user_id)
            .fetch_optional(self.pool())
            .await
            .map_err(internal)?
            .ok_or_else(|| Error::NotFound("user".into()))?;
        Ok(SessionStamp {
            user_id,
            epoch,
            signed_in_at: now(),
        })
    }

    /// The person behind a session, or `None` when the session no longer counts (user gone,
    /// disabled, password changed since).
    pub async fn principal_for_session(&self, stamp: SessionStamp) -> Result<Option<Principal>> {
        let row = sqlx::query(SESSION_USER)
            .bind(stamp.user_id)
            .fetch_optional(self.pool())
            .await
            .map_err(internal)?;
        let Some(row) = row else { return Ok(None) };
        if row.get::<Flag, _>(2).0 || row.get::<i64, _>(3) != stamp.epoch {
            return Ok(None);
        }
        principal(stamp.user_id, row.get(0), row.get(1), row.get(4)).map(Some)
    }

    /// The person behind an API token, or `None` for an unknown, expired or revoked token or a
    /// disabled user.
    pub async fn principal_for_token(&self, secret: &str) -> Result<Option<Principal>> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Ok(None);
        }
        let hash = token_hash(secret);
        // Read before the row: a change committed from here on makes what is read stale.
        let generation = self.store.access_generation();
        let t = now();
        if let Some(who) = self.tokens.get(&hash, generation, t) {
            return Ok(Some(who));
        }
        let row = sqlx::query(TOKEN_USER)
            .bind(&hash[..])
            .fetch_optional(self.pool())
            .await
            .map_err(internal)?;
        let Some(row) = row else { return Ok(None) };
        let expires_at = row.get::<Option<i64>, _>(1);
        if expires_at.is_some_and(|exp| exp <= t) || row.get::<Flag, _>(5).0 {
            return Ok(None);
        }
        // Written at most once a minute per token, not on every request (and not even asked
        // for otherwise), from this uncached path: within a minute and the cache's TTL.
        if row
            .get::<Option<i64>, _>(6)
            .is_none_or(|last| last < t - 60)
        {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
                .bind(t)
                .bind(row.get::<i64, _>(0))
                .bind(t - 60)
                .execute(self.pool())
                .await
                .map_err(internal)?;
        }
        let who = principal(row.get(2), row.get(3), row.get(4), row.get(7))?;
        self.tokens
            .put(hash, who.clone(), generation, expires_at, t);
        Ok(Some(who))
    }

    // ----- users (admin) -----

    pub async fn list_users(&self) -> Result<Vec<User>> {
        sqlx::query_as(&format!(
            "SELECT {USER_COLUMNS} FROM users ORDER BY username"
        ))
        .fetch_all(self.pool())
        .await
        .map_err(internal)
    }

    pub async fn user(&self, id: i64) -> Result<User> {
        sqlx::query_as(&format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await
            .map_err(internal)?
            .ok_or_else(|| Error::NotFound("user".into()))
    }

    pub async fn create_user(&self, username: &str, password: &str, admin: bool) -> Result<User> {
        validate_username(username)?;
        password::check_strength("password", password)?;
        let hash = password::hash(password.to_string()).await?;
        let mut tx = self.pool().begin().await.map_err(internal)?;
        let user = insert_user(&mut tx, username, &hash, admin).await?;
        tx.commit().await.map_err(internal)?;
        Ok(user)
    }

    /// Applies an admin's change. The last enabled admin can never be disabled or demoted:
    /// the check and the write are one statement, so two admins demoting each other at once
    /// cannot both succeed.
    pub async fn update_user(&self, id: i64, patch: UserPatch) -> Result<User> {
        let current = self.user(id).await?;
        if let Some(pw) = &patch.password {
            password::check_strength("password", pw)?;
        }
        let removes_admin = current.admin
            && !current.disabled
            && (patch.admin == Some(false) || patch.disabled == Some(true));
        if removes_admin {
            let changed = sqlx::query(
                "UPDATE users SET admin = $1, disabled = $2, session_epoch = session_epoch + $3
                 WHERE id = $4 AND (SELECT COUNT(*) FROM users WHERE admin = TRUE AND disabled = FALSE AND id != $5) > 0",
            )
            .bind(patch.admin.unwrap_or(current.admin))
            .bind(patch.disabled.unwrap_or(current.disabled))
            .bind(i64::from(patch.disabled == Some(true)))
            .bind(id)
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(internal)?
            .rows_affected();
            if changed == 0 {
                return Err(Error::Conflict(
                    "this is the last admin: make another user an admin first".into(),
                ));
            }
        } else {
            sqlx::query(
                "UPDATE users SET admin = $1, disabled = $2, session_epoch = session_epoch + $3 WHERE id = $4",
            )
            .bind(patch.admin.unwrap_or(current.admin))
            .bind(patch.disabled.unwrap_or(current.disabled))
            .bind(i64::from(patch.disabled == Some(true) && !current.disabled))
            .bind(id)
            .execute(self.pool())
            .await
            .map_err(internal)?;
        }
        // Demoted or disabled (or any change): open streams check again.
        self.store.revoke([id]);
        if let Some(pw) = patch.password {
            self.set_password(id, pw).await?;
        }
        self.user(id).await
    }

    pub async fn delete_user(&self, id: i64) -> Result<()> {
        let mut tx = self.pool().begin().await.map_err(internal)?;
        let deleted = sqlx::query(
            "DELETE FROM users WHERE id = $1
             AND NOT (admin = TRUE AND disabled = FALSE
                      AND (SELECT COUNT(*) FROM users WHERE admin = TRUE AND disabled = FALSE) <= 1)",
        )
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(internal)?
        .rows_affected();
        if deleted == 0 {
            let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .map_err(internal)?;
            return Err(match exists {
                Some(_) => Error::Conflict(
                    "this is the last admin: make another user an admin first".into(),
                ),
                None => Error::NotFound("user".into()),
            });
        }
        sqlx::query("DELETE FROM grants WHERE subject_kind = 'user' AND subject_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        self.store.revoke([id]);
        Ok(())
    }

    /// An admin sets a user's password (the users page, `capstan admin reset-password`): every
    /// session of the user ends (their epoch moves on) and every API token of theirs is revoked,
    /// in one transaction — a reset is what follows a leak, and tokens leak with passwords.
    pub async fn set_password(&self, id: i64, new: String) -> Result<()> {
        password::check_strength("password", &new)?;
        let hash = password::hash(new).await?;
        self.store_password(id, hash, false).await.map(|_| ())
    }

    /// A person changes their own password: the current one is required, and attempts are
    /// throttled like sign-ins (counted before the hash; this account's sixth wrong guess in a
    /// minute locks the change for a minute, then longer — only the one holding the session can
    /// trip it). Every other session ends; the person's API tokens are revoked too unless
    /// `keep_tokens` (a change made on purpose, not after a leak). Returns how many tokens
    /// were revoked.
    pub async fn change_own_password(
        &self,
        id: i64,
        current: &str,
        new: &str,
        keep_tokens: bool,
    ) -> Result<u64> {
        password::check_strength("new", new)?;
        let attempt = self
            .limiter
            .attempt(&[Key::hard(format!("password:{id}"))])
            .map_err(|retry_after| Error::Throttled { retry_after })?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(internal)?;
        if !password::verify(current.to_string(), stored).await? {
            return Err(Error::invalid(
                "current",
                "the current password is not right",
            ));
        }
        self.limiter.succeeded(attempt);
        let hash = password::hash(new.to_string()).await?;
        self.store_password(id, hash, keep_tokens).await
    }

    /// Writes a password hash, ends the user's sessions and (unless `keep_tokens`) deletes their
    /// API tokens, all in one transaction; returns how many tokens went.
    async fn store_password(&self, id: i64, hash: String, keep_tokens: bool) -> Result<u64> {
        let mut tx = self.pool().begin().await.map_err(internal)?;
        let n = sqlx::query(
            "UPDATE users SET password_hash = $1, session_epoch = session_epoch + 1 WHERE id = $2",
        )
        .bind(hash)
        .bind(id)
        .execute(&mut *tx)
        .await
        .map_err(internal)?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("user".into()));
        }
        let revoked = if keep_tokens {
            0
        } else {
            sqlx::query("DELETE FROM api_tokens WHERE user_id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .map_err(internal)?
                .rows_affected()
        };
        tx.commit().await.map_err(internal)?;
        // Cached token identities stop counting; open streams check again.
        self.store.revoke([id]);
        Ok(revoked)
    }

    // ----- API tokens -----

    /// Creates a token; the secret is returned once and only its hash is kept.
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        expires_days: Option<u32>,
    ) -> Result<(TokenInfo, String)> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(Error::invalid(
                "name",
                "give the token a name of 1 to 100 characters",
            ));
        }
        if let Some(d) = expires_days {
            if !(1..=3650).contains(&d) {
                return Err(Error::invalid(
                    "expires_days",
                    "must be between 1 and 3650 days",
                ));
            }
        }
        let secret = format!("{TOKEN_PREFIX}{}", random_secret());
        let created = now();
        let expires = expires_days.map(|d| created + i64::from(d) * 86_400);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO api_tokens (user_id, name, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(user_id)
        .bind(name)
        .bind(token_hash(&secret).to_vec())
        .bind(created)
        .bind(expires)
        .fetch_one(self.pool())
        .await
        .map_err(internal)?;
        let info = TokenInfo {
            id,
            name: name.to_string(),
            created_at: created,
            last_used_at: None,
            expires_at: expires,
        };
        Ok((info, secret))
    }

    pub async fn list_tokens(&self, user_id: i64) -> Result<Vec<TokenInfo>> {
        sqlx::query_as("SELECT id, name, created_at, last_used_at, expires_at FROM api_tokens WHERE user_id = $1 ORDER BY created_at DESC, id DESC")
            .bind(user_id)
            .fetch_all(self.pool())
            .await
            .map_err(internal)
    }

    /// Revokes one of the user's own tokens; someone else's token is "not found".
    pub async fn revoke_token(&self, user_id: i64, token_id: i64) -> Result<()> {
        let n = sqlx::query("DELETE FROM api_tokens WHERE id = $1 AND user_id = $2")
            .bind(token_id)
            .bind(user_id)
            .execute(self.pool())
            .await
            .map_err(internal)?
            .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("token".into()));
        }
        self.store.revoke([user_id]);
        Ok(())
    }

    // ----- grants (admin) -----

    pub async fn grants_on(&self, host: &str) -> Result<Vec<Grant>> {
        let rows = sqlx::query(
            "SELECT g.host, g.subject_kind, g.subject_id, COALESCE(u.username, t.name, '?'), g.role
             FROM grants g LEFT JOIN users u ON g.subject_kind = 'user' AND u.id = g.subject_id
             LEFT JOIN teams t ON g.subject_kind = 'team' AND t.id = g.subject_id
             WHERE g.host = $1 ORDER BY g.subject_kind DESC, COALESCE(u.username, t.name, '?') COLLATE NOCASE",
        )
        .bind(host)
        .fetch_all(self.pool())
        .await
        .map_err(internal)?;
        rows.into_iter()
            .map(|r| {
                Ok(Grant {
                    host: r.get(0),
                    subject: if r.get::<&str, _>(1) == "team" {
                        SubjectKind::Team
                    } else {
                        SubjectKind::User
                    },
                    subject_id: r.get(2),
                    subject_name: r.get(3),
                    role: Role::parse(r.get::<&str, _>(4))
                        .map_err(|_| Error::Internal("bad role in store".into()))?,
                })
            })
            .collect()
    }

    /// Grants (or changes) a user's role on a host. The host must be checked by the caller.
    pub async fn set_grant(
        &self,
        host: &str,
        subject: SubjectKind,
        subject_id: i64,
        role: Role,
    ) -> Result<()> {
        if subject == SubjectKind::Team {
            let team: Option<i64> = sqlx::query_scalar("SELECT id FROM teams WHERE id = $1")
                .bind(subject_id)
                .fetch_optional(self.pool())
                .await
                .map_err(internal)?;
            team.ok_or_else(|| Error::invalid("team", "no such team"))?;
        } else {
            self.user(subject_id)
                .await
                .map_err(|_| Error::invalid("user", "no such user"))?;
        }
        sqlx::query(
            "INSERT INTO grants (host, subject_kind, subject_id, role, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (host, subject_kind, subject_id) DO UPDATE SET role = excluded.role",
        )
        .bind(host)
        .bind(subject.as_str())
        .bind(subject_id)
        .bind(role.as_str())
        .bind(now())
        .execute(self.pool())
        .await
        .map_err(internal)?;
        // A lowered role may forbid what an open terminal does.
        self.revoke_subject(subject, subject_id).await
    }

    pub async fn remove_grant(
        &self,
        host: &str,
        subject: SubjectKind,
        subject_id: i64,
    ) -> Result<()> {
        let n = sqlx::query(
            "DELETE FROM grants WHERE host = $1 AND subject_kind = $2 AND subject_id = $3",
        )
        .bind(host)
        .bind(subject.as_str())
        .bind(subject_id)
        .execute(self.pool())
        .await
        .map_err(internal)?
        .rows_affected();
        if n == 0 {
            return Err(Error::NotFound("grant".into()));
        }
        self.revoke_subject(subject, subject_id).await
    }
}

async fn insert_user(
    tx: &mut sqlx::AnyConnection,
    username: &str,
    hash: &str,
    admin: bool,
) -> Result<User> {
    let result = sqlx::query_as(&format!(
        "INSERT INTO users (username, password_hash, admin, created_at) VALUES ($1, $2, $3, $4) RETURNING {USER_COLUMNS}"
    ))
    .bind(username)
    .bind(hash)
    .bind(admin)
    .bind(now())
    .fetch_one(&mut *tx)
    .await;
    match result {
        Ok(u) => Ok(u),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(Error::Conflict(format!("the username {username} is taken")))
        }
        Err(e) => Err(internal(e)),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let mut bytes = contents.as_bytes().to_vec();
    bytes.push(b'\n');
    write_private_bytes(path, &bytes)
}

/// Writes a secret file readable only by the owner.
pub fn write_private_bytes(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    let mut f = options.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    f.write_all(contents)?;
    f.sync_all()
}
