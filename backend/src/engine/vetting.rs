//! What a container's host configuration asks of the host, found out against the engine and
//! judged by a host's guardrails (`crate::guardrails`): named volumes are inspected (and, when
//! missing, created by Capstan before the check so nobody can create them with options in the
//! meantime), `volumes_from` is judged by the source container's mounts, and `container:<X>`
//! namespaces by X's own modes. With `fix`, host binds the guardrails want read-only are
//! rewritten read-only instead of refused.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{DeviceRequest, HostConfig, MountType, VolumeCreateRequest};

use super::own::{self, OwnObjects};
use super::Engine;
use crate::error::{Error, Result};
use crate::guardrails::{volume_kind, Guardrails, HostMount, Namespace, Requested, VolumeKind};

/// How many `container:<X>` hops are followed before giving up.
const MAX_JOIN_DEPTH: usize = 8;

/// `src:dst[:opts]` with `ro` among the options.
fn bind_read_only(opts: Option<&str>) -> bool {
    opts.is_some_and(|o| o.split(',').any(|x| x.trim() == "ro"))
}

/// `src:dst[:opts]` made read-only, keeping its other options (`z`, `rslave`, …).
fn with_read_only(bind: &str) -> String {
    let mut parts = bind.splitn(3, ':');
    let (src, dst, opts) = (
        parts.next().unwrap_or(""),
        parts.next().unwrap_or(""),
        parts.next(),
    );
    let mut o: Vec<&str> = opts
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty() && *x != "rw")
        .collect();
    o.push("ro");
    format!("{src}:{dst}:{}", o.join(","))
}

/// Settings that lift confinement like `--privileged`, in the words of the request.
fn unconfined(hc: &HostConfig) -> Vec<String> {
    let mut out = Vec::new();
    for opt in hc.security_opt.iter().flatten() {
        let o = opt.trim();
        let plain = matches!(
            o,
            "no-new-privileges" | "no-new-privileges:true" | "no-new-privileges=true"
        );
        if !plain {
            out.push(format!("security_opt {o}"));
        }
    }
    if hc.userns_mode.as_deref() == Some("host") {
        out.push("userns: host".into());
    }
    if hc.uts_mode.as_deref() == Some("host") {
        out.push("uts: host".into());
    }
    // `cgroupns: host` is not among them: it is the engine's default on cgroup v1 hosts, and
    // without privileges the cgroup filesystem is mounted read-only.
    if hc.masked_paths.as_ref().is_some_and(|p| p.is_empty())
        || hc.readonly_paths.as_ref().is_some_and(|p| p.is_empty())
    {
        out.push("security_opt systempaths=unconfined".into());
    }
    out
}

/// A device request in words: `all GPUs`, `2 GPUs`, `devices 0,1`, with its driver.
fn device_request_words(r: &DeviceRequest) -> String {
    let what = match (&r.device_ids, r.count) {
        (Some(ids), _) if !ids.is_empty() => format!("devices {}", ids.join(",")),
        (_, Some(-1)) => "all GPUs".to_string(),
        (_, Some(n)) => format!("{n} GPUs"),
        _ => "GPUs".to_string(),
    };
    match r.driver.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => format!("{what} ({d})"),
        None => what,
    }
}

impl Engine {
    /// Judges `hc` by `g` for a non-admin. Returns the named volumes Capstan created on the way
    /// (to remove again if the create fails later); on a refusal they are already removed.
    pub(super) async fn vet_host_config(
        &self,
        g: &Guardrails,
        hc: Option<&mut HostConfig>,
        fix: bool,
    ) -> Result<Vec<String>> {
        let Some(hc) = hc else { return Ok(Vec::new()) };
        let mut created = Vec::new();
        let result = self.vet_inner(g, hc, fix, &mut created).await;
        match result {
            Ok(()) => Ok(created),
            Err(e) => {
                self.remove_volumes_made(&created).await;
                Err(e)
            }
        }
    }

