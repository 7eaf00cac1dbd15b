//! The host registry: engines admins add, edit and remove while Capstan runs. A host is tested
//! (ping + version) before it is saved; TLS private keys are sealed with a key in the data
//! directory; removing a host removes its grants. Saved hosts join the [`Fleet`] at once.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use sha2::{Digest, Sha256};
use sqlx::Row;

use crate::engine::{Engine, EngineSpec, EngineSummary, Tls, TlsMemory};
use crate::error::{Error, Result, Unreachable};
use crate::fleet::{validate_slug, Fleet, HostConfig, HostSource};
use crate::store::{internal, now, Store};

pub use crate::secret::{SecretBox, KEY_FILE};

/// The PEM texts of a TLS engine: the CA that signed the engine's certificate, and the client
/// certificate and key Capstan presents.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct TlsPem {
    pub ca: String,
    pub cert: String,
    pub key: String,
}

impl std::fmt::Debug for TlsPem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsPem")
            .field("ca", &self.ca.len())
            .field("cert", &self.cert.len())
            .finish_non_exhaustive()
    }
}

/// A host to add.
#[derive(Debug, Clone)]
pub struct NewHost {
    pub slug: String,
    /// Display name; the slug when empty.
    pub name: String,
    pub url: String,
    pub labels: BTreeMap<String, String>,
    pub tls: Option<TlsPem>,
}

/// Changes to a stored host; `None` keeps the current value.
#[derive(Debug, Clone, Default)]
pub struct HostPatch {
    pub name: Option<String>,
    pub url: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
    /// `Some(None)` turns TLS off; `Some(Some(p))` replaces the parts of `p` that are not empty.
    pub tls: Option<Option<TlsPem>>,
}

/// What an admin sees of a host's configuration. The private key never leaves the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRecord {
    pub slug: String,
    pub name: String,
    pub url: String,
    pub labels: BTreeMap<String, String>,
    pub source: HostSource,
    pub tls: Option<TlsPublic>,
}

/// The public half of a host's TLS material.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsPublic {
    /// PEM of the CA, when stored (hosts from the command line keep theirs in files).
    pub ca: Option<String>,
    pub cert: Option<String>,
    /// SHA-256 of the client certificate (DER), as colon-separated hex.
    pub cert_fingerprint: Option<String>,
}

#[derive(Clone)]
pub struct Registry {
    store: Store,
    fleet: Fleet,
    secrets: Arc<SecretBox>,
}

const MAX_PEM: usize = 64 * 1024;
const MAX_LABELS: usize = 32;

impl Registry {
    /// The stored registry credentials, sealed with the key this registry opened at start
    /// (no disk access per request).
    pub fn credentials(&self) -> crate::registries::Registries {
        crate::registries::Registries::with_secrets(self.store.pool().clone(), self.secrets.clone())
    }

    pub fn open(store: Store, fleet: Fleet, data_dir: &Path) -> Result<Self> {
        let secrets = SecretBox::open(data_dir)?;
        Ok(Registry {
            store,
            fleet,
            secrets: Arc::new(secrets),
        })
    }

    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    /// The database the hosts (and everything beside them) are stored in.
    pub fn pool(&self) -> &sqlx::AnyPool {
        self.store.pool()
    }

    /// Puts every stored host into the fleet. A stored host whose slug is already taken by a
    /// `--engine` host is skipped with a warning (the command line wins).
    pub async fn load(&self) -> Result<()> {
        for row in self.rows().await? {
            if self.fleet.contains(&row.slug) {
                tracing::warn!(host = %row.slug, "a stored host has the slug of an --engine host; the --engine one is used");
                continue;
            }
            let config = self.config_of(&row);
            self.fleet.add(config)?;
        }
        Ok(())
    }

