//! Live numbers: a container's Stats tab (small hand-made SVG charts of the last five minutes,
//! fed by the stats SSE stream) and a host's totals of its running containers.

use std::collections::VecDeque;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::badge::Badge;
use crate::components::page::ErrorNotice;
use crate::error::AppError;
use crate::format;
use crate::pages::container::use_container;
use crate::pages::containers::{container_href, encode};
use crate::pages::logs::{ConnState, Listener, Local, Sse};

/// How far back the charts reach.
pub const WINDOW_MS: i64 = 5 * 60 * 1000;
/// Samples kept (the engine sends about one a second).
const MAX_SAMPLES: usize = 400;
const CHART_W: f64 = 300.0;
const CHART_H: f64 = 64.0;

/// One computed sample, as `GET …/stats` sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Milliseconds since the epoch.
    pub time: i64,
    pub cpu_percent: f64,
    pub online_cpus: u32,
    pub memory_usage: u64,
    pub memory_limit: u64,
    pub memory_percent: f64,
    pub net_rx_rate: f64,
    pub net_tx_rate: f64,
    pub block_read_rate: f64,
    pub block_write_rate: f64,
    pub pids: u64,
}

/// A polyline's `points` for `(time ms, value)` pairs in a chart whose right edge is `now` and
/// whose top is `top`.
pub fn points(values: &[(i64, f64)], now: i64, top: f64) -> String {
    let top = if top > 0.0 { top } else { 1.0 };
    let mut out = String::new();
    for (t, v) in values {
        let age = (now - t).clamp(0, WINDOW_MS);
        // Chart coordinates are small; the precision of f64 is plenty.
        #[allow(clippy::cast_precision_loss)]
        let x = CHART_W - CHART_W * age as f64 / WINDOW_MS as f64;
        let y = CHART_H - 2.0 - (CHART_H - 4.0) * (v / top).clamp(0.0, 1.0);
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(&format!("{x:.1},{y:.1}"));
    }
    out
}

/// A chart's top: a little above the highest value, and never below `floor`.
pub fn scale(values: impl Iterator<Item = f64>, floor: f64) -> f64 {
    values.fold(floor, |m, v| m.max(v * 1.25))
}

/// `12.3 %`.
pub fn percent(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} %")
    } else {
        format!("{v:.1} %")
    }
}

/// A rate in bytes per second: `1.2 MB/s`.
pub fn rate(v: f64) -> String {
    // Rates are non-negative and far below u64::MAX.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let n = v.max(0.0).round() as u64;
    format!("{}/s", format::bytes(n))
}

#[derive(Clone, Copy)]
struct Series {
    samples: RwSignal<VecDeque<Sample>>,
}

impl Series {
    fn now(self) -> i64 {
        self.samples.with(|s| s.back().map_or(0, |x| x.time))
    }

    fn values(self, f: fn(&Sample) -> f64) -> Vec<(i64, f64)> {
        self.samples
            .with(|s| s.iter().map(|x| (x.time, f(x))).collect())
    }
}

#[derive(Debug, Deserialize)]
struct WireEnd {
    reason: String,
}

