//! The live hub against the private unix engine: follow, history/live joint, search, stderr,
//! stats, events, sharing, lag and shutdown.

use std::time::Duration;

use crate::common::{docker_a, engine, env, unix_spec};
use backend::engine::{LogStream, Timeouts};
use backend::live::{
    EventFilter, EventItem, Hub, HubConfig, LogEnd, LogItem, LogParams, LogQuery, StatsItem,
};
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

fn hub(capacity: usize) -> (Hub, CancellationToken) {
    let token = CancellationToken::new();
    (
        Hub::new(
            HubConfig {
                capacity,
                linger: Duration::from_millis(300),
            },
            token.clone(),
        ),
        token,
    )
}

/// A container removed when the test ends, however it ends.
struct Container(String);

impl Container {
    fn run(name: &str, script: &str) -> Container {
        let _ = std::process::Command::new("docker")
            .args(["-H", &env("CAPSTAN_TEST_UNIX_URL"), "rm", "-f", name])
            .output();
        docker_a(&[
            "run",
            "-d",
            "--name",
            name,
            &env("CAPSTAN_TEST_IMAGE"),
            "sh",
            "-c",
            script,
        ]);
        Container(name.to_owned())
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = std::process::Command::new("docker")
            .args(["-H", &env("CAPSTAN_TEST_UNIX_URL"), "rm", "-f", &self.0])
            .output();
    }
}

fn query(pairs: &[(&str, &str)]) -> LogQuery {
    let mut p = LogParams::default();
    for (k, v) in pairs {
        let v = Some((*v).to_owned());
        match *k {
            "tail" => p.tail = v,
            "since" => p.since = v,
            "timestamps" => p.timestamps = v,
            "follow" => p.follow = v,
            "q" => p.q = v,
            "regex" => p.regex = v,
            "case" => p.case = v,
            "stdout" => p.stdout = v,
            "stderr" => p.stderr = v,
            other => panic!("{other}"),
        }
    }
    LogQuery::parse(&p, Some(500)).expect("query")
}