    /// Keeps this replica's fleet in step with hosts other replicas add, change or remove
    /// (PostgreSQL; until `shutdown`). Hosts given with `--engine` are left as they are.
    pub fn follow_replicas(&self, shutdown: tokio_util::sync::CancellationToken) {
        let mut heard = self.store.hosts_heard();
        let registry = self.clone();
        tokio::spawn(async move {
            loop {
                let slug = tokio::select! {
                    _ = shutdown.cancelled() => return,
                    slug = heard.recv() => slug,
                };
                let done = match slug {
                    Ok(slug) if slug != "*" => registry.reload(&slug).await,
                    // "*", or more news than the channel holds: everything may have changed.
                    Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        registry.reload_all().await
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                };
                if let Err(e) = done {
                    tracing::warn!(error = %e.log_detail(), "loading a host another replica changed");
                }
            }
        });
    }

    /// The stored host `slug` into the fleet as the store has it now: added, replaced or gone.
    async fn reload(&self, slug: &str) -> Result<()> {
        let stored_here = self
            .fleet
            .hosts()
            .iter()
            .any(|h| h.slug == slug && h.source == HostSource::Stored);
        match self.row(slug).await? {
            Some(row) if stored_here => self.fleet.replace(self.config_of(&row)),
            Some(row) if !self.fleet.contains(slug) => self.fleet.add(self.config_of(&row)),
            Some(_) => Ok(()), // an --engine host of that slug wins here
            None if stored_here => self.fleet.remove(slug),
            None => Ok(()),
        }
    }

    async fn reload_all(&self) -> Result<()> {
        let rows = self.rows().await?;
        for host in self.fleet.hosts() {
            if host.source == HostSource::Stored && !rows.iter().any(|r| r.slug == host.slug) {
                self.fleet.remove(&host.slug)?;
            }
        }
        for row in rows {
            self.reload(&row.slug).await?;
        }
        Ok(())
    }

