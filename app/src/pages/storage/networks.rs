//! `/networks`: the networks of every host the caller may see; create, remove, connect and
//! disconnect a container, prune.

// `create_network` takes the form's eight fields as arguments (a server fn's arguments are its
// form fields); the browser half the `server` macro generates cannot carry an item-level allow.
#![allow(clippy::too_many_arguments)]

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::badge::{Badge, Tone};
use crate::components::confirm::Confirm;
use crate::components::page::SkeletonRows;
use crate::error::AppError;
use crate::format;
use crate::format::short_id;
use crate::model::storage::{NetworkView, Pruned};
use crate::pages::storage::common::{
    act, filtered_rows, reset_on_success, storage_hosts, FormResult, HostSelect, Outcome,
    PrunePanel, StorageHost, StorageList, StorageListPage, StorageTable,
};
use crate::routes::encode;

pub type NetworksData = StorageList<NetworkView>;

const COLUMNS: &[(&str, bool)] = &[
    ("Name", false),
    ("Host", false),
    ("Driver", false),
    ("Subnet / gateway", false),
    ("Containers", false),
];

/// A container one could attach: id and name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContainerChoice {
    pub id: String,
    pub name: String,
}

#[server(output = crate::codec::TextJson)]
pub async fn list_networks() -> Result<NetworksData, AppError> {
    let c = crate::ssr::caller()?;
    let list: crate::model::storage::FleetNetworks = crate::ssr::ops()?.networks(&c).await.into();
    Ok(StorageList {
        items: list.networks,
        unreachable: list.unreachable,
        hosts: crate::pages::storage::common::visible_hosts(&c.who, &crate::ssr::fleet()?),
    })
}

/// The host's containers (running or not), for the connect select.
#[server(output = crate::codec::TextJson)]
pub async fn host_containers(host: String) -> Result<Vec<ContainerChoice>, AppError> {
    let c = crate::ssr::caller()?;
    let params = crate::model::containers::ContainerListParams {
        all: Some("true".into()),
        ..Default::default()
    };
    let (list, _) = crate::ssr::ops()?
        .containers_on(&c, &host, &params.to_query()?)
        .await?;
    Ok(list
        .into_iter()
        .map(|c| ContainerChoice {
            id: c.id,
            name: c.name,
        })
        .collect())
}

#[server(output = crate::codec::TextJson)]
pub async fn create_network(
    host: String,
    name: String,
    driver: String,
    subnet: String,
    gateway: String,
    internal: Option<String>,
    attachable: Option<String>,
    labels: String,
) -> Result<NetworkView, AppError> {
    let c = crate::ssr::caller()?;
    let some = |s: String| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let request = crate::model::storage::CreateNetworkRequest {
        name: name.trim().to_string(),
        driver: some(driver),
        subnet: some(subnet),
        gateway: some(gateway),
        internal: internal.is_some(),
        attachable: attachable.is_some(),
        labels: crate::pages::storage::common::parse_pairs("labels", &labels)
            .map_err(AppError::respond)?,
        options: Default::default(),
    };
    let created = crate::ssr::ops()?
        .create_network(&c, &host, &request.into())
        .await?;
    Ok(NetworkView::new(host, created))
}

#[server(output = crate::codec::TextJson)]
pub async fn remove_network(host: String, id: String) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.remove_network(&c, &host, &id).await?)
}

/// Connects (`connect = true`) or disconnects a container.
#[server(output = crate::codec::TextJson)]
pub async fn attach_container(
    host: String,
    network: String,
    container: String,
    connect: bool,
) -> Result<(), AppError> {
    use backend::ops::storage::Attach;
    let c = crate::ssr::caller()?;
    let how = if connect {
        Attach::Connect { aliases: vec![] }
    } else {
        Attach::Disconnect { force: false }
    };
    Ok(crate::ssr::ops()?
        .attach(&c, (&host, &network), &container, &how)
        .await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn prune_networks(host: String) -> Result<Pruned, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.prune_networks(&c, &host, None).await?)
}

