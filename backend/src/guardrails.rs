//! Guardrails: per host, what non-admins may ask of the engine. Everything is refused until an
//! admin allows it: privileged containers (and the settings that lift confinement the same
//! way), host mounts (bind mounts, and `local` volumes whose options mount something of the
//! host's: never, under listed prefixes, or any; read-only under prefixes unless allowed),
//! the host's network, PID or IPC namespace (also when joined through another container),
//! capabilities and devices from allow-lists, volume drivers other than `local` and network
//! drivers other than `bridge`/`overlay`.
//!
//! Enforcement lives in the engine's create, recreate, edit, volume-create and network-create
//! paths, which turn what the engine would be asked into a [`Requested`] (resolving named
//! volumes, `volumes_from` and `container:<X>` namespaces against the engine) and ask
//! [`Guardrails::check`]. `docs/design/security.md` states what this protects and what not.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use sqlx::{AnyPool, Row};

use crate::error::{Error, Result};
use crate::names::is_driver;
use crate::policy::Principal;
use crate::store::{internal, now, Flag};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BindMounts {
    #[default]
    Never,
    /// Only host paths under one of `bind_prefixes`.
    Prefixes,
    Any,
}

impl BindMounts {
    fn as_str(self) -> &'static str {
        match self {
            BindMounts::Never => "never",
            BindMounts::Prefixes => "prefixes",
            BindMounts::Any => "any",
        }
    }

    fn parse(s: &str) -> BindMounts {
        match s {
            "prefixes" => BindMounts::Prefixes,
            "any" => BindMounts::Any,
            _ => BindMounts::Never,
        }
    }
}

/// Capabilities that act inside the container's own namespaces (what "added capabilities:
/// yes" meant before the lists): a starting point for an admin, never `SYS_ADMIN`,
/// `SYS_MODULE`, `SYS_RAWIO`, `DAC_READ_SEARCH`, `SYS_BOOT`, `SYS_TIME`, `MAC_ADMIN` or `ALL`.
pub const COMMON_CAPS: &[&str] = &[
    "NET_ADMIN",
    "NET_RAW",
    "NET_BIND_SERVICE",
    "SYS_NICE",
    "SYS_RESOURCE",
    "SYS_PTRACE",
    "IPC_LOCK",
    "AUDIT_WRITE",
    "KILL",
    "CHOWN",
    "SETUID",
    "SETGID",
];

/// Network drivers anyone with the role may use; others (`macvlan`, `ipvlan`, `host`, plugins)
/// reach the host's interfaces and need the guardrail.
pub const PLAIN_NETWORK_DRIVERS: &[&str] = &["bridge", "overlay"];

/// A host's guardrails; the default refuses everything.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Guardrails {
    pub privileged: bool,
    pub bind_mounts: BindMounts,
    pub bind_prefixes: Vec<String>,
    /// Binds under `bind_prefixes` may be writable (else they are mounted read-only, so no
    /// container can plant a symlink in a prefix that a later bind would follow).
    pub bind_writable: bool,
    pub host_network: bool,
    pub host_pid: bool,
    pub host_ipc: bool,
    /// Capabilities non-admins may add (`NET_ADMIN`; `ALL` only if listed as such).
    pub cap_add: Vec<String>,
    /// Host devices non-admins may map (`/dev/fuse`), device cgroup rules written out, and
    /// `gpus` for device requests (`--gpus`).
    pub devices: Vec<String>,
    /// Volume drivers other than `local` non-admins may use.
    pub volume_drivers: Vec<String>,
    /// Network drivers other than `bridge` and `overlay` non-admins may use.
    pub network_drivers: Vec<String>,
    /// Viewers and operators see the values of containers' environment variables (else only
    /// their names; admins and the host's managers always see them).
    pub env_visible: bool,
}

/// A host path (or host filesystem) a container would mount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostMount {
    /// The request's field that asks for it (`volumes`, `mounts`, `volumes_from`, `driver_opts`).
    pub field: &'static str,
    /// The host path, or what the kernel would mount (a device, `:/export` of NFS).
    pub source: String,
    pub writable: bool,
    /// How it comes in when not a plain bind: `volume data`, `container web`.
    pub via: Option<String>,
}

