//! The Hosts page: every engine Capstan manages, whether it is up, and what it is.

use leptos::prelude::*;

use crate::components::badge::{Badge, Tone};
use crate::components::page::{ErrorNotice, PageHeader, SkeletonRows};
use crate::error::AppError;
use crate::format;
use crate::model::{HostState, HostView};

/// The hosts the caller may see, from the monitor's snapshot, or probed now with `fresh`.
#[server(output = crate::codec::TextJson)]
pub async fn list_hosts(fresh: bool) -> Result<Vec<HostView>, AppError> {
    let c = crate::ssr::caller()?;
    let statuses = crate::ssr::ops()?.hosts(&c, fresh).await;
    Ok(statuses
        .into_iter()
        .map(|s| HostView::seen_by(s, &c.who))
        .collect())
}

const COLUMNS: usize = 7;

#[component]
pub fn HostsPage() -> impl IntoView {
    // Each press of Refresh asks the engines now; the first load reads the monitor's snapshot.
    let refreshes = RwSignal::new(0u32);
    let hosts = Resource::new(move || refreshes.get(), |n| list_hosts(n > 0));
    let (pending, set_pending) = signal(false);
    let me = Resource::new(|| (), |_| crate::client::session::current_user());

    view! {
        <PageHeader title="Hosts">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    me.await.ok().filter(|m| m.admin).map(|_| view! {
                        <a class="button button-primary" href="/hosts/new">"Add host"</a>
                    })
                })}
            </Suspense>
            <button
                class="button"
                on:click=move |_| refreshes.update(|n| *n += 1)
                prop:disabled=pending
                aria-busy=move || pending.try_get().unwrap_or(false).to_string()
            >
                {move || if pending.try_get().unwrap_or(false) { "Refreshing…" } else { "Refresh" }}
            </button>
        </PageHeader>
        <Transition
            fallback=|| view! { <HostsTable hosts=None /> }
            set_pending
        >
            {move || Suspend::new(async move {
                match hosts.await {
                    Ok(list) if list.is_empty() => view! { <NoHosts /> }.into_any(),
                    Ok(list) => view! {
                        <FleetSummary hosts=list.clone() />
                        <HostsTable hosts=Some(list) />
                    }
                    .into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The fleet at a glance: cards for hosts, containers, images, volumes and capacity.
#[component]
fn FleetSummary(hosts: Vec<HostView>) -> impl IntoView {
    let up = hosts.iter().filter(|h| h.status == HostState::Up).count();
    let down = hosts.len() - up;
    let engines = || hosts.iter().filter_map(|h| h.engine.as_ref());
    let running: u32 = engines().map(|e| e.containers_running).sum();
    let paused: u32 = engines().map(|e| e.containers_paused).sum();
    let stopped: u32 = engines().map(|e| e.containers_stopped).sum();
    let total: u32 = engines().map(|e| e.containers_total).sum();
    let images: u32 = engines().map(|e| e.images).sum();
    let volumes: u32 = engines().map(|e| e.volumes).sum();
    let cpus: u32 = engines().map(|e| e.cpus).sum();
    let memory: u64 = engines().map(|e| e.memory_bytes).sum();
    let any_down = down > 0;
    let hosts_detail = if down > 0 {
        format!("{up} up · {down} down")
    } else {
        format!("all {up} up")
    };
    let containers_detail = if paused > 0 {
        format!("{running} running · {paused} paused · {stopped} stopped")
    } else {
        format!("{running} running · {stopped} stopped")
    };
    let text = format!(
        "{} · {} · {} of {} running · {} · {}",
        format::plural(hosts.len(), "host", "hosts"),
        hosts_detail,
        running,
        format::plural(total as usize, "container", "containers"),
        format::plural(images as usize, "image", "images"),
        format::plural(volumes as usize, "volume", "volumes"),
    );
    view! {
        <section class="stat-cards" aria-label="Fleet totals" data-testid="fleet-summary">
            <p class="sr-only">{text}</p>
            <div class="stat-card" class:stat-card-bad=any_down>
                <span class="stat-label">"Hosts"</span>
                <span class="stat-value">{hosts.len()}</span>
                <span class="stat-detail">{hosts_detail}</span>
            </div>
            <div class="stat-card">
                <span class="stat-label">"Containers"</span>
                <span class="stat-value">{total}</span>
                <span class="stat-detail">{containers_detail}</span>
            </div>
            <div class="stat-card">
                <span class="stat-label">"Images"</span>
                <span class="stat-value">{images}</span>
                <span class="stat-detail">{format::plural(volumes as usize, "volume", "volumes")}</span>
            </div>
            <div class="stat-card">
                <span class="stat-label">"Capacity"</span>
                <span class="stat-value">{format!("{cpus} CPUs")}</span>
                <span class="stat-detail">{format!("{} memory on hosts that are up", format::bytes(memory))}</span>
            </div>
        </section>
    }
}

#[component]
fn NoHosts() -> impl IntoView {
    view! {
        <div class="empty">
            <h2>"No hosts to show"</h2>
            <p>
                "Admins add engines with " <a href="/hosts/new">"Add host"</a>
                " (a local socket, or a remote engine over TCP with TLS). Everyone else: ask an admin to grant you a host."
            </p>
        </div>
    }
}

#[component]
fn HostsTable(hosts: Option<Vec<HostView>>) -> impl IntoView {
    let body = match hosts {
        None => view! { <SkeletonRows rows=2 cols=COLUMNS /> }.into_any(),
        Some(list) => list
            .into_iter()
            .map(|h| view! { <HostRow host=h /> })
            .collect_view()
            .into_any(),
    };
    view! {
        <div class="table-wrap">
            <table class="table table-cards" aria-label="Hosts">
                <thead>
                    <tr>
                        <th scope="col">"Host"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Engine"</th>
                        <th scope="col">"System"</th>
                        <th scope="col" class="num">"Containers"</th>
                        <th scope="col" class="num">"Storage"</th>
                        <th scope="col" class="num">"Latency"</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[component]
fn HostRow(host: HostView) -> impl IntoView {
    let identity = view! {
        <td data-label="Host" class="cell-primary">
            <a class="strong host-link" href=format!("/hosts/{}", host.slug)>{host.name.clone()}</a>
            <div class="mono muted small" title=host.url.clone()>
                {host.url.clone().unwrap_or_else(|| host.slug.clone())}
                {host.tls.then(|| view! { <span class="chip">"TLS"</span> })}
            </div>
        </td>
    };
    let slug = host.slug.clone();
    match (host.status, host.engine) {
        (HostState::Up, Some(e)) => {
            let running = format!("{} running", e.containers_running);
            let of_total = if e.containers_paused > 0 {
                format!(
                    "{} paused · {} stopped · of {}",
                    e.containers_paused, e.containers_stopped, e.containers_total
                )
            } else {
                format!(
                    "{} stopped · of {}",
                    e.containers_stopped, e.containers_total
                )
            };
            let engine_line = format!("API {} · {}", e.api_version, e.storage_driver);
            let swarm = (!e.swarm_role.is_empty()).then(|| format!("swarm {}", e.swarm_role));
            let system = format!(
                "{}/{} · {} CPUs · {} memory",
                e.os_type,
                e.arch,
                e.cpus,
                format::bytes(e.memory_bytes)
            );
            view! {
                <tr data-host=slug>
                    {identity}
                    <td data-label="Status"><Badge tone=Tone::Good label="up" /></td>
                    <td data-label="Engine">
                        <div class="stack">
                            <div>{e.engine_version}</div>
                            <div class="muted small">{engine_line}</div>
                            {swarm.map(|r| view! { <span class="chip chip-first">{r}</span> })}
                        </div>
                    </td>
                    <td data-label="System" title=format!("kernel {}", e.kernel)>
                        <div class="stack">
                            <div>{e.os}</div>
                            <div class="muted small">{system}</div>
                        </div>
                    </td>
                    <td data-label="Containers" class="num" data-testid="containers">
                        <div class="stack">
                            <div>{running}</div>
                            <div class="muted small">{of_total}</div>
                        </div>
                    </td>
                    <td data-label="Storage" class="num">
                        <div class="stack">
                            <div>{format::plural(e.images as usize, "image", "images")}</div>
                            <div class="muted small">{format::plural(e.volumes as usize, "volume", "volumes")}</div>
                        </div>
                    </td>
                    <td data-label="Latency" class="num">
                        {host.latency_ms.map(format::latency_ms)}
                    </td>
                </tr>
            }
            .into_any()
        }
        _ => view! {
            <tr data-host=slug class="row-down">
                {identity}
                <td data-label="Status"><Badge tone=Tone::Bad label="down" /></td>
                <td data-label="Error" colspan=COLUMNS - 2 class="cell-error">
                    <div>{host.error.unwrap_or_else(|| "no answer from the engine".into())}</div>
                    <div class="muted small">
                        {match host.last_seen {
                            Some(t) => format!("last seen {}", format::datetime(t)),
                            None => "not seen since Capstan started".to_string(),
                        }}
                    </div>
                </td>
            </tr>
        }
        .into_any(),
    }
}
