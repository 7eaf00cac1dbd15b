//! The REST API's one error type: a status and `{"error": {"code", "message"}}` with safe text.
//! The detail behind it is logged here, once.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

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

/// Every error answer's body: `{"error": {"code", "message", "field"?}}`.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code such as `not_found`, `invalid`, `forbidden`.
    #[schema(example = "not_found")]
    pub code: &'static str,
    /// What went wrong, for a person, without internal detail.
    pub message: String,
    /// The request's field a 422 or a guardrail's 403 is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorResponse {
            error: ErrorDetail {
                code: self.code,
                message: self.message,
                field: self.field,
            },
        };
        let mut res = (self.status, Json(body)).into_response();
        if let Some(secs) = self.retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        res
    }
}
