//! The error server fns return to the browser: typed, and only ever holding safe text.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("you are not allowed to do that")]
    Forbidden,
    /// Not allowed by a rule that says why (a host's guardrails), about the request's field.
    #[error("{message}")]
    Denied { field: String, message: String },
    #[error("too many attempts; try again in {0} seconds")]
    Throttled(u64),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    #[error("{0}")]
    Conflict(String),
    /// The engine could not do it: unreachable (502), too slow (504), or it refused the request
    /// (its 404 and 409 kept, else 502) — the same status the REST door answers
    /// (`backend::Error::http_status`).
    #[error("{message}")]
    Engine { status: u16, message: String },
    #[error("something went wrong on the server; it has been logged")]
    Internal,
    /// The request did not reach the server function or its answer could not be read.
    #[error("the server could not be reached — check the connection and try again")]
    Transport,
}

impl AppError {
    /// The HTTP status a server fn answers with when it fails this way.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Unauthenticated(_) => 401,
            AppError::Forbidden | AppError::Denied { .. } => 403,
            AppError::Throttled(_) => 429,
            AppError::Invalid { .. } => 422,
            AppError::Conflict(_) => 409,
            AppError::Engine { status, .. } => *status,
            AppError::Internal | AppError::Transport => 500,
        }
    }

    /// Sets the response status of the current server fn call to match this error (without
    /// it every failed server fn would answer 500).
    pub fn respond(self) -> Self {
        #[cfg(feature = "ssr")]
        if let Some(res) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            if let Ok(code) = http::StatusCode::from_u16(self.status()) {
                res.set_status(code);
            }
        }
        self
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(err: ServerFnErrorErr) -> Self {
        // The text of a transport error may hold internal detail: never carry it.
        #[cfg(feature = "ssr")]
        tracing::warn!(error = %err, "server fn transport error");
        let _ = err;
        AppError::Transport
    }
}

#[cfg(feature = "ssr")]
impl From<backend::Error> for AppError {
    fn from(err: backend::Error) -> Self {
        use backend::Error as E;
        let app = match &err {
            E::NotFound(what) => AppError::NotFound(what.clone()),
            E::Unauthenticated(msg) => AppError::Unauthenticated(msg.clone()),
            E::Forbidden => AppError::Forbidden,
            E::Denied { field, message } => AppError::Denied {
                field: field.clone(),
                message: message.clone(),
            },
            E::Throttled { retry_after } => AppError::Throttled(retry_after.as_secs().max(1)),
            E::Invalid { field, message } => AppError::Invalid {
                field: field.clone(),
                message: message.clone(),
            },
            E::Conflict(msg) => AppError::Conflict(msg.clone()),
            E::TooLarge(msg) => AppError::Invalid {
                field: "body".into(),
                message: msg.clone(),
            },
            E::EngineUnreachable { .. }
            | E::EngineTimeout
            | E::Engine { .. }
            | E::RegistryUnreachable { .. } => {
                tracing::warn!(error = %err.log_detail(), "engine error in server fn");
                AppError::Engine {
                    status: err.http_status().0,
                    message: err.public_message(),
                }
            }
            E::Internal(_) => {
                tracing::error!(error = %err.log_detail(), "internal error in server fn");
                AppError::Internal
            }
        };
        app.respond()
    }
}
