//! The container area: one container's page (`/hosts/:host/containers/:id`) and its tabs, the
//! run/duplicate/edit forms, and the logs and events pages of several containers.
//!
//! The layout here holds the header (name, state, image, host, uptime), the action buttons and
//! the tabs; each tab is a module below.

pub mod events;
pub mod logs;
pub mod overview;
pub mod run;
mod run_fields;
pub mod stats;
pub mod tabs;
pub mod terminal;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::{use_navigate, use_params_map};
use serde::{Deserialize, Serialize};

use crate::client::containers::{container_action, remove_container, Lifecycle};
use crate::components::confirm::Confirm;
use crate::components::containers::state_badge;
use crate::components::page::ErrorNotice;
use crate::error::AppError;
use crate::format::short_id;
use crate::model::containers::{ContainerDetail, Created};
use crate::model::{role_at_least, RoleView};
use crate::routes::{container_href, encode};

/// The tabs under a container's header: (label, path below the container). Adding a tab is one
/// line here and one route in `lib.rs`.
pub const TABS: &[(&str, &str)] = &[
    ("Overview", ""),
    ("Processes", "/processes"),
    ("Changes", "/changes"),
    ("Files", "/files"),
    ("Logs", "/logs"),
    ("Stats", "/stats"),
    ("Terminal", "/terminal"),
];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerInfo {
    pub detail: ContainerDetail,
    /// The caller's role on the host, to show only the buttons it allows.
    pub role: RoleView,
    pub host_name: String,
    /// Where published ports are reachable from the browser (see `HostChoice::address`).
    pub address: Option<String>,
    /// This is Capstan's own container and the caller is not an admin: `role` is capped at
    /// viewer so no button offers what the server refuses (`backend::engine::own`).
    pub own: bool,
}

#[server(output = crate::codec::TextJson)]
pub async fn load_container(host: String, id: String) -> Result<ContainerInfo, AppError> {
    let c = crate::ssr::caller()?;
    let seen = crate::ssr::ops()?.container(&c, &host, &id).await?;
    Ok(ContainerInfo {
        address: crate::routes::list_address(&seen.engine_url),
        detail: ContainerDetail::new(host, seen.detail),
        role: seen.role.into(),
        host_name: seen.host_name,
        own: seen.own,
    })
}

#[server(output = crate::codec::TextJson)]
pub async fn rename_container(host: String, id: String, name: String) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    crate::ssr::ops()?
        .rename_container(&c, &host, &id, &name)
        .await?;
    tracing::info!(by = %c.who.username, host, container = %id, name = %name.trim(), "container renamed");
    Ok(())
}

#[server(output = crate::codec::TextJson)]
pub async fn recreate_container(host: String, id: String) -> Result<Created, AppError> {
    use backend::ops::containers::Recreate;
    let c = crate::ssr::caller()?;
    let created = crate::ssr::ops()?
        .recreate_container(&c, &host, &id, &Recreate::Same)
        .await?;
    tracing::info!(by = %c.who.username, host, old = %id, new = %created.id, "container recreated");
    Ok(created)
}

/// What the container's pages share: which container, its inspect answer, and a way to read it
/// again after an action.
#[derive(Clone, Copy)]
pub struct ContainerCtx {
    pub host: Memo<String>,
    pub id: Memo<String>,
    pub page: Resource<Result<ContainerInfo, AppError>>,
    pub reload: RwSignal<u32>,
    /// What an action is doing now, and how the last one went: kept here, above the header
    /// that is rebuilt when the container is read again.
    pub busy: RwSignal<Option<String>>,
    pub result: RwSignal<Option<Result<String, AppError>>>,
}

pub fn use_container() -> ContainerCtx {
    expect_context::<ContainerCtx>()
}

