//! The health monitor against a real engine behind a proxy the test can pull: the host goes
//! down and comes back without a restart, a hanging host never holds up the others, and engine
//! events bring the snapshot up to date at once through one shared stream per host.

use std::time::{Duration, Instant};

use crate::common::*;
use backend::engine::{EngineSpec, Timeouts};
use backend::fleet::{Fleet, Health, HostConfig, HostStatus};
use tokio::net::{TcpListener, UnixStream};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A TCP front for the unix test engine: a real engine that can be made to vanish and return.
async fn proxy(port: u16) -> JoinHandle<()> {
    let socket = unix_spec().url.trim_start_matches("unix://").to_string();
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind proxy");
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
        assert!(
            started.elapsed() < within,
            "{slug} not {} within {within:?}",
            if up { "up" } else { "down" }
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_host_that_goes_away_is_down_and_back_up_without_a_restart() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("port")
        .local_addr()
        .expect("addr")
        .port();
    let mut front = proxy(port).await;
    let interval = Duration::from_millis(400);
    let fleet = Fleet::new(
        vec![host("proxied", format!("tcp://127.0.0.1:{port}"))],
        Timeouts {
            call: Duration::from_millis(400),
        },
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
    assert_eq!(
        down.last_seen,
        up.last_seen.or(down.last_seen),
        "last seen is kept while down"
    );
    match &down.health {
        Health::Down { error } => assert!(
            error.contains("refused") || error.contains("in time"),
            "{error}"
        ),
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
        vec![
            host("hangs", format!("tcp://{addr}")),
            HostConfig::new("unix", "unix", unix_spec()),
        ],
        Timeouts {
            call: Duration::from_secs(30),
        },
        Duration::from_secs(30),
    )
    .expect("fleet");
    let stop = CancellationToken::new();
    fleet.spawn_monitor(Duration::from_millis(200), stop.clone());
    // The unix host is up in the snapshot long before the hanging host's 30 s deadline.
    let started = Instant::now();
    loop {
        if fleet
            .snapshot_of("unix")
            .is_some_and(|s| matches!(s.health, Health::Up { .. }))
        {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the unix host was held up"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
}

/// A container of this test on engine a, removed on drop.
struct Sleeper(String);

impl Sleeper {
    fn run(name: &str) -> Sleeper {
        let _ = std::process::Command::new("docker")
            .args(["-H", &env("CAPSTAN_TEST_UNIX_URL"), "rm", "-f", name])
            .output();
        docker_a(&[
            "run",
            "-d",
            "--name",
            name,
            &env("CAPSTAN_TEST_IMAGE"),
            "sleep",
            "60",
        ]);
        Sleeper(name.to_owned())
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["-H", &env("CAPSTAN_TEST_UNIX_URL"), "rm", "-f", &self.0])
            .output();
    }
}

/// A fleet of engine a alone whose monitor probes only once a minute: within a test, only an
/// engine event can bring its snapshot up to date.
fn slow_fleet() -> Fleet {
    Fleet::new(
        vec![HostConfig::new("a", "a", unix_spec())],
        Timeouts {
            call: Duration::from_secs(10),
        },
        Duration::from_secs(5),
    )
    .expect("fleet")
}

/// Starts a container and waits until the snapshot is probed again after it (a later second)
/// with it running; the monitor's interval is a minute, so only an event can do that.
async fn snapshot_follows_a_start(fleet: &Fleet, name: &str) -> Sleeper {
    let before = wait_for(fleet, "a", true, Duration::from_secs(10)).await;
    // checked_at counts seconds: make sure the next probe lands in a later one.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let container = Sleeper::run(name);
    let started = Instant::now();
    loop {
        let now = fleet.snapshot_of("a").expect("snapshot");
        if let Health::Up { summary, .. } = &now.health {
            if now.checked_at > before.checked_at && summary.containers_running >= 1 {
                break;
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "the snapshot did not follow the start"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    container
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_refresh_the_snapshot_with_no_viewer_through_the_one_shared_stream() {
    use backend::live::{EventFilter, EventItem, Hub, HubConfig};
    use futures::StreamExt;

    let fleet = slow_fleet();
    let stop = CancellationToken::new();
    let hub = Hub::new(
        HubConfig {
            capacity: 64,
            linger: Duration::from_millis(200),
        },
        stop.clone(),
    )
    .with_fleet(fleet.clone());
    fleet.spawn_monitor(Duration::from_secs(60), stop.clone());
    wait_for(&fleet, "a", true, Duration::from_secs(10)).await;
    let started = Instant::now();
    while hub.open_streams() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the monitor never followed the host's events"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let container = snapshot_follows_a_start(&fleet, "capstan-monitor-events-shared").await;
    assert_eq!(
        hub.engine_streams_opened(),
        1,
        "the monitor holds one engine stream"
    );

    // A viewer joins the monitor's stream instead of opening another.
    let host = crate::common::host_of(&fleet, "a").expect("host");
    let mut feed = hub.events(
        &host,
        EventFilter::parse(Some("container"), Some("die")).expect("filter"),
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    docker_a(&["stop", "-t", "0", "capstan-monitor-events-shared"]);
    let died = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(item) = feed.next().await {
            if let EventItem::Event(e) = item {
                if e.name.as_deref() == Some("capstan-monitor-events-shared") {
                    return true;
                }
            }
        }
        false
    })
    .await;
    assert_eq!(died, Ok(true), "the viewer saw the container die");
    assert_eq!(
        hub.engine_streams_opened(),
        1,
        "viewer and monitor share one engine stream"
    );
    drop(feed);
    drop(container);

    // Removing the host ends its watcher: the shared stream closes after its linger.
    fleet.remove("a").expect("remove");
    let started = Instant::now();
    while hub.open_streams() > 0 {
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "the host's event stream outlived the host"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_hub_the_monitor_follows_events_itself() {
    let fleet = slow_fleet();
    let stop = CancellationToken::new();
    fleet.spawn_monitor(Duration::from_secs(60), stop.clone());
    wait_for(&fleet, "a", true, Duration::from_secs(10)).await;
    // Give the watcher a moment to open its stream before the event it must see.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let _container = snapshot_follows_a_start(&fleet, "capstan-monitor-events-own").await;
    stop.cancel();
}

/// One replica of two on a PostgreSQL database, with its own fleet of the same hosts.
struct Replica {
    fleet: Fleet,
    stop: CancellationToken,
}

async fn replica(database: &backend::store::Database, interval: Duration) -> Replica {
    let store = backend::store::Store::connect(database)
        .await
        .expect("store");
    let fleet = Fleet::new(
        vec![
            HostConfig::new("unix", "unix", unix_spec()),
            HostConfig::new("unix-again", "unix again", unix_spec()),
        ],
        Timeouts {
            call: Duration::from_secs(2),
        },
        Duration::from_secs(2),
    )
    .expect("fleet");
    let stop = CancellationToken::new();
    store.follow_replicas(stop.clone());
    fleet.share_with(&store);
    fleet.spawn_monitor(interval, stop.clone());
    Replica { fleet, stop }
}

/// Waits until exactly one of the replicas monitors each host, and each replica as many as
/// another give or take one; returns who monitors what.
async fn settled(replicas: &[&Replica], within: Duration) -> Vec<Vec<String>> {
    let started = Instant::now();
    loop {
        let held: Vec<Vec<String>> = replicas.iter().map(|r| r.fleet.monitored()).collect();
        let mut all: Vec<&String> = held.iter().flatten().collect();
        all.sort();
        let fewest = held.iter().map(Vec::len).min().unwrap_or(0);
        let most = held.iter().map(Vec::len).max().unwrap_or(0);
        if all == ["unix", "unix-again"] && most - fewest <= 1 {
            return held;
        }
        assert!(
            started.elapsed() < within,
            "hosts not shared out within {within:?}: {held:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Replicas on one PostgreSQL probe each host once between them (leases), share the hosts out
/// evenly, and each shows what the other saw; when one dies (it stops renewing, as a killed
/// process does) the other takes its hosts over within two intervals; a replica that joins gets
/// its share; one that stops cleanly hands its hosts over at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_monitor_each_host_once_and_take_over_from_one_that_dies() {
    let database = backend::store::scratch_postgres(&env("CAPSTAN_TEST_PG_URL"))
        .await
        .expect("database");
    let interval = Duration::from_millis(600);
    let first = replica(&database, interval).await;
    let second = replica(&database, interval).await;
    let slack = Duration::from_secs(3);

    // The first to start took both; the second gets its share.
    let held = settled(&[&first, &second], interval * 3 + slack).await;
    assert_eq!(held.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1]);
    let (watcher, other) = (&first, &second);
    // Each shows the host it does not probe as the other saw it.
    let theirs = &held[0][0];
    let shown = wait_for(&other.fleet, theirs, true, interval * 2 + slack).await;
    assert_eq!(&shown.slug, theirs);
    match shown.health {
        Health::Up { summary, .. } => assert!(!summary.engine_version.is_empty()),
        Health::Down { .. } => unreachable!(),
    }

    // Killed: its leases are not let go, they run out.
    watcher.stop.cancel();
    let died = Instant::now();
    let held = settled(&[other], interval * 2 + slack).await;
    let took = died.elapsed();
    assert_eq!(
        held,
        vec![vec!["unix".to_string(), "unix-again".to_string()]]
    );
    eprintln!("took the hosts over {took:?} after the other replica died (interval {interval:?})");
    // Probing them itself now: the snapshot moves on past the death.
    let since = backend::store::now();
    let started = Instant::now();
    while other
        .fleet
        .snapshot_of("unix")
        .is_none_or(|s| s.checked_at <= since)
    {
        assert!(started.elapsed() < interval * 3 + slack, "no fresh probe");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // A third joins and gets its share; the survivor stops cleanly: the newcomer has both
    // before a lease could have run out.
    let third = replica(&database, interval).await;
    let held = settled(&[other, &third], interval * 3 + slack).await;
    assert_eq!(held.iter().map(Vec::len).collect::<Vec<_>>(), [1, 1]);
    other.stop.cancel();
    other.fleet.stop_sharing().await;
    let handed = Instant::now();
    settled(&[&third], interval + slack).await;
    eprintln!(
        "a clean stop handed the hosts over in {:?}",
        handed.elapsed()
    );
    third.stop.cancel();
}
