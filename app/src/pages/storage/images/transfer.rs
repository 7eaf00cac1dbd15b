//! Loading an image tar (`docker load`) and importing a filesystem tar (`docker import`), with
//! upload progress.

use leptos::prelude::*;

use crate::client::upload;
use crate::format::short_id;
use crate::model::images::{ImportedView, LoadedView};
use crate::pages::storage::common::{HostSelect, Outcome, OutcomeNotice, StorageHost};
use crate::pages::storage::images::images_api;
use crate::routes::encode;

#[component]
pub fn UploadPanel(
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