    /// On the very first start without `--engine` flags: registers the engine the docker CLI
    /// would use (`DOCKER_HOST`, else `/var/run/docker.sock` when it exists) as `local`. Runs
    /// once per installation, so an admin who removes `local` does not see it come back. The
    /// engine is not tested first: it may still be starting.
    pub async fn register_local_once(
        &self,
        candidate: Option<(String, Option<TlsPem>)>,
    ) -> Result<Option<String>> {
        let done = sqlx::query("SELECT 1 FROM meta WHERE key = 'local_host_checked'")
            .fetch_optional(self.store.pool())
            .await
            .map_err(internal)?;
        if done.is_some() {
            return Ok(None);
        }
        let mut registered = None;
        if let Some((url, tls)) = candidate {
            let valid = EngineSpec {
                url: url.clone(),
                tls: None,
            }
            .validate()
            .is_ok()
                && tls.as_ref().is_none_or(|t| validate_tls(t).is_ok());
            if valid && !self.fleet.contains("local") {
                let sealed = match &tls {
                    Some(t) => Some(self.secrets.seal("local", t.key.as_bytes())?),
                    None => None,
                };
                let t = now();
                sqlx::query(
                    "INSERT INTO hosts (slug, name, url, labels, tls_ca, tls_cert, tls_key_sealed, created_at, updated_at) \
                     VALUES ('local', 'local', $1, '{}', $2, $3, $4, $5, $6) ON CONFLICT (slug) DO NOTHING",
                )
                .bind(&url)
                .bind(tls.as_ref().map(|t| t.ca.clone()))
                .bind(tls.as_ref().map(|t| t.cert.clone()))
                .bind(sealed)
                .bind(t)
                .bind(t)
                .execute(self.store.pool())
                .await
                .map_err(internal)?;
                registered = Some(url);
            } else if !valid {
                tracing::warn!(%url, "the local engine's address or certificates are not usable; add the engine on the Hosts page");
            }
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ('local_host_checked', '1') ON CONFLICT (key) DO NOTHING")
            .execute(self.store.pool())
            .await
            .map_err(internal)?;
        Ok(registered)
    }

    /// Connects to an engine that is not saved yet: ping + version + info. The error says what
    /// to fix, naming `url` or `tls`.
    pub async fn test(&self, url: &str, tls: Option<&TlsPem>) -> Result<EngineSummary> {
        let url = url.trim();
        let spec_check = EngineSpec {
            url: url.to_string(),
            tls: None,
        };
        spec_check.validate()?;
        if let Some(tls) = tls {
            validate_tls(tls)?;
            if url.starts_with("unix://") {
                return Err(Error::invalid("tls", "TLS applies to tcp:// engines only"));
            }
        }
        let tls =
            tls.map(|t| in_memory(t.ca.as_bytes(), t.cert.as_bytes(), Some(t.key.as_bytes())));
        let engine = Engine::new(
            EngineSpec {
                url: url.to_string(),
                tls,
            },
            self.fleet.timeouts(),
        );
        let deadline = self.fleet.timeouts().call;
        let probe =
            tokio::time::timeout(deadline + std::time::Duration::from_secs(1), engine.probe())
                .await
                .unwrap_or(Err(Error::EngineTimeout));
        drop(engine);
        match probe {
            Ok(p) => Ok(p.summary),
            Err(e) => {
                tracing::info!(%url, error = %e.log_detail(), "connection test failed");
                Err(explain_test_failure(e, deadline))
            }
        }
    }

    pub async fn create(&self, new: NewHost) -> Result<HostRecord> {
        validate_slug(&new.slug)?;
        let name = validate_name(&new.name, &new.slug)?;
        validate_labels(&new.labels)?;
        let url = new.url.trim().to_string();
        if self.fleet.contains(&new.slug) {
            return Err(slug_taken(&new.slug));
        }
        self.test(&url, new.tls.as_ref()).await?;
        let sealed = match &new.tls {
            Some(tls) => Some(self.secrets.seal(&new.slug, tls.key.as_bytes())?),
            None => None,
        };
        let labels = labels_json(&new.labels)?;
        let t = now();
        let inserted = sqlx::query(
            "INSERT INTO hosts (slug, name, url, labels, tls_ca, tls_cert, tls_key_sealed, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (slug) DO NOTHING",
        )
        .bind(&new.slug)
        .bind(&name)
        .bind(&url)
        .bind(&labels)
        .bind(new.tls.as_ref().map(|t| t.ca.trim().to_string()))
        .bind(new.tls.as_ref().map(|t| t.cert.trim().to_string()))
        .bind(sealed)
        .bind(t)
        .bind(t)
        .execute(self.store.pool())
        .await
        .map_err(internal)?;
        if inserted.rows_affected() == 0 {
            return Err(slug_taken(&new.slug));
        }
        let row = self
            .row(&new.slug)
            .await?
            .ok_or_else(|| Error::Internal("host vanished after insert".into()))?;
        if let Err(e) = self.fleet.add(self.config_of(&row)) {
            // Another request added the same slug to the fleet in between: undo ours.
            let _ = sqlx::query("DELETE FROM hosts WHERE slug = $1")
                .bind(&new.slug)
                .execute(self.store.pool())
                .await;
            return Err(e);
        }
        self.store.host_changed(&new.slug);
        tracing::info!(host = %new.slug, %url, "host added");
        Ok(row.record())
    }

    pub async fn update(&self, slug: &str, patch: HostPatch) -> Result<HostRecord> {
        let host = self.fleet.by_slug(slug)?;
        if host.source == HostSource::Config {
            return Err(from_command_line(slug));
        }
        let row = self
            .row(slug)
            .await?
            .ok_or_else(|| Error::NotFound("host".into()))?;
        let name = match &patch.name {
            Some(n) => validate_name(n, slug)?,
            None => row.name.clone(),
        };
        let labels = match &patch.labels {
            Some(l) => {
                validate_labels(l)?;
                l.clone()
            }
            None => row.labels.clone(),
        };
        let url = patch
            .url
            .as_deref()
            .map(str::trim)
            .unwrap_or(&row.url)
            .to_string();
        // The TLS material after the patch: the stored parts, replaced where the patch has text.
        let tls: Option<TlsPem> = match &patch.tls {
            None => row.tls_pem(&self.secrets).transpose()?,
            Some(None) => None,
            Some(Some(p)) => {
                let current = row.tls_pem(&self.secrets).transpose()?.unwrap_or_default();
                let pick = |new: &str, old: String| {
                    if new.trim().is_empty() {
                        old
                    } else {
                        new.to_string()
                    }
                };
                Some(TlsPem {
                    ca: pick(&p.ca, current.ca),
                    cert: pick(&p.cert, current.cert),
                    key: pick(&p.key, current.key),
                })
            }
        };
        let connection_changed = url != row.url || patch.tls.is_some();
        if connection_changed {
            self.test(&url, tls.as_ref()).await?;
        }
        let sealed = match &tls {
            Some(t) => Some(self.secrets.seal(slug, t.key.as_bytes())?),
            None => None,
        };
        sqlx::query(
            "UPDATE hosts SET name = $1, url = $2, labels = $3, tls_ca = $4, tls_cert = $5, tls_key_sealed = $6, updated_at = $7 \
             WHERE slug = $8",
        )
        .bind(&name)
        .bind(&url)
        .bind(labels_json(&labels)?)
        .bind(tls.as_ref().map(|t| t.ca.trim().to_string()))
        .bind(tls.as_ref().map(|t| t.cert.trim().to_string()))
        .bind(sealed)
        .bind(now())
        .bind(slug)
        .execute(self.store.pool())
        .await
        .map_err(internal)?;
        let row = self
            .row(slug)
            .await?
            .ok_or_else(|| Error::NotFound("host".into()))?;
        self.fleet.replace(self.config_of(&row))?;
        self.store.host_changed(slug);
        tracing::info!(host = %slug, %url, connection_changed, "host updated");
        Ok(row.record())
    }

    /// Removes a stored host, every grant on it and its guardrails, in one transaction (a host
    /// added later under the same name starts with none of them).
    pub async fn remove(&self, slug: &str) -> Result<()> {
        let host = self.fleet.by_slug(slug)?;
        if host.source == HostSource::Config {
            return Err(from_command_line(slug));
        }
        let mut tx = self.store.pool().begin().await.map_err(internal)?;
        sqlx::query("DELETE FROM grants WHERE host = $1")
            .bind(slug)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        sqlx::query("DELETE FROM host_guardrails WHERE host = $1")
            .bind(slug)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        let gone = sqlx::query("DELETE FROM hosts WHERE slug = $1")
            .bind(slug)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
        if gone.rows_affected() == 0 {
            return Err(Error::NotFound("host".into()));
        }
        tx.commit().await.map_err(internal)?;
        self.store.access_changed();
        self.store.host_changed(slug);
        self.fleet.remove(slug)?;
        tracing::info!(host = %slug, "host removed");
        Ok(())
    }

    /// A host's configuration as an admin sees it.
    pub async fn get(&self, slug: &str) -> Result<HostRecord> {
        let host = self.fleet.by_slug(slug)?;
        if host.source == HostSource::Stored {
            if let Some(row) = self.row(slug).await? {
                return Ok(row.record());
            }
        }
        let spec = host.engine.spec();
        Ok(HostRecord {
            slug: host.slug.clone(),
            name: host.name.clone(),
            url: spec.url.clone(),
            labels: host.labels.clone(),
            source: host.source,
            tls: spec.tls.as_ref().map(|_| TlsPublic {
                ca: None,
                cert: None,
                cert_fingerprint: None,
            }),
        })
    }

    async fn rows(&self) -> Result<Vec<HostRow>> {
        let rows = sqlx::query("SELECT slug, name, url, labels, tls_ca, tls_cert, tls_key_sealed FROM hosts ORDER BY created_at, slug")
            .fetch_all(self.store.pool())
            .await
            .map_err(internal)?;
        rows.iter().map(HostRow::from_row).collect()
    }

    async fn row(&self, slug: &str) -> Result<Option<HostRow>> {
        let row = sqlx::query("SELECT slug, name, url, labels, tls_ca, tls_cert, tls_key_sealed FROM hosts WHERE slug = $1")
            .bind(slug)
            .fetch_optional(self.store.pool())
            .await
            .map_err(internal)?;
        row.as_ref().map(HostRow::from_row).transpose()
    }

    /// The fleet's view of a stored host: its TLS material in memory (the key unsealed here is
    /// never written to disk). A key that cannot be unsealed is left out, so the host shows as
    /// down with "the TLS certificate or key could not be read" until an admin pastes it again.
    fn config_of(&self, row: &HostRow) -> HostConfig {
        let mut problem = None;
        let tls = row.tls.as_ref().map(|(ca, cert, sealed)| {
            let key = match self.secrets.open_sealed(&row.slug, sealed) {
                Ok(k) => Some(k),
                Err(e) => {
                    tracing::error!(host = %row.slug, "{}", e.log_detail());
                    problem = Some(
                        "the stored TLS key cannot be opened with this data directory's key — edit the host and paste the client key again"
                            .to_string(),
                    );
                    None
                }
            };
            in_memory(ca.as_bytes(), cert.as_bytes(), key.as_deref())
        });
        HostConfig {
            slug: row.slug.clone(),
            name: row.name.clone(),
            engine: EngineSpec {
                url: row.url.clone(),
                tls,
            },
            labels: row.labels.clone(),
            source: HostSource::Stored,
            problem,
        }
    }
}

struct HostRow {
    slug: String,
    name: String,
    url: String,
    labels: BTreeMap<String, String>,
    /// CA PEM, client certificate PEM, sealed key.
    tls: Option<(String, String, Vec<u8>)>,
}

impl HostRow {
    fn from_row(row: &sqlx::any::AnyRow) -> Result<Self> {
        let labels: String = row.try_get("labels").map_err(internal)?;
        let ca: Option<String> = row.try_get("tls_ca").map_err(internal)?;
        let cert: Option<String> = row.try_get("tls_cert").map_err(internal)?;
        let key: Option<Vec<u8>> = row.try_get("tls_key_sealed").map_err(internal)?;
        Ok(HostRow {
            slug: row.try_get("slug").map_err(internal)?,
            name: row.try_get("name").map_err(internal)?,
            url: row.try_get("url").map_err(internal)?,
            labels: serde_json::from_str(&labels).unwrap_or_default(),
            tls: match (ca, cert, key) {
                (Some(ca), Some(cert), Some(key)) => Some((ca, cert, key)),
                _ => None,
            },
        })
    }

