//! The measurements. Every paired figure is taken in rounds that alternate which side goes
//! first, so drift on a shared machine hits both sides alike; medians are over the rounds.

use std::time::{Duration, Instant};

use futures::future::join_all;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde_json::{json, Value};

use crate::capstan::Capstan;
use crate::http::{get_fresh, Endpoint};
use crate::load::Engine;
use crate::proxy::Proxy;
use crate::table::{median, Row, Target};
use crate::{Args, Fail};

/// Every log line the bench's containers print is this text plus a newline.
const PAD: &str = "capstan-bench-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx";
const LINE_BYTES: u64 = PAD.len() as u64 + 1;

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn kib(bytes: u64) -> f64 {
    bytes as f64 / 1024.0
}

// ---------------------------------------------------------------------------------------------
// Row 1 and 2: container lists

/// How many items a JSON array has.
fn array_len(body: &[u8]) -> Result<usize, Fail> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| Fail::new(format!("a list is not JSON: {e}")))?;
    v.as_array()
        .map(Vec::len)
        .ok_or_else(|| Fail::new("a list is not a JSON array"))
}

const ENGINE_LIST: &str = "/containers/json?all=1";

/// Request pairs in rounds: each round's figure per side is the median of its `--pairs` pairs
/// (which side goes first alternates from pair to pair and round to round), and the round's
/// ratio is Capstan's figure over the reference's.
#[derive(Default)]
struct Paired {
    ours: Vec<f64>,
    theirs: Vec<f64>,
    ratios: Vec<f64>,
}

impl Paired {
    fn ours_first(round: usize, pair: usize) -> bool {
        (round + pair).is_multiple_of(2)
    }

    fn round(&mut self, ours: &[f64], theirs: &[f64]) {
        let (o, t) = (median(ours), median(theirs));
        self.ours.push(o);
        self.theirs.push(t);
        self.ratios.push(o / t.max(1e-6));
    }

    /// Median of Capstan's rounds, of the reference's, and of the rounds' ratios.
    fn medians(&self) -> (f64, f64, f64) {
        (
            median(&self.ours),
            median(&self.theirs),
            median(&self.ratios),
        )
    }
}