/// One of the host's namespaces a container would share.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Namespace {
    Network,
    Pid,
    Ipc,
}

/// What a create, recreate or edit would ask of the engine, in the words the guardrails judge.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requested {
    pub privileged: bool,
    /// Settings that lift confinement like `--privileged` does, named as asked:
    /// `security_opt seccomp=unconfined`, `userns: host`, …
    pub unconfined: Vec<String>,
    pub host_mounts: Vec<HostMount>,
    /// The host's namespaces it would share, each with how (`network: host`,
    /// `network: container:web, which uses the host's`).
    pub host_namespaces: Vec<(Namespace, String)>,
    pub cap_add: Vec<String>,
    pub devices: Vec<String>,
    /// Non-local volume drivers of the volumes it would mount, with the field.
    pub volume_drivers: Vec<(&'static str, String)>,
    /// Device requests (`--gpus`), in words: `all GPUs`, `GPUs 0,1 (nvidia)`.
    pub gpus: Vec<String>,
}

/// The entry of [`Guardrails::devices`] that lets non-admins ask for GPUs (`--gpus`).
pub const GPUS: &str = "gpus";

/// How a volume's driver and options reach the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VolumeKind {
    /// A `local` volume in the engine's own directory (or tmpfs).
    Plain,
    /// A `local` volume whose options mount something of the host's (`device`, `o`, a `type`
    /// other than tmpfs): judged like a bind of that source.
    HostMount(String),
    /// Another driver: judged by the allow-list.
    Driver(String),
}

/// What a volume with this driver and these options is. `local` with any of `device`, `o` or
/// a `type` other than `tmpfs` is a host mount: the kernel mounts what `device` names (a
/// path, a disk, a remote export) with those options.
pub fn volume_kind(driver: &str, options: &BTreeMap<String, String>) -> VolumeKind {
    let driver = driver.trim();
    if !(driver.is_empty() || driver == "local") {
        return VolumeKind::Driver(driver.to_string());
    }
    let get = |k: &str| options.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
    let typ = get("type");
    if typ == Some("tmpfs") {
        return VolumeKind::Plain;
    }
    match (get("device"), typ, get("o")) {
        (None, None, None) => VolumeKind::Plain,
        (Some(device), _, _) => VolumeKind::HostMount(device.to_string()),
        (None, Some(t), _) => VolumeKind::HostMount(format!("a {t} filesystem")),
        (None, None, Some(o)) => VolumeKind::HostMount(format!("a mount with options {o}")),
    }
}

fn refuse(field: &str, what: &str) -> Error {
    Error::Denied {
        field: field.to_string(),
        message: format!(
            "{what} is not allowed on this host for non-admins (guardrails; ask an admin)"
        ),
    }
}

/// `/srv/data/../etc` → `/etc`; `None` for a relative path.
fn normalize(path: &str) -> Option<String> {
    let p = Path::new(path);
    if !p.is_absolute() {
        return None;
    }
    let mut parts: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::Normal(s) => parts.push(s.to_string_lossy().into_owned()),
            Component::ParentDir => {
                parts.pop();
            }
            _ => {}
        }
    }
    Some(format!("/{}", parts.join("/")))
}

fn under(path: &str, prefix: &str) -> bool {
    let (Some(path), Some(prefix)) = (normalize(path), normalize(prefix)) else {
        return false;
    };
    prefix == "/" || path == prefix || path.starts_with(&format!("{prefix}/"))
}

/// `cap_sys_admin` → `SYS_ADMIN`.
pub fn cap_name(cap: &str) -> String {
    let c = cap.trim().to_ascii_uppercase();
    c.strip_prefix("CAP_").map(str::to_string).unwrap_or(c)
}

