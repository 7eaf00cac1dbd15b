use leptos::prelude::*;
use leptos_router::components::A;

/// The frame around every page: the navigation (a side bar on wide screens, a top bar with a
/// menu on phones) and the content. The phone menu is a checkbox, so it works before hydration.
#[component]
pub fn Frame(children: Children) -> impl IntoView {
    view! {
        <div class="frame">
            <input type="checkbox" id="nav-toggle" class="nav-toggle" />
            <header class="topbar">
                <a href="/" class="brand">
                    <span class="brand-mark" aria-hidden="true">"⎈"</span>
                    "Capstan"
                </a>
                <label for="nav-toggle" class="nav-toggle-label" aria-label="Menu">
                    <span aria-hidden="true">"☰"</span>
                </label>
            </header>
            <aside class="sidebar">
                <a href="/" class="brand brand-side">
                    <span class="brand-mark" aria-hidden="true">"⎈"</span>
                    "Capstan"
                </a>
                <nav aria-label="Main">
                    <ul>
                        <li>
                            <A href="/hosts">"Hosts"</A>
                        </li>
                    </ul>
                </nav>
            </aside>
            <main id="main" class="content">{children()}</main>
        </div>
    }
}
