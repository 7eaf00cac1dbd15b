//! Turns bollard's errors into [`Error`]s whose public text tells a person what to fix.

use std::error::Error as StdError;
use std::io;

use bollard::errors::Error as BollardError;

use crate::error::{Error, Unreachable};

/// An error from the first request to an engine (`GET /version`): anything that is not a
/// transport failure means whatever answered is not a Docker engine we can talk to.
pub(super) fn negotiation(err: BollardError) -> Error {
    match err {
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } => {
            let detail = format!("GET /version answered {status_code}: {message}");
            let reason = if message.contains("HTTP request to an HTTPS server") {
                Unreachable::TlsHandshake
            } else {
                Unreachable::NotDockerApi
            };
            Error::EngineUnreachable { reason, detail }
        }
        BollardError::JsonDataError { .. }
        | BollardError::JsonSerdeError { .. }
        | BollardError::APIVersionParseError {} => Error::EngineUnreachable {
            reason: Unreachable::NotDockerApi,
            detail: err.to_string(),
        },
        other => call(other),
    }
}

pub(super) fn call(err: BollardError) -> Error {
    match err {
        BollardError::DockerResponseServerError {
            status_code,
            message,
        } => Error::Engine {
            status: status_code,
            message,
        },
        BollardError::RequestTimeoutError => Error::EngineTimeout,
        BollardError::SocketNotFoundError(path) => Error::EngineUnreachable {
            reason: Unreachable::NoSuchSocket,
            detail: format!("{path} does not exist"),
        },
        BollardError::CertPathError { .. }
        | BollardError::CertMultipleKeys { .. }
        | BollardError::CertParseError { .. } => Error::EngineUnreachable {
            reason: Unreachable::TlsFiles,
            detail: err.to_string(),
        },
        other => {
            let detail = chain(&other);
            Error::EngineUnreachable {
                reason: transport_reason(&other, &detail),
                detail,
            }
        }
    }
}

/// The whole `source()` chain as one line: hyper hides the interesting part several levels down.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}

fn transport_reason(err: &(dyn StdError + 'static), detail: &str) -> Unreachable {
    let mut source: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionRefused => return Unreachable::ConnectionRefused,
                io::ErrorKind::NotFound => return Unreachable::NoSuchSocket,
                io::ErrorKind::PermissionDenied => return Unreachable::PermissionDenied,
                _ => {}
            }
        }
        source = e.source();
    }
    let lower = detail.to_ascii_lowercase();
    if lower.contains("unknownissuer") || lower.contains("unknown issuer") {
        Unreachable::TlsUnknownCa
    } else if lower.contains("badcertificate")
        || lower.contains("bad certificate")
        || lower.contains("certificaterequired")
        || lower.contains("certificate required")
        || lower.contains("unknownca")
    {
        Unreachable::TlsBadClientCert
    } else if lower.contains("tls") || lower.contains("certificate") || lower.contains("handshake")
    {
        Unreachable::TlsHandshake
    } else if lower.contains("dns error") || lower.contains("failed to lookup address") {
        Unreachable::HostUnresolved
    } else if lower.contains("connection refused") {
        Unreachable::ConnectionRefused
    } else if lower.contains("invalid http") || lower.contains("parse") {
        Unreachable::NotDockerApi
    } else {
        Unreachable::Other
    }
}
