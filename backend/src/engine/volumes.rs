//! Volumes on one engine: list (with the containers using each), create, inspect, remove and
//! prune.

use std::collections::{BTreeMap, HashMap};

use bollard::models::{Volume, VolumeCreateRequest};
use bollard::query_parameters::{ListVolumesOptions, PruneVolumesOptions, RemoveVolumeOptions};
use serde::{Deserialize, Serialize};

use super::images::{name_list, validate_label_filter, Pruned, Usage};
use super::Engine;
use crate::error::{Error, Result};
use crate::names::is_object_name;

const MAX_LABELS: usize = 64;

/// A volume, as listed and inspected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeInfo {
    pub name: String,
    pub driver: String,
    /// Where the volume lives on the engine's host.
    pub mountpoint: String,
    /// RFC 3339, as the engine reports it.
    pub created: Option<String>,
    pub labels: BTreeMap<String, String>,
    /// `local` or `global`.
    pub scope: String,
    /// The driver options it was created with.
    pub options: BTreeMap<String, String>,
    /// Bytes, where the engine reports it (`docker system df`), else `None`.
    pub size: Option<u64>,
    /// Names of the containers (any state) that mount it.
    pub containers: Vec<String>,
}

/// `docker volume create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeSpec {
    pub name: String,
    /// `local` when absent.
    pub driver: Option<String>,
    pub driver_opts: BTreeMap<String, String>,
    pub labels: BTreeMap<String, String>,
}

/// Labels a person sets: a key on one line, at most 64 of them.
pub(super) fn validate_labels(labels: &BTreeMap<String, String>) -> Result<()> {
    if labels.len() > MAX_LABELS {
        return Err(Error::invalid(
            "labels",
            format!("use at most {MAX_LABELS} labels"),
        ));
    }
    for (k, v) in labels {
        if k.is_empty()
            || k.len() > 255
            || k.chars()
                .any(|c| c.is_control() || c == '=' || c.is_whitespace())
        {
            return Err(Error::invalid(
                "labels",
                format!("{k:?} is not a label key: use letters, digits and . - _ /"),
            ));
        }
        if v.len() > 4096 || v.contains('\0') {
            return Err(Error::invalid(
                "labels",
                format!("the value of {k} is too long (4096 bytes at most)"),
            ));
        }
    }
    Ok(())
}

/// A driver name: `local`, or a plugin's `name[:tag]`.
pub(super) fn validate_driver(driver: &str) -> Result<()> {
    if crate::names::is_driver(driver) {
        Ok(())
    } else {
        Err(Error::invalid(
            "driver",
            "use a driver name such as local (letters, digits, _ . - : /)",
        ))
    }
}

impl VolumeSpec {
    pub fn validate(&self) -> Result<()> {
        if !is_object_name(&self.name, 2..=255) {
            return Err(Error::invalid(
                "name",
                "use at least 2 characters: a letter or digit, then letters, digits, _ . and -",
            ));
        }
        if let Some(d) = &self.driver {
            validate_driver(d)?;
        }
        if self.driver_opts.len() > MAX_LABELS {
            return Err(Error::invalid(
                "driver_opts",
                format!("use at most {MAX_LABELS} options"),
            ));
        }
        for (k, v) in &self.driver_opts {
            if k.is_empty() || k.len() > 255 || k.chars().any(|c| c.is_control() || c == '=') {
                return Err(Error::invalid(
                    "driver_opts",
                    format!("{k:?} is not an option name"),
                ));
            }
            if v.len() > 4096 || v.contains('\0') {
                return Err(Error::invalid(
                    "driver_opts",
                    format!("the value of {k} is too long"),
                ));
            }
        }
        validate_labels(&self.labels)
    }
}

fn check_volume_ref(name: &str) -> Result<&str> {
    if is_object_name(name, 1..=255) {
        Ok(name)
    } else {
        Err(Error::NotFound("volume".into()))
    }
}

