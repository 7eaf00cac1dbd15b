//! The store: one SQLite file in the data directory (the embedded default), or a PostgreSQL
//! database shared by several Capstan replicas (`--database postgres://…`). Every store of the
//! backend (accounts, grants, teams, hosts, registries, guardrails, audit) speaks one SQL
//! through sqlx's `Any` driver; the schema of each database has its own migrations, compiled
//! into the binary and run at start (`migrations/sqlite`, `migrations/postgres`).
//!
//! The one SQL both databases take: numbered placeholders (`$1`), flags bound as `bool` and
//! read as [`Flag`], `TRUE`/`FALSE` literals, `RETURNING`, `ON CONFLICT`, and `COLLATE NOCASE`
//! (PostgreSQL's migrations create a case-insensitive collation of that name).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::any::{AnyArguments, AnyConnectOptions, AnyPoolOptions, AnyTypeInfo, AnyTypeInfoKind};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Any, AnyPool, Arguments, ConnectOptions, SqlitePool};

use crate::error::{Error, Result};

mod revocations;
pub mod transfer;

pub use revocations::Revocations;

/// The SQLite file in the data directory.
pub const SQLITE_FILE: &str = "capstan.db";

/// Where the store lives.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// A SQLite file (by default `<data dir>/capstan.db`).
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://user:password@host:port/database?…`).
    Postgres(String),
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Database::Sqlite(path) => write!(f, "sqlite:{}", path.display()),
            Database::Postgres(url) => write!(f, "{}", Database::redact(url)),
        }
    }
}

impl Database {
    /// The store for a data directory: `url` as given by `--database`, or the data directory's
    /// SQLite file when there is none. Accepts `postgres://`, `postgresql://` and
    /// `sqlite:PATH` (a relative path is taken from the working directory).
    pub fn parse(url: Option<&str>, data_dir: &Path) -> Result<Database> {
        let Some(url) = url.map(str::trim).filter(|u| !u.is_empty()) else {
            return Ok(Database::Sqlite(data_dir.join(SQLITE_FILE)));
        };
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            PgConnectOptions::from_str(url).map_err(|_| {
                Error::invalid(
                    "database",
                    "is not a PostgreSQL URL (postgres://user:password@host:port/database)",
                )
            })?;
            return Ok(Database::Postgres(url.to_string()));
        }
        if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(Error::invalid("database", "sqlite: needs a file path"));
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        Err(Error::invalid(
            "database",
            "must start with postgres:// (or postgresql://) or sqlite:",
        ))
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Database::Postgres(_))
    }

    /// The URL without its password, for logs and messages.
    pub fn redact(url: &str) -> String {
        let Some((scheme, rest)) = url.split_once("://") else {
            return "postgres://…".to_string();
        };
        match rest.rsplit_once('@') {
            Some((user_info, host)) => match user_info.split_once(':') {
                Some((user, _password)) => format!("{scheme}://{user}:…@{host}"),
                None => url.to_string(),
            },
            None => url.to_string(),
        }
    }
}

/// The pool of the database's own driver, for what needs it: the session store
/// (tower-sessions' stores take a concrete pool) and PostgreSQL's notifications.
#[derive(Clone, Debug)]
pub enum Native {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    native: Native,
    database: Arc<Database>,
    /// Counts committed changes to who may do what (see [`Store::access_changed`]).
    access: Arc<AtomicU64>,
    /// Open streams, woken when their user's access may have shrunk.
    revocations: Revocations,
    /// This process among the replicas on one PostgreSQL (its own notifications come back).
    replica: u64,
    /// Hosts another replica added, changed or removed (`*`: any may have changed).
    hosts_heard: tokio::sync::broadcast::Sender<String>,
    /// What other replicas saw of the hosts they monitor (JSON, [`crate::fleet::sharing`]).
    health_heard: tokio::sync::broadcast::Sender<String>,
}

/// The PostgreSQL channel on which replicas tell each other that access changed: the payload
/// is `<replica> <user id>,<user id>…` (no ids: only cached identities stop counting).
const ACCESS_CHANNEL: &str = "capstan_access";
/// The channel on which replicas tell each other that a stored host changed: `<replica> <slug>`.
const HOSTS_CHANNEL: &str = "capstan_hosts";

/// The channel on which the replica monitoring a host tells the others what it saw:
/// `<replica> <JSON>` ([`crate::fleet::sharing`]).
const HEALTH_CHANNEL: &str = "capstan_health";

/// Opening a store answers "failed" in words a person can act on; the driver's text (which
/// may carry the server's address) goes to the log.
fn unreachable(database: &Database, err: impl std::fmt::Display) -> Error {
    Error::Internal(format!("opening the store {database:?}: {err}"))
}

