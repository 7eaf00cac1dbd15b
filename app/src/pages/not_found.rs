use leptos::prelude::*;

use crate::components::page::PageHeader;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <PageHeader title="Not found" />
        <div class="empty">
            <p>"There is no page at this address."</p>
            <a class="button" href="/hosts">"Go to Hosts"</a>
        </div>
    }
}

/// Shown where a signed-in person lacks the rights for a page; answers 403.
#[component]
pub fn NotAllowed() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <PageHeader title="Not allowed" />
        <div class="empty" role="alert">
            <h2>"You are not allowed to see this page"</h2>
            <p>"It is for admins. If you need it, ask an admin of this Capstan."</p>
            <a class="button" href="/hosts">"Go to Hosts"</a>
        </div>
    }
}
