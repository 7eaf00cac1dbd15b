//! A container's filesystem without an agent or a shell inside it: `docker export`, and the
//! engine's archive endpoint for stat (HEAD), download (GET) and upload (PUT). Directory
//! listings are read from the tar of a folder, headers only. Everything streams: nothing here
//! holds a file's contents in memory.

use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bollard::errors::Error as BollardError;
use bollard::query_parameters::{
    ContainerArchiveInfoOptions, DownloadFromContainerOptions, InspectContainerOptions,
    UploadToContainerOptions,
};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use tokio::io::{AsyncSeekExt, AsyncWriteExt};
use tokio_util::io::{ReaderStream, StreamReader, SyncIoBridge};

use super::container_ops::{check_container_ref, container_error};
use super::{classify, Engine};
use crate::error::{Error, Result};

/// A body streamed from an engine. An error ends it (the HTTP response is then cut short).
pub type ByteStream = Pin<Box<dyn Stream<Item = io::Result<Bytes>> + Send>>;

/// A listing stops after this many entries and says it is truncated.
pub const LISTING_CAP: usize = 5_000;
/// Tar entries read (children and everything below them) before a listing gives up.
const SCAN_CAP: usize = 250_000;
/// Time a listing may spend reading the folder's tar before it gives up.
const SCAN_BUDGET: Duration = Duration::from_secs(30);
/// A download or export whose engine sends nothing for this long is cut.
const IDLE: Duration = Duration::from_secs(60);
const BLOCK: u64 = 512;
const EXPORT: &str = "export the container";

pub use wire::files::{DirListing, FileEntry, FileKind};

/// A tar to hand to the client as a download.
pub struct Download {
    /// `<name>.tar`, safe for a `Content-Disposition` header.
    pub filename: String,
    pub stream: ByteStream,
}

impl std::fmt::Debug for Download {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Download")
            .field("filename", &self.filename)
            .finish_non_exhaustive()
    }
}

/// What an upload body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadContent {
    /// A tar archive (plain, or gzip/bzip2/xz/zstd compressed), extracted into the folder.
    Tar,
    /// One file's bytes, written into the folder under this name.
    File { name: String },
}

/// A folder of a container that an upload may go to: checked to exist and be a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTarget {
    container: String,
    /// The folder with symbolic links resolved by the engine.
    dir: String,
}

/// An upload body written to an unnamed temporary file (gone when dropped, even after a crash),
/// so the engine is only called with a body that is complete and within the limit.
#[derive(Debug)]
pub struct SpooledBody {
    file: tokio::fs::File,
    len: u64,
}

impl SpooledBody {
    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The spooled bytes, positioned at the start, for another engine call to stream.
    pub(super) fn into_file(self) -> tokio::fs::File {
        self.file
    }
}

#[derive(Debug)]
pub enum Spooled {
    Ready(SpooledBody),
    /// The body passed the limit; reading stopped there and nothing was kept.
    TooLarge,
}

/// Writes an upload body to an unnamed temporary file in `dir`, counting bytes as they arrive
/// and stopping as soon as `limit` is passed.
pub async fn spool<S, E>(body: S, limit: u64, dir: &Path) -> Result<Spooled>
where
    S: Stream<Item = std::result::Result<Bytes, E>> + Send,
    E: std::fmt::Display,
{
    let io_error = |what: &str, e: io::Error| {
        Error::Internal(format!("upload spool in {}: {what}: {e}", dir.display()))
    };
    tokio::fs::create_dir_all(dir)
        .await
        .map_err(|e| io_error("create the folder", e))?;
    let owned = dir.to_owned();
    let file = tokio::task::spawn_blocking(move || tempfile::tempfile_in(owned))
        .await
        .map_err(|e| Error::Internal(format!("upload spool task: {e}")))?
        .map_err(|e| io_error("create a file", e))?;
    let mut file = tokio::fs::File::from_std(file);
    let mut len: u64 = 0;
    let mut body = std::pin::pin!(body);
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|e| {
            tracing::debug!(error = %e, "upload body failed");
            Error::invalid("body", "the upload ended before it was complete")
        })?;
        len = len.saturating_add(chunk.len() as u64);
        if len > limit {
            return Ok(Spooled::TooLarge);
        }
        file.write_all(&chunk)
            .await
            .map_err(|e| io_error("write", e))?;
    }
    file.flush().await.map_err(|e| io_error("flush", e))?;
    file.seek(SeekFrom::Start(0))
        .await
        .map_err(|e| io_error("rewind", e))?;
    Ok(Spooled::Ready(SpooledBody { file, len }))
}