fn volume_error(err: Error, doing: &str) -> Error {
    match err {
        Error::Engine { status: 404, .. } => Error::NotFound("volume".into()),
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

fn convert(v: Volume, usage: &Usage) -> VolumeInfo {
    VolumeInfo {
        containers: usage.of_volume(&v.name),
        name: v.name,
        driver: v.driver,
        mountpoint: v.mountpoint,
        created: v.created_at.filter(|c| !c.is_empty()),
        labels: v.labels.into_iter().collect(),
        scope: v
            .scope
            .map(|s| s.to_string())
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| "local".into()),
        options: v.options.into_iter().collect(),
        size: v.usage_data.and_then(|u| u64::try_from(u.size).ok()),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum DriverKind {
    Volume,
    Network,
}

impl Engine {
    /// The volume or network drivers the engine has (`docker info`'s plugins).
    pub(super) async fn drivers(&self, kind: DriverKind) -> Result<Vec<String>> {
        let info = self.call(|d| async move { d.info().await }).await?;
        let plugins = info.plugins.unwrap_or_default();
        Ok(match kind {
            DriverKind::Volume => plugins.volume,
            DriverKind::Network => plugins.network,
        }
        .unwrap_or_default())
    }

    /// `docker volume ls`, by name, each with the containers that mount it.
    pub async fn list_volumes(&self) -> Result<Vec<VolumeInfo>> {
        let (volumes, usage) = tokio::join!(
            self.call(|d| async move { d.list_volumes(None::<ListVolumesOptions>).await }),
            self.usage()
        );
        let (volumes, usage) = (volumes?, usage?);
        let mut out: Vec<VolumeInfo> = volumes
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| convert(v, &usage))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// `docker volume inspect`.
    pub async fn inspect_volume(&self, name: &str) -> Result<VolumeInfo> {
        let name = check_volume_ref(name)?.to_owned();
        let (volume, usage) = tokio::join!(
            self.call(|d| async move { d.inspect_volume(&name).await }),
            self.usage()
        );
        let volume = volume.map_err(|e| volume_error(e, "inspect the volume"))?;
        Ok(convert(volume, &usage?))
    }

    /// A volume's driver and options alone (no usage: that would list every container), for
    /// judging what it mounts.
    pub(super) async fn volume_driver_options(
        &self,
        name: &str,
    ) -> Result<(String, BTreeMap<String, String>)> {
        let name = check_volume_ref(name)?.to_owned();
        let v = self
            .call(|d| async move { d.inspect_volume(&name).await })
            .await
            .map_err(|e| volume_error(e, "inspect the volume"))?;
        Ok((v.driver, v.options.into_iter().collect()))
    }

    /// `docker volume create`. A name that is taken is a conflict (the engine itself would
    /// quietly hand back the existing volume).
    pub async fn create_volume(&self, spec: &VolumeSpec) -> Result<VolumeInfo> {
        spec.validate()?;
        if let Some(driver) = spec.driver.as_deref().filter(|d| *d != "local") {
            // The engine looks for a missing driver plugin for many seconds; refuse it up front.
            if !self
                .drivers(DriverKind::Volume)
                .await?
                .iter()
                .any(|d| d == driver)
            {
                return Err(Error::invalid(
                    "driver",
                    "no such volume driver on this engine",
                ));
            }
        }
        let name = spec.name.clone();
        match self
            .call(|d| async move { d.inspect_volume(&name).await })
            .await
        {
            Ok(_) => {
                return Err(Error::Conflict(format!(
                    "a volume named {} already exists",
                    spec.name
                )))
            }
            Err(Error::Engine { status: 404, .. }) => {}
            Err(e) => return Err(volume_error(e, "inspect the volume")),
        }
        let request = VolumeCreateRequest {
            name: Some(spec.name.clone()),
            driver: Some(spec.driver.clone().unwrap_or_else(|| "local".into())),
            driver_opts: Some(
                spec.driver_opts
                    .clone()
                    .into_iter()
                    .collect::<HashMap<_, _>>(),
            ),
            labels: Some(spec.labels.clone().into_iter().collect::<HashMap<_, _>>()),
            cluster_volume_spec: None,
        };
        let created = self.call(|d| async move { d.create_volume(request).await }).await.map_err(|e| match e {
            Error::Engine { status, message } if (400..=500).contains(&status) => {
                tracing::info!(status, engine = %message, "the engine refused to create a volume");
                let m = message.to_ascii_lowercase();
                if m.contains("plugin") || (m.contains("driver") && !m.contains("opt")) {
                    Error::invalid("driver", "no such volume driver on this engine")
                } else {
                    Error::invalid("driver_opts", "the driver refused these options")
                }
            }
            other => volume_error(other, "create the volume"),
        })?;
        Ok(convert(created, &Usage::default()))
    }

    /// [`Self::create_volume`] for a person bound by `limits` (the host's guardrails; `None`
    /// for admins): a `local` volume whose options mount something of the host's is judged like
    /// a bind of that source, another driver by the host's allow-list.
    pub async fn create_volume_within(
        &self,
        spec: &VolumeSpec,
        limits: Option<&crate::guardrails::Guardrails>,
    ) -> Result<VolumeInfo> {
        if let Some(g) = limits {
            spec.validate()?;
            let kind = crate::guardrails::volume_kind(
                spec.driver.as_deref().unwrap_or("local"),
                &spec.driver_opts,
            );
            let field = match kind {
                crate::guardrails::VolumeKind::Driver(_) => "driver",
                _ => "driver_opts",
            };
            g.check_volume(field, &spec.name, &kind)?;
        }
        self.create_volume(spec).await
    }

    /// `docker volume rm [--force]`. A volume that containers use is refused with their names.
    pub async fn remove_volume(&self, name: &str, force: bool) -> Result<()> {
        let name = check_volume_ref(name)?.to_owned();
        let owned = name.clone();
        let result = self
            .call(|d| async move {
                d.remove_volume(&owned, Some(RemoveVolumeOptions { force }))
                    .await
            })
            .await;
        match result {
            Ok(()) => Ok(()),
            Err(Error::Engine {
                status: 409,
                message,
            }) => {
                tracing::info!(volume = %name, engine = %message, "the engine refused to remove a volume");
                let users = self
                    .usage()
                    .await
                    .map(|u| u.of_volume(&name))
                    .unwrap_or_default();
                Err(if users.is_empty() {
                    Error::Conflict("the volume is in use".into())
                } else {
                    Error::Conflict(format!(
                        "the volume is in use by containers: {}",
                        name_list(&users)
                    ))
                })
            }
            Err(e) => Err(volume_error(e, "remove the volume")),
        }
    }

    /// `docker volume prune`: removes volumes no container uses (only those with `label`, when
    /// given). Engines from API 1.42 on prune anonymous volumes only.
    pub async fn prune_volumes(&self, label: Option<&str>) -> Result<Pruned> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(l) = label {
            validate_label_filter(l)?;
            filters.insert("label".into(), vec![l.to_owned()]);
        }
        let options = PruneVolumesOptions {
            filters: Some(filters),
        };
        let pruned = self
            .call(|d| async move { d.prune_volumes(Some(options)).await })
            .await
            .map_err(|e| match e {
                Error::Engine { status: 409, .. } => {
                    Error::Conflict("a prune is already running on this engine".into())
                }
                other => volume_error(other, "prune volumes"),
            })?;
        let mut deleted = pruned.volumes_deleted.unwrap_or_default();
        deleted.sort();
        Ok(Pruned {
            deleted,
            space_reclaimed: u64::try_from(pruned.space_reclaimed.unwrap_or(0)).unwrap_or(0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs() {
        let ok = VolumeSpec {
            name: "data_1.x-y".into(),
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
        for bad in ["", "a", "-ab", "a b", "a/b", ".ab"] {
            let spec = VolumeSpec {
                name: bad.into(),
                ..Default::default()
            };
            assert!(
                matches!(spec.validate(), Err(Error::Invalid { ref field, .. }) if field == "name"),
                "{bad}"
            );
        }
        let spec = VolumeSpec {
            name: "ok".into(),
            driver: Some("bad driver".into()),
            ..Default::default()
        };
        assert!(
            matches!(spec.validate(), Err(Error::Invalid { ref field, .. }) if field == "driver")
        );
        let mut labels = BTreeMap::new();
        labels.insert("a=b".to_owned(), String::new());
        let spec = VolumeSpec {
            name: "ok".into(),
            labels,
            ..Default::default()
        };
        assert!(
            matches!(spec.validate(), Err(Error::Invalid { ref field, .. }) if field == "labels")
        );
        let mut opts = BTreeMap::new();
        opts.insert(String::new(), "x".to_owned());
        let spec = VolumeSpec {
            name: "ok".into(),
            driver_opts: opts,
            ..Default::default()
        };
        assert!(
            matches!(spec.validate(), Err(Error::Invalid { ref field, .. }) if field == "driver_opts")
        );
    }
}
