//! `/images`: the images of every host the caller may see, with pull (live progress read from
//! the REST endpoint's NDJSON stream), load and import (tar uploads to REST with progress),
//! registry search, tag, remove and prune. `/images/:host/:id`: one image's config, users and
//! history.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use crate::client::upload;
use crate::components::badge::{Badge, Tone};
use crate::components::confirm::Confirm;
use crate::components::page::HostNotices;
use crate::components::page::{ErrorNotice, PageHeader, SkeletonRows};
use crate::components::text::ImageRef;
use crate::error::AppError;
use crate::format;
use crate::format::short_id;
use crate::model::images::{
    HistoryView, ImageDetailView, ImageView, ImportedView, LoadedView, PullLine, RemovedView,
    SearchHitView,
};
use crate::model::storage::{HostNotice, PruneResult};
use crate::pages::storage::common::{
    act, ago, rfc3339_short, storage_hosts, HostSelect, Outcome, OutcomeNotice, PrunePanel,
    StorageHost,
};
#[cfg(feature = "ssr")]
use crate::pages::storage::common::{now, visible_hosts};
use crate::routes::encode;
use crate::routes::image_href;

fn images_api(host: &str) -> String {
    format!("/api/v1/hosts/{}/images", encode(host))
}

// ---------- server fns ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagesData {
    pub images: Vec<ImageView>,
    pub unreachable: Vec<HostNotice>,
    pub hosts: Vec<StorageHost>,
    pub now: i64,
}

#[server(output = crate::codec::TextJson)]
pub async fn list_images() -> Result<ImagesData, AppError> {
    let c = crate::ssr::caller()?;
    let list: crate::model::images::FleetImages = crate::ssr::ops()?.images(&c, None).await.into();
    Ok(ImagesData {
        images: list.images,
        unreachable: list.unreachable,
        hosts: visible_hosts(&c.who, &crate::ssr::fleet()?),
        now: now(),
    })
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageData {
    pub detail: ImageDetailView,
    pub history: Vec<HistoryView>,
    pub manage: bool,
    pub now: i64,
}

#[server(output = crate::codec::TextJson)]
pub async fn image_detail(host: String, id: String) -> Result<ImageData, AppError> {
    let c = crate::ssr::caller()?;
    let facts = crate::ssr::ops()?.image_facts(&c, &host, &id).await?;
    Ok(ImageData {
        detail: ImageDetailView::new(host, facts.detail),
        history: facts.history.into_iter().map(Into::into).collect(),
        manage: facts.manage,
        now: now(),
    })
}

#[server(output = crate::codec::TextJson)]
pub async fn tag_image(
    host: String,
    id: String,
    repo: String,
    tag: String,
) -> Result<String, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .tag_image(&c, &host, &id, (&repo, Some(&tag)))
        .await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn remove_image(host: String, id: String, force: bool) -> Result<RemovedView, AppError> {
    let c = crate::ssr::caller()?;
    let removed = crate::ssr::ops()?
        .remove_image(&c, &host, &id, force)
        .await?;
    Ok(removed.into())
}

#[server(output = crate::codec::TextJson)]
pub async fn prune_images(host: String) -> Result<PruneResult, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .prune_images(&c, &host, None)
        .await?
        .into())
}

#[server(output = crate::codec::TextJson)]
pub async fn search_images(host: String, term: String) -> Result<Vec<SearchHitView>, AppError> {
    let c = crate::ssr::caller()?;
    let hits = crate::ssr::ops()?
        .search_images(&c, &host, &term, Some(25))
        .await?;
    Ok(hits.into_iter().map(Into::into).collect())
}

// ---------- the list page ----------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tool {
    Pull,
    Load,
    Import,
    Search,
    Prune,
}

