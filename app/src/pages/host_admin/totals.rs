//! A host's live usage: the totals of its running containers (CPU, memory, processes, I/O) and
//! the busiest of them, read again every 10 s, shared by every viewer through the server's
//! live hub.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::page::ErrorNotice;
use crate::error::AppError;
use crate::format::{self, percent};
use crate::routes::container_href;

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
    let hub = crate::ssr::hub()?;
    let usage = crate::ssr::ops()?.host_usage(&c, Some(&hub), &host).await?;
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
