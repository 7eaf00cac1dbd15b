//! `/api/v1`: the public REST surface of ../shared/design/api.md. Login arrives with the
//! accounts issue; until then this answers what the pages show.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use app::model::HostView;
use backend::fleet::Fleet;

use super::ApiError;
use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hosts", get(list_hosts))
        .route("/openapi.json", get(openapi))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such API endpoint")
        })
}

async fn list_hosts(State(fleet): State<Fleet>) -> Result<Json<Vec<HostView>>, ApiError> {
    Ok(Json(fleet.statuses().await.into_iter().map(HostView::from).collect()))
}

async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], include_str!("openapi.json"))
}
