//! Capstan protects itself (issue 18, item 5). When Capstan runs in a container, that container
//! and what it mounts (its data volume, the engine socket, its certificates) are admin-only
//! objects on the engine that holds them: a non-admin cannot exec into it, read or write its
//! files, export or commit it, stop, restart, pause, kill, rename, recreate or remove it, take
//! it off its networks, join its namespaces, mount its volumes or the host paths it mounts, or
//! remove those volumes; viewers do not see its logs, and nobody but an admin sees its
//! environment or its processes.
//!
//! Who we are comes from this process's own view of itself ([`Me::detect`]): the engine's
//! container id in `/proc/self/mountinfo` (the engine bind-mounts `…/containers/<id>/hostname`
//! and friends) or `/proc/self/cgroup`, else the hostname the engine gave us (the short id).
//! Each engine is then asked once whether it holds that container ([`Engine::own_objects`]).

use std::collections::BTreeSet;
use std::path::{Component, Path};
use std::sync::{Arc, OnceLock};

use super::Engine;
use crate::error::{Error, Result};
use crate::policy::{Principal, Role};

/// This process's identity as a container, if it is one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Me {
    /// The full container id (64 hex digits), when the mounts or cgroups name it.
    pub id: Option<String>,
    /// The hostname, which the engine sets to the short id unless told otherwise.
    pub hostname: Option<String>,
}

static ME: OnceLock<Me> = OnceLock::new();

impl Me {
    /// What this process can tell of itself, read once.
    pub fn get() -> &'static Me {
        ME.get_or_init(Me::detect)
    }

    fn detect() -> Me {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let id = id_in_mountinfo(&read("/proc/self/mountinfo"))
            .or_else(|| id_in_cgroup(&read("/proc/self/cgroup")));
        let hostname = Some(read("/etc/hostname").trim().to_string()).filter(|h| !h.is_empty());
        let me = Me { id, hostname };
        if me.id.is_some() {
            tracing::info!(container = %me.id.as_deref().unwrap_or_default(), "running in a container: it and its mounts are admin-only objects");
        }
        me
    }

    /// The reference to look ourselves up by on an engine, and whether a found container must
    /// also be checked to be us (only a short-id hostname needs that).
    fn reference(&self) -> Option<(&str, bool)> {
        if let Some(id) = &self.id {
            return Some((id, false));
        }
        let h = self.hostname.as_deref()?;
        (h.len() == 12
            && h.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()))
        .then_some((h, true))
    }
}

fn is_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// The id in a mount of the engine's per-container files (`/etc/hostname`, `/etc/hosts`,
/// `/etc/resolv.conf`): `…/containers/<id>/hostname` (Docker) or
/// `…/overlay-containers/<id>/userdata/hostname` (Podman).
fn id_in_mountinfo(mountinfo: &str) -> Option<String> {
    mountinfo.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(' ').collect();
        let (root, target) = (fields.get(3)?, fields.get(4)?);
        if !matches!(*target, "/etc/hostname" | "/etc/hosts" | "/etc/resolv.conf") {
            return None;
        }
        root.split('/')
            .collect::<Vec<_>>()
            .windows(2)
            .find(|w| (w[0] == "containers" || w[0] == "overlay-containers") && is_id(w[1]))
            .map(|w| w[1].to_string())
    })
}

/// The id in a cgroup path (cgroup v1, or v2 without a private namespace): `/docker/<id>`,
/// `docker-<id>.scope`, `libpod-<id>.scope`.
fn id_in_cgroup(cgroup: &str) -> Option<String> {
    cgroup.lines().find_map(|line| {
        let path = line.splitn(3, ':').nth(2)?;
        path.split('/').find_map(|part| {
            let part = part.strip_suffix(".scope").unwrap_or(part);
            let id = part.rsplit('-').next().unwrap_or(part);
            is_id(id).then(|| id.to_string())
        })
    })
}

/// Capstan's container on one engine and what it mounts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnObjects {
    pub id: String,
    /// Named volumes it mounts.
    pub volumes: BTreeSet<String>,
    /// Host paths it mounts (bind sources and its volumes' directories).
    pub paths: Vec<String>,
}

impl OwnObjects {
    /// Whether a host path is one of ours, inside one, or holds one.
    pub fn covers_path(&self, source: &str) -> bool {
        let p = normal(Path::new(source));
        self.paths.iter().any(|q| {
            let q = normal(Path::new(q));
            p.starts_with(&q) || q.starts_with(&p)
        })
    }
}