/// Every line text and the end, within `limit`.
async fn collect(
    mut items: futures::stream::BoxStream<'static, backend::Result<LogItem>>,
    limit: Duration,
) -> (Vec<(LogStream, String)>, Option<LogEnd>) {
    let mut lines = Vec::new();
    let mut end = None;
    let _ = tokio::time::timeout(limit, async {
        while let Some(item) = items.next().await {
            match item.expect("item") {
                LogItem::Lines(ls) => lines.extend(ls.iter().map(|l| (l.stream, l.text.clone()))),
                LogItem::Skipped(_) => {}
                LogItem::End(e) => {
                    end = Some(e);
                    break;
                }
            }
        }
    })
    .await;
    (lines, end)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn follow_sees_lines_in_order_and_ends_when_the_container_exits() {
    let name = "capstan-h6-follow";
    let _c = Container::run(
        name,
        "i=0; while [ $i -lt 30 ]; do echo line-$i; i=$((i+1)); sleep 0.1; done; echo oops >&2",
    );
    let (hub, _t) = hub(64);
    let feed = hub
        .logs(
            &engine(unix_spec()),
            "a",
            name,
            query(&[("follow", "true"), ("tail", "all")]),
        )
        .await
        .expect("feed");
    assert!(!feed.tty);
    let (lines, end) = collect(feed.items, Duration::from_secs(20)).await;
    let out: Vec<&str> = lines
        .iter()
        .filter(|(s, _)| *s == LogStream::Stdout)
        .map(|(_, t)| t.as_str())
        .collect();
    let want: Vec<String> = (0..30).map(|i| format!("line-{i}")).collect();
    assert_eq!(out, want, "every line once, in order");
    assert_eq!(
        lines
            .iter()
            .filter(|(s, _)| *s == LogStream::Stderr)
            .map(|(_, t)| t.as_str())
            .collect::<Vec<_>>(),
        ["oops"]
    );
    assert_eq!(end, Some(LogEnd::Exited { exit_code: Some(0) }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_honours_tail_timestamps_search_and_streams() {
    let name = "capstan-h6-history";
    let _c = Container::run(
        name,
        "for i in 1 2 3 4 5 6; do echo Apple-$i; echo pear-$i >&2; done; sleep 60",
    );
    tokio::time::sleep(Duration::from_millis(800)).await;
    let (hub, _t) = hub(64);
    let e = engine(unix_spec());
    let (lines, _) = collect(
        hub.logs(&e, "a", name, query(&[("tail", "3")]))
            .await
            .expect("tail")
            .items,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(lines.len(), 3, "{lines:?}");
    let (lines, _) = collect(
        hub.logs(
            &e,
            "a",
            name,
            query(&[("stderr", "false"), ("q", "apple-[2-3]"), ("regex", "true")]),
        )
        .await
        .expect("q")
        .items,
        Duration::from_secs(5),
    )
    .await;
    assert_eq!(
        lines,
        [
            (LogStream::Stdout, "Apple-2".to_owned()),
            (LogStream::Stdout, "Apple-3".to_owned())
        ]
    );
    let (lines, _) = collect(
        hub.logs(&e, "a", name, query(&[("q", "apple"), ("case", "true")]))
            .await
            .expect("case")
            .items,
        Duration::from_secs(5),
    )
    .await;
    assert!(lines.is_empty(), "case-sensitive search: {lines:?}");
    let (lines, _) = collect(
        hub.logs(&e, "a", name, query(&[("stdout", "false")]))
            .await
            .expect("stderr")
            .items,
        Duration::from_secs(5),
    )
    .await;
    assert!(
        lines.len() == 6
            && lines
                .iter()
                .all(|(s, t)| *s == LogStream::Stderr && t.starts_with("pear-")),
        "{lines:?}"
    );
    let future = (backend::store::now() + 3600).to_string();
    let (lines, _) = collect(
        hub.logs(&e, "a", name, query(&[("since", &future)]))
            .await
            .expect("since")
            .items,
        Duration::from_secs(5),
    )
    .await;
    assert!(lines.is_empty());
    let mut feed = hub
        .logs(
            &e,
            "a",
            name,
            query(&[("timestamps", "true"), ("tail", "1")]),
        )
        .await
        .expect("ts")
        .items;
    match feed.next().await {
        Some(Ok(LogItem::Lines(l))) => assert!(
            l[0].ts.as_deref().is_some_and(|t| t.starts_with("20")),
            "{l:?}"
        ),
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(LogQuery::parse(&LogParams { q: Some("(".into()), regex: Some("true".into()), ..LogParams::default() }, None), Err(backend::Error::Invalid { field, .. }) if field == "q")
    );
    assert!(hub
        .logs(&e, "a", "capstan-h6-missing", query(&[]))
        .await
        .is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_followers_share_one_engine_stream_and_a_laggard_is_told() {
    let name = "capstan-h6-shared";
    let _c = Container::run(
        name,
        "i=0; while true; do echo tick-$i; i=$((i+1)); sleep 0.05; done",
    );
    let (hub, _t) = hub(4);
    let e = engine(unix_spec());
    let mut feeds = Vec::new();
    for _ in 0..20 {
        feeds.push(
            hub.logs(&e, "a", name, query(&[("follow", "true"), ("tail", "0")]))
                .await
                .expect("feed")
                .items,
        );
    }
    assert_eq!(
        hub.engine_streams_opened(),
        1,
        "one engine stream for twenty followers"
    );
    // Nineteen read along; one never reads.
    let laggard = feeds.pop().expect("one");
    for feed in &mut feeds {
        let got = tokio::time::timeout(Duration::from_secs(5), feed.next())
            .await
            .expect("a line in time");
        assert!(matches!(got, Some(Ok(LogItem::Lines(_)))), "{got:?}");
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let container_id = docker_a(&["inspect", "-f", "{{.Id}}", name]);
    let buffered = hub.buffered_logs("a", &container_id).expect("open");
    assert!(
        buffered <= hub.capacity(),
        "{buffered} queued, capacity {}",
        hub.capacity()
    );
    drop(feeds);
    let mut laggard = laggard;
    let mut skipped = None;
    for _ in 0..20 {
        match tokio::time::timeout(Duration::from_secs(5), laggard.next())
            .await
            .expect("an item")
        {
            Some(Ok(LogItem::Skipped(n))) => {
                skipped = Some(n);
                break;
            }
            Some(Ok(_)) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(
        skipped.is_some_and(|n| n > 0),
        "the laggard is told it skipped lines"
    );
    drop(laggard);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        hub.open_streams(),
        0,
        "the engine stream closes after the last viewer left"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_streams() {
    let name = "capstan-h6-shutdown";
    let _c = Container::run(name, "while true; do echo x; sleep 1; done");
    let (hub, token) = hub(16);
    let feed = hub
        .logs(
            &engine(unix_spec()),
            "a",
            name,
            query(&[("follow", "true")]),
        )
        .await
        .expect("feed");
    let stats = hub
        .stats(&engine(unix_spec()), "a", name)
        .await
        .expect("stats");
    token.cancel();
    let (_, _) = collect(feed.items, Duration::from_secs(5)).await;
    let n = tokio::time::timeout(Duration::from_secs(5), stats.count())
        .await
        .expect("stats end on shutdown");
    assert!(n <= 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_of_a_busy_container_are_plausible() {
    let name = "capstan-h6-busy";
    let _c = Container::run(name, "while :; do :; done");
    let (hub, _t) = hub(16);
    let mut stats = hub
        .stats(&engine(unix_spec()), "a", name)
        .await
        .expect("stats");
    let mut best = None;
    for _ in 0..4 {
        match tokio::time::timeout(Duration::from_secs(10), stats.next())
            .await
            .expect("a sample")
        {
            Some(StatsItem::Sample(s)) => best = Some(s),
            other => panic!("{other:?}"),
        }
    }
    let s = best.expect("sample");
    assert!(s.cpu_percent > 20.0, "a busy loop uses a CPU: {s:?}");
    assert!(
        s.memory_usage > 0 && s.memory_limit >= s.memory_usage,
        "{s:?}"
    );
    assert!(s.pids >= 1, "{s:?}");
    let usage = backend::live::host_usage(&engine(unix_spec()), Duration::from_secs(10))
        .await
        .expect("host usage");
    assert!(usage.containers.iter().any(|c| c.name == name), "{usage:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_arrive_for_start_stop_and_die() {
    let name = "capstan-h6-events";
    let (hub, _t) = hub(64);
    let e = engine(unix_spec());
    let host = backend::fleet::Host::standalone("a", e.clone());
    let filter = EventFilter::parse(Some("container"), Some("start,die,stop")).expect("filter");
    let mut events = hub.events(&host, filter);
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _c = Container::run(name, "sleep 60");
    docker_a(&["stop", "-t", "1", name]);
    let mut seen = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(15), async {
        while let Some(item) = events.next().await {
            if let EventItem::Event(ev) = item {
                if ev.name.as_deref() == Some(name) {
                    seen.push(ev.action.clone());
                    if seen.iter().any(|a| a == "stop") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    for want in ["start", "die", "stop"] {
        assert!(seen.iter().any(|a| a == want), "{want} in {seen:?}");
    }
    assert!(EventFilter::parse(Some("bogus"), None).is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn engine_events_refresh_the_hosts_snapshot_at_once() {
    use backend::fleet::{Fleet, Health, HostConfig};
    let name = "capstan-lead-snapshot";
    // No monitor runs: only the event feed can bring the snapshot up to date.
    let fleet = Fleet::new(
        vec![HostConfig::new("a", "a", unix_spec())],
        Timeouts {
            call: Duration::from_secs(10),
        },
        Duration::from_secs(5),
    )
    .expect("fleet");
    let token = CancellationToken::new();
    let hub = Hub::new(HubConfig::default(), token.clone()).with_fleet(fleet.clone());
    let host = crate::common::host_of(&fleet, "a").expect("host");
    let before = fleet.status_of(&host).await;
    let Health::Up {
        summary: before, ..
    } = before.health
    else {
        panic!("engine a is up")
    };
    let mut events = hub.events(&host, EventFilter::default());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _c = Container::run(name, "sleep 60");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        // Keep the feed read, as a viewer would.
        let _ = tokio::time::timeout(Duration::from_millis(100), events.next()).await;
        let now = fleet.snapshot_of("a").expect("snapshot");
        if let Health::Up { summary, .. } = &now.health {
            if summary.containers_running > before.containers_running {
                break;
            }
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the snapshot never saw the new container"
        );
    }
    token.cancel();
}

/// What one follower of a fast writer saw.
struct Followed {
    lines: usize,
    items: usize,
    skipped: u64,
    end: Option<LogEnd>,
}

async fn follow_counting(
    mut items: futures::stream::BoxStream<'static, backend::Result<LogItem>>,
    encodes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
) -> Followed {
    let mut seen = Followed {
        lines: 0,
        items: 0,
        skipped: 0,
        end: None,
    };
    let _ = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(item) = items.next().await {
            match item.expect("item") {
                LogItem::Lines(ls) => {
                    seen.lines += ls.len();
                    seen.items += 1;
                    let wire = ls.encoded(false, |ls| {
                        encodes.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        bytes::Bytes::from(
                            ls.iter()
                                .map(|l| format!("{}\n", l.text))
                                .collect::<String>(),
                        )
                    });
                    assert_eq!(wire.iter().filter(|b| **b == b'\n').count(), ls.len());
                }
                LogItem::Skipped(n) => seen.skipped += n,
                LogItem::End(e) => {
                    seen.end = Some(e);
                    break;
                }
            }
        }
    })
    .await;
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_that_keep_up_get_every_line_of_a_fast_writer_in_shared_batches() {
    let name = "capstan-perf-fast-writer";
    const LINES: usize = 100_000;
    let _c = Container::run(
        name,
        &format!("sleep 1; yes 0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567 | head -n {LINES}"),
    );
    let (hub, _t) = hub(256);
    let e = engine(unix_spec());
    let encodes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let mut readers = Vec::new();
    for _ in 0..2 {
        let feed = hub
            .logs(&e, "a", name, query(&[("follow", "true"), ("tail", "0")]))
            .await
            .expect("feed");
        readers.push(tokio::spawn(follow_counting(feed.items, encodes.clone())));
    }
    let mut seen = Vec::new();
    for reader in readers {
        seen.push(reader.await.expect("reader"));
    }
    for s in &seen {
        assert_eq!(s.skipped, 0, "a reader that keeps up skips nothing");
        assert_eq!(s.lines, LINES, "every line arrives");
        assert!(matches!(s.end, Some(LogEnd::Exited { .. })), "{:?}", s.end);
        assert!(
            s.lines / s.items >= 8,
            "lines come in batches: {} lines in {} items",
            s.lines,
            s.items
        );
    }
    assert_eq!(hub.engine_streams_opened(), 1);
    let encodes = encodes.load(std::sync::atomic::Ordering::SeqCst);
    assert_eq!(
        encodes, seen[0].items,
        "each shared batch is encoded once for both readers"
    );
}
