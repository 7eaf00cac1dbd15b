//! Adding and editing hosts (admins): the address, TLS material pasted or loaded from files,
//! labels; a connection test before saving; removal with its grants.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use crate::components::confirm::Confirm;
use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::model::hosts::{HostInput, HostPatchInput, HostSettingsView, HostSource, TlsInput};
use crate::model::EngineSummary;

/// Connects to an engine without saving anything.
#[server(input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn test_host_connection(input: HostInput) -> Result<EngineSummary, AppError> {
    let c = crate::ssr::caller()?;
    let tls = input.tls.map(backend::hosts::TlsPem::from);
    let summary = crate::ssr::ops()?
        .test_host(&c, &input.url, tls.as_ref())
        .await?;
    Ok(summary)
}

#[server(input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn add_host(input: HostInput) -> Result<String, AppError> {
    let c = crate::ssr::caller()?;
    let status = crate::ssr::ops()?.create_host(&c, input.into()).await?;
    Ok(status.slug)
}

#[server(output = crate::codec::TextJson)]
pub async fn host_settings(slug: String) -> Result<HostSettingsView, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.host_settings(&c, &slug).await?.into())
}

#[server(input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn update_host(slug: String, patch: HostPatchInput) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    crate::ssr::ops()?
        .update_host(&c, &slug, patch.into())
        .await?;
    Ok(())
}

#[server(output = crate::codec::TextJson)]
pub async fn remove_host(slug: String) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.remove_host(&c, &slug).await?)
}

