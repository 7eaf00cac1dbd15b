//! One host: its status and the engine in full.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::components::badge::{Badge, Tone};
use crate::components::page::ErrorNotice;
use crate::error::AppError;
use crate::format;
use crate::model::{EngineInfoView, HostState, HostView};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HostPageData {
    pub host: HostView,
    pub info: Option<EngineInfoView>,
    /// Why the engine's info could not be read, in words.
    pub info_error: Option<String>,
}

#[server]
pub async fn host_detail(host: String) -> Result<HostPageData, AppError> {
    use backend::policy::{authorize, HostAction};
    let who = crate::ssr::principal()?;
    authorize(&who, &host, HostAction::View).map_err(AppError::from)?;
    let fleet = crate::ssr::fleet()?;
    let h = fleet.host(&host).map_err(AppError::from)?;
    // The status comes from the monitor's snapshot: `info` below already asks the engine.
    let (status, info) = futures::join!(fleet.known_status(&h), h.engine.info());
    let (info, info_error) = match info {
        Ok(i) => (Some(i.into()), None),
        Err(e) => {
            tracing::debug!(host, error = %e.log_detail(), "engine info failed");
            (None, Some(e.public_message()))
        }
    };
    Ok(HostPageData { host: status.into(), info, info_error })
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
fn HostBody(d: HostPageData) -> impl IntoView {
    let h = d.host;
    let badge = match h.status {
        HostState::Up => view! { <Badge tone=Tone::Good label="up" /> },
        HostState::Down => view! { <Badge tone=Tone::Bad label="down" /> },
    };
    let title = h.name.clone();
    view! {
        <Title text=title.clone() />
        <header class="page-header">
            <h1>{title}</h1>
            <div class="page-actions"><a class="button" href="/hosts">"All hosts"</a></div>
        </header>
        <p class="page-summary">
            {badge} " " <span class="mono">{h.url.clone()}</span>
            {h.tls.then(|| view! { <span class="chip">"TLS"</span> })}
            {h.latency_ms.map(|ms| format!(" · {} round trip", format::latency_ms(ms)))}
        </p>
        {h.error.clone().map(|e| view! { <div class="notice notice-bad" role="alert">{e}</div> })}
        {d.info_error.filter(|_| h.error.is_none()).map(|e| view! { <div class="notice notice-bad" role="alert">{e}</div> })}
        {d.info.map(|i| view! { <EngineFacts i /> })}
    }
}

fn fact(label: &'static str, value: String) -> impl IntoView {
    let shown = if value.is_empty() { "—".to_string() } else { value };
    view! {
        <div class="fact">
            <dt>{label}</dt>
            <dd>{shown}</dd>
        </div>
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

#[component]
fn EngineFacts(i: EngineInfoView) -> impl IntoView {
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
    let warnings = i.warnings.clone();
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
                    {fact("Swarm", swarm)}
                </dl>
            </section>
            <section class="panel" aria-labelledby="system-title">
                <h2 id="system-title">"System"</h2>
                <dl class="facts">
                    {fact("Host name", e.hostname.clone())}
                    {fact("OS", e.os.clone())}
                    {fact("Platform", format!("{}/{}", e.os_type, e.arch))}
                    {fact("Kernel", e.kernel.clone())}
                    {fact("CPUs", e.cpus.to_string())}
                    {fact("Memory", format::bytes(e.memory_bytes))}
                    {fact("Security", list_or_none(&i.security_options))}
                    {fact("Labels", list_or_none(&i.labels))}
                </dl>
            </section>
            <section class="panel" aria-labelledby="load-title">
                <h2 id="load-title">"Containers and images"</h2>
                <dl class="facts">
                    {fact("Running", e.containers_running.to_string())}
                    {fact("Paused", e.containers_paused.to_string())}
                    {fact("Stopped", e.containers_stopped.to_string())}
                    {fact("Images", e.images.to_string())}
                </dl>
            </section>
        </div>
        {(!warnings.is_empty()).then(|| view! {
            <section class="panel panel-warn" aria-labelledby="warn-title">
                <h2 id="warn-title">"Engine warnings"</h2>
                <ul>{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
            </section>
        })}
    }
}
