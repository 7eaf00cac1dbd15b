//! `/hosts/:host/access`: who may do what on one host — direct grants and team grants (with the
//! team's members, who get the role through it) — and the host's guardrails for non-admins.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::model::access::{BindMountsView, GuardrailsView, HostAccessView};
use crate::model::RoleView;

#[server(output = crate::codec::TextJson)]
pub async fn host_access(host: String) -> Result<HostAccessView, AppError> {
    let c = crate::ssr::caller()?;
    let ops = crate::ssr::ops()?;
    Ok(HostAccessView {
        grants: crate::ssr::views(ops.grants(&c, &host).await?),
        teams: crate::ssr::views(ops.team_list(&c).await?),
        users: crate::ssr::views(ops.users(&c).await?),
        guardrails: ops.guardrails(&c, &host).await?.into(),
        host,
    })
}

/// `subject` is `user:<id>` or `team:<id>`.
#[cfg(feature = "ssr")]
fn parse_subject(subject: &str) -> Result<backend::ops::access::Subject, AppError> {
    use backend::auth::SubjectKind;
    let bad = || AppError::Invalid {
        field: "subject".into(),
        message: "choose a user or a team".into(),
    };
    let (kind, id) = subject.split_once(':').ok_or_else(bad)?;
    let id = id.parse().map_err(|_| bad())?;
    let kind = match kind {
        "user" => SubjectKind::User,
        "team" => SubjectKind::Team,
        _ => return Err(bad()),
    };
    Ok(backend::ops::access::Subject { kind, id })
}

