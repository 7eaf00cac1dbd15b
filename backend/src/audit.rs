//! The audit log: who did what, where, when, from which address, and how it ended.
//!
//! Rows are appended by one writer task, many to a transaction, and a request is answered
//! only once its row is committed: a process killed at any moment has lost no row of an
//! answer it sent (an action whose answer never left may still have no row). What waits for
//! the writer is bounded by bytes
//! ([`QUEUE_BYTES`]): a request whose row does not fit waits until the writer catches up
//! (back-pressure) instead of its row being dropped, so nobody can flood the log empty.
//! Rows are never changed (a trigger refuses any UPDATE); the retention task is the only thing
//! that deletes them.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};
use tokio::sync::{mpsc, oneshot, OwnedSemaphorePermit, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::error::{Error, Result};
use crate::store::{internal, now, Sql};

/// How many bytes of rows may wait for the writer before recording waits; counted in KiB.
pub const QUEUE_BYTES: usize = 16 * 1024 * 1024;
const QUEUE_KIB: usize = QUEUE_BYTES / 1024;
/// The most rows written in one transaction.
const BATCH: usize = 256;
const RETENTION_KEY: &str = "audit_retention_days";
pub const DEFAULT_RETENTION_DAYS: u32 = 90;
pub const MAX_PAGE: u32 = 500;
const REDACTED: &str = "[redacted]";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Ok,
    /// Refused: not signed in, wrong credentials, not allowed, or a host the caller may not see.
    Denied,
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Denied => "denied",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Result<Outcome> {
        match s {
            "ok" => Ok(Outcome::Ok),
            "denied" => Ok(Outcome::Denied),
            "failed" => Ok(Outcome::Failed),
            _ => Err(Error::invalid("outcome", "must be ok, denied or failed")),
        }
    }

    /// The outcome an HTTP status stands for; `denied` covers 401 and 403 (a policy 404 is
    /// marked by the caller, which knows it came from the policy).
    pub fn of_status(status: u16) -> Outcome {
        match status {
            401 | 403 => Outcome::Denied,
            s if s < 400 => Outcome::Ok,
            _ => Outcome::Failed,
        }
    }
}

/// One thing that happened, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub at: i64,
    pub user_id: Option<i64>,
    pub username: Option<String>,
    pub client: Option<String>,
    pub host: Option<String>,
    pub object: Option<String>,
    pub action: String,
    /// A JSON object; secrets must already be redacted (see [`redact`]).
    pub params: serde_json::Value,
    pub status: u16,
    pub outcome: Outcome,
}

impl Record {
    /// About how many bytes the row holds while it waits.
    pub fn size(&self) -> usize {
        let text = |t: &Option<String>| t.as_ref().map_or(0, String::len);
        128 + text(&self.username)
            + text(&self.client)
            + text(&self.host)
            + text(&self.object)
            + self.action.len()
            + self.params.to_string().len()
    }
}

/// A stored row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub id: i64,
    #[serde(flatten)]
    pub record: Record,
}

/// What to look for; every field narrows. Newest first, `before` an id for the next page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct Filter {
    /// A username (case-insensitive).
    pub user: Option<String>,
    pub host: Option<String>,
    /// An action, or a prefix ending in `.` or `*` (`container.` → every container action).
    pub action: Option<String>,
    pub outcome: Option<String>,
    /// Unix seconds, inclusive.
    pub since: Option<i64>,
    /// Unix seconds, exclusive.
    pub until: Option<i64>,
    pub limit: Option<u32>,
    pub before: Option<i64>,
}

impl Filter {
    /// Checks the fields, naming the first that is wrong.
    pub fn validate(&self) -> Result<()> {
        if let Some(o) = &self.outcome {
            Outcome::parse(o)?;
        }
        if let Some(l) = self.limit {
            if !(1..=MAX_PAGE).contains(&l) {
                return Err(Error::invalid(
                    "limit",
                    format!("must be between 1 and {MAX_PAGE}"),
                ));
            }
        }
        if let (Some(s), Some(u)) = (self.since, self.until) {
            if s > u {
                return Err(Error::invalid("until", "must not be before since"));
            }
        }
        Ok(())
    }