fn connect(url: String, series: Series, state: RwSignal<ConnState>, holder: Local<Sse>) {
    let on_stats: Listener = Box::new(move |ev| {
        let Some(sample) = Sse::data(&ev).and_then(|d| serde_json::from_str::<Sample>(&d).ok())
        else {
            return;
        };
        if state.get_untracked() != ConnState::Live {
            state.set(ConnState::Live);
        }
        series.samples.update(|s| {
            let edge = sample.time - WINDOW_MS;
            s.push_back(sample);
            while s.len() > MAX_SAMPLES || s.front().is_some_and(|x| x.time < edge) {
                s.pop_front();
            }
        });
    });
    let on_end: Listener = Box::new(move |ev| {
        let reason = Sse::data(&ev)
            .and_then(|d| serde_json::from_str::<WireEnd>(&d).ok())
            .map(|e| e.reason)
            .unwrap_or_default();
        holder.with_value(|h| {
            if let Some(h) = h {
                h.close();
            }
        });
        state.set(ConnState::Ended(if reason == "exited" {
            "not running".into()
        } else {
            "ended".into()
        }));
    });
    let url2 = url.clone();
    let on_error: Listener = Box::new(move |ev| {
        if Sse::data(&ev).is_some() || matches!(state.get_untracked(), ConnState::Ended(_)) {
            return;
        }
        holder.with_value(|h| {
            if let Some(h) = h {
                h.close();
            }
        });
        state.set(ConnState::Reconnecting);
        let url = url2.clone();
        set_timeout(
            move || {
                // Only if the tab is still there and nothing replaced the stream meanwhile.
                if holder.try_with_value(|h| h.is_some()) == Some(true)
                    && state.try_get_untracked() == Some(ConnState::Reconnecting)
                {
                    connect(url, series, state, holder);
                }
            },
            std::time::Duration::from_secs(3),
        );
    });
    match Sse::open(
        &url,
        vec![("stats", on_stats), ("end", on_end), ("error", on_error)],
    ) {
        Ok(sse) => holder.set_value(Some(send_wrapper::SendWrapper::new(sse))),
        Err(_) => state.set(ConnState::Ended(
            "the browser could not open the stream".into(),
        )),
    }
}

#[component]
fn Chart(
    label: &'static str,
    #[prop(into)] value: Signal<String>,
    #[prop(into)] detail: Signal<String>,
    #[prop(into)] a: Signal<String>,
    #[prop(optional, into)] b: Option<Signal<String>>,
    #[prop(optional)] legend: Option<(&'static str, &'static str)>,
    testid: &'static str,
) -> impl IntoView {
    let aria = format!("{label} over the last 5 minutes");
    view! {
        <div class="chart-card" data-testid=testid>
            <div class="chart-head">
                <span class="stat-label">{label}</span>
                <span class="chart-value" data-testid=format!("{testid}-value")>{move || value.get()}</span>
            </div>
            <svg class="chart" viewBox=format!("0 0 {CHART_W} {CHART_H}") preserveAspectRatio="none" role="img" aria-label=aria>
                <line class="chart-grid" x1="0" y1="32" x2="300" y2="32" />
                <polyline class="chart-line chart-a" points=move || a.get() />
                {b.map(|b| view! { <polyline class="chart-line chart-b" points=move || b.get() /> })}
            </svg>
            <div class="chart-foot small muted">
                {legend.map(|(x, y)| view! {
                    <span class="chart-key chart-key-a">{x}</span>
                    <span class="chart-key chart-key-b">{y}</span>
                })}
                <span>{move || detail.get()}</span>
            </div>
        </div>
    }
}

