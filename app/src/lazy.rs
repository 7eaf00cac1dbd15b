//! Pages whose code is loaded when a person first goes to them.
//!
//! `cargo leptos build --split` cuts the wasm at each split point below: the first load carries
//! the frame, the sign-in pages and Hosts (where people land), and each area's pages come in one
//! chunk of their own when a page of that area is first shown. Pages are grouped by area, not one
//! chunk per page: code shared by pages of several areas goes into a chunk per combination of
//! areas, so few areas mean a page needs a handful of files, not hundreds (a flaky network — a
//! phone, or a machine whose interfaces change — is far less likely to break one of them).
//!
//! Five areas: the container list alone (people bookmark it, so a first load straight onto it
//! stays light), everything about one container (run/duplicate/edit forms, its tabs, logs and
//! events pages), storage, host admin and people. More areas did not pay: with seven, each page
//! needed ~40 files and the main wasm grew by the same 126 KB of data as with five (the
//! splitter keeps a data segment whole in the main wasm when splitting it would overrun its
//! length: docs/performance.md, First load).
//!
//! A container's page (`ContainerLayout`, the parent route of its tabs) is not lazy: with a lazy
//! parent and lazy tabs, a server render of a tab read a signal of the tab after its owner was
//! disposed (a panic in `ProcessesTab`, caught by server/tests/doors.rs); its tabs are lazy.
//!
//! The server renders these pages as usual and names their chunks in the page it sends, so a
//! first load of any page fetches its chunk alongside the main wasm. A chunk that fails to load
//! is asked for again until it comes (`until_loaded`): the page the server rendered stays
//! readable meanwhile and becomes interactive when its code arrives.

use std::future::Future;

use leptos::prelude::{AnyView, IntoAny};
use leptos::wasm_split::SplitLoaderError;

/// Renders a page from its area's chunk (named to the server's render, which then tells the
/// browser to fetch the chunk with the page).
async fn show<Load>(chunk: &'static str, render: impl Fn() -> Load) -> AnyView
where
    Load: Future<Output = Result<AnyView, SplitLoaderError>>,
{
    #[cfg(feature = "ssr")]
    leptos::prefetch_lazy_fn_on_server(chunk);
    // On the server nothing is loaded, so this cannot fail; answer rather than panic.
    until_loaded(chunk, render)
        .await
        .unwrap_or_else(|_| crate::pages::not_found::NotFound().into_any())
}

/// Loads an area's chunk before its page is shown. The router awaits this before it renders or
/// hydrates the page, so it must not give up: a page whose code is still missing when it is
/// hydrated breaks the whole page's hydration.
async fn preload<Load>(chunk: &'static str, fetch: impl Fn() -> Load)
where
    Load: Future<Output = Result<(), SplitLoaderError>>,
{
    let _ = until_loaded(chunk, fetch).await;
}

/// Runs `load` until the chunk has arrived, asking again after 0.25 s, doubling up to 5 s; the
/// server-rendered page stays readable meanwhile. (On the server it runs once: nothing is
/// fetched there.)
async fn until_loaded<T, Load>(
    chunk: &'static str,
    load: impl Fn() -> Load,
) -> Result<T, SplitLoaderError>
where
    Load: Future<Output = Result<T, SplitLoaderError>>,
{
    #[cfg_attr(feature = "ssr", allow(unused_mut, unused_variables))]
    let mut wait_ms = 250;
    // On the server the first answer is the last (nothing is fetched there), so the loop ends at
    // once; in the browser it retries.
    #[cfg_attr(feature = "ssr", allow(clippy::never_loop))]
    loop {
        match load().await {
            Ok(done) => return Ok(done),
            #[cfg(feature = "ssr")]
            Err(error) => {
                let _ = chunk;
                return Err(error);
            }
            #[cfg(not(feature = "ssr"))]
            Err(error) => {
                leptos::logging::warn!(
                    "the code of this page ({chunk}) could not be loaded ({error}); \
                     trying again in {wait_ms} ms"
                );
                crate::browser::sleep_ms(wait_ms).await;
                wait_ms = (wait_ms * 2).min(5_000);
            }
        }
    }
}

/// One area: a chunk (the split point `render`, taking which of the area's pages to show) and
/// a route type per page for `Lazy::<…>` in the router.
macro_rules! lazy_area {
    ($area:ident { $( $page:ident => $component:path, )* }) => {
        pub mod $area {
            use leptos::prelude::*;
            use leptos::wasm_split::SplitLoaderError;
            use leptos_router::LazyRoute;

            /// The pages of this area.
            #[derive(Clone, Copy)]
            pub enum Page { $( $page, )* }

            #[::leptos::wasm_split::wasm_split(
                $area,
                wasm_split_path = ::leptos::wasm_split,
                fallible,
                preload(fetch)
            )]
            fn render(page: Page) -> Result<AnyView, SplitLoaderError> {
                Ok(match page {
                    $( Page::$page => $component().into_any(), )*
                })
            }

            $(
                pub struct $page;

                impl LazyRoute for $page {
                    fn data() -> Self {
                        $page
                    }

                    fn view(_this: Self) -> impl std::future::Future<Output = AnyView> {
                        super::show(stringify!($area), || render(Page::$page))
                    }

                    fn preload() -> impl std::future::Future<Output = ()> {
                        super::preload(stringify!($area), fetch)
                    }
                }
            )*
        }
    };
}

lazy_area!(containers {
    ContainersPage => crate::pages::containers::ContainersPage,
});

lazy_area!(container {
    RunPage => crate::pages::container::run::RunPage,
    DuplicatePage => crate::pages::container::run::DuplicatePage,
    EditPage => crate::pages::container::run::EditPage,
    ContainerOverview => crate::pages::container::overview::ContainerOverview,
    ProcessesTab => crate::pages::container::tabs::ProcessesTab,
    ChangesTab => crate::pages::container::tabs::ChangesTab,
    FilesTab => crate::pages::container::tabs::FilesTab,
    LogsTab => crate::pages::container::logs::LogsTab,
    StatsTab => crate::pages::container::stats::StatsTab,
    TerminalTab => crate::pages::container::terminal::TerminalTab,
    LogsPage => crate::pages::container::logs::LogsPage,
    EventsPage => crate::pages::container::events::EventsPage,
});

lazy_area!(storage {
    ImagesPage => crate::pages::storage::images::ImagesPage,
    ImagePage => crate::pages::storage::images::detail::ImagePage,
    VolumesPage => crate::pages::storage::volumes::VolumesPage,
    NetworksPage => crate::pages::storage::networks::NetworksPage,
});

lazy_area!(host_admin {
    NewHostPage => crate::pages::host_admin::form::NewHostPage,
    HostPage => crate::pages::host_admin::host::HostPage,
    EditHostPage => crate::pages::host_admin::form::EditHostPage,
    HostAccessPage => crate::pages::host_admin::access::HostAccessPage,
});

lazy_area!(people {
    AccountPage => crate::pages::people::account::AccountPage,
    UsersPage => crate::pages::people::users::UsersPage,
    TeamsPage => crate::pages::people::teams::TeamsPage,
    AuditPage => crate::pages::people::audit::AuditPage,
    RegistriesPage => crate::pages::people::registries::RegistriesPage,
    ApiReferencePage => crate::pages::people::api_reference::ApiReferencePage,
});