fn normal(p: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::from("/");
    for c in p.components() {
        match c {
            Component::Normal(x) => out.push(x),
            Component::ParentDir => {
                out.pop();
            }
            _ => {}
        }
    }
    out
}

/// The cached answer of one engine: `None` when it does not hold Capstan's container.
pub(crate) type OwnCell = tokio::sync::OnceCell<Option<Arc<OwnObjects>>>;

impl Engine {
    /// Capstan's own container on this engine, if it holds it (asked once per engine; an
    /// engine that cannot be reached is asked again next time).
    pub async fn own_objects(&self) -> Result<Option<Arc<OwnObjects>>> {
        self.own_objects_of(Me::get()).await
    }

    pub(crate) async fn own_objects_of(&self, me: &Me) -> Result<Option<Arc<OwnObjects>>> {
        let Some((reference, verify)) = me.reference() else {
            return Ok(None);
        };
        let found = self
            .own_cell()
            .get_or_try_init(|| async {
                let c = match self.inspect_raw(reference).await {
                    Ok(c) => c,
                    Err(Error::NotFound(_)) => return Ok(None),
                    Err(e) => return Err(e),
                };
                let id = c.id.clone().unwrap_or_default();
                let hostname = c
                    .config
                    .as_ref()
                    .and_then(|c| c.hostname.clone())
                    .unwrap_or_default();
                if verify && !(id.starts_with(reference) && hostname == reference) {
                    return Ok(None);
                }
                let mut own = OwnObjects {
                    id,
                    volumes: BTreeSet::new(),
                    paths: Vec::new(),
                };
                for m in c.mounts.unwrap_or_default() {
                    if let Some(name) = m.name.filter(|n| !n.is_empty()) {
                        own.volumes.insert(name);
                    }
                    if let Some(src) = m.source.filter(|s| s.starts_with('/')) {
                        own.paths.push(src);
                    }
                }
                Ok(Some(Arc::new(own)))
            })
            .await?;
        Ok(found.clone())
    }

