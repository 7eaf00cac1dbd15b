//! `/volumes`: the volumes of every host the caller may see; create, remove (an in-use volume
//! is refused with the containers named) and prune.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::page::{ErrorNotice, PageHeader, SkeletonRows};
use crate::error::AppError;
use crate::format;
use crate::model::storage::{HostNotice, PruneResult, VolumeView};
use crate::pages::account::Confirm;
use crate::pages::images::{
    act, encode, rfc3339_short, HostNotices, HostSelect, Outcome, OutcomeNotice, StorageHost,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumesData {
    pub volumes: Vec<VolumeView>,
    pub unreachable: Vec<HostNotice>,
    pub hosts: Vec<StorageHost>,
}

#[server]
pub async fn list_volumes() -> Result<VolumesData, AppError> {
    let who = crate::ssr::principal()?;
    let fleet = crate::ssr::fleet()?;
    let list: crate::model::storage::FleetVolumes =
        backend::storage::volumes(&fleet, &who).await.into();
    Ok(VolumesData {
        volumes: list.volumes,
        unreachable: list.unreachable,
        hosts: crate::pages::images::visible_hosts(&who, &fleet),
    })
}

#[server]
pub async fn create_volume(
    host: String,
    name: String,
    driver: String,
    driver_opts: String,
    labels: String,
) -> Result<VolumeView, AppError> {
    use backend::policy::{authorize, HostAction};
    let who = crate::ssr::principal()?;
    authorize(&who, &host, HostAction::ManageStorage)?;
    let request = crate::model::storage::CreateVolumeRequest {
        name: name.trim().to_string(),
        driver: Some(driver.trim().to_string()).filter(|d| !d.is_empty()),
        driver_opts: crate::pages::images::parse_pairs("driver_opts", &driver_opts)
            .map_err(AppError::respond)?,
        labels: crate::pages::images::parse_pairs("labels", &labels).map_err(AppError::respond)?,
    };
    let h = crate::ssr::fleet()?.host(&host)?;
    let created = h.engine.create_volume(&request.into()).await?;
    tracing::info!(by = %who.username, host, volume = %created.name, "volume created");
    Ok(VolumeView::new(h.slug.clone(), created))
}

#[server]
pub async fn remove_volume(host: String, name: String) -> Result<(), AppError> {
    use backend::policy::{authorize, HostAction};
    let who = crate::ssr::principal()?;
    authorize(&who, &host, HostAction::ManageStorage)?;
    let h = crate::ssr::fleet()?.host(&host)?;
    h.engine.remove_volume(&name, false).await?;
    tracing::info!(by = %who.username, host, volume = %name, "volume removed");
    Ok(())
}

#[server]
pub async fn prune_volumes(host: String) -> Result<PruneResult, AppError> {
    use backend::policy::{authorize, HostAction};
    let who = crate::ssr::principal()?;
    authorize(&who, &host, HostAction::ManageStorage)?;
    let h = crate::ssr::fleet()?.host(&host)?;
    let pruned = h.engine.prune_volumes(None).await?;
    tracing::info!(by = %who.username, host, count = pruned.deleted.len(), "volumes pruned");
    Ok(pruned.into())
}

#[component]
pub fn VolumesPage() -> impl IntoView {
    let create = ServerAction::<CreateVolume>::new();
    let version = RwSignal::new(0u32);
    let data = Resource::new(
        move || (version.get(), create.version().get()),
        |_| list_volumes(),
    );
    let hosts = Resource::new(|| (), |_| crate::pages::images::storage_hosts());
    let outcome: Outcome = RwSignal::new(None);
    let text = RwSignal::new(String::new());
    let refresh = move || version.update(|n| *n += 1);
    view! {
        <PageHeader title="Volumes">
            <button type="button" class="button" on:click=move |_| refresh()>"Refresh"</button>
        </PageHeader>
        <Transition fallback=|| view! { <p class="page-summary muted">"Loading volumes…"</p> }>
            {move || Suspend::new(async move {
                data.await.ok().map(|d| {
                    let used = d.volumes.iter().filter(|v| !v.containers.is_empty()).count();
                    view! {
                        <p class="page-summary">{format!("{} · {} in use", format::plural(d.volumes.len(), "volume", "volumes"), used)}</p>
                    }
                })
            })}
        </Transition>
        <OutcomeNotice outcome testid="volumes-outcome" />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let hosts = hosts.await.unwrap_or_default();
                hosts.iter().any(StorageHost::manages).then(|| view! {
                    <div class="panels">
                        <CreateVolumeForm hosts=hosts.clone() create />
                        <PruneVolumes hosts outcome on_done=refresh />
                    </div>
                })
            })}
        </Transition>
        <div class="filter-bar" role="search" aria-label="Filter volumes">
            <label class="field filter-text">
                <span>"Name"</span>
                <input type="search" placeholder="data, cache…" autocomplete="off"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            </label>
        </div>
        <Transition fallback=move || view! { <VolumesTable rows=None text outcome on_change=refresh /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! {
                        <HostNotices list=d.unreachable.clone() />
                        <VolumesTable rows=Some(d) text outcome on_change=refresh />
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn CreateVolumeForm(hosts: Vec<StorageHost>, create: ServerAction<CreateVolume>) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(f)) = (create.value().get(), form.get()) {
            f.reset();
        }
    });
    let result = move || {
        match create.value().get() {
        Some(Ok(v)) => Some(view! { <p class="form-ok" role="status">{format!("Created volume {} on {}.", v.name, v.host)}</p> }.into_any()),
        Some(Err(e)) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
        None => None,
    }
    };
    view! {
        <section class="panel" aria-labelledby="new-volume-title">
            <h2 id="new-volume-title">"Create a volume"</h2>
            <ActionForm action=create node_ref=form>
                <div class="form-grid">
                    <HostSelect hosts value=host label="Host" />
                    <label class="field">
                        <span>"Name"</span>
                        <input name="name" class="mono" required maxlength="255" autocomplete="off" placeholder="app-data" />
                    </label>
                    <label class="field">
                        <span>"Driver"</span>
                        <input name="driver" class="mono" placeholder="local" autocomplete="off" />
                    </label>
                </div>
                <div class="form-grid">
                    <label class="field">
                        <span>"Driver options (key=value per line)"</span>
                        <textarea name="driver_opts" class="mono" rows="3" placeholder="type=tmpfs\ndevice=tmpfs"></textarea>
                    </label>
                    <label class="field">
                        <span>"Labels (key=value per line)"</span>
                        <textarea name="labels" class="mono" rows="3" placeholder="team=web"></textarea>
                    </label>
                </div>
                <div class="form-actions">
                    <button type="submit" class="button button-primary" prop:disabled=move || create.pending().get()>"Create volume"</button>
                </div>
            </ActionForm>
            <div aria-live="polite" data-testid="create-volume-result">{result}</div>
        </section>
    }
}

