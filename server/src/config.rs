//! Configuration from flags and environment variables (`capstan --help` lists them).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use backend::engine::{EngineSpec, TlsFiles};
use backend::fleet::HostConfig;
use backend::hosts::TlsPem;
use clap::{Parser, Subcommand, ValueEnum};

use crate::http::listener::Limits;
pub use crate::http::security::Cidr;

#[derive(Debug, Clone, Parser)]
#[command(name = "capstan", version, about = "A web console for Docker fleets")]
pub struct Config {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Address to listen on [default: $LEPTOS_SITE_ADDR, else 127.0.0.1:3000]
    #[arg(long, env = "CAPSTAN_LISTEN")]
    pub listen: Option<SocketAddr>,

    /// Directory for Capstan's own data (database, keys)
    #[arg(long, env = "CAPSTAN_DATA", default_value = "./data", global = true)]
    pub data_dir: PathBuf,

    /// Where Capstan keeps its records: postgres://USER:PASSWORD@HOST:PORT/DATABASE for a
    /// PostgreSQL database (several replicas may share one), or sqlite:PATH [default: the SQLite
    /// file capstan.db in the data directory]
    #[arg(long, env = "CAPSTAN_DATABASE", global = true, hide_env_values = true)]
    pub database: Option<String>,

    /// Directory of the key files (host-secrets.key seals stored TLS keys and registry
    /// passwords, session.key signs session cookies), made on first start when missing. Replicas
    /// on one database must share them: point each at the same directory [default: the data
    /// directory]
    #[arg(long, env = "CAPSTAN_KEY_DIR", global = true)]
    pub key_dir: Option<PathBuf>,

    /// Engines to manage, as SLUG=URL[,tls=CERT_DIR] (CERT_DIR holds ca.pem, cert.pem and
    /// key.pem). Repeat the flag, or separate entries with spaces in the variable. Without any,
    /// Capstan manages the local engine: $DOCKER_HOST, else unix:///var/run/docker.sock.
    #[arg(long = "engine", env = "CAPSTAN_ENGINES", value_delimiter = ' ', num_args = 1..)]
    pub engines: Vec<String>,

    /// Deadline for one call to an engine, in seconds
    #[arg(long, env = "CAPSTAN_ENGINE_TIMEOUT", default_value_t = 10)]
    pub engine_timeout: u64,

    /// How long one slow host may hold up a fleet-wide answer, in seconds
    #[arg(long, env = "CAPSTAN_FLEET_DEADLINE", default_value_t = 3)]
    pub fleet_deadline: u64,

    /// How often the health monitor probes each engine, in seconds
    #[arg(long, env = "CAPSTAN_MONITOR_INTERVAL", default_value_t = 10)]
    pub monitor_interval: u64,

    /// Largest request body accepted, in bytes
    #[arg(long, env = "CAPSTAN_BODY_LIMIT", default_value_t = 2 * 1024 * 1024)]
    pub body_limit: usize,

    /// Largest file or image upload (container files, image tars), in bytes
    #[arg(long, env = "CAPSTAN_UPLOAD_LIMIT", default_value_t = 1024 * 1024 * 1024)]
    pub upload_limit: u64,

    /// Where the built site (pkg/, favicon) is [default: $LEPTOS_SITE_ROOT, else target/site]
    #[arg(long, env = "CAPSTAN_SITE_ROOT")]
    pub site_root: Option<PathBuf>,

    /// Sign people out after this many hours without a request
    #[arg(long, env = "CAPSTAN_SESSION_IDLE_HOURS", default_value_t = 8)]
    pub session_idle_hours: u32,

    /// Sign people out this many hours after they signed in, however active
    #[arg(long, env = "CAPSTAN_SESSION_MAX_HOURS", default_value_t = 7 * 24)]
    pub session_max_hours: u32,

    /// Always mark the session cookie Secure. Without it the cookie is Secure whenever a proxy
    /// says the request came over https (X-Forwarded-Proto), and plain-http setups still work
    #[arg(long, env = "CAPSTAN_COOKIE_SECURE", default_value_t = false)]
    pub cookie_secure: bool,

