//! Registry credentials admins store for pulls from private registries: server, user name and
//! a password sealed with the data directory's key. The password goes to an engine with a pull
//! of an image from that registry, and nowhere else: lists show server and user name only.

use std::path::Path;
use std::sync::Arc;

use sqlx::{AnyPool, Row};

use crate::engine::{registry_of, RegistryAuth};
use crate::error::{Error, Result};
use crate::secret::SecretBox;
use crate::store::{internal, now};

/// Docker Hub, however it is written.
const HUB: &str = "docker.io";
const HUB_ALIASES: [&str; 4] = [
    "docker.io",
    "index.docker.io",
    "registry-1.docker.io",
    "registry.hub.docker.com",
];
/// The address the engine expects in credentials for Docker Hub.
const HUB_AUTH_ADDRESS: &str = "https://index.docker.io/v1/";

pub use wire::images::StoredRegistry;

/// A credential to store.
#[derive(Clone, PartialEq, Eq)]
pub struct NewRegistry {
    pub server: String,
    pub username: String,
    pub password: String,
}

impl std::fmt::Debug for NewRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewRegistry")
            .field("server", &self.server)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The stored credentials. Cheap to clone.
#[derive(Clone)]
pub struct Registries {
    pool: AnyPool,
    secrets: Arc<SecretBox>,
}

/// A registry address as people write it (`https://reg.example.com:5000/`, `index.docker.io`)
/// reduced to the form image references use: `host[:port]`, lowercase, Docker Hub as `docker.io`.
pub fn normalize_server(raw: &str) -> Result<String> {
    let bad = || {
        Error::invalid(
            "server",
            "must be a registry host with an optional port, like registry.example.com:5000",
        )
    };
    let text = raw.trim();
    let text = text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
        .unwrap_or(text);
    let host = text
        .split('/')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    if host.is_empty() || host.len() > 255 {
        return Err(bad());
    }
    if HUB_ALIASES.contains(&host.as_str()) {
        return Ok(HUB.to_owned());
    }
    if crate::names::is_registry(&host) {
        Ok(host)
    } else {
        Err(bad())
    }
}

fn context(server: &str) -> String {
    format!("registry:{server}")
}

impl NewRegistry {
    /// Checks the fields and returns the normalised server.
    pub fn validate(&self) -> Result<String> {
        let server = normalize_server(&self.server)?;
        let user = self.username.trim();
        if user.is_empty() || user.len() > 255 || user.chars().any(char::is_control) {
            return Err(Error::invalid(
                "username",
                "is required: one line, 255 characters at most",
            ));
        }
        if self.password.is_empty() || self.password.len() > 8192 || self.password.contains('\0') {
            return Err(Error::invalid(
                "password",
                "is required (a password or an access token, 8 KiB at most)",
            ));
        }
        Ok(server)
    }
}

impl Registries {
    /// Over the store's pool, sealing with the data directory's key (the one host TLS keys use),
    /// already open (the server opens it once at start: see
    /// `hosts::Registry::credentials`).
    pub fn with_secrets(pool: AnyPool, secrets: Arc<SecretBox>) -> Self {
        Registries { pool, secrets }
    }

    /// Reads the data directory's key from disk: for tools and tests; the server uses
    /// [`Registries::with_secrets`].
    pub fn open(pool: AnyPool, data_dir: &Path) -> Result<Self> {
        Ok(Registries {
            pool,
            secrets: Arc::new(SecretBox::open(data_dir)?),
        })
    }

    /// Every stored credential, by server.
    pub async fn list(&self) -> Result<Vec<StoredRegistry>> {
        let rows = sqlx::query(
            "SELECT id, server, username, created_at FROM registry_credentials ORDER BY server COLLATE NOCASE",
        )
        .fetch_all(&self.pool)
        .await
        .map_err(internal)?;
        rows.iter().map(stored).collect()
    }