pub async fn lists(
    args: &Args,
    run_id: &str,
    capstan: &Capstan,
    engines: &[Engine],
) -> Result<(Vec<Row>, Value), Fail> {
    let a = &engines[0];
    let mut rows = Vec::new();
    let mut details = serde_json::Map::new();
    let mut have = 0usize;
    let mut sizes = args.sizes.clone();
    sizes.sort_unstable();
    sizes.dedup();
    let mut conn = capstan.connect().await?;
    let auth = capstan.api_headers();
    if args.wants("list") {
        for &n in &sizes {
            eprintln!(
                "list: {n} containers on engine a (creating {})",
                n.saturating_sub(have)
            );
            let t = Instant::now();
            a.fill(run_id, &args.image, have, n).await?;
            have = have.max(n);
            eprintln!(
                "list: created in {:.1} s; measuring",
                t.elapsed().as_secs_f64()
            );
            let path = format!("/api/v1/hosts/{}/containers?all=true", a.slug);
            // Warm-up, and what each side returns.
            let ours = conn.get_ok(&path, &auth, true).await?;
            let theirs = Endpoint::connect(&a.endpoint)
                .await?
                .get_ok(ENGINE_LIST, &[], true)
                .await?;
            let (ours_n, theirs_n) = (array_len(&ours.body)?, array_len(&theirs.body)?);
            let mut paired = Paired::default();
            for round in 0..args.reps {
                let (mut cs, mut es) = (Vec::new(), Vec::new());
                for pair in 0..args.pairs.max(1) {
                    let (cd, ed) = if Paired::ours_first(round, pair) {
                        let cd = conn.get_ok(&path, &auth, false).await?.elapsed;
                        (cd, get_fresh(&a.endpoint, ENGINE_LIST).await?.elapsed)
                    } else {
                        let ed = get_fresh(&a.endpoint, ENGINE_LIST).await?.elapsed;
                        (conn.get_ok(&path, &auth, false).await?.elapsed, ed)
                    };
                    cs.push(ms(cd));
                    es.push(ms(ed));
                }
                paired.round(&cs, &es);
            }
            let (c, e, r) = paired.medians();
            let row = Row::new(
                &format!("list_{n}"),
                &format!("container list, {n} (engine a)"),
                "ms",
                c,
            )
            .reference(e, r)
            .samples(args.reps * args.pairs.max(1))
            .target(Target::RatioAtMost(1.10))
            .note(format!(
                "{} rounds of {} request pairs; engine listed {theirs_n} containers ({} KiB JSON), Capstan {ours_n} ({} KiB JSON)",
                args.reps,
                args.pairs.max(1),
                kib(theirs.wire_bytes).round(),
                kib(ours.wire_bytes).round()
            ));
            details.insert(
                format!("list_{n}"),
                json!({ "capstan_ms": paired.ours, "engine_ms": paired.theirs, "ratios": paired.ratios,
                        "engine_items": theirs_n, "capstan_items": ours_n,
                        "engine_bytes": theirs.wire_bytes, "capstan_bytes": ours.wire_bytes }),
            );
            rows.push(row);
        }
    }
    if args.wants("fleet") {
        let n = args.fleet_size;
        for e in engines {
            e.ensure_image(a, &args.image).await?;
            let from = if e.slug == a.slug { have } else { 0 };
            eprintln!(
                "fleet: {n} containers on engine {} (creating {})",
                e.slug,
                n.saturating_sub(from)
            );
            e.fill(run_id, &args.image, from, n).await?;
        }
        let path = "/api/v1/containers?all=true";
        let ours = conn.get_ok(path, &auth, true).await?;
        let ours_n = array_len(&ours.body)?;
        let each = || join_all(engines.iter().map(|e| get_fresh(&e.endpoint, ENGINE_LIST)));
        for r in each().await {
            r?;
        }
        let mut paired = Paired::default();
        let mut slowest_by = vec![0usize; engines.len()];
        let run_engines = || async {
            let answers = each().await;
            let mut worst = (0usize, Duration::ZERO);
            for (i, a) in answers.into_iter().enumerate() {
                let el = a?.elapsed;
                if el > worst.1 {
                    worst = (i, el);
                }
            }
            Ok::<_, Fail>(worst)
        };
        for round in 0..args.reps {
            let (mut cs, mut ws) = (Vec::new(), Vec::new());
            for pair in 0..args.pairs.max(1) {
                let (cd, (wi, wd)) = if Paired::ours_first(round, pair) {
                    let cd = conn.get_ok(path, &auth, false).await?.elapsed;
                    (cd, run_engines().await?)
                } else {
                    let w = run_engines().await?;
                    (conn.get_ok(path, &auth, false).await?.elapsed, w)
                };
                slowest_by[wi] += 1;
                cs.push(ms(cd));
                ws.push(ms(wd));
            }
            paired.round(&cs, &ws);
        }
        let slowest = engines
            .iter()
            .zip(&slowest_by)
            .filter(|(_, n)| **n > 0)
            .map(|(e, n)| format!("{} {n}×", e.slug))
            .collect::<Vec<_>>()
            .join(", ");
        let (c, s, r) = paired.medians();
        rows.push(
            Row::new(
                "fleet_list",
                &format!("all-hosts list, {} engines × {n}", engines.len()),
                "ms",
                c,
            )
            .reference(s, r)
            .samples(args.reps * args.pairs.max(1))
            .target(Target::RatioAtMost(1.15))
            .note(format!(
                "{} rounds of {} request pairs; reference: the slowest of the engines' own lists, asked in parallel (slowest: {slowest}); Capstan returned {ours_n} containers ({} KiB JSON)",
                args.reps,
                args.pairs.max(1),
                kib(ours.wire_bytes).round()
            )),
        );
        details.insert(
            "fleet_list".into(),
            json!({ "capstan_ms": paired.ours, "slowest_engine_ms": paired.theirs, "ratios": paired.ratios,
                    "capstan_items": ours_n }),
        );
    }
    Ok((rows, Value::Object(details)))
}

// ---------------------------------------------------------------------------------------------
// Row 3: log follow throughput

/// What one follower read.
#[derive(Debug, Default, Clone, Copy)]
struct Read {
    lines: u64,
    /// Log text bytes (newlines included).
    bytes: u64,
    /// Bytes on the wire.
    wire: u64,
    /// Lines Capstan said this follower missed.
    skipped: u64,
    /// From the first line to the last.
    span: Duration,
    ended: bool,
}

/// Counts the lines of an engine's multiplexed log stream (8-byte frame headers).
#[derive(Default)]
struct Frames {
    header: Vec<u8>,
    left: usize,
}