/// Trims, drops empties and repeats, and checks each entry with `ok` (naming `field`).
fn clean_list(
    field: &str,
    list: &[String],
    map: impl Fn(&str) -> String,
    ok: impl Fn(&str) -> bool,
    hint: &str,
) -> Result<Vec<String>> {
    if list.len() > 256 {
        return Err(Error::invalid(field, "list at most 256 entries"));
    }
    let mut out: Vec<String> = Vec::new();
    for item in list {
        let item = map(item.trim());
        if item.is_empty() {
            continue;
        }
        if item.len() > 255 || !ok(&item) {
            return Err(Error::invalid(field, format!("{item:?} is not {hint}")));
        }
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(out)
}

impl Namespace {
    fn allowed(self, g: &Guardrails) -> bool {
        match self {
            Namespace::Network => g.host_network,
            Namespace::Pid => g.host_pid,
            Namespace::Ipc => g.host_ipc,
        }
    }

    pub fn field(self) -> &'static str {
        match self {
            Namespace::Network => "network",
            Namespace::Pid => "pid",
            Namespace::Ipc => "ipc",
        }
    }

    fn words(self) -> &'static str {
        match self {
            Namespace::Network => "the host's network namespace",
            Namespace::Pid => "the host's PID namespace",
            Namespace::Ipc => "the host's IPC namespace",
        }
    }
}

impl Guardrails {
    /// Checks every field, naming the first that is wrong.
    pub fn validate(&mut self) -> Result<()> {
        let mut prefixes = Vec::new();
        for p in &self.bind_prefixes {
            let p = p.trim();
            if p.is_empty() {
                continue;
            }
            let n = normalize(p).ok_or_else(|| {
                Error::invalid("bind_prefixes", format!("{p:?} must be an absolute path"))
            })?;
            if p.contains('\0') || p.len() > 4096 {
                return Err(Error::invalid(
                    "bind_prefixes",
                    "a prefix may not contain NUL or exceed 4096 bytes",
                ));
            }
            if !prefixes.contains(&n) {
                prefixes.push(n);
            }
        }
        if self.bind_mounts == BindMounts::Prefixes && prefixes.is_empty() {
            return Err(Error::invalid(
                "bind_prefixes",
                "list at least one path when bind mounts are allowed under prefixes",
            ));
        }
        self.bind_prefixes = prefixes;
        self.cap_add = clean_list(
            "cap_add",
            &self.cap_add,
            cap_name,
            |c| c.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'),
            "a capability name such as NET_ADMIN",
        )?;
        self.devices = clean_list(
            "devices",
            &self.devices,
            str::to_string,
            |d| {
                d == GPUS
                    || (d.starts_with("/dev/") && normalize(d).as_deref() == Some(d))
                    || d.split(' ').count() == 3 && matches!(d.as_bytes()[0], b'a' | b'b' | b'c')
            },
            "a device path under /dev, a cgroup rule such as \"c 10:229 rwm\", or gpus",
        )?;
        self.volume_drivers = clean_list(
            "volume_drivers",
            &self.volume_drivers,
            str::to_string,
            |d| is_driver(d) && d != "local",
            "a volume driver name other than local",
        )?;
        self.network_drivers = clean_list(
            "network_drivers",
            &self.network_drivers,
            str::to_string,
            |d| is_driver(d) && !PLAIN_NETWORK_DRIVERS.contains(&d),
            "a network driver other than bridge and overlay (macvlan, ipvlan, host)",
        )?;
        Ok(())
    }

    /// Whether a bind under the prefixes stays writable: with `Prefixes` and no
    /// `bind_writable`, the engine is asked for read-only binds.
    pub fn binds_read_only(&self) -> bool {
        self.bind_mounts == BindMounts::Prefixes && !self.bind_writable
    }

    /// A host mount of `source`, judged like a bind of that path.
    fn check_host_mount(&self, m: &HostMount) -> Result<()> {
        let what = match &m.via {
            Some(via) => format!("{} ({via})", m.source),
            None => m.source.clone(),
        };
        let allowed = match self.bind_mounts {
            BindMounts::Any => true,
            BindMounts::Never => false,
            BindMounts::Prefixes => self.bind_prefixes.iter().any(|p| under(&m.source, p)),
        };
        if !allowed {
            let rule = if self.bind_mounts == BindMounts::Prefixes {
                format!(
                    "a host mount of {what} (bind mounts only under {})",
                    self.bind_prefixes.join(", ")
                )
            } else {
                format!("a host mount of {what} (a bind mount of the host path)")
            };
            return Err(refuse(m.field, &rule));
        }
        if m.writable && self.binds_read_only() {
            return Err(refuse(
                m.field,
                &format!(
                    "a writable bind mount of {what} (binds under the allowed paths are read-only)"
                ),
            ));
        }
        Ok(())
    }

