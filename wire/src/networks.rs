//! Networks.

use serde::{Deserialize, Serialize};

/// A container attached to a network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AttachedContainer {
    pub id: String,
    pub name: String,
    /// `10.1.0.2/24`, when inspected (lists leave addresses out).
    pub ipv4: Option<String>,
    pub ipv6: Option<String>,
    pub mac: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SubnetInfo {
    pub subnet: String,
    pub gateway: Option<String>,
}
