//! One error type for the domain. Every variant carries a message that is safe to show a
//! person; whatever is not (engine text about the host, paths, SQL) stays in `detail`, which is
//! only logged.

use std::fmt;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} not found")]
    NotFound(String),
    /// Not signed in, or the credentials were wrong. The text is the same for every cause.
    #[error("{0}")]
    Unauthenticated(String),
    #[error("not allowed")]
    Forbidden,
    /// Not allowed, with the request's field and the rule that refused it (a host's
    /// guardrails): safe to show.
    #[error("{field}: {message}")]
    Denied { field: String, message: String },
    /// Too many failed attempts; try again after the duration.
    #[error("too many attempts; try again in {} seconds", .retry_after.as_secs().max(1))]
    Throttled { retry_after: std::time::Duration },
    #[error("{0}")]
    Conflict(String),
    /// A body larger than the limit (an upload): nothing was kept.
    #[error("{0}")]
    TooLarge(String),
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
    /// The engine could not be reached at all (refused, no socket, TLS, not Docker).
    #[error("engine unreachable: {reason}")]
    EngineUnreachable { reason: Unreachable, detail: String },
    #[error("the engine did not answer in time")]
    EngineTimeout,
    /// The engine answered with an error status. Its text can describe the host (paths,
    /// addresses), so it is only logged; callers map the messages they recognise into words.
    #[error("the engine refused the request (status {status})")]
    Engine { status: u16, message: String },
    /// The engine's registry could not be searched: no answer within the search deadline
    /// (`timeout`), or the engine gave up on it.
    #[error("{}", registry_message(*timeout))]
    RegistryUnreachable { timeout: bool },
    #[error("internal error")]
    Internal(String),
}

/// A registry search answers within this, or the person is told no registry could be reached
/// (the engine's search is cut at it; the message names it).
pub const SEARCH_DEADLINE: std::time::Duration = std::time::Duration::from_secs(10);

fn registry_message(timeout: bool) -> String {
    if timeout {
        format!(
            "no registry answered the search within {} seconds: the engine may have no route to its registry",
            SEARCH_DEADLINE.as_secs()
        )
    } else {
        "the engine could not search: its registry could not be reached or refused the search"
            .into()
    }
}

impl Error {
    /// An upload past `limit` bytes.
    pub fn too_large(limit: u64) -> Self {
        let limit = if limit >= 1024 * 1024 {
            format!("{} MiB", limit / (1024 * 1024))
        } else {
            format!("{limit} bytes")
        };
        Error::TooLarge(format!("the upload is larger than the limit of {limit}"))
    }

    /// The request's field an `Invalid` or `Denied` error names.
    pub fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid { field, .. } | Error::Denied { field, .. } => Some(field),
            _ => None,
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The HTTP status this error answers with, the same from every door, and its code word.
    pub fn http_status(&self) -> (u16, &'static str) {
        match self {
            Error::NotFound(_) => (404, "not_found"),
            Error::Unauthenticated(_) => (401, "unauthorized"),
            Error::Forbidden | Error::Denied { .. } => (403, "forbidden"),
            Error::Throttled { .. } => (429, "rate_limited"),
            Error::Conflict(_) => (409, "conflict"),
            Error::TooLarge(_) => (413, "too_large"),
            Error::Invalid { .. } => (422, "invalid"),
            Error::EngineUnreachable { .. } => (502, "engine_unreachable"),
            Error::Engine { status: 404, .. } => (404, "not_found"),
            Error::Engine { status: 409, .. } => (409, "conflict"),
            // The engine judged a value of the request (a malformed name or reference): the
            // caller's to fix, not a failure of the engine.
            Error::Engine { status: 400, .. } => (422, "invalid"),
            Error::Engine { .. } => (502, "engine_error"),
            Error::EngineTimeout => (504, "engine_timeout"),
            Error::RegistryUnreachable { timeout: true } => (504, "registry_timeout"),
            Error::RegistryUnreachable { timeout: false } => (502, "registry_unreachable"),
            Error::Internal(_) => (500, "internal"),
        }
    }

    /// Text that may be shown to the person who made the request.
    pub fn public_message(&self) -> String {
        match self {
            Error::EngineUnreachable { reason, .. } => reason.to_string(),
            Error::Internal(_) => "something went wrong on the server; it has been logged".into(),
            Error::Engine { status: 400, .. } => {
                "the engine refused a value of this request as malformed (a name, id or reference)"
                    .into()
            }
            other => other.to_string(),
        }
    }

    /// Text for the log: the public message plus what must not leave the server.
    pub fn log_detail(&self) -> String {
        match self {
            Error::EngineUnreachable { reason, detail } => format!("{reason} ({detail})"),
            Error::Internal(detail) => detail.clone(),
            Error::Engine { status, message } => format!("the engine answered {status}: {message}"),
            other => other.to_string(),
        }
    }
}

/// Why an engine could not be reached, in words a person can act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unreachable {
    ConnectionRefused,
    NoSuchSocket,
    PermissionDenied,
    TlsUnknownCa,
    TlsBadClientCert,
    TlsHandshake,
    TlsFiles,
    NotDockerApi,
    HostUnresolved,
    Other,
}

impl fmt::Display for Unreachable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Unreachable::ConnectionRefused => {
                "connection refused: nothing is listening at the engine's address — is dockerd running?"
            }
            Unreachable::NoSuchSocket => {
                "no Docker socket at the configured path — is dockerd running on that host?"
            }
            Unreachable::PermissionDenied => {
                "permission denied on the Docker socket — run Capstan as a user in the docker group"
            }
            Unreachable::TlsUnknownCa => {
                "TLS handshake failed: the engine's certificate is not signed by the configured CA"
            }
            Unreachable::TlsBadClientCert => {
                "TLS handshake failed: the engine rejected the client certificate"
            }
            Unreachable::TlsHandshake => "TLS handshake failed — check the URL and the certificates",
            Unreachable::TlsFiles => "the TLS certificate or key could not be read or parsed",
            Unreachable::NotDockerApi => "something answered, but it is not a Docker Engine API",
            Unreachable::HostUnresolved => "the engine's host name could not be resolved",
            Unreachable::Other => "the engine could not be reached",
        })
    }
}
