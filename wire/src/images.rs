//! Images and registries.

use serde::{Deserialize, Serialize};

/// One layer of `docker history`, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryEntry {
    /// The image id of this step, when it is an image of its own on the engine.
    pub id: Option<String>,
    /// Unix seconds.
    pub created: i64,
    pub created_by: String,
    /// Bytes this step added.
    pub size: u64,
    pub tags: Vec<String>,
    pub comment: String,
}

/// What `docker rmi` did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RemovedImage {
    pub untagged: Vec<String>,
    pub deleted: Vec<String>,
}

/// What a prune removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Pruned {
    pub deleted: Vec<String>,
    /// Bytes freed (0 where the engine does not say).
    pub space_reclaimed: u64,
}

/// A registry search hit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SearchHit {
    pub name: String,
    pub description: String,
    pub stars: u64,
    pub official: bool,
    pub automated: bool,
}

/// A stored credential, without its password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StoredRegistry {
    pub id: i64,
    /// `registry.example.com:5000`, or `docker.io`.
    pub server: String,
    pub username: String,
    /// Unix seconds.
    pub created_at: i64,
}
