use std::io::Read;
use std::process::ExitCode;
use std::sync::Arc;

use backend::auth::Accounts;
use backend::engine::Timeouts;
use backend::fleet::Fleet;
use backend::hosts::Registry;
use backend::store::{Database, Store};
use clap::Parser;
use leptos::config::LeptosOptions;
use server::config::{AdminCommand, Command, Config, LogFormat};
use server::http::auth::{session_layer, SessionOptions};
use server::state::Settings;
use server::{router, AppState};
use std::path::Path;
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    init_tracing(&config);
    let result = match config.command.clone() {
        Some(Command::Admin(cmd)) => admin(&config, cmd).await,
        Some(Command::Openapi) => {
            println!("{:#}", server::http::openapi::document());
            Ok(())
        }
        Some(Command::Backup { file }) => backup(&config, &file).await,
        Some(Command::Restore { file }) => restore(&config, &file).await,
        Some(Command::Migrate { to }) => migrate(&config, &to).await,
        None => run(config).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("capstan: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) {
    // PostgreSQL's notices ("relation … already exists, skipping" at every start) are for
    // whoever debugs the store: shown only when asked for by name.
    let directives = format!("sqlx::postgres::notice=warn,{}", config.log);
    let filter = EnvFilter::try_new(&directives).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

async fn open_store(config: &Config) -> Result<Store, String> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| {
        format!(
            "cannot create the data directory {}: {e}",
            config.data_dir.display()
        )
    })?;
    // The data directory holds the database, the session key and the sealing key: this user's.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&config.data_dir, std::fs::Permissions::from_mode(0o700))
            .map_err(|e| {
                format!(
                    "cannot make the data directory {} private: {e}",
                    config.data_dir.display()
                )
            })?;
    }
    if let Some(dir) = &config.key_dir {
        if !dir.is_dir() {
            return Err(format!(
                "the key directory {} does not exist (replicas share one: create it, or copy another replica's)",
                dir.display()
            ));
        }
    }
    let database = database(config)?;
    tracing::info!(?database, "opening the store");
    Store::connect(&database).await.map_err(|e| e.log_detail())
}

fn database(config: &Config) -> Result<Database, String> {
    Database::parse(config.database.as_deref(), &config.data_dir).map_err(|e| e.to_string())
}

/// While Capstan serves a SQLite store, it holds `capstan.lock` in the data directory: a second
/// server on the same file, or a restore under a running one, is refused.
fn lock_data_dir(config: &Config, database: &Database) -> Result<Option<std::fs::File>, String> {
    if database.is_postgres() {
        return Ok(None);
    }
    let path = config.data_dir.join("capstan.lock");
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "Capstan is running on the data directory {}: stop it first",
            config.data_dir.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!("cannot lock {}: {e}", path.display())),
    }
}

/// `capstan backup FILE`: online, while Capstan serves.
async fn backup(config: &Config, file: &Path) -> Result<(), String> {
    let store = open_store(config).await?;
    backend::store::transfer::backup(&store, file)
        .await
        .map_err(|e| e.log_detail())?;
    println!(
        "backed up to {}; keep it with {} from {}",
        file.display(),
        backend::store::transfer::KEY_FILES.join(" and "),
        config.key_dir().display()
    );
    Ok(())
}

/// `capstan restore FILE`: offline, every replica stopped.
async fn restore(config: &Config, file: &Path) -> Result<(), String> {
    let database = database(config)?;
    let _lock = lock_data_dir(config, &database)?;
    backend::store::transfer::restore(&database, file)
        .await
        .map_err(|e| e.log_detail())?;
    println!("restored {} into {database:?}", file.display());
    Ok(())
}

/// `capstan migrate --to URL`: every record into an empty database.
async fn migrate(config: &Config, to: &str) -> Result<(), String> {
    let from = open_store(config).await?;
    let _lock = lock_data_dir(config, from.database())?;
    let target = Database::parse(Some(to), &config.data_dir).map_err(|e| e.to_string())?;
    if &target == from.database() {
        return Err("the target is the store itself: name another database".into());
    }
    let to = Store::connect(&target).await.map_err(|e| e.log_detail())?;
    let copied = backend::store::transfer::copy(&from, &to)
        .await
        .map_err(|e| e.log_detail())?;
    for (table, rows) in copied {
        println!("{table:>22}  {rows} rows");
    }
    println!(
        "copied into {target:?}; start Capstan with --database set to it (sessions were not \
         copied: everyone signs in again)"
    );
    Ok(())
}

/// `capstan admin …`: works on the database directly, for installs without a browser.
async fn admin(config: &Config, cmd: AdminCommand) -> Result<(), String> {
    let accounts = Accounts::new(open_store(config).await?);
    let password = read_password()?;
    match cmd {
        AdminCommand::Create { username } => {
            let user = accounts
                .create_user(&username, &password, true)
                .await
                .map_err(|e| e.public_message())?;
            let _ = accounts.prepare_setup(&config.data_dir).await;
            println!("created admin {}", user.username);
        }
        AdminCommand::ResetPassword { username } => {
            let users = accounts
                .list_users()
                .await
                .map_err(|e| e.public_message())?;
            let user = users
                .into_iter()
                .find(|u| u.username.eq_ignore_ascii_case(&username))
                .ok_or_else(|| format!("no user named {username}"))?;
            accounts
                .set_password(user.id, password)
                .await
                .map_err(|e| e.public_message())?;
            println!("password of {} changed; their sessions have ended and their API tokens are revoked", user.username);
        }
    }
    Ok(())
}

