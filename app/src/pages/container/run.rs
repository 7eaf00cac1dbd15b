//! `/run` (and `/run?host=`): the `docker run` form. `/hosts/:host/containers/:id/duplicate`
//! opens it prefilled with an existing container's configuration to make a new one beside it;
//! `/hosts/:host/containers/:id/edit` opens it prefilled to replace the container under the
//! same name with the changed settings.

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::client::containers::HostChoice;
use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::model::containers::{Created, RunSpec};
use crate::pages::container::tabs::TextField;
use crate::routes::{container_href, encode};

/// The hosts where the caller may create containers.
#[server(output = crate::codec::TextJson)]
pub async fn run_hosts() -> Result<Vec<HostChoice>, AppError> {
    let who = crate::ssr::principal()?;
    let fleet = crate::ssr::fleet()?;
    Ok(fleet
        .visible(&who, backend::policy::HostAction::ManageContainers)
        .iter()
        .map(|h| HostChoice {
            slug: h.slug.clone(),
            name: h.name.clone(),
            role: crate::model::RoleView::Manager,
            address: None,
        })
        .collect())
}

/// Creates (pulling the image when the host lacks it) and, with `spec.start`, starts a
/// container. A create that fails leaves nothing behind (the backend removes what it made).
#[server(input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn run_container(host: String, spec: RunSpec) -> Result<Created, AppError> {
    let c = crate::ssr::caller()?;
    if host.is_empty() {
        return Err(AppError::Invalid {
            field: "host".into(),
            message: "choose a host".into(),
        }
        .respond());
    }
    let created = crate::ssr::ops()?
        .create_container(&c, &host, &spec.into())
        .await?;
    tracing::info!(by = %c.who.username, host, container = %created.id, name = %created.name, "container created");
    Ok(created)
}

/// An existing container's configuration, to prefill the form.
#[server(output = crate::codec::TextJson)]
pub async fn container_spec(host: String, id: String) -> Result<RunSpec, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .container_spec(&c, &host, &id)
        .await?
        .into())
}

/// Edits a container: replaces it with one made from `spec` under the same name (the image
/// pulled again when `pull`). Nothing is touched when the spec is refused; a failure later
/// puts the old container back, name and running state.
#[server(input = server_fn::codec::Json, output = crate::codec::TextJson)]
pub async fn edit_container(
    host: String,
    id: String,
    spec: RunSpec,
    pull: bool,
) -> Result<Created, AppError> {
    use backend::ops::containers::Recreate;
    let c = crate::ssr::caller()?;
    let how = Recreate::Edit {
        spec: Box::new(spec.into()),
        pull,
    };
    let created = crate::ssr::ops()?
        .recreate_container(&c, &host, &id, &how)
        .await?;
    tracing::info!(by = %c.who.username, host, old = %id, new = %created.id, name = %created.name, "container edited");
    Ok(created)
}