#[component]
pub fn NetworksPage() -> impl IntoView {
    let create = ServerAction::<CreateNetwork>::new();
    let version = RwSignal::new(0u32);
    let data = Resource::new(
        move || (version.get(), create.version().get()),
        |_| list_networks(),
    );
    let hosts = Resource::new(|| (), |_| storage_hosts());
    let outcome: Outcome = RwSignal::new(None);
    let text = RwSignal::new(String::new());
    let refresh = move || version.update(|n| *n += 1);
    let summary = |d: &NetworksData| {
        let attached: usize = d.items.iter().map(|n| n.containers.len()).sum();
        format!(
            "{} · {} attached",
            format::plural(d.items.len(), "network", "networks"),
            format::plural(attached, "container", "containers")
        )
    };
    let panels = move |hosts: Vec<StorageHost>| {
        view! {
            <CreateNetworkForm hosts=hosts.clone() create />
            <PrunePanel id="prune-networks-title" title="Prune unused networks"
                hint="Removes networks no container uses, like docker network prune."
                hosts
                question=|host| format!("Remove every unused network on {host}?")
                prune=prune_networks
                done=|p| if p.deleted.is_empty() { "Nothing to prune.".to_string() } else { format!("Pruned {}.", p.deleted.join(", ")) }
                outcome on_done=refresh />
        }
        .into_any()
    };
    let table = move |rows: Option<NetworksData>| networks_table(rows, text, outcome, refresh);
    view! {
        <StorageListPage title="Networks" noun="networks" data hosts outcome outcome_testid="networks-outcome"
            text filter_placeholder="backend, bridge…" summary panels table on_refresh=refresh />
    }
}

#[component]
fn CreateNetworkForm(
    hosts: Vec<StorageHost>,
    create: ServerAction<CreateNetwork>,
) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let form = NodeRef::<leptos::html::Form>::new();
    let result = Signal::derive(move || {
        create.value().get().map(|r| {
            r.map(|n| format!("Created network {} on {}.", n.name, n.host))
                .map_err(|e| e.to_string())
        })
    });
    reset_on_success(form, result);
    view! {
        <section class="panel" aria-labelledby="new-network-title">
            <h2 id="new-network-title">"Create a network"</h2>
            <ActionForm action=create node_ref=form>
                <div class="form-grid">
                    <HostSelect hosts value=host label="Host" />
                    <label class="field">
                        <span>"Name"</span>
                        <input name="name" class="mono" required maxlength="255" autocomplete="off" placeholder="backend" />
                    </label>
                    <label class="field">
                        <span>"Driver"</span>
                        <input name="driver" class="mono" placeholder="bridge" autocomplete="off" />
                    </label>
                    <label class="field">
                        <span>"Subnet"</span>
                        <input name="subnet" class="mono" placeholder="10.42.0.0/24" autocomplete="off" />
                    </label>
                    <label class="field">
                        <span>"Gateway"</span>
                        <input name="gateway" class="mono" placeholder="10.42.0.1" autocomplete="off" />
                    </label>
                    <label class="field">
                        <span>"Labels (key=value per line)"</span>
                        <textarea name="labels" class="mono" rows="2" placeholder="team=web"></textarea>
                    </label>
                </div>
                <div class="form-actions">
                    <label class="check">
                        <input type="checkbox" name="internal" value="on" />
                        <span>"Internal (no outside access)"</span>
                    </label>
                    <label class="check">
                        <input type="checkbox" name="attachable" value="on" />
                        <span>"Attachable"</span>
                    </label>
                    <button type="submit" class="button button-primary" prop:disabled=move || create.pending().get()>"Create network"</button>
                </div>
            </ActionForm>
            <FormResult result testid="create-network-result" />
        </section>
    }
}