    /// Removes volumes [`Self::vet_host_config`] created, after a later failure.
    pub(super) async fn remove_volumes_made(&self, names: &[String]) {
        for name in names {
            if let Err(e) = self.remove_volume(name, false).await {
                tracing::warn!(volume = %name, error = %e.log_detail(), "a volume made for a failed create could not be removed");
            }
        }
    }

    async fn vet_inner(
        &self,
        g: &Guardrails,
        hc: &mut HostConfig,
        fix: bool,
        created: &mut Vec<String>,
    ) -> Result<()> {
        let mut r = Requested {
            privileged: hc.privileged.unwrap_or(false),
            unconfined: unconfined(hc),
            cap_add: hc.cap_add.clone().unwrap_or_default(),
            devices: hc
                .devices
                .iter()
                .flatten()
                .filter_map(|d| d.path_on_host.clone())
                .chain(hc.device_cgroup_rules.iter().flatten().cloned())
                .collect(),
            gpus: hc
                .device_requests
                .iter()
                .flatten()
                .map(device_request_words)
                .collect(),
            ..Default::default()
        };
        // Capstan's own container and what it mounts are admin-only (crate::engine::own).
        let own = self.own_objects().await?;
        let own = own.as_deref();
        for (ns, mode) in [
            (Namespace::Network, hc.network_mode.clone()),
            (Namespace::Pid, hc.pid_mode.clone()),
            (Namespace::Ipc, hc.ipc_mode.clone()),
        ] {
            if let Some(how) = self.host_namespace(ns, mode.as_deref(), own).await? {
                r.host_namespaces.push((ns, how));
            }
        }
        // Judged in order, so a refusal names the first problem; the cheap ones first.
        g.check(&r)?;

        let ro = fix && g.binds_read_only();
        let default_driver = hc.volume_driver.clone().filter(|d| !d.trim().is_empty());
        for b in hc.binds.iter_mut().flatten() {
            let mut parts = b.splitn(3, ':');
            let source = parts.next().unwrap_or_default().to_string();
            let _target = parts.next();
            let read_only = bind_read_only(parts.next());
            if source.starts_with('/') {
                let mut writable = !read_only;
                if writable && ro {
                    *b = with_read_only(b);
                    writable = false;
                }
                r.host_mounts.push(HostMount {
                    field: "volumes",
                    source,
                    writable,
                    via: None,
                });
            } else if !source.is_empty() {
                if own.is_some_and(|o| o.volumes.contains(&source)) {
                    return Err(own::refused_volume("volumes", &source));
                }
                let driver = default_driver.clone().map(|d| (d, BTreeMap::new()));
                let kind = self
                    .volume_for_mount(g, "volumes", &source, driver, created)
                    .await?;
                if let VolumeKind::HostMount(device) = kind {
                    let mut writable = !read_only;
                    if writable && ro {
                        *b = with_read_only(b);
                        writable = false;
                    }
                    r.host_mounts.push(HostMount {
                        field: "volumes",
                        source: device,
                        writable,
                        via: Some(format!("volume {source}")),
                    });
                }
            }
        }
        for m in hc.mounts.iter_mut().flatten() {
            let source = m.source.clone().unwrap_or_default();
            match m.typ {
                Some(MountType::BIND) => {
                    let mut writable = !m.read_only.unwrap_or(false);
                    if writable && ro {
                        m.read_only = Some(true);
                        writable = false;
                    }
                    r.host_mounts.push(HostMount { field: "mounts", source, writable, via: None });
                }
                Some(MountType::VOLUME) if !source.is_empty() => {
                    if own.is_some_and(|o| o.volumes.contains(&source)) {
                        return Err(own::refused_volume("mounts", &source));
                    }
                    let driver = m
                        .volume_options
                        .as_ref()
                        .and_then(|o| o.driver_config.as_ref())
                        .map(|d| {
                            (
                                d.name.clone().unwrap_or_else(|| "local".into()),
                                d.options.clone().unwrap_or_default().into_iter().collect(),
                            )
                        })
                        .or_else(|| default_driver.clone().map(|d| (d, BTreeMap::new())));
                    let kind = self.volume_for_mount(g, "mounts", &source, driver, created).await?;
                    if let VolumeKind::HostMount(device) = kind {
                        let mut writable = !m.read_only.unwrap_or(false);
                        if writable && ro {
                            m.read_only = Some(true);
                            writable = false;
                        }
                        r.host_mounts.push(HostMount {
                            field: "mounts",
                            source: device,
                            writable,
                            via: Some(format!("volume {source}")),
                        });
                    }
                }
                // Anonymous volumes, tmpfs and images live in the engine's own storage.
                Some(MountType::VOLUME) | Some(MountType::TMPFS) | Some(MountType::IMAGE) | None => {}
                Some(other) => {
                    return Err(Error::Denied {
                        field: "mounts".into(),
                        message: format!("a mount of type {other} is not allowed on this host for non-admins (guardrails; ask an admin)"),
                    })
                }
            }
        }
        for from in hc.volumes_from.iter_mut().flatten() {
            let (name, mode) = match from.split_once(':') {
                Some((n, m)) => (n.to_string(), Some(m.to_string())),
                None => (from.clone(), None),
            };
            if own.is_some() && self.is_own_container(&name).await? {
                return Err(Error::Denied {
                    field: "volumes_from".into(),
                    message: "the volumes of Capstan's own container are for admins only".into(),
                });
            }
            let mounts = self.mounts_of(&name, "volumes_from").await?;
            let read_only = mode
                .as_deref()
                .is_some_and(|m| m.split(',').any(|x| x == "ro"));
            let mut its = Vec::new();
            for (source, rw, via_volume) in mounts {
                let via = match via_volume {
                    Some(v) => format!("volume {v} of container {name}"),
                    None => format!("from container {name}"),
                };
                its.push(HostMount {
                    field: "volumes_from",
                    source,
                    writable: rw && !read_only,
                    via: Some(via),
                });
            }
            if ro && its.iter().any(|m| m.writable) {
                *from = format!("{name}:ro");
                its.iter_mut().for_each(|m| m.writable = false);
            }
            r.host_mounts.extend(its);
        }
        if let Some(o) = own {
            if let Some(m) = r
                .host_mounts
                .iter()
                .find(|m| m.source.starts_with('/') && o.covers_path(&m.source))
            {
                return Err(own::refused_path(m.field, &m.source));
            }
        }
        g.check(&r)
    }

