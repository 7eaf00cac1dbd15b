//! The health monitor against a real engine behind a proxy the test can pull: the host goes
//! down and comes back without a restart, and a hanging host never holds up the others.

mod common;

use std::time::{Duration, Instant};

use backend::engine::{EngineSpec, Timeouts};
use backend::fleet::{Fleet, Health, HostConfig, HostStatus};
use common::*;
use tokio::net::{TcpListener, UnixStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A TCP front for the unix test engine: a real engine that can be made to vanish and return.
async fn proxy(port: u16) -> JoinHandle<()> {
    let socket = unix_spec().url.trim_start_matches("unix://").to_string();
    let listener = TcpListener::bind(("127.0.0.1", port)).await.expect("bind proxy");
    tokio::spawn(async move {
        let mut conns = tokio::task::JoinSet::new();
        while let Ok((mut tcp, _)) = listener.accept().await {
            let socket = socket.clone();
            conns.spawn(async move {
                if let Ok(mut unix) = UnixStream::connect(&socket).await {
                    let _ = tokio::io::copy_bidirectional(&mut tcp, &mut unix).await;
                }
            });
        }
    })
}

fn host(slug: &str, url: String) -> HostConfig {
    HostConfig::new(slug, slug, EngineSpec { url, tls: None })
}

async fn wait_for(fleet: &Fleet, slug: &str, up: bool, within: Duration) -> HostStatus {
    let started = Instant::now();
    loop {
        // Only the monitor writes here: nothing in this test probes on its own.
        if let Some(status) = fleet.snapshot_of(slug) {
            if matches!(status.health, Health::Up { .. }) == up {
                return status;
            }
        }
        assert!(started.elapsed() < within, "{slug} not {} within {within:?}", if up { "up" } else { "down" });
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_goes_away_is_down_and_back_up_without_a_restart() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let mut front = proxy(port).await;
    let interval = Duration::from_millis(400);
    let fleet = Fleet::new(
        vec![host("proxied", format!("tcp://127.0.0.1:{port}"))],
        Timeouts { call: Duration::from_millis(400) },
        Duration::from_millis(400),
    )
    .expect("fleet");
    let stop = CancellationToken::new();
    fleet.spawn_monitor(interval, stop.clone());

    // Two intervals plus the probe deadline, with room for a busy machine.
    let bound = interval * 2 + Duration::from_millis(400) + Duration::from_secs(3);
    let up = wait_for(&fleet, "proxied", true, bound).await;
    assert!(up.last_seen.is_some());

    front.abort();
    let _ = (&mut front).await;
    let down = wait_for(&fleet, "proxied", false, bound).await;
    assert_eq!(down.last_seen, up.last_seen.or(down.last_seen), "last seen is kept while down");
    match &down.health {
        Health::Down { error } => assert!(error.contains("refused") || error.contains("in time"), "{error}"),
        Health::Up { .. } => unreachable!(),
    }

    let front = proxy(port).await;
    wait_for(&fleet, "proxied", true, bound).await;
    stop.cancel();
    front.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_host_does_not_hold_up_the_snapshot_of_others() {
    let addr = hanging_engine().await;
    let fleet = Fleet::new(
        vec![host("hangs", format!("tcp://{addr}")), HostConfig::new("unix", "unix", unix_spec())],
        Timeouts { call: Duration::from_secs(30) },
        Duration::from_secs(30),
    )
    .expect("fleet");
    let stop = CancellationToken::new();
    fleet.spawn_monitor(Duration::from_millis(200), stop.clone());
    // The unix host is up in the snapshot long before the hanging host's 30 s deadline.
    let started = Instant::now();
    loop {
        if fleet.snapshot_of("unix").is_some_and(|s| matches!(s.health, Health::Up { .. })) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(10), "the unix host was held up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
}
