//! Users and who may do what on which host: admins only.

use leptos::prelude::*;

use crate::components::badge::{Badge, Tone};
use crate::components::confirm::Confirm;
use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::format;
use crate::model::{GrantView, RoleView, UserView};

#[server(output = crate::codec::TextJson)]
pub async fn list_users() -> Result<Vec<UserView>, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .users(&c)
        .await?
        .into_iter()
        .map(UserView::from)
        .collect())
}

#[server(output = crate::codec::TextJson)]
pub async fn create_user(
    username: String,
    password: String,
    admin: Option<String>,
) -> Result<UserView, AppError> {
    let c = crate::ssr::caller()?;
    let new = backend::ops::access::NewUser {
        username: &username,
        password: &password,
        admin: admin.is_some(),
    };
    Ok(crate::ssr::ops()?.create_user(&c, &new).await?.into())
}

#[server(output = crate::codec::TextJson)]
pub async fn update_user(
    id: i64,
    admin: Option<bool>,
    disabled: Option<bool>,
    password: Option<String>,
) -> Result<UserView, AppError> {
    let c = crate::ssr::caller()?;
    let patch = backend::auth::UserPatch {
        admin,
        disabled,
        password: password.filter(|p| !p.is_empty()),
    };
    Ok(crate::ssr::ops()?.update_user(&c, id, patch).await?.into())
}

#[server(output = crate::codec::TextJson)]
pub async fn delete_user(id: i64) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.remove_user(&c, id).await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn list_access() -> Result<Vec<(String, Vec<GrantView>)>, AppError> {
    let c = crate::ssr::caller()?;
    let ops = crate::ssr::ops()?;
    let mut out = Vec::new();
    for host in crate::ssr::fleet()?.visible(&c.who, backend::policy::HostAction::View) {
        let grants = ops
            .grants(&c, &host.slug)
            .await?
            .into_iter()
            .map(GrantView::from)
            .collect();
        out.push((host.slug.clone(), grants));
    }
    Ok(out)
}

#[server(output = crate::codec::TextJson)]
pub async fn grant(host: String, user: i64, role: RoleView) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    let who = backend::ops::access::Subject {
        kind: backend::auth::SubjectKind::User,
        id: user,
    };
    Ok(crate::ssr::ops()?
        .set_grant(&c, &host, who, role.into())
        .await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn revoke(host: String, user: i64) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    let who = backend::ops::access::Subject {
        kind: backend::auth::SubjectKind::User,
        id: user,
    };
    Ok(crate::ssr::ops()?.remove_grant(&c, &host, who).await?)
}

/// Admins get the page; everyone else a "not allowed" page with a 403.
#[component]
pub fn UsersPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::client::session::current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(m) if m.admin => view! { <UsersAdmin /> }.into_any(),
                    _ => view! { <crate::components::page::NotAllowed /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn UsersAdmin() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let delete = ServerAction::<DeleteUser>::new();
    let grant = ServerAction::<Grant>::new();
    let revoke = ServerAction::<Revoke>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                update.version().get(),
                delete.version().get(),
            )
        },
        |_| list_users(),
    );
    let access = Resource::new(
        move || {
            (
                grant.version().get(),
                revoke.version().get(),
                delete.version().get(),
            )
        },
        |_| list_access(),
    );
    let problem = move || {
        [
            update.value().get().and_then(Result::err),
            delete.value().get().and_then(Result::err),
            grant.value().get().and_then(Result::err),
            revoke.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <div class="notice notice-bad" role="alert">{e.to_string()}</div> })
    };

    view! {
        <PageHeader title="Users & access" />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                users.await.ok().map(|list| {
                    let admins = list.iter().filter(|u| u.admin && !u.disabled).count();
                    let disabled = list.iter().filter(|u| u.disabled).count();
                    view! {
                        <p class="page-summary">
                            {format!("{} · {} · {} disabled", format::plural(list.len(), "user", "users"), format::plural(admins, "admin", "admins"), disabled)}
                        </p>
                    }
                })
            })}
        </Transition>
        {problem}
        <div class="panels panels-wide">
            <section class="panel" aria-labelledby="users-title">
                <h2 id="users-title">"Users"</h2>
                <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                    {move || Suspend::new(async move {
                        match users.await {
                            Ok(list) => view! { <UserTable list update delete /> }.into_any(),
                            Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                        }
                    })}
                </Transition>
                <NewUserForm create />
            </section>
            <section class="panel" aria-labelledby="access-title">
                <h2 id="access-title">"Host access"</h2>
                <p class="muted small">
                    "Viewers see a host and its logs; operators also start and stop; managers also create, remove and exec. Admins manage every host."
                </p>
                <Transition fallback=|| view! { <p class="muted">"Loading access…"</p> }>
                    {move || Suspend::new(async move {
                        match (access.await, users.await) {
                            (Ok(hosts), Ok(people)) => view! { <AccessTable hosts people grant revoke /> }.into_any(),
                            (Err(e), _) | (_, Err(e)) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                        }
                    })}
                </Transition>
            </section>
        </div>
    }
}