/// `a "b c" 'd'` → `["a", "b c", "d"]`, as a shell splits words (quotes and backslashes).
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') => match chars.next() {
                Some(n @ ('"' | '\\' | '$' | '`')) => word.push(n),
                Some(n) => {
                    word.push('\\');
                    word.push(n);
                }
                None => return Err("ends with a lone backslash".into()),
            },
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, '\\') => match chars.next() {
                Some(n) => {
                    word.push(n);
                    in_word = true;
                }
                None => return Err("ends with a lone backslash".into()),
            },
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if let Some(q) = quote {
        return Err(format!("a {q} quote is not closed"));
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

/// The inverse of [`split_words`]: words with spaces or quotes are quoted.
pub fn join_words(words: &[String]) -> String {
    words
        .iter()
        .map(|w| {
            if !w.is_empty()
                && w.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_./:=,@%+".contains(c))
            {
                w.clone()
            } else {
                format!("'{}'", w.replace('\'', r"'\''"))
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// What the form makes.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    /// A new container (`/run`).
    New,
    /// A new container with another container's settings, named `<name>-copy`.
    Duplicate,
    /// The container `id` replaced under its own name.
    Edit { id: String },
}

/// The form's fields, all text as typed.
#[derive(Clone, Copy)]
struct Fields {
    host: RwSignal<String>,
    image: RwSignal<String>,
    name: RwSignal<String>,
    cmd: RwSignal<String>,
    entrypoint: RwSignal<String>,
    workdir: RwSignal<String>,
    user: RwSignal<String>,
    hostname: RwSignal<String>,
    env: RwSignal<String>,
    ports: RwSignal<String>,
    volumes: RwSignal<String>,
    volumes_from: RwSignal<String>,
    network: RwSignal<String>,
    restart: RwSignal<String>,
    labels: RwSignal<String>,
    auto_remove: RwSignal<bool>,
    interactive: RwSignal<bool>,
    memory: RwSignal<String>,
    cpus: RwSignal<String>,
    start: RwSignal<bool>,
    privileged: RwSignal<bool>,
    /// Capabilities, separated by spaces, commas or lines.
    cap_add: RwSignal<String>,
    devices: RwSignal<String>,
    pid: RwSignal<String>,
    ipc: RwSignal<String>,
    /// Pull the image again before an edit.
    pull: RwSignal<bool>,
}

impl Fields {
    fn new(host: String, spec: Option<RunSpec>, mode: &Mode) -> Self {
        let s = spec.clone().unwrap_or_default();
        let text = |v: Option<String>| RwSignal::new(v.unwrap_or_default());
        let name = match mode {
            Mode::New => String::new(),
            Mode::Duplicate => s
                .name
                .clone()
                .map(|n| format!("{n}-copy"))
                .unwrap_or_default(),
            Mode::Edit { .. } => s.name.clone().unwrap_or_default(),
        };
        Fields {
            host: RwSignal::new(host),
            image: RwSignal::new(s.image.clone()),
            name: RwSignal::new(name),
            cmd: RwSignal::new(s.cmd.as_deref().map(join_words).unwrap_or_default()),
            entrypoint: RwSignal::new(s.entrypoint.as_deref().map(join_words).unwrap_or_default()),
            workdir: text(s.workdir),
            user: text(s.user),
            hostname: text(s.hostname),
            env: RwSignal::new(s.env.join("\n")),
            ports: RwSignal::new(s.ports.join("\n")),
            volumes: RwSignal::new(s.volumes.join("\n")),
            volumes_from: RwSignal::new(s.volumes_from.join("\n")),
            network: text(s.network),
            restart: RwSignal::new(s.restart.unwrap_or_else(|| "no".into())),
            labels: RwSignal::new(
                s.labels
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            ),
            auto_remove: RwSignal::new(s.auto_remove),
            interactive: RwSignal::new(s.tty && s.stdin),
            memory: text(s.memory),
            cpus: RwSignal::new(s.cpus.map(|c| c.to_string()).unwrap_or_default()),
            start: RwSignal::new(true),
            privileged: RwSignal::new(s.privileged),
            cap_add: RwSignal::new(s.cap_add.join(" ")),
            devices: RwSignal::new(s.devices.join("\n")),
            pid: text(s.pid),
            ipc: text(s.ipc),
            pull: RwSignal::new(false),
        }
    }

    /// The spec to send; a field that cannot be read is an error naming it, like the server's.
    fn spec(&self) -> Result<RunSpec, AppError> {
        let invalid = |field: &str, message: String| AppError::Invalid {
            field: field.into(),
            message,
        };
        let opt = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_string()).filter(|v| !v.is_empty())
        };
        let words = |field: &str, s: RwSignal<String>| -> Result<Option<Vec<String>>, AppError> {
            let w = split_words(&s.get_untracked()).map_err(|e| invalid(field, e))?;
            Ok((!w.is_empty()).then_some(w))
        };
        let mut labels = BTreeMap::new();
        for (n, line) in lines(&self.labels.get_untracked()).into_iter().enumerate() {
            let Some((k, v)) = line.split_once('=') else {
                return Err(invalid(
                    "labels",
                    format!("line {} needs the form key=value", n + 1),
                ));
            };
            labels.insert(k.trim().to_string(), v.trim().to_string());
        }
        let cpus = match opt(self.cpus) {
            None => None,
            Some(c) => Some(
                c.parse::<f64>()
                    .ok()
                    .filter(|c| c.is_finite() && *c > 0.0)
                    .ok_or_else(|| invalid("cpus", "a number of CPUs like 0.5 or 2".into()))?,
            ),
        };
        let image = self.image.get_untracked().trim().to_string();
        if image.is_empty() {
            return Err(invalid("image", "is required, like nginx:1.27".into()));
        }
        let interactive = self.interactive.get_untracked();
        Ok(RunSpec {
            image,
            name: opt(self.name),
            cmd: words("cmd", self.cmd)?,
            entrypoint: words("entrypoint", self.entrypoint)?,
            env: lines(&self.env.get_untracked()),
            ports: lines(&self.ports.get_untracked()),
            volumes: lines(&self.volumes.get_untracked()),
            volumes_from: lines(&self.volumes_from.get_untracked().replace(',', "\n")),
            network: opt(self.network),
            restart: opt(self.restart).filter(|r| r != "no"),
            labels,
            auto_remove: self.auto_remove.get_untracked(),
            tty: interactive,
            stdin: interactive,
            workdir: opt(self.workdir),
            user: opt(self.user),
            hostname: opt(self.hostname),
            memory: opt(self.memory),
            cpus,
            start: self.start.get_untracked(),
            privileged: self.privileged.get_untracked(),
            cap_add: self
                .cap_add
                .get_untracked()
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|c| !c.is_empty())
                .map(str::to_string)
                .collect(),
            devices: lines(&self.devices.get_untracked()),
            pid: opt(self.pid),
            ipc: opt(self.ipc),
        })
    }
}

/// `/run`.
#[component]
pub fn RunPage() -> impl IntoView {
    let query = use_query_map();
    let host = query.read_untracked().get("host").unwrap_or_default();
    let hosts = Resource::new(|| (), |_| run_hosts());
    view! {
        <PageHeader title="Run a container">
            <a class="button" href="/containers">"All containers"</a>
        </PageHeader>
        <p class="page-summary">"Like docker run: the image is pulled first when the host does not have it."</p>
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let host = host.clone();
                Suspend::new(async move {
                    match hosts.await {
                        Ok(list) => view! { <RunForm hosts=list host spec=None mode=Mode::New /> }.into_any(),
                        Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

/// `/hosts/:host/containers/:id/duplicate`: the form filled from a container, making a new one.
#[component]
pub fn DuplicatePage() -> impl IntoView {
    view! { <PrefilledPage edit=false /> }
}

/// `/hosts/:host/containers/:id/edit`: the form filled from a container, replacing it.
#[component]
pub fn EditPage() -> impl IntoView {
    view! { <PrefilledPage edit=true /> }
}

#[component]
fn PrefilledPage(edit: bool) -> impl IntoView {
    let params = use_params_map();
    let host = move || params.read().get("host").unwrap_or_default();
    let id = move || params.read().get("id").unwrap_or_default();
    let hosts = Resource::new(|| (), |_| run_hosts());
    let spec = Resource::new(move || (host(), id()), |(h, i)| container_spec(h, i));
    let (title, summary) = if edit {
        (
            "Edit a container",
            "FsChange the settings and save: the container is replaced by a new one with the same name \
             and these settings (its volumes stay, and it is started again if it was running). \
             If anything fails, the original is put back as it was.",
        )
    } else {
        (
            "Duplicate a container",
            "The form holds the container's settings. FsChange what you need and create a new container beside it; \
             to change the container itself, use Edit on its page.",
        )
    };
    view! {
        <PageHeader title=title>
            <a class="button" href=move || container_href(&host(), &id())>"Back to the container"</a>
        </PageHeader>
        <p class="page-summary">{summary}</p>
        <Suspense fallback=|| view! { <p class="muted">"Loading the container's settings…"</p> }>
            {move || Suspend::new(async move {
                match (hosts.await, spec.await) {
                    (Ok(list), Ok(s)) => {
                        let mode = if edit { Mode::Edit { id: id() } } else { Mode::Duplicate };
                        view! { <RunForm hosts=list host=host() spec=Some(s) mode /> }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RunForm(
    hosts: Vec<HostChoice>,
    host: String,
    spec: Option<RunSpec>,
    mode: Mode,
) -> impl IntoView {
    if hosts.is_empty() {
        let what = if matches!(mode, Mode::Edit { .. }) {
            "change"
        } else {
            "create"
        };
        return view! {
            <div class="empty">
                <h2>{format!("No host where you may {what} containers")}</h2>
                <p>"Creating and changing containers needs the manager role on a host. Ask an admin for it."</p>
            </div>
        }
        .into_any();
    }
    let editing = match &mode {
        Mode::Edit { id } => Some(id.clone()),
        _ => None,
    };
    let edit = editing.is_some();
    if edit && !hosts.iter().any(|h| h.slug == host) {
        return view! {
            <div class="empty">
                <h2>"You may not change this container"</h2>
                <p>"Editing a container needs the manager role on its host. Ask an admin for it."</p>
            </div>
        }
        .into_any();
    }
    let host = if hosts.iter().any(|h| h.slug == host) {
        host
    } else {
        hosts[0].slug.clone()
    };
    let f = Fields::new(host, spec, &mode);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let navigate = use_navigate();
    let err = move |field: &'static str| {
        move || match error.get() {
            Some(AppError::Invalid {
                field: got,
                message,
            }) if got == field || got.starts_with(&format!("{field}[")) => Some(message),
            Some(AppError::Denied {
                field: got,
                message,
            }) if got == field => Some(message),
            _ => None,
        }
    };
    let editing = StoredValue::new(editing);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let mut spec = match f.spec() {
            Ok(s) => s,
            Err(e) => return error.set(Some(e)),
        };
        let host = f.host.get_untracked();
        error.set(None);
        busy.set(true);
        let navigate = navigate.clone();
        let editing = editing.get_value();
        let pull = f.pull.get_untracked();
        leptos::task::spawn_local(async move {
            let result = match editing {
                Some(id) => {
                    // Started again when the old one ran; a stopped one stays stopped.
                    spec.start = false;
                    edit_container(host.clone(), id, spec, pull).await
                }
                None => run_container(host.clone(), spec).await,
            };
            match result {
                Ok(c) => navigate(&container_href(&host, &c.id), Default::default()),
                Err(e) => error.set(Some(e)),
            }
            busy.set(false);
        });
    };
    let restarts = [
        ("no", "No (default)"),
        ("always", "Always"),
        ("unless-stopped", "Unless stopped"),
        ("on-failure", "On failure"),
    ];
    let host_network = move || f.network.get().trim() == "host";
    let cancel_href = move || match editing.get_value() {
        Some(id) => container_href(&f.host.get(), &id),
        None => format!("/containers?host={}", encode(&f.host.get())),
    };
    view! {
        <form class="panel run-form" on:submit=submit novalidate data-testid="run-form" data-mode=if edit { "edit" } else { "create" }>
            <div class="form-grid">
                <label class="field" class:field-invalid=move || err("host")().is_some()>
                    <span>"Host"</span>
                    <select name="host" prop:value=move || f.host.get() on:change=move |ev| f.host.set(event_target_value(&ev)) disabled=edit>
                        {hosts.into_iter().map(|h| {
                            let sel = h.slug == f.host.get_untracked();
                            view! { <option value=h.slug.clone() selected=sel>{h.name}</option> }
                        }).collect_view()}
                    </select>
                    <span class="field-error" role="alert">{err("host")}</span>
                </label>
                <TextField label="Image" name="image" value=f.image placeholder="nginx:1.27" mono=true error=err("image") />
                {if edit {
                    view! { <TextField label="Name" name="name" value=f.name readonly=true hint="An edit keeps the name; rename on the container's page." error=err("name") /> }.into_any()
                } else {
                    view! { <TextField label="Name" name="name" value=f.name placeholder="web (optional)" error=err("name") /> }.into_any()
                }}
            </div>
            <TextField label="Command" name="cmd" value=f.cmd placeholder="the image's default" mono=true
                hint="Words as in a shell: sleep 600, or sh -c 'echo hi'." error=err("cmd") />
            <div class="form-grid">
                <LinesField label="Environment" name="env" value=f.env placeholder="KEY=value" hint="One KEY=VALUE per line." error=err("env") />
                <LinesField label="Ports" name="ports" value=f.ports placeholder="8080:80" hint="host:container per line: 8080:80, 127.0.0.1:9000:9000, 2000-2001:2000-2001/udp, or 80 for a random host port." error=err("ports") />
                <LinesField label="Volumes" name="volumes" value=f.volumes placeholder="data:/data" hint="name:/path, /host/path:/path:ro, or /path for an anonymous volume." error=err("volumes") />
                <LinesField label="Labels" name="labels" value=f.labels placeholder="team=web" hint="One key=value per line." error=err("labels") />
            </div>
            <div class="form-grid">
                <label class="field" class:field-invalid=move || err("restart")().is_some()>
                    <span>"Restart policy"</span>
                    <select name="restart" prop:value=move || f.restart.get() on:change=move |ev| f.restart.set(event_target_value(&ev))>
                        {restarts.into_iter().map(|(v, l)| view! { <option value=v selected=f.restart.get_untracked() == v>{l}</option> }).collect_view()}
                        {(!restarts.iter().any(|(v, _)| *v == f.restart.get_untracked())).then(|| {
                            let v = f.restart.get_untracked();
                            view! { <option value=v.clone() selected=true>{v.clone()}</option> }
                        })}
                    </select>
                    <span class="field-error" role="alert">{err("restart")}</span>
                </label>
                <TextField label="Network" name="network" value=f.network placeholder="bridge" error=err("network") />
            </div>
            <div class="checks">
                {if edit {
                    view! {
                        <label class="check">
                            <input type="checkbox" name="pull" prop:checked=move || f.pull.get() on:change=move |ev| f.pull.set(event_target_checked(&ev)) />
                            <span>"Pull the image again first"</span>
                        </label>
                    }.into_any()
                } else {
                    view! {
                        <label class="check">
                            <input type="checkbox" name="start" prop:checked=move || f.start.get() on:change=move |ev| f.start.set(event_target_checked(&ev)) />
                            <span>"Start after create"</span>
                        </label>
                    }.into_any()
                }}
                <label class="check">
                    <input type="checkbox" name="interactive" prop:checked=move || f.interactive.get() on:change=move |ev| f.interactive.set(event_target_checked(&ev)) />
                    <span>"Interactive terminal (-it)"</span>
                </label>
                <label class="check">
                    <input type="checkbox" name="auto_remove" prop:checked=move || f.auto_remove.get() on:change=move |ev| f.auto_remove.set(event_target_checked(&ev)) />
                    <span>"Remove when it stops (--rm)"</span>
                </label>
            </div>
            <details class="advanced" open=advanced_open(error)>
                <summary>"Advanced: entrypoint, user, limits, …"</summary>
                <div class="form-grid">
                    <TextField label="Entrypoint" name="entrypoint" value=f.entrypoint placeholder="the image's default" mono=true error=err("entrypoint") />
                    <TextField label="Working directory" name="workdir" value=f.workdir placeholder="/app" mono=true error=err("workdir") />
                    <TextField label="User" name="user" value=f.user placeholder="1000:1000" error=err("user") />
                    <TextField label="Host name" name="hostname" value=f.hostname placeholder="the container id" error=err("hostname") />
                    <TextField label="Memory limit" name="memory" value=f.memory placeholder="256m, 1g" error=err("memory") />
                    <TextField label="CPUs" name="cpus" value=f.cpus placeholder="0.5" error=err("cpus") />
                </div>
                <LinesField label="Volumes from" name="volumes_from" value=f.volumes_from placeholder="other-container:ro" hint="Containers whose volumes to mount, one per line." error=err("volumes_from") />
            </details>
            <details class="advanced host-access" open=host_access_open(error, f) data-testid="host-access">
                <summary>"Advanced / host access: privileged, capabilities, devices, host namespaces"</summary>
                <p class="muted small">
                    "These give the container power over the host. On hosts with guardrails, only an admin, "
                    "or a manager the host's guardrails allow, may ask for them."
                </p>
                <div class="checks host-access-checks">
                    <label class="check" class:field-invalid=move || err("privileged")().is_some()>
                        <input type="checkbox" name="privileged" prop:checked=move || f.privileged.get() on:change=move |ev| f.privileged.set(event_target_checked(&ev)) />
                        <span>"Privileged (--privileged): every device and capability of the host"</span>
                    </label>
                    <span class="field-error" role="alert">{err("privileged")}</span>
                    <label class="check" class:field-invalid=move || err("network")().is_some()>
                        <input type="checkbox" name="host_network" prop:checked=host_network
                            on:change=move |ev| {
                                if event_target_checked(&ev) {
                                    f.network.set("host".into());
                                } else if f.network.get_untracked().trim() == "host" {
                                    f.network.set(String::new());
                                }
                            } />
                        <span>"Host network (--network host): no network isolation from the host"</span>
                    </label>
                    <span class="field-error" role="alert">{move || host_network().then(err("network")).flatten()}</span>
                </div>
                <div class="form-grid">
                    <TextField label="Add capabilities" name="cap_add" value=f.cap_add placeholder="NET_ADMIN SYS_TIME" mono=true
                        hint="--cap-add: names separated by spaces or commas." error=err("cap_add") />
                    <LinesField label="Devices" name="devices" value=f.devices placeholder="/dev/fuse" hint="--device: /dev/x, /dev/x:/dev/y or /dev/x:/dev/y:rwm, one per line." error=err("devices") />
                    <NamespaceField label="PID namespace" name="pid" value=f.pid choices=&[("", "Its own (default)"), ("host", "The host's (--pid host)")] error=err("pid") />
                    <NamespaceField label="IPC namespace" name="ipc" value=f.ipc
                        choices=&[("", "Engine default"), ("private", "Private"), ("shareable", "Shareable"), ("none", "None"), ("host", "The host's (--ipc host)")] error=err("ipc") />
                </div>
            </details>
            {move || busy.get().then(|| {
                let words = if edit {
                    "Replacing… the old container is stopped, the new one made and started; if anything fails the old one is put back."
                } else {
                    "Creating… if the host does not have the image, it is pulled first, which can take a while."
                };
                view! { <p class="muted" role="status" aria-busy="true">{words}</p> }
            })}
            {move || match error.get() {
                Some(AppError::Invalid { field, message }) => Some(view! { <p class="form-error" role="alert">{format!("Check {}: {message}", field_label(&field))}</p> }.into_any()),
                Some(e) => Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any()),
                None => None,
            }}
            <div class="form-actions">
                <button type="submit" class="button button-primary" prop:disabled=move || busy.get()>
                    {move || if edit { "Save and replace" } else if f.start.get() { "Create and start" } else { "Create" }}
                </button>
                <a class="button button-quiet" href=cancel_href>"Cancel"</a>
            </div>
        </form>
    }
    .into_any()
}

/// A namespace choice (`--pid`, `--ipc`); a value the list lacks (`container:db`) is kept.
#[component]
fn NamespaceField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    choices: &'static [(&'static str, &'static str)],
    error: impl Fn() -> Option<String> + Send + Sync + Copy + 'static,
) -> impl IntoView {
    let current = value.get_untracked();
    let custom = (!choices.iter().any(|(v, _)| *v == current)).then_some(current.clone());
    view! {
        <label class="field" class:field-invalid=move || error().is_some()>
            <span>{label}</span>
            <select name=name prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                {choices.iter().map(|(v, l)| view! { <option value=*v selected=current == *v>{*l}</option> }).collect_view()}
                {custom.map(|v| view! { <option value=v.clone() selected=true>{v.clone()}</option> })}
            </select>
            <span class="field-error" role="alert">{error}</span>
        </label>
    }
}

/// The advanced part opens by itself when the error is in one of its fields.
fn advanced_open(error: RwSignal<Option<AppError>>) -> impl Fn() -> bool + Send + Sync + Copy {
    move || {
        matches!(error.get(), Some(AppError::Invalid { field, .. })
            if ["entrypoint", "workdir", "user", "hostname", "memory", "cpus", "volumes_from"].iter().any(|f| field.starts_with(f)))
    }
}

/// The host-access part opens when it holds something (so an edit shows what the container
/// has) or when the error is about one of its fields.
fn host_access_open(
    error: RwSignal<Option<AppError>>,
    f: Fields,
) -> impl Fn() -> bool + Send + Sync + Copy {
    const FIELDS: [&str; 6] = ["privileged", "cap_add", "devices", "pid", "ipc", "network"];
    let has_something = f.privileged.get_untracked()
        || !f.cap_add.get_untracked().trim().is_empty()
        || !f.devices.get_untracked().trim().is_empty()
        || !f.pid.get_untracked().trim().is_empty()
        || !f.ipc.get_untracked().trim().is_empty()
        || f.network.get_untracked().trim() == "host";
    move || {
        has_something
            || match error.get() {
                Some(AppError::Invalid { field, .. }) => {
                    FIELDS.iter().any(|x| field.starts_with(x)) && field != "network"
                }
                Some(AppError::Denied { field, .. }) => {
                    FIELDS.contains(&field.as_str()) || field == "security_opt"
                }
                _ => false,
            }
    }
}

fn field_label(field: &str) -> String {
    let base = field.split('[').next().unwrap_or(field);
    match base {
        "cmd" => "the command".into(),
        "env" => "the environment".into(),
        "volumes_from" => "volumes from".into(),
        "workdir" => "the working directory".into(),
        "cpus" => "CPUs".into(),
        "cap_add" => "the capabilities".into(),
        "pid" => "the PID namespace".into(),
        "ipc" => "the IPC namespace".into(),
        other => format!("the {}", other.replace('_', " ")),
    }
}

#[component]
fn LinesField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    placeholder: &'static str,
    hint: &'static str,
    error: impl Fn() -> Option<String> + Send + Sync + Copy + 'static,
) -> impl IntoView {
    view! {
        <label class="field" class:field-invalid=move || error().is_some()>
            <span>{label}</span>
            <textarea
                name=name
                rows="3"
                class="mono"
                spellcheck="false"
                placeholder=placeholder
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            ></textarea>
            <small class="muted field-hint">{hint}</small>
            <span class="field-error" role="alert">{error}</span>
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(split_words("sleep 600").expect("splits"), ["sleep", "600"]);
        assert_eq!(
            split_words(r#"sh -c 'echo "hi there"'"#).expect("splits"),
            ["sh", "-c", r#"echo "hi there""#]
        );
        assert_eq!(
            split_words(r#"a "b c" d\ e ''"#).expect("splits"),
            ["a", "b c", "d e", ""]
        );
        assert_eq!(split_words("  ").expect("splits"), Vec::<String>::new());
        assert!(split_words("echo 'open").is_err());
    }

    #[test]
    fn joined_words_split_back() {
        let words: Vec<String> = ["nginx", "-g", "daemon off;", "it's", ""]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(split_words(&join_words(&words)).expect("splits"), words);
    }
}