/// An absolute path inside a container, normalised: repeated `/` and `.` removed, no trailing
/// `/`. `..` is refused rather than resolved, so a path means what it says.
pub fn normalize_path(raw: &str) -> Result<String> {
    let bad = |why: &str| Err(Error::invalid("path", why));
    if raw.is_empty() {
        return bad("must not be empty");
    }
    if !raw.starts_with('/') {
        return bad("must be absolute (start with /)");
    }
    if raw.contains('\0') {
        return bad("must not contain a NUL character");
    }
    if raw.len() > 4096 {
        return bad("use at most 4096 bytes");
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return bad("must not contain .. (give the folder itself)"),
            p => parts.push(p),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// A file name for a single-file upload: one path component.
pub fn validate_file_name(name: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid("name", why));
    if name.is_empty() {
        return bad("must not be empty");
    }
    if name.contains('/') {
        return bad("must not contain /; give the folder in path");
    }
    if name.contains('\0') {
        return bad("must not contain a NUL character");
    }
    if name == "." || name == ".." {
        return bad("must be a file name, not . or ..");
    }
    if name.len() > 255 {
        return bad("use at most 255 bytes");
    }
    Ok(())
}

/// What the archive HEAD says about a path.
struct Stat {
    name: String,
    kind: FileKind,
    link_target: String,
}

// Go's os.FileMode type bits, as the engine sends them.
const GO_DIR: u32 = 1 << 31;
const GO_SYMLINK: u32 = 1 << 27;
const GO_TYPE: u32 = GO_DIR | GO_SYMLINK | 1 << 26 | 1 << 25 | 1 << 24 | 1 << 21 | 1 << 19;

fn stat_kind(go_mode: u32) -> FileKind {
    if go_mode & GO_DIR != 0 {
        FileKind::Dir
    } else if go_mode & GO_SYMLINK != 0 {
        FileKind::Symlink
    } else if go_mode & GO_TYPE == 0 {
        FileKind::File
    } else {
        FileKind::Other
    }
}

impl Engine {
    /// `docker export`: the container's whole filesystem as a tar stream.
    pub async fn export_container(&self, id: &str) -> Result<Download> {
        let id = check_container_ref(id)?.to_owned();
        let name = self.container_name(&id).await?;
        let docker = self.docker().await?;
        let stream = self.started(docker.export_container(&id), EXPORT).await?;
        Ok(Download {
            filename: format!("{}.tar", download_name(&name)),
            stream,
        })
    }

    /// A file or folder of the container as a tar stream (`docker cp container:path -`).
    /// A missing path is `NotFound("path")`; works on stopped containers too.
    pub async fn archive_download(&self, id: &str, path: &str) -> Result<Download> {
        let id = check_container_ref(id)?.to_owned();
        let path = normalize_path(path)?;
        let stat = self.stat_path(&id, &path).await?;
        let name = if path == "/" {
            "root".to_owned()
        } else {
            stat.name
        };
        let docker = self.docker().await?;
        let stream =
            docker.download_from_container(&id, Some(DownloadFromContainerOptions { path }));
        let stream = self.started(stream, "read the path").await?;
        Ok(Download {
            filename: format!("{}.tar", download_name(&name)),
            stream,
        })
    }

    /// The direct children of a folder, read from the engine's tar of it (headers only; file
    /// contents are skipped as they stream past). At most [`LISTING_CAP`] entries.
    pub async fn list_container_dir(&self, id: &str, path: &str) -> Result<DirListing> {
        let id = check_container_ref(id)?.to_owned();
        let path = normalize_path(path)?;
        let dir = self.resolve_dir(&id, &path).await?;
        // `dir/.` names the entries `./child`, whatever the folder is called.
        let source = if dir == "/" {
            "/.".to_owned()
        } else {
            format!("{dir}/.")
        };
        let docker = self.docker().await?;
        let stream = docker
            .download_from_container(&id, Some(DownloadFromContainerOptions { path: source }));
        let stream = self.started(stream, "read the folder").await?;

        // The scan runs on a blocking thread; if this request goes away, tell it to stop.
        let stop = Arc::new(AtomicBool::new(false));
        let _stop_on_drop = StopOnDrop(stop.clone());
        let reader = SyncIoBridge::new(StreamReader::new(stream));
        let (mut entries, truncated) =
            tokio::task::spawn_blocking(move || scan_children(reader, &stop))
                .await
                .map_err(|e| Error::Internal(format!("listing task: {e}")))??;
        entries.sort_by(|a, b| {
            (a.kind != FileKind::Dir, &a.name).cmp(&(b.kind != FileKind::Dir, &b.name))
        });
        Ok(DirListing {
            path,
            entries,
            truncated,
        })
    }

    /// Checks that `dir` is a folder of the container (404 when it or the container is
    /// missing, 422 when it is not a folder) before an upload body is read.
    pub async fn upload_target(&self, id: &str, dir: &str) -> Result<UploadTarget> {
        let container = check_container_ref(id)?.to_owned();
        let path = normalize_path(dir)?;
        let dir = self.resolve_dir(&container, &path).await?;
        Ok(UploadTarget { container, dir })
    }

    /// Puts a spooled body into the target folder: a tar is checked and extracted, a single
    /// file is wrapped in a one-entry tar as it streams.
    pub async fn archive_upload(
        &self,
        target: &UploadTarget,
        content: UploadContent,
        body: SpooledBody,
    ) -> Result<()> {
        let SpooledBody { file, len } = body;
        let stream: ByteStream = match content {
            UploadContent::Tar => {
                if len == 0 {
                    return Err(Error::invalid("body", "is empty; send a tar archive"));
                }
                let file = check_tar(file).await?;
                Box::pin(ReaderStream::with_capacity(file, 64 * 1024))
            }
            UploadContent::File { name } => {
                validate_file_name(&name)?;
                let head = Bytes::from(file_header(&name, len)?);
                let pad = (BLOCK - len % BLOCK) % BLOCK;
                let tail = Bytes::from(vec![0u8; usize::try_from(pad + 2 * BLOCK).unwrap_or(1536)]);
                let body = ReaderStream::with_capacity(file, 64 * 1024);
                Box::pin(
                    futures::stream::once(async { Ok(head) })
                        .chain(body)
                        .chain(futures::stream::once(async { Ok(tail) })),
                )
            }
        };
        let options = UploadToContainerOptions {
            path: target.dir.clone(),
            // As `docker cp`: never replace a folder with a file or a file with a folder.
            no_overwrite_dir_non_dir: Some("true".into()),
            copy_uidgid: None,
        };
        // The per-call deadline plus a second per MiB: slow enough for big files, yet bounded.
        let deadline = self.inner.timeouts.call + Duration::from_secs(len / (1024 * 1024));
        let docker = self.docker().await?;
        let container = target.container.clone();
        let upload =
            docker.upload_to_container(&container, Some(options), bollard::body_try_stream(stream));
        match tokio::time::timeout(deadline, upload).await {
            Err(_) => Err(Error::EngineTimeout),
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(match classify::call(e) {
                Error::Engine { status: 403, .. } => {
                    Error::Conflict("the folder is read-only in this container".into())
                }
                // 400 or 500, depending on the engine's version.
                Error::Engine { message, .. } if message.contains("cannot overwrite") => {
                    Error::Conflict(
                        "the upload would replace a folder with a file, or a file with a folder"
                            .into(),
                    )
                }
                Error::Engine {
                    status: 400,
                    message,
                } => {
                    tracing::info!(engine = %message, "the engine refused an upload");
                    Error::invalid(
                        "body",
                        "the engine could not extract the archive into the folder",
                    )
                }
                other => container_error(other, "write into the container"),
            }),
        }
    }

    async fn container_name(&self, id: &str) -> Result<String> {
        let owned = id.to_owned();
        let inspect = self
            .call(|d| async move {
                d.inspect_container(&owned, None::<InspectContainerOptions>)
                    .await
            })
            .await
            .map_err(|e| container_error(e, "inspect the container"))?;
        let name = inspect.name.unwrap_or_default();
        let name = name.trim_start_matches('/');
        Ok(if name.is_empty() {
            id.to_owned()
        } else {
            name.to_owned()
        })
    }

    /// HEAD of the archive endpoint. Its 404 does not say whether the container or the path is
    /// missing, so a 404 asks once more about the container.
    async fn stat_path(&self, id: &str, path: &str) -> Result<Stat> {
        let (owned, query) = (
            id.to_owned(),
            ContainerArchiveInfoOptions {
                path: path.to_owned(),
            },
        );
        match self
            .call(|d| async move { d.get_container_archive_info(&owned, Some(query)).await })
            .await
        {
            Ok(s) => Ok(Stat {
                name: s.name,
                kind: stat_kind(s.file_mode),
                link_target: s.link_target,
            }),
            Err(Error::Engine { status: 404, .. }) => {
                self.container_name(id).await?;
                Err(Error::NotFound("path".into()))
            }
            Err(e) => Err(container_error(e, "read the path")),
        }
    }

    /// The folder a path names, following a symbolic link (the engine resolves its target
    /// inside the container).
    async fn resolve_dir(&self, id: &str, path: &str) -> Result<String> {
        let mut current = path.to_owned();
        for _ in 0..8 {
            let stat = self.stat_path(id, &current).await?;
            match stat.kind {
                FileKind::Dir => return Ok(current),
                FileKind::Symlink if stat.link_target.starts_with('/') => {
                    current = normalize_path(&stat.link_target).map_err(|_| {
                        Error::invalid("path", "is a link that leaves the container's folders")
                    })?;
                }
                _ => return Err(Error::invalid("path", "is not a folder")),
            }
        }
        Err(Error::invalid(
            "path",
            "is a chain of links too long to follow",
        ))
    }

    /// Waits for an engine body's first chunk (or its error, which then becomes a proper
    /// status instead of a cut response), and bounds the gaps between later chunks.
    async fn started<S>(&self, stream: S, doing: &'static str) -> Result<ByteStream>
    where
        S: Stream<Item = std::result::Result<Bytes, BollardError>> + Send + 'static,
    {
        let mut stream = Box::pin(stream);
        let first = tokio::time::timeout(
            self.inner.timeouts.call.max(Duration::from_secs(30)),
            stream.next(),
        )
        .await
        .map_err(|_| Error::EngineTimeout)?;
        let first = match first {
            None => None,
            Some(Ok(bytes)) => Some(bytes),
            // The path was just found; if it is gone now, say so rather than blame the container.
            Some(Err(e)) => {
                return Err(match classify::call(e) {
                    Error::Engine { status: 404, .. } if doing != EXPORT => {
                        Error::NotFound("path".into())
                    }
                    other => container_error(other, doing),
                })
            }
        };
        let rest = futures::stream::unfold(Some(stream), move |state| async move {
            let mut stream = state?;
            match tokio::time::timeout(IDLE, stream.next()).await {
                Ok(Some(Ok(bytes))) => Some((Ok(bytes), Some(stream))),
                Ok(None) => None,
                Ok(Some(Err(e))) => {
                    let detail = classify::call(e).log_detail();
                    tracing::warn!(error = %detail, "engine stream failed while trying to {doing}");
                    Some((Err(io::Error::other(detail)), None))
                }
                Err(_) => {
                    tracing::warn!("engine stream stalled while trying to {doing}");
                    Some((
                        Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "the engine stopped sending",
                        )),
                        None,
                    ))
                }
            }
        });
        Ok(Box::pin(futures::stream::iter(first.map(Ok)).chain(rest)))
    }
}

struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Reads tar headers and keeps the direct children of the archive's root (`./name`).
fn scan_children<R: Read>(reader: R, stop: &AtomicBool) -> Result<(Vec<FileEntry>, bool)> {
    let started = Instant::now();
    let mut archive = tar::Archive::new(reader);
    let mut entries: Vec<FileEntry> = Vec::new();
    let tar_error = |e: io::Error| {
        tracing::warn!(error = %e, "reading a folder's tar failed");
        Error::Engine {
            status: 502,
            message: "the engine sent a folder listing that could not be read".into(),
        }
    };
    for (scanned, entry) in archive.entries().map_err(tar_error)?.enumerate() {
        if stop.load(Ordering::Relaxed) {
            return Err(Error::Internal(
                "listing abandoned: the request went away".into(),
            ));
        }
        if scanned >= SCAN_CAP || started.elapsed() > SCAN_BUDGET {
            return Ok((entries, true));
        }
        let entry = entry.map_err(tar_error)?;
        let raw = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let Some(name) = child_name(&raw) else {
            continue;
        };
        if entries.len() == LISTING_CAP {
            return Ok((entries, true));
        }
        let header = entry.header();
        let link = entry
            .link_name_bytes()
            .map(|l| String::from_utf8_lossy(&l).into_owned());
        let (kind, link_target, size) = match header.entry_type() {
            tar::EntryType::Directory => (FileKind::Dir, None, 0),
            tar::EntryType::Symlink => (FileKind::Symlink, link, 0),
            tar::EntryType::Regular | tar::EntryType::Continuous | tar::EntryType::GNUSparse => {
                (FileKind::File, None, entry.size())
            }
            // A hard link is a file; its size is its first name's, when that is listed here.
            tar::EntryType::Link => {
                let first = link.as_deref().and_then(child_name);
                let size = first
                    .and_then(|f| entries.iter().find(|e| e.name == f))
                    .map_or(0, |e| e.size);
                (FileKind::File, None, size)
            }
            _ => (FileKind::Other, None, 0),
        };
        entries.push(FileEntry {
            name: name.to_owned(),
            kind,
            size,
            mode: header.mode().unwrap_or(0) & 0o7777,
            modified: header
                .mtime()
                .ok()
                .and_then(|m| i64::try_from(m).ok())
                .unwrap_or(0),
            link_target,
        });
    }
    Ok((entries, false))
}