    fn tls_pem(&self, secrets: &SecretBox) -> Option<Result<TlsPem>> {
        let (ca, cert, sealed) = self.tls.as_ref()?;
        Some(secrets.open_sealed(&self.slug, sealed).and_then(|key| {
            let key = String::from_utf8(key)
                .map_err(|_| Error::Internal("unsealed key is not text".into()))?;
            Ok(TlsPem {
                ca: ca.clone(),
                cert: cert.clone(),
                key,
            })
        }))
    }

    fn record(&self) -> HostRecord {
        HostRecord {
            slug: self.slug.clone(),
            name: self.name.clone(),
            url: self.url.clone(),
            labels: self.labels.clone(),
            source: HostSource::Stored,
            tls: self.tls.as_ref().map(|(ca, cert, _)| TlsPublic {
                ca: Some(ca.clone()),
                cert: Some(cert.clone()),
                cert_fingerprint: fingerprint(cert),
            }),
        }
    }
}

fn slug_taken(slug: &str) -> Error {
    Error::Conflict(format!("slug: a host named {slug} already exists"))
}

fn from_command_line(slug: &str) -> Error {
    Error::Conflict(format!(
        "host {slug} comes from Capstan's --engine option; change or remove it there and restart Capstan"
    ))
}

fn validate_name(name: &str, slug: &str) -> Result<String> {
    let name = name.trim();
    if name.is_empty() {
        return Ok(slug.to_string());
    }
    if name.chars().count() > 64 || name.chars().any(char::is_control) {
        return Err(Error::invalid(
            "name",
            "use at most 64 characters, without control characters",
        ));
    }
    Ok(name.to_string())
}

fn validate_labels(labels: &BTreeMap<String, String>) -> Result<()> {
    if labels.len() > MAX_LABELS {
        return Err(Error::invalid(
            "labels",
            format!("at most {MAX_LABELS} labels"),
        ));
    }
    for (k, v) in labels {
        let key_ok = !k.is_empty()
            && k.len() <= 63
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
        if !key_ok {
            return Err(Error::invalid(
                "labels",
                format!("label key {k:?}: use 1 to 63 letters, digits, dots, dashes, underscores and slashes"),
            ));
        }
        if v.chars().count() > 255 || v.chars().any(char::is_control) {
            return Err(Error::invalid(
                "labels",
                format!("label {k}: the value must be at most 255 characters, on one line"),
            ));
        }
    }
    Ok(())
}

fn labels_json(labels: &BTreeMap<String, String>) -> Result<String> {
    serde_json::to_string(labels).map_err(|e| Error::Internal(format!("labels: {e}")))
}

/// Parses the PEM texts so a typo is reported on the field, before any connection is tried.
fn validate_tls(tls: &TlsPem) -> Result<()> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let certs = |field: &str, pem: &str, what: &str| -> Result<()> {
        if pem.len() > MAX_PEM {
            return Err(Error::invalid(field, "is too long for a PEM certificate"));
        }
        let parsed: std::result::Result<Vec<_>, _> =
            CertificateDer::pem_slice_iter(pem.as_bytes()).collect();
        match parsed {
            Ok(list) if !list.is_empty() => Ok(()),
            _ => Err(Error::invalid(
                field,
                format!("paste the {what} as PEM (-----BEGIN CERTIFICATE----- …)"),
            )),
        }
    };
    certs("tls.ca", &tls.ca, "CA certificate")?;
    certs("tls.cert", &tls.cert, "client certificate")?;
    if tls.key.len() > MAX_PEM || PrivateKeyDer::from_pem_slice(tls.key.as_bytes()).is_err() {
        return Err(Error::invalid(
            "tls.key",
            "paste the client's private key as PEM (-----BEGIN … PRIVATE KEY----- …)",
        ));
    }
    Ok(())
}

