//! Asking before a step that cannot be undone.

use leptos::prelude::*;

/// A destructive button that asks first, naming what it will do.
#[component]
pub fn Confirm(
    label: &'static str,
    #[prop(into)] question: String,
    on_yes: impl Fn() + Send + Sync + 'static,
) -> impl IntoView {
    let asking = RwSignal::new(false);
    let on_yes = std::sync::Arc::new(on_yes);
    view! {
        <Show
            when=move || asking.get()
            fallback=move || view! { <button type="button" class="button button-danger-quiet" on:click=move |_| asking.set(true)>{label}</button> }
        >
            {
                let on_yes = on_yes.clone();
                let question = question.clone();
                view! {
                    <span class="confirm" role="group">
                        <span class="confirm-question">{question}</span>
                        <button type="button" class="button button-danger" on:click=move |_| { asking.set(false); on_yes(); }>{label}</button>
                        <button type="button" class="button" on:click=move |_| asking.set(false)>"Cancel"</button>
                    </span>
                }
            }
        </Show>
    }
}