/// `./name` or `./name/` → `name`; the root itself and deeper entries → `None`.
fn child_name(raw: &str) -> Option<&str> {
    let rel = raw.strip_prefix("./").unwrap_or(raw).trim_end_matches('/');
    (!rel.is_empty() && rel != "." && !rel.contains('/')).then_some(rel)
}

/// A download's base name for `Content-Disposition`: letters, digits, `.`, `_`, `-`.
fn download_name(name: &str) -> String {
    let safe: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '_'
            }
        })
        .take(100)
        .collect();
    let safe = safe.trim_start_matches('.');
    if safe.is_empty() {
        "archive".to_owned()
    } else {
        safe.to_owned()
    }
}

/// The header block(s) of a one-file tar: a regular file, `0644`, owned by root, modified now.
/// Long names get the GNU long-name entry in front.
fn file_header(name: &str, len: u64) -> Result<Vec<u8>> {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(tar::EntryType::Regular);
    header.set_size(len);
    header.set_mode(0o644);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(u64::try_from(crate::store::now()).unwrap_or(0));
    let mut builder = tar::Builder::new(Vec::new());
    // No data: `append_data` then writes exactly the header blocks; the file streams after.
    builder
        .append_data(&mut header, name, io::empty())
        .map_err(|e| Error::invalid("name", format!("cannot be stored in a tar: {e}")))?;
    Ok(builder.get_ref().clone())
}