impl Frames {
    /// Returns (lines, text bytes) in `chunk`.
    fn feed(&mut self, mut chunk: &[u8]) -> (u64, u64) {
        let (mut lines, mut bytes) = (0u64, 0u64);
        while !chunk.is_empty() {
            if self.left == 0 {
                let need = 8 - self.header.len();
                let take = need.min(chunk.len());
                self.header.extend_from_slice(&chunk[..take]);
                chunk = &chunk[take..];
                if self.header.len() == 8 {
                    self.left = u32::from_be_bytes([
                        self.header[4],
                        self.header[5],
                        self.header[6],
                        self.header[7],
                    ]) as usize;
                    self.header.clear();
                }
                continue;
            }
            let take = self.left.min(chunk.len());
            lines += memchr::memchr_iter(b'\n', &chunk[..take]).count() as u64;
            bytes += take as u64;
            self.left -= take;
            chunk = &chunk[take..];
        }
        (lines, bytes)
    }
}

/// Counts `line` events (and reads `skipped` counts, notices `end`) of Capstan's SSE stream.
#[derive(Default)]
struct Sse {
    partial: Vec<u8>,
    event: Vec<u8>,
}

impl Sse {
    /// Returns (lines, skipped, ended) in `chunk`.
    fn feed(&mut self, chunk: &[u8]) -> (u64, u64, bool) {
        let (mut lines, mut skipped, mut ended) = (0u64, 0u64, false);
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            let line: &[u8] = if self.partial.is_empty() {
                &chunk[start..nl]
            } else {
                self.partial.extend_from_slice(&chunk[start..nl]);
                &self.partial
            };
            if let Some(ev) = line.strip_prefix(b"event: ") {
                match ev {
                    b"line" => lines += 1,
                    b"end" => ended = true,
                    _ => {}
                }
                self.event = ev.to_vec();
            } else if let Some(data) = line.strip_prefix(b"data: ") {
                if self.event == b"skipped" {
                    skipped += serde_json::from_slice::<Value>(data)
                        .ok()
                        .and_then(|v| v.get("count").and_then(Value::as_u64))
                        .unwrap_or(0);
                }
            }
            self.partial.clear();
            start = nl + 1;
        }
        self.partial.extend_from_slice(&chunk[start..]);
        (lines, skipped, ended)
    }
}

