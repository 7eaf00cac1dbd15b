//! Containers as lists and forms show them.

use serde::{Deserialize, Serialize};

/// One published (or exposed) port of a container.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortMapping {
    /// Host address the port is published on; `None` when it is only exposed.
    pub ip: Option<String>,
    pub private: u16,
    pub public: Option<u16>,
    /// `tcp`, `udp` or `sctp`.
    pub proto: String,
}

/// A container just created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created {
    pub id: String,
    pub name: String,
    pub warnings: Vec<String>,
}

/// A host whose containers could not be listed, and why (in words safe to show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostProblem {
    pub host: String,
    pub error: String,
}