/// The container page's Stats tab.
#[component]
pub fn StatsTab() -> impl IntoView {
    let ctx = use_container();
    let series = Series {
        samples: RwSignal::new(VecDeque::new()),
    };
    let state = RwSignal::new(ConnState::Connecting);
    let holder: Local<Sse> = StoredValue::new(None);
    Effect::new(move |_| {
        ctx.reload.track();
        let url = format!(
            "/api/v1/hosts/{}/containers/{}/stats",
            encode(&ctx.host.get()),
            encode(&ctx.id.get())
        );
        holder.set_value(None);
        series.samples.set(VecDeque::new());
        state.set(ConnState::Connecting);
        connect(url, series, state, holder);
    });
    on_cleanup(move || {
        let _ = holder.try_update_value(Option::take);
    });

    let last = move || series.samples.with(|s| s.back().cloned());
    let now = move || series.now();
    let line = move |f: fn(&Sample) -> f64, floor: f64| {
        Signal::derive(move || {
            let v = series.values(f);
            let top = scale(v.iter().map(|x| x.1), floor);
            points(&v, now(), top)
        })
    };
    let pair = move |f: fn(&Sample) -> f64, g: fn(&Sample) -> f64, floor: f64| {
        let top = move || {
            scale(
                series
                    .values(f)
                    .into_iter()
                    .chain(series.values(g))
                    .map(|x| x.1),
                floor,
            )
        };
        (
            Signal::derive(move || points(&series.values(f), now(), top())),
            Signal::derive(move || points(&series.values(g), now(), top())),
        )
    };
    let (net_a, net_b) = pair(|s| s.net_rx_rate, |s| s.net_tx_rate, 1024.0);
    let (io_a, io_b) = pair(|s| s.block_read_rate, |s| s.block_write_rate, 1024.0);
    let dash = || "—".to_string();

    view! {
        <section class="panel" aria-labelledby="stats-title">
            <div class="panel-title-row">
                <h2 id="stats-title">"Live usage"</h2>
                <span data-testid="stats-state">
                    {move || { let (tone, word) = state.get().badge(); view! { <Badge tone label=word /> } }}
                </span>
            </div>
            {move || matches!(state.get(), ConnState::Ended(_)).then(|| view! {
                <p class="muted" data-testid="stats-ended">"The container is not running: start it to see live numbers. The charts keep the last five minutes."</p>
            })}
            <div class="charts">
                <Chart label="CPU" testid="chart-cpu"
                    value=Signal::derive(move || last().map_or_else(dash, |s| percent(s.cpu_percent)))
                    detail=Signal::derive(move || last().map_or_else(String::new, |s| format!("100 % is one CPU; {} online", s.online_cpus)))
                    a=line(|s| s.cpu_percent, 5.0) />
                <Chart label="Memory" testid="chart-memory"
                    value=Signal::derive(move || last().map_or_else(dash, |s| format::bytes(s.memory_usage)))
                    detail=Signal::derive(move || last().map_or_else(String::new, |s| format!("{} of {} limit", percent(s.memory_percent), format::bytes(s.memory_limit))))
                    a=line(|s| s.memory_usage as f64, 1024.0 * 1024.0) />
                <Chart label="Network" testid="chart-net" legend=("rx", "tx")
                    value=Signal::derive(move || last().map_or_else(dash, |s| format!("↓ {} ↑ {}", rate(s.net_rx_rate), rate(s.net_tx_rate))))
                    detail=Signal::derive(String::new)
                    a=net_a b=net_b />
                <Chart label="Block I/O" testid="chart-io" legend=("read", "write")
                    value=Signal::derive(move || last().map_or_else(dash, |s| format!("R {} W {}", rate(s.block_read_rate), rate(s.block_write_rate))))
                    detail=Signal::derive(String::new)
                    a=io_a b=io_b />
                <Chart label="Processes" testid="chart-pids"
                    value=Signal::derive(move || last().map_or_else(dash, |s| s.pids.to_string()))
                    detail=Signal::derive(|| "PIDs in the container".to_string())
                    a=line(|s| s.pids as f64, 4.0) />
            </div>
        </section>
    }
}

// ---------- host totals ----------

/// One running container in a host's totals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusyContainer {
    pub id: String,
    pub name: String,
    pub cpu_percent: f64,
    pub memory_usage: u64,
}

/// A host's running containers added up (one sample each).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostTotals {
    pub running: usize,
    pub missing: usize,
    pub cpu_percent: f64,
    pub memory_usage: u64,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
    /// The busiest containers by CPU, at most five.
    pub busiest: Vec<BusyContainer>,
}

#[server(output = crate::codec::TextJson)]
pub async fn read_host_totals(host: String) -> Result<HostTotals, AppError> {
    let c = crate::ssr::caller()?;
    // Shared with every other viewer of this host through the server's live hub.
    let hub = crate::ssr::fleet()?.live_hub();
    let usage = crate::ssr::ops()?
        .host_usage(&c, hub.as_ref(), &host)
        .await?;
    let mut busiest: Vec<BusyContainer> = usage
        .containers
        .into_iter()
        .map(|c| BusyContainer {
            id: c.id,
            name: c.name,
            cpu_percent: c.cpu_percent,
            memory_usage: c.memory_usage,
        })
        .collect();
    busiest.sort_by(|a, b| b.cpu_percent.total_cmp(&a.cpu_percent));
    busiest.truncate(5);
    Ok(HostTotals {
        running: usage.running,
        missing: usage.missing,
        cpu_percent: usage.cpu_percent,
        memory_usage: usage.memory_usage,
        net_rx: usage.net_rx,
        net_tx: usage.net_tx,
        block_read: usage.block_read,
        block_write: usage.block_write,
        pids: usage.pids,
        busiest,
    })
}

