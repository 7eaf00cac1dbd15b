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
