//! `/registries` (admins): the registry credentials pulls use. Passwords go in and never come
//! back out.

use leptos::prelude::*;

use crate::components::confirm::Confirm;
use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::format;
use crate::model::images::StoredRegistry;

#[server(output = crate::codec::TextJson)]
pub async fn list_registries() -> Result<Vec<StoredRegistry>, AppError> {
    let c = crate::ssr::caller()?;
    let list = crate::ssr::ops()?.registries(&c).await?;
    Ok(list.into_iter().collect())
}

#[server(output = crate::codec::TextJson)]
pub async fn add_registry(
    server: String,
    username: String,
    password: String,
) -> Result<StoredRegistry, AppError> {
    let c = crate::ssr::caller()?;
    let new = backend::registries::NewRegistry {
        server,
        username: username.trim().to_string(),
        password,
    };
    Ok(crate::ssr::ops()?.add_registry(&c, &new).await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn remove_registry(id: i64) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.remove_registry(&c, id).await?)
}

/// Admins get the page; everyone else a "not allowed" page.
#[component]
pub fn RegistriesPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::client::session::current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(m) if m.admin => view! { <RegistriesAdmin /> }.into_any(),
                    _ => view! { <crate::components::page::NotAllowed /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RegistriesAdmin() -> impl IntoView {
    let add = ServerAction::<AddRegistry>::new();
    let remove = ServerAction::<RemoveRegistry>::new();
    let list = Resource::new(
        move || (add.version().get(), remove.version().get()),
        |_| list_registries(),
    );
    let form = NodeRef::<leptos::html::Form>::new();
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(f)) = (add.value().get(), form.get()) {
            f.reset();
        }
    });
    let added = move || {
        match add.value().get() {
        Some(Ok(r)) => Some(view! { <p class="form-ok" role="status">{format!("Saved credentials for {}.", r.server)}</p> }.into_any()),
        Some(Err(e)) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
        None => None,
    }
    };
    let removed =
        move || {
            remove.value().get().and_then(Result::err).map(
                |e| view! { <div class="notice notice-bad" role="alert">{e.to_string()}</div> },
            )
        };
    view! {
        <PageHeader title="Registries" />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                list.await.ok().map(|l| view! {
                    <p class="page-summary">{format!("{} stored · used when a pull names their registry", format::plural(l.len(), "credential", "credentials"))}</p>
                })
            })}
        </Transition>
        {removed}
        <div class="panels panels-wide">
            <section class="panel" aria-labelledby="registries-title">
                <h2 id="registries-title">"Stored credentials"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match list.await {
                            Ok(l) if l.is_empty() => view! {
                                <div class="empty" data-testid="registries-empty">
                                    <h2>"No registry credentials yet"</h2>
                                    <p>"Public images need none. Add a registry below to pull private images from it."</p>
                                </div>
                            }.into_any(),
                            Ok(l) => view! {
                                <div class="table-wrap">
                                    <table class="table table-cards" aria-label="Registry credentials">
                                        <thead><tr>
                                            <th scope="col">"Registry"</th>
                                            <th scope="col">"User name"</th>
                                            <th scope="col">"Added"</th>
                                            <th scope="col"><span class="sr-only">"Actions"</span></th>
                                        </tr></thead>
                                        <tbody>
                                            {l.into_iter().map(|r| {
                                                let id = r.id;
                                                let question = format!("Remove the credentials for {}?", r.server);
                                                view! {
                                                    <tr data-registry=r.server.clone()>
                                                        <td data-label="Registry" class="cell-primary mono strong">{r.server.clone()}</td>
                                                        <td data-label="User name">{r.username.clone()}</td>
                                                        <td data-label="Added" class="small">{format::datetime(r.created_at)}</td>
                                                        <td class="actions">
                                                            <Confirm label="Remove" question on_yes=move || { remove.dispatch(RemoveRegistry { id }); } />
                                                        </td>
                                                    </tr>
                                                }
                                            }).collect_view()}
                                        </tbody>
                                    </table>
                                </div>
                            }.into_any(),
                            Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                        }
                    })}
                </Transition>
                <h3>"Add credentials"</h3>
                <ActionForm action=add node_ref=form attr:class="inline-form">
                    <label class="field">
                        <span>"Registry"</span>
                        <input name="server" class="mono" required autocomplete="off" placeholder="registry.example.com:5000" />
                    </label>
                    <label class="field">
                        <span>"User name"</span>
                        <input name="username" required autocomplete="off" />
                    </label>
                    <label class="field">
                        <span>"Password or token"</span>
                        <input name="password" type="password" required autocomplete="new-password" />
                    </label>
                    <button type="submit" class="button button-primary">"Save"</button>
                </ActionForm>
                <div aria-live="polite">{added}</div>
            </section>
        </div>
    }
}
