use crate::model::HostProblem;
use leptos::prelude::*;
use leptos_meta::Title;

/// A page's title row: the title on the left, primary actions on the right.
#[component]
pub fn PageHeader(
    title: &'static str,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <Title text=title />
        <header class="page-header">
            <h1>{title}</h1>
            <div class="page-actions">{children.map(|c| c())}</div>
        </header>
    }
}

/// A notice that something could not be shown, with the reason in words.
#[component]
pub fn ErrorNotice(#[prop(into)] message: String) -> impl IntoView {
    view! {
        <div class="notice notice-bad" role="alert">
            <strong>"Could not load this page. "</strong>
            {message}
        </div>
    }
}

/// Placeholder rows that hold the table's shape while the first answer is on its way.
#[component]
pub fn SkeletonRows(rows: usize, cols: usize) -> impl IntoView {
    (0..rows)
        .map(|_| {
            view! {
                <tr class="skeleton-row" aria-hidden="true">
                    {(0..cols).map(|_| view! { <td><span class="skeleton"></span></td> }).collect_view()}
                </tr>
            }
        })
        .collect_view()
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

/// Hosts whose objects could not be listed: a notice each, never a broken page. `missing` says
/// what the list lacks because of it ("Its containers are not listed.").
#[component]
pub fn HostNotices(
    list: Vec<HostProblem>,
    #[prop(optional)] missing: &'static str,
) -> impl IntoView {
    list.into_iter()
        .map(|n| {
            let error = if missing.is_empty() {
                n.error
            } else {
                format!("{} {missing}", n.error)
            };
            view! {
                <div class="notice notice-bad" role="alert" data-testid="host-notice">
                    <strong>{format!("{} did not answer: ", n.host)}</strong>
                    {error}
                </div>
            }
        })
        .collect_view()
}