    /// Whether a non-admin may create a volume of this kind (`field` names the request's).
    pub fn check_volume(&self, field: &'static str, name: &str, kind: &VolumeKind) -> Result<()> {
        match kind {
            VolumeKind::Plain => Ok(()),
            VolumeKind::HostMount(source) => self.check_host_mount(&HostMount {
                field,
                source: source.clone(),
                writable: false,
                via: Some(format!("volume {name}")),
            }),
            VolumeKind::Driver(d) if self.volume_drivers.iter().any(|a| a == d) => Ok(()),
            VolumeKind::Driver(d) => Err(refuse(field, &format!("the volume driver {d}"))),
        }
    }

    /// Whether a non-admin may create a network with this driver.
    pub fn check_network_driver(&self, driver: &str) -> Result<()> {
        let d = driver.trim();
        if d.is_empty()
            || PLAIN_NETWORK_DRIVERS.contains(&d)
            || self.network_drivers.iter().any(|a| a == d)
        {
            Ok(())
        } else {
            Err(refuse("driver", &format!("the network driver {d}")))
        }
    }

    /// Whether a non-admin may ask for `r`; the refusal names the field and the guardrail.
    pub fn check(&self, r: &Requested) -> Result<()> {
        if r.privileged && !self.privileged {
            return Err(refuse("privileged", "a privileged container"));
        }
        if let Some(u) = r.unconfined.first().filter(|_| !self.privileged) {
            let field = u.split([' ', ':']).next().unwrap_or("security_opt");
            return Err(refuse(
                field,
                &format!("{u} (lifts confinement like --privileged)"),
            ));
        }
        let caps: Vec<String> = r
            .cap_add
            .iter()
            .map(|c| cap_name(c))
            .filter(|c| !self.cap_add.contains(c))
            .collect();
        if !caps.is_empty() {
            let allowed = if self.cap_add.is_empty() {
                "none are allowed".to_string()
            } else {
                format!("allowed: {}", self.cap_add.join(", "))
            };
            return Err(refuse(
                "cap_add",
                &format!("adding capabilities ({}; {allowed})", caps.join(", ")),
            ));
        }
        let devices: Vec<&str> = r
            .devices
            .iter()
            .map(|d| d.trim())
            .filter(|d| {
                !self
                    .devices
                    .iter()
                    .any(|a| a == d || normalize(d).as_deref() == Some(a.as_str()))
            })
            .collect();
        if !devices.is_empty() {
            return Err(refuse(
                "devices",
                &format!("adding devices ({})", devices.join(", ")),
            ));
        }
        if let Some(g) = r.gpus.first() {
            if !self.devices.iter().any(|d| d == GPUS) {
                return Err(refuse("gpus", &format!("device requests ({g})")));
            }
        }
        for (ns, how) in &r.host_namespaces {
            if !ns.allowed(self) {
                return Err(refuse(ns.field(), &format!("{} ({how})", ns.words())));
            }
        }
        for (field, d) in &r.volume_drivers {
            if !self.volume_drivers.iter().any(|a| a == d) {
                return Err(refuse(field, &format!("the volume driver {d}")));
            }
        }
        for m in &r.host_mounts {
            self.check_host_mount(m)?;
        }
        Ok(())
    }
}

/// Reads and writes hosts' guardrails.
#[derive(Clone)]
pub struct GuardrailStore {
    pool: AnyPool,
}

impl GuardrailStore {
    pub fn new(pool: AnyPool) -> Self {
        GuardrailStore { pool }
    }

