//! `/run` (and `/run?host=`): the `docker run` form. `/hosts/:host/containers/:id/duplicate`
//! opens it prefilled with an existing container's configuration to make a new one beside it;
//! `/hosts/:host/containers/:id/edit` opens it prefilled to replace the container under the
//! same name with the changed settings.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map, use_query_map};

use crate::client::containers::HostChoice;
use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::model::containers::{CarryOver, Created, RunSpec};
use crate::pages::container::run_fields::{Fields, Mode};
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
        .create_container(&c, &host, &spec)
        .await?;
    tracing::info!(by = %c.who.username, host, container = %created.id, name = %created.name, "container created");
    Ok(created)
}

/// An existing container's configuration, to prefill the form.
#[server(output = crate::codec::TextJson)]
pub async fn container_spec(host: String, id: String) -> Result<RunSpec, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.container_spec(&c, &host, &id).await?)
}

/// What an edit cannot take from the container to the new one.
#[server(output = crate::codec::TextJson)]
pub async fn container_spec_carry_over(host: String, id: String) -> Result<CarryOver, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .container_carry_over(&c, &host, &id)
        .await?)
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
        spec: Box::new(spec),
        pull,
    };
    let created = crate::ssr::ops()?
        .recreate_container(&c, &host, &id, &how)
        .await?;
    tracing::info!(by = %c.who.username, host, old = %id, new = %created.id, name = %created.name, "container edited");
    Ok(created)
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
    let carry = Resource::new(
        move || (host(), id()),
        |(h, i)| container_spec_carry_over(h, i),
    );
    let (title, summary) = if edit {
        (
            "Edit a container",
            "Change the settings and save: the container is replaced by a new one with the same name \
             and these settings (its volumes stay, and it is started again if it was running). \
             If anything fails, the original is put back as it was.",
        )
    } else {
        (
            "Duplicate a container",
            "The form holds the container's settings. Change what you need and create a new container beside it; \
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
                        // Not knowing what is lost is no reason to keep the form away.
                        let lost = carry.await.map(|c| c.not_carried).unwrap_or_default();
                        view! {
                            <NotCarried lost edit />
                            <RunForm hosts=list host=host() spec=Some(s) mode />
                        }.into_any()
                    }
                    (Err(e), _) | (_, Err(e)) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// What the new container will not have of the old one, read before saving.
#[component]
fn NotCarried(lost: Vec<String>, edit: bool) -> impl IntoView {
    (!lost.is_empty()).then(|| {
        let heading = if edit {
            "Everything the container has is carried over to its replacement, except:"
        } else {
            "The duplicate has all of these settings, but not:"
        };
        view! {
            <div class="notice notice-warn not-carried" data-testid="not-carried" role="note">
                <strong>{heading}</strong>
                <ul>{lost.into_iter().map(|l| view! { <li>{l}</li> }).collect_view()}</ul>
            </div>
        }
    })
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
            <Section title="Process: entrypoint, user, stop, platform" error f fields=&PROCESS>
                <div class="form-grid">
                    <TextField label="Entrypoint" name="entrypoint" value=f.entrypoint placeholder="the image's default" mono=true error=err("entrypoint") />
                    <TextField label="Working directory" name="workdir" value=f.workdir placeholder="/app" mono=true error=err("workdir") />
                    <TextField label="User" name="user" value=f.user placeholder="1000:1000" error=err("user") />
                    <TextField label="Host name" name="hostname" value=f.hostname placeholder="the container id" error=err("hostname") />
                    <TextField label="Stop signal" name="stop_signal" value=f.stop_signal placeholder="SIGTERM" mono=true error=err("stop_signal") />
                    <TextField label="Stop timeout (seconds)" name="stop_timeout" value=f.stop_timeout placeholder="10" error=err("stop_timeout") />
                    <TextField label="Platform" name="platform" value=f.platform placeholder="linux/amd64" mono=true
                        hint="Pulls and runs the build for this platform." error=err("platform") />
                </div>
                <div class="checks">
                    <Check name="init" value=f.init label="Run an init process (--init): reaps zombies, forwards signals" />
                    <Check name="read_only" value=f.read_only label="Read-only root filesystem (--read-only)" />
                </div>
            </Section>
            <Section title="Limits: memory, CPUs, processes, ulimits" error f fields=&LIMITS>
                <div class="form-grid">
                    <TextField label="Memory limit" name="memory" value=f.memory placeholder="256m, 1g" error=err("memory") />
                    <TextField label="CPUs" name="cpus" value=f.cpus placeholder="0.5" error=err("cpus") />
                    <TextField label="Process limit" name="pids_limit" value=f.pids_limit placeholder="no limit" error=err("pids_limit") />
                    <TextField label="Shared memory (/dev/shm)" name="shm_size" value=f.shm_size placeholder="64m" error=err("shm_size") />
                    <LinesField label="Ulimits" name="ulimits" value=f.ulimits placeholder="nofile=1024:2048" hint="--ulimit: name=soft[:hard], one per line." error=err("ulimits") />
                    <LinesField label="Kernel parameters" name="sysctls" value=f.sysctls placeholder="net.ipv4.ip_forward=1" hint="--sysctl: key=value per line (namespaced ones: net.*, kernel.shm*, …)." error=err("sysctls") />
                </div>
            </Section>
            <Section title="Health check" error f fields=&HEALTH>
                <TextField label="Check to run" name="health_cmd" value=f.health_cmd placeholder="the image's, if any" mono=true
                    hint="Run by a shell inside the container; exit 0 means healthy (--health-cmd)." error=err("health_cmd") />
                <div class="form-grid">
                    <TextField label="Interval" name="health_interval" value=f.health_interval placeholder="30s" error=err("health_interval") />
                    <TextField label="Timeout" name="health_timeout" value=f.health_timeout placeholder="30s" error=err("health_timeout") />
                    <TextField label="Start period" name="health_start_period" value=f.health_start_period placeholder="0s" error=err("health_start_period") />
                    <TextField label="Retries" name="health_retries" value=f.health_retries placeholder="3" error=err("health_retries") />
                </div>
                <div class="checks">
                    <Check name="no_healthcheck" value=f.no_healthcheck label="Turn every health check off (--no-healthcheck)" />
                </div>
                <span class="field-error" role="alert">{err("no_healthcheck")}</span>
            </Section>
            <Section title="Networking: aliases, addresses, more networks, DNS, hosts" error f fields=&NETWORKING>
                <div class="form-grid">
                    <TextField label="Aliases on the network" name="network_alias" value=f.network_alias placeholder="web api" mono=true
                        hint="--network-alias: names on the main network (one of your own)." error=err("network_alias") />
                    <TextField label="IPv4 address" name="ip" value=f.ip placeholder="assigned by the engine" mono=true error=err("ip") />
                    <TextField label="IPv6 address" name="ip6" value=f.ip6 placeholder="assigned by the engine" mono=true error=err("ip6") />
                    <LinesField label="More networks" name="networks" value=f.networks placeholder="backend,alias=db,ip=10.1.0.5"
                        hint="One per line: name[,alias=…][,ip=…][,ip6=…]." error=err("networks") />
                    <TextField label="DNS servers" name="dns" value=f.dns placeholder="10.0.0.53 1.1.1.1" mono=true error=err("dns") />
                    <TextField label="DNS search domains" name="dns_search" value=f.dns_search placeholder="example.internal" mono=true error=err("dns_search") />
                    <TextField label="DNS options" name="dns_option" value=f.dns_option placeholder="ndots:2" mono=true error=err("dns_option") />
                    <LinesField label="Extra hosts" name="add_host" value=f.add_host placeholder="db:10.0.0.2"
                        hint="--add-host: name:address per line (host-gateway for the host)." error=err("add_host") />
                </div>
            </Section>
            <Section title="Storage: mounts with options, tmpfs, volumes from" error f fields=&STORAGE>
                <LinesField label="Mounts" name="mounts" value=f.mounts placeholder="type=volume,source=data,target=/data,readonly"
                    hint="--mount, one per line: type=volume|bind|tmpfs, source, target, readonly, volume-driver, volume-opt=k=v, tmpfs-size, …" error=err("mounts") />
                <div class="form-grid">
                    <LinesField label="Tmpfs" name="tmpfs" value=f.tmpfs placeholder="/run:size=64m" hint="--tmpfs: /path[:options], one per line." error=err("tmpfs") />
                    <LinesField label="Volumes from" name="volumes_from" value=f.volumes_from placeholder="other-container:ro" hint="Containers whose volumes to mount, one per line." error=err("volumes_from") />
                    <TextField label="Volume driver" name="volume_driver" value=f.volume_driver placeholder="local" mono=true
                        hint="--volume-driver: for the named volumes above." error=err("volume_driver") />
                </div>
            </Section>
            <Section title="Logging" error f fields=&LOGGING>
                <div class="form-grid">
                    <TextField label="Log driver" name="log_driver" value=f.log_driver placeholder="the engine's default (json-file)" mono=true error=err("log_driver") />
                    <LinesField label="Log options" name="log_opts" value=f.log_opts placeholder="max-size=10m" hint="--log-opt: key=value per line." error=err("log_opts") />
                </div>
            </Section>
            <details class="advanced host-access" open=section_open(error, f, &HOST_ACCESS) data-testid="host-access">
                <summary>"Host access: privileged, capabilities, devices, GPUs, security, namespaces"</summary>
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
                    <TextField label="Drop capabilities" name="cap_drop" value=f.cap_drop placeholder="NET_RAW or ALL" mono=true
                        hint="--cap-drop: takes power away; always allowed." error=err("cap_drop") />
                    <LinesField label="Devices" name="devices" value=f.devices placeholder="/dev/fuse" hint="--device: /dev/x, /dev/x:/dev/y or /dev/x:/dev/y:rwm, one per line." error=err("devices") />
                    <TextField label="GPUs" name="gpus" value=f.gpus placeholder="all" mono=true
                        hint="--gpus: all, a number, or count=…,driver=…,device=…,capabilities=…" error=err("gpus") />
                    <LinesField label="Security options" name="security_opt" value=f.security_opt placeholder="no-new-privileges"
                        hint="--security-opt, one per line; anything but no-new-privileges lifts confinement." error=err("security_opt") />
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

/// The fields of each part of the form below the common ones.
const PROCESS: [&str; 9] = [
    "entrypoint",
    "workdir",
    "user",
    "hostname",
    "stop_signal",
    "stop_timeout",
    "platform",
    "init",
    "read_only",
];
const LIMITS: [&str; 6] = [
    "memory",
    "cpus",
    "pids_limit",
    "shm_size",
    "ulimits",
    "sysctls",
];
const HEALTH: [&str; 6] = [
    "health_cmd",
    "health_interval",
    "health_timeout",
    "health_start_period",
    "health_retries",
    "no_healthcheck",
];
const NETWORKING: [&str; 8] = [
    "network_alias",
    "ip",
    "ip6",
    "networks",
    "dns",
    "dns_search",
    "dns_option",
    "add_host",
];
const STORAGE: [&str; 4] = ["mounts", "tmpfs", "volumes_from", "volume_driver"];
const LOGGING: [&str; 2] = ["log_driver", "log_opts"];
const HOST_ACCESS: [&str; 10] = [
    "privileged",
    "cap_add",
    "cap_drop",
    "devices",
    "gpus",
    "security_opt",
    "pid",
    "ipc",
    "network",
    "host_network",
];

/// Whether a field of the form holds something (so an edit shows what the container has).
fn has_value(f: Fields, field: &str) -> bool {
    let text = |s: RwSignal<String>| !s.get_untracked().trim().is_empty();
    match field {
        "entrypoint" => text(f.entrypoint),
        "workdir" => text(f.workdir),
        "user" => text(f.user),
        "hostname" => text(f.hostname),
        "stop_signal" => text(f.stop_signal),
        "stop_timeout" => text(f.stop_timeout),
        "platform" => text(f.platform),
        "init" => f.init.get_untracked(),
        "read_only" => f.read_only.get_untracked(),
        "memory" => text(f.memory),
        "cpus" => text(f.cpus),
        "pids_limit" => text(f.pids_limit),
        "shm_size" => text(f.shm_size),
        "ulimits" => text(f.ulimits),
        "sysctls" => text(f.sysctls),
        "health_cmd" => text(f.health_cmd),
        "health_interval" => text(f.health_interval),
        "health_timeout" => text(f.health_timeout),
        "health_start_period" => text(f.health_start_period),
        "health_retries" => text(f.health_retries),
        "no_healthcheck" => f.no_healthcheck.get_untracked(),
        "network_alias" => text(f.network_alias),
        "ip" => text(f.ip),
        "ip6" => text(f.ip6),
        "networks" => text(f.networks),
        "dns" => text(f.dns),
        "dns_search" => text(f.dns_search),
        "dns_option" => text(f.dns_option),
        "add_host" => text(f.add_host),
        "mounts" => text(f.mounts),
        "tmpfs" => text(f.tmpfs),
        "volumes_from" => text(f.volumes_from),
        "volume_driver" => text(f.volume_driver),
        // The engine reports its default driver for every container: not worth opening for.
        "log_driver" => !matches!(f.log_driver.get_untracked().trim(), "" | "json-file"),
        "log_opts" => text(f.log_opts),
        "privileged" => f.privileged.get_untracked(),
        "cap_add" => text(f.cap_add),
        "cap_drop" => text(f.cap_drop),
        "devices" => text(f.devices),
        "gpus" => text(f.gpus),
        "security_opt" => text(f.security_opt),
        "pid" => text(f.pid),
        "ipc" => text(f.ipc),
        "host_network" => f.network.get_untracked().trim() == "host",
        _ => false,
    }
}

/// A part opens when it holds something or when the error is about one of its fields.
fn section_open(
    error: RwSignal<Option<AppError>>,
    f: Fields,
    fields: &'static [&'static str],
) -> impl Fn() -> bool + Send + Sync + Copy {
    let has_something = fields.iter().any(|x| has_value(f, x));
    move || {
        has_something
            || match error.get() {
                Some(AppError::Invalid { field, .. } | AppError::Denied { field, .. }) => fields
                    .iter()
                    .any(|x| field == *x || field.starts_with(&format!("{x}["))),
                _ => false,
            }
    }
}

/// One folding part of the form.
#[component]
fn Section(
    title: &'static str,
    error: RwSignal<Option<AppError>>,
    f: Fields,
    fields: &'static [&'static str],
    children: Children,
) -> impl IntoView {
    view! {
        <details class="advanced" open=section_open(error, f, fields)>
            <summary>{title}</summary>
            {children()}
        </details>
    }
}

/// A checkbox bound to `value`.
#[component]
fn Check(name: &'static str, value: RwSignal<bool>, label: &'static str) -> impl IntoView {
    view! {
        <label class="check">
            <input type="checkbox" name=name prop:checked=move || value.get() on:change=move |ev| value.set(event_target_checked(&ev)) />
            <span>{label}</span>
        </label>
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
        "cap_drop" => "the capabilities to drop".into(),
        "add_host" => "the extra hosts".into(),
        "dns" => "the DNS servers".into(),
        "dns_option" => "the DNS options".into(),
        "ip" => "the IPv4 address".into(),
        "ip6" => "the IPv6 address".into(),
        "networks" => "the further networks".into(),
        "network_alias" => "the network aliases".into(),
        "pids_limit" => "the process limit".into(),
        "shm_size" => "the shared memory size".into(),
        "sysctls" => "the kernel parameters".into(),
        "log_opts" => "the log options".into(),
        "gpus" => "the GPUs".into(),
        "security_opt" => "the security options".into(),
        "no_healthcheck" => "the health check".into(),
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