    /// Proxies whose X-Forwarded-For names the client, as CIDR networks or addresses (repeat
    /// the flag, or separate them with commas in the variable). A request from one of them is
    /// judged (sign-in throttling, audit log) by the rightmost address in X-Forwarded-For that is
    /// not itself a trusted proxy; any other request by its peer address, whatever it sends
    #[arg(
        long = "trusted-proxy",
        env = "CAPSTAN_TRUSTED_PROXY",
        value_delimiter = ',',
        value_name = "CIDR"
    )]
    pub trusted_proxies: Vec<Cidr>,

    /// Close a connection whose request head has not fully arrived this many seconds after its
    /// first byte (slow clients holding connections open)
    #[arg(long, env = "CAPSTAN_HEADER_READ_TIMEOUT", default_value_t = 10)]
    pub header_read_timeout: u64,

    /// Close a keep-alive connection after this many seconds without a request
    #[arg(long, env = "CAPSTAN_IDLE_TIMEOUT", default_value_t = 60)]
    pub idle_timeout: u64,

    /// Most connections served at once (WebSockets included); more wait until one ends
    #[arg(long, env = "CAPSTAN_MAX_CONNECTIONS", default_value_t = 1024)]
    pub max_connections: usize,

    /// Log filter: a level (info, debug) or a tracing directive (capstan=debug,tower_http=info)
    #[arg(long, env = "CAPSTAN_LOG", default_value = "info")]
    pub log: String,

    /// Log format
    #[arg(long, env = "CAPSTAN_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// Administration that works on the database directly, for headless installs.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Print the REST API's OpenAPI document (what `/api/v1/openapi.json` serves) and exit
    Openapi,
    /// Write a consistent copy of the store to FILE while Capstan runs (SQLite: a database
    /// file; PostgreSQL: pg_dump's custom format). Keep the data directory's host-secrets.key
    /// and session.key with it.
    Backup { file: PathBuf },
    /// Put a backup made by `capstan backup` back (stop Capstan, every replica, first)
    Restore { file: PathBuf },
    /// Copy every record into another, empty database (sessions excepted), e.g. from the
    /// SQLite file to PostgreSQL; then start Capstan with --database URL
    Migrate {
        /// The target: postgres://… or sqlite:PATH
        #[arg(long)]
        to: String,
    },
}

