//! `capstan-bench`: measures a release build of Capstan side by side with the engines' own
//! API and prints a table (also written as JSON). A missed target is reported, never an
//! error; the command fails only when it cannot measure. See docs/performance.md.

mod capstan;
mod http;
mod load;
mod proxy;
mod rows;
mod table;

use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use clap::Parser;
use serde::Serialize;

use crate::capstan::Capstan;
use crate::load::Engine;
use crate::proxy::Proxy;
use crate::table::Row;

/// Why the bench could not measure.
#[derive(Debug)]
pub struct Fail(String);

impl Fail {
    pub fn new(msg: impl Into<String>) -> Fail {
        Fail(msg.into())
    }
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Parser)]
#[command(
    name = "capstan-bench",
    about = "Capstan measured side by side with the engines' own API"
)]
pub struct Args {
    /// The Capstan release binary
    #[arg(long, env = "CAPSTAN_BENCH_BINARY")]
    pub capstan: Option<PathBuf>,
    /// The built site (pkg/ with the wasm, JS and CSS)
    #[arg(long, default_value = "target/site")]
    pub site_root: PathBuf,
    /// Engine a (unix socket)
    #[arg(long, env = "CAPSTAN_TEST_UNIX_URL")]
    pub engine_a: String,
    /// Engine b (TCP with TLS)
    #[arg(long, env = "CAPSTAN_TEST_TLS_URL")]
    pub engine_b: String,
    /// The client certificates of engine b (ca.pem, cert.pem, key.pem)
    #[arg(long, env = "CAPSTAN_TEST_TLS_DIR")]
    pub engine_b_tls: PathBuf,
    /// Engine c (optional: without it the all-hosts row covers two engines)
    #[arg(long, env = "CAPSTAN_TEST_SWARM_URL")]
    pub engine_c: Option<String>,
    /// The image the load's containers run (present on every engine)
    #[arg(long, env = "CAPSTAN_TEST_IMAGE")]
    pub image: String,
    /// Repetitions per figure (medians are taken over them; at least 5)
    #[arg(long, default_value_t = 7)]
    pub reps: usize,
    /// Request pairs per round in the list rows and the all-hosts row (Capstan and the engine, alternating); a round's
    /// figure is the median of its pairs, which steadies the per-round ratio on a busy machine
    #[arg(long, default_value_t = 5)]
    pub pairs: usize,
    /// Container counts of the single-engine list rows
    #[arg(long, value_delimiter = ',', default_value = "100,500,1000")]
    pub sizes: Vec<usize>,
    /// Containers on each engine for the all-hosts row
    #[arg(long, default_value_t = 1000)]
    pub fleet_size: usize,
    /// Concurrent followers of one container
    #[arg(long, default_value_t = 100)]
    pub followers: usize,
    /// How long the followers follow, in seconds
    #[arg(long, default_value_t = 10)]
    pub follow_secs: u64,
    /// Where the table is written as JSON
    #[arg(long, default_value = "target/bench.json")]
    pub json: PathBuf,
    /// Only these rows (list, fleet, logs, followers, page, actions), comma-separated
    #[arg(long, value_delimiter = ',')]
    pub only: Vec<String>,
}

impl Args {
    fn wants(&self, row: &str) -> bool {
        self.only.is_empty() || self.only.iter().any(|r| r == row)
    }
}

/// What the JSON file holds.
#[derive(Serialize)]
struct Report {
    run_id: String,
    started_unix: u64,
    machine: Machine,
    rows: Vec<Row>,
    details: serde_json::Value,
}

#[derive(Serialize)]
struct Machine {
    cpus: usize,
    memory_kib: Option<u64>,
    kernel: String,
    engines: Vec<(String, String)>,
}

fn machine_kernel() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_owned())
        .unwrap_or_default()
}

