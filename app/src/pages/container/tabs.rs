//! A container's Processes, Changes (with "commit to image") and Files tabs. The file browser
//! reads folders through the engine's archive endpoint: no agent and no shell in the container.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::client::upload;
use crate::components::badge::{Badge, Tone};
use crate::components::page::{ErrorNotice, SkeletonRows};
use crate::error::AppError;
use crate::format;
use crate::model::files::{
    ChangeKind, CommitRequest, Committed, DirListing, FileEntry, FileKind, FsChange, ProcessList,
};
use crate::model::{role_at_least, RoleView};
use crate::pages::container::use_container;
use crate::routes::{container_href, encode};

#[server(output = crate::codec::TextJson)]
pub async fn container_top(host: String, id: String) -> Result<ProcessList, AppError> {
    let c = crate::ssr::caller()?;
    let top = crate::ssr::ops()?
        .container_top(&c, &host, &id, None)
        .await?;
    Ok(top)
}

#[server(output = crate::codec::TextJson)]
pub async fn container_changes(host: String, id: String) -> Result<Vec<FsChange>, AppError> {
    let c = crate::ssr::caller()?;
    let changes = crate::ssr::ops()?.container_changes(&c, &host, &id).await?;
    Ok(changes.into_iter().collect())
}

#[server(input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn commit_container(
    host: String,
    id: String,
    request: CommitRequest,
) -> Result<Committed, AppError> {
    let c = crate::ssr::caller()?;
    let image_id = crate::ssr::ops()?
        .commit_container(&c, &host, &id, &request.into())
        .await?;
    tracing::info!(by = %c.who.username, host, container = %id, image = %image_id, "container committed");
    Ok(Committed { image_id })
}

#[server(output = crate::codec::TextJson)]
pub async fn list_files(host: String, id: String, path: String) -> Result<DirListing, AppError> {
    let c = crate::ssr::caller()?;
    let listing = crate::ssr::ops()?
        .container_dir(&c, &host, &id, &path)
        .await?;
    Ok(listing)
}

/// Whether the caller manages the container's host, once the layout has read it (awaited, so
/// the server and the browser render the same thing).
async fn manages(ctx: crate::pages::container::ContainerCtx) -> bool {
    ctx.page
        .await
        .ok()
        .is_some_and(|p| role_at_least(Some(p.role), RoleView::Manager))
}

// ---------- Processes ----------

