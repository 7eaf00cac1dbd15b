//! One host: its status and the engine in full.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::badge::{Badge, Tone};
use crate::components::page::ErrorNotice;
use crate::error::AppError;
use crate::format;
use crate::model::system::{DiskUsage, SwarmNode};
use crate::model::{EngineInfoView, HostState, HostView};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostPageData {
    pub host: HostView,
    pub info: Option<EngineInfoView>,
    /// Why the engine's info could not be read, in words.
    pub info_error: Option<String>,
    pub disk_usage: Option<DiskUsage>,
    pub disk_usage_error: Option<String>,
    /// The swarm's nodes when the engine is a manager; empty otherwise.
    pub nodes: Vec<SwarmNode>,
    pub nodes_error: Option<String>,
    /// Whether the caller administers hosts (edit and remove).
    pub admin: bool,
}

#[server(output = crate::codec::TextJson)]
pub async fn host_detail(host: String) -> Result<HostPageData, AppError> {
    let c = crate::ssr::caller()?;
    let facts = crate::ssr::ops()?.host_facts(&c, &host).await?;
    let (info, info_error) = split(&host, "engine info", facts.info);
    let (disk_usage, disk_usage_error) = split(&host, "disk usage", facts.disk_usage);
    let (nodes, nodes_error): (Option<Vec<backend::engine::SwarmNode>>, _) =
        split(&host, "swarm nodes", facts.nodes);
    Ok(HostPageData {
        host: HostView::seen_by(facts.status, &c.who),
        info,
        info_error,
        disk_usage,
        disk_usage_error,
        nodes: nodes.map(|n| n.into_iter().collect()).unwrap_or_default(),
        nodes_error,
        admin: c.who.admin,
    })
}

/// A part of the page that failed becomes a reason in words next to it; the rest still shows.
#[cfg(feature = "ssr")]
fn split<T, V: From<T>>(
    host: &str,
    what: &str,
    result: backend::Result<T>,
) -> (Option<V>, Option<String>) {
    match result {
        Ok(v) => (Some(v.into()), None),
        Err(e) => {
            tracing::debug!(host, error = %e.log_detail(), "{what} failed");
            (None, Some(e.public_message()))
        }
    }
}

