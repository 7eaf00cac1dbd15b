//! A container's Stats tab: small hand-made SVG charts of the last five minutes, fed by the
//! stats SSE stream.

use std::collections::VecDeque;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::browser::Local;
use crate::client::sse::{ConnState, Listener, Sse};
use crate::components::badge::Badge;
use crate::format;
use crate::format::{percent, rate};
use crate::pages::container::use_container;
use crate::routes::encode;

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
    fn scales() {
        assert!((scale([1.0, 8.0].into_iter(), 5.0) - 10.0).abs() < 1e-9);
        assert!((scale(std::iter::empty(), 5.0) - 5.0).abs() < 1e-9);
    }
}
