//! `docker top`, `docker diff` and `docker commit` for one container.

use bollard::models::{ChangeType, ContainerConfig};
use bollard::query_parameters::{CommitContainerOptions, TopOptions};

use super::Engine;
use crate::error::{Error, Result};

pub use wire::files::{ChangeKind, FsChange, ProcessList};

/// `docker commit`: the new image's name and history entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitOptions {
    pub repo: String,
    /// `latest` when absent.
    pub tag: Option<String>,
    pub author: Option<String>,
    pub message: Option<String>,
    /// Pause the container while committing (docker's default: yes).
    pub pause: bool,
}

impl CommitOptions {
    pub fn validate(&self) -> Result<()> {
        validate_repo(&self.repo)?;
        if let Some(tag) = &self.tag {
            validate_tag(tag)?;
        }
        if let Some(author) = &self.author {
            if author.chars().count() > 256 || author.chars().any(char::is_control) {
                return Err(Error::invalid(
                    "author",
                    "use at most 256 characters on one line",
                ));
            }
        }
        if let Some(message) = &self.message {
            if message.len() > 64 * 1024 || message.contains('\0') {
                return Err(Error::invalid("message", "use at most 64 KiB of text"));
            }
        }
        Ok(())
    }
}

/// A container as the engine's URL names it: an id (or its prefix) or a name. Anything else
/// cannot name a container — and must never reach the engine's URL, where `/` or `..` would
/// address another endpoint.
pub(super) fn check_container_ref(id: &str) -> Result<&str> {
    let id = id.strip_prefix('/').unwrap_or(id);
    if crate::names::is_object_name(id, 1..=255) {
        Ok(id)
    } else {
        Err(Error::NotFound("container".into()))
    }
}

/// An engine error about one container, in words: 404 is the container, a server error's text
/// (which may name paths on the engine's host) is logged and replaced.
pub(super) fn container_error(err: Error, doing: &str) -> Error {
    match err {
        Error::Engine { status: 404, .. } => Error::NotFound("container".into()),
        Error::Engine { status, message } if status >= 500 => {
            tracing::warn!(status, engine = %message, "engine failed to {doing}");
            Error::Engine {
                status,
                message: format!("the engine could not {doing}"),
            }
        }
        other => other,
    }
}

/// `ps` options for `docker top`: ps runs on the engine's host, so only plain option words.
pub fn validate_ps_args(args: &str) -> Result<()> {
    let ok = !args.trim().is_empty()
        && args.len() <= 64
        && args
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, ' ' | '-' | ',' | '=' | '%' | ':'));
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "ps_args",
            "use up to 64 letters, digits, spaces and - , = % : (for example: aux, or -o pid,comm)",
        ))
    }
}

/// An image repository as `docker commit` accepts it: `[registry[:port]/]name[/name…]`, path
/// components in lowercase letters and digits joined by `.`, `_`, `__` or dashes.
pub fn validate_repo(repo: &str) -> Result<()> {
    let bad = |why: &str| Err(Error::invalid("repo", why));
    if repo.is_empty() {
        return bad("must not be empty");
    }
    if repo.len() > 255 {
        return bad("use at most 255 characters");
    }
    if repo.contains('@') {
        return bad("a digest cannot be committed to; give a repository name");
    }
    let mut parts: Vec<&str> = repo.split('/').collect();
    // The first part is a registry when it looks like a host: a dot, a port, or `localhost`.
    if parts.len() > 1
        && (parts[0].contains('.') || parts[0].contains(':') || parts[0] == "localhost")
    {
        let registry = parts.remove(0);
        if !crate::names::is_registry(registry) {
            return bad("the registry part must be a host name with an optional :port");
        }
    }
    if parts.iter().any(|p| p.contains(':')) {
        return bad("put the tag in the tag field, not after a colon");
    }
    if !parts.iter().all(|p| crate::names::is_repo_component(p)) {
        return bad("use lowercase letters and digits, separated by . _ __ - or /");
    }
    Ok(())
}

/// A tag: up to 128 letters, digits, `_`, `.` and `-`, not starting with `.` or `-`.
pub fn validate_tag(tag: &str) -> Result<()> {
    if crate::names::is_tag(tag) {
        Ok(())
    } else {
        Err(Error::invalid(
            "tag",
            "use up to 128 letters, digits, _ . and -, starting with a letter, digit or _",
        ))
    }
}