    /// The host mounts of an existing container (for `volumes_from`): its binds and its
    /// volumes whose options mount something of the host's, each with whether it is writable.
    async fn mounts_of(
        &self,
        name: &str,
        field: &str,
    ) -> Result<Vec<(String, bool, Option<String>)>> {
        let c = match self.inspect_raw(name).await {
            Ok(c) => c,
            Err(Error::NotFound(_)) => {
                return Err(Error::invalid(
                    field,
                    format!("there is no container {name} on this host"),
                ))
            }
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for m in c.mounts.unwrap_or_default() {
            let rw = m.rw.unwrap_or(true);
            match m.typ.as_deref() {
                Some("bind") => out.push((m.source.unwrap_or_default(), rw, None)),
                Some("volume") => {
                    let Some(vol) = m.name.filter(|n| !n.is_empty()) else {
                        continue;
                    };
                    match self.volume_driver_options(&vol).await {
                        Ok((driver, options)) => match volume_kind(&driver, &options) {
                            VolumeKind::HostMount(device) => out.push((device, rw, Some(vol))),
                            VolumeKind::Driver(_) | VolumeKind::Plain => {}
                        },
                        Err(Error::NotFound(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// What the named volume `name` is; a missing one is created first — with `driver` (the
    /// mount's driver and options, judged before) or as a plain local volume — so what the
    /// guardrails judged is what the container gets.
    async fn volume_for_mount(
        &self,
        g: &Guardrails,
        field: &'static str,
        name: &str,
        driver: Option<(String, BTreeMap<String, String>)>,
        created: &mut Vec<String>,
    ) -> Result<VolumeKind> {
        match self.volume_driver_options(name).await {
            Ok((driver, options)) => {
                let kind = volume_kind(&driver, &options);
                if let VolumeKind::Driver(_) = kind {
                    g.check_volume(field, name, &kind)?;
                }
                return Ok(kind);
            }
            Err(Error::NotFound(_)) => {}
            Err(e) => return Err(e),
        }
        let (driver, options) = driver.unwrap_or_else(|| ("local".into(), BTreeMap::new()));
        let kind = volume_kind(&driver, &options);
        // Judged before anything is made (the caller judges a host mount again with whether
        // the container would write to it).
        g.check_volume(field, name, &kind)?;
        let request = VolumeCreateRequest {
            name: Some(name.to_string()),
            driver: Some(driver),
            driver_opts: Some(options.into_iter().collect::<HashMap<_, _>>()),
            labels: None,
            cluster_volume_spec: None,
        };
        match self
            .call(|d| async move { d.create_volume(request).await })
            .await
        {
            Ok(_) => {
                created.push(name.to_string());
                Ok(kind)
            }
            Err(e) => {
                tracing::info!(volume = %name, error = %e.log_detail(), "a volume for a new container could not be made");
                Err(Error::invalid(
                    field,
                    format!("the volume {name} could not be created on this host"),
                ))
            }
        }
    }

    /// Whether the namespace mode shares the host's, following `container:<X>` to X's own
    /// mode; the words say how. An unknown X is refused with the field.
    async fn host_namespace(
        &self,
        ns: Namespace,
        mode: Option<&str>,
        own: Option<&OwnObjects>,
    ) -> Result<Option<String>> {
        let field = ns.field();
        let first = mode.map(str::trim).unwrap_or_default().to_string();
        let mut mode = first.clone();
        for _ in 0..MAX_JOIN_DEPTH {
            if mode == "host" {
                return Ok(Some(if first == "host" {
                    format!("{field}: host")
                } else {
                    format!("{field}: {first}, which uses the host's")
                }));
            }
            let Some(x) = mode.strip_prefix("container:").map(str::trim) else {
                return Ok(None);
            };
            let c = match self.inspect_raw(x).await {
                Ok(c) => c,
                Err(Error::NotFound(_)) => {
                    return Err(Error::invalid(
                        field,
                        format!("there is no container {x} on this host to join"),
                    ))
                }
                Err(e) => return Err(e),
            };
            if own.is_some_and(|o| c.id.as_deref() == Some(o.id.as_str())) {
                return Err(Error::Denied {
                    field: field.into(),
                    message: format!(
                        "{field}: {first} joins Capstan's own container, which only admins may do"
                    ),
                });
            }
            let hc = c.host_config.unwrap_or_default();
            mode = match ns {
                Namespace::Network => hc.network_mode,
                Namespace::Pid => hc.pid_mode,
                Namespace::Ipc => hc.ipc_mode,
            }
            .unwrap_or_default();
        }
        Err(Error::invalid(
            field,
            "the containers joined form too long a chain",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::HostConfigCgroupnsModeEnum;

    #[test]
    fn binds_are_made_read_only_keeping_their_options() {
        assert_eq!(with_read_only("/srv/a:/a"), "/srv/a:/a:ro");
        assert_eq!(with_read_only("/srv/a:/a:rw"), "/srv/a:/a:ro");
        assert_eq!(
            with_read_only("/srv/a:/a:z,rslave"),
            "/srv/a:/a:z,rslave,ro"
        );
        assert!(
            bind_read_only(Some("z,ro")) && !bind_read_only(Some("rw")) && !bind_read_only(None)
        );
    }

    #[test]
    fn confinement_lifted_is_named() {
        let hc = HostConfig {
            security_opt: Some(vec![
                "no-new-privileges".into(),
                "seccomp=unconfined".into(),
            ]),
            userns_mode: Some("host".into()),
            cgroupns_mode: Some(HostConfigCgroupnsModeEnum::HOST),
            masked_paths: Some(vec![]),
            ..Default::default()
        };
        assert_eq!(
            unconfined(&hc),
            [
                "security_opt seccomp=unconfined",
                "userns: host",
                "security_opt systempaths=unconfined"
            ]
        );
        assert!(unconfined(&HostConfig::default()).is_empty());
    }
}