#[component]
pub fn ContainerLayout() -> impl IntoView {
    let params = use_params_map();
    let host = Memo::new(move |_| params.read().get("host").unwrap_or_default());
    let id = Memo::new(move |_| params.read().get("id").unwrap_or_default());
    let reload = RwSignal::new(0u32);
    let page = Resource::new(
        move || (host.get(), id.get(), reload.get()),
        |(h, i, _)| load_container(h, i),
    );
    let busy = RwSignal::new(None::<String>);
    let result = RwSignal::new(None::<Result<String, AppError>>);
    // Another container (a recreate, or a link) starts with a clean slate.
    Effect::new(move |_| {
        host.track();
        id.track();
        result.set(None);
    });
    provide_context(ContainerCtx {
        host,
        id,
        page,
        reload,
        busy,
        result,
    });
    view! {
        <Transition fallback=|| view! { <header class="page-header"><h1>"Container"</h1></header> <p class="muted">"Loading container…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <ContainerHeader p /> }.into_any(),
                    Err(e) => view! {
                        <Title text="Container" />
                        <header class="page-header">
                            <h1>"Container"</h1>
                            <div class="page-actions"><a class="button" href="/containers">"All containers"</a></div>
                        </header>
                        <ErrorNotice message=e.to_string() />
                    }
                    .into_any(),
                }
            })}
        </Transition>
        <div aria-live="polite" data-testid="action-outcome">
            {move || busy.get().map(|b| view! { <p class="muted" role="status" aria-busy="true">{b}</p> })}
            {move || result.get().map(|r| match r {
                Ok(text) => view! { <p class="form-ok" role="status">{text}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </div>
        <nav class="tabs" aria-label="Container">
            {TABS.iter().map(|(label, path)| {
                let href = move || format!("{}{}", container_href(&host.get(), &id.get()), path);
                // The terminal is for managers only (the server checks it too).
                let hidden = move || (*path == "/terminal" && !page.get().and_then(Result::ok).is_some_and(|p| role_at_least(Some(p.role), RoleView::Manager))).then_some("");
                view! { <A href=href exact=true attr:hidden=hidden>{*label}</A> }
            }).collect_view()}
        </nav>
        <div class="tab-body">
            <Outlet />
        </div>
    }
}

/// `2026-11-28T07:44:53.123Z` → `2026-11-28 07:44 UTC`; `None` for the engine's zero time.
pub fn when(rfc3339: &str) -> Option<String> {
    if rfc3339.is_empty() || rfc3339.starts_with("0001-") {
        return None;
    }
    match (rfc3339.get(..10), rfc3339.get(11..16)) {
        (Some(day), Some(time)) if rfc3339.ends_with('Z') => Some(format!("{day} {time} UTC")),
        _ => Some(rfc3339.to_string()),
    }
}

fn life_line(d: &ContainerDetail) -> String {
    let started = d.started_at.as_deref().and_then(when);
    let finished = d.finished_at.as_deref().and_then(when);
    match d.state.as_str() {
        "running" | "paused" | "restarting" => {
            started.map(|s| format!("up since {s}")).unwrap_or_default()
        }
        "created" => "created, never started".into(),
        _ => match finished {
            Some(f) => format!("exited with code {} at {f}", d.exit_code),
            None => format!("exit code {}", d.exit_code),
        },
    }
}

#[component]
fn ContainerHeader(p: ContainerInfo) -> impl IntoView {
    let d = p.detail.clone();
    let title = d.name.clone();
    let health = d.health.as_ref().map(|h| h.status.clone());
    let host_href = format!("/hosts/{}", encode(&d.host));
    view! {
        <Title text=title.clone() />
        <header class="page-header">
            <h1 class="container-title">{title}</h1>
            <div class="page-actions">
                <a class="button" href=format!("/containers?host={}", encode(&d.host))>"All containers"</a>
            </div>
        </header>
        <p class="page-summary container-summary" data-testid="container-summary">
            <span data-testid="container-state">{state_badge(&d.state, health.as_deref())}</span>
            <span class="mono" title=d.image_id.clone()>{d.image.clone()}</span>
            <span>"on " <a href=host_href>{p.host_name.clone()}</a></span>
            <span>{life_line(&d)}</span>
            <span class="mono muted" title=d.id.clone()>{short_id(&d.id)}</span>
        </p>
        {p.own.then(|| view! { <div class="notice" role="note" data-testid="own-container">"This is Capstan's own container: only admins can change it, open a terminal in it or read its files."</div> })}
        {d.oom_killed.then(|| view! { <div class="notice notice-bad" role="alert">"The kernel killed this container for using too much memory (OOM)."</div> })}
        {d.error.clone().filter(|e| !e.is_empty()).map(|e| view! { <div class="notice notice-bad" role="alert"><strong>"The engine reported: "</strong>{e}</div> })}
        <Actions p />
    }
}

/// The buttons the caller's role allows, for the container's current state.
#[component]
fn Actions(p: ContainerInfo) -> impl IntoView {
    let ctx = use_container();
    let d = p.detail;
    let (host, id, name) = (d.host.clone(), d.id.clone(), d.name.clone());
    let operate = role_at_least(Some(p.role), RoleView::Operator);
    let manage = role_at_least(Some(p.role), RoleView::Manager);
    let (busy, result) = (ctx.busy, ctx.result);
    let navigate = use_navigate();

    let act = {
        let (host, id, name) = (host.clone(), id.clone(), name.clone());
        move |action: Lifecycle, signal: Option<String>| {
            let (host, id, name) = (host.clone(), id.clone(), name.clone());
            busy.set(Some(format!("{}…", verb(action))));
            result.set(None);
            leptos::task::spawn_local(async move {
                let r = container_action(host, id, action, signal)
                    .await
                    .map(|()| format!("{} {name}.", action.done()));
                result.set(Some(r));
                busy.set(None);
                ctx.reload.update(|n| *n += 1);
            });
        }
    };
    let button = {
        let act = act.clone();
        move |action: Lifecycle, label: &'static str| {
            let act = act.clone();
            view! {
                <button type="button" class="button" prop:disabled=move || busy.get().is_some() on:click=move |_| act(action, None)>{label}</button>
            }
        }
    };

    let signal_choice = RwSignal::new("SIGKILL".to_string());
    let kill = {
        let act = act.clone();
        move || act(Lifecycle::Kill, Some(signal_choice.get_untracked()))
    };

    let renaming = RwSignal::new(false);
    let new_name = RwSignal::new(name.clone());
    let rename = {
        let (host, id) = (host.clone(), id.clone());
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let (host, id, to) = (host.clone(), id.clone(), new_name.get_untracked());
            busy.set(Some("Renaming…".into()));
            result.set(None);
            leptos::task::spawn_local(async move {
                let r = rename_container(host, id, to.clone())
                    .await
                    .map(|()| format!("Renamed to {}.", to.trim()));
                if r.is_ok() {
                    renaming.set(false);
                }
                result.set(Some(r));
                busy.set(None);
                ctx.reload.update(|n| *n += 1);
            });
        }
    };

    let force = RwSignal::new(false);
    let volumes = RwSignal::new(false);
    let remove = {
        let (host, id, navigate) = (host.clone(), id.clone(), navigate.clone());
        move || {
            let (host, id, navigate) = (host.clone(), id.clone(), navigate.clone());
            busy.set(Some("Removing…".into()));
            result.set(None);
            leptos::task::spawn_local(async move {
                match remove_container(
                    host.clone(),
                    id,
                    force.get_untracked(),
                    volumes.get_untracked(),
                )
                .await
                {
                    Ok(()) => navigate(
                        &format!("/containers?host={}", encode(&host)),
                        Default::default(),
                    ),
                    Err(e) => result.set(Some(Err(e))),
                }
                busy.set(None);
            });
        }
    };
    let recreate = {
        let (host, id, navigate) = (host.clone(), id.clone(), navigate.clone());
        move || {
            let (host, id, navigate) = (host.clone(), id.clone(), navigate.clone());
            busy.set(Some("Pulling the image and recreating…".into()));
            result.set(None);
            leptos::task::spawn_local(async move {
                match recreate_container(host.clone(), id).await {
                    Ok(c) => {
                        busy.set(None);
                        navigate(&container_href(&host, &c.id), Default::default());
                    }
                    Err(e) => {
                        result.set(Some(Err(e)));
                        busy.set(None);
                    }
                }
            });
        }
    };

    let running = d.running && !d.paused;
    let duplicate_href = format!("{}/duplicate", container_href(&host, &id));
    let edit_href = format!("{}/edit", container_href(&host, &id));
    view! {
        <div class="action-bar" role="toolbar" aria-label="Container actions">
            {(!operate).then(|| view! { <span class="muted small">"You can look at this container; an operator or manager of the host can change it."</span> })}
            {(operate && !d.running).then(|| button(Lifecycle::Start, "Start"))}
            {(operate && d.running).then(|| button(Lifecycle::Stop, "Stop"))}
            {(operate && d.running).then(|| button(Lifecycle::Restart, "Restart"))}
            {(operate && running).then(|| button(Lifecycle::Pause, "Pause"))}
            {(operate && d.paused).then(|| button(Lifecycle::Unpause, "Unpause"))}
            {(operate && d.running).then(|| view! {
                <span class="kill-group">
                    <select aria-label="Signal" prop:value=move || signal_choice.get() on:change=move |ev| signal_choice.set(event_target_value(&ev))>
                        {["SIGKILL", "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2"].into_iter().map(|s| view! { <option value=s>{s}</option> }).collect_view()}
                    </select>
                    <Confirm label="Kill" question=format!("Send the signal to {name}?") on_yes=kill.clone() />
                </span>
            })}
            {manage.then(|| view! {
                <button type="button" class="button" on:click=move |_| renaming.update(|r| *r = !*r)>"Rename"</button>
                <a class="button" href=edit_href.clone() title="Change its settings: it is replaced under the same name">"Edit"</a>
                <a class="button" href=duplicate_href.clone() title="A new container with these settings">"Duplicate"</a>
                <Confirm label="Recreate" question=format!("Pull the image again and recreate {name} with the same settings?") on_yes=recreate.clone() />
            })}
        </div>
        {manage.then(|| view! {
            <Show when=move || renaming.get()>
                <form class="inline-form rename-form" on:submit=rename.clone()>
                    <label class="field">
                        <span>"New name"</span>
                        <input name="name" required maxlength="128" autocomplete="off" prop:value=move || new_name.get() on:input=move |ev| new_name.set(event_target_value(&ev)) />
                    </label>
                    <button type="submit" class="button button-primary">"Save name"</button>
                    <button type="button" class="button" on:click=move |_| renaming.set(false)>"Cancel"</button>
                </form>
            </Show>
            <details class="danger-zone">
                <summary>"Remove…"</summary>
                <div class="danger-body">
                    <label class="check">
                        <input type="checkbox" prop:checked=move || force.get() on:change=move |ev| force.set(event_target_checked(&ev)) />
                        <span>"Force: stop it first if it is running"</span>
                    </label>
                    <label class="check">
                        <input type="checkbox" prop:checked=move || volumes.get() on:change=move |ev| volumes.set(event_target_checked(&ev)) />
                        <span>"Also remove its anonymous volumes"</span>
                    </label>
                    <Confirm label="Remove container" question=format!("Remove container {name} on {}?", p.host_name) on_yes=remove.clone() />
                </div>
            </details>
        })}
    }
}

fn verb(action: Lifecycle) -> &'static str {
    match action {
        Lifecycle::Start => "Starting",
        Lifecycle::Stop => "Stopping",
        Lifecycle::Restart => "Restarting",
        Lifecycle::Kill => "Sending the signal",
        Lifecycle::Pause => "Pausing",
        Lifecycle::Unpause => "Unpausing",
        Lifecycle::Remove => "Removing",
    }
}