#[component]
pub fn HostPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("host").unwrap_or_default();
    let detail = Resource::new(slug, host_detail);
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading host…"</p> }>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(d) => view! { <HostBody d /> }.into_any(),
                    Err(e) => view! {
                        <Title text="Host" />
                        <header class="page-header"><h1>"Host"</h1></header>
                        <ErrorNotice message=e.to_string() />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn HostBody(d: HostPageData) -> AnyView {
    let h = d.host;
    let badge = match h.status {
        HostState::Up => view! { <Badge tone=Tone::Good label="up" /> },
        HostState::Down => view! { <Badge tone=Tone::Bad label="down" /> },
    };
    let title = h.name.clone();
    let containers = format!("/containers?host={}", h.slug);
    let edit = d.admin.then(|| {
        let href = format!("/hosts/{}/edit", h.slug);
        view! { <a class="button" href=href>"Edit host"</a> }
    });
    let labels: Vec<String> = h.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let (disk_usage, disk_usage_error, nodes, nodes_error) =
        (d.disk_usage, d.disk_usage_error, d.nodes, d.nodes_error);
    view! {
        <Title text=title.clone() />
        <header class="page-header">
            <h1>{title}</h1>
            <div class="page-actions">
                <a class="button button-primary" href=containers>"Containers"</a>
                {edit}
                <a class="button" href="/hosts">"All hosts"</a>
            </div>
        </header>
        <p class="page-summary">
            {badge} {h.url.clone().map(|url| view! { " " <span class="mono">{url}</span> })}
            {h.tls.then(|| view! { <span class="chip">"TLS"</span> })}
            {h.latency_ms.map(|ms| format!(" · {} round trip", format::latency_ms(ms)))}
        </p>
        {h.error.clone().map(|e| view! { <div class="notice notice-bad" role="alert">{e}</div> })}
        {d.info_error.filter(|_| h.error.is_none()).map(|e| view! { <div class="notice notice-bad" role="alert">{e}</div> })}
        // Disk usage and nodes come from the same engine: when its info could not be read,
        // their errors would only repeat the notice above.
        {d.info.map(|i| {
            let manager = i.swarm_manager;
            let warnings = i.warnings.clone();
            view! {
                <div class="panels panels-wide">
                    <EngineFacts i labels />
                    {crate::pages::host_admin::totals::host_totals_panel(h.slug.clone())}
                    <DiskUsagePanel df=disk_usage error=disk_usage_error />
                    {manager.then(|| view! { <SwarmNodesPanel nodes error=nodes_error /> })}
                </div>
                {(!warnings.is_empty()).then(|| view! {
                    <section class="panel panel-warn" aria-labelledby="warn-title">
                        <h2 id="warn-title">"Engine warnings"</h2>
                        <ul>{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                    </section>
                })}
            }
        })}
    }
    .into_any()
}

fn fact(label: &'static str, value: String) -> impl IntoView {
    let shown = if value.is_empty() {
        "—".to_string()
    } else {
        value
    };
    view! {
        <div class="fact">
            <dt>{label}</dt>
            <dd>{shown}</dd>
        </div>
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".into()
    } else {
        items.join(", ")
    }
}

/// `key=value` labels as chips, or a word saying there are none.
fn label_chips(labels: Vec<String>, none: &'static str) -> impl IntoView {
    if labels.is_empty() {
        view! { <span class="muted">{none}</span> }.into_any()
    } else {
        view! {
            <ul class="grant-list">
                {labels.into_iter().map(|l| view! { <li><span class="chip chip-first mono">{l}</span></li> }).collect_view()}
            </ul>
        }
        .into_any()
    }
}

#[component]
fn EngineFacts(i: EngineInfoView, labels: Vec<String>) -> AnyView {
    let e = i.engine.clone();
    let swarm = if i.swarm_state == "active" {
        format!(
            "{} · {} · {} nodes, {} managers",
            i.swarm_state,
            if i.swarm_manager { "manager" } else { "worker" },
            i.swarm_nodes,
            i.swarm_managers
        )
    } else {
        i.swarm_state.clone()
    };
    let os = if i.os_version.is_empty() || e.os.contains(&i.os_version) {
        e.os.clone()
    } else {
        format!("{} ({})", e.os, i.os_version)
    };
    view! {
        <div class="panels">
            <section class="panel" aria-labelledby="engine-title">
                <h2 id="engine-title">"Engine"</h2>
                <dl class="facts">
                    {fact("Version", e.engine_version.clone())}
                    {fact("API", format!("{} (oldest supported {})", e.api_version, i.min_api_version))}
                    {fact("Go", i.go_version.clone())}
                    {fact("Commit", i.git_commit.clone())}
                    {fact("Storage driver", e.storage_driver.clone())}
                    {fact("Logging driver", i.logging_driver.clone())}
                    {fact("Cgroups", format!("{} (v{})", i.cgroup_driver, i.cgroup_version))}
                    {fact("Runtimes", format!("{} (default {})", list_or_none(&i.runtimes), i.default_runtime))}
                    {fact("Live restore", if i.live_restore { "on".into() } else { "off".into() })}
                    {fact("Experimental", if i.experimental { "on".into() } else { "off".into() })}
                    {fact("Swarm", swarm)}
                    <div class="fact">
                        <dt>"Engine ID"</dt>
                        <dd class="mono small">{if i.id.is_empty() { "—".to_string() } else { i.id.clone() }}</dd>
                    </div>
                </dl>
            </section>
            <section class="panel" aria-labelledby="system-title">
                <h2 id="system-title">"System"</h2>
                <dl class="facts">
                    {fact("Host name", e.hostname.clone())}
                    {fact("OS", os)}
                    {fact("Platform", format!("{}/{}", e.os_type, e.arch))}
                    {fact("Kernel", e.kernel.clone())}
                    {fact("CPUs", e.cpus.to_string())}
                    {fact("Memory", format::bytes(e.memory_bytes))}
                    {fact("Security", list_or_none(&i.security_options))}
                </dl>
            </section>
            <section class="panel" aria-labelledby="load-title">
                <h2 id="load-title">"Containers and images"</h2>
                <dl class="facts">
                    {fact("Running", e.containers_running.to_string())}
                    {fact("Paused", e.containers_paused.to_string())}
                    {fact("Stopped", e.containers_stopped.to_string())}
                    {fact("Images", e.images.to_string())}
                    {fact("Volumes", e.volumes.to_string())}
                </dl>
            </section>
            <section class="panel" aria-labelledby="labels-title" data-testid="labels">
                <h2 id="labels-title">"Labels"</h2>
                <dl class="facts">
                    <div class="fact">
                        <dt>"Engine"</dt>
                        <dd>{label_chips(i.labels.clone(), "none (dockerd --label)")}</dd>
                    </div>
                    <div class="fact">
                        <dt>"Capstan"</dt>
                        <dd>{label_chips(labels, "none")}</dd>
                    </div>
                </dl>
            </section>
        </div>
    }
    .into_any()
}

/// A size with the exact number of bytes on hover, or a dash when the engine did not say.
fn size_cell(bytes: Option<u64>) -> AnyView {
    match bytes {
        Some(n) => view! { <span title=format!("{n} bytes")>{format::bytes(n)}</span> }.into_any(),
        None => unknown(),
    }
}

fn unknown() -> AnyView {
    view! { <span class="muted" title="not reported by this engine">"—"</span> }.into_any()
}

fn count_cell(n: Option<u64>) -> AnyView {
    n.map_or_else(unknown, |n| n.to_string().into_any())
}

#[component]
fn DiskUsagePanel(df: Option<DiskUsage>, error: Option<String>) -> AnyView {
    let summary = df.as_ref().map(|df| {
        let (size, free) = df.totals();
        format!(
            "{} on disk · {} reclaimable by removing what nothing uses",
            format::bytes(size),
            format::bytes(free)
        )
    });
    let rows = df.map(|df| {
        df.rows()
            .into_iter()
            .map(|(kind, u)| {
                let reclaimable = u.and_then(|u| {
                    u.reclaimable_bytes.map(|free| match u.reclaimable_percent() {
                        Some(pct) => view! { <span title=format!("{free} bytes")>{format!("{} ({pct} %)", format::bytes(free))}</span> }.into_any(),
                        None => size_cell(Some(free)),
                    })
                });
                view! {
                    <tr data-kind=kind.to_lowercase().replace(' ', "-")>
                        <td data-label="Type" class="cell-primary"><span class="strong">{kind}</span></td>
                        <td data-label="Total" class="num">{count_cell(u.and_then(|u| u.count))}</td>
                        <td data-label="Active" class="num">{count_cell(u.and_then(|u| u.active))}</td>
                        <td data-label="Size" class="num">{size_cell(u.and_then(|u| u.size_bytes))}</td>
                        <td data-label="Reclaimable" class="num">{reclaimable.unwrap_or_else(unknown)}</td>
                    </tr>
                }
            })
            .collect_view()
    });
    view! {
        <section class="panel" aria-labelledby="disk-title" data-testid="disk-usage">
            <h2 id="disk-title">"Disk usage"</h2>
            {error.map(|e| view! { <div class="notice notice-bad" role="alert">{e}</div> })}
            {summary.map(|s| view! { <p class="muted small">{s}</p> })}
            {rows.map(|rows| view! {
                <div class="table-wrap">
                    <table class="table table-cards" aria-label="Disk usage">
                        <thead>
                            <tr>
                                <th scope="col">"Type"</th>
                                <th scope="col" class="num">"Total"</th>
                                <th scope="col" class="num">"Active"</th>
                                <th scope="col" class="num">"Size"</th>
                                <th scope="col" class="num">"Reclaimable"</th>
                            </tr>
                        </thead>
                        <tbody>{rows}</tbody>
                    </table>
                </div>
            })}
        </section>
    }
    .into_any()
}

fn node_status(status: &str) -> impl IntoView {
    let tone = match status {
        "ready" => Tone::Good,
        "down" => Tone::Bad,
        "disconnected" => Tone::Warn,
        _ => Tone::Idle,
    };
    view! { <Badge tone label=status.to_string() /> }
}

#[component]
fn SwarmNodesPanel(nodes: Vec<SwarmNode>, error: Option<String>) -> AnyView {
    let managers = nodes.iter().filter(|n| n.role == "manager").count();
    let ready = nodes.iter().filter(|n| n.status == "ready").count();
    let summary = format!(
        "{} · {} · {} ready",
        format::plural(nodes.len(), "node", "nodes"),
        format::plural(managers, "manager", "managers"),
        ready
    );
    let no_rows = nodes.is_empty();
    let empty = no_rows && error.is_none();
    let rows = nodes
        .into_iter()
        .map(|n| {
            let short: String = n.id.chars().take(12).collect();
            let manager = n.manager_status.clone().unwrap_or_else(|| "—".into());
            view! {
                <tr data-node=n.id.clone()>
                    <td data-label="Node" class="cell-primary">
                        <div class="strong">{n.hostname.clone()}</div>
                        <div class="mono muted small" title=n.id.clone()>{short}</div>
                    </td>
                    <td data-label="Role">{n.role.clone()}</td>
                    <td data-label="Availability">{n.availability.clone()}</td>
                    <td data-label="Status">{node_status(&n.status)}</td>
                    <td data-label="Manager">{manager}</td>
                    <td data-label="Engine">{n.engine_version.clone()}</td>
                    <td data-label="Address" class="mono">{n.address.clone()}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel" aria-labelledby="nodes-title" data-testid="swarm-nodes">
            <h2 id="nodes-title">"Swarm nodes"</h2>
            {error.map(|e| view! { <div class="notice notice-bad" role="alert">{e}</div> })}
            {(!empty).then(|| view! { <p class="muted small">{summary}</p> })}
            {empty.then(|| view! { <p class="muted">"The engine reported no nodes."</p> })}
            {(!no_rows).then(|| view! {
            <div class="table-wrap">
                <table class="table table-cards" aria-label="Swarm nodes">
                    <thead>
                        <tr>
                            <th scope="col">"Node"</th>
                            <th scope="col">"Role"</th>
                            <th scope="col">"Availability"</th>
                            <th scope="col">"Status"</th>
                            <th scope="col">"Manager"</th>
                            <th scope="col">"Engine"</th>
                            <th scope="col">"Address"</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            })}
        </section>
    }
    .into_any()
}