#[component]
fn PruneVolumes(
    hosts: Vec<StorageHost>,
    outcome: Outcome,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let host = RwSignal::new(String::new());
    view! {
        <section class="panel" aria-labelledby="prune-volumes-title">
            <h2 id="prune-volumes-title">"Prune unused volumes"</h2>
            <p class="muted small">"Removes volumes no container uses, like docker volume prune (newer engines prune anonymous volumes only)."</p>
            <div class="inline-form">
                <HostSelect hosts value=host label="Host" />
                {move || {
                    let question = format!("Remove every unused volume on {}? Their data is lost.", host.get());
                    view! {
                        <Confirm label="Prune" question on_yes=move || {
                            act(outcome, prune_volumes(host.get_untracked()), |p: PruneResult| {
                                format!("Pruned {} — {} reclaimed.", format::plural(p.deleted.len(), "volume", "volumes"), format::bytes(p.space_reclaimed))
                            }, on_done);
                        } />
                    }
                }}
            </div>
        </section>
    }
}

#[component]
fn VolumesTable(
    rows: Option<VolumesData>,
    text: RwSignal<String>,
    outcome: Outcome,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let body = match rows {
        None => view! { <SkeletonRows rows=3 cols=8 /> }.into_any(),
        Some(d) if d.volumes.is_empty() => view! {
            <tr><td colspan="8">
                <div class="empty" data-testid="volumes-empty">
                    <h2>"No volumes yet"</h2>
                    <p>"Create one above, or run a container that declares one."</p>
                </div>
            </td></tr>
        }
        .into_any(),
        Some(d) => {
            let hosts = d.hosts;
            d.volumes
                .into_iter()
                .map(|v| {
                    let host = hosts.iter().find(|h| h.slug == v.host);
                    let host_name = host.map_or_else(|| v.host.clone(), |h| h.name.clone());
                    let manage = host.is_some_and(StorageHost::manages);
                    let name = v.name.to_lowercase();
                    let visible = move || {
                        let t = text.get().trim().to_lowercase();
                        t.is_empty() || name.contains(&t)
                    };
                    view! {
                        <Show when=visible.clone()>
                            <VolumeRow v=v.clone() host_name=host_name.clone() manage outcome on_change />
                        </Show>
                    }
                })
                .collect_view()
                .into_any()
        }
    };
    view! {
        <div class="table-wrap">
            <table class="table table-cards" aria-label="Volumes">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Host"</th>
                        <th scope="col">"Driver"</th>
                        <th scope="col">"Mountpoint"</th>
                        <th scope="col" class="num">"Size"</th>
                        <th scope="col">"Used by"</th>
                        <th scope="col" class="num">"Created"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[component]
fn VolumeRow(
    v: VolumeView,
    host_name: String,
    manage: bool,
    outcome: Outcome,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let question = format!("Remove volume {} on {host_name}? Its data is lost.", v.name);
    let (host, name) = (v.host.clone(), v.name.clone());
    let remove = move || {
        let label = name.clone();
        act(
            outcome,
            remove_volume(host.clone(), name.clone()),
            move |()| format!("Removed volume {label}."),
            on_change,
        );
    };
    let used_by = if v.containers.is_empty() {
        view! { <span class="muted">"—"</span> }.into_any()
    } else {
        let host = v.host.clone();
        view! {
            <span class="stack">
                {v.containers.iter().map(|c| {
                    let href = format!("/hosts/{}/containers/{}", encode(&host), encode(c));
                    view! { <a href=href>{c.clone()}</a> }
                }).collect_view()}
            </span>
        }
        .into_any()
    };
    let labels: Vec<String> = v
        .labels
        .iter()
        .map(|(k, val)| format!("{k}={val}"))
        .collect();
    view! {
        <tr data-volume=v.name.clone() data-host=v.host.clone()>
            <td data-label="Name" class="cell-primary">
                <div class="strong mono cell-wrap">{v.name.clone()}</div>
                {(!labels.is_empty()).then(|| view! { <div class="small muted mono cell-wrap">{labels.join(" ")}</div> })}
            </td>
            <td data-label="Host">{host_name}</td>
            <td data-label="Driver">{v.driver.clone()}<span class="chip">{v.scope.clone()}</span></td>
            <td data-label="Mountpoint" class="mono small cell-wrap">{v.mountpoint.clone()}</td>
            <td data-label="Size" class="num">{v.size.map(format::bytes).unwrap_or_else(|| "—".into())}</td>
            <td data-label="Used by">{used_by}</td>
            <td data-label="Created" class="num small">{rfc3339_short(v.created.as_deref())}</td>
            <td class="actions">
                {manage.then(|| view! { <Confirm label="Remove" question=question.clone() on_yes=remove.clone() /> })}
            </td>
        </tr>
    }
}