    fn push_where(&self, q: &mut Sql) {
        q.push(" WHERE 1 = 1");
        if let Some(u) = self.user.as_deref().filter(|u| !u.is_empty()) {
            q.push(" AND username = ")
                .bind(u.to_string())
                .push(" COLLATE NOCASE");
        }
        if let Some(h) = self.host.as_deref().filter(|h| !h.is_empty()) {
            q.push(" AND host = ").bind(h.to_string());
        }
        if let Some(a) = self.action.as_deref().filter(|a| !a.is_empty()) {
            if let Some(prefix) = a
                .strip_suffix('*')
                .or_else(|| a.ends_with('.').then_some(a))
            {
                q.push(" AND substr(action, 1, length(")
                    .bind(prefix.to_string());
                let n = q.last();
                q.push(&format!(")) = ${n}"));
            } else {
                q.push(" AND action = ").bind(a.to_string());
            }
        }
        if let Some(o) = self.outcome.as_deref().filter(|o| !o.is_empty()) {
            q.push(" AND outcome = ").bind(o.to_string());
        }
        if let Some(s) = self.since {
            q.push(" AND at >= ").bind(s);
        }
        if let Some(u) = self.until {
            q.push(" AND at < ").bind(u);
        }
        if let Some(b) = self.before {
            q.push(" AND id < ").bind(b);
        }
    }
}

enum Msg {
    /// A row, its share of the byte budget (given back once it is written), and who waits
    /// for its commit.
    Row(Box<Record>, OwnedSemaphorePermit, oneshot::Sender<()>),
    Flush(oneshot::Sender<()>),
}

/// The handle every entry point records through; cheap to clone.
#[derive(Clone)]
pub struct Audit {
    pool: AnyPool,
    tx: mpsc::UnboundedSender<Msg>,
    budget: Arc<Semaphore>,
}

impl Audit {
    /// Starts the writer task (it ends once every handle is gone) and the daily retention task
    /// (it ends on `shutdown`).
    pub fn start(pool: AnyPool, shutdown: CancellationToken) -> Audit {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(writer(pool.clone(), rx));
        let audit = Audit {
            pool,
            tx,
            budget: Arc::new(Semaphore::new(QUEUE_KIB)),
        };
        let pruner = audit.clone_without_sender();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(Duration::from_secs(86_400));
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = every.tick() => match pruner.prune().await {
                        Ok(0) => {}
                        Ok(n) => tracing::info!(rows = n, "audit rows past retention deleted"),
                        Err(e) => tracing::warn!(error = %e.log_detail(), "pruning the audit log"),
                    },
                }
            }
        });
        audit
    }

    /// A handle for the pruner that does not keep the writer alive.
    fn clone_without_sender(&self) -> Pruner {
        Pruner {
            pool: self.pool.clone(),
        }
    }

    /// Writes a row: returns once it is committed (with the rows queued beside it, one
    /// transaction for all, so many requests at once cost one commit), so an answer sent
    /// after it is never lost from the trail when the process dies. Waits first while the rows
    /// not yet written hold [`QUEUE_BYTES`]: a flood of requests slows down rather than losing
    /// its rows. A row the database refuses five times is logged as lost and this returns.
    pub async fn record(&self, record: Record) {
        let kib = (record.size() / 1024 + 1).min(QUEUE_KIB);
        let permit = match self.budget.clone().try_acquire_many_owned(kib as u32) {
            Ok(p) => p,
            Err(_) => {
                tracing::debug!(action = %record.action, "audit queue full: waiting for the writer");
                match self.budget.clone().acquire_many_owned(kib as u32).await {
                    Ok(p) => p,
                    Err(_) => return, // closed: shutting down
                }
            }
        };
        let (done, committed) = oneshot::channel();
        if self
            .tx
            .send(Msg::Row(Box::new(record), permit, done))
            .is_err()
        {
            tracing::warn!("the audit writer has stopped: a row was not written");
            return;
        }
        let _ = committed.await;
    }

    /// Bytes of rows waiting for the writer (rounded up to KiB per row).
    pub fn queued_bytes(&self) -> usize {
        (QUEUE_KIB - self.budget.available_permits()) * 1024
    }

    /// Waits until every row queued before this call is written.
    pub async fn flush(&self) {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).is_ok() {
            let _ = wait.await;
        }
    }

    /// Newest first, at most `filter.limit` (default 100) rows.
    pub async fn query(&self, filter: &Filter) -> Result<Vec<Entry>> {
        filter.validate()?;
        fetch(&self.pool, filter, filter.limit.unwrap_or(100)).await
    }

    /// Every matching row as CSV (header first), newest first, read from the store a page at a
    /// time as the client takes it.
    pub fn csv(
        &self,
        filter: Filter,
    ) -> Result<impl Stream<Item = std::io::Result<Bytes>> + Send + 'static> {
        csv_in(self.pool.clone(), filter)
    }

    pub async fn retention_days(&self) -> Result<u32> {
        retention_days(&self.pool).await
    }

    pub async fn set_retention_days(&self, days: u32) -> Result<()> {
        set_retention_days_in(&self.pool, "retention_days", days).await
    }

    /// Deletes rows older than the retention; the only deletion of audit rows anywhere.
    pub async fn prune(&self) -> Result<u64> {
        self.clone_without_sender().prune().await
    }
}