/// `/hosts/new`: admins only.
#[component]
pub fn NewHostPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::client::session::current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(m) if m.admin => view! { <NewHost /> }.into_any(),
                    _ => view! { <crate::components::page::NotAllowed /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// `/hosts/:host/edit`: admins only.
#[component]
pub fn EditHostPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("host").unwrap_or_default();
    let settings = Resource::new(slug, host_settings);
    view! {
        <Suspense fallback=|| view! { <PageHeader title="Edit host" /> <p class="muted">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match settings.await {
                    Ok(s) => view! { <EditHost settings=s /> }.into_any(),
                    Err(AppError::Forbidden) | Err(AppError::Unauthenticated(_)) => {
                        view! { <crate::components::page::NotAllowed /> }.into_any()
                    }
                    Err(AppError::NotFound(_)) => view! { <crate::pages::not_found::NotFound /> }.into_any(),
                    Err(e) => view! { <PageHeader title="Edit host" /> <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// The fields of the form, shared by add and edit.
#[derive(Clone, Copy)]
struct Fields {
    slug: RwSignal<String>,
    name: RwSignal<String>,
    url: RwSignal<String>,
    use_tls: RwSignal<bool>,
    ca: RwSignal<String>,
    cert: RwSignal<String>,
    key: RwSignal<String>,
    labels: RwSignal<String>,
}

impl Fields {
    fn new() -> Self {
        Fields {
            slug: RwSignal::new(String::new()),
            name: RwSignal::new(String::new()),
            url: RwSignal::new(String::new()),
            use_tls: RwSignal::new(false),
            ca: RwSignal::new(String::new()),
            cert: RwSignal::new(String::new()),
            key: RwSignal::new(String::new()),
            labels: RwSignal::new(String::new()),
        }
    }

    fn tls(&self) -> Option<TlsInput> {
        self.use_tls.get_untracked().then(|| TlsInput {
            ca: self.ca.get_untracked(),
            cert: self.cert.get_untracked(),
            key: self.key.get_untracked(),
        })
    }

    fn labels(&self) -> Result<BTreeMap<String, String>, AppError> {
        parse_labels(&self.labels.get_untracked())
    }

    fn input(&self, dry_run: bool) -> Result<HostInput, AppError> {
        Ok(HostInput {
            slug: self.slug.get_untracked().trim().to_string(),
            name: self.name.get_untracked(),
            url: self.url.get_untracked().trim().to_string(),
            labels: self.labels()?,
            tls: self.tls(),
            dry_run,
        })
    }
}

/// `key=value` lines; blank lines are skipped.
fn parse_labels(text: &str) -> Result<BTreeMap<String, String>, AppError> {
    let mut labels = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(AppError::Invalid {
                field: "labels".into(),
                message: format!("line {} needs the form key=value", n + 1),
            });
        };
        labels.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(labels)
}

fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The error of the last attempt, if any, for one field (`tls` covers `tls.ca` etc. too).
fn field_error(
    error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl Fn() -> Option<String> {
    move || match error.get() {
        Some(AppError::Invalid { field: f, message })
            if f == field || f.starts_with(&format!("{field}.")) =>
        {
            Some(message)
        }
        _ => None,
    }
}

#[component]
fn NewHost() -> impl IntoView {
    let fields = Fields::new();
    let error = RwSignal::new(None::<AppError>);
    let tested = RwSignal::new(None::<EngineSummary>);
    let busy = RwSignal::new(None::<&'static str>);
    let navigate = use_navigate();

    let test = move |_| {
        let input = match fields.input(true) {
            Ok(i) => i,
            Err(e) => return error.set(Some(e)),
        };
        busy.set(Some("Testing the connection…"));
        tested.set(None);
        error.set(None);
        leptos::task::spawn_local(async move {
            match test_host_connection(input).await {
                Ok(engine) => tested.set(Some(engine)),
                Err(e) => error.set(Some(e)),
            }
            busy.set(None);
        });
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let input = match fields.input(false) {
            Ok(i) => i,
            Err(e) => return error.set(Some(e)),
        };
        busy.set(Some("Testing the connection and saving…"));
        error.set(None);
        let navigate = navigate.clone();
        leptos::task::spawn_local(async move {
            match add_host(input).await {
                Ok(slug) => navigate(&format!("/hosts/{slug}"), Default::default()),
                Err(e) => error.set(Some(e)),
            }
            busy.set(None);
        });
    };

    view! {
        <PageHeader title="Add a host" />
        <p class="page-summary">
            "Capstan talks to the engine's API directly: no agent. It connects before saving and tells you what to fix when it cannot."
        </p>
        <form class="panel host-form" on:submit=save novalidate>
            <HostFields fields error=error.into() editing=None />
            <Outcome error=error.into() tested busy />
            <div class="form-actions">
                <button type="submit" class="button button-primary" prop:disabled=move || busy.get().is_some()>"Add host"</button>
                <button type="button" class="button" on:click=test prop:disabled=move || busy.get().is_some()>"Test connection"</button>
                <a class="button button-quiet" href="/hosts">"Cancel"</a>
            </div>
        </form>
    }
}

#[component]
fn EditHost(settings: HostSettingsView) -> impl IntoView {
    let fields = Fields::new();
    fields.slug.set(settings.slug.clone());
    fields.name.set(settings.name.clone());
    fields.url.set(settings.url.clone());
    fields.labels.set(labels_text(&settings.labels));
    fields.use_tls.set(settings.tls.is_some());
    let had_tls = settings.tls.is_some();
    let original = settings.clone();
    let error = RwSignal::new(None::<AppError>);
    let tested = RwSignal::new(None::<EngineSummary>);
    let busy = RwSignal::new(None::<&'static str>);
    let saved = RwSignal::new(false);
    let navigate = use_navigate();
    let slug = settings.slug.clone();
    let read_only = settings.source == HostSource::Config;

    let save = {
        let slug = slug.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            let labels = match fields.labels() {
                Ok(l) => l,
                Err(e) => return error.set(Some(e)),
            };
            let use_tls = fields.use_tls.get_untracked();
            let tls_typed = [fields.ca, fields.cert, fields.key]
                .iter()
                .any(|s| !s.get_untracked().trim().is_empty());
            let patch = HostPatchInput {
                name: Some(fields.name.get_untracked()).filter(|n| *n != original.name),
                url: Some(fields.url.get_untracked().trim().to_string())
                    .filter(|u| *u != original.url),
                labels: Some(labels).filter(|l| *l != original.labels),
                tls: match (had_tls, use_tls) {
                    (true, false) => Some(None),
                    (_, true) if tls_typed || !had_tls => fields.tls().map(Some),
                    _ => None,
                },
            };
            busy.set(Some("Saving…"));
            error.set(None);
            saved.set(false);
            let slug = slug.clone();
            leptos::task::spawn_local(async move {
                match update_host(slug, patch).await {
                    Ok(()) => saved.set(true),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(None);
            });
        }
    };
    let question = format!("Remove {slug} and its grants?");
    let back = format!("/hosts/{slug}");
    let remove = {
        let slug = slug.clone();
        move || {
            let slug = slug.clone();
            let navigate = navigate.clone();
            busy.set(Some("Removing…"));
            leptos::task::spawn_local(async move {
                match remove_host(slug).await {
                    Ok(()) => navigate("/hosts", Default::default()),
                    Err(e) => error.set(Some(e)),
                }
                busy.set(None);
            });
        }
    };

    view! {
        <PageHeader title="Edit host">
            <a class="button" href=back>"Back to the host"</a>
        </PageHeader>
        {read_only.then(|| view! {
            <div class="notice" role="note">
                "This host comes from Capstan's " <code>"--engine"</code>
                " option. Change or remove it there and restart Capstan; it cannot be edited here."
            </div>
        })}
        <form class="panel host-form" on:submit=save novalidate>
            <fieldset disabled=read_only>
                <HostFields fields error=error.into() editing=Some(settings.clone()) />
            </fieldset>
            <Outcome error=error.into() tested busy />
            {move || saved.get().then(|| view! { <p class="form-ok" role="status">"Saved. The host is being probed with the new settings."</p> })}
            {(!read_only).then(|| view! {
                <div class="form-actions">
                    <button type="submit" class="button button-primary" prop:disabled=move || busy.get().is_some()>"Save changes"</button>
                </div>
            })}
        </form>
        {(!read_only).then(|| view! {
            <section class="panel panel-warn" aria-labelledby="remove-title">
                <h2 id="remove-title">"Remove this host"</h2>
                <p class="muted">
                    "Capstan stops managing the engine and forgets everyone's access to it. Nothing on the engine itself changes."
                </p>
                <Confirm label="Remove host" question=question.clone() on_yes=remove.clone() />
            </section>
        })}
    }
}

#[component]
fn HostFields(
    fields: Fields,
    error: Signal<Option<AppError>>,
    editing: Option<HostSettingsView>,
) -> impl IntoView {
    let editing_tls = editing.as_ref().and_then(|s| s.tls.clone());
    let is_edit = editing.is_some();
    let stored = move |what: &str| {
        if is_edit && editing_tls.is_some() {
            format!("stored — paste or load a new {what} to replace it")
        } else {
            String::new()
        }
    };
    let fingerprint = editing
        .as_ref()
        .and_then(|s| s.tls.as_ref())
        .and_then(|t| t.cert_fingerprint.clone());
    view! {
        <div class="form-grid">
            <Field label="Slug" id="host-slug" hint="Used in URLs and the API: lowercase letters, digits and dashes." error=field_error(error, "slug")>
                <input
                    id="host-slug"
                    aria-describedby="host-slug-hint"
                    name="slug"
                    required
                    maxlength="63"
                    pattern="[a-z0-9][a-z0-9-]{0,62}"
                    placeholder="build-01"
                    autocomplete="off"
                    prop:readonly=is_edit
                    prop:value=move || fields.slug.get()
                    on:input=move |ev| fields.slug.set(event_target_value(&ev))
                />
            </Field>
            <Field label="Display name" id="host-name" hint="Optional; the slug when empty." error=field_error(error, "name")>
                <input
                    id="host-name"
                    aria-describedby="host-name-hint"
                    name="name"
                    maxlength="64"
                    placeholder="Build server"
                    prop:value=move || fields.name.get()
                    on:input=move |ev| fields.name.set(event_target_value(&ev))
                />
            </Field>
        </div>
        <Field
            label="Engine URL"
            id="host-url"
            hint="unix:///var/run/docker.sock for the local socket, tcp://host:2376 for a remote engine."
            error=field_error(error, "url")
        >
            <input
                id="host-url"
                aria-describedby="host-url-hint"
                name="url"
                required
                class="mono"
                placeholder="tcp://10.0.0.5:2376"
                autocomplete="off"
                prop:value=move || fields.url.get()
                on:input=move |ev| fields.url.set(event_target_value(&ev))
            />
        </Field>
        <label class="check">
            <input
                type="checkbox"
                name="use_tls"
                prop:checked=move || fields.use_tls.get()
                on:change=move |ev| fields.use_tls.set(event_target_checked(&ev))
            />
            <span>"Use TLS (the engine was started with --tlsverify)"</span>
        </label>
        <Show when=move || fields.use_tls.get()>
            <fieldset class="tls-fields">
                <legend>"TLS certificates (PEM)"</legend>
                {fingerprint.clone().map(|f| view! { <p class="muted small fingerprint">"Current client certificate (SHA-256): " <span class="mono">{f}</span></p> })}
                <p class="field-error" role="alert">{field_error(error, "tls")}</p>
                <PemField label="CA certificate" name="ca" value=fields.ca placeholder=stored("CA certificate") />
                <PemField label="Client certificate" name="cert" value=fields.cert placeholder=stored("client certificate") />
                <PemField label="Client key" name="key" value=fields.key placeholder=stored("key") />
                <p class="muted small">"The key is stored encrypted and is never shown again."</p>
            </fieldset>
        </Show>
        <Field label="Labels" id="host-labels" hint="One key=value per line, e.g. env=prod." error=field_error(error, "labels")>
            <textarea
                id="host-labels"
                aria-describedby="host-labels-hint"
                name="labels"
                rows="3"
                class="mono"
                placeholder="env=prod"
                prop:value=move || fields.labels.get()
                on:input=move |ev| fields.labels.set(event_target_value(&ev))
            ></textarea>
        </Field>
    }
}

/// A labelled input (the child, whose id is `id`), its hint and its error. Only the label's own
/// text names the input, so hints never blur what a screen reader (or a test) finds by label.
#[component]
fn Field(
    label: &'static str,
    id: &'static str,
    hint: &'static str,
    error: impl Fn() -> Option<String> + Send + Sync + 'static,
    children: Children,
) -> impl IntoView {
    let error = std::sync::Arc::new(error);
    let has_error = {
        let error = error.clone();
        move || error().is_some()
    };
    view! {
        <div class="field" class:field-invalid=has_error>
            <label for=id>{label}</label>
            {children()}
            <span class="muted small" id=format!("{id}-hint")>{hint}</span>
            <span class="field-error" role="alert">{move || error()}</span>
        </div>
    }
}

/// A PEM text area with a "load from file" button that reads the file in the browser.
#[component]
fn PemField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    #[prop(into)] placeholder: String,
) -> impl IntoView {
    let placeholder = if placeholder.is_empty() {
        "-----BEGIN …-----".to_string()
    } else {
        placeholder
    };
    view! {
        <div class="field">
            <span class="field-label-row">
                <label for=format!("pem-{name}")>{label}</label>
                <label class="link-button small">
                    "Load from file…"
                    <input
                        type="file"
                        class="sr-only"
                        accept=".pem,.crt,.cer,.key,text/plain"
                        on:change=move |ev| load_file(ev, value)
                    />
                </label>
            </span>
            <textarea
                id=format!("pem-{name}")
                name=name
                rows="4"
                class="mono pem"
                spellcheck="false"
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
        </div>
    }
}

/// Reads the chosen file's text into `into` (in the browser; PEM files are small).
fn load_file(ev: leptos::ev::Event, into: RwSignal<String>) {
    let input = event_target::<web_sys::HtmlInputElement>(&ev);
    let Some(file) = input.files().and_then(|list| list.get(0)) else {
        return;
    };
    if file.size() > 64.0 * 1024.0 {
        into.set(String::new());
        return;
    }
    leptos::task::spawn_local(async move {
        if let Ok(text) = wasm_bindgen_futures::JsFuture::from(file.text()).await {
            into.set(text.as_string().unwrap_or_default());
        }
    });
}

#[component]
fn Outcome(
    error: Signal<Option<AppError>>,
    tested: RwSignal<Option<EngineSummary>>,
    busy: RwSignal<Option<&'static str>>,
) -> impl IntoView {
    view! {
        {move || busy.get().map(|b| view! { <p class="muted" role="status" aria-busy="true">{b}</p> })}
        {move || match error.get() {
            // Field errors are shown at their field; say so at the bottom too, for long forms.
            Some(AppError::Invalid { field, message }) => Some(view! {
                <p class="form-error" role="alert">{format!("Check {}: {message}", field.replace("tls.", "TLS "))}</p>
            }.into_any()),
            Some(e) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
            None => None,
        }}
        {move || tested.get().map(|e| view! {
            <p class="form-ok" role="status" data-testid="connection-ok">
                {format!(
                    "Connected: Docker {} (API {}) on {} · {}/{} · {} containers",
                    e.engine_version, e.api_version, if e.hostname.is_empty() { "?" } else { &e.hostname }, e.os_type, e.arch, e.containers_total,
                )}
            </p>
        })}
    }
}