#[component]
pub fn ImagesPage() -> impl IntoView {
    let version = RwSignal::new(0u32);
    let data = Resource::new(move || version.get(), |_| list_images());
    // Apart from the list, so a refresh does not rebuild the open tool (and lose a pull's view).
    let hosts = Resource::new(|| (), |_| storage_hosts());
    let text = RwSignal::new(String::new());
    let show = RwSignal::new(String::new());
    let tool = RwSignal::new(None::<Tool>);
    let outcome: Outcome = RwSignal::new(None);
    let refresh = move || version.update(|n| *n += 1);

    let tool_button = move |t: Tool, label: &'static str, primary: bool| {
        view! {
            <button type="button" class=if primary { "button button-primary" } else { "button" }
                aria-pressed=move || (tool.get() == Some(t)).to_string()
                on:click=move |_| tool.update(|c| *c = if *c == Some(t) { None } else { Some(t) })>
                {label}
            </button>
        }
    };

    view! {
        <PageHeader title="Images">
            <button type="button" class="button" on:click=move |_| refresh()>"Refresh"</button>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let h = hosts.await.unwrap_or_default();
                    let manages = h.iter().any(StorageHost::manages);
                    let any = !h.is_empty();
                    view! {
                        {any.then(|| tool_button(Tool::Search, "Search registry", false))}
                        {manages.then(|| view! {
                            {tool_button(Tool::Prune, "Prune dangling", false)}
                            {tool_button(Tool::Import, "Import filesystem tar", false)}
                            {tool_button(Tool::Load, "Load from tar", false)}
                            {tool_button(Tool::Pull, "Pull image", true)}
                        })}
                    }
                })}
            </Transition>
        </PageHeader>
        <Transition fallback=|| view! { <p class="page-summary muted">"Loading images…"</p> }>
            {move || Suspend::new(async move {
                data.await.ok().map(|d| {
                    let dangling = d.images.iter().filter(|i| i.dangling).count();
                    let size: u64 = d.images.iter().map(|i| i.size).sum();
                    view! {
                        <p class="page-summary" data-testid="images-summary">
                            {format!("{} · {} dangling · {} in all", format::plural(d.images.len(), "image", "images"), dangling, format::bytes(size))}
                        </p>
                    }
                })
            })}
        </Transition>
        <OutcomeNotice outcome testid="images-outcome" />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let hosts = hosts.await.unwrap_or_default();
                move || match tool.get() {
                    Some(Tool::Pull) => view! { <PullPanel hosts=hosts.clone() on_done=refresh /> }.into_any(),
                    Some(Tool::Load) => view! { <UploadPanel hosts=hosts.clone() import=false on_done=refresh /> }.into_any(),
                    Some(Tool::Import) => view! { <UploadPanel hosts=hosts.clone() import=true on_done=refresh /> }.into_any(),
                    Some(Tool::Search) => view! { <SearchPanel hosts=hosts.clone() /> }.into_any(),
                    Some(Tool::Prune) => view! {
                        <PrunePanel id="prune-title" title="Prune dangling images" tool=true
                            hint="Removes images without a tag that no container uses, like docker image prune."
                            hosts=hosts.clone()
                            question=|host| format!("Remove every dangling image on {host}?")
                            prune=prune_images
                            done=|p| format!("Pruned {} — {} reclaimed.", format::plural(p.deleted.len(), "image", "images"), format::bytes(p.space_reclaimed))
                            outcome on_done=refresh />
                    }.into_any(),
                    None => ().into_any(),
                }
            })}
        </Transition>
        <div class="filter-bar" role="search" aria-label="Filter images">
            <label class="field filter-text">
                <span>"Name or id"</span>
                <input type="search" placeholder="busybox, sha256:…" autocomplete="off"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            </label>
            <label class="field">
                <span>"Show"</span>
                <select on:change=move |ev| show.set(event_target_value(&ev))>
                    <option value="">"All images"</option>
                    <option value="dangling">"Dangling only"</option>
                    <option value="tagged">"Tagged only"</option>
                </select>
            </label>
        </div>
        <Transition fallback=move || view! { <ImagesTable rows=None text show outcome on_change=refresh /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! {
                        <HostNotices list=d.unreachable.clone() />
                        <ImagesTable rows=Some(d) text show outcome on_change=refresh />
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn image_matches(i: &ImageView, text: &str, show: &str) -> bool {
    let shown = match show {
        "dangling" => i.dangling,
        "tagged" => !i.dangling,
        _ => true,
    };
    let text = text.trim().to_lowercase();
    shown
        && (text.is_empty()
            || i.id.to_lowercase().contains(&text)
            || i.host.to_lowercase().contains(&text)
            || i.repo_tags.iter().any(|t| t.to_lowercase().contains(&text)))
}

#[component]
fn ImagesTable(
    rows: Option<ImagesData>,
    text: RwSignal<String>,
    show: RwSignal<String>,
    outcome: Outcome,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let body = match rows {
        None => view! { <SkeletonRows rows=3 cols=7 /> }.into_any(),
        Some(d) if d.images.is_empty() => view! {
            <tr><td colspan="7">
                <div class="empty" data-testid="images-empty">
                    <h2>"No images yet"</h2>
                    <p>"Pull one from a registry, or load a tar made by docker save."</p>
                </div>
            </td></tr>
        }
        .into_any(),
        Some(d) => {
            let roles: BTreeMap<String, (String, bool)> = d
                .hosts
                .iter()
                .map(|h| (h.slug.clone(), (h.name.clone(), h.manages())))
                .collect();
            let now = d.now;
            d.images
                .into_iter()
                .map(|i| {
                    let (host_name, manage) = roles.get(&i.host).cloned().unwrap_or_else(|| (i.host.clone(), false));
                    let visible_image = i.clone();
                    let visible = move || image_matches(&visible_image, &text.get(), &show.get());
                    view! {
                        <Show when=visible>
                            <ImageRow i=i.clone() host_name=host_name.clone() manage now outcome on_change />
                        </Show>
                    }
                })
                .collect_view()
                .into_any()
        }
    };
    view! {
        <div class="table-wrap">
            <table class="table table-cards images-table" aria-label="Images">
                <thead>
                    <tr>
                        <th scope="col">"Repository:tag"</th>
                        <th scope="col">"Host"</th>
                        <th scope="col">"Id"</th>
                        <th scope="col" class="num">"Size"</th>
                        <th scope="col" class="num">"Created"</th>
                        <th scope="col" class="num">"Containers"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

#[component]
fn ImageRow(
    i: ImageView,
    host_name: String,
    manage: bool,
    now: i64,
    outcome: Outcome,
    on_change: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let href = image_href(&i.host, &i.id);
    let label = i
        .repo_tags
        .first()
        .cloned()
        .unwrap_or_else(|| short_id(&i.id));
    // An image with several tags: each can be untagged on its own (docker rmi repo:tag), which
    // leaves the image for the other names.
    let untag_each = manage && i.repo_tags.len() > 1;
    let names = if i.dangling {
        view! { <a class="strong host-link" href=href.clone()><span class="muted">"<none>"</span></a> " " <Badge tone=Tone::Warn label="dangling" /> }.into_any()
    } else {
        view! {
            <ul class="plain-list">
                {i.repo_tags.iter().map(|t| {
                    let untag = untag_each.then(|| {
                        let (host, reference, shown) = (i.host.clone(), t.clone(), t.clone());
                        let question = format!("Untag {t} on {host_name}? The image stays under its other names.");
                        view! {
                            <Confirm label="Untag" question on_yes=move || {
                                let shown = shown.clone();
                                act(outcome, remove_image(host.clone(), reference.clone(), false), move |_| format!("Untagged {shown}."), on_change);
                            } />
                        }
                    });
                    view! {
                        <li class="tag-line" data-tag=t.clone()>
                            <a class="strong host-link mono cell-words" href=href.clone()><ImageRef name=t.clone() /></a>
                            {untag}
                        </li>
                    }
                }).collect_view()}
            </ul>
        }
        .into_any()
    };
    let tagging = RwSignal::new(false);
    let repo = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());
    let force = RwSignal::new(false);
    let (host, id) = (i.host.clone(), i.id.clone());
    let target = if i.repo_tags.len() == 1 {
        i.repo_tags[0].clone()
    } else {
        i.id.clone()
    };
    let (host2, id2) = (host.clone(), target);
    let question = format!("Remove image {label} on {host_name}?");
    let removed_label = label.clone();
    let do_tag = move || {
        let (host, id) = (host.clone(), id.clone());
        act(
            outcome,
            tag_image(host, id, repo.get_untracked(), tag.get_untracked()),
            |n| format!("Tagged as {n}."),
            on_change,
        );
        tagging.set(false);
    };
    let do_remove = move || {
        let label = removed_label.clone();
        act(
            outcome,
            remove_image(host2.clone(), id2.clone(), force.get_untracked()),
            move |r: RemovedView| {
                if r.deleted.is_empty() {
                    format!("Untagged {label}.")
                } else {
                    format!(
                        "Removed {label} ({} deleted).",
                        format::plural(r.deleted.len(), "layer", "layers")
                    )
                }
            },
            on_change,
        );
    };
    let do_tag = StoredValue::new(do_tag);
    view! {
        <tr data-image=label.clone() data-host=i.host.clone()>
            <td data-label="Repository:tag" class="cell-primary">{names}</td>
            <td data-label="Host">{host_name.clone()}</td>
            <td data-label="Id" class="mono small" title=i.id.clone()>{short_id(&i.id)}</td>
            <td data-label="Size" class="num" title=format!("{} bytes", i.size)>{format::bytes(i.size)}</td>
            <td data-label="Created" class="num small" title=format::datetime(i.created)>{ago(now, i.created)}</td>
            <td data-label="Containers" class="num">{i.containers}</td>
            <td class="actions">
                {manage.then(|| view! {
                    <Show when=move || tagging.get()
                        fallback=move || view! { <button type="button" class="button button-quiet" on:click=move |_| tagging.set(true)>"Tag"</button> }>
                        <form class="confirm" on:submit=move |ev| { ev.prevent_default(); do_tag.with_value(|f| f()); }>
                            <input class="mono" required placeholder="repository" aria-label="New repository" bind:value=repo />
                            <input class="mono tag-input" placeholder="latest" aria-label="New tag" bind:value=tag />
                            <button type="submit" class="button">"Save tag"</button>
                            <button type="button" class="button" on:click=move |_| tagging.set(false)>"Cancel"</button>
                        </form>
                    </Show>
                    <label class="check check-inline" title="Remove even when containers use it, and every tag">
                        <input type="checkbox" prop:checked=move || force.get() on:change=move |ev| force.set(event_target_checked(&ev)) />
                        <span class="small">"force"</span>
                    </label>
                    <Confirm label="Remove" question=question.clone() on_yes=do_remove.clone() />
                })}
            </td>
        </tr>
    }
}

// ---------- pull with live progress ----------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Layer {
    id: String,
    status: String,
    current: Option<u64>,
    total: Option<u64>,
    /// The layer's size, once the engine told it (kept after the download is done).
    size: Option<u64>,
}

impl Layer {
    fn finished(&self) -> bool {
        matches!(self.status.as_str(), "Pull complete" | "Already exists")
    }

    /// The engine's status in a word or two, as `docker pull` shows it.
    fn word(&self) -> &str {
        match self.status.as_str() {
            "Pulling fs layer" | "Waiting" => "Waiting",
            "Verifying Checksum" => "Verifying",
            other => other,
        }
    }

    /// `1.2 MB / 6.3 MB` while bytes move, the layer's size once it is done.
    fn amounts(&self) -> String {
        match (self.status.as_str(), self.current, self.total) {
            ("Downloading" | "Extracting", Some(c), Some(t)) if t > 0 => {
                format!("{} / {}", format::bytes(c.min(t)), format::bytes(t))
            }
            _ if self.finished() || self.status == "Download complete" => {
                self.size.map(format::bytes).unwrap_or_default()
            }
            _ => String::new(),
        }
    }

    /// How far the layer is, 0 to 1: downloading is the first half, extracting the second.
    fn progress(&self) -> f64 {
        let part = match (self.current, self.total) {
            (Some(c), Some(t)) if t > 0 => (c as f64 / t as f64).clamp(0.0, 1.0),
            _ => 0.0,
        };
        match self.status.as_str() {
            "Pull complete" | "Already exists" => 1.0,
            "Extracting" => 0.5 + part / 2.0,
            "Download complete" | "Verifying Checksum" => 0.5,
            "Downloading" => part / 2.0,
            _ => 0.0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PullState {
    image: String,
    layers: Vec<Layer>,
    /// Lines about the image as a whole (`Digest: …`, `Status: …`).
    messages: Vec<String>,
    running: bool,
    outcome: Option<Result<String, String>>,
}

impl PullState {
    fn apply(&mut self, line: PullLine) {
        if let Some(e) = line.error {
            self.outcome = Some(Err(e.message));
            self.running = false;
            return;
        }
        if line.is_done() {
            self.outcome = Some(Ok(line.image.unwrap_or_default()));
            self.running = false;
            return;
        }
        let status = line.status.unwrap_or_default();
        match line.id {
            Some(id) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let mut layer = Layer {
                    id: id.clone(),
                    status,
                    current: line.current,
                    total: line.total,
                    size: line.total,
                };
                match self.layers.iter_mut().find(|l| l.id == id) {
                    Some(l) => {
                        // Extracting counts the same bytes again: the download's total stays.
                        layer.size = l.size.or(layer.size);
                        *l = layer;
                    }
                    None => self.layers.push(layer),
                }
            }
            Some(id) => self.messages.push(format!("{id}: {status}")),
            None if !status.is_empty() => self.messages.push(status),
            None => {}
        }
        if self.messages.len() > 8 {
            self.messages.remove(0);
        }
    }

    fn overall(&self) -> f64 {
        if matches!(self.outcome, Some(Ok(_))) {
            return 1.0;
        }
        if self.layers.is_empty() {
            return 0.0;
        }
        self.layers.iter().map(Layer::progress).sum::<f64>() / self.layers.len() as f64
    }
}

#[component]
fn PullPanel(
    hosts: Vec<StorageHost>,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let image = RwSignal::new(String::new());
    let state = RwSignal::new(PullState::default());
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let reference = image.get_untracked().trim().to_string();
        if reference.is_empty() || state.get_untracked().running {
            return;
        }
        state.set(PullState {
            image: reference.clone(),
            running: true,
            ..Default::default()
        });
        let url = format!("{}/pull", images_api(&host.get_untracked()));
        leptos::task::spawn_local(async move {
            if let Err(e) = stream_pull(&url, &reference, state).await {
                state.update(|s| {
                    s.running = false;
                    if s.outcome.is_none() {
                        s.outcome = Some(Err(e));
                    }
                });
            }
            on_done();
        });
    };
    view! {
        <section class="panel tool-panel" aria-labelledby="pull-title">
            <h2 id="pull-title">"Pull an image"</h2>
            <form class="inline-form" on:submit=start>
                <HostSelect hosts value=host label="Host" />
                <label class="field filter-text">
                    <span>"Image"</span>
                    <input class="mono" name="image" required placeholder="registry:5000/team/app:1.2" autocomplete="off" bind:value=image />
                </label>
                <button type="submit" class="button button-primary" prop:disabled=move || state.get().running>
                    {move || if state.get().running { "Pulling…" } else { "Pull" }}
                </button>
            </form>
            <p class="muted small">"Stored registry credentials are used when the image's registry has some."</p>
            {move || {
                let s = state.get();
                (s.running || s.outcome.is_some()).then(|| view! { <PullProgress s /> })
            }}
        </section>
    }
}

#[component]
fn PullProgress(s: PullState) -> impl IntoView {
    let overall = s.overall();
    let pct = format!("{:.0}", overall * 100.0);
    let done_layers = s.layers.iter().filter(|l| l.finished()).count();
    let headline = match &s.outcome {
        None if s.layers.is_empty() => format!("Pulling {} — asking the registry", s.image),
        None => format!(
            "Pulling {} — {} of {} done",
            s.image,
            done_layers,
            format::plural(s.layers.len(), "layer", "layers")
        ),
        Some(Ok(image)) => format!("Pulled {image}"),
        Some(Err(_)) => format!("Could not pull {}", s.image),
    };
    let nothing_new = matches!(s.outcome, Some(Ok(_))) && s.layers.is_empty();
    let state = match &s.outcome {
        None => "running",
        Some(Ok(_)) => "done",
        Some(Err(_)) => "failed",
    };
    view! {
        <div class="pull" data-testid="pull-progress" data-state=state>
            <div class="pull-head">
                <span class="strong">{headline}</span>
                <span class="num muted">{format!("{pct} %")}</span>
            </div>
            <progress class="pull-overall" max="100" value=pct.clone() aria-label="Overall progress"></progress>
            <ul class="pull-layers" aria-label="Layers">
                {s.layers.into_iter().map(|l| {
                    let p = l.progress();
                    let amounts = l.amounts();
                    let word = l.word().to_string();
                    let status = word.clone();
                    view! {
                        <li class="pull-layer" class:pull-layer-done=l.finished() data-testid="pull-layer"
                            data-layer=l.id.clone() data-status=status>
                            <span class="mono pull-layer-id">{l.id.clone()}</span>
                            <span class="pull-status">{word}</span>
                            <progress max="100" value=format!("{:.0}", p * 100.0) aria-label=format!("Layer {}", l.id)></progress>
                            <span class="mono small muted pull-amount">{amounts}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {nothing_new.then(|| view! {
                <p class="muted small">"Every layer was already on the host: nothing to download."</p>
            })}
            {(!s.messages.is_empty()).then(|| view! {
                <pre class="pre pre-small pull-messages">{s.messages.join("\n")}</pre>
            })}
            <div aria-live="polite">
                {s.outcome.map(|o| match o {
                    Ok(image) => view! { <p class="form-ok" role="status">{format!("Done: {image} is on the host.")}</p> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                })}
            </div>
        </div>
    }
}

/// POSTs the pull and reads the NDJSON answer as it arrives, line by line, into `state`.
async fn stream_pull(url: &str, image: &str, state: RwSignal<PullState>) -> Result<(), String> {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::js_sys;
    fn lost<T>(_: T) -> String {
        "the server could not be reached — check the connection and try again".to_string()
    }
    let window = web_sys::window().ok_or_else(|| "no browser window".to_string())?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let body = serde_json::json!({ "image": image }).to_string();
    init.set_body(&JsValue::from_str(&body));
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(lost)?;
    let headers = request.headers();
    headers
        .set("Content-Type", "application/json")
        .map_err(lost)?;
    headers
        .set("Accept", "application/x-ndjson")
        .map_err(lost)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(lost)?
        .dyn_into()
        .map_err(lost)?;
    if !response.ok() {
        let text = match response.text() {
            Ok(p) => JsFuture::from(p)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        return Err(upload::api_message(&text, response.status()));
    }
    let stream = response
        .body()
        .ok_or_else(|| "the server sent no progress".to_string())?;
    let reader: web_sys::ReadableStreamDefaultReader =
        stream.get_reader().dyn_into().map_err(lost)?;
    let mut pending: Vec<u8> = Vec::new();
    let feed = |bytes: &[u8]| {
        if let Ok(line) = serde_json::from_slice::<PullLine>(bytes) {
            state.update(|s| s.apply(line));
        }
    };
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|_| {
            "the progress stream broke off — the pull may still finish on the host".to_string()
        })?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        if let Ok(value) = js_sys::Reflect::get(&chunk, &JsValue::from_str("value")) {
            pending.extend(js_sys::Uint8Array::new(&value).to_vec());
        }
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            feed(&line[..end]);
        }
    }
    if !pending.is_empty() {
        feed(&pending);
    }
    if state.get_untracked().outcome.is_none() {
        return Err("the pull ended before the engine said it was done".into());
    }
    Ok(())
}

// ---------- load and import: tar uploads with progress ----------

#[component]
fn UploadPanel(
    hosts: Vec<StorageHost>,
    import: bool,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let repo = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    let progress = RwSignal::new(None::<f64>);
    let outcome: Outcome = RwSignal::new(None);
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(file) = input.get().and_then(|i| i.files()).and_then(|f| f.get(0)) else {
            outcome.set(Some(Err("Choose a tar file first.".into())));
            return;
        };
        let base = images_api(&host.get_untracked());
        let url = if import {
            let repo = repo.get_untracked().trim().to_string();
            if repo.is_empty() {
                outcome.set(Some(Err(
                    "repo: is required: the new image's repository, like team/app".into(),
                )));
                return;
            }
            let tag = tag.get_untracked().trim().to_string();
            format!("{base}/import?repo={}&tag={}", encode(&repo), encode(&tag))
        } else {
            format!("{base}/load")
        };
        outcome.set(None);
        progress.set(Some(0.0));
        let finished = move |r: Result<String, String>| {
            progress.set(None);
            let text = r.map(|body| {
                if import {
                    serde_json::from_str::<ImportedView>(&body)
                        .map(|v| format!("Imported {} ({}).", v.image, short_id(&v.id)))
                        .unwrap_or_else(|_| "Imported.".into())
                } else {
                    match serde_json::from_str::<LoadedView>(&body) {
                        Ok(v) if !v.images.is_empty() => format!("Loaded {}.", v.images.join(", ")),
                        _ => "Loaded; the tar named no images.".into(),
                    }
                }
            });
            if text.is_ok() {
                if let Some(i) = input.get_untracked() {
                    i.set_value("");
                }
            }
            outcome.set(Some(text));
            on_done();
        };
        if let Err(e) = upload::send("POST", &url, "application/x-tar", &file, progress, finished) {
            progress.set(None);
            outcome.set(Some(Err(e)));
        }
    };
    let (title, id, hint) = if import {
        (
            "Import a filesystem tar",
            "import-title",
            "A tar of a root filesystem becomes a one-layer image, like docker import.",
        )
    } else {
        (
            "Load images from a tar",
            "load-title",
            "A tar made by docker save (or Export below) with one or more images.",
        )
    };
    view! {
        <section class="panel tool-panel" aria-labelledby=id>
            <h2 id=id>{title}</h2>
            <p class="muted small">{hint}</p>
            <form class="inline-form" on:submit=start>
                <HostSelect hosts value=host label="Host" />
                {import.then(|| view! {
                    <label class="field">
                        <span>"Repository"</span>
                        <input class="mono" required placeholder="team/rootfs" bind:value=repo />
                    </label>
                    <label class="field">
                        <span>"Tag"</span>
                        <input class="mono" placeholder="latest" bind:value=tag />
                    </label>
                })}
                <label class="field">
                    <span>"Tar file"</span>
                    <input type="file" node_ref=input accept=".tar,application/x-tar" />
                </label>
                <button type="submit" class="button button-primary" prop:disabled=move || progress.get().is_some()>
                    {if import { "Import" } else { "Load" }}
                </button>
                {move || progress.get().map(|p| view! {
                    <progress max="100" value=format!("{:.0}", p * 100.0) aria-label="Upload progress"></progress>
                    <span class="muted small" role="status">
                        {if p >= 1.0 { "Uploaded; the engine is reading it…".to_string() } else { format!("{:.0} % uploaded", p * 100.0) }}
                    </span>
                })}
            </form>
            <OutcomeNotice outcome testid=if import { "import-outcome" } else { "load-outcome" } />
        </section>
    }
}

// ---------- search and prune ----------

#[component]
fn SearchPanel(hosts: Vec<StorageHost>) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let term = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<Vec<SearchHitView>, String>>);
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        busy.set(true);
        result.set(None);
        let (h, t) = (host.get_untracked(), term.get_untracked());
        leptos::task::spawn_local(async move {
            result.set(Some(search_images(h, t).await.map_err(|e| e.to_string())));
            busy.set(false);
        });
    };
    view! {
        <section class="panel tool-panel" aria-labelledby="search-title">
            <h2 id="search-title">"Search a registry"</h2>
            <p class="muted small">"The host's engine searches its registry (Docker Hub unless configured otherwise)."</p>
            <form class="inline-form" on:submit=start>
                <HostSelect hosts value=host label="Through host" any_role=true />
                <label class="field filter-text">
                    <span>"Term"</span>
                    <input type="search" required placeholder="nginx" bind:value=term />
                </label>
                <button type="submit" class="button button-primary" prop:disabled=move || busy.get()>
                    {move || if busy.get() { "Searching…" } else { "Search" }}
                </button>
            </form>
            <div aria-live="polite" data-testid="search-result">
                {move || result.get().map(|r| match r {
                    Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                    Ok(hits) if hits.is_empty() => view! { <p class="muted">"Nothing found."</p> }.into_any(),
                    Ok(hits) => view! {
                        <div class="table-wrap">
                            <table class="table table-cards" aria-label="Search results">
                                <thead><tr>
                                    <th scope="col">"Name"</th>
                                    <th scope="col">"Description"</th>
                                    <th scope="col" class="num">"Stars"</th>
                                    <th scope="col">"Kind"</th>
                                </tr></thead>
                                <tbody>
                                    {hits.into_iter().map(|h| view! {
                                        <tr>
                                            <td data-label="Name" class="cell-primary mono strong">{h.name}</td>
                                            <td data-label="Description" class="cell-wrap">{h.description}</td>
                                            <td data-label="Stars" class="num">{h.stars}</td>
                                            <td data-label="Kind">
                                                {h.official.then(|| view! { <span class="chip chip-first">"official"</span> })}
                                                {h.automated.then(|| view! { <span class="chip">"automated"</span> })}
                                            </td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                })}
            </div>
        </section>
    }
}

// ---------- the detail page ----------

#[component]
pub fn ImagePage() -> impl IntoView {
    let params = use_params_map();
    let key = move || {
        let p = params.read();
        (
            p.get("host").unwrap_or_default(),
            p.get("id").unwrap_or_default(),
        )
    };
    let data = Resource::new(key, |(host, id)| image_detail(host, id));
    view! {
        <Transition fallback=|| view! { <p class="muted">"Loading image…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! { <ImageBody d /> }.into_any(),
                    Err(e) => view! {
                        <Title text="Image" />
                        <header class="page-header">
                            <h1>"Image"</h1>
                            <div class="page-actions"><a class="button" href="/images">"All images"</a></div>
                        </header>
                        <ErrorNotice message=e.to_string() />
                    }
                    .into_any(),
                }
            })}
        </Transition>
    }
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

fn mono_list(items: &[String]) -> AnyView {
    if items.is_empty() {
        view! { <span class="muted">"—"</span> }.into_any()
    } else {
        view! { <ul class="plain-list mono small">{items.iter().map(|i| view! { <li class="cell-wrap">{i.clone()}</li> }).collect_view()}</ul> }.into_any()
    }
}

/// `["sh", "-c", "echo hi"]` as a shell would read it.
fn command_line(parts: &[String]) -> String {
    parts
        .iter()
        .map(|p| {
            if p.is_empty()
                || p.chars()
                    .any(|c| c.is_whitespace() || "\"'$`\\".contains(c))
            {
                format!("'{}'", p.replace('\'', r"'\''"))
            } else {
                p.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[component]
fn ImageBody(d: ImageData) -> impl IntoView {
    let i = d.detail;
    let title = i
        .repo_tags
        .first()
        .cloned()
        .unwrap_or_else(|| short_id(&i.id));
    let export = format!("{}/{}/export", images_api(&i.host), encode(&i.id));
    let labels: Vec<String> = i.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let created = i
        .created
        .clone()
        .map(|c| rfc3339_short(Some(&c)))
        .unwrap_or_default();
    let host = i.host.clone();
    let now = d.now;
    view! {
        <Title text=title.clone() />
        <nav class="breadcrumb" aria-label="Breadcrumb"><a href="/images">"Images"</a> " / " {i.host.clone()}</nav>
        <header class="page-header">
            <h1 class="mono cell-wrap">{title}</h1>
            <div class="page-actions">
                {d.manage.then(|| view! { <a class="button" href=export download="">"Export (save) as tar"</a> })}
                <a class="button" href="/images">"All images"</a>
            </div>
        </header>
        <p class="page-summary">
            <span class="mono" title=i.id.clone()>{short_id(&i.id)}</span>
            {format!(" · {} · {}/{} · on {}", format::bytes(i.size), i.os, i.architecture, i.host)}
        </p>
        <div class="panels">
            <section class="panel" aria-labelledby="config-title">
                <h2 id="config-title">"Config"</h2>
                <dl class="facts">
                    {fact("Command", command_line(&i.cmd))}
                    {fact("Entrypoint", command_line(&i.entrypoint))}
                    {fact("Working dir", i.working_dir.clone())}
                    {fact("User", i.user.clone())}
                    {fact("Platform", format!("{}/{}", i.os, i.architecture))}
                    {fact("Created", created)}
                    {fact("Author", i.author.clone())}
                    <div class="fact"><dt>"Ports"</dt><dd>{mono_list(&i.exposed_ports)}</dd></div>
                    <div class="fact"><dt>"Volumes"</dt><dd>{mono_list(&i.volumes)}</dd></div>
                    <div class="fact"><dt>"Tags"</dt><dd>{mono_list(&i.repo_tags)}</dd></div>
                    <div class="fact"><dt>"Digests"</dt><dd>{mono_list(&i.repo_digests)}</dd></div>
                </dl>
            </section>
            <section class="panel" aria-labelledby="env-title">
                <h2 id="env-title">"Environment"</h2>
                {mono_list(&i.env)}
                <h3>"Labels"</h3>
                {mono_list(&labels)}
                <h3>"Containers using it"</h3>
                {if i.containers.is_empty() {
                    view! { <p class="muted">"None."</p> }.into_any()
                } else {
                    view! {
                        <ul class="plain-list">
                            {i.containers.iter().map(|c| {
                                let href = format!("/hosts/{}/containers/{}", encode(&host), encode(c));
                                view! { <li><a href=href>{c.clone()}</a></li> }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }}
            </section>
        </div>
        <section class="panel history-panel" aria-labelledby="history-title">
            <h2 id="history-title">{format!("History · {}", format::plural(d.history.len(), "step", "steps"))}</h2>
            <div class="table-wrap">
                <table class="table table-cards history-table" aria-label="History">
                    <thead><tr>
                        <th scope="col">"Created by"</th>
                        <th scope="col" class="num">"Size"</th>
                        <th scope="col" class="num">"Created"</th>
                    </tr></thead>
                    <tbody>
                        {d.history.into_iter().map(|h| view! {
                            <tr>
                                <td data-label="Created by" class="cell-primary">
                                    <code class="history-cmd">{h.created_by.clone()}</code>
                                    {(!h.tags.is_empty()).then(|| view! { <div class="small muted mono">{h.tags.join(", ")}</div> })}
                                    {(!h.comment.is_empty()).then(|| view! { <div class="small muted">{h.comment.clone()}</div> })}
                                </td>
                                <td data-label="Size" class="num" title=format!("{} bytes", h.size)>{format::bytes(h.size)}</td>
                                <td data-label="Created" class="num small" title=format::datetime(h.created)>{ago(now, h.created)}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_lines_build_layers_and_finish() {
        let mut s = PullState {
            running: true,
            ..Default::default()
        };
        s.apply(PullLine {
            id: Some("latest".into()),
            status: Some("Pulling from x".into()),
            ..Default::default()
        });
        s.apply(PullLine {
            id: Some("0123456789ab".into()),
            status: Some("Downloading".into()),
            current: Some(50),
            total: Some(100),
            ..Default::default()
        });
        assert_eq!(s.layers.len(), 1);
        assert!((s.overall() - 0.25).abs() < 1e-9);
        assert_eq!(s.layers[0].word(), "Downloading");
        assert_eq!(
            s.layers[0].amounts(),
            format!("{} / {}", format::bytes(50), format::bytes(100))
        );
        s.apply(PullLine {
            id: Some("0123456789ab".into()),
            status: Some("Verifying Checksum".into()),
            ..Default::default()
        });
        assert_eq!(s.layers[0].word(), "Verifying");
        assert_eq!(
            s.layers[0].size,
            Some(100),
            "the size outlives the download"
        );
        s.apply(PullLine {
            id: Some("0123456789ab".into()),
            status: Some("Pull complete".into()),
            ..Default::default()
        });
        assert!((s.overall() - 1.0).abs() < 1e-9);
        assert_eq!(s.layers[0].amounts(), format::bytes(100));
        s.apply(PullLine {
            id: Some("fedcba987654".into()),
            status: Some("Pulling fs layer".into()),
            ..Default::default()
        });
        assert_eq!(s.layers[1].word(), "Waiting");
        s.apply(PullLine {
            id: Some("fedcba987654".into()),
            status: Some("Already exists".into()),
            ..Default::default()
        });
        s.apply(PullLine::done("x:latest".into()));
        assert_eq!(s.outcome, Some(Ok("x:latest".into())));
        assert!(!s.running);
        assert_eq!(s.messages, vec!["latest: Pulling from x".to_string()]);
    }

    #[test]
    fn ids_and_commands() {
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(encode("sha256:ab/c"), "sha256%3Aab%2Fc");
        assert_eq!(
            command_line(&["sh".into(), "-c".into(), "echo hi".into()]),
            "sh -c 'echo hi'"
        );
    }
}