/// Reads the log without a writer handle (for server fns): like [`Audit::query`].
pub fn csv_in(
    pool: AnyPool,
    filter: Filter,
) -> Result<impl Stream<Item = std::io::Result<Bytes>> + Send + 'static> {
    filter.validate()?;
    let header = Bytes::from_static(
        b"id,time,user_id,user,client,host,object,action,params,status,outcome\n",
    );
    let pages = futures::stream::unfold(Some(filter), move |state| {
        let pool = pool.clone();
        async move {
            let filter = state?;
            match fetch(&pool, &filter, MAX_PAGE).await {
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let next = Filter {
                        before: rows.last().map(|r| r.id),
                        ..filter
                    };
                    let full = rows.len() == MAX_PAGE as usize;
                    let mut out = String::new();
                    for r in &rows {
                        csv_line(&mut out, r);
                    }
                    Some((Ok(Bytes::from(out)), full.then_some(next)))
                }
                Err(e) => {
                    tracing::warn!(error = %e.log_detail(), "audit CSV export");
                    Some((
                        Err(std::io::Error::other("the audit log could not be read")),
                        None,
                    ))
                }
            }
        }
    });
    Ok(futures::StreamExt::chain(
        futures::stream::once(async move { Ok(header) }),
        pages,
    ))
}

pub async fn query_in(pool: &AnyPool, filter: &Filter) -> Result<Vec<Entry>> {
    filter.validate()?;
    fetch(pool, filter, filter.limit.unwrap_or(100)).await
}

/// Sets the retention (1–3650 days); `field` names the input on error. The daily pruning
/// reads it from the store.
pub async fn set_retention_days_in(pool: &AnyPool, field: &str, days: u32) -> Result<()> {
    if !(1..=3650).contains(&days) {
        return Err(Error::invalid(field, "must be between 1 and 3650 days"));
    }
    sqlx::query("INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value")
        .bind(RETENTION_KEY)
        .bind(days.to_string())
        .execute(pool)
        .await
        .map_err(internal)?;
    Ok(())
}

/// The retention in days, read from the store.
pub async fn retention_days_in(pool: &AnyPool) -> Result<u32> {
    retention_days(pool).await
}

/// `YYYY-MM-DD` → the unix second that day starts (UTC); `field` names the input on error.
pub fn day_start(field: &str, date: &str) -> Result<i64> {
    let bad = || Error::invalid(field, "use a date like 2026-01-31");
    let mut parts = date.trim().splitn(3, '-').map(str::parse::<u16>);
    let (Some(Ok(y)), Some(Ok(m)), Some(Ok(d))) = (parts.next(), parts.next(), parts.next()) else {
        return Err(bad());
    };
    let month = time::Month::try_from(u8::try_from(m).map_err(|_| bad())?).map_err(|_| bad())?;
    let day =
        time::Date::from_calendar_date(i32::from(y), month, u8::try_from(d).map_err(|_| bad())?)
            .map_err(|_| bad())?;
    Ok(day.midnight().assume_utc().unix_timestamp())
}

struct Pruner {
    pool: AnyPool,
}

impl Pruner {
    async fn prune(&self) -> Result<u64> {
        let days = retention_days(&self.pool).await?;
        let cutoff = now() - i64::from(days) * 86_400;
        let done = sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await
            .map_err(internal)?;
        Ok(done.rows_affected())
    }
}

async fn retention_days(pool: &AnyPool) -> Result<u32> {
    let value: Option<String> = sqlx::query_scalar("SELECT value FROM meta WHERE key = $1")
        .bind(RETENTION_KEY)
        .fetch_optional(pool)
        .await
        .map_err(internal)?;
    Ok(value
        .and_then(|v| v.parse().ok())
        .unwrap_or(DEFAULT_RETENTION_DAYS))
}

