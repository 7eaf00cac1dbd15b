//! `/containers`: one table of the containers on every host the caller may see (or one host),
//! filtered, sorted and acted on in bulk. Also the parts the container pages share: the state
//! badge, short ids, URL encoding and the lifecycle server fns.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::client::containers::{HostChoice, Lifecycle};
use crate::components::containers::{port_views, state_badge};
use crate::components::page::{ErrorNotice, HostNotices, PageHeader, SkeletonRows};
use crate::components::text::ImageRef;
use crate::error::AppError;
use crate::format;
use crate::format::short_id;
use crate::model::containers::{ContainerSummary, HostProblem};
use crate::model::{role_at_least, RoleView};
#[cfg(feature = "ssr")]
use crate::routes::list_address;
use crate::routes::{container_href, encode};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainersData {
    pub containers: Vec<ContainerSummary>,
    pub unreachable: Vec<HostProblem>,
    pub hosts: Vec<HostChoice>,
}

/// One container a bulk action is for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Target {
    pub host: String,
    pub id: String,
    pub name: String,
}

/// How one container of a bulk action fared; `error` in words safe to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Outcome {
    pub host: String,
    pub name: String,
    pub error: Option<String>,
}

/// The last bulk action and how it went.
type LastBulk = Option<(Lifecycle, Result<Vec<Outcome>, AppError>)>;

#[server(output = crate::codec::TextJson)]
pub async fn list_containers(
    host: Option<String>,
    state: Option<String>,
    q: Option<String>,
    label: Option<String>,
    sort: Option<String>,
    health: Option<String>,
    ancestor: Option<String>,
) -> Result<ContainersData, AppError> {
    let c = crate::ssr::caller()?;
    let ops = crate::ssr::ops()?;
    let params = crate::model::containers::ContainerListParams {
        all: None,
        state: Some(
            state
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "all".into()),
        ),
        q,
        label,
        sort,
        health,
        ancestor,
        ..Default::default()
    };
    let query = params.to_query()?;
    let hosts: Vec<HostChoice> = ops
        .fleet()
        .visible(&c.who, backend::policy::HostAction::View)
        .iter()
        .filter_map(|h| {
            c.who.role_on(&h.slug).map(|role| HostChoice {
                slug: h.slug.clone(),
                name: h.name.clone(),
                role: role.into(),
                address: list_address(h.engine_url()),
            })
        })
        .collect();
    let (containers, unreachable) = match host.filter(|h| !h.is_empty()) {
        // One engine: its own request timeouts bound the wait; an engine that fails is a
        // notice, a host the caller may not see an error.
        Some(slug) => match ops.containers_on(&c, &slug, &query).await {
            Ok((list, _)) => (
                list.into_iter()
                    .map(|c| ContainerSummary::new(slug.clone(), c))
                    .collect(),
                Vec::new(),
            ),
            Err(
                e @ (backend::Error::Engine { .. }
                | backend::Error::EngineTimeout
                | backend::Error::EngineUnreachable { .. }),
            ) => {
                tracing::debug!(host = %slug, error = %e.log_detail(), "listing containers failed");
                (
                    Vec::new(),
                    vec![HostProblem {
                        host: slug,
                        error: e.public_message(),
                    }],
                )
            }
            Err(e) => return Err(e.into()),
        },
        None => {
            let all: crate::model::containers::FleetContainers =
                ops.containers(&c, &query).await.into();
            (all.containers, all.unreachable)
        }
    };
    Ok(ContainersData {
        containers,
        unreachable,
        hosts,
    })
}

/// The same action on many containers (on any hosts), a few at a time; each is authorized on
/// its own and fails on its own (`backend::ops::Ops::bulk`).
#[server(input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn bulk_action(
    action: Lifecycle,
    targets: Vec<Target>,
    force: bool,
) -> Result<Vec<Outcome>, AppError> {
    use backend::ops::containers::BulkAct;
    let c = crate::ssr::caller()?;
    let act = match action.use_case(None) {
        Some(l) => BulkAct::Lifecycle(l),
        None => BulkAct::Remove {
            force,
            volumes: false,
        },
    };
    let pairs: Vec<(String, String)> = targets
        .iter()
        .map(|t| (t.host.clone(), t.id.clone()))
        .collect();
    let results = crate::ssr::ops()?.bulk(&c, &act, &pairs).await?;
    let outcomes: Vec<Outcome> = targets
        .into_iter()
        .zip(results)
        .map(|(t, r)| Outcome {
            host: t.host,
            name: t.name,
            error: r.err().map(|e| e.public_message()),
        })
        .collect();
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    tracing::info!(by = %c.who.username, ?action, count = outcomes.len(), failed, "bulk container action");
    Ok(outcomes)
}

