//! `/images/:host/:id`: one image — its facts, configuration, layers and history.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::components::page::ErrorNotice;
use crate::format;
use crate::format::short_id;
use crate::pages::storage::common::{ago, rfc3339_short};
use crate::pages::storage::images::{image_detail, images_api, ImageData};
use crate::routes::encode;

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
pub fn ImageBody(d: ImageData) -> impl IntoView {
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
    fn ids_and_commands() {
        assert_eq!(short_id("sha256:0123456789abcdef"), "0123456789ab");
        assert_eq!(encode("sha256:ab/c"), "sha256%3Aab%2Fc");
        assert_eq!(
            command_line(&["sh".into(), "-c".into(), "echo hi".into()]),
            "sh -c 'echo hi'"
        );
    }
}