#[derive(Debug, Clone, Subcommand)]
pub enum AdminCommand {
    /// Create an admin (the password is read from $CAPSTAN_PASSWORD or standard input)
    Create { username: String },
    /// Set a user's password and end their sessions (password from $CAPSTAN_PASSWORD or stdin)
    ResetPassword { username: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

impl Config {
    pub fn key_dir(&self) -> &Path {
        self.key_dir.as_deref().unwrap_or(&self.data_dir)
    }

    pub fn listen_addr(&self) -> Result<SocketAddr, String> {
        if let Some(addr) = self.listen {
            return Ok(addr);
        }
        match std::env::var("LEPTOS_SITE_ADDR") {
            Ok(v) => v
                .parse()
                .map_err(|_| format!("LEPTOS_SITE_ADDR: {v:?} is not host:port")),
            Err(_) => Ok(SocketAddr::from(([127, 0, 0, 1], 3000))),
        }
    }

    pub fn site_root(&self) -> PathBuf {
        self.site_root
            .clone()
            .or_else(|| std::env::var_os("LEPTOS_SITE_ROOT").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("target/site"))
    }

    pub fn engine_timeout(&self) -> Duration {
        Duration::from_secs(self.engine_timeout.max(1))
    }

    pub fn monitor_interval(&self) -> Duration {
        Duration::from_secs(self.monitor_interval.max(1))
    }

    pub fn fleet_deadline(&self) -> Duration {
        Duration::from_secs(self.fleet_deadline.max(1))
    }

    /// The listener's limits (zero seconds counts as one).
    pub fn limits(&self) -> Limits {
        Limits {
            header_read: Duration::from_secs(self.header_read_timeout.max(1)),
            idle: Duration::from_secs(self.idle_timeout.max(1)),
            max_connections: self.max_connections.max(1),
        }
    }

    /// The engines given with `--engine` (none is fine: hosts then come from the registry).
    pub fn hosts(&self) -> Result<Vec<HostConfig>, String> {
        self.engines
            .iter()
            .map(|e| e.trim())
            .filter(|e| !e.is_empty())
            .map(parse_engine)
            .collect()
    }
}

/// `SLUG=URL[,tls=DIR]`
pub fn parse_engine(entry: &str) -> Result<HostConfig, String> {
    let (slug, rest) = entry.split_once('=').ok_or_else(|| {
        format!("--engine {entry:?}: expected SLUG=URL, e.g. local=unix:///var/run/docker.sock")
    })?;
    let mut parts = rest.split(',');
    let url = parts.next().unwrap_or_default().to_string();
    let mut tls = None;
    for opt in parts {
        match opt.split_once('=') {
            Some(("tls", dir)) if !dir.is_empty() => tls = Some(TlsFiles::from_dir(dir).into()),
            _ => {
                return Err(format!(
                    "--engine {entry:?}: unknown option {opt:?} (known: tls=DIR)"
                ))
            }
        }
    }
    Ok(HostConfig::new(slug, slug, EngineSpec { url, tls }))
}

/// The engine the docker CLI would talk to, for the first start's `local` host:
/// `DOCKER_HOST` (with `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`, as the CLI reads them), else
/// the default socket when it exists.
pub fn local_engine(
    docker_host: Option<String>,
    default_socket: &Path,
) -> Option<(String, Option<TlsPem>)> {
    let url = match docker_host
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
    {
        Some(url) => url,
        None if default_socket.exists() => format!("unix://{}", default_socket.display()),
        None => return None,
    };
    let tls_verify = std::env::var("DOCKER_TLS_VERIFY").is_ok_and(|v| !v.is_empty() && v != "0");
    let tls = if tls_verify && url.starts_with("tcp://") {
        let dir = std::env::var_os("DOCKER_CERT_PATH")
            .map(PathBuf::from)
            .unwrap_or_else(|| {
                std::env::var_os("HOME")
                    .map(PathBuf::from)
                    .unwrap_or_default()
                    .join(".docker")
            });
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap_or_default();
        Some(TlsPem {
            ca: read("ca.pem"),
            cert: read("cert.pem"),
            key: read("key.pem"),
        })
    } else {
        None
    };
    Some((url, tls))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_entries_parse() {
        let h = parse_engine("build-01=tcp://10.0.0.5:2376,tls=/etc/capstan/build").expect("ok");
        assert_eq!(h.slug, "build-01");
        assert_eq!(h.engine.url, "tcp://10.0.0.5:2376");
        assert_eq!(
            h.engine.tls,
            Some(TlsFiles::from_dir("/etc/capstan/build").into())
        );
        let h = parse_engine("local=unix:///var/run/docker.sock").expect("ok");
        assert_eq!(h.engine.tls, None);
        assert!(parse_engine("unix:///var/run/docker.sock").is_err());
        assert!(parse_engine("a=tcp://h:1,tsl=/x").is_err());
    }

    #[test]
    fn the_local_engine_is_docker_host_or_an_existing_socket() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sock = dir.path().join("docker.sock");
        assert_eq!(
            local_engine(None, &sock),
            None,
            "no socket, no DOCKER_HOST: nothing to register"
        );
        std::fs::write(&sock, b"").expect("touch");
        let (url, tls) = local_engine(None, &sock).expect("socket exists");
        assert_eq!((url, tls), (format!("unix://{}", sock.display()), None));
        let (url, _) =
            local_engine(Some("tcp://127.0.0.1:2375".into()), &sock).expect("DOCKER_HOST");
        assert_eq!(url, "tcp://127.0.0.1:2375");
    }

    #[test]
    fn flags_parse() {
        let c = Config::try_parse_from([
            "capstan",
            "--listen",
            "0.0.0.0:8080",
            "--engine",
            "a=unix:///a.sock",
            "--engine",
            "b=tcp://h:1",
            "--log-format",
            "json",
        ])
        .expect("parses");
        assert_eq!(c.listen_addr().expect("addr").port(), 8080);
        assert_eq!(c.hosts().expect("hosts").len(), 2);
        assert_eq!(c.log_format, LogFormat::Json);
        assert!(
            c.trusted_proxies.is_empty(),
            "no proxy is trusted unless named"
        );
        let l = c.limits();
        assert_eq!(
            (l.header_read, l.idle, l.max_connections),
            (Duration::from_secs(10), Duration::from_secs(60), 1024)
        );

        let c = Config::try_parse_from([
            "capstan",
            "--trusted-proxy",
            "10.0.0.0/8,fd00::/8",
            "--trusted-proxy",
            "192.0.2.1",
            "--header-read-timeout",
            "3",
            "--idle-timeout",
            "30",
            "--max-connections",
            "64",
        ])
        .expect("parses");
        let proxies: Vec<String> = c.trusted_proxies.iter().map(ToString::to_string).collect();
        assert_eq!(proxies, ["10.0.0.0/8", "fd00::/8", "192.0.2.1/32"]);
        let l = c.limits();
        assert_eq!(
            (l.header_read, l.idle, l.max_connections),
            (Duration::from_secs(3), Duration::from_secs(30), 64)
        );
        assert!(Config::try_parse_from(["capstan", "--trusted-proxy", "10.0.0.0/40"]).is_err());
    }
}
