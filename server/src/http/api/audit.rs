//! The audit log for admins: filtered pages (keyset by id), a streamed CSV export, and the
//! retention setting.

use super::Params;
use crate::http::{ApiError, ErrorResponse};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;

use app::model::access::{AuditEntryView, AuditPageView, AuditSettingsView};
use backend::audit::Filter;

use super::Body as JsonBody;
use crate::http::auth::Caller;
use crate::state::AppState;

/// The query string (no `serde(flatten)`: numbers in flattened query structs do not parse).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    user: Option<String>,
    host: Option<String>,
    action: Option<String>,
    outcome: Option<String>,
    since: Option<i64>,
    until: Option<i64>,
    limit: Option<u32>,
    before: Option<i64>,
    /// `csv` for the export; JSON otherwise.
    format: Option<String>,
}

impl AuditQuery {
    fn filter(self) -> Filter {
        Filter {
            user: self.user,
            host: self.host,
            action: self.action,
            outcome: self.outcome,
            since: self.since,
            until: self.until,
            limit: self.limit,
            before: self.before,
        }
    }
}

/// `GET /api/v1/audit?user=&host=&action=&outcome=&since=&until=&limit=&before=` → 200
/// `{entries: [...], next_before}` newest first; `format=csv` streams the CSV export instead.
#[utoipa::path(
    get,
    path = "/audit",
    operation_id = "audit.list",
    tag = "audit",
    summary = "The audit log, newest first, keyset-paginated (admin); format=csv streams the CSV export",
    params(AuditQuery),
    responses(
        (status = 200, description = "a page of entries, or with format=csv every matching row", content((AuditPageView = "application/json"), (String = "text/csv"))),
        (status = 422, description = "invalid filter", body = ErrorResponse),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    Caller(c): Caller,
    Params(raw): Params<AuditQuery>,
) -> Result<Response, ApiError> {
    let q = raw;
    let csv = q.format.as_deref() == Some("csv");
    let filter = q.filter();
    if csv {
        return csv_response(&state, &c, filter).await;
    }
    let limit = filter.limit.unwrap_or(100);
    let entries: Vec<AuditEntryView> = state
        .ops()
        .audit_entries(&c, &filter)
        .await?
        .into_iter()
        .map(AuditEntryView::from)
        .collect();
    let next_before = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditPageView {
        entries,
        next_before,
    })
    .into_response())
}

/// `GET /api/v1/audit.csv?…` (same filters; `limit` and `before` are ignored: every matching
/// row) → 200 `text/csv`, streamed.
#[utoipa::path(
    get,
    path = "/audit.csv",
    operation_id = "audit.csv",
    tag = "audit",
    summary = "Every matching audit row as CSV, streamed (admin)",
    params(AuditQuery),
    responses(
        (status = 200, description = "ok", body = String, content_type = "text/csv"),
        (status = 422, description = "invalid filter", body = ErrorResponse),
    ),
)]
pub async fn csv(
    State(state): State<AppState>,
    Caller(c): Caller,
    Params(raw): Params<AuditQuery>,
) -> Result<Response, ApiError> {
    csv_response(&state, &c, raw.filter()).await
}

async fn csv_response(
    state: &AppState,
    c: &backend::ops::Caller,
    filter: Filter,
) -> Result<Response, ApiError> {
    let filter = Filter {
        limit: None,
        before: None,
        ..filter
    };
    let stream = state.ops().audit_csv(c, filter).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"capstan-audit.csv\"",
            ),
        ],
        super::streamed(stream),
    )
        .into_response())
}

/// `GET /api/v1/audit/settings` → 200 `{retention_days}`.
#[utoipa::path(
    get,
    path = "/audit/settings",
    operation_id = "audit.settings",
    tag = "audit",
    summary = "Audit retention in days (admin; default 90)",
    responses(
        (status = 200, description = "ok", body = AuditSettingsView),
    ),
)]
pub async fn settings(
    State(state): State<AppState>,
    Caller(c): Caller,
) -> Result<Json<AuditSettingsView>, ApiError> {
    Ok(Json(AuditSettingsView {
        retention_days: state.ops().audit_retention(&c).await?,
    }))
}

/// `PUT /api/v1/audit/settings {retention_days}` (1–3650) → 200 `{retention_days}`.
#[utoipa::path(
    put,
    path = "/audit/settings",
    operation_id = "audit.set_settings",
    tag = "audit",
    summary = "Set the audit retention (admin); a daily task deletes older rows",
    request_body = AuditSettingsView,
    responses(
        (status = 200, description = "ok", body = AuditSettingsView),
    ),
)]
pub async fn set_settings(
    State(state): State<AppState>,
    Caller(c): Caller,
    JsonBody(body): JsonBody<AuditSettingsView>,
) -> Result<Json<AuditSettingsView>, ApiError> {
    let retention_days = state
        .ops()
        .set_audit_retention(&c, ("retention_days", body.retention_days))
        .await?;
    Ok(Json(AuditSettingsView { retention_days }))
}