fn in_memory(ca: &[u8], cert: &[u8], key: Option<&[u8]>) -> Tls {
    Tls::Pem(TlsMemory {
        ca: ca.into(),
        cert: cert.into(),
        key: key.map(Into::into),
    })
}

fn fingerprint(cert_pem: &str) -> Option<String> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;
    let der = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
        .next()?
        .ok()?;
    let digest = Sha256::digest(der.as_ref());
    Some(
        digest
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":"),
    )
}

/// A failed connection test, as an invalid field: TLS problems on `tls`, the rest on `url`.
fn explain_test_failure(err: Error, deadline: std::time::Duration) -> Error {
    match err {
        Error::EngineUnreachable { reason, .. } => {
            let field = match reason {
                Unreachable::TlsUnknownCa | Unreachable::TlsBadClientCert | Unreachable::TlsFiles => "tls",
                _ => "url",
            };
            Error::invalid(field, format!("connection test failed: {reason}"))
        }
        Error::EngineTimeout => Error::invalid(
            "url",
            format!(
                "connection test failed: the engine did not answer within {} seconds — check the address and any firewall",
                deadline.as_secs()
            ),
        ),
        Error::Engine { .. } => {
            Error::invalid("url", format!("connection test failed: {}", Unreachable::NotDockerApi))
        }
        other => other,
    }
}
