//! `/teams`: admins create, rename and delete teams and manage their members. Grants naming a
//! team are set on each host's access page.

use leptos::prelude::*;

use crate::components::confirm::Confirm;
use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::format;
use crate::model::access::TeamView;
use crate::model::UserView;

#[server(output = crate::codec::TextJson)]
pub async fn list_teams() -> Result<Vec<TeamView>, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .team_list(&c)
        .await?
        .into_iter()
        .map(TeamView::from)
        .collect())
}

#[server(output = crate::codec::TextJson)]
pub async fn create_team(name: String) -> Result<TeamView, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.create_team(&c, &name).await?.into())
}

#[server(output = crate::codec::TextJson)]
pub async fn rename_team(id: i64, name: String) -> Result<TeamView, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.rename_team(&c, id, &name).await?.into())
}

#[server(output = crate::codec::TextJson)]
pub async fn delete_team(id: i64) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.remove_team(&c, id).await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn add_team_member(team: i64, user: i64) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    crate::ssr::ops()?.add_team_member(&c, team, user).await?;
    Ok(())
}

#[server(output = crate::codec::TextJson)]
pub async fn remove_team_member(team: i64, user: i64) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .remove_team_member(&c, team, user)
        .await?)
}

/// Admins get the page; everyone else a "not allowed" page.
#[component]
pub fn TeamsPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::client::session::current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(m) if m.admin => view! { <TeamsAdmin /> }.into_any(),
                    _ => view! { <crate::components::page::NotAllowed /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[derive(Clone, Copy)]
struct Actions {
    rename: ServerAction<RenameTeam>,
    delete: ServerAction<DeleteTeam>,
    add: ServerAction<AddTeamMember>,
    remove: ServerAction<RemoveTeamMember>,
}

#[component]
fn TeamsAdmin() -> impl IntoView {
    let create = ServerAction::<CreateTeam>::new();
    let actions = Actions {
        rename: ServerAction::new(),
        delete: ServerAction::new(),
        add: ServerAction::new(),
        remove: ServerAction::new(),
    };
    let teams = Resource::new(
        move || {
            (
                create.version().get(),
                actions.rename.version().get(),
                actions.delete.version().get(),
                actions.add.version().get(),
                actions.remove.version().get(),
            )
        },
        |_| list_teams(),
    );
    let users = Resource::new(|| (), |_| crate::pages::people::users::list_users());
    let problem = move || {
        [
            create.value().get().and_then(Result::err),
            actions.rename.value().get().and_then(Result::err),
            actions.delete.value().get().and_then(Result::err),
            actions.add.value().get().and_then(Result::err),
            actions.remove.value().get().and_then(Result::err),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| view! { <div class="notice notice-bad" role="alert">{e.to_string()}</div> })
    };
    view! {
        <PageHeader title="Teams" />
        <p class="page-summary">
            "A team's members get the role the team is granted on a host (set on the host's access page); a member's role is the highest of their own and their teams'."
        </p>
        {problem}
        <section class="panel" aria-labelledby="teams-title">
            <h2 id="teams-title">"Teams"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading teams…"</p> }>
                {move || Suspend::new(async move {
                    match (teams.await, users.await) {
                        (Ok(list), Ok(people)) if list.is_empty() => {
                            let _ = people;
                            view! { <p class="muted">"No teams yet."</p> }.into_any()
                        }
                        (Ok(list), Ok(people)) => view! {
                            <div class="team-list">
                                {list.into_iter().map(|t| view! { <TeamCard team=t people=people.clone() actions /> }).collect_view()}
                            </div>
                        }
                        .into_any(),
                        (Err(e), _) | (_, Err(e)) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                    }
                })}
            </Transition>
            <h3>"New team"</h3>
            <ActionForm action=create attr:class="inline-form">
                <label class="field">
                    <span>"Name"</span>
                    <input name="name" autocomplete="off" required maxlength="64" />
                </label>
                <button type="submit" class="button button-primary">"Create team"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn TeamCard(team: TeamView, people: Vec<UserView>, actions: Actions) -> impl IntoView {
    let id = team.id;
    let name = team.name.clone();
    let renaming = RwSignal::new(false);
    let new_name = RwSignal::new(team.name.clone());
    let candidates: Vec<UserView> = people
        .into_iter()
        .filter(|u| !team.members.iter().any(|m| m.user_id == u.id))
        .collect();
    let chosen = RwSignal::new(
        candidates
            .first()
            .map(|u| u.id.to_string())
            .unwrap_or_default(),
    );
    let has_candidates = !candidates.is_empty();
    view! {
        <article class="panel team-card" data-team=team.name.clone()>
            <header class="team-head">
                <h3 class="strong">{team.name.clone()}</h3>
                <span class="muted small">{format::plural(team.members.len(), "member", "members")} " · since " {format::datetime(team.created_at)}</span>
                <span class="actions">
                    <Show
                        when=move || renaming.get()
                        fallback=move || view! { <button type="button" class="button button-quiet" on:click=move |_| renaming.set(true)>"Rename"</button> }
                    >
                        <span class="confirm">
                            <input aria-label="New team name" maxlength="64" bind:value=new_name />
                            <button type="button" class="button" on:click=move |_| {
                                actions.rename.dispatch(RenameTeam { id, name: new_name.get() });
                                renaming.set(false);
                            }>"Save"</button>
                            <button type="button" class="button" on:click=move |_| renaming.set(false)>"Cancel"</button>
                        </span>
                    </Show>
                    <Confirm label="Delete" question=format!("Delete team {name} and its grants?") on_yes=move || { actions.delete.dispatch(DeleteTeam { id }); } />
                </span>
            </header>
            <ul class="grant-list" aria-label=format!("Members of {}", team.name)>
                {team.members.is_empty().then(|| view! { <li class="muted">"No members."</li> })}
                {team
                    .members
                    .into_iter()
                    .map(|m| {
                        let user = m.user_id;
                        view! {
                            <li>
                                <span class="strong">{m.username.clone()}</span>
                                <button type="button" class="link-button" aria-label=format!("Remove {} from the team", m.username)
                                    on:click=move |_| { actions.remove.dispatch(RemoveTeamMember { team: id, user }); }>
                                    "remove"
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
            {has_candidates.then(|| view! {
                <div class="inline-form">
                    <label class="field">
                        <span>"Add member"</span>
                        <select aria-label=format!("User to add to {name}", name = team.name) bind:value=chosen>
                            {candidates.into_iter().map(|u| view! { <option value=u.id.to_string()>{u.username}</option> }).collect_view()}
                        </select>
                    </label>
                    <button type="button" class="button" on:click=move |_| {
                        if let Ok(user) = chosen.get().parse::<i64>() {
                            actions.add.dispatch(AddTeamMember { team: id, user });
                        }
                    }>"Add"</button>
                </div>
            })}
        </article>
    }
}