// ---------- parts the container pages share ----------

// ---------- the page ----------

const COLUMNS: usize = 8;

/// The filters, read from the URL: the page's state is shareable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Filters {
    host: String,
    state: String,
    q: String,
    label: String,
    sort: String,
    health: String,
    /// `docker ps --filter ancestor=`: made from this image.
    ancestor: String,
}

impl Filters {
    fn any(&self) -> bool {
        !(self.host.is_empty()
            && self.state.is_empty()
            && self.q.is_empty()
            && self.label.is_empty()
            && self.health.is_empty()
            && self.ancestor.is_empty())
    }

    /// The page's URL with one filter changed.
    fn href_with(&self, key: &str, value: &str) -> String {
        let mut pairs = vec![
            ("host", self.host.as_str()),
            ("state", self.state.as_str()),
            ("q", self.q.as_str()),
            ("label", self.label.as_str()),
            ("sort", self.sort.as_str()),
            ("health", self.health.as_str()),
            ("ancestor", self.ancestor.as_str()),
        ];
        for p in &mut pairs {
            if p.0 == key {
                p.1 = value;
            }
        }
        let query: Vec<String> = pairs
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if query.is_empty() {
            "/containers".into()
        } else {
            format!("/containers?{}", query.join("&"))
        }
    }
}

fn opt(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

// ---------- live CPU / memory column ----------

/// One running container's numbers, as `GET /api/v1/hosts/{host}/stats` gives them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Usage {
    pub id: String,
    pub cpu_percent: f64,
    pub memory_usage: u64,
    pub memory_percent: f64,
}

#[derive(Debug, Deserialize)]
struct HostUsageWire {
    containers: Vec<Usage>,
}

/// The live numbers shown, by (host, container id).
type UsageMap = HashMap<(String, String), Usage>;

/// How long a host's snapshot is waited for again after the last one came (or failed).
const USAGE_EVERY_MS: i32 = 5_000;
const USAGE_RETRY_MS: i32 = 15_000;

/// One snapshot of a host's running containers (browser only).
async fn fetch_usage(host: &str) -> Result<Vec<Usage>, String> {
    use leptos::wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    init.set_method("GET");
    let url = format!("/api/v1/hosts/{}/stats", encode(host));
    let request =
        web_sys::Request::new_with_str_and_init(&url, &init).map_err(|_| "bad request")?;
    request
        .headers()
        .set("Accept", "application/json")
        .map_err(|_| "bad header")?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(|_| "unreachable")?
        .dyn_into()
        .map_err(|_| "not a response")?;
    if !response.ok() {
        return Err(format!("status {}", response.status()));
    }
    let text = JsFuture::from(response.text().map_err(|_| "no body")?)
        .await
        .map_err(|_| "body lost")?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str::<HostUsageWire>(&text)
        .map(|u| u.containers)
        .map_err(|e| e.to_string())
}

/// Reads a host's snapshot again and again into `usage` until `stop` is set (the page went, or
/// the host has no running container in view any more): one request at a time per host.
async fn poll_usage(host: String, stop: Arc<AtomicBool>, usage: RwSignal<UsageMap>) {
    while !stop.load(Ordering::Relaxed) {
        let result = fetch_usage(&host).await;
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let ok = result.is_ok();
        let updated = usage.try_update(|m| {
            m.retain(|(h, _), _| *h != host);
            for u in result.unwrap_or_default() {
                m.insert((host.clone(), u.id.clone()), u);
            }
        });
        if updated.is_none() {
            break;
        }
        crate::browser::sleep_ms(if ok { USAGE_EVERY_MS } else { USAGE_RETRY_MS }).await;
    }
}