/// Reads a follow stream to its end (or until `stop`), counting with `count`.
async fn read_stream(
    mut body: Incoming,
    mut count: impl FnMut(&[u8]) -> (u64, u64, u64, bool),
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Result<Read, Fail> {
    let mut read = Read::default();
    let (mut first, mut last) = (None::<Instant>, None::<Instant>);
    let mut stop = stop;
    loop {
        let frame = match &mut stop {
            Some(rx) => tokio::select! {
                f = body.frame() => f,
                _ = rx.changed() => break,
            },
            None => body.frame().await,
        };
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| Fail::new(format!("reading a log stream: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        read.wire += data.len() as u64;
        let (lines, bytes, skipped, ended) = count(&data);
        if lines > 0 {
            let now = Instant::now();
            first.get_or_insert(now);
            last = Some(now);
        }
        read.lines += lines;
        read.bytes += bytes;
        read.skipped += skipped;
        if ended {
            read.ended = true;
            break;
        }
    }
    if let (Some(f), Some(l)) = (first, last) {
        read.span = l - f;
    }
    Ok(read)
}

async fn follow_engine(engine: &Engine, id: &str) -> Result<Read, Fail> {
    let mut conn = engine.endpoint.connect().await?;
    let path = format!("/containers/{id}/logs?follow=1&stdout=1&stderr=1");
    let res = conn.send(http::Method::GET, &path, &[], None).await?;
    if !res.status().is_success() {
        return Err(Fail::new(format!("engine logs: status {}", res.status())));
    }
    let mut frames = Frames::default();
    let mut read = read_stream(
        res.into_body(),
        move |chunk| {
            let (l, b) = frames.feed(chunk);
            (l, b, 0, false)
        },
        None,
    )
    .await?;
    read.ended = true;
    Ok(read)
}

async fn follow_capstan(
    capstan: &Capstan,
    host: &str,
    id: &str,
    tail: &str,
    stop: Option<tokio::sync::watch::Receiver<bool>>,
) -> Result<Read, Fail> {
    let mut conn = capstan.connect().await?;
    let path = format!("/api/v1/hosts/{host}/containers/{id}/logs?follow=true&tail={tail}");
    let res = conn
        .send(http::Method::GET, &path, &capstan.api_headers(), None)
        .await?;
    if !res.status().is_success() {
        return Err(Fail::new(format!("Capstan logs: status {}", res.status())));
    }
    let mut sse = Sse::default();
    read_stream(
        res.into_body(),
        move |chunk| {
            let (l, s, e) = sse.feed(chunk);
            (l, l * LINE_BYTES, s, e)
        },
        stop,
    )
    .await
}

fn printer(lines: u64) -> Vec<String> {
    vec![
        "sh".into(),
        "-c".into(),
        format!("sleep 1; yes {PAD} | head -n {lines}"),
    ]
}

/// One container printing `lines` lines as fast as it can, followed by Capstan or directly.
async fn one_log_run(
    run_id: &str,
    image: &str,
    capstan: Option<&Capstan>,
    engine: &Engine,
    lines: u64,
    n: usize,
) -> Result<Read, Fail> {
    let who = if capstan.is_some() {
        "capstan"
    } else {
        "engine"
    };
    let name = format!("capbench-{run_id}-logs-{who}-{n}");
    let id = engine
        .create(run_id, image, &name, printer(lines), true)
        .await?;
    let read = match capstan {
        Some(c) => follow_capstan(c, &engine.slug, &id, "all", None).await,
        None => follow_engine(engine, &id).await,
    };
    let removed = engine.remove(&id).await;
    let read = read?;
    removed?;
    Ok(read)
}

pub async fn logs(
    args: &Args,
    run_id: &str,
    capstan: &Capstan,
    a: &Engine,
) -> Result<(Vec<Row>, Value), Fail> {
    // Enough lines for well over a second of reading at the engine's pace.
    let probe_lines = 200_000u64;
    let probe = one_log_run(run_id, &args.image, None, a, probe_lines, 0).await?;
    let secs = probe.span.as_secs_f64().max(0.05);
    let lines = ((probe_lines as f64 * 2.0 / secs) as u64).clamp(probe_lines, 3_000_000);
    eprintln!(
        "logs: {lines} lines per run ({:.0} lines/s in the probe)",
        probe.lines as f64 / secs
    );
    let (mut c, mut e, mut r, mut cb, mut eb) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut skipped, mut short, mut unended) = (0u64, 0usize, 0usize);
    for round in 0..args.reps {
        let mut pair = [None, None];
        for side in 0..2 {
            let via_capstan = (round + side) % 2 == 0;
            let read = one_log_run(
                run_id,
                &args.image,
                via_capstan.then_some(capstan),
                a,
                lines,
                round * 2 + side + 1,
            )
            .await?;
            pair[usize::from(!via_capstan)] = Some(read);
        }
        let [Some(cr), Some(er)] = pair else {
            return Err(Fail::new("a log run did not happen"));
        };
        let rate = |rd: &Read| rd.lines as f64 / rd.span.as_secs_f64().max(1e-6);
        let brate = |rd: &Read| rd.bytes as f64 / rd.span.as_secs_f64().max(1e-6);
        skipped += cr.skipped;
        if cr.lines + cr.skipped < lines || er.lines < lines {
            short += 1;
        }
        if !cr.ended {
            unended += 1;
        }
        c.push(rate(&cr));
        e.push(rate(&er));
        cb.push(brate(&cr) / 1e6);
        eb.push(brate(&er) / 1e6);
        r.push(rate(&cr) / rate(&er).max(1e-9));
    }
    let mut note = format!(
        "{lines} lines of {LINE_BYTES} bytes per run; time from the first line to the last; reference: the engine's /logs?follow=1 read directly"
    );
    if skipped > 0 {
        note.push_str(&format!(
            "; Capstan told the reader it skipped {skipped} lines in all (reader too slow)"
        ));
    }
    if short > 0 {
        note.push_str(&format!("; {short} rounds read fewer lines than printed"));
    }
    if unended > 0 {
        note.push_str(&format!(
            "; {unended} Capstan streams ended without an end event"
        ));
    }
    let ratio_b: Vec<f64> = cb.iter().zip(&eb).map(|(x, y)| x / y.max(1e-9)).collect();
    let printed = lines as f64 * args.reps as f64;
    let lost = Row::new("logs_skipped", "log follow, lines skipped by Capstan", "%", skipped as f64 * 100.0 / printed)
        .samples(args.reps)
        .note("lines Capstan reported as skipped (its shared channel ran ahead of this reader), of all lines printed");
    let rows = vec![
        Row::new("logs_lines", "log follow, lines/s", "lines/s", median(&c))
            .reference(median(&e), median(&r))
            .samples(args.reps)
            .target(Target::RatioAtLeast(0.9))
            .note(note),
        Row::new(
            "logs_bytes",
            "log follow, MB/s of log text",
            "MB/s",
            median(&cb),
        )
        .reference(median(&eb), median(&ratio_b))
        .samples(args.reps)
        .target(Target::RatioAtLeast(0.9)),
        lost,
    ];
    let details = json!({ "lines_per_run": lines, "capstan_lines_per_s": c, "engine_lines_per_s": e, "ratios": r,
                          "capstan_mb_per_s": cb, "engine_mb_per_s": eb, "skipped": skipped });
    Ok((rows, details))
}

// ---------------------------------------------------------------------------------------------
// Row 4: many followers of one container

pub async fn followers(
    args: &Args,
    run_id: &str,
    capstan: &Capstan,
    a: &Engine,
    proxy: &Proxy,
) -> Result<(Vec<Row>, Value), Fail> {
    let name = format!("capbench-{run_id}-followed");
    // About 2,000 lines a second, steadily.
    let cmd = vec![
        "sh".into(),
        "-c".into(),
        format!("while :; do yes {PAD} | head -n 200; sleep 0.1; done"),
    ];
    let id = a.create(run_id, &args.image, &name, cmd, true).await?;
    let result = followers_of(args, capstan, &a.slug, &id, proxy).await;
    let removed = a.remove(&id).await;
    let out = result?;
    removed?;
    Ok(out)
}

async fn followers_of(
    args: &Args,
    capstan: &Capstan,
    host: &str,
    id: &str,
    proxy: &Proxy,
) -> Result<(Vec<Row>, Value), Fail> {
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (follows0, reads0, conns0) = (proxy.log_follows(), proxy.log_reads(), proxy.connections());
    let before = capstan.memory()?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let start = Instant::now();
    let tasks: Vec<_> = (0..args.followers)
        .map(|_| {
            let rx = stop_rx.clone();
            async move { follow_capstan(capstan, host, id, "0", Some(rx)).await }
        })
        .collect();
    let sampler = async {
        let mut peak = before;
        // Let every follower connect, then follow for the given time.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let until = Instant::now() + Duration::from_secs(args.follow_secs);
        while Instant::now() < until {
            if let Ok(m) = capstan.memory() {
                if m.rss_kib >= peak.rss_kib {
                    peak = m;
                }
                peak.hwm_kib = m.hwm_kib;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let _ = stop_tx.send(true);
        peak
    };
    let (reads, peak) = tokio::join!(join_all(tasks), sampler);
    let elapsed = start.elapsed();
    let follows = proxy.log_follows() - follows0;
    let history_reads = proxy.log_reads() - reads0;
    let connections = proxy.connections() - conns0;
    let mut ok: Vec<Read> = Vec::new();
    let mut failed = Vec::new();
    for r in reads {
        match r {
            Ok(r) => ok.push(r),
            Err(e) => failed.push(e.to_string()),
        }
    }
    if ok.is_empty() {
        return Err(Fail::new(format!(
            "no follower could follow: {}",
            failed.first().cloned().unwrap_or_default()
        )));
    }
    let lines: Vec<f64> = ok.iter().map(|r| r.lines as f64).collect();
    let skipped: u64 = ok.iter().map(|r| r.skipped).sum();
    let min_lines = lines.iter().copied().fold(f64::INFINITY, f64::min);
    let mut note = format!(
        "{} followers for {:.0} s; lines per follower: median {:.0}, fewest {:.0}; {} skipped in all; the engine saw {follows} follow and {history_reads} history requests over {connections} connections (counted by a proxy in front of its socket)",
        ok.len(),
        elapsed.as_secs_f64(),
        median(&lines),
        min_lines,
        skipped
    );
    if !failed.is_empty() {
        note.push_str(&format!(
            "; {} followers failed: {}",
            failed.len(),
            failed[0]
        ));
    }
    let rows = vec![
        Row::new("followers_streams", &format!("engine log streams, {} followers", args.followers), "", follows as f64)
            .target(Target::Exactly(1.0))
            .note(note),
        Row::new("followers_rss", &format!("RSS with {} followers", args.followers), "MB", peak.rss_kib as f64 / 1024.0)
            .samples(((args.follow_secs * 1000) / 200) as usize)
            .note(format!(
                "highest VmRSS sampled every 200 ms while following, {:.1} MB anonymous + {:.1} MB file-backed (before: {:.1} MB; VmHWM {:.1} MB)",
                peak.anon_kib as f64 / 1024.0,
                peak.file_kib as f64 / 1024.0,
                before.rss_kib as f64 / 1024.0,
                peak.hwm_kib as f64 / 1024.0
            ))
            .target(Target::AtMost(64.0)),
    ];
    let details = json!({ "followers": args.followers, "ok": ok.len(), "failed": failed, "engine_follow_requests": follows,
                          "engine_history_requests": history_reads, "engine_connections": connections, "lines_per_follower": lines, "skipped": skipped,
                          "rss_before_kib": before.rss_kib, "rss_peak_kib": peak.rss_kib, "hwm_kib": peak.hwm_kib });
    Ok((rows, details))
}

// ---------------------------------------------------------------------------------------------
// Row 5: the first load of the Hosts page

/// The same-origin paths of scripts, styles and wasm a page references.
fn assets(html: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for quote in ['"', '\''] {
        for (i, piece) in html.split(quote).enumerate() {
            // Odd pieces are inside quotes.
            if i % 2 == 0 || !piece.starts_with('/') || piece.starts_with("//") {
                continue;
            }
            let path = piece.split(['?', '#']).next().unwrap_or("");
            if [".js", ".wasm", ".css"]
                .iter()
                .any(|ext| path.ends_with(ext))
                && !out.iter().any(|p| p == piece)
            {
                out.push(piece.to_owned());
            }
        }
    }
    out
}

/// The same-origin modules a script imports statically (`import … from "./x.js"`,
/// `export … from "./x.js"`, `import "./x.js"`), as absolute paths: the browser fetches them
/// before the script runs, so they are part of the first load. Dynamic `import(…)` is not
/// followed: what it loads is fetched later, on demand (the wasm chunks of other pages).
fn static_imports(script_path: &str, js: &str) -> Vec<String> {
    let dir = &script_path[..script_path.rfind('/').map_or(0, |i| i + 1)];
    let mut out: Vec<String> = Vec::new();
    for keyword in ["from", "import"] {
        let mut rest = js;
        while let Some(at) = rest.find(keyword) {
            let after = rest[at + keyword.len()..].trim_start();
            rest = &rest[at + keyword.len()..];
            let Some(quote) = after.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
                continue;
            };
            let Some(end) = after[1..].find(quote) else {
                continue;
            };
            let spec = &after[1..1 + end];
            let path = if let Some(rel) = spec.strip_prefix("./") {
                format!("{dir}{rel}")
            } else if spec.starts_with('/') && !spec.starts_with("//") {
                spec.to_owned()
            } else {
                continue;
            };
            if path.ends_with(".js") && !out.contains(&path) {
                out.push(path);
            }
        }
    }
    out
}

/// Whether a bundle file came from the server's store of compressed files (its ETag names the
/// encoding), rather than compressed on the fly or sent raw.
fn precompressed(f: &crate::http::Fetched) -> bool {
    f.headers
        .get(http::header::ETAG)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|e| e.ends_with("-br\"") || e.ends_with("-gz\""))
}

/// What a browser fetches on a first load straight onto `path` (signed in, nothing cached): the
/// page, the scripts, styles and wasm it references and the modules those import statically —
/// raw, and compressed as served — with a line per file.
struct FirstLoad {
    raw: u64,
    wire: u64,
    items: Vec<Value>,
}

impl FirstLoad {
    async fn measure(
        conn: &mut crate::http::Conn,
        cookie: &str,
        path: &str,
    ) -> Result<FirstLoad, Fail> {
        let plain = [("cookie", cookie)];
        let compressed = [("cookie", cookie), ("accept-encoding", "br, gzip")];
        let html = conn.get_ok(path, &plain, true).await?;
        let text = String::from_utf8_lossy(&html.body).into_owned();
        if !text.contains("<html") {
            return Err(Fail::new(format!("{path} did not answer a page")));
        }
        let html_wire = conn.get_ok(path, &compressed, false).await?;
        let mut load = FirstLoad {
            raw: 0,
            wire: 0,
            items: Vec::new(),
        };
        load.add(path, &html, &html_wire);
        let mut found = assets(&text);
        if !found.iter().any(|p| p.ends_with(".wasm")) {
            return Err(Fail::new(format!(
                "{path} references no wasm (is the site built?)"
            )));
        }
        let mut next = 0;
        while next < found.len() {
            let asset = found[next].clone();
            next += 1;
            let r = conn.get_ok(&asset, &plain, asset.ends_with(".js")).await?;
            for import in static_imports(&asset, &String::from_utf8_lossy(&r.body)) {
                if !found.contains(&import) {
                    found.push(import);
                }
            }
            let mut w = conn.get_ok(&asset, &compressed, false).await?;
            // The server compresses each bundle file once, in the background, on its first
            // request (its ETag then ends in -br or -gz); until then it compresses on the fly.
            // Measure what every later visitor gets: wait up to a minute for the stored version.
            let waited = std::time::Instant::now();
            while !precompressed(&w) && waited.elapsed() < std::time::Duration::from_secs(60) {
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                w = conn.get_ok(&asset, &compressed, false).await?;
            }
            load.add(&asset, &r, &w);
        }
        Ok(load)
    }

    fn add(&mut self, path: &str, raw: &crate::http::Fetched, wire: &crate::http::Fetched) {
        let encoding = wire
            .headers
            .get(http::header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity");
        self.raw += raw.wire_bytes;
        self.wire += wire.wire_bytes;
        self.items.push(json!({ "path": path, "raw": raw.wire_bytes, "wire": wire.wire_bytes, "encoding": encoding }));
    }

    /// One line: each file with its raw and served size.
    fn listing(&self) -> String {
        self.items
            .iter()
            .map(|i| {
                format!(
                    "{} {:.0}→{:.0} KiB {}",
                    i["path"].as_str().unwrap_or(""),
                    kib(i["raw"].as_u64().unwrap_or(0)),
                    kib(i["wire"].as_u64().unwrap_or(0)),
                    i["encoding"].as_str().unwrap_or("")
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    }
}

pub async fn page(args: &Args, capstan: &Capstan) -> Result<(Vec<Row>, Value), Fail> {
    let mut conn = capstan.connect().await?;
    let hosts = FirstLoad::measure(&mut conn, &capstan.cookie, "/hosts").await?;
    // People bookmark the container list too: a first load straight onto it brings its lazy
    // area's code with the page (app/src/lazy.rs).
    let containers = FirstLoad::measure(&mut conn, &capstan.cookie, "/containers").await?;
    // Server-side render: the whole page, uncompressed, on a warm keep-alive connection.
    let cookie = [("cookie", capstan.cookie.as_str())];
    let mut times = Vec::new();
    for _ in 0..args.reps.max(9) {
        times.push(ms(conn.get_ok("/hosts", &cookie, false).await?.elapsed));
    }
    let served = "with Accept-Encoding: br, gzip, once the server has stored its compressed copies";
    let rows = vec![
        Row::new(
            "page_raw",
            "first load (Hosts page + assets), raw",
            "KiB",
            kib(hosts.raw),
        )
        .note(hosts.listing()),
        Row::new(
            "page_compressed",
            "first load, compressed as served",
            "KiB",
            kib(hosts.wire),
        )
        .note(served)
        .target(Target::AtMost(500.0)),
        Row::new(
            "page_containers_compressed",
            "first load of Containers, compressed as served",
            "KiB",
            kib(containers.wire),
        )
        .note(format!("{served}; {}", containers.listing()))
        .target(Target::AtMost(500.0)),
        Row::new(
            "page_render",
            "Hosts page server-side render",
            "ms",
            median(&times),
        )
        .samples(times.len())
        .note("GET /hosts signed in, to the last byte, uncompressed, 3 hosts"),
    ];
    Ok((
        rows,
        json!({ "items": hosts.items, "containers_items": containers.items, "render_ms": times }),
    ))
}

// ---------------------------------------------------------------------------------------------
// Recorded actions: an answer waits for its audit row's commit (group commit)

/// Requests of the burst row, sent at once on connections of their own.
const BURST: usize = 32;

/// A stop of a container that is not running: the engine answers at once (304), so what is
/// left is what Capstan adds, its audit commit above all. One at a time, and `BURST` at once
/// (which one transaction commits together).
pub async fn actions(
    args: &Args,
    run_id: &str,
    capstan: &Capstan,
    a: &Engine,
) -> Result<(Vec<Row>, Value), Fail> {
    let name = format!("capbench-{run_id}-action");
    let id = a
        .create(run_id, &args.image, &name, vec!["true".to_owned()], false)
        .await?;
    let ours = format!("/api/v1/hosts/{}/containers/{id}/stop?t=0", a.slug);
    let theirs = format!("/containers/{id}/stop?t=0");
    let auth = capstan.api_headers();
    let post = http::Method::POST;
    let mut conn = capstan.connect().await?;
    let mut engine = Endpoint::connect(&a.endpoint).await?;
    // Warm-up, and what each side answers.
    let o = conn.fetch(post.clone(), &ours, &auth, None, false).await?;
    let t = engine
        .fetch(post.clone(), &theirs, &[], None, false)
        .await?;
    if !o.status.is_success() {
        return Err(Fail::new(format!(
            "Capstan answered {} to a stop",
            o.status
        )));
    }
    let mut one = Paired::default();
    for round in 0..args.reps {
        let (mut cs, mut es) = (Vec::new(), Vec::new());
        for pair in 0..args.pairs.max(1) {
            let ours_first = Paired::ours_first(round, pair);
            for side in [ours_first, !ours_first] {
                if side {
                    cs.push(ms(conn
                        .fetch(post.clone(), &ours, &auth, None, false)
                        .await?
                        .elapsed));
                } else {
                    es.push(ms(engine
                        .fetch(post.clone(), &theirs, &[], None, false)
                        .await?
                        .elapsed));
                }
            }
        }
        one.round(&cs, &es);
    }
    let mut burst = Paired::default();
    for round in 0..args.reps {
        let mut ours_conns = Vec::with_capacity(BURST);
        let mut theirs_conns = Vec::with_capacity(BURST);
        for _ in 0..BURST {
            ours_conns.push(capstan.connect().await?);
            theirs_conns.push(Endpoint::connect(&a.endpoint).await?);
        }
        let ours_burst = async {
            let started = Instant::now();
            let done = join_all(
                ours_conns
                    .iter_mut()
                    .map(|c| c.fetch(post.clone(), &ours, &auth, None, false)),
            )
            .await;
            for r in done {
                r?;
            }
            Ok::<f64, Fail>(ms(started.elapsed()))
        };
        let theirs_burst = async {
            let started = Instant::now();
            let done = join_all(
                theirs_conns
                    .iter_mut()
                    .map(|c| c.fetch(post.clone(), &theirs, &[], None, false)),
            )
            .await;
            for r in done {
                r?;
            }
            Ok::<f64, Fail>(ms(started.elapsed()))
        };
        let (c, e) = if round % 2 == 0 {
            let c = ours_burst.await?;
            (c, theirs_burst.await?)
        } else {
            let e = theirs_burst.await?;
            (ours_burst.await?, e)
        };
        burst.round(&[c], &[e]);
    }
    a.remove(&id).await?;
    let (c1, e1, r1) = one.medians();
    let (cb, eb, rb) = burst.medians();
    let rows = vec![
        Row::new("action_one", "recorded action, one at a time", "ms", c1)
            .reference(e1, r1)
            .samples(args.reps * args.pairs.max(1))
            .note(format!(
                "POST …/stop?t=0 of a stopped container (Capstan {}, engine {}), keep-alive, answered after its audit row is committed",
                o.status.as_u16(),
                t.status.as_u16()
            )),
        Row::new("action_burst", &format!("recorded actions, {BURST} at once"), "ms", cb)
            .reference(eb, rb)
            .samples(args.reps)
            .note(format!(
                "{BURST} stops on {BURST} connections at once, until the last answer; their rows share commits"
            )),
    ];
    Ok((
        rows,
        json!({ "one_capstan_ms": one.ours, "one_engine_ms": one.theirs, "one_ratios": one.ratios,
                "burst_capstan_ms": burst.ours, "burst_engine_ms": burst.theirs, "burst_ratios": burst.ratios }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_frames_are_counted_across_chunks() {
        let mut stream = Vec::new();
        for text in ["a\nb\n", "c\n"] {
            stream.extend_from_slice(&[1, 0, 0, 0, 0, 0, 0, text.len() as u8]);
            stream.extend_from_slice(text.as_bytes());
        }
        let mut f = Frames::default();
        let (mut lines, mut bytes) = (0, 0);
        for piece in stream.chunks(3) {
            let (l, b) = f.feed(piece);
            lines += l;
            bytes += b;
        }
        assert_eq!((lines, bytes), (3, 6));
    }

    #[test]
    fn sse_events_are_counted_across_chunks() {
        let text = "event: line\ndata: {\"line\":\"x\"}\n\nevent: skipped\ndata: {\"count\":7}\n\nevent: line\ndata: {}\n\nevent: end\ndata: {}\n\n";
        let mut s = Sse::default();
        let (mut lines, mut skipped, mut ended) = (0, 0, false);
        for piece in text.as_bytes().chunks(5) {
            let (l, k, e) = s.feed(piece);
            lines += l;
            skipped += k;
            ended |= e;
        }
        assert_eq!((lines, skipped, ended), (2, 7, true));
    }

    #[test]
    fn assets_are_found_in_the_page() {
        let html = r#"<link rel="modulepreload" href="/pkg/capstan.js"><link rel="preload" href="/pkg/capstan.wasm"><link rel="stylesheet" href="/pkg/capstan.css"><script>import('/pkg/capstan.js')</script><a href="/hosts">"#;
        assert_eq!(
            assets(html),
            vec!["/pkg/capstan.js", "/pkg/capstan.wasm", "/pkg/capstan.css"]
        );
    }

    #[test]
    fn static_imports_of_a_script_are_followed_and_dynamic_ones_are_not() {
        let js = r#"import { a } from './__wasm_split.js';export{b}from"./b.js";import "/pkg/c.js";const m = import('./lazy.js');import x from "https://cdn.example/x.js";"#;
        assert_eq!(
            static_imports("/pkg/capstan.js", js),
            vec!["/pkg/__wasm_split.js", "/pkg/b.js", "/pkg/c.js"]
        );
    }
}
