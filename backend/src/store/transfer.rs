//! Moving the store's records: an online backup (SQLite's `VACUUM INTO`, PostgreSQL's
//! `pg_dump`), putting a backup back, and copying every record from one database to another
//! (`capstan migrate --to`, SQLite to PostgreSQL or back).
//!
//! What a backup does not hold: the data directory's key files. `host-secrets.key` opens the
//! stored TLS keys and registry passwords (without it they are lost), `session.key` signs the
//! session cookies (without it everyone signs in again). Keep them with the backup.

use std::path::Path;
use std::process::Stdio;

use sqlx::any::AnyRow;
use sqlx::{Any, Row};

use super::{internal, Database, Flag, Store};
use crate::error::{Error, Result};

/// The key files a backup needs beside it (in the data directory).
pub const KEY_FILES: [&str; 2] = [crate::secret::KEY_FILE, "session.key"];

/// How a column is read from one database and written to the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Int,
    Text,
    Bytes,
    Flag,
}

use Kind::{Bytes, Flag as Yes, Int, Text};

/// Every table and column of the schema, parents before children (foreign keys), with the
/// column that orders the copy. A test checks this against the migrated schema: a migration
/// that adds a column must add it here.
type Columns = &'static [(&'static str, Kind)];

const TABLES: &[(&str, &str, Columns)] = &[
    (
        "users",
        "id",
        &[
            ("id", Int),
            ("username", Text),
            ("password_hash", Text),
            ("admin", Yes),
            ("disabled", Yes),
            ("session_epoch", Int),
            ("created_at", Int),
            ("last_login_at", Int),
        ],
    ),
    (
        "api_tokens",
        "id",
        &[
            ("id", Int),
            ("user_id", Int),
            ("name", Text),
            ("secret_hash", Bytes),
            ("created_at", Int),
            ("last_used_at", Int),
            ("expires_at", Int),
        ],
    ),
    (
        "teams",
        "id",
        &[("id", Int), ("name", Text), ("created_at", Int)],
    ),
    (
        "team_members",
        "team_id, user_id",
        &[("team_id", Int), ("user_id", Int), ("added_at", Int)],
    ),
    (
        "grants",
        "id",
        &[
            ("id", Int),
            ("host", Text),
            ("subject_kind", Text),
            ("subject_id", Int),
            ("role", Text),
            ("created_at", Int),
        ],
    ),
    (
        "login_failures",
        "id",
        &[
            ("id", Int),
            ("at", Int),
            ("username", Text),
            ("client", Text),
            ("network", Text),
        ],
    ),
    ("meta", "key", &[("key", Text), ("value", Text)]),
    (
        "hosts",
        "slug",
        &[
            ("slug", Text),
            ("name", Text),
            ("url", Text),
            ("labels", Text),
            ("tls_ca", Text),
            ("tls_cert", Text),
            ("tls_key_sealed", Bytes),
            ("created_at", Int),
            ("updated_at", Int),
        ],
    ),
    (
        "registry_credentials",
        "id",
        &[
            ("id", Int),
            ("server", Text),
            ("username", Text),
            ("password_sealed", Bytes),
            ("created_at", Int),
        ],
    ),
    (
        "audit_log",
        "id",
        &[
            ("id", Int),
            ("at", Int),
            ("user_id", Int),
            ("username", Text),
            ("client", Text),
            ("host", Text),
            ("object", Text),
            ("action", Text),
            ("params", Text),
            ("status", Int),
            ("outcome", Text),
        ],
    ),
    (
        "host_guardrails",
        "host",
        &[
            ("host", Text),
            ("privileged", Yes),
            ("bind_mounts", Text),
            ("bind_prefixes", Text),
            ("host_network", Yes),
            ("host_pid", Yes),
            ("host_ipc", Yes),
            ("cap_add", Yes),
            ("devices", Yes),
            ("updated_at", Int),
            ("cap_allow", Text),
            ("device_allow", Text),
            ("volume_drivers", Text),
            ("network_drivers", Text),
            ("bind_writable", Yes),
            ("env_visible", Yes),
        ],
    ),
];