/// `12.3 %` of one CPU, and a bar (full at one CPU).
fn usage_cell(u: Option<&Usage>) -> AnyView {
    let Some(u) = u else {
        return view! { <span class="muted" title="Waiting for the first numbers">"—"</span> }
            .into_any();
    };
    // A <progress>, not a styled span: the pages' CSP allows no inline styles.
    let bar = |percent: f64| format!("{:.1}", percent.clamp(0.0, 100.0));
    let cpu = crate::format::percent(u.cpu_percent);
    let memory = format::bytes(u.memory_usage);
    let title = format!(
        "CPU {cpu} (100 % is one CPU) · memory {memory} ({:.1} % of its limit)",
        u.memory_percent
    );
    view! {
        <div class="usage" title=title>
            <div class="usage-line">
                <span class="usage-label" aria-hidden="true">"CPU"</span>
                <progress class="usage-bar" aria-hidden="true" max="100" value=bar(u.cpu_percent)></progress>
                <span class="usage-num">{cpu}</span>
            </div>
            <div class="usage-line">
                <span class="usage-label" aria-hidden="true">"Mem"</span>
                <progress class="usage-bar usage-bar-mem" aria-hidden="true" max="100" value=bar(u.memory_percent)></progress>
                <span class="usage-num">{memory}</span>
            </div>
        </div>
    }
    .into_any()
}

