//! `/images`: the images of every host the caller may see, with pull (live progress read from
//! the REST endpoint's NDJSON stream), load and import (tar uploads to REST with progress),
//! registry search, tag, remove and prune. `/images/:host/:id`: one image's config, users and
//! history.

pub mod detail;
mod pull;
mod search;
mod transfer;

use pull::PullPanel;
use search::SearchPanel;
use transfer::UploadPanel;

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::badge::{Badge, Tone};
use crate::components::confirm::Confirm;
use crate::components::page::{ErrorNotice, HostNotices, PageHeader, SkeletonRows};
use crate::components::text::ImageRef;
use crate::error::AppError;
use crate::format;
use crate::format::short_id;
use crate::model::images::{HistoryEntry, ImageDetailView, ImageView, RemovedImage, SearchHit};
use crate::model::storage::{HostProblem, Pruned};
use crate::pages::storage::common::{
    act, ago, storage_hosts, Outcome, OutcomeNotice, PrunePanel, StorageHost,
};
#[cfg(feature = "ssr")]
use crate::pages::storage::common::{now, visible_hosts};
use crate::routes::{encode, image_href};

fn images_api(host: &str) -> String {
    format!("/api/v1/hosts/{}/images", encode(host))
}

// ---------- server fns ----------

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImagesData {
    pub images: Vec<ImageView>,
    pub unreachable: Vec<HostProblem>,
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
    pub history: Vec<HistoryEntry>,
    pub manage: bool,
    pub now: i64,
}

#[server(output = crate::codec::TextJson)]
pub async fn image_detail(host: String, id: String) -> Result<ImageData, AppError> {
    let c = crate::ssr::caller()?;
    let facts = crate::ssr::ops()?.image_facts(&c, &host, &id).await?;
    Ok(ImageData {
        detail: ImageDetailView::new(host, facts.detail),
        history: facts.history.into_iter().collect(),
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
pub async fn remove_image(host: String, id: String, force: bool) -> Result<RemovedImage, AppError> {
    let c = crate::ssr::caller()?;
    let removed = crate::ssr::ops()?
        .remove_image(&c, &host, &id, force)
        .await?;
    Ok(removed)
}

#[server(output = crate::codec::TextJson)]
pub async fn prune_images(host: String) -> Result<Pruned, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.prune_images(&c, &host, None).await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn search_images(host: String, term: String) -> Result<Vec<SearchHit>, AppError> {
    let c = crate::ssr::caller()?;
    let hits = crate::ssr::ops()?
        .search_images(&c, &host, &term, Some(25))
        .await?;
    Ok(hits.into_iter().collect())
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
            move |r: RemovedImage| {
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