/// Tables whose `id` the database numbers itself: PostgreSQL's counters must continue after
/// the copied rows.
const NUMBERED: [&str; 7] = [
    "users",
    "api_tokens",
    "teams",
    "grants",
    "login_failures",
    "registry_credentials",
    "audit_log",
];

/// How many rows of each table were copied.
pub type Copied = Vec<(&'static str, u64)>;

/// Copies every record from `from` into `to`, which must hold none yet (its schema is brought
/// up to date first). One transaction on the target: a failure leaves it as it was. Sessions
/// are not copied (people sign in again); the key files stay where they are.
pub async fn copy(from: &Store, to: &Store) -> Result<Copied> {
    for (table, _, _) in TABLES {
        if *table == "meta" {
            continue; // the target's migrations write their own defaults there
        }
        let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM {table}"))
            .fetch_one(to.pool())
            .await
            .map_err(internal)?;
        if n > 0 {
            return Err(Error::Conflict(format!(
                "the target database already holds records ({table}): migrate into an empty one"
            )));
        }
    }
    let mut tx = to.pool().begin().await.map_err(internal)?;
    sqlx::query("DELETE FROM meta")
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    let mut copied = Vec::new();
    for (table, order, columns) in TABLES {
        let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
        let select = format!("SELECT {} FROM {table} ORDER BY {order}", names.join(", "));
        let marks: Vec<String> = (1..=columns.len()).map(|i| format!("${i}")).collect();
        let insert = format!(
            "INSERT INTO {table} ({}) VALUES ({})",
            names.join(", "),
            marks.join(", ")
        );
        let rows = sqlx::query(&select)
            .fetch_all(from.pool())
            .await
            .map_err(internal)?;
        for row in &rows {
            bind_row(sqlx::query(&insert), row, columns)?
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
        }
        copied.push((*table, rows.len() as u64));
    }
    if to.database().is_postgres() {
        for table in NUMBERED {
            sqlx::query(&format!(
                "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                 (SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            ))
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        }
    }
    tx.commit().await.map_err(internal)?;
    to.access_changed();
    Ok(copied)
}

type Insert<'q> = sqlx::query::Query<'q, Any, sqlx::any::AnyArguments<'q>>;

fn bind_row<'q>(mut q: Insert<'q>, row: &AnyRow, columns: &[(&str, Kind)]) -> Result<Insert<'q>> {
    for (i, (name, kind)) in columns.iter().enumerate() {
        let bad = |e: sqlx::Error| internal(format!("reading column {name}: {e}"));
        q = match kind {
            Int => q.bind(row.try_get::<Option<i64>, _>(i).map_err(bad)?),
            Text => q.bind(row.try_get::<Option<String>, _>(i).map_err(bad)?),
            Bytes => q.bind(row.try_get::<Option<Vec<u8>>, _>(i).map_err(bad)?),
            Yes => q.bind(row.try_get::<Option<Flag>, _>(i).map_err(bad)?.map(|f| f.0)),
        };
    }
    Ok(q)
}

/// Writes a consistent copy of the store to `file` while Capstan runs: SQLite's
/// `VACUUM INTO` (a database file of its own), or `pg_dump`'s custom format for PostgreSQL
/// (put back with `capstan restore`, or `pg_restore`).
pub async fn backup(store: &Store, file: &Path) -> Result<()> {
    if file.exists() {
        return Err(Error::Conflict(format!(
            "{} exists already: name a new file",
            file.display()
        )));
    }
    match store.database() {
        Database::Sqlite(_) => {
            let path = file
                .to_str()
                .ok_or_else(|| Error::invalid("file", "must be a UTF-8 path"))?;
            sqlx::query("VACUUM INTO $1")
                .bind(path.to_string())
                .execute(store.pool())
                .await
                .map_err(|e| Error::Internal(format!("backing up into {}: {e}", file.display())))?;
            super::private_files(file)
        }
        Database::Postgres(url) => {
            let file_arg = file.as_os_str().to_owned();
            run_tool(
                "pg_dump",
                &[
                    "--format=custom".into(),
                    "--no-owner".into(),
                    "--file".into(),
                    file_arg,
                    url.into(),
                ],
            )
            .await?;
            super::private_files(file)
        }
    }
}

/// Puts a backup back. Capstan must not be running on this store (every replica stopped).
/// SQLite: the backup is checked (it must open as a Capstan database) and replaces the file;
/// PostgreSQL: `pg_restore --clean` into the database.
pub async fn restore(database: &Database, file: &Path) -> Result<()> {
    if !file.is_file() {
        return Err(Error::invalid(
            "file",
            format!("{} is not a file", file.display()),
        ));
    }
    match database {
        Database::Sqlite(path) => {
            // A copy first, opened and brought up to date there: the live file is replaced
            // only by a database that opened.
            let staged = path.with_extension("db.restoring");
            let _ = std::fs::remove_file(&staged);
            std::fs::copy(file, &staged)
                .map_err(|e| Error::Internal(format!("copying {}: {e}", file.display())))?;
            let check = Store::connect(&Database::Sqlite(staged.clone())).await;
            let check = match check {
                Ok(store) => {
                    let users: std::result::Result<i64, _> =
                        sqlx::query_scalar("SELECT COUNT(*) FROM users")
                            .fetch_one(store.pool())
                            .await;
                    store.close().await;
                    users.map(|_| ()).map_err(internal)
                }
                Err(e) => Err(e),
            };
            if let Err(e) = check {
                for file in super::sqlite_files(&staged) {
                    let _ = std::fs::remove_file(file);
                }
                return Err(Error::invalid(
                    "file",
                    format!(
                        "{} is not a Capstan backup ({})",
                        file.display(),
                        e.log_detail()
                    ),
                ));
            }
            for file in &super::sqlite_files(path)[1..] {
                let _ = std::fs::remove_file(file);
            }
            std::fs::rename(&staged, path)
                .map_err(|e| Error::Internal(format!("replacing {}: {e}", path.display())))?;
            super::private_files(path)
        }
        Database::Postgres(url) => {
            run_tool(
                "pg_restore",
                &[
                    "--clean".into(),
                    "--if-exists".into(),
                    "--no-owner".into(),
                    "--single-transaction".into(),
                    "--dbname".into(),
                    url.into(),
                    file.as_os_str().to_owned(),
                ],
            )
            .await
        }
    }
}

/// Runs one of PostgreSQL's client programs; its complaint is the error.
async fn run_tool(program: &str, args: &[std::ffi::OsString]) -> Result<()> {
    let out = tokio::process::Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .await
        .map_err(|e| {
            Error::Internal(format!(
                "{program} could not run ({e}): install PostgreSQL's client programs \
                 (Debian: apt-get install postgresql-client)"
            ))
        })?;
    if out.status.success() {
        return Ok(());
    }
    Err(Error::Internal(format!(
        "{program} failed: {}",
        String::from_utf8_lossy(&out.stderr).trim()
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The copy's table list is the schema: every table (but the session store's and sqlx's
    /// own) and every column, as SQLite's migrations leave them.
    #[tokio::test]
    async fn the_copy_knows_every_table_and_column() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).await.expect("store");
        let tables: Vec<String> = sqlx::query_scalar(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' \
             AND name NOT LIKE '_sqlx%' ORDER BY name",
        )
        .fetch_all(store.pool())
        .await
        .expect("tables");
        let mut known: Vec<String> = TABLES.iter().map(|(t, _, _)| t.to_string()).collect();
        known.sort();
        assert_eq!(tables, known);
        for (table, _, columns) in TABLES {
            let mut actual: Vec<String> =
                sqlx::query_scalar(&format!("SELECT name FROM pragma_table_info('{table}')"))
                    .fetch_all(store.pool())
                    .await
                    .expect("columns");
            let mut listed: Vec<String> = columns.iter().map(|(c, _)| c.to_string()).collect();
            actual.sort();
            listed.sort();
            assert_eq!(actual, listed, "columns of {table}");
        }
    }
}
