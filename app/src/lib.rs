//! Capstan's UI, rendered on the server and hydrated in the browser. Server fns live next to
//! the pages that use them and stay thin: find the service, ask the backend, convert.

#![recursion_limit = "256"]

pub mod codec;
pub mod components;
pub mod error;
pub mod format;
pub mod model;
pub mod pages;
pub mod safe_next;
#[cfg(feature = "ssr")]
pub mod ssr;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::{ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use components::frame::Frame;
use pages::account::AccountPage;
use pages::container::{ContainerLayout, ContainerOverview};
use pages::container_tabs::{ChangesTab, FilesTab, ProcessesTab};
use pages::containers::ContainersPage;
use pages::events::EventsPage;
use pages::logs::{LogsPage, LogsTab};
use pages::stats::StatsTab;
use pages::terminal::TerminalTab;
use pages::host::HostPage;
use pages::host_form::{EditHostPage, NewHostPage};
use pages::hosts::HostsPage;
use pages::images::{ImagePage, ImagesPage};
use pages::networks::NetworksPage;
use pages::registries::RegistriesPage;
use pages::volumes::VolumesPage;
use pages::login::{LoginPage, SetupPage};
use pages::not_found::NotFound;
use pages::run::{DuplicatePage, EditPage, RunPage};
use pages::users::UsersPage;
use pages::audit::AuditPage;
use pages::teams::TeamsPage;
use pages::host_access::HostAccessPage;

/// The HTML document around the app, rendered only on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
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
                <HydrationScripts options />
                <MetaTags />
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
                    <Route path=path!("/hosts/new") view=NewHostPage />
                    <Route path=path!("/hosts/:host") view=HostPage />
                    <Route path=path!("/hosts/:host/edit") view=EditHostPage />
                    <Route path=path!("/hosts/:host/access") view=HostAccessPage />
                    <Route path=path!("/containers") view=ContainersPage />
                    <Route path=path!("/logs") view=LogsPage />
                    <Route path=path!("/events") view=EventsPage />
                    <Route path=path!("/run") view=RunPage />
                    <Route path=path!("/images") view=ImagesPage />
                    <Route path=path!("/images/:host/:id") view=ImagePage />
                    <Route path=path!("/volumes") view=VolumesPage />
                    <Route path=path!("/networks") view=NetworksPage />
                    <Route path=path!("/hosts/:host/containers/:id/duplicate") view=DuplicatePage />
                    <Route path=path!("/hosts/:host/containers/:id/edit") view=EditPage />
                    <ParentRoute path=path!("/hosts/:host/containers/:id") view=ContainerLayout>
                        <Route path=path!("") view=ContainerOverview />
                        <Route path=path!("/processes") view=ProcessesTab />
                        <Route path=path!("/changes") view=ChangesTab />
                        <Route path=path!("/files") view=FilesTab />
                        <Route path=path!("/logs") view=LogsTab />
                        <Route path=path!("/stats") view=StatsTab />
                        <Route path=path!("/terminal") view=TerminalTab />
                    </ParentRoute>
                    <Route path=path!("/account") view=AccountPage />
                    <Route path=path!("/users") view=UsersPage />
                    <Route path=path!("/teams") view=TeamsPage />
                    <Route path=path!("/audit") view=AuditPage />
                    <Route path=path!("/registries") view=RegistriesPage />
                </ParentRoute>
            </Routes>
        </Router>
    }
}