fn machine_memory() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    info.lines()
        .find_map(|l| l.strip_prefix("MemTotal:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Everything the run made, so the cleanup can undo it whatever happened.
struct Setup {
    engines: Vec<Engine>,
    capstan: Option<Capstan>,
    _proxy: Option<Proxy>,
    _dir: tempfile::TempDir,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let args = Args::parse();
    let started = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    // Short, unique per run: names and the label carry it.
    let run_id = format!(
        "{:x}{:04x}",
        started.as_secs() & 0xff_ffff,
        std::process::id() & 0xffff
    );
    match bench(&args, &run_id, started.as_secs()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("capstan-bench: cannot measure: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn bench(args: &Args, run_id: &str, started_unix: u64) -> Result<(), Fail> {
    if args.reps < 5 {
        return Err(Fail::new("--reps must be at least 5"));
    }
    let binary = match &args.capstan {
        Some(p) => p.clone(),
        None => {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("target"));
            target.join("release/capstan")
        }
    };
    let dir = tempfile::Builder::new()
        .prefix("capstan-bench-")
        .tempdir()
        .map_err(|e| Fail::new(format!("a temporary directory: {e}")))?;
    let mut engines = vec![
        Engine::new("a", &args.engine_a, None).await?,
        Engine::new("b", &args.engine_b, Some(args.engine_b_tls.clone())).await?,
    ];
    if let Some(c) = &args.engine_c {
        engines.push(Engine::new("c", c, None).await?);
    }
    let mut setup = Setup {
        engines,
        capstan: None,
        _proxy: None,
        _dir: dir,
    };
    eprintln!(
        "run {run_id}: containers are named capbench-{run_id}-… and labelled {}={run_id}",
        load::LABEL
    );
    let outcome = tokio::select! {
        r = measure(args, run_id, &binary, &mut setup) => r,
        _ = tokio::signal::ctrl_c() => Err(Fail::new("interrupted")),
    };
    // Cleanup, whatever happened (a second Ctrl-C during it kills the process as usual).
    if let Some(c) = setup.capstan.take() {
        c.stop().await;
    }
    let mut removed = 0;
    for e in &setup.engines {
        removed += e.clean(run_id).await;
    }
    eprintln!("cleanup: removed {removed} containers");
    let (rows, details) = outcome?;
    let mut versions = Vec::new();
    for e in &setup.engines {
        versions.push((e.slug.clone(), e.version().await));
    }
    let report = Report {
        run_id: run_id.to_owned(),
        started_unix,
        machine: Machine {
            cpus: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory_kib: machine_memory(),
            kernel: machine_kernel(),
            engines: versions,
        },
        rows,
        details,
    };
    println!("{}", table::render(&report.rows));
    println!(
        "machine: {} CPUs, {} MiB RAM, kernel {}; engines: {}",
        report.machine.cpus,
        report.machine.memory_kib.unwrap_or(0) / 1024,
        report.machine.kernel,
        report
            .machine
            .engines
            .iter()
            .map(|(s, v)| format!("{s} {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    if let Some(parent) = args.json.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Fail::new(format!("creating {}: {e}", parent.display())))?;
    }
    let json = serde_json::to_vec_pretty(&report).map_err(|e| Fail::new(format!("JSON: {e}")))?;
    std::fs::write(&args.json, json)
        .map_err(|e| Fail::new(format!("writing {}: {e}", args.json.display())))?;
    println!("written to {}", args.json.display());
    Ok(())
}

async fn measure(
    args: &Args,
    run_id: &str,
    binary: &std::path::Path,
    setup: &mut Setup,
) -> Result<(Vec<Row>, serde_json::Value), Fail> {
    let a = setup.engines[0].clone();
    let crate::http::Endpoint::Unix(a_socket) = &a.endpoint else {
        return Err(Fail::new(
            "engine a must be a unix socket (the followers' proxy sits in front of it)",
        ));
    };
    let mut rows_out = Vec::new();
    let mut details = serde_json::Map::new();

    // First instance: engine a behind the counting proxy (same slug, same hosts as the second
    // one), for the idle memory and the followers.
    let proxy_path = setup._dir.path().join("engine-a.sock");
    let proxy = setup._proxy.insert(Proxy::start(&proxy_path, a_socket)?);
    let mut flags: Vec<String> = setup.engines.iter().map(|e| e.flag.clone()).collect();
    flags[0] = format!("{}=unix://{}", a.slug, proxy.path.display());
    eprintln!(
        "starting {} (engine a behind a counting proxy)",
        binary.display()
    );
    let capstan = setup
        .capstan
        .insert(Capstan::start(binary, &args.site_root, &flags, run_id).await?);
    // Idle: started, signed in, the health monitor has probed every engine once.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let idle = capstan.memory()?;
    rows_out.push(
        Row::new("idle_rss", "idle RSS after start", "MB", idle.rss_kib as f64 / 1024.0)
            .note(format!(
                "VmRSS 3 s after start and sign-in, {} hosts: {:.1} MB anonymous + {:.1} MB file-backed (VmHWM {:.1} MB)",
                flags.len(),
                idle.anon_kib as f64 / 1024.0,
                idle.file_kib as f64 / 1024.0,
                idle.hwm_kib as f64 / 1024.0
            ))
            .target(table::Target::AtMost(20.0)),
    );
    if args.wants("followers") {
        eprintln!(
            "followers: {} concurrent followers of one container",
            args.followers
        );
        let (r, d) = rows::followers(args, run_id, capstan, &a, proxy).await?;
        rows_out.extend(r);
        details.insert("followers".into(), d);
    }
    if let Some(c) = setup.capstan.take() {
        c.stop().await;
    }

    // Second instance: every engine direct.
    let flags: Vec<String> = setup.engines.iter().map(|e| e.flag.clone()).collect();
    eprintln!("starting {} again (engines direct)", binary.display());
    let capstan = setup
        .capstan
        .insert(Capstan::start(binary, &args.site_root, &flags, run_id).await?);
    if args.wants("page") {
        eprintln!("page: the Hosts page and its assets");
        let (r, d) = rows::page(args, capstan).await?;
        rows_out.extend(r);
        details.insert("page".into(), d);
    }
    if args.wants("logs") {
        eprintln!("logs: follow throughput");
        let (r, d) = rows::logs(args, run_id, capstan, &a).await?;
        rows_out.extend(r);
        details.insert("logs".into(), d);
    }
    if args.wants("actions") {
        eprintln!("actions: what recording an action costs");
        let (r, d) = rows::actions(args, run_id, capstan, &a).await?;
        rows_out.extend(r);
        details.insert("actions".into(), d);
    }
    if args.wants("list") || args.wants("fleet") {
        let (r, d) = rows::lists(args, run_id, capstan, &setup.engines).await?;
        rows_out.extend(r);
        details.insert("lists".into(), d);
    }
    // The table in the order: lists, fleet list, logs, followers and memory, page.
    let order = [
        "list_",
        "fleet_",
        "logs_",
        "followers_",
        "idle_rss",
        "page_",
        "action_",
    ];
    rows_out.sort_by_key(|r| {
        order
            .iter()
            .position(|p| r.key.starts_with(p))
            .unwrap_or(order.len())
    });
    Ok((rows_out, serde_json::Value::Object(details)))
}
