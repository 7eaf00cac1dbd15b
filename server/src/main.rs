use std::process::ExitCode;

use backend::engine::Timeouts;
use backend::fleet::Fleet;
use clap::Parser;
use leptos::config::LeptosOptions;
use server::config::{Config, LogFormat};
use server::{router, AppState};
use tokio_util::sync::CancellationToken;
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let config = Config::parse();
    init_tracing(&config);
    match run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("capstan: {message}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) {
    let filter = EnvFilter::try_new(&config.log).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match config.log_format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}

async fn run(config: Config) -> Result<(), String> {
    let addr = config.listen_addr()?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| format!("cannot create the data directory {}: {e}", config.data_dir.display()))?;

    let hosts = config.hosts()?;
    let fleet = Fleet::new(hosts, Timeouts { call: config.engine_timeout() }, config.fleet_deadline())
        .map_err(|e| format!("engine configuration: {e}"))?;
    for h in fleet.hosts() {
        tracing::info!(host = %h.slug, url = %h.engine.spec().url, "managing engine");
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
    let state = AppState { leptos_options, fleet, shutdown: shutdown.clone() };
    let app = router(state, config.body_limit);

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    tracing::info!("Capstan is listening on http://{addr}");
    axum::serve(listener, app.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(async move {
            wait_for_signal().await;
            tracing::info!("shutting down");
            shutdown.cancel();
        })
        .await
        .map_err(|e| format!("server error: {e}"))
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
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