impl Store {
    /// Opens (creating if needed) `<data_dir>/capstan.db` and brings its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        Store::connect(&Database::Sqlite(data_dir.join(SQLITE_FILE))).await
    }

    /// Opens the store where `database` says and brings its schema up to date (several
    /// replicas starting at once on one PostgreSQL take turns: sqlx migrates under a lock).
    pub async fn connect(database: &Database) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let store = match database {
            Database::Sqlite(path) => Store::open_sqlite(database, path).await?,
            Database::Postgres(url) => Store::open_postgres(database, url).await?,
        };
        let migrator = match database {
            Database::Sqlite(_) => sqlx::migrate!("./migrations/sqlite"),
            Database::Postgres(_) => sqlx::migrate!("./migrations/postgres"),
        };
        migrator
            .run(&store.pool)
            .await
            .map_err(|e| Error::Internal(format!("migrating the store {database:?}: {e}")))?;
        if let Database::Sqlite(path) = database {
            private_files(path)?;
        }
        Ok(store)
    }

    async fn open_sqlite(database: &Database, path: &Path) -> Result<Store> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a write that was acknowledged survives a crash or power loss, not only a
            // killed process.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        // The session store's pool opens the file first, creating it in WAL mode.
        let native = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options.clone())
            .await
            .map_err(|e| unreachable(database, e))?;
        let any = AnyConnectOptions::from_url(&options.to_url_lossy())
            .map_err(|e| unreachable(database, e))?;
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    // What SqliteConnectOptions sets, for the Any driver's connections (it
                    // takes only the file and the mode from the URL).
                    for pragma in [
                        "PRAGMA foreign_keys = ON",
                        "PRAGMA synchronous = FULL",
                        "PRAGMA busy_timeout = 5000",
                    ] {
                        sqlx::query(pragma).execute(&mut *conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(any)
            .await
            .map_err(|e| unreachable(database, e))?;
        Ok(Store::new(pool, Native::Sqlite(native), database))
    }

    async fn open_postgres(database: &Database, url: &str) -> Result<Store> {
        let options = PgConnectOptions::from_str(url).map_err(|e| unreachable(database, e))?;
        // One connection first: a pool would only say it timed out, this says why (refused,
        // no such database, password rejected).
        sqlx::Connection::close(
            options
                .connect()
                .await
                .map_err(|e| unreachable(database, e))?,
        )
        .await
        .map_err(|e| unreachable(database, e))?;
        let native = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(|e| unreachable(database, e))?;
        let any = AnyConnectOptions::from_str(url).map_err(|e| unreachable(database, e))?;
        let pool = AnyPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(any)
            .await
            .map_err(|e| unreachable(database, e))?;
        Ok(Store::new(pool, Native::Postgres(native), database))
    }

    fn new(pool: AnyPool, native: Native, database: &Database) -> Store {
        Store {
            pool,
            native,
            database: Arc::new(database.clone()),
            access: Arc::default(),
            revocations: Revocations::new(),
            replica: rand::random(),
            hosts_heard: tokio::sync::broadcast::channel(64).0,
            health_heard: tokio::sync::broadcast::channel(1024).0,
        }
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Closes both pools (their connections end; a SQLite file is left checkpointed).
    pub async fn close(&self) {
        self.pool.close().await;
        match &self.native {
            Native::Sqlite(pool) => pool.close().await,
            Native::Postgres(pool) => pool.close().await,
        }
    }

    /// The database's own pool (sessions, notifications).
    pub fn native(&self) -> &Native {
        &self.native
    }

    pub fn database(&self) -> &Database {
        &self.database
    }

    /// How many changes to access this process has committed: an identity read while this
    /// was `n` is still right only while it is still `n`. Read it *before* reading identity.
    pub(crate) fn access_generation(&self) -> u64 {
        self.access.load(Ordering::Acquire)
    }

    /// Called *after* committing any change that can change what a principal is: a user's
    /// admin flag, disabled flag or existence, a token revoked, a grant set or removed, a team
    /// or team membership gone or added, a host removed. Identities cached before it stop
    /// counting (auth's token cache).
    pub(crate) fn access_changed(&self) {
        self.access.fetch_add(1, Ordering::AcqRel);
        self.tell_replicas(&[]);
    }

    /// After committing a change that may shrink these users' access: as
    /// [`Store::access_changed`], and their open streams (here and on every replica) check again.
    pub(crate) fn revoke(&self, users: impl IntoIterator<Item = i64>) {
        let users: Vec<i64> = users.into_iter().collect();
        self.access.fetch_add(1, Ordering::AcqRel);
        self.revocations.revoke_many(users.iter().copied());
        self.tell_replicas(&users);
    }

    pub fn revocations(&self) -> &Revocations {
        &self.revocations
    }

    fn tell_replicas(&self, users: &[i64]) {
        let ids: Vec<String> = users.iter().map(i64::to_string).collect();
        self.notify(ACCESS_CHANNEL, ids.join(","));
    }

    /// After committing a change to the stored host `slug`: the other replicas load it again.
    pub(crate) fn host_changed(&self, slug: &str) {
        self.notify(HOSTS_CHANNEL, slug.to_string());
    }

    /// Stored hosts the other replicas changed, as they say so (`*`: reload them all).
    pub(crate) fn hosts_heard(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.hosts_heard.subscribe()
    }

    /// This process's name among the replicas.
    pub(crate) fn replica(&self) -> u64 {
        self.replica
    }

    /// The PostgreSQL pool when replicas may share this store.
    pub(crate) fn postgres(&self) -> Option<&PgPool> {
        match &self.native {
            Native::Postgres(pool) => Some(pool),
            Native::Sqlite(_) => None,
        }
    }

    /// Tells the other replicas what this one saw of a host it monitors.
    pub(crate) fn tell_health(&self, seen: String) {
        self.notify(HEALTH_CHANNEL, seen);
    }

    /// What the other replicas saw of the hosts they monitor, as they say it.
    pub(crate) fn health_heard(&self) -> tokio::sync::broadcast::Receiver<String> {
        self.health_heard.subscribe()
    }

    fn notify(&self, channel: &'static str, message: String) {
        let Native::Postgres(pool) = &self.native else {
            return;
        };
        let payload = format!("{} {message}", self.replica);
        let pool = pool.clone();
        // After the commit, off the caller's path: the others hear it within milliseconds.
        tokio::spawn(async move {
            if let Err(e) = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(&pool)
                .await
            {
                tracing::warn!(error = %e, channel, "telling the other replicas");
            }
        });
    }

    /// On PostgreSQL: hears the other replicas' access changes until `shutdown` (nothing to do
    /// on SQLite, which one process serves). A change heard counts as if made here: cached
    /// identities stop counting, the named users' streams check again. If the connection drops,
    /// what was said meanwhile is lost: every stream checks again once it is back.
    pub fn follow_replicas(&self, shutdown: tokio_util::sync::CancellationToken) {
        let Native::Postgres(pool) = &self.native else {
            return;
        };
        let (pool, store) = (pool.clone(), self.clone());
        tokio::spawn(async move {
            let mut listener = loop {
                let attempt = async {
                    let mut l = sqlx::postgres::PgListener::connect_with(&pool).await?;
                    l.listen_all([ACCESS_CHANNEL, HOSTS_CHANNEL, HEALTH_CHANNEL])
                        .await?;
                    Ok::<_, sqlx::Error>(l)
                };
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    l = attempt => match l {
                        Ok(l) => break l,
                        Err(e) => {
                            tracing::warn!(error = %e, "listening for the other replicas; trying again");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    },
                }
            };
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    heard = listener.try_recv() => match heard {
                        Ok(Some(n)) => store.heard(n.channel(), n.payload()),
                        Ok(None) => {
                            tracing::warn!("the connection to the other replicas was lost and is back");
                            store.access.fetch_add(1, Ordering::AcqRel);
                            store.revocations.revoke_all();
                            let _ = store.hosts_heard.send("*".into());
                        }
                        Err(e) => {
                            tracing::warn!(error = %e, "hearing the other replicas");
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    },
                }
            }
        });
    }

    fn heard(&self, channel: &str, payload: &str) {
        let (from, message) = payload.split_once(' ').unwrap_or((payload, ""));
        if from == self.replica.to_string() {
            return;
        }
        if channel == HEALTH_CHANNEL {
            let _ = self.health_heard.send(message.to_string());
            return;
        }
        if channel == HOSTS_CHANNEL {
            // Nobody listening (no registry follows) is fine.
            let _ = self.hosts_heard.send(message.to_string());
            return;
        }
        self.access.fetch_add(1, Ordering::AcqRel);
        self.revocations
            .revoke_many(message.split(',').filter_map(|id| id.parse().ok()));
    }
}