/// The host page's panel: its running containers' totals, read again every 10 s.
#[component]
pub fn HostTotalsPanel(#[prop(into)] host: Signal<String>) -> impl IntoView {
    let ticks = RwSignal::new(0u32);
    let totals = Resource::new(
        move || (host.get(), ticks.get()),
        |(h, _)| read_host_totals(h),
    );
    let timer = StoredValue::new(None::<leptos::leptos_dom::helpers::IntervalHandle>);
    Effect::new(move |_| {
        if timer.with_value(Option::is_none) {
            let handle = set_interval_with_handle(
                move || ticks.update(|n| *n += 1),
                std::time::Duration::from_secs(10),
            );
            timer.set_value(handle.ok());
        }
    });
    on_cleanup(move || {
        if let Some(h) = timer.try_get_value().flatten() {
            h.clear();
        }
    });
    view! {
        <section class="panel" aria-labelledby="totals-title" data-testid="host-totals">
            <div class="panel-title-row">
                <h2 id="totals-title">"Live usage"</h2>
                <span class="muted small">"running containers, every 10 s"</span>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Reading the containers' numbers…"</p> }>
                {move || Suspend::new(async move {
                    match totals.await {
                        Ok(t) => view! { <Totals t host=host.get_untracked() /> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

/// [`HostTotalsPanel`] for a host page that has the host's slug at hand.
pub fn host_totals_panel(host: String) -> impl IntoView {
    view! { <HostTotalsPanel host /> }
}

#[component]
fn Totals(t: HostTotals, host: String) -> impl IntoView {
    let card = |label: &'static str, value: String, detail: String| {
        view! {
            <div class="stat-card">
                <span class="stat-label">{label}</span>
                <span class="stat-value">{value}</span>
                <span class="stat-detail">{detail}</span>
            </div>
        }
    };
    let missing = (t.missing > 0).then(|| {
        format!(
            "{} did not answer in time and are left out",
            format::plural(t.missing, "container", "containers")
        )
    });
    view! {
        <div class="stat-cards stat-cards-compact">
            {card("Running", t.running.to_string(), format::plural(t.running, "container", "containers"))}
            {card("CPU", percent(t.cpu_percent), "100 % is one CPU".to_string())}
            {card("Memory", format::bytes(t.memory_usage), "in use, cache not counted".to_string())}
            {card("Processes", t.pids.to_string(), "PIDs".to_string())}
            {card("Network", format!("↓ {} ↑ {}", format::bytes(t.net_rx), format::bytes(t.net_tx)), "since each container started".to_string())}
            {card("Block I/O", format!("R {} W {}", format::bytes(t.block_read), format::bytes(t.block_write)), "since each container started".to_string())}
        </div>
        {missing.map(|m| view! { <p class="muted small">{m}</p> })}
        {(!t.busiest.is_empty()).then(|| view! {
            <h3>"Busiest"</h3>
            <ul class="plain-list busiest">
                {t.busiest.into_iter().map(|c| view! {
                    <li>
                        <a href=format!("{}/stats", container_href(&host, &c.id))>{c.name}</a>
                        <span class="muted small">{format!("{} · {}", percent(c.cpu_percent), format::bytes(c.memory_usage))}</span>
                    </li>
                }).collect_view()}
            </ul>
        })}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn points_span_the_window() {
        let now = 1_000_000;
        let p = points(&[(now - WINDOW_MS, 0.0), (now, 50.0)], now, 100.0);
        assert_eq!(p, "0.0,62.0 300.0,32.0");
        // Older than the window sits on the left edge; above the top is clipped.
        assert_eq!(points(&[(0, 500.0)], now, 100.0), "0.0,2.0");
        assert_eq!(points(&[], now, 0.0), "");
    }

    #[test]
    fn scales_and_units() {
        assert!((scale([1.0, 8.0].into_iter(), 5.0) - 10.0).abs() < 1e-9);
        assert!((scale(std::iter::empty(), 5.0) - 5.0).abs() < 1e-9);
        assert_eq!(percent(3.06), "3.1 %");
        assert_eq!(percent(150.0), "150 %");
        assert_eq!(rate(1536.0), "1.5 KB/s");
        assert_eq!(rate(-1.0), "0 B/s");
    }
}