/// Checks an uploaded tar before the engine sees it: readable to the end, and no entry that
/// climbs out of the target folder (the engine would stop half-way, leaving earlier entries).
/// Compressed archives are left to the engine.
async fn check_tar(file: tokio::fs::File) -> Result<tokio::fs::File> {
    let file = file.into_std().await;
    let file = tokio::task::spawn_blocking(move || check_tar_blocking(file))
        .await
        .map_err(|e| Error::Internal(format!("tar check task: {e}")))??;
    Ok(tokio::fs::File::from_std(file))
}

fn check_tar_blocking(mut file: std::fs::File) -> Result<std::fs::File> {
    let io_error = |e: io::Error| Error::Internal(format!("upload spool: {e}"));
    let mut magic = [0u8; 6];
    let mut read = 0;
    while read < magic.len() {
        match file.read(&mut magic[read..]).map_err(io_error)? {
            0 => break,
            n => read += n,
        }
    }
    file.seek(SeekFrom::Start(0)).map_err(io_error)?;
    let compressed = magic.starts_with(&[0x1f, 0x8b])
        || magic.starts_with(b"BZh")
        || magic.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0])
        || magic.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]);
    if !compressed {
        let not_tar = |e: io::Error| {
            tracing::debug!(error = %e, "an uploaded tar was refused");
            Error::invalid("body", "is not a valid tar archive")
        };
        let mut archive = tar::Archive::new(&file);
        for entry in archive.entries().map_err(not_tar)? {
            let entry = entry.map_err(not_tar)?;
            let path = entry.path_bytes();
            if path.split(|b| *b == b'/').any(|part| part == b"..") {
                return Err(Error::invalid(
                    "body",
                    "the archive has an entry with .. in its path",
                ));
            }
        }
        file.seek(SeekFrom::Start(0)).map_err(io_error)?;
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(normalize_path("/").ok().as_deref(), Some("/"));
        assert_eq!(
            normalize_path("//etc/./ssl//").ok().as_deref(),
            Some("/etc/ssl")
        );
        for bad in ["", "etc", "/etc/../root", "/a/..", "/a\0b"] {
            assert!(
                matches!(normalize_path(bad), Err(Error::Invalid { ref field, .. }) if field == "path"),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn names() {
        assert!(validate_file_name("notes.txt").is_ok());
        for bad in ["", "a/b", ".", "..", "a\0"] {
            assert!(validate_file_name(bad).is_err(), "{bad:?}");
        }
        assert_eq!(download_name("../etc passwd"), "_etc_passwd");
        assert_eq!(download_name("..."), "archive");
    }

    #[test]
    fn children() {
        assert_eq!(child_name("./"), None);
        assert_eq!(child_name("./etc/"), Some("etc"));
        assert_eq!(child_name("./etc/passwd"), None);
        assert_eq!(child_name("./hosts"), Some("hosts"));
    }

    #[test]
    fn go_modes() {
        assert_eq!(stat_kind(2_147_484_141), FileKind::Dir);
        assert_eq!(stat_kind(134_218_239), FileKind::Symlink);
        assert_eq!(stat_kind(0o644), FileKind::File);
        assert_eq!(stat_kind(1 << 25 | 0o644), FileKind::Other);
    }

    #[test]
    fn one_file_tar_reads_back() {
        let name = "a-rather-long-file-name-".repeat(6);
        let data = b"hello";
        let mut tar = file_header(&name, data.len() as u64).expect("header");
        tar.extend_from_slice(data);
        tar.extend(std::iter::repeat_n(0u8, (512 - data.len() % 512) + 1024));
        let mut archive = tar::Archive::new(&tar[..]);
        let mut entries = archive.entries().expect("entries");
        let mut entry = entries.next().expect("one entry").expect("readable");
        assert_eq!(entry.path_bytes().as_ref(), name.as_bytes());
        let mut body = String::new();
        entry.read_to_string(&mut body).expect("read");
        assert_eq!(body, "hello");
        drop(entry);
        assert!(entries.next().is_none());
    }
}
