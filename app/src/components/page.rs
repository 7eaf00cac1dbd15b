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
