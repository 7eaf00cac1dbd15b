//! `/volumes`: the volumes of every host the caller may see; create, remove (an in-use volume
//! is refused with the containers named) and prune.

use leptos::prelude::*;

use crate::components::confirm::Confirm;
use crate::components::page::SkeletonRows;
use crate::error::AppError;
use crate::format;
use crate::model::storage::{Pruned, VolumeView};
use crate::pages::storage::common::{
    act, filtered_rows, reset_on_success, rfc3339_short, storage_hosts, FormResult, HostSelect,
    Outcome, PrunePanel, StorageHost, StorageList, StorageListPage, StorageTable,
};
use crate::routes::encode;

pub type VolumesData = StorageList<VolumeView>;

const COLUMNS: &[(&str, bool)] = &[
    ("Name", false),
    ("Host", false),
    ("Driver", false),
    ("Mountpoint", false),
    ("Size", true),
    ("Used by", false),
    ("Created", true),
];

#[server(output = crate::codec::TextJson)]
pub async fn list_volumes() -> Result<VolumesData, AppError> {
    let c = crate::ssr::caller()?;
    let list: crate::model::storage::FleetVolumes = crate::ssr::ops()?.volumes(&c).await.into();
    Ok(StorageList {
        items: list.volumes,
        unreachable: list.unreachable,
        hosts: crate::pages::storage::common::visible_hosts(&c.who, &crate::ssr::fleet()?),
    })
}

#[server(output = crate::codec::TextJson)]
pub async fn create_volume(
    host: String,
    name: String,
    driver: String,
    driver_opts: String,
    labels: String,
) -> Result<VolumeView, AppError> {
    use crate::pages::storage::common::parse_pairs;
    let c = crate::ssr::caller()?;
    let request = crate::model::storage::CreateVolumeRequest {
        name: name.trim().to_string(),
        driver: Some(driver.trim().to_string()).filter(|d| !d.is_empty()),
        driver_opts: parse_pairs("driver_opts", &driver_opts).map_err(AppError::respond)?,
        labels: parse_pairs("labels", &labels).map_err(AppError::respond)?,
    };
    let created = crate::ssr::ops()?
        .create_volume(&c, &host, &request.into())
        .await?;
    Ok(VolumeView::new(host, created))
}

#[server(output = crate::codec::TextJson)]
pub async fn remove_volume(host: String, name: String) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .remove_volume(&c, &host, &name, false)
        .await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn prune_volumes(host: String) -> Result<Pruned, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.prune_volumes(&c, &host, None).await?)
}

#[component]
pub fn VolumesPage() -> impl IntoView {
    let create = ServerAction::<CreateVolume>::new();
    let version = RwSignal::new(0u32);
    let data = Resource::new(
        move || (version.get(), create.version().get()),
        |_| list_volumes(),
    );
    let hosts = Resource::new(|| (), |_| storage_hosts());
    let outcome: Outcome = RwSignal::new(None);
    let text = RwSignal::new(String::new());
    let refresh = move || version.update(|n| *n += 1);
    let summary = |d: &VolumesData| {
        let used = d.items.iter().filter(|v| !v.containers.is_empty()).count();
        format!(
            "{} · {} in use",
            format::plural(d.items.len(), "volume", "volumes"),
            used
        )
    };
    let panels = move |hosts: Vec<StorageHost>| {
        view! {
            <CreateVolumeForm hosts=hosts.clone() create />
            <PrunePanel id="prune-volumes-title" title="Prune unused volumes"
                hint="Removes volumes no container uses, like docker volume prune (newer engines prune anonymous volumes only)."
                hosts
                question=|host| format!("Remove every unused volume on {host}? Their data is lost.")
                prune=prune_volumes
                done=|p| format!("Pruned {} — {} reclaimed.", format::plural(p.deleted.len(), "volume", "volumes"), format::bytes(p.space_reclaimed))
                outcome on_done=refresh />
        }
        .into_any()
    };
    let table = move |rows: Option<VolumesData>| volumes_table(rows, text, outcome, refresh);
    view! {
        <StorageListPage title="Volumes" noun="volumes" data hosts outcome outcome_testid="volumes-outcome"
            text filter_placeholder="data, cache…" summary panels table on_refresh=refresh />
    }
}

#[component]
fn CreateVolumeForm(hosts: Vec<StorageHost>, create: ServerAction<CreateVolume>) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let form = NodeRef::<leptos::html::Form>::new();
    let result = Signal::derive(move || {
        create.value().get().map(|r| {
            r.map(|v| format!("Created volume {} on {}.", v.name, v.host))
                .map_err(|e| e.to_string())
        })
    });
    reset_on_success(form, result);
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
            <FormResult result testid="create-volume-result" />
        </section>
    }
}

fn volumes_table(
    rows: Option<VolumesData>,
    text: RwSignal<String>,
    outcome: Outcome,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> AnyView {
    let body = match rows {
        None => view! { <SkeletonRows rows=3 cols=COLUMNS.len() + 1 /> }.into_any(),
        Some(d) if d.items.is_empty() => view! {
            <tr><td colspan=(COLUMNS.len() + 1).to_string()>
                <div class="empty" data-testid="volumes-empty">
                    <h2>"No volumes yet"</h2>
                    <p>"Create one above, or run a container that declares one."</p>
                </div>
            </td></tr>
        }
        .into_any(),
        Some(d) => filtered_rows(
            d,
            text,
            |v: &VolumeView| (v.host.as_str(), v.name.as_str()),
            move |v, host_name, manage| view! { <VolumeRow v host_name manage outcome on_change /> },
        ),
    };
    view! { <StorageTable label="Volumes" columns=COLUMNS body /> }.into_any()
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