#[component]
pub fn ProcessesTab() -> impl IntoView {
    let ctx = use_container();
    let refreshes = RwSignal::new(0u32);
    let top = Resource::new(
        move || {
            (
                ctx.host.get(),
                ctx.id.get(),
                refreshes.get(),
                ctx.reload.get(),
            )
        },
        |(h, i, _, _)| container_top(h, i),
    );
    let (pending, set_pending) = signal(false);
    view! {
        <section class="panel" aria-labelledby="top-title">
            <div class="panel-title-row">
                <h2 id="top-title">"Processes"</h2>
                <button type="button" class="button" on:click=move |_| refreshes.update(|n| *n += 1) prop:disabled=pending>
                    {move || if pending.try_get().unwrap_or(false) { "Refreshing…" } else { "Refresh" }}
                </button>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading processes…"</p> } set_pending>
                {move || Suspend::new(async move {
                    match top.await {
                        Ok(p) => view! { <ProcessTable p /> }.into_any(),
                        Err(AppError::Conflict(why)) => view! { <p class="muted" data-testid="not-running">{why}</p> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ProcessTable(p: ProcessList) -> impl IntoView {
    let count = p.rows.len();
    let titles = p.titles.clone();
    let wide = |t: &str| matches!(t, "CMD" | "COMMAND");
    view! {
        <p class="muted small">{format::plural(count, "process", "processes")}</p>
        <div class="table-wrap">
            <table class="table table-cards" aria-label="Processes" data-testid="processes">
                <thead>
                    <tr>{p.titles.iter().map(|t| view! { <th scope="col">{t.clone()}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    {p.rows.into_iter().map(|row| {
                        let titles = titles.clone();
                        view! {
                            <tr>
                                {row.into_iter().enumerate().map(|(i, v)| {
                                    let t = titles.get(i).cloned().unwrap_or_default();
                                    let class = if wide(&t) { "mono small cell-wrap cell-primary" } else { "mono small" };
                                    view! { <td data-label=t class=class>{v}</td> }
                                }).collect_view()}
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

// ---------- Changes ----------

/// More rows than this are summarised, not rendered.
const CHANGES_SHOWN: usize = 1000;

#[component]
pub fn ChangesTab() -> impl IntoView {
    let ctx = use_container();
    let refreshes = RwSignal::new(0u32);
    let changes = Resource::new(
        move || {
            (
                ctx.host.get(),
                ctx.id.get(),
                refreshes.get(),
                ctx.reload.get(),
            )
        },
        |(h, i, _, _)| container_changes(h, i),
    );
    let (pending, set_pending) = signal(false);
    view! {
        <section class="panel" aria-labelledby="changes-title">
            <div class="panel-title-row">
                <h2 id="changes-title">"Filesystem changes"</h2>
                <button type="button" class="button" on:click=move |_| refreshes.update(|n| *n += 1) prop:disabled=pending>
                    {move || if pending.try_get().unwrap_or(false) { "Refreshing…" } else { "Refresh" }}
                </button>
            </div>
            <p class="muted small">"What differs from the image: files added, changed or deleted since the container was created (docker diff)."</p>
            <Transition fallback=|| view! { <p class="muted">"Loading changes…"</p> } set_pending>
                {move || Suspend::new(async move {
                    match changes.await {
                        Ok(list) => view! { <ChangeList list /> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move { manages(ctx).await.then(|| view! { <CommitForm /> }) })}
        </Transition>
    }
}

fn change_badge(kind: ChangeKind) -> impl IntoView {
    match kind {
        ChangeKind::Added => view! { <Badge tone=Tone::Good label="added" /> },
        ChangeKind::Changed => view! { <Badge tone=Tone::Warn label="changed" /> },
        ChangeKind::Deleted => view! { <Badge tone=Tone::Bad label="deleted" /> },
    }
}

#[component]
fn ChangeList(list: Vec<FsChange>) -> impl IntoView {
    if list.is_empty() {
        return view! { <p class="muted" data-testid="no-changes">"No changes: the filesystem is as the image made it."</p> }.into_any();
    }
    let count = |k: ChangeKind| list.iter().filter(|c| c.kind == k).count();
    let summary = format!(
        "{} added · {} changed · {} deleted",
        count(ChangeKind::Added),
        count(ChangeKind::Changed),
        count(ChangeKind::Deleted)
    );
    let more = list.len().saturating_sub(CHANGES_SHOWN);
    view! {
        <p class="small">{summary}</p>
        <ul class="change-list" data-testid="changes">
            {list.into_iter().take(CHANGES_SHOWN).map(|c| view! {
                <li class=format!("change change-{}", match c.kind { ChangeKind::Added => "added", ChangeKind::Changed => "changed", ChangeKind::Deleted => "deleted" })>
                    {change_badge(c.kind)}
                    <span class="mono small">{c.path}</span>
                </li>
            }).collect_view()}
        </ul>
        {(more > 0).then(|| view! { <p class="muted small">{format!("…and {more} more.")}</p> })}
    }
    .into_any()
}

#[component]
fn CommitForm() -> impl IntoView {
    let ctx = use_container();
    let repo = RwSignal::new(String::new());
    let tag = RwSignal::new(String::new());
    let author = RwSignal::new(String::new());
    let message = RwSignal::new(String::new());
    let pause = RwSignal::new(true);
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<(String, Committed), AppError>>);
    let error_for = move |field: &'static str| {
        move || match result.get() {
            Some(Err(AppError::Invalid { field: f, message })) if f == field => Some(message),
            _ => None,
        }
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let nonempty = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_string()).filter(|v| !v.is_empty())
        };
        let request = CommitRequest {
            repo: repo.get_untracked().trim().to_string(),
            tag: nonempty(tag),
            author: nonempty(author),
            message: nonempty(message),
            pause: Some(pause.get_untracked()),
        };
        let reference = format!(
            "{}:{}",
            request.repo,
            request.tag.clone().unwrap_or_else(|| "latest".into())
        );
        busy.set(true);
        result.set(None);
        leptos::task::spawn_local(async move {
            let r =
                commit_container(ctx.host.get_untracked(), ctx.id.get_untracked(), request).await;
            result.set(Some(r.map(|c| (reference, c))));
            busy.set(false);
        });
    };
    view! {
        <section class="panel" aria-labelledby="commit-title">
            <h2 id="commit-title">"Commit to an image"</h2>
            <p class="muted small">"Saves the container's filesystem as a new image on this host (docker commit). Volumes are not included."</p>
            <form class="commit-form" on:submit=submit novalidate>
                <div class="form-grid">
                    <TextField label="Repository" name="repo" value=repo placeholder="team/app" error=error_for("repo") />
                    <TextField label="Tag" name="tag" value=tag placeholder="latest" error=error_for("tag") />
                    <TextField label="Author" name="author" value=author placeholder="Jane Doe <jane@example.org>" error=error_for("author") />
                </div>
                <label class="field" class:field-invalid=move || error_for("message")().is_some()>
                    <span>"Message"</span>
                    <textarea name="message" rows="2" prop:value=move || message.get() on:input=move |ev| message.set(event_target_value(&ev))></textarea>
                    <span class="field-error" role="alert">{error_for("message")}</span>
                </label>
                <label class="check">
                    <input type="checkbox" prop:checked=move || pause.get() on:change=move |ev| pause.set(event_target_checked(&ev)) />
                    <span>"Pause the container while committing"</span>
                </label>
                <div class="form-actions">
                    <button type="submit" class="button button-primary" prop:disabled=move || busy.get()>"Commit"</button>
                    {move || busy.get().then(|| view! { <span class="muted" role="status">"Committing…"</span> })}
                </div>
                {move || match result.get() {
                    Some(Ok((reference, c))) => Some(view! {
                        <p class="form-ok" role="status">{format!("Committed as {reference} (")}<span class="mono" title=c.image_id.clone()>{crate::format::short_id(c.image_id.trim_start_matches("sha256:"))}</span>")."</p>
                    }.into_any()),
                    Some(Err(AppError::Invalid { .. })) | None => None,
                    Some(Err(e)) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
                }}
            </form>
        </section>
    }
}

/// A labelled text input with its error underneath.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] placeholder: &'static str,
    #[prop(optional)] hint: &'static str,
    #[prop(optional)] mono: bool,
    /// Shown but not editable (an edit keeps the container's name).
    #[prop(optional)]
    readonly: bool,
    error: impl Fn() -> Option<String> + Send + Sync + Copy + 'static,
) -> impl IntoView {
    view! {
        <label class="field" class:field-invalid=move || error().is_some()>
            <span>{label}</span>
            <input
                name=name
                autocomplete="off"
                readonly=readonly
                class:mono=mono
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            {(!hint.is_empty()).then(|| view! { <small class="muted field-hint">{hint}</small> })}
            <span class="field-error" role="alert">{error}</span>
        </label>
    }
}

// ---------- Files ----------

fn api_base(host: &str, id: &str) -> String {
    format!("/api/v1/hosts/{}/containers/{}", encode(host), encode(id))
}

fn join_path(dir: &str, name: &str) -> String {
    if dir.ends_with('/') {
        format!("{dir}{name}")
    } else {
        format!("{dir}/{name}")
    }
}

/// `drwxr-xr-x`, as `ls -l` shows it.
fn mode_string(kind: FileKind, mode: u32) -> String {
    let mut s = String::with_capacity(10);
    s.push(match kind {
        FileKind::Dir => 'd',
        FileKind::Symlink => 'l',
        FileKind::File => '-',
        FileKind::Other => '?',
    });
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (bit, c) in bits {
        s.push(if mode & bit != 0 { c } else { '-' });
    }
    s
}

#[component]
pub fn FilesTab() -> impl IntoView {
    let ctx = use_container();
    let query = use_query_map();
    let path = Memo::new(move |_| {
        query
            .read()
            .get("path")
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| "/".into())
    });
    let refreshes = RwSignal::new(0u32);
    let listing = Resource::new(
        move || (ctx.host.get(), ctx.id.get(), path.get(), refreshes.get()),
        |(h, i, p, _)| list_files(h, i, p),
    );
    let export_href = move || format!("{}/export", api_base(&ctx.host.get(), &ctx.id.get()));
    view! {
        <section class="panel" aria-labelledby="files-title">
            <div class="panel-title-row">
                <h2 id="files-title">"Files"</h2>
                <span class="page-actions">
                    <button type="button" class="button" on:click=move |_| refreshes.update(|n| *n += 1)>"Refresh"</button>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            manages(ctx).await.then(|| view! {
                                <a class="button" href=export_href() download="" title="The whole filesystem as a tar (docker export)">"Export filesystem"</a>
                            })
                        })}
                    </Transition>
                </span>
            </div>
            <Breadcrumb path=path />
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    manages(ctx).await.then(|| view! { <Upload dir=path on_done=move || refreshes.update(|n| *n += 1) /> })
                })}
            </Transition>
            <Transition fallback=|| view! { <FileTable listing=None manage=false /> }>
                {move || Suspend::new(async move {
                    let manage = manages(ctx).await;
                    match listing.await {
                        Ok(l) => view! { <FileTable listing=Some(l) manage /> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn Breadcrumb(path: Memo<String>) -> impl IntoView {
    let ctx = use_container();
    let base = move || format!("{}/files", container_href(&ctx.host.get(), &ctx.id.get()));
    view! {
        <nav class="breadcrumb mono" aria-label="Folder" data-testid="breadcrumb">
            {move || {
                let base = base();
                let p = path.get();
                let mut crumbs = vec![view! { <a href=format!("{base}?path=%2F")>"/"</a> }.into_any()];
                let mut acc = String::new();
                let parts: Vec<&str> = p.split('/').filter(|s| !s.is_empty()).collect();
                let last = parts.len();
                for (i, part) in parts.into_iter().enumerate() {
                    acc.push('/');
                    acc.push_str(part);
                    if i + 1 == last {
                        crumbs.push(view! { <span aria-current="page" class="strong">{part.to_string()}</span> }.into_any());
                    } else {
                        crumbs.push(view! { <a href=format!("{base}?path={}", encode(&acc))>{part.to_string()}</a> }.into_any());
                    }
                    if i + 1 < last {
                        crumbs.push(view! { <span class="muted" aria-hidden="true">"/"</span> }.into_any());
                    }
                }
                crumbs
            }}
        </nav>
    }
}

const FILE_COLUMNS: usize = 5;

#[component]
fn FileTable(listing: Option<DirListing>, manage: bool) -> impl IntoView {
    let ctx = use_container();
    let (host, id) = (ctx.host.get_untracked(), ctx.id.get_untracked());
    let Some(l) = listing else {
        return view! {
            <div class="table-wrap"><table class="table" aria-hidden="true"><tbody><SkeletonRows rows=4 cols=FILE_COLUMNS /></tbody></table></div>
        }
        .into_any();
    };
    let parent = (l.path != "/").then(|| {
        let up = l
            .path
            .trim_end_matches('/')
            .rsplit_once('/')
            .map(|(p, _)| if p.is_empty() { "/" } else { p })
            .unwrap_or("/")
            .to_string();
        format!("{}/files?path={}", container_href(&host, &id), encode(&up))
    });
    let empty = l.entries.is_empty();
    let truncated = l.truncated;
    let dir = l.path.clone();
    view! {
        <div class="table-wrap">
            <table class="table table-cards files-table" aria-label="Files" data-testid="files">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Kind"</th>
                        <th scope="col" class="num">"Size"</th>
                        <th scope="col">"Mode"</th>
                        <th scope="col">"Modified"</th>
                        {manage.then(|| view! { <th scope="col"><span class="sr-only">"Download"</span></th> })}
                    </tr>
                </thead>
                <tbody>
                    {parent.map(|href| view! {
                        <tr class="row-parent"><td class="cell-primary" colspan="6"><a href=href>"↑ Parent folder"</a></td></tr>
                    })}
                    {empty.then(|| view! { <tr><td class="cell-primary muted" colspan="6">"This folder is empty."</td></tr> })}
                    {l.entries.into_iter().map(|e| view! { <FileRow e dir=dir.clone() host=host.clone() id=id.clone() manage /> }).collect_view()}
                </tbody>
            </table>
        </div>
        {truncated.then(|| view! { <p class="muted small">"This folder holds more entries than are shown (the listing stops at 5,000)."</p> })}
    }
    .into_any()
}

#[component]
fn FileRow(e: FileEntry, dir: String, host: String, id: String, manage: bool) -> impl IntoView {
    let full = join_path(&dir, &e.name);
    let (icon, kind) = match e.kind {
        FileKind::Dir => ("📁", "folder"),
        FileKind::File => ("📄", "file"),
        FileKind::Symlink => ("🔗", "link"),
        FileKind::Other => ("⚙", "special"),
    };
    let name = match e.kind {
        FileKind::Dir => {
            let href = format!(
                "{}/files?path={}",
                container_href(&host, &id),
                encode(&full)
            );
            view! { <a class="strong host-link" href=href>{e.name.clone()}</a> }.into_any()
        }
        _ => view! { <span class="strong">{e.name.clone()}</span> }.into_any(),
    };
    let download = format!("{}/archive?path={}", api_base(&host, &id), encode(&full));
    let size = match e.kind {
        FileKind::File => {
            view! { <span title=format!("{} bytes", e.size)>{format::bytes(e.size)}</span> }
                .into_any()
        }
        _ => view! { <span class="muted">"—"</span> }.into_any(),
    };
    view! {
        <tr data-file=e.name.clone()>
            <td data-label="Name" class="cell-primary">
                <span class="file-icon" aria-hidden="true">{icon}</span>
                {name}
                {e.link_target.clone().map(|t| view! { <span class="muted small mono">{format!(" → {t}")}</span> })}
            </td>
            <td data-label="Kind"><span class="chip chip-first">{kind}</span></td>
            <td data-label="Size" class="num">{size}</td>
            <td data-label="Mode" class="mono small" title=format!("{:o}", e.mode)>{mode_string(e.kind, e.mode)}</td>
            <td data-label="Modified" class="small">{format::datetime(e.modified)}</td>
            {manage.then(|| view! {
                <td class="actions">
                    <a class="button button-quiet" href=download download="" aria-label=format!("Download {} as a tar", e.name)>"Download"</a>
                </td>
            })}
        </tr>
    }
}

/// One file into the current folder: a PUT of the raw bytes with a progress bar. The browser
/// sends the session cookie (same origin); the server spools within its upload limit.
#[component]
fn Upload(dir: Memo<String>, on_done: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    let ctx = use_container();
    let input = NodeRef::<leptos::html::Input>::new();
    let progress = RwSignal::new(None::<f64>);
    let outcome = RwSignal::new(None::<Result<String, String>>);
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(file) = input.get().and_then(|i| i.files()).and_then(|f| f.get(0)) else {
            outcome.set(Some(Err("Choose a file first.".into())));
            return;
        };
        let folder = dir.get_untracked();
        let url = format!(
            "{}/archive?path={}&name={}",
            api_base(&ctx.host.get_untracked(), &ctx.id.get_untracked()),
            encode(&folder),
            encode(&file.name())
        );
        let label = format!(
            "{} ({}) to {folder}",
            file.name(),
            format::bytes(file.size() as u64)
        );
        outcome.set(None);
        progress.set(Some(0.0));
        let finished = move |r: Result<String, String>| {
            progress.set(None);
            match r {
                Ok(_) => {
                    outcome.set(Some(Ok(format!("Uploaded {label}."))));
                    if let Some(i) = input.get_untracked() {
                        i.set_value("");
                    }
                    on_done();
                }
                Err(e) => outcome.set(Some(Err(e))),
            }
        };
        if let Err(e) = upload::send(
            "PUT",
            &url,
            "application/octet-stream",
            &file,
            progress,
            finished,
        ) {
            progress.set(None);
            outcome.set(Some(Err(e)));
        }
    };
    view! {
        <form class="upload-form inline-form" on:submit=start>
            <label class="field">
                <span>{move || format!("Upload a file into {}", dir.get())}</span>
                <input type="file" node_ref=input name="file" />
            </label>
            <button type="submit" class="button" prop:disabled=move || progress.get().is_some()>"Upload"</button>
            {move || progress.get().map(|p| view! {
                <progress max="100" value=format!("{:.0}", p * 100.0) aria-label="Upload progress"></progress>
                <span class="muted small" role="status">{format!("{:.0} %", p * 100.0)}</span>
            })}
        </form>
        <div aria-live="polite" data-testid="upload-outcome">
            {move || outcome.get().map(|o| match o {
                Ok(text) => view! { <p class="form-ok" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="form-error" role="alert">{text}</p> }.into_any(),
            })}
        </div>
    }
}