    /// The host's guardrails (everything refused when none were set).
    pub async fn get(&self, host: &str) -> Result<Guardrails> {
        let row = sqlx::query(
            "SELECT privileged, bind_mounts, bind_prefixes, host_network, host_pid, host_ipc, cap_allow, device_allow,
                    volume_drivers, network_drivers, bind_writable, env_visible
             FROM host_guardrails WHERE host = $1",
        )
        .bind(host)
        .fetch_optional(&self.pool)
        .await
        .map_err(internal)?;
        let Some(r) = row else {
            return Ok(Guardrails::default());
        };
        let list = |i: usize| -> Vec<String> {
            serde_json::from_str(r.get::<&str, _>(i)).unwrap_or_default()
        };
        Ok(Guardrails {
            privileged: r.get::<Flag, _>(0).0,
            bind_mounts: BindMounts::parse(r.get::<&str, _>(1)),
            bind_prefixes: list(2),
            host_network: r.get::<Flag, _>(3).0,
            host_pid: r.get::<Flag, _>(4).0,
            host_ipc: r.get::<Flag, _>(5).0,
            cap_add: list(6),
            devices: list(7),
            volume_drivers: list(8),
            network_drivers: list(9),
            bind_writable: r.get::<Flag, _>(10).0,
            env_visible: r.get::<Flag, _>(11).0,
        })
    }

    /// Sets the host's guardrails (the caller checks the host exists).
    pub async fn set(&self, host: &str, mut g: Guardrails) -> Result<Guardrails> {
        g.validate()?;
        let json = |l: &Vec<String>| serde_json::to_string(l).map_err(internal);
        sqlx::query(
            "INSERT INTO host_guardrails (host, privileged, bind_mounts, bind_prefixes, host_network, host_pid, host_ipc,
                 cap_add, devices, cap_allow, device_allow, volume_drivers, network_drivers, bind_writable, env_visible,
                 updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
             ON CONFLICT (host) DO UPDATE SET privileged = excluded.privileged, bind_mounts = excluded.bind_mounts,
               bind_prefixes = excluded.bind_prefixes, host_network = excluded.host_network, host_pid = excluded.host_pid,
               host_ipc = excluded.host_ipc, cap_add = excluded.cap_add, devices = excluded.devices,
               cap_allow = excluded.cap_allow, device_allow = excluded.device_allow, volume_drivers = excluded.volume_drivers,
               network_drivers = excluded.network_drivers, bind_writable = excluded.bind_writable,
               env_visible = excluded.env_visible, updated_at = excluded.updated_at",
        )
        .bind(host)
        .bind(g.privileged)
        .bind(g.bind_mounts.as_str())
        .bind(json(&g.bind_prefixes)?)
        .bind(g.host_network)
        .bind(g.host_pid)
        .bind(g.host_ipc)
        .bind(!g.cap_add.is_empty())
        .bind(!g.devices.is_empty())
        .bind(json(&g.cap_add)?)
        .bind(json(&g.devices)?)
        .bind(json(&g.volume_drivers)?)
        .bind(json(&g.network_drivers)?)
        .bind(g.bind_writable)
        .bind(g.env_visible)
        .bind(now())
        .execute(&self.pool)
        .await
        .map_err(internal)?;
        Ok(g)
    }

    /// Whether this person sees the values of `container`'s environment on `host`: admins
    /// always; the host's managers, and everyone with a role when the host's setting shows
    /// them, except on Capstan's own container (`crate::engine::own`).
    pub async fn env_shown(
        &self,
        engine: &crate::engine::Engine,
        who: &Principal,
        host: &str,
        container: &str,
    ) -> Result<bool> {
        if who.admin {
            return Ok(true);
        }
        if engine.is_own_container(container).await? {
            return Ok(false);
        }
        if who
            .role_on(host)
            .is_some_and(|r| r >= crate::policy::Role::Manager)
        {
            return Ok(true);
        }
        Ok(self.get(host).await?.env_visible)
    }

