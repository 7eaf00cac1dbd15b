//! A container's processes, filesystem changes, commits and files on the wire (`top`, `diff`,
//! `commit` and the file browser). The REST API and the UI's server fns both speak these.

use serde::{Deserialize, Serialize};

/// `GET …/containers/{id}/top`: `ps` output, one row per process, one value per title.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Processes {
    pub titles: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    Added,
    Changed,
    Deleted,
}

/// `GET …/containers/{id}/changes`: one path that differs from the image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Change {
    pub path: String,
    pub kind: ChangeKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    File,
    Dir,
    Symlink,
    /// Devices, pipes, sockets.
    Other,
}

/// One entry of a folder listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FileEntry {
    pub name: String,
    pub kind: FileKind,
    /// Bytes; 0 for folders and links.
    pub size: u64,
    /// Unix permission bits with setuid/setgid/sticky, e.g. 420 (`0o644`).
    pub mode: u32,
    /// Unix seconds.
    pub modified: i64,
    /// Where a symbolic link points.
    pub link_target: Option<String>,
}

/// `GET …/containers/{id}/files?path=`: the direct children of a folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DirListing {
    /// The folder, normalised (`/etc`).
    pub path: String,
    /// Folders first, then by name.
    pub entries: Vec<FileEntry>,
    /// True when the folder holds more than `entries` shows (the listing stops at 5,000).
    pub truncated: bool,
}

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

    impl From<engine::ProcessList> for Processes {
        fn from(p: engine::ProcessList) -> Self {
            Processes {
                titles: p.titles,
                rows: p.rows,
            }
        }
    }

    impl From<engine::FsChange> for Change {
        fn from(c: engine::FsChange) -> Self {
            let kind = match c.kind {
                engine::ChangeKind::Added => ChangeKind::Added,
                engine::ChangeKind::Changed => ChangeKind::Changed,
                engine::ChangeKind::Deleted => ChangeKind::Deleted,
            };
            Change { path: c.path, kind }
        }
    }

    impl From<engine::FileEntry> for FileEntry {
        fn from(e: engine::FileEntry) -> Self {
            let kind = match e.kind {
                engine::FileKind::File => FileKind::File,
                engine::FileKind::Dir => FileKind::Dir,
                engine::FileKind::Symlink => FileKind::Symlink,
                engine::FileKind::Other => FileKind::Other,
            };
            FileEntry {
                name: e.name,
                kind,
                size: e.size,
                mode: e.mode,
                modified: e.modified,
                link_target: e.link_target,
            }
        }
    }

    impl From<engine::DirListing> for DirListing {
        fn from(l: engine::DirListing) -> Self {
            DirListing {
                path: l.path,
                entries: l.entries.into_iter().map(FileEntry::from).collect(),
                truncated: l.truncated,
            }
        }
    }

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
