//! Capstan's UI, rendered on the server and hydrated in the browser. Server fns live next to
//! the pages that use them and stay thin: find the service, ask the backend, convert.

#![recursion_limit = "256"]

pub mod browser;
pub mod client;
pub mod codec;
pub mod components;
pub mod error;
pub mod format;
pub mod lazy;
pub mod model;
pub mod pages;
pub mod routes;
pub mod safe_next;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::{path, Lazy};

use components::frame::Frame;
use pages::hosts::HostsPage;
use pages::login::{LoginPage, SetupPage};
use pages::not_found::NotFound;

/// The HTML document around the app, rendered only on the server.
#[cfg(feature = "ssr")]
pub fn shell(options: LeptosOptions) -> impl IntoView {
    ssr::provide_csp_nonce();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <link rel="stylesheet" id="leptos" href="/pkg/capstan.css" />
                <AutoReload options=options.clone() />
                <ssr::load::LoadScripts options />
                <leptos_meta::MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Effects run only in the browser, after hydration: tests and styles can rely on the mark.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
    view! {
        <Title formatter=|page: String| format!("{page} · Capstan") />
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/login") view=LoginPage />
                <Route path=path!("/setup") view=SetupPage />
                <ParentRoute path=path!("") view=Frame>
                    <Route path=path!("/") view=|| view! { <Redirect path="/hosts" /> } />
                    <Route path=path!("/hosts") view=HostsPage />
                    <Route path=path!("/hosts/new") view={Lazy::<lazy::host_admin::NewHostPage>::new()} />
                    <Route path=path!("/hosts/:host") view={Lazy::<lazy::host_admin::HostPage>::new()} />
                    <Route path=path!("/hosts/:host/edit") view={Lazy::<lazy::host_admin::EditHostPage>::new()} />
                    <Route path=path!("/hosts/:host/access") view={Lazy::<lazy::host_admin::HostAccessPage>::new()} />
                    <Route path=path!("/containers") view={Lazy::<lazy::containers::ContainersPage>::new()} />
                    <Route path=path!("/logs") view={Lazy::<lazy::container::LogsPage>::new()} />
                    <Route path=path!("/events") view={Lazy::<lazy::container::EventsPage>::new()} />
                    <Route path=path!("/run") view={Lazy::<lazy::container::RunPage>::new()} />
                    <Route path=path!("/images") view={Lazy::<lazy::storage::ImagesPage>::new()} />
                    <Route path=path!("/images/:host/:id") view={Lazy::<lazy::storage::ImagePage>::new()} />
                    <Route path=path!("/volumes") view={Lazy::<lazy::storage::VolumesPage>::new()} />
                    <Route path=path!("/networks") view={Lazy::<lazy::storage::NetworksPage>::new()} />
                    <Route path=path!("/hosts/:host/containers/:id/duplicate") view={Lazy::<lazy::container::DuplicatePage>::new()} />
                    <Route path=path!("/hosts/:host/containers/:id/edit") view={Lazy::<lazy::container::EditPage>::new()} />
                    <ParentRoute path=path!("/hosts/:host/containers/:id") view=pages::container::ContainerLayout>
                        <Route path=path!("") view={Lazy::<lazy::container::ContainerOverview>::new()} />
                        <Route path=path!("/processes") view={Lazy::<lazy::container::ProcessesTab>::new()} />
                        <Route path=path!("/changes") view={Lazy::<lazy::container::ChangesTab>::new()} />
                        <Route path=path!("/files") view={Lazy::<lazy::container::FilesTab>::new()} />
                        <Route path=path!("/logs") view={Lazy::<lazy::container::LogsTab>::new()} />
                        <Route path=path!("/stats") view={Lazy::<lazy::container::StatsTab>::new()} />
                        <Route path=path!("/terminal") view={Lazy::<lazy::container::TerminalTab>::new()} />
                    </ParentRoute>
                    <Route path=path!("/account") view={Lazy::<lazy::people::AccountPage>::new()} />
                    <Route path=path!("/users") view={Lazy::<lazy::people::UsersPage>::new()} />
                    <Route path=path!("/teams") view={Lazy::<lazy::people::TeamsPage>::new()} />
                    <Route path=path!("/audit") view={Lazy::<lazy::people::AuditPage>::new()} />
                    <Route path=path!("/registries") view={Lazy::<lazy::people::RegistriesPage>::new()} />
                    <Route path=path!("/api-reference") view={Lazy::<lazy::people::ApiReferencePage>::new()} />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
