//! A host's guardrails for non-admins: admins only.

use axum::extract::{Path, State};
use axum::Json;

use app::model::access::{BindMountsView, GuardrailsView};
use backend::guardrails::{BindMounts, GuardrailStore, Guardrails};

use super::Body;
use crate::http::auth::Admin;
use crate::http::ApiError;
use crate::state::AppState;

fn view(g: Guardrails) -> GuardrailsView {
    GuardrailsView {
        privileged: g.privileged,
        bind_mounts: match g.bind_mounts {
            BindMounts::Never => BindMountsView::Never,
            BindMounts::Prefixes => BindMountsView::Prefixes,
            BindMounts::Any => BindMountsView::Any,
        },
        bind_prefixes: g.bind_prefixes,
        host_network: g.host_network,
        host_pid: g.host_pid,
        host_ipc: g.host_ipc,
        cap_add: g.cap_add,
        devices: g.devices,
    }
}

fn model(v: GuardrailsView) -> Guardrails {
    Guardrails {
        privileged: v.privileged,
        bind_mounts: match v.bind_mounts {
            BindMountsView::Never => BindMounts::Never,
            BindMountsView::Prefixes => BindMounts::Prefixes,
            BindMountsView::Any => BindMounts::Any,
        },
        bind_prefixes: v.bind_prefixes,
        host_network: v.host_network,
        host_pid: v.host_pid,
        host_ipc: v.host_ipc,
        cap_add: v.cap_add,
        devices: v.devices,
    }
}

/// `GET /api/v1/hosts/{host}/guardrails` → 200 `GuardrailsView` (all off when never set).
pub async fn get(
    State(state): State<AppState>,
    _: Admin,
    Path(host): Path<String>,
) -> Result<Json<GuardrailsView>, ApiError> {
    state.fleet.host(&host)?;
    Ok(Json(view(
        GuardrailStore::new(state.accounts.pool().clone())
            .get(&host)
            .await?,
    )))
}

/// `PUT /api/v1/hosts/{host}/guardrails` (the whole set; omitted fields are off) → 200.
pub async fn set(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(host): Path<String>,
    Body(body): Body<GuardrailsView>,
) -> Result<Json<GuardrailsView>, ApiError> {
    state.fleet.host(&host)?;
    let saved = GuardrailStore::new(state.accounts.pool().clone())
        .set(&host, model(body))
        .await?;
    tracing::info!(by = %by.username, host, ?saved, "guardrails set");
    Ok(Json(view(saved)))
}