impl Engine {
    /// `docker top`: the container's processes. A container that is not running has none to
    /// show: that is a conflict, not an empty list.
    pub async fn container_top(&self, id: &str, ps_args: Option<&str>) -> Result<ProcessList> {
        let id = check_container_ref(id)?.to_owned();
        if let Some(args) = ps_args {
            validate_ps_args(args)?;
        }
        let options = ps_args.map(|a| TopOptions {
            ps_args: a.to_owned(),
        });
        let top = self
            .call(|d| async move { d.top_processes(&id, options).await })
            .await
            .map_err(|e| match e {
                Error::Engine { status: 409, .. } => {
                    Error::Conflict("container is not running".into())
                }
                Error::Engine {
                    status: 500,
                    message,
                } if message.contains("is not running") => {
                    Error::Conflict("container is not running".into())
                }
                other => container_error(other, "list the processes (check ps_args)"),
            })?;
        Ok(ProcessList {
            titles: top.titles.unwrap_or_default(),
            rows: top.processes.unwrap_or_default(),
        })
    }

    /// `docker diff`: what the container changed on top of its image.
    pub async fn container_changes(&self, id: &str) -> Result<Vec<FsChange>> {
        let id = check_container_ref(id)?.to_owned();
        let changes = self
            .call(|d| async move { d.container_changes(&id).await })
            .await
            .map_err(|e| container_error(e, "read the container's changes"))?;
        Ok(changes
            .unwrap_or_default()
            .into_iter()
            .map(|c| FsChange {
                path: c.path,
                kind: match c.kind {
                    ChangeType::_0 => ChangeKind::Changed,
                    ChangeType::_1 => ChangeKind::Added,
                    ChangeType::_2 => ChangeKind::Deleted,
                },
            })
            .collect())
    }

    /// `docker commit`: a new image from the container's filesystem and configuration.
    /// Returns the new image's id.
    pub async fn commit_container(&self, id: &str, options: &CommitOptions) -> Result<String> {
        let id = check_container_ref(id)?.to_owned();
        options.validate()?;
        let query = CommitContainerOptions {
            container: Some(id),
            repo: Some(options.repo.clone()),
            tag: Some(options.tag.clone().unwrap_or_else(|| "latest".into())),
            comment: options.message.clone().filter(|m| !m.is_empty()),
            author: options.author.clone().filter(|a| !a.is_empty()),
            pause: options.pause,
            changes: None,
        };
        let created = self
            .call(|d| async move { d.commit_container(query, ContainerConfig::default()).await })
            .await
            .map_err(|e| match e {
                Error::Engine {
                    status: 409,
                    message,
                } => {
                    tracing::info!(engine = %message, "the engine refused a commit");
                    Error::Conflict("the container cannot be committed in its current state".into())
                }
                other => container_error(other, "commit the container"),
            })?;
        Ok(created.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repos() {
        for ok in [
            "app",
            "team/app",
            "registry:5000/team/app",
            "localhost/app",
            "ab-c__d/e_f.g",
            "127.0.0.1:37573/x",
            "a--b",
        ] {
            assert!(validate_repo(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "App",
            "app:1.0",
            "app@sha256:00",
            "/app",
            "app/",
            "a..b",
            "-a",
            "a_",
            "team//app",
            "reg.io:/app",
            "a b",
        ] {
            assert!(validate_repo(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn tags() {
        assert!(validate_tag("1.2.3-rc_1").is_ok());
        assert!(validate_tag("_x").is_ok());
        for bad in ["", ".x", "-x", "a/b", "a:b", &"x".repeat(129)] {
            assert!(validate_tag(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ps_args() {
        assert!(validate_ps_args("aux").is_ok());
        assert!(validate_ps_args("-o pid,comm").is_ok());
        for bad in ["", " ", "aux; rm -rf /", "$(id)", "a|b", &"a".repeat(65)] {
            assert!(validate_ps_args(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn container_refs() {
        assert_eq!(check_container_ref("/web").ok(), Some("web"));
        assert!(check_container_ref("0f80e3d43632").is_ok());
        for bad in ["", "../images/json", "a/b", "a?b", ".hidden", "a b"] {
            assert!(check_container_ref(bad).is_err(), "{bad}");
        }
    }
}