#[server(output = crate::codec::TextJson)]
pub async fn set_host_grant(host: String, subject: String, role: RoleView) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    let who = parse_subject(&subject).map_err(AppError::respond)?;
    Ok(crate::ssr::ops()?
        .set_grant(&c, &host, who, role.into())
        .await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn remove_host_grant(host: String, subject: String) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    let who = parse_subject(&subject).map_err(AppError::respond)?;
    Ok(crate::ssr::ops()?.remove_grant(&c, &host, who).await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn save_guardrails(
    host: String,
    privileged: Option<String>,
    bind_mounts: BindMountsView,
    bind_prefixes: String,
    host_network: Option<String>,
    host_pid: Option<String>,
    host_ipc: Option<String>,
    bind_writable: Option<String>,
    cap_add: String,
    devices: String,
    volume_drivers: String,
    network_drivers: String,
    env_visible: Option<String>,
) -> Result<GuardrailsView, AppError> {
    let c = crate::ssr::caller()?;
    let lines = |text: &str, separators: &[char]| -> Vec<String> {
        text.split(separators)
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    let words = [',', '\n', ' ', '\t'];
    let view = GuardrailsView {
        privileged: privileged.is_some(),
        bind_mounts,
        bind_prefixes: lines(&bind_prefixes, &[',', '\n']),
        bind_writable: bind_writable.is_some(),
        host_network: host_network.is_some(),
        host_pid: host_pid.is_some(),
        host_ipc: host_ipc.is_some(),
        cap_add: lines(&cap_add, &words),
        // A cgroup rule (`c 10:229 rwm`) has spaces: one device or rule per line or comma.
        devices: lines(&devices, &[',', '\n']),
        volume_drivers: lines(&volume_drivers, &words),
        network_drivers: lines(&network_drivers, &words),
        env_visible: env_visible.is_some(),
    };
    let saved = crate::ssr::ops()?
        .set_guardrails(&c, &host, view.into())
        .await?;
    Ok(saved.into())
}

#[component]
pub fn HostAccessPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::client::session::current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(m) if m.admin => view! { <HostAccessAdmin /> }.into_any(),
                    _ => view! { <crate::components::page::NotAllowed /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn HostAccessAdmin() -> impl IntoView {
    let params = use_params_map();
    let host = move || params.read().get("host").unwrap_or_default();
    let set = ServerAction::<SetHostGrant>::new();
    let remove = ServerAction::<RemoveHostGrant>::new();
    let guard = ServerAction::<SaveGuardrails>::new();
    let access = Resource::new(
        move || {
            (
                host(),
                set.version().get(),
                remove.version().get(),
                guard.version().get(),
            )
        },
        |(h, ..)| host_access(h),
    );
    let problem = move || {
        [
            set.value().get().and_then(Result::err),
            remove.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <div class="notice notice-bad" role="alert">{e.to_string()}</div> })
    };
    view! {
        <PageHeader title="Host access" />
        <h2 class="strong">{host}</h2>
        <p class="page-summary">
            <a href=move || format!("/hosts/{}", host())>"← back to the host"</a>
            " · Admins manage every host; everyone else needs a grant, their own or a team's (the highest counts)."
        </p>
        {problem}
        <Transition fallback=|| view! { <p class="muted">"Loading access…"</p> }>
            {move || Suspend::new(async move {
                match access.await {
                    Ok(a) => view! {
                        <div class="panels panels-wide">
                            <GrantsPanel access=a.clone() set remove />
                            <GuardrailsPanel host=a.host.clone() g=a.guardrails.clone() guard />
                        </div>
                    }
                    .into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn GrantsPanel(
    access: HostAccessView,
    set: ServerAction<SetHostGrant>,
    remove: ServerAction<RemoveHostGrant>,
) -> impl IntoView {
    let HostAccessView {
        host,
        grants,
        teams,
        users,
        ..
    } = access;
    let empty = grants.is_empty();
    let rows = grants
        .into_iter()
        .map(|g| {
            let subject = format!("{}:{}", g.subject, g.subject_id);
            let via = (g.subject == "team")
                .then(|| teams.iter().find(|t| t.id == g.subject_id))
                .flatten()
                .map(|t| t.members.iter().map(|m| m.username.clone()).collect::<Vec<_>>().join(", "));
            let (h1, h2, s1, s2) = (host.clone(), host.clone(), subject.clone(), subject.clone());
            let current = g.role;
            view! {
                <tr data-grant=subject.clone()>
                    <td data-label="Who" class="cell-primary">
                        <span class="strong">{g.name.clone()}</span>
                        {via.map(|names| view! {
                            <div class="muted small">{if names.is_empty() { "no members yet".to_string() } else { format!("members get this role via team {}: {names}", g.name) }}</div>
                        })}
                    </td>
                    <td data-label="Kind">{g.subject.clone()}</td>
                    <td data-label="Role">
                        <select aria-label=format!("Role of {}", g.name) on:change=move |ev| {
                            if let Ok(role) = serde_json::from_value::<RoleView>(serde_json::Value::String(event_target_value(&ev))) {
                                set.dispatch(SetHostGrant { host: h1.clone(), subject: s1.clone(), role });
                            }
                        }>
                            {RoleView::ALL.into_iter().map(|r| view! { <option value=r.as_str() selected=r == current>{r.as_str()}</option> }).collect_view()}
                        </select>
                    </td>
                    <td class="actions">
                        <button type="button" class="button button-danger-quiet" aria-label=format!("Remove the grant of {}", g.name)
                            on:click=move |_| { remove.dispatch(RemoveHostGrant { host: h2.clone(), subject: s2.clone() }); }>"Remove"</button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    let members: Vec<_> = users.into_iter().filter(|u| !u.admin).collect();
    view! {
        <section class="panel" aria-labelledby="grants-title">
            <h2 id="grants-title">"Grants"</h2>
            {empty.then(|| view! { <p class="muted">"No grants: only admins see this host."</p> })}
            <div class="table-wrap">
                <table class="table table-cards" aria-label="Grants">
                    <thead><tr><th scope="col">"Who"</th><th scope="col">"Kind"</th><th scope="col">"Role"</th><th scope="col"><span class="sr-only">"Actions"</span></th></tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
            <h3>"Add a grant"</h3>
            <ActionForm action=set attr:class="inline-form">
                <input type="hidden" name="host" value=host.clone() />
                <label class="field">
                    <span>"User or team"</span>
                    <select name="subject" required>
                        <optgroup label="Teams">
                            {teams.into_iter().map(|t| view! { <option value=format!("team:{}", t.id)>{format!("team {}", t.name)}</option> }).collect_view()}
                        </optgroup>
                        <optgroup label="Users">
                            {members.into_iter().map(|u| view! { <option value=format!("user:{}", u.id)>{u.username}</option> }).collect_view()}
                        </optgroup>
                    </select>
                </label>
                <label class="field">
                    <span>"Role"</span>
                    <select name="role">
                        {RoleView::ALL.into_iter().map(|r| view! { <option value=r.as_str()>{r.as_str()}</option> }).collect_view()}
                    </select>
                </label>
                <button type="submit" class="button button-primary">"Grant"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn GuardrailsPanel(
    host: String,
    g: GuardrailsView,
    guard: ServerAction<SaveGuardrails>,
) -> impl IntoView {
    let check = |name: &'static str, label: &'static str, on: bool| {
        view! {
            <label class="check">
                <input type="checkbox" name=name value="on" checked=on />
                <span>{label}</span>
            </label>
        }
    };
    let list = |name: &'static str,
                label: &'static str,
                value: String,
                placeholder: &'static str,
                hint: &'static str| {
        view! {
            <label class="field">
                <span>{label}</span>
                <textarea name=name rows="2" class="mono" placeholder=placeholder>{value}</textarea>
                <small class="muted field-hint">{hint}</small>
            </label>
        }
    };
    let result = move || {
        guard.value().get().map(|r| match r {
            Ok(_) => view! { <p class="form-ok" role="status">"Guardrails saved."</p> }.into_any(),
            Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
        })
    };
    let bind = g.bind_mounts;
    view! {
        <section class="panel" aria-labelledby="guardrails-title">
            <h2 id="guardrails-title">"Guardrails for non-admins"</h2>
            <p class="muted small">"What managers who are not admins may ask of this host's engine when they create, edit or recreate a container and when they create volumes and networks. All off by default; admins are never limited."</p>
            <ActionForm action=guard attr:class="stack-form">
                <input type="hidden" name="host" value=host />
                {check("privileged", "Privileged containers (also seccomp or AppArmor unconfined, the host's user or UTS namespace)", g.privileged)}
                {check("host_network", "The host's network (network: host, or joining a container that has it)", g.host_network)}
                {check("host_pid", "The host's PID namespace", g.host_pid)}
                {check("host_ipc", "The host's IPC namespace", g.host_ipc)}
                {list("cap_add", "Capabilities they may add", g.cap_add.join(" "), "NET_ADMIN NET_RAW",
                    "Names separated by spaces. Never list SYS_ADMIN, SYS_MODULE, DAC_READ_SEARCH or ALL: each reaches the host.")}
                {list("devices", "Devices they may map", g.devices.join("\n"), "/dev/fuse",
                    "Host device paths (or cgroup rules such as c 10:229 rwm), one per line.")}
                <label class="field">
                    <span>"Host mounts: bind mounts, and local volumes with device, type or o options"</span>
                    <select name="bind_mounts">
                        <option value="never" selected=bind == BindMountsView::Never>"never"</option>
                        <option value="prefixes" selected=bind == BindMountsView::Prefixes>"only under these paths"</option>
                        <option value="any" selected=bind == BindMountsView::Any>"any path"</option>
                    </select>
                </label>
                <label class="field">
                    <span>"Allowed paths (comma or one per line)"</span>
                    <textarea name="bind_prefixes" rows="2" placeholder="/srv/data">{g.bind_prefixes.join("\n")}</textarea>
                </label>
                {check("bind_writable", "Binds under these paths may be writable", g.bind_writable)}
                <p class="notice notice-warn small" role="note">
                    "A path listed here must not be writable from any container, by anyone: the engine follows symbolic links, so a link planted under an allowed path (say "<code>"/srv/data/escape → /"</code>") hands out the whole host. Binds under the paths are mounted read-only unless you tick the box above."
                </p>
                {list("volume_drivers", "Volume drivers other than local", g.volume_drivers.join(" "), "nfs-plugin",
                    "Plugin names separated by spaces.")}
                {list("network_drivers", "Network drivers other than bridge and overlay", g.network_drivers.join(" "), "macvlan",
                    "macvlan, ipvlan and host reach the host's interfaces.")}
                {check("env_visible", "Viewers and operators see the values of containers' environment variables (else only the names; admins and this host's managers always see them)", g.env_visible)}
                <button type="submit" class="button button-primary">"Save guardrails"</button>
            </ActionForm>
            {result}
        </section>
    }
}