    /// The limits for this person on this host: `None` for admins (no limits).
    pub async fn limits_for(&self, who: &Principal, host: &str) -> Result<Option<Guardrails>> {
        if who.admin {
            Ok(None)
        } else {
            self.get(host).await.map(Some)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bind(source: &str, writable: bool) -> HostMount {
        HostMount {
            field: "volumes",
            source: source.into(),
            writable,
            via: None,
        }
    }

    fn denied_field(r: Result<()>) -> (String, String) {
        match r {
            Err(Error::Denied { field, message }) => (field, message),
            other => panic!("should be refused, got {other:?}"),
        }
    }

    #[test]
    fn everything_is_refused_by_default_and_named() {
        let g = Guardrails::default();
        let cases = [
            (
                Requested {
                    privileged: true,
                    ..Default::default()
                },
                "privileged",
                "privileged",
            ),
            (
                Requested {
                    unconfined: vec!["security_opt seccomp=unconfined".into()],
                    ..Default::default()
                },
                "security_opt",
                "seccomp",
            ),
            (
                Requested {
                    cap_add: vec!["NET_ADMIN".into()],
                    ..Default::default()
                },
                "cap_add",
                "capabilities",
            ),
            (
                Requested {
                    devices: vec!["/dev/fuse".into()],
                    ..Default::default()
                },
                "devices",
                "devices",
            ),
            (
                Requested {
                    host_namespaces: vec![(Namespace::Network, "network: host".into())],
                    ..Default::default()
                },
                "network",
                "network",
            ),
            (
                Requested {
                    host_namespaces: vec![(
                        Namespace::Pid,
                        "pid: container:x, which uses the host's".into(),
                    )],
                    ..Default::default()
                },
                "pid",
                "PID",
            ),
            (
                Requested {
                    host_namespaces: vec![(Namespace::Ipc, "ipc: host".into())],
                    ..Default::default()
                },
                "ipc",
                "IPC",
            ),
            (
                Requested {
                    host_mounts: vec![bind("/etc", false)],
                    ..Default::default()
                },
                "volumes",
                "host mount",
            ),
            (
                Requested {
                    volume_drivers: vec![("mounts", "rexray".into())],
                    ..Default::default()
                },
                "mounts",
                "driver rexray",
            ),
            (
                Requested {
                    gpus: vec!["all GPUs".into()],
                    ..Default::default()
                },
                "gpus",
                "all GPUs",
            ),
        ];
        for (r, field, word) in cases {
            let (f, m) = denied_field(g.check(&r));
            assert_eq!(f, field, "{m}");
            assert!(
                m.contains(word) && m.contains("guardrails"),
                "{m} names {word}"
            );
        }
        assert!(g.check(&Requested::default()).is_ok());
        let mut gpus = Guardrails {
            devices: vec![GPUS.into()],
            ..Default::default()
        };
        assert!(gpus.validate().is_ok());
        assert!(gpus
            .check(&Requested {
                gpus: vec!["2 GPUs".into()],
                ..Default::default()
            })
            .is_ok());
    }

    #[test]
    fn prefixes_cannot_be_escaped_with_dot_dot_and_are_read_only() {
        let mut g = Guardrails {
            bind_mounts: BindMounts::Prefixes,
            bind_prefixes: vec!["/srv/data/".into()],
            ..Default::default()
        };
        g.validate().expect("valid");
        let ok = |p: &str, w: bool| {
            g.check(&Requested {
                host_mounts: vec![bind(p, w)],
                ..Default::default()
            })
            .is_ok()
        };
        assert!(
            ok("/srv/data", false) && ok("/srv/data/app", false) && ok("/srv/data/x/../y", false)
        );
        assert!(
            !ok("/srv/database", false) && !ok("/srv/data/../../etc", false) && !ok("/etc", false)
        );
        assert!(
            !ok("/srv/data/app", true),
            "writable binds under a prefix need bind_writable"
        );
        g.bind_writable = true;
        assert!(g
            .check(&Requested {
                host_mounts: vec![bind("/srv/data/app", true)],
                ..Default::default()
            })
            .is_ok());
        let mut bad = Guardrails {
            bind_mounts: BindMounts::Prefixes,
            ..Default::default()
        };
        assert!(matches!(bad.validate(), Err(Error::Invalid { .. })));
        let mut relative = Guardrails {
            bind_prefixes: vec!["srv".into()],
            ..Default::default()
        };
        assert!(matches!(relative.validate(), Err(Error::Invalid { .. })));
    }

    #[test]
    fn local_volumes_with_mount_options_are_host_mounts() {
        let opts = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert_eq!(volume_kind("local", &opts(&[])), VolumeKind::Plain);
        assert_eq!(
            volume_kind(
                "",
                &opts(&[("type", "tmpfs"), ("o", "size=10m"), ("device", "tmpfs")])
            ),
            VolumeKind::Plain
        );
        assert_eq!(
            volume_kind("local", &opts(&[("type", "ext4"), ("device", "/dev/vda1")])),
            VolumeKind::HostMount("/dev/vda1".into())
        );
        assert_eq!(
            volume_kind(
                "local",
                &opts(&[("o", "bind"), ("type", "none"), ("device", "/etc")])
            ),
            VolumeKind::HostMount("/etc".into())
        );
        assert!(matches!(
            volume_kind("local", &opts(&[("type", "nfs"), ("o", "addr=10.0.0.1")])),
            VolumeKind::HostMount(_)
        ));
        assert!(matches!(
            volume_kind("local", &opts(&[("o", "uid=0")])),
            VolumeKind::HostMount(_)
        ));
        assert_eq!(
            volume_kind("rexray", &opts(&[])),
            VolumeKind::Driver("rexray".into())
        );
        let g = Guardrails::default();
        let (f, m) = denied_field(g.check_volume(
            "driver_opts",
            "disk",
            &VolumeKind::HostMount("/dev/vda1".into()),
        ));
        assert_eq!(f, "driver_opts");
        assert!(m.contains("/dev/vda1") && m.contains("volume disk"), "{m}");
        let any = Guardrails {
            bind_mounts: BindMounts::Any,
            volume_drivers: vec!["rexray".into()],
            ..Default::default()
        };
        assert!(any
            .check_volume(
                "driver_opts",
                "disk",
                &VolumeKind::HostMount("/dev/vda1".into())
            )
            .is_ok());
        assert!(any
            .check_volume("driver", "x", &VolumeKind::Driver("rexray".into()))
            .is_ok());
        assert!(any
            .check_volume("driver", "x", &VolumeKind::Driver("other".into()))
            .is_err());
    }

    #[test]
    fn capabilities_devices_and_network_drivers_are_allow_lists() {
        let mut g = Guardrails {
            cap_add: vec!["net_admin".into(), "CAP_NET_RAW".into(), "".into()],
            devices: vec!["/dev/fuse".into()],
            network_drivers: vec!["macvlan".into()],
            ..Default::default()
        };
        g.validate().expect("valid");
        assert_eq!(g.cap_add, vec!["NET_ADMIN", "NET_RAW"]);
        let caps = |c: &[&str]| {
            g.check(&Requested {
                cap_add: c.iter().map(|s| s.to_string()).collect(),
                ..Default::default()
            })
        };
        assert!(caps(&["NET_ADMIN", "cap_net_raw"]).is_ok());
        let (_, m) = denied_field(caps(&["NET_ADMIN", "SYS_ADMIN"]));
        assert!(
            m.contains("(SYS_ADMIN;") && m.contains("allowed: NET_ADMIN, NET_RAW"),
            "{m}"
        );
        assert!(caps(&["ALL"]).is_err());
        let dev = |d: &str| {
            g.check(&Requested {
                devices: vec![d.into()],
                ..Default::default()
            })
        };
        assert!(dev("/dev/fuse").is_ok() && dev("/dev/sda").is_err() && dev("c 1:3 rwm").is_err());
        assert!(
            g.check_network_driver("bridge").is_ok() && g.check_network_driver("macvlan").is_ok()
        );
        let (f, _) = denied_field(g.check_network_driver("ipvlan"));
        assert_eq!(f, "driver");
        for (field, bad) in [
            ("cap_add", "NET ADMIN"),
            ("devices", "/etc/passwd"),
            ("network_drivers", "bridge"),
            ("volume_drivers", "local"),
        ] {
            let mut g = Guardrails::default();
            match field {
                "cap_add" => g.cap_add = vec![bad.into()],
                "devices" => g.devices = vec![bad.into()],
                "network_drivers" => g.network_drivers = vec![bad.into()],
                _ => g.volume_drivers = vec![bad.into()],
            }
            assert!(
                matches!(g.validate(), Err(Error::Invalid { field: f, .. }) if f == field),
                "{field} {bad}"
            );
        }
    }
}