#[component]
fn NewUserForm(create: ServerAction<CreateUser>) -> impl IntoView {
    let form = NodeRef::<leptos::html::Form>::new();
    // Clear the fields once the user exists, ready for the next one.
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(f)) = (create.value().get(), form.get()) {
            f.reset();
        }
    });
    let result = move || match create.value().get() {
        Some(Ok(u)) => Some(
            view! { <p class="form-ok" role="status">{format!("Created {}.", u.username)}</p> }
                .into_any(),
        ),
        Some(Err(e)) => {
            Some(view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any())
        }
        None => None,
    };
    view! {
        <h3>"Add a user"</h3>
        <ActionForm action=create node_ref=form attr:class="inline-form">
            <label class="field">
                <span>"Username"</span>
                <input name="username" autocomplete="off" required maxlength="64" />
            </label>
            <label class="field">
                <span>"Password"</span>
                <input name="password" type="password" autocomplete="new-password" minlength="12" required />
            </label>
            <label class="check">
                <input type="checkbox" name="admin" value="on" />
                <span>"Admin"</span>
            </label>
            <button type="submit" class="button button-primary">"Add user"</button>
        </ActionForm>
        {result}
    }
}

#[component]
fn UserTable(
    list: Vec<UserView>,
    update: ServerAction<UpdateUser>,
    delete: ServerAction<DeleteUser>,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table table-cards" aria-label="Users">
                <thead>
                    <tr>
                        <th scope="col">"User"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Last sign-in"</th>
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {list.into_iter().map(|u| view! { <UserRow u update delete /> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn UserRow(
    u: UserView,
    update: ServerAction<UpdateUser>,
    delete: ServerAction<DeleteUser>,
) -> impl IntoView {
    let id = u.id;
    let (admin, disabled) = (u.admin, u.disabled);
    let name = u.username.clone();
    let resetting = RwSignal::new(false);
    let new_password = RwSignal::new(String::new());
    view! {
        <tr data-user=u.username.clone()>
            <td data-label="User" class="cell-primary">
                <div class="strong">{u.username.clone()}</div>
                <div class="muted small">{if admin { "admin" } else { "member" }} " · since " {format::datetime(u.created_at)}</div>
            </td>
            <td data-label="Status">
                {if disabled { view! { <Badge tone=Tone::Idle label="disabled" /> } } else { view! { <Badge tone=Tone::Good label="active" /> } }}
            </td>
            <td data-label="Last sign-in">{u.last_login_at.map(format::datetime).unwrap_or_else(|| "never".into())}</td>
            <td class="actions">
                <button type="button" class="button button-quiet" on:click=move |_| { update.dispatch(UpdateUser { id, admin: Some(!admin), disabled: None, password: None }); }>
                    {if admin { "Remove admin" } else { "Make admin" }}
                </button>
                <button type="button" class="button button-quiet" on:click=move |_| { update.dispatch(UpdateUser { id, admin: None, disabled: Some(!disabled), password: None }); }>
                    {if disabled { "Enable" } else { "Disable" }}
                </button>
                <Show
                    when=move || resetting.get()
                    fallback=move || view! { <button type="button" class="button button-quiet" on:click=move |_| resetting.set(true)>"Reset password"</button> }
                >
                    <span class="confirm">
                        <input type="password" minlength="12" placeholder="new password" aria-label="New password"
                            bind:value=new_password />
                        <button type="button" class="button" on:click=move |_| {
                            update.dispatch(UpdateUser { id, admin: None, disabled: None, password: Some(new_password.get()) });
                            new_password.set(String::new());
                            resetting.set(false);
                        }>"Save"</button>
                        <button type="button" class="button" on:click=move |_| resetting.set(false)>"Cancel"</button>
                    </span>
                </Show>
                <Confirm label="Delete" question=format!("Delete user {name}?") on_yes=move || { delete.dispatch(DeleteUser { id }); } />
            </td>
        </tr>
    }
}

#[component]
fn AccessTable(
    hosts: Vec<(String, Vec<GrantView>)>,
    people: Vec<UserView>,
    grant: ServerAction<Grant>,
    revoke: ServerAction<Revoke>,
) -> impl IntoView {
    let members: Vec<UserView> = people.into_iter().filter(|u| !u.admin).collect();
    let host_names: Vec<String> = hosts.iter().map(|(h, _)| h.clone()).collect();
    view! {
        <div class="table-wrap">
            <table class="table table-cards" aria-label="Host access">
                <thead>
                    <tr>
                        <th scope="col">"Host"</th>
                        <th scope="col">"Who"</th>
                    </tr>
                </thead>
                <tbody>
                    {hosts
                        .into_iter()
                        .map(|(host, grants)| {
                            let empty = grants.is_empty();
                            view! {
                                <tr data-access=host.clone()>
                                    <td data-label="Host" class="cell-primary strong">
                                        <a href=format!("/hosts/{host}/access") title="Grants to users and teams, and guardrails">{host.clone()}</a>
                                    </td>
                                    <td data-label="Who">
                                        {empty.then(|| view! { <span class="muted">"admins only"</span> })}
                                        <ul class="grant-list">
                                            {grants
                                                .into_iter()
                                                .map(|g| {
                                                    let (host, user) = (g.host.clone(), g.subject_id);
                                                    // Team grants are managed on the host's access page.
                                                    let team = g.subject == "team";
                                                    let page = format!("/hosts/{}/access", g.host);
                                                    view! {
                                                        <li>
                                                            <span class="strong">{if team { format!("team {}", g.name) } else { g.name.clone() }}</span>
                                                            <span class="chip">{g.role.as_str()}</span>
                                                            {if team {
                                                                view! { <a class="link-button" href=page>"manage"</a> }.into_any()
                                                            } else {
                                                                view! {
                                                                    <button type="button" class="link-button" aria-label=format!("Revoke {} on {}", g.name, g.host)
                                                                        on:click=move |_| { revoke.dispatch(Revoke { host: host.clone(), user }); }>
                                                                        "revoke"
                                                                    </button>
                                                                }.into_any()
                                                            }}
                                                        </li>
                                                    }
                                                })
                                                .collect_view()}
                                        </ul>
                                    </td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </div>
        <h3>"Grant access"</h3>
        {if members.is_empty() {
            view! { <p class="muted">"Add a user who is not an admin to grant them a host."</p> }.into_any()
        } else {
            view! {
                <ActionForm action=grant attr:class="inline-form">
                    <label class="field">
                        <span>"User"</span>
                        <select name="user">
                            {members.into_iter().map(|u| view! { <option value=u.id.to_string()>{u.username}</option> }).collect_view()}
                        </select>
                    </label>
                    <label class="field">
                        <span>"Host"</span>
                        <select name="host">
                            {host_names.into_iter().map(|h| view! { <option value=h.clone()>{h.clone()}</option> }).collect_view()}
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
            }
            .into_any()
        }}
    }
}
