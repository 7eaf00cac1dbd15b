//! `/api-reference`: the REST API, browsable — every operation by area with its parameters,
//! body and answers, and the schemas they name. Read from the OpenAPI document the server builds
//! from its own routes (the same one `/api/v1/openapi.json` serves), so it cannot drift.

use leptos::prelude::*;

use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::model::reference::{
    ApiFieldView, ApiOperationView, ApiReferenceView, ApiResponseView, ApiSchemaView,
};

#[server(output = crate::codec::TextJson)]
pub async fn read_api_reference() -> Result<ApiReferenceView, AppError> {
    use std::sync::OnceLock;
    // Signed-in people only, like every page; the document itself is public.
    crate::ssr::principal()?;
    static READ: OnceLock<ApiReferenceView> = OnceLock::new();
    let document = crate::ssr::api_document()?;
    Ok(READ
        .get_or_init(|| {
            let doc = serde_json::from_str(document).unwrap_or_default();
            crate::model::reference::read::reference(&doc)
        })
        .clone())
}

#[component]
pub fn ApiReferencePage() -> impl IntoView {
    let reference = Resource::new(|| (), |_| read_api_reference());
    view! {
        <PageHeader title="API reference">
            <a class="button" href="/api/v1/openapi.json" download="capstan-openapi.json">"Download openapi.json"</a>
        </PageHeader>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match reference.await {
                    Ok(r) => view! { <Reference r /> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Reference(r: ApiReferenceView) -> impl IntoView {
    let count = r.operation_count();
    let schemas = r.schemas.len();
    view! {
        <p class="page-summary">
            {format!("{} · version {} · {count} operations · {schemas} schemas · OpenAPI 3.1", r.title, r.version)}
        </p>
        <section class="panel api-intro" aria-labelledby="api-auth">
            <h2 id="api-auth">"Using the API"</h2>
            <p>
                "Create a token on your "<a href="/account">"account page"</a>", then send it with every request:"
            </p>
            <pre class="api-example mono">"curl -H 'Authorization: Bearer cap_…' "<span data-testid="api-origin">"$CAPSTAN"</span>"/api/v1/hosts"</pre>
            <p class="muted small">{r.description.clone()}</p>
            <nav class="api-tags" aria-label="API areas">
                {r.groups.iter().map(|g| {
                    let href = format!("#api-{}", g.tag);
                    view! { <a class="chip" href=href>{g.tag.clone()}<span class="muted">{format!(" {}", g.operations.len())}</span></a> }
                }).collect_view()}
                <a class="chip" href="#api-schemas">"schemas"<span class="muted">{format!(" {schemas}")}</span></a>
            </nav>
        </section>
        {r.groups.into_iter().map(|g| {
            let id = format!("api-{}", g.tag);
            view! {
                <section class="panel api-group" id=id.clone() aria-labelledby=format!("{id}-title")>
                    <h2 id=format!("{id}-title")>{g.tag.clone()}</h2>
                    <p class="muted">{g.description.clone()}</p>
                    <div class="api-ops">
                        {g.operations.into_iter().map(|op| view! { <Operation op /> }).collect_view()}
                    </div>
                </section>
            }
        }).collect_view()}
        <section class="panel api-group" id="api-schemas" aria-labelledby="api-schemas-title">
            <h2 id="api-schemas-title">"Schemas"</h2>
            <p class="muted">"The request and answer bodies, as the server reads and writes them."</p>
            <div class="api-ops">
                {r.schemas.into_iter().map(|s| view! { <Schema s /> }).collect_view()}
            </div>
        </section>
    }
}

#[component]
fn Operation(op: ApiOperationView) -> impl IntoView {
    let method_class = format!("api-method api-method-{}", op.method.to_lowercase());
    view! {
        <details class="api-op" data-operation=op.id.clone()>
            <summary>
                <span class=method_class>{op.method.clone()}</span>
                <code class="api-path">{op.path.clone()}</code>
                <span class="api-summary">{op.summary.clone()}</span>
            </summary>
            <div class="api-op-body">
                <p class="muted small">
                    <code>{op.id.clone()}</code>
                    {if op.public { " · open to anyone" } else { " · signed in: a session or a token" }}
                </p>
                {(!op.parameters.is_empty()).then(|| view! {
                    <h3>"Parameters"</h3>
                    <Fields fields=op.parameters.clone() label="Parameters" place=true />
                })}
                {(!op.body.is_empty()).then(|| view! {
                    <h3>"Body"</h3>
                    <ul class="api-media">{op.body.iter().map(|b| view! { <li><code>{b.clone()}</code></li> }).collect_view()}</ul>
                })}
                <h3>"Answers"</h3>
                <Responses responses=op.responses.clone() />
            </div>
        </details>
    }
}

#[component]
fn Fields(fields: Vec<ApiFieldView>, label: &'static str, place: bool) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table table-cards api-table" aria-label=label>
                <thead><tr>
                    <th scope="col">"Name"</th>
                    {place.then(|| view! { <th scope="col">"In"</th> })}
                    <th scope="col">"Type"</th>
                    <th scope="col">"Description"</th>
                </tr></thead>
                <tbody>
                    {fields.into_iter().map(|f| view! {
                        <tr>
                            <td data-label="Name" class="mono strong">
                                {f.name.clone()}
                                {f.required.then(|| view! { <span class="api-required" title="required">" *"</span> })}
                            </td>
                            {place.then(|| view! { <td data-label="In">{f.place.clone()}</td> })}
                            <td data-label="Type" class="mono">{f.ty.clone()}</td>
                            <td data-label="Description" class="muted">{f.description.clone()}</td>
                        </tr>
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Responses(responses: Vec<ApiResponseView>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table table-cards api-table" aria-label="Answers">
                <thead><tr>
                    <th scope="col">"Status"</th>
                    <th scope="col">"When"</th>
                    <th scope="col">"Body"</th>
                </tr></thead>
                <tbody>
                    {responses.into_iter().map(|r| {
                        let tone = match r.status.chars().next() {
                            Some('1' | '2') => "api-status api-status-ok",
                            Some('4') => "api-status api-status-client",
                            _ => "api-status api-status-server",
                        };
                        view! {
                            <tr>
                                <td data-label="Status"><span class=tone>{r.status.clone()}</span></td>
                                <td data-label="When">{r.description.clone()}</td>
                                <td data-label="Body" class="mono small">{r.body.join(" · ")}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn Schema(s: ApiSchemaView) -> impl IntoView {
    let has_fields = !s.fields.is_empty();
    view! {
        <details class="api-op" id=format!("schema-{}", s.name)>
            <summary>
                <code class="api-path strong">{s.name.clone()}</code>
                <span class="api-summary muted">{s.kind.clone()}</span>
            </summary>
            <div class="api-op-body">
                {(!s.description.is_empty()).then(|| view! { <p class="muted">{s.description.clone()}</p> })}
                {has_fields.then(|| view! { <Fields fields=s.fields.clone() label="Fields" place=false /> })}
            </div>
        </details>
    }
}
