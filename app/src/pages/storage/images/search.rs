//! Searching the host's registry for images (`docker search`).

use leptos::prelude::*;

use crate::model::images::SearchHit;

use crate::pages::storage::common::{HostSelect, StorageHost};
use crate::pages::storage::images::search_images;

#[component]
pub fn SearchPanel(hosts: Vec<StorageHost>) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let term = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let result = RwSignal::new(None::<Result<Vec<SearchHit>, String>>);
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