fn read_password() -> Result<String, String> {
    if let Ok(p) = std::env::var("CAPSTAN_PASSWORD") {
        return Ok(p);
    }
    eprintln!("password (read from standard input):");
    let mut line = String::new();
    std::io::stdin()
        .read_to_string(&mut line)
        .map_err(|e| format!("reading the password: {e}"))?;
    Ok(line.lines().next().unwrap_or_default().to_string())
}

async fn run(config: Config) -> Result<(), String> {
    let addr = config.listen_addr()?;
    let store = open_store(&config).await?;
    let _lock = lock_data_dir(&config, store.database())?;
    let accounts = Accounts::new(store.clone());
    if let Some(token) = accounts
        .prepare_setup(&config.data_dir)
        .await
        .map_err(|e| e.log_detail())?
    {
        // The token itself stays out of the log (logs are shipped and kept): it is in the file.
        drop(token);
        tracing::warn!(
            "no users yet: open /setup and enter the setup token from {} (readable by this user only)",
            config.data_dir.join(backend::auth::SETUP_TOKEN_FILE).display()
        );
    }

    let hosts = config.hosts()?;
    let from_flags = !hosts.is_empty();
    let fleet = Fleet::new(
        hosts,
        Timeouts {
            call: config.engine_timeout(),
        },
        config.fleet_deadline(),
    )
    .map_err(|e| format!("engine configuration: {e}"))?;
    let registry = Registry::open(store.clone(), fleet.clone(), config.key_dir())
        .map_err(|e| e.log_detail())?;
    if !from_flags {
        let local = server::config::local_engine(
            std::env::var("DOCKER_HOST").ok(),
            Path::new("/var/run/docker.sock"),
        );
        if let Some(url) = registry
            .register_local_once(local)
            .await
            .map_err(|e| e.log_detail())?
        {
            tracing::info!(%url, "first start: registered the local engine as host `local`");
        }
    }
    registry
        .load()
        .await
        .map_err(|e| format!("loading the host registry: {}", e.log_detail()))?;
    let addresses = fleet.addresses();
    for (slug, url) in &addresses {
        tracing::info!(host = %slug, %url, "managing engine");
    }
    if addresses.is_empty() {
        tracing::warn!("no Docker engines yet: add one on the Hosts page");
    }

    let site_root = config.site_root();
    if !site_root.join("pkg").is_dir() {
        tracing::warn!(site_root = %site_root.display(), "no built site here: pages will not hydrate (build with cargo leptos)");
    }
    let leptos_options = LeptosOptions::builder()
        .output_name("capstan")
        .site_root(site_root.to_string_lossy().to_string())
        .site_pkg_dir("pkg")
        .site_addr(addr)
        .build();

    let shutdown = CancellationToken::new();
    store.follow_replicas(shutdown.clone());
    registry.follow_replicas(shutdown.clone());
    fleet.share_with(&store);
    fleet.spawn_monitor(config.monitor_interval(), shutdown.clone());
    let sessions = session_layer(
        store.native(),
        config.key_dir(),
        SessionOptions {
            idle: std::time::Duration::from_secs(
                u64::from(config.session_idle_hours.max(1)) * 3600,
            ),
            secure: config.cookie_secure,
        },
        shutdown.clone(),
    )
    .await?;
    let settings = Settings {
        data_dir: config.data_dir.clone(),
        body_limit: config.body_limit,
        upload_limit: config.upload_limit,
        session_max: std::time::Duration::from_secs(
            u64::from(config.session_max_hours.max(1)) * 3600,
        ),
        trusted_proxies: config.trusted_proxies.clone().into(),
    };
    for proxy in settings.trusted_proxies.iter() {
        tracing::info!(%proxy, "trusting X-Forwarded-For from this network");
    }
    {
        // Failed sign-ins are kept 30 days, then forgotten.
        let accounts = accounts.clone();
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(3600));
            loop {
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = every.tick() => {
                        if let Err(e) = accounts.prune_login_failures(30).await {
                            tracing::warn!("pruning failed sign-ins: {}", e.log_detail());
                        }
                    }
                }
            }
        });
    }
    let live = backend::live::Hub::new(backend::live::HubConfig::default(), shutdown.clone())
        .with_fleet(fleet.clone());
    let state = AppState::new(server::state::Shared {
        leptos_options,
        fleet: fleet.clone(),
        accounts,
        registry,
        settings: Arc::new(settings),
        live,
        audit: backend::audit::Audit::start(store.pool().clone(), shutdown.clone()),
        shutdown: shutdown.clone(),
    });
    let app = router(state, sessions);
    let monitors = fleet.clone();

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    tracing::info!("Capstan is listening on http://{addr}");
    server::http::listener::serve(listener, app, config.limits(), async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.cancel();
        // The other replicas take this one's hosts now, not when its leases run out.
        monitors.stop_sharing().await;
    })
    .await
    .map_err(|e| format!("server error: {e}"))?;
    store.close().await;
    Ok(())
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!("cannot listen for SIGTERM: {e}");
                    let _ = ctrl_c.await;
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
