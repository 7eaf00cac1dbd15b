//! The embedded store: one SQLite file in the data directory, WAL mode, migrations compiled
//! into the binary and run at start.

use std::path::Path;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use crate::error::{Error, Result};

#[derive(Clone)]
pub struct Store {
    pool: SqlitePool,
    /// Counts committed changes to who may do what (see [`Store::access_changed`]).
    access: Arc<AtomicU64>,
}

impl Store {
    /// Opens (creating if needed) `<data_dir>/capstan.db` and brings its schema up to date.
    pub async fn open(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join("capstan.db");
        let options = SqliteConnectOptions::from_str("sqlite://")
            .map_err(internal)?
            .filename(&path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a write that was acknowledged survives a crash or power loss, not only a
            // killed process.
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(5));
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options)
            .await
            .map_err(|e| Error::Internal(format!("opening {}: {e}", path.display())))?;
        sqlx::migrate!("./migrations")
            .run(&pool)
            .await
            .map_err(|e| Error::Internal(format!("migrating {}: {e}", path.display())))?;
        // The database holds password hashes, sealed secrets and the audit log: 0600, with its
        // write-ahead log and index beside it.
        #[cfg(unix)]
        for suffix in ["", "-wal", "-shm"] {
            use std::os::unix::fs::PermissionsExt;
            let file = data_dir.join(format!("capstan.db{suffix}"));
            if file.exists() {
                std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).map_err(
                    |e| Error::Internal(format!("making {} private: {e}", file.display())),
                )?;
            }
        }
        Ok(Store {
            pool,
            access: Arc::default(),
        })
    }

    pub fn pool(&self) -> &SqlitePool {
        &self.pool
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
