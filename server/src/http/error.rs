//! The REST API's one error type: a status and `{"error": {"code", "message"}}` with safe text.
//! The detail behind it is logged here, once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Seconds to wait, sent as `Retry-After` with 429.
    pub retry_after: Option<u64>,
    /// The request's field a 422 or a guardrail's 403 names.
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            retry_after: None,
            field: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }
}

impl From<backend::Error> for ApiError {
    fn from(err: backend::Error) -> Self {
        use backend::Error as E;
        let (status, code) = err.http_status();
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(error = %err.log_detail(), "request failed");
        }
        let retry_after = match &err {
            E::Throttled { retry_after } => Some(retry_after.as_secs().max(1)),
            _ => None,
        };
        ApiError {
            retry_after,
            field: err.field().map(str::to_string),
            ..ApiError::new(status, code, err.public_message())
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = match &self.field {
            Some(field) => {
                json!({ "error": { "code": self.code, "message": self.message, "field": field } })
            }
            None => json!({ "error": { "code": self.code, "message": self.message } }),
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}