fn networks_table(
    rows: Option<NetworksData>,
    text: RwSignal<String>,
    outcome: Outcome,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> AnyView {
    let body = match rows {
        None => view! { <SkeletonRows rows=3 cols=COLUMNS.len() + 1 /> }.into_any(),
        Some(d) => filtered_rows(
            d,
            text,
            |n: &NetworkView| (n.host.as_str(), n.name.as_str()),
            move |n, host_name, manage| view! { <NetworkRow n host_name manage outcome on_change /> },
        ),
    };
    view! { <StorageTable label="Networks" columns=COLUMNS body /> }.into_any()
}

#[component]
fn NetworkRow(
    n: NetworkView,
    host_name: String,
    manage: bool,
    outcome: Outcome,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let question = format!("Remove network {} on {host_name}?", n.name);
    let (host, id, name) = (n.host.clone(), n.id.clone(), n.name.clone());
    let remove = {
        let (host, id, name) = (host.clone(), id.clone(), name.clone());
        move || {
            let label = name.clone();
            act(
                outcome,
                remove_network(host.clone(), id.clone()),
                move |()| format!("Removed network {label}."),
                on_change,
            );
        }
    };
    let subnets = if n.subnets.is_empty() {
        view! { <span class="muted">"—"</span> }.into_any()
    } else {
        view! {
            <span class="stack mono small">
                {n.subnets.iter().map(|s| view! {
                    <span>{s.subnet.clone()}{s.gateway.clone().map(|g| format!(" via {g}"))}</span>
                }).collect_view()}
            </span>
        }
        .into_any()
    };
    let attached = n.containers.clone();
    let (h2, id2, name2) = (host.clone(), id.clone(), name.clone());
    let detach = move |container: String, cname: String| {
        let label = format!("Disconnected {cname} from {}.", name2);
        act(
            outcome,
            attach_container(h2.clone(), id2.clone(), container, false),
            move |()| label,
            on_change,
        );
    };
    let detach = StoredValue::new(detach);
    let containers = if attached.is_empty() {
        view! { <span class="muted">"—"</span> }.into_any()
    } else {
        let host = host.clone();
        view! {
            <ul class="plain-list">
                {attached.into_iter().map(|c| {
                    let href = format!("/hosts/{}/containers/{}", encode(&host), encode(&c.id));
                    let (cid, cname) = (c.id.clone(), c.name.clone());
                    let label = format!("Disconnect {} from {}", c.name, name);
                    view! {
                        <li>
                            <a href=href>{c.name.clone()}</a>
                            {c.ipv4.clone().map(|ip| view! { <span class="mono small muted">{format!(" {ip}")}</span> })}
                            {manage.then(|| view! {
                                <button type="button" class="link-button" aria-label=label
                                    on:click=move |_| detach.with_value(|f| f(cid.clone(), cname.clone()))>"disconnect"</button>
                            })}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let connecting = RwSignal::new(false);
    view! {
        <tr data-network=n.name.clone() data-host=n.host.clone()>
            <td data-label="Name" class="cell-primary">
                <div class="strong mono cell-wrap">{n.name.clone()}</div>
                <div class="small muted mono" title=n.id.clone()>
                    {short_id(&n.id)}
                    {n.builtin.then(|| view! { <span class="chip">"built in"</span> })}
                </div>
            </td>
            <td data-label="Host">{host_name}</td>
            <td data-label="Driver">
                <div class="stack">
                    <span>{n.driver.clone()}<span class="chip">{n.scope.clone()}</span></span>
                    <span class="badges">
                        {n.internal.then(|| view! { <Badge tone=Tone::Warn label="internal" /> })}
                        {n.attachable.then(|| view! { <Badge tone=Tone::Info label="attachable" /> })}
                    </span>
                </div>
            </td>
            <td data-label="Subnet / gateway">{subnets}</td>
            <td data-label="Containers">{containers}</td>
            <td class="actions">
                {(manage && n.driver != "host" && n.driver != "null").then(|| view! {
                    <Show when=move || connecting.get()
                        fallback=move || view! { <button type="button" class="button button-quiet" on:click=move |_| connecting.set(true)>"Connect…"</button> }>
                        <ConnectForm host=host.clone() network=id.clone() name=name.clone() outcome on_change done=move || connecting.set(false) />
                    </Show>
                })}
                {(manage && !n.builtin).then(|| view! { <Confirm label="Remove" question=question.clone() on_yes=remove.clone() /> })}
            </td>
        </tr>
    }
}

#[component]
fn ConnectForm(
    host: String,
    network: String,
    name: String,
    outcome: Outcome,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
    done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let choices = Resource::new(
        {
            let host = host.clone();
            move || host.clone()
        },
        host_containers,
    );
    let chosen = RwSignal::new(String::new());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let container = chosen.get_untracked();
        if container.is_empty() {
            return;
        }
        let label = format!("Connected {container} to {name}.");
        act(
            outcome,
            attach_container(host.clone(), network.clone(), container, true),
            move |()| label,
            on_change,
        );
        done();
    };
    view! {
        <form class="confirm" on:submit=submit>
            <Suspense fallback=|| view! { <span class="muted small">"Loading containers…"</span> }>
                {move || Suspend::new(async move {
                    match choices.await {
                        Ok(list) if list.is_empty() => view! { <span class="muted small">"No containers on this host."</span> }.into_any(),
                        Ok(list) => {
                            if let Some(first) = list.first() {
                                chosen.set(first.name.clone());
                            }
                            view! {
                                <select aria-label="Container to connect" on:change=move |ev| chosen.set(event_target_value(&ev))>
                                    {list.into_iter().map(|c| view! { <option value=c.name.clone()>{c.name.clone()}</option> }).collect_view()}
                                </select>
                            }.into_any()
                        }
                        Err(e) => view! { <span class="form-error">{e.to_string()}</span> }.into_any(),
                    }
                })}
            </Suspense>
            <button type="submit" class="button">"Connect"</button>
            <button type="button" class="button" on:click=move |_| done()>"Cancel"</button>
        </form>
    }
}
