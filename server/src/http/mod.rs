//! Router composition. Every request passes, outermost first: request id → trace span →
//! client address (the peer, or what a trusted proxy forwarded) → security headers →
//! compression → session → same-origin check → identity → login redirect for pages → audit
//! log → body limit → the route. The listener that serves it is in [`listener`].

mod api;
mod assets;
pub mod audit;
pub mod auth;
mod error;
pub mod listener;
pub mod openapi;
pub mod security;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use app::{shell, App};
use axum::http::{HeaderName, Request};
use axum::{middleware, Json, Router};
use leptos_axum::{
    file_and_error_handler_with_context, generate_route_list, AxumRouteListing, LeptosRoutes,
};
use tower::ServiceBuilder;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub use error::{ApiError, ErrorResponse};

use crate::state::AppState;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The page routes, discovered once per process: discovery renders the app in a special mode,
/// and doing it while another router renders pages made those renders hang (seen in tests that
/// build several routers at once).
fn page_routes() -> Vec<AxumRouteListing> {
    static ROUTES: OnceLock<Vec<AxumRouteListing>> = OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState, sessions: auth::SessionLayer) -> Router {
    let fleet = state.fleet.clone();
    let accounts = state.accounts.clone();
    let registry = state.registry.clone();
    let live = state.live.clone();
    let data_dir = app::ssr::DataDir(state.settings.data_dir.clone());
    let context = move || {
        app::ssr::provide_server_context(
            fleet.clone(),
            accounts.clone(),
            registry.clone(),
            live.clone(),
            data_dir.clone(),
            app::ssr::ApiDocument(openapi::served()),
        )
    };
    let body_limit = state.settings.body_limit;
    let options = state.leptos_options.clone();
    let pages = Router::new()
        .leptos_routes_with_context(&state, page_routes(), context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(file_and_error_handler_with_context::<AppState, _>(
            context, shell,
        ))
        // `/pkg/*` (wasm, JS, CSS) precompressed once per file version instead of per request.
        .layer(middleware::from_fn_with_state(
            assets::Assets::new(&options),
            assets::serve,
        ));

    let (api, _) = api_routes(body_limit).split_for_parts();
    api.merge(pages.layer(RequestBodyLimitLayer::new(body_limit)))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::new(REQUEST_ID, Counter::default()))
                .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                    let id = req
                        .extensions()
                        .get::<RequestId>()
                        .and_then(|id| id.header_value().to_str().ok())
                        .unwrap_or("-");
                    tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path())
                }).on_response(DefaultOnResponse::new().level(Level::INFO)))
                .layer(PropagateRequestIdLayer::new(REQUEST_ID))
                .layer(middleware::from_fn_with_state(
                    state.settings.trusted_proxies.clone(),
                    security::client_address,
                ))
                .layer(middleware::from_fn(security::headers))
                .layer(CompressionLayer::new().compress_when(compressible()))
                .layer(middleware::from_fn(auth::secure_cookie_behind_https))
                .layer(sessions)
                .layer(middleware::from_fn(auth::same_origin))
                .layer(middleware::from_fn_with_state(state.clone(), auth::identify))
                .layer(middleware::from_fn_with_state(state.clone(), auth::require_login_for_pages))
                .layer(middleware::from_fn_with_state(state.clone(), audit::record)),
        )
        .with_state(state)
}

/// `/healthz` and `/api/v1`, with their OpenAPI declarations ([`openapi::document`] is built
/// from the same call).
fn api_routes(body_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .nest(
            "/api/v1",
            api::router().layer(RequestBodyLimitLayer::new(body_limit)),
        )
        // Uploads (archives, image tars) stream their bodies and enforce `upload_limit` themselves.
        .nest("/api/v1", api::uploads())
}

/// What the compression layer may compress: the defaults (not tiny answers, images, gRPC or
/// SSE), and never archives (`application/x-tar`, `application/octet-stream`: mostly compressed
/// layers already, and gigabytes a browser must receive whole) nor live progress
/// (`application/x-ndjson`: a compressor holds lines back until its buffer fills).
fn compressible() -> impl tower_http::compression::Predicate {
    use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
    DefaultPredicate::new()
        .and(NotForContentType::const_new("application/x-tar"))
        .and(NotForContentType::const_new("application/octet-stream"))
        .and(NotForContentType::const_new("application/x-ndjson"))
}

#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "system.healthz",
    tag = "system",
    summary = "Liveness: answers while the process serves",
    security(()),
    responses((status = 200, description = "serving", body = serde_json::Value)),
)]
async fn healthz() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Request ids: a per-process random prefix and a counter — unique, short, and cheap.
#[derive(Clone)]
struct Counter {
    prefix: Arc<str>,
    next: Arc<AtomicU64>,
}

impl Default for Counter {
    fn default() -> Self {
        Counter {
            prefix: format!("{:06x}", rand::random::<u32>() & 0xff_ffff).into(),
            next: Arc::default(),
        }
    }
}

impl MakeRequestId for Counter {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        format!("{}-{n}", self.prefix)
            .parse()
            .ok()
            .map(RequestId::new)
    }
}