/// For tests: the store of a data directory. With `CAPSTAN_TEST_POSTGRES` set (a URL of a
/// private cluster's `postgres` database, `scripts/testenv.sh` starts one) each data directory
/// gets a fresh PostgreSQL database of its own, remembered in the directory so that opening it
/// again (a restart) finds the same one; otherwise the directory's SQLite file.
#[doc(hidden)]
pub async fn open_for_test(data_dir: &Path) -> Result<Store> {
    let Ok(admin) = std::env::var("CAPSTAN_TEST_POSTGRES") else {
        return Store::open(data_dir).await;
    };
    let remembered = data_dir.join("test-database-url");
    let database = match std::fs::read_to_string(&remembered) {
        Ok(url) => Database::Postgres(url),
        Err(_) => {
            let database = scratch_postgres(&admin).await?;
            if let Database::Postgres(url) = &database {
                std::fs::write(&remembered, url).map_err(internal)?;
            }
            database
        }
    };
    Store::connect(&database).await
}

/// For tests: a new, empty database on the PostgreSQL server `admin` (a URL of a database
/// there, whose user may create databases) is on.
#[doc(hidden)]
pub async fn scratch_postgres(admin: &str) -> Result<Database> {
    use sqlx::Connection;
    let name = format!("capstan_test_{}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(admin).await.map_err(internal)?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .map_err(internal)?;
    let base = admin.rsplit_once('/').map_or(admin, |(base, _)| base);
    Ok(Database::Postgres(format!("{base}/{name}")))
}

/// A SQLite database's files: the database, its write-ahead log and its index.
fn sqlite_files(path: &Path) -> [PathBuf; 3] {
    ["", "-wal", "-shm"].map(|suffix| {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        PathBuf::from(name)
    })
}

/// The database holds password hashes, sealed secrets and the audit log: 0600, with its
/// write-ahead log and index beside it.
fn private_files(path: &Path) -> Result<()> {
    #[cfg(unix)]
    for file in sqlite_files(path) {
        use std::os::unix::fs::PermissionsExt;
        if file.exists() {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))
                .map_err(|e| Error::Internal(format!("making {} private: {e}", file.display())))?;
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// A yes/no column: SQLite keeps it as an integer, PostgreSQL as a boolean; both read as this.
/// (Bind flags as plain `bool`: SQLite takes it as 0/1.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flag(pub bool);

impl From<Flag> for bool {
    fn from(f: Flag) -> bool {
        f.0
    }
}

impl sqlx::Type<Any> for Flag {
    fn type_info() -> AnyTypeInfo {
        <bool as sqlx::Type<Any>>::type_info()
    }

    fn compatible(ty: &AnyTypeInfo) -> bool {
        ty.kind() == AnyTypeInfoKind::Bool || ty.kind().is_integer()
    }
}

impl<'r> sqlx::Decode<'r, Any> for Flag {
    fn decode(
        value: sqlx::any::AnyValueRef<'r>,
    ) -> std::result::Result<Self, sqlx::error::BoxDynError> {
        match <bool as sqlx::Decode<Any>>::decode(value.clone()) {
            Ok(b) => Ok(Flag(b)),
            Err(_) => <i64 as sqlx::Decode<Any>>::decode(value).map(|i| Flag(i != 0)),
        }
    }
}

/// A query put together from pieces, with numbered placeholders (sqlx's `QueryBuilder` writes
/// `?` for the `Any` driver, which PostgreSQL does not take).
pub(crate) struct Sql {
    text: String,
    args: AnyArguments<'static>,
    n: usize,
}

impl Sql {
    pub(crate) fn new(text: &str) -> Sql {
        Sql {
            text: text.to_string(),
            args: AnyArguments::default(),
            n: 0,
        }
    }

    pub(crate) fn push(&mut self, text: &str) -> &mut Sql {
        self.text.push_str(text);
        self
    }

    /// Appends the next placeholder (`$n`) and binds `value` to it.
    pub(crate) fn bind<T>(&mut self, value: T) -> &mut Sql
    where
        T: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Send + 'static,
    {
        self.n += 1;
        self.text.push_str(&format!("${}", self.n));
        // Adding to `AnyArguments` fails only for a value that cannot encode: ours all can.
        let _ = self.args.add(value);
        self
    }

    /// The number of the last placeholder, to refer to it again (`$n`).
    pub(crate) fn last(&self) -> usize {
        self.n
    }

    /// The query to run (its arguments move into it: run it once).
    pub(crate) fn query(&mut self) -> sqlx::query::Query<'_, Any, AnyArguments<'_>> {
        let args: AnyArguments<'_> = std::mem::take(&mut self.args);
        sqlx::query_with(&self.text, args)
    }
}

/// Store errors are internal: their text (SQL, paths) is logged, never shown.
pub(crate) fn internal(err: impl std::fmt::Display) -> Error {
    Error::Internal(format!("store: {err}"))
}

pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