#[component]
pub fn ContainersPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).map(|v| v.trim().to_string()).unwrap_or_default();
        Filters {
            host: get("host"),
            state: get("state"),
            q: get("q"),
            label: get("label"),
            sort: get("sort"),
            health: get("health"),
            ancestor: get("ancestor"),
        }
    });
    let refreshes = RwSignal::new(0u32);
    let data = Resource::new(
        move || (filters.get(), refreshes.get()),
        |(f, _)| {
            list_containers(
                opt(&f.host),
                opt(&f.state),
                opt(&f.q),
                opt(&f.label),
                opt(&f.sort),
                opt(&f.health),
                opt(&f.ancestor),
            )
        },
    );
    let (pending, set_pending) = signal(false);
    let auto = RwSignal::new(false);
    let selected = RwSignal::new(BTreeSet::<Target>::new());
    let outcome = RwSignal::new(None::<(Lifecycle, Result<Vec<Outcome>, AppError>)>);
    let busy = RwSignal::new(false);

    // Live CPU / memory: one snapshot request at a time per host with running containers in
    // view, in the browser only (the server renders "—"), stopped when the page goes.
    let usage = RwSignal::new(UsageMap::new());
    let live_hosts = Memo::new(move |_| {
        data.get()
            .and_then(Result::ok)
            .map(|d| {
                d.containers
                    .iter()
                    .filter(|c| c.state == "running")
                    .map(|c| c.host.clone())
                    .collect::<BTreeSet<String>>()
            })
            .unwrap_or_default()
    });
    let pollers = StoredValue::new(HashMap::<String, Arc<AtomicBool>>::new());
    Effect::new(move |_| {
        let hosts = live_hosts.get();
        pollers.update_value(|p| {
            p.retain(|host, stop| {
                let keep = hosts.contains(host);
                if !keep {
                    stop.store(true, Ordering::Relaxed);
                }
                keep
            });
            for host in hosts {
                if !p.contains_key(&host) {
                    let stop = Arc::new(AtomicBool::new(false));
                    p.insert(host.clone(), stop.clone());
                    leptos::task::spawn_local(poll_usage(host, stop, usage));
                }
            }
        });
    });
    on_cleanup(move || {
        pollers.try_update_value(|p| {
            for stop in p.values() {
                stop.store(true, Ordering::Relaxed);
            }
            p.clear();
        });
    });

    // Auto-refresh: every 10 s while the box is ticked (in the browser only).
    let timer = StoredValue::new(None::<leptos::leptos_dom::helpers::IntervalHandle>);
    Effect::new(move |_| {
        if let Some(h) = timer.get_value() {
            h.clear();
            timer.set_value(None);
        }
        if auto.get() {
            let handle = set_interval_with_handle(
                move || refreshes.update(|n| *n += 1),
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
    // A new filter is a new list: what was selected may no longer be shown.
    Effect::new(move |_| {
        filters.track();
        selected.set(BTreeSet::new());
    });

    let run = move |action: Lifecycle, force: bool| {
        let targets: Vec<Target> = selected.get_untracked().into_iter().collect();
        if targets.is_empty() {
            return;
        }
        busy.set(true);
        outcome.set(None);
        leptos::task::spawn_local(async move {
            let result = bulk_action(action, targets, force).await;
            if let Ok(list) = &result {
                // Keep the ones that failed selected, to retry or look at.
                let failed: BTreeSet<(String, String)> = list
                    .iter()
                    .filter(|o| o.error.is_some())
                    .map(|o| (o.host.clone(), o.name.clone()))
                    .collect();
                selected
                    .update(|s| s.retain(|t| failed.contains(&(t.host.clone(), t.name.clone()))));
            }
            outcome.set(Some((action, result)));
            busy.set(false);
            refreshes.update(|n| *n += 1);
        });
    };

    view! {
        <PageHeader title="Containers">
            <label class="check check-inline" title="Refresh every 10 seconds">
                <input type="checkbox" prop:checked=move || auto.get() on:change=move |ev| auto.set(event_target_checked(&ev)) />
                <span>"Auto-refresh"</span>
            </label>
            <button
                class="button"
                on:click=move |_| refreshes.update(|n| *n += 1)
                prop:disabled=pending
                aria-busy=move || pending.try_get().unwrap_or(false).to_string()
            >
                {move || if pending.try_get().unwrap_or(false) { "Refreshing…" } else { "Refresh" }}
            </button>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let can_run = data.await.ok().is_some_and(|d| d.hosts.iter().any(|h| h.role == RoleView::Manager));
                    let host = filters.get_untracked().host;
                    let href = if host.is_empty() { "/run".to_string() } else { format!("/run?host={}", encode(&host)) };
                    can_run.then(|| view! { <a class="button button-primary" href=href>"Run a container"</a> })
                })}
            </Transition>
        </PageHeader>
        <Transition fallback=move || view! { <FilterBar filters=filters.get_untracked() hosts=Vec::new() /> <ContainersTable rows=None filters=filters.get_untracked() selected usage /> } set_pending>
            {move || Suspend::new(async move {
                let f = filters.get();
                match data.await {
                    Ok(d) => {
                        let summary = summary(&d);
                        let hosts = d.hosts.clone();
                        let roles: BTreeMap<String, RoleView> = d.hosts.iter().map(|h| (h.slug.clone(), h.role)).collect();
                        let empty = d.containers.is_empty();
                        view! {
                            <p class="page-summary" data-testid="containers-summary">{summary}</p>
                            <HostNotices list=d.unreachable.clone() missing="Its containers are not listed." />
                            <FilterBar filters=f.clone() hosts=hosts.clone() />
                            <BulkBar selected roles=roles.clone() busy run />
                            <OutcomeNotice outcome />
                            {if empty {
                                view! { <NoContainers filtered=f.any() can_run=hosts.iter().any(|h| h.role == RoleView::Manager) /> }.into_any()
                            } else {
                                view! { <ContainersTable rows=Some((d.containers, hosts)) filters=f selected usage /> }.into_any()
                            }}
                        }
                        .into_any()
                    }
                    Err(e) => view! {
                        <FilterBar filters=f.clone() hosts=Vec::new() />
                        <ErrorNotice message=e.to_string() />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
}

fn summary(d: &ContainersData) -> String {
    let running = d.containers.iter().filter(|c| c.state == "running").count();
    let hosts: BTreeSet<&str> = d.containers.iter().map(|c| c.host.as_str()).collect();
    format!(
        "{} · {} running · on {}",
        format::plural(d.containers.len(), "container", "containers"),
        running,
        format::plural(hosts.len(), "host", "hosts"),
    )
}

/// The filters as a GET form: it works before hydration, and after it the router navigates
/// without a reload. Selects apply at once, text on Enter.
#[component]
fn FilterBar(filters: Filters, hosts: Vec<HostChoice>) -> impl IntoView {
    let submit = |ev: leptos::ev::Event| {
        if let Some(form) = event_target::<web_sys::HtmlSelectElement>(&ev).form() {
            let _ = form.request_submit();
        }
    };
    let selected_host = filters.host.clone();
    let host_known = filters.host.is_empty() || hosts.iter().any(|h| h.slug == filters.host);
    let states = [
        ("", "All states"),
        ("running", "Running"),
        ("paused", "Paused"),
        ("exited", "Exited"),
        ("created", "Created"),
        ("restarting", "Restarting"),
        ("dead", "Dead"),
    ];
    let healths = [
        ("", "Any health"),
        ("healthy", "Healthy"),
        ("unhealthy", "Unhealthy"),
        ("starting", "Starting"),
        ("none", "No health check"),
    ];
    let sorts = [
        ("", "Name"),
        ("created", "Newest first"),
        ("state", "State"),
    ];
    view! {
        <Form method="GET" action="/containers" replace=true noscroll=true>
            <div class="filter-bar" role="search" aria-label="Filter containers">
                <label class="field">
                    <span>"Host"</span>
                    <select name="host" on:change=submit>
                        <option value="" selected=filters.host.is_empty()>"All hosts"</option>
                        {hosts.into_iter().map(|h| {
                            let sel = h.slug == selected_host;
                            view! { <option value=h.slug.clone() selected=sel>{h.name}</option> }
                        }).collect_view()}
                        {(!host_known).then(|| view! { <option value=filters.host.clone() selected=true>{filters.host.clone()}</option> })}
                    </select>
                </label>
                <label class="field">
                    <span>"State"</span>
                    <select name="state" on:change=submit>
                        {states.into_iter().map(|(v, l)| view! { <option value=v selected=filters.state == v>{l}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field filter-text">
                    <span>"Name or image"</span>
                    <input type="search" name="q" value=filters.q.clone() placeholder="web, nginx…" autocomplete="off" />
                </label>
                <label class="field">
                    <span>"Label"</span>
                    <input type="search" name="label" class="mono" value=filters.label.clone() placeholder="key or key=value" autocomplete="off" />
                </label>
                <label class="field">
                    <span>"Health"</span>
                    <select name="health" on:change=submit>
                        {healths.into_iter().map(|(v, l)| view! { <option value=v selected=filters.health == v>{l}</option> }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"From image"</span>
                    <input type="search" name="ancestor" class="mono" value=filters.ancestor.clone() placeholder="nginx:1.27" autocomplete="off" />
                </label>
                <label class="field">
                    <span>"Sort"</span>
                    <select name="sort" on:change=submit>
                        {sorts.into_iter().map(|(v, l)| view! { <option value=v selected=filters.sort == v>{l}</option> }).collect_view()}
                    </select>
                </label>
                <div class="filter-actions">
                    <button type="submit" class="button">"Apply"</button>
                    {filters.any().then(|| view! { <a class="button button-quiet" href="/containers">"Clear"</a> })}
                </div>
            </div>
        </Form>
    }
}

#[component]
fn NoContainers(filtered: bool, can_run: bool) -> impl IntoView {
    view! {
        <div class="empty" data-testid="containers-empty">
            {if filtered {
                view! {
                    <h2>"No containers match these filters"</h2>
                    <p><a href="/containers">"Clear the filters"</a> " to see every container."</p>
                }
                .into_any()
            } else {
                view! {
                    <h2>"No containers yet"</h2>
                    {if can_run {
                        view! { <p><a href="/run">"Run a container"</a> " — pick an image, a name and ports, like docker run."</p> }.into_any()
                    } else {
                        view! { <p>"Nothing runs on the hosts you can see. Ask a manager of a host to run one."</p> }.into_any()
                    }}
                }
                .into_any()
            }}
        </div>
    }
}

/// The bar that appears when containers are ticked: what may be done to all of them.
#[component]
fn BulkBar(
    selected: RwSignal<BTreeSet<Target>>,
    roles: BTreeMap<String, RoleView>,
    busy: RwSignal<bool>,
    run: impl Fn(Lifecycle, bool) + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let roles = StoredValue::new(roles);
    let allowed = move |action: Lifecycle| {
        let sel = selected.get();
        !sel.is_empty()
            && sel.iter().all(|t| {
                role_at_least(
                    roles.with_value(|r| r.get(&t.host).copied()),
                    action.needs(),
                )
            })
    };
    let confirming = RwSignal::new(false);
    let force = RwSignal::new(false);
    let names = move || {
        selected
            .get()
            .iter()
            .map(|t| format!("{} on {}", t.name, t.host))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let button = move |action: Lifecycle, label: &'static str| {
        view! {
            <Show when=move || allowed(action)>
                <button type="button" class="button" prop:disabled=move || busy.get() on:click=move |_| run(action, false)>{label}</button>
            </Show>
        }
    };
    view! {
        <Show when=move || !selected.get().is_empty()>
            <div class="bulk-bar" role="region" aria-label="Selected containers" data-testid="bulk-bar">
                <span class="strong">{move || format!("{} selected", selected.get().len())}</span>
                {button(Lifecycle::Start, "Start")}
                {button(Lifecycle::Stop, "Stop")}
                {button(Lifecycle::Restart, "Restart")}
                <Show when=move || allowed(Lifecycle::Remove)>
                    <Show
                        when=move || confirming.get()
                        fallback=move || view! { <button type="button" class="button button-danger-quiet" on:click=move |_| confirming.set(true)>"Remove"</button> }
                    >
                        <span class="confirm bulk-confirm" role="group">
                            <span class="confirm-question">{move || format!("Remove {}?", names())}</span>
                            <label class="check check-inline">
                                <input type="checkbox" prop:checked=move || force.get() on:change=move |ev| force.set(event_target_checked(&ev)) />
                                <span>"Stop running ones first (force)"</span>
                            </label>
                            <button type="button" class="button button-danger" prop:disabled=move || busy.get()
                                on:click=move |_| { confirming.set(false); run(Lifecycle::Remove, force.get_untracked()); }>"Remove"</button>
                            <button type="button" class="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        </span>
                    </Show>
                </Show>
                <button type="button" class="button button-quiet" on:click=move |_| selected.set(BTreeSet::new())>"Clear selection"</button>
                {move || busy.get().then(|| view! { <span class="muted" role="status">"Working…"</span> })}
            </div>
        </Show>
    }
}

/// What the last bulk action did, in words ("Stopped web-1 and db"), with each failure named.
#[component]
fn OutcomeNotice(outcome: RwSignal<LastBulk>) -> impl IntoView {
    view! {
        <div aria-live="polite" data-testid="bulk-outcome">
            {move || outcome.get().map(|(action, result)| match result {
                Err(e) => view! { <div class="notice notice-bad" role="alert">{e.to_string()}</div> }.into_any(),
                Ok(list) => {
                    let ok: Vec<String> = list.iter().filter(|o| o.error.is_none()).map(|o| o.name.clone()).collect();
                    let failed: Vec<Outcome> = list.into_iter().filter(|o| o.error.is_some()).collect();
                    view! {
                        {(!ok.is_empty()).then(|| view! { <div class="notice notice-good" role="status">{format!("{} {}.", action.done(), ok.join(", "))}</div> })}
                        {(!failed.is_empty()).then(|| view! {
                            <div class="notice notice-bad" role="alert">
                                <ul class="plain-list">
                                    {failed.into_iter().map(|o| view! {
                                        <li><strong>{format!("{} on {}: ", o.name, o.host)}</strong>{o.error.unwrap_or_default()}</li>
                                    }).collect_view()}
                                </ul>
                            </div>
                        })}
                    }
                    .into_any()
                }
            })}
        </div>
    }
}

#[component]
fn ContainersTable(
    rows: Option<(Vec<ContainerSummary>, Vec<HostChoice>)>,
    filters: Filters,
    selected: RwSignal<BTreeSet<Target>>,
    usage: RwSignal<UsageMap>,
) -> impl IntoView {
    let sort_link = |key: &'static str, label: &'static str| {
        let current = if filters.sort.is_empty() {
            "name"
        } else {
            filters.sort.as_str()
        };
        let active = current == key;
        let href = filters.href_with("sort", if key == "name" { "" } else { key });
        view! {
            <a class="sort-link" href=href aria-sort=if active { "descending" } else { "none" } class:active=active>
                {label}{active.then_some(" ▾")}
            </a>
        }
    };
    let (body, all_targets) = match rows {
        None => (
            view! { <SkeletonRows rows=3 cols=COLUMNS /> }.into_any(),
            Vec::new(),
        ),
        Some((list, hosts)) => {
            let hosts: BTreeMap<String, HostChoice> =
                hosts.into_iter().map(|h| (h.slug.clone(), h)).collect();
            let targets: Vec<Target> = list
                .iter()
                .map(|c| Target {
                    host: c.host.clone(),
                    id: c.id.clone(),
                    name: c.name.clone(),
                })
                .collect();
            let body = list
                .into_iter()
                .map(|c| {
                    let h = hosts.get(&c.host).cloned();
                    view! { <ContainerRow c host=h selected usage /> }
                })
                .collect_view()
                .into_any();
            (body, targets)
        }
    };
    let all = StoredValue::new(all_targets);
    let all_checked = move || {
        let sel = selected.get();
        all.with_value(|a| !a.is_empty() && a.iter().all(|t| sel.contains(t)))
    };
    view! {
        <div class="table-wrap">
            <table class="table table-cards containers-table" aria-label="Containers">
                <thead>
                    <tr>
                        <th scope="col" class="select-cell">
                            <input type="checkbox" aria-label="Select all shown containers"
                                prop:checked=all_checked
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    selected.update(|s| all.with_value(|a| for t in a {
                                        if on { s.insert(t.clone()); } else { s.remove(t); }
                                    }));
                                } />
                        </th>
                        <th scope="col">{sort_link("name", "Name")}</th>
                        <th scope="col">"Host"</th>
                        <th scope="col">{sort_link("state", "State")}</th>
                        <th scope="col">"Image"</th>
                        <th scope="col">"Ports"</th>
                        <th scope="col" class="usage-col">"CPU / memory"</th>
                        <th scope="col" class="num">{sort_link("created", "Created")}</th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[component]
fn ContainerRow(
    c: ContainerSummary,
    host: Option<HostChoice>,
    selected: RwSignal<BTreeSet<Target>>,
    usage: RwSignal<UsageMap>,
) -> impl IntoView {
    let usage_view = if c.state == "running" {
        let key = (c.host.clone(), c.id.clone());
        view! { {move || usage.with(|m| usage_cell(m.get(&key)))} }.into_any()
    } else {
        view! { <span class="muted">"—"</span> }.into_any()
    };
    let target = Target {
        host: c.host.clone(),
        id: c.id.clone(),
        name: c.name.clone(),
    };
    let t1 = target.clone();
    let checked = move || selected.with(|s| s.contains(&t1));
    let href = container_href(&c.host, &c.id);
    let host_name = host
        .as_ref()
        .map_or_else(|| c.host.clone(), |h| h.name.clone());
    let address = host.and_then(|h| h.address);
    let ports = if c.ports.is_empty() {
        view! { <span class="muted">"—"</span> }.into_any()
    } else {
        view! { <span class="ports">{port_views(&c.ports, address.as_deref())}</span> }.into_any()
    };
    let label = format!("Select {}", c.name);
    view! {
        <tr data-container=c.name.clone() data-host=c.host.clone()>
            <td class="select-cell">
                <input type="checkbox" aria-label=label prop:checked=checked
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        let t = target.clone();
                        selected.update(|s| { if on { s.insert(t); } else { s.remove(&t); } });
                    } />
            </td>
            <td data-label="Name" class="cell-primary">
                <a class="strong host-link" href=href>{c.name.clone()}</a>
                <div class="mono muted small" title=c.id.clone()>
                    {short_id(&c.id)}
                    {c.compose_project.clone().map(|p| view! { <span class="chip" title="docker compose project">{p}</span> })}
                </div>
            </td>
            <td data-label="Host"><a href=format!("/hosts/{}", encode(&c.host))>{host_name}</a></td>
            <td data-label="State">
                <div class="stack">
                    <div>{state_badge(&c.state, c.health.as_deref())}</div>
                    <div class="muted small">{c.status.clone()}</div>
                </div>
            </td>
            <td data-label="Image" class="mono small cell-words" title=c.image_id.clone()><ImageRef name=c.image.clone() /></td>
            <td data-label="Ports">{ports}</td>
            <td data-label="CPU / memory" class="usage-col">{usage_view}</td>
            <td data-label="Created" class="num small" title=c.created.to_string()>{format::datetime(c.created)}</td>
        </tr>
    }
}