async fn fetch(pool: &AnyPool, filter: &Filter, limit: u32) -> Result<Vec<Entry>> {
    let mut q = Sql::new(
        "SELECT id, at, user_id, username, client, host, object, action, params, status, outcome FROM audit_log",
    );
    filter.push_where(&mut q);
    q.push(" ORDER BY id DESC LIMIT ").bind(i64::from(limit));
    let rows = q.query().fetch_all(pool).await.map_err(internal)?;
    Ok(rows
        .into_iter()
        .map(|r| Entry {
            id: r.get(0),
            record: Record {
                at: r.get(1),
                user_id: r.get(2),
                username: r.get(3),
                client: r.get(4),
                host: r.get(5),
                object: r.get(6),
                action: r.get(7),
                params: serde_json::from_str(r.get::<&str, _>(8))
                    .unwrap_or(serde_json::Value::Null),
                status: u16::try_from(r.get::<i64, _>(9)).unwrap_or(0),
                outcome: Outcome::parse(r.get::<&str, _>(10)).unwrap_or(Outcome::Failed),
            },
        })
        .collect())
}

async fn writer(pool: AnyPool, mut rx: mpsc::UnboundedReceiver<Msg>) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut permits = Vec::with_capacity(BATCH);
    let mut waiting = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut next = Some(first);
        while let Some(msg) = next {
            match msg {
                Msg::Row(r, permit, done) => {
                    batch.push(r);
                    permits.push(permit);
                    waiting.push(done);
                }
                Msg::Flush(done) => waiting.push(done),
            }
            next = if batch.len() < BATCH {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if !batch.is_empty() {
            // A failed write is tried again (the database busy or full for a moment) before the
            // rows are given up, so a slow disk slows requests instead of losing their rows.
            let mut tries = 0;
            while let Err(e) = insert(&pool, &batch).await {
                tries += 1;
                if tries == 5 {
                    tracing::error!(rows = batch.len(), error = %e.log_detail(), "writing audit rows failed five times; these rows are lost");
                    break;
                }
                tracing::warn!(rows = batch.len(), error = %e.log_detail(), "writing audit rows; trying again");
                tokio::time::sleep(Duration::from_millis(200 << tries)).await;
            }
            batch.clear();
            permits.clear();
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn insert(pool: &AnyPool, rows: &[Box<Record>]) -> Result<()> {
    let mut tx = pool.begin().await.map_err(internal)?;
    for r in rows {
        sqlx::query(
            "INSERT INTO audit_log (at, user_id, username, client, host, object, action, params, status, outcome)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(r.at)
        .bind(r.user_id)
        .bind(&r.username)
        .bind(&r.client)
        .bind(&r.host)
        .bind(&r.object)
        .bind(&r.action)
        .bind(r.params.to_string())
        .bind(i64::from(r.status))
        .bind(r.outcome.as_str())
        .execute(&mut *tx)
        .await
        .map_err(internal)?;
    }
    tx.commit().await.map_err(internal)
}

/// Whether a parameter's name says its value is a secret.
pub fn is_secret_name(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    // A password change's fields, by their names in the forms.
    if matches!(k.as_str(), "new" | "current" | "confirm") {
        return true;
    }
    [
        "password",
        "passwd",
        "secret",
        "token",
        "key",
        "pem",
        "credential",
        "auth",
        "ca",
        "cert",
    ]
    .iter()
    .any(|s| if *s == "ca" { k == "ca" } else { k.contains(s) })
}

/// Replaces, in place, the values of secret-looking keys and anything that looks like a PEM
/// block by `"[redacted]"`, at any depth.
pub fn redact(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                if is_secret_name(k) && !v.is_null() {
                    *v = serde_json::Value::String(REDACTED.into());
                } else {
                    redact(v);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(redact),
        serde_json::Value::String(s) if s.contains("-----BEGIN") => *s = REDACTED.into(),
        _ => {}
    }
}

fn csv_field(out: &mut String, text: &str) {
    // A leading =, +, - or @ makes spreadsheets evaluate the cell: quote it as text.
    let risky = text.starts_with(['=', '+', '-', '@']);
    if risky || text.contains([',', '"', '\n', '\r']) {
        out.push('"');
        if risky {
            out.push('\'');
        }
        out.push_str(&text.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(text);
    }
}

fn csv_line(out: &mut String, e: &Entry) {
    let r = &e.record;
    let time = time::OffsetDateTime::from_unix_timestamp(r.at)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| r.at.to_string());
    let fields = [
        e.id.to_string(),
        time,
        r.user_id.map(|u| u.to_string()).unwrap_or_default(),
        r.username.clone().unwrap_or_default(),
        r.client.clone().unwrap_or_default(),
        r.host.clone().unwrap_or_default(),
        r.object.clone().unwrap_or_default(),
        r.action.clone(),
        r.params.to_string(),
        r.status.to_string(),
        r.outcome.as_str().to_string(),
    ];
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        csv_field(out, f);
    }
    out.push('\n');
}