    /// Whether `reference` (an id, a prefix of one, or a name) is Capstan's own container.
    pub async fn is_own_container(&self, reference: &str) -> Result<bool> {
        let Some(own) = self.own_objects().await? else {
            return Ok(false);
        };
        let r = reference.trim().trim_start_matches('/');
        if r.is_empty() {
            return Ok(false);
        }
        if own.id.starts_with(r) {
            return Ok(true);
        }
        match self.inspect_raw(r).await {
            Ok(c) => Ok(c.id.as_deref() == Some(own.id.as_str())),
            Err(Error::NotFound(_) | Error::Invalid { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// What a door is about to do with a container, in the words a refusal uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContainerAct {
    /// Read its logs: refused to viewers only.
    Logs,
    /// See its processes (their command lines).
    Top,
    Exec,
    /// Read or write its files.
    Files,
    Export,
    Commit,
    /// Start, stop, restart, kill, pause, unpause.
    Lifecycle,
    Rename,
    Recreate,
    Remove,
    /// Connect it to or take it off a network.
    Network,
}

impl ContainerAct {
    fn words(self) -> &'static str {
        match self {
            ContainerAct::Logs => "read its logs",
            ContainerAct::Top => "list its processes",
            ContainerAct::Exec => "run commands in it",
            ContainerAct::Files => "read or change its files",
            ContainerAct::Export => "export it",
            ContainerAct::Commit => "commit it to an image",
            ContainerAct::Lifecycle => "start, stop, restart, pause or kill it",
            ContainerAct::Rename => "rename it",
            ContainerAct::Recreate => "recreate or edit it",
            ContainerAct::Remove => "remove it",
            ContainerAct::Network => "change its networks",
        }
    }
}

/// Refuses `act` on Capstan's own container to non-admins (logs only to viewers). The caller
/// has already authorized the action on the host.
pub async fn guard_container(
    engine: &Engine,
    who: &Principal,
    host: &str,
    reference: &str,
    act: ContainerAct,
) -> Result<()> {
    if who.admin
        || (act == ContainerAct::Logs && who.role_on(host).is_some_and(|r| r > Role::Viewer))
    {
        return Ok(());
    }
    if engine.is_own_container(reference).await? {
        return Err(refused_container(act));
    }
    Ok(())
}

/// The refusal for Capstan's own container.
pub fn refused_container(act: ContainerAct) -> Error {
    Error::Denied {
        field: "container".into(),
        message: format!(
            "this is Capstan's own container: only an admin may {}",
            act.words()
        ),
    }
}

/// Refuses removing one of the volumes Capstan's container mounts to non-admins.
pub async fn guard_volume(engine: &Engine, who: &Principal, name: &str) -> Result<()> {
    if who.admin {
        return Ok(());
    }
    match engine.own_objects().await? {
        Some(own) if own.volumes.contains(name.trim()) => Err(refused_volume("volume", name)),
        _ => Ok(()),
    }
}

pub(crate) fn refused_volume(field: &str, name: &str) -> Error {
    Error::Denied {
        field: field.into(),
        message: format!(
            "the volume {name} holds Capstan's own data: only an admin may use or remove it"
        ),
    }
}

pub(crate) fn refused_path(field: &str, path: &str) -> Error {
    Error::Denied {
        field: field.into(),
        message: format!("{path} is (or holds) a host path Capstan's own container mounts: only an admin may mount it"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "3f5c0a1e9b7d4c2a8e6f1b0d9c7a5e3f2b1d0c9a8e7f6b5a4c3d2e1f0a9b8c7d";

    #[test]
    fn the_container_id_is_read_from_the_engines_mounts() {
        let docker = format!(
            "612 600 0:45 / / rw,relatime - overlay overlay rw\n\
             640 612 254:1 /var/lib/docker/containers/{ID}/resolv.conf /etc/resolv.conf rw,relatime - ext4 /dev/vda rw\n"
        );
        assert_eq!(id_in_mountinfo(&docker).as_deref(), Some(ID));
        // /var/lib/docker on its own filesystem: the root is relative to it.
        let own_fs = format!(
            "641 612 254:2 /containers/{ID}/hostname /etc/hostname rw - ext4 /dev/vdb rw\n"
        );
        assert_eq!(id_in_mountinfo(&own_fs).as_deref(), Some(ID));
        let podman = format!("50 40 0:30 /containers/storage/overlay-containers/{ID}/userdata/hostname /etc/hostname rw - tmpfs tmpfs rw\n");
        assert_eq!(id_in_mountinfo(&podman).as_deref(), Some(ID));
        // A bind of the engine's directory elsewhere is not our identity.
        let bind =
            format!("700 612 254:1 /var/lib/docker/containers/{ID} /mnt/c rw - ext4 /dev/vda rw\n");
        assert_eq!(id_in_mountinfo(&bind), None);
        assert_eq!(
            id_in_mountinfo("22 1 0:21 / /proc rw - proc proc rw\n"),
            None
        );
    }

    #[test]
    fn the_container_id_is_read_from_cgroups() {
        assert_eq!(
            id_in_cgroup(&format!("12:memory:/docker/{ID}\n")).as_deref(),
            Some(ID)
        );
        assert_eq!(
            id_in_cgroup(&format!("0::/system.slice/docker-{ID}.scope\n")).as_deref(),
            Some(ID)
        );
        assert_eq!(id_in_cgroup("0::/\n"), None);
        assert_eq!(
            id_in_cgroup("0::/user.slice/user-1000.slice/session-3.scope\n"),
            None
        );
    }

    #[test]
    fn a_short_id_hostname_is_a_reference_to_verify() {
        let me = Me {
            id: None,
            hostname: Some("3f5c0a1e9b7d".into()),
        };
        assert_eq!(me.reference(), Some(("3f5c0a1e9b7d", true)));
        assert_eq!(
            Me {
                id: None,
                hostname: Some("build-box".into())
            }
            .reference(),
            None
        );
        let me = Me {
            id: Some(ID.into()),
            hostname: Some("web".into()),
        };
        assert_eq!(me.reference(), Some((ID, false)));
    }

    #[test]
    fn paths_are_ours_when_they_hold_or_sit_in_ours() {
        let own = OwnObjects {
            id: ID.into(),
            volumes: BTreeSet::new(),
            paths: vec![
                "/var/lib/docker/volumes/capstan-data/_data".into(),
                "/run/docker.sock".into(),
            ],
        };
        assert!(own.covers_path("/var/lib/docker"));
        assert!(own.covers_path("/"));
        assert!(own.covers_path("/var/lib/docker/volumes/capstan-data/_data/capstan.db"));
        assert!(own.covers_path("/srv/../run/docker.sock"));
        assert!(!own.covers_path("/srv/app"));
        assert!(!own.covers_path("/var/lib/docker/volumes/other"));
    }
}
