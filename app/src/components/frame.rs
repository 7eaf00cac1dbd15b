use leptos::prelude::*;
use leptos_router::components::{Outlet, A};
use leptos_router::hooks::use_location;

use crate::client::session::{current_user, Logout};
use crate::model::MeView;

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

/// The sidebar entry a path belongs to: the longest entry that is a prefix of it, except that
/// a host's containers, images, volumes and networks (`/hosts/:host/containers/…`) belong to
/// their own entry, not to Hosts, and the run form belongs to Containers.
pub fn nav_section(path: &str) -> Option<&'static str> {
    const ENTRIES: [&str; 11] = [
        "/hosts",
        "/containers",
        "/images",
        "/volumes",
        "/networks",
        "/events",
        "/users",
        "/teams",
        "/audit",
        "/registries",
        "/api-reference",
    ];
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    if let ["hosts", _, kind, ..] = parts.as_slice() {
        if let Some(e) = ENTRIES.iter().find(|e| e[1..] == **kind) {
            return Some(e);
        }
    }
    if parts.first() == Some(&"run") {
        return Some("/containers");
    }
    let first = parts.first()?;
    ENTRIES.iter().copied().find(|e| e[1..] == **first)
}

#[component]
fn Nav(admin: bool) -> impl IntoView {
    let location = use_location();
    let current = Memo::new(move |_| nav_section(&location.pathname.get()));
    let link = move |href: &'static str, label: &'static str| {
        view! {
            <li>
                <a href=href aria-current=move || (current.get() == Some(href)).then_some("page")>{label}</a>
            </li>
        }
    };
    view! {
        <nav aria-label="Main">
            <ul>
                {link("/hosts", "Hosts")}
                {link("/containers", "Containers")}
                {link("/images", "Images")}
                {link("/volumes", "Volumes")}
                {link("/networks", "Networks")}
                {link("/events", "Events")}
                {link("/api-reference", "API")}
                {admin.then(|| view! {
                    <li class="nav-section" aria-hidden="true">"Admin"</li>
                    {link("/users", "Users & access")}
                    {link("/teams", "Teams")}
                    {link("/audit", "Audit log")}
                    {link("/registries", "Registries")}
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
    name.chars()
        .next()
        .map(|c| c.to_ascii_uppercase())
        .unwrap_or('?')
}

#[cfg(test)]
mod tests {
    use super::nav_section;

    #[test]
    fn a_hosts_containers_are_under_containers() {
        assert_eq!(nav_section("/hosts"), Some("/hosts"));
        assert_eq!(nav_section("/hosts/web-1"), Some("/hosts"));
        assert_eq!(nav_section("/hosts/web-1/edit"), Some("/hosts"));
        assert_eq!(nav_section("/hosts/web-1/access"), Some("/hosts"));
        assert_eq!(
            nav_section("/hosts/web-1/containers/abc"),
            Some("/containers")
        );
        assert_eq!(
            nav_section("/hosts/web-1/containers/abc/logs"),
            Some("/containers")
        );
        assert_eq!(nav_section("/hosts/web-1/images/x"), Some("/images"));
        assert_eq!(nav_section("/hosts/web-1/volumes/x"), Some("/volumes"));
        assert_eq!(nav_section("/hosts/web-1/networks/x"), Some("/networks"));
        assert_eq!(nav_section("/containers"), Some("/containers"));
        assert_eq!(nav_section("/run"), Some("/containers"));
        assert_eq!(nav_section("/images/web-1/sha256:1"), Some("/images"));
        assert_eq!(nav_section("/audit"), Some("/audit"));
        assert_eq!(nav_section("/account"), None);
        assert_eq!(nav_section("/"), None);
    }
}