    /// Stores a credential; a server that already has one is a conflict (remove it first).
    pub async fn add(&self, new: &NewRegistry) -> Result<StoredRegistry> {
        let server = new.validate()?;
        let sealed = self
            .secrets
            .seal(&context(&server), new.password.as_bytes())?;
        let row = sqlx::query(
            "INSERT INTO registry_credentials (server, username, password_sealed, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (server) DO NOTHING RETURNING id, server, username, created_at",
        )
        .bind(&server)
        .bind(new.username.trim())
        .bind(sealed)
        .bind(now())
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?
        .ok_or_else(|| {
            Error::Conflict(format!(
                "credentials for {server} are already stored; remove them first"
            ))
        })?;
        tracing::info!(%server, "registry credentials stored");
        stored(&row)
    }

    pub async fn remove(&self, id: i64) -> Result<()> {
        let gone = sqlx::query("DELETE FROM registry_credentials WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(internal)?;
        if gone.rows_affected() == 0 {
            return Err(Error::NotFound("registry credentials".into()));
        }
        Ok(())
    }

    /// The credentials for the registry an image reference pulls from, if any are stored.
    pub async fn auth_for(&self, reference: &str) -> Result<Option<RegistryAuth>> {
        let server = match normalize_server(registry_of(reference)) {
            Ok(s) => s,
            Err(_) => return Ok(None),
        };
        let row = sqlx::query(
            "SELECT username, password_sealed FROM registry_credentials WHERE server = $1",
        )
        .bind(&server)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        let Some(row) = row else { return Ok(None) };
        let username: String = row.try_get("username").map_err(internal)?;
        let sealed: Vec<u8> = row.try_get("password_sealed").map_err(internal)?;
        let password = String::from_utf8(self.secrets.open_sealed(&context(&server), &sealed)?)
            .map_err(|_| Error::Internal(format!("the stored password of {server} is not text")))?;
        let address = if server == HUB {
            HUB_AUTH_ADDRESS.to_owned()
        } else {
            server
        };
        Ok(Some(RegistryAuth {
            server: address,
            username,
            password,
        }))
    }
}

fn stored(row: &sqlx::any::AnyRow) -> Result<StoredRegistry> {
    Ok(StoredRegistry {
        id: row.try_get("id").map_err(internal)?,
        server: row.try_get("server").map_err(internal)?,
        username: row.try_get("username").map_err(internal)?,
        created_at: row.try_get("created_at").map_err(internal)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers() {
        assert_eq!(
            normalize_server("https://index.docker.io/v1/")
                .ok()
                .as_deref(),
            Some("docker.io")
        );
        assert_eq!(
            normalize_server(" Registry.Example.com:5000/ ")
                .ok()
                .as_deref(),
            Some("registry.example.com:5000")
        );
        assert_eq!(
            normalize_server("127.0.0.1:37573").ok().as_deref(),
            Some("127.0.0.1:37573")
        );
        assert_eq!(
            normalize_server("localhost").ok().as_deref(),
            Some("localhost")
        );
        for bad in [
            "",
            "https://",
            "a b",
            "reg:port",
            "reg:0",
            "-reg.io",
            "reg..io",
            "reg:99999",
        ] {
            assert!(normalize_server(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_credentials() {
        let ok = NewRegistry {
            server: "reg.io".into(),
            username: "me".into(),
            password: "pw".into(),
        };
        assert_eq!(ok.validate().ok().as_deref(), Some("reg.io"));
        let field = |n: NewRegistry| match n.validate() {
            Err(Error::Invalid { field, .. }) => field,
            other => format!("{other:?}"),
        };
        assert_eq!(
            field(NewRegistry {
                username: " ".into(),
                ..ok.clone()
            }),
            "username"
        );
        assert_eq!(
            field(NewRegistry {
                password: String::new(),
                ..ok.clone()
            }),
            "password"
        );
        assert_eq!(
            field(NewRegistry {
                server: "x y".into(),
                ..ok.clone()
            }),
            "server"
        );
        assert!(!format!("{ok:?}").contains("pw"));
    }
}
