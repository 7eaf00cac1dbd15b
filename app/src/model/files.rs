//! A container's processes, filesystem changes, commits and files on the wire (`top`, `diff`,
//! `commit` and the file browser). The REST API and the UI's server fns both speak these.

use serde::{Deserialize, Serialize};
pub use wire::files::{ChangeKind, DirListing, FileEntry, FileKind, FsChange, ProcessList};

/// `POST …/containers/{id}/commit`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CommitRequest {
    /// `[registry[:port]/]name[/name…]`, lowercase.
    pub repo: String,
    /// `latest` when absent.
    #[serde(default)]
    pub tag: Option<String>,
    #[serde(default)]
    pub author: Option<String>,
    /// The commit message (the image's comment).
    #[serde(default)]
    pub message: Option<String>,
    /// Pause the container while committing; true when absent, as `docker commit`.
    #[serde(default)]
    pub pause: Option<bool>,
}

/// What a commit answers (201).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Committed {
    pub image_id: String,
}

#[cfg(feature = "ssr")]
mod convert {
    use backend::engine;

    use super::*;

    impl From<CommitRequest> for engine::CommitOptions {
        fn from(r: CommitRequest) -> Self {
            engine::CommitOptions {
                repo: r.repo,
                tag: r.tag.filter(|t| !t.is_empty()),
                author: r.author,
                message: r.message,
                pause: r.pause.unwrap_or(true),
            }
        }
    }
}
