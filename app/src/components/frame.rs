use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use crate::model::MeView;
use crate::pages::login::{current_user, Logout};

/// The frame around every signed-in page: the navigation (a side bar on wide screens, a top bar
/// with a menu on phones), who is signed in, and the content. The phone menu is a checkbox, so
/// it works before hydration.
#[component]
pub fn Frame() -> impl IntoView {
    let me = Resource::new(|| (), |_| current_user());
    view! {
        <div class="frame">
            <input type="checkbox" id="nav-toggle" class="nav-toggle" />
            <header class="topbar">
                <a href="/" class="brand">
                    <span class="brand-mark" aria-hidden="true">"⎈"</span>
                    "Capstan"
                </a>
                <span class="topbar-end">
                    <Suspense fallback=|| ()>
                        {move || Suspend::new(async move {
                            me.await.ok().map(|m| {
                                let letter = initial(&m.username);
                                let title = format!("Signed in as {}", m.username);
                                view! { <A href="/account" attr:class="avatar" attr:title=title>{letter}</A> }
                            })
                        })}
                    </Suspense>
                    <label for="nav-toggle" class="nav-toggle-label" aria-label="Menu">
                        <span aria-hidden="true">"☰"</span>
                    </label>
                </span>
            </header>
            <aside class="sidebar">
                <a href="/" class="brand brand-side">
                    <span class="brand-mark" aria-hidden="true">"⎈"</span>
                    "Capstan"
                </a>
                <Suspense fallback=|| view! { <Nav admin=false /> }>
                    {move || Suspend::new(async move {
                        let me = me.await.ok();
                        let admin = me.as_ref().is_some_and(|m| m.admin);
                        view! {
                            <Nav admin />
                            {me.map(|m| view! { <UserBox me=m /> })}
                        }
                    })}
                </Suspense>
            </aside>
            <main id="main" class="content">
                <Outlet />
            </main>
        </div>
    }
}

#[component]
fn Nav(admin: bool) -> impl IntoView {
    view! {
        <nav aria-label="Main">
            <ul>
                <li><A href="/hosts">"Hosts"</A></li>
                <li><A href="/containers">"Containers"</A></li>
                <li><A href="/images">"Images"</A></li>
                <li><A href="/volumes">"Volumes"</A></li>
                <li><A href="/networks">"Networks"</A></li>
                <li><A href="/events">"Events"</A></li>
                {admin.then(|| view! {
                    <li class="nav-section" aria-hidden="true">"Admin"</li>
                    <li><A href="/users">"Users & access"</A></li>
                    <li><A href="/teams">"Teams"</A></li>
                    <li><A href="/audit">"Audit log"</A></li>
                    <li><A href="/registries">"Registries"</A></li>
                })}
            </ul>
        </nav>
    }
}

#[component]
fn UserBox(me: MeView) -> impl IntoView {
    let logout = ServerAction::<Logout>::new();
    let role = if me.admin { "admin" } else { "member" };
    view! {
        <div class="userbox">
            <A href="/account" attr:class="userbox-name" attr:title="Your account and API tokens">
                <span class="avatar" aria-hidden="true">{initial(&me.username)}</span>
                <span>
                    <span class="strong" data-testid="signed-in-user">{me.username.clone()}</span>
                    <span class="muted small block">{role}</span>
                </span>
            </A>
            <ActionForm action=logout>
                <button type="submit" class="button button-quiet">"Sign out"</button>
            </ActionForm>
        </div>
    }
}

fn initial(name: &str) -> char {
    name.chars().next().map(|c| c.to_ascii_uppercase()).unwrap_or('?')
}
