//! A container's processes, filesystem changes and files.

use serde::{Deserialize, Serialize};

/// The processes of a running container, as `ps` printed them: one row per process, one
/// value per title.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ProcessList {
    pub titles: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// One path of a container's filesystem that differs from its image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FsChange {
    pub path: String,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Changed,
    Deleted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    /// Devices, pipes, sockets.
    Other,
}

/// One direct child of a listed folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct FileEntry {
    pub name: String,
    pub kind: FileKind,
    /// Bytes; 0 for folders and links.
    pub size: u64,
    /// Unix permission bits, with setuid/setgid/sticky (`0o4755`).
    pub mode: u32,
    /// Unix seconds.
    pub modified: i64,
    /// Where a symbolic link points, as stored in the link.
    pub link_target: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DirListing {
    /// The folder as asked for, normalised.
    pub path: String,
    /// Sorted: folders first, then by name.
    pub entries: Vec<FileEntry>,
    /// True when the folder holds more than the listing shows.
    pub truncated: bool,
}
