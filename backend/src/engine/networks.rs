//! Networks on one engine: list (with the containers attached), create with a checked subnet
//! and gateway, inspect, remove, connect and disconnect a container, prune.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use bollard::models::{
    EndpointSettings, Ipam, IpamConfig, NetworkConnectRequest, NetworkCreateRequest,
    NetworkDisconnectRequest,
};
use bollard::query_parameters::{InspectNetworkOptions, ListNetworksOptions, PruneNetworksOptions};
use serde::{Deserialize, Serialize};

use super::container_ops::check_container_ref;
use super::images::{name_list, validate_label_filter, Pruned, Usage};
use super::volumes::{validate_driver, validate_labels, DriverKind};
use super::Engine;
use crate::error::{Error, Result};
use crate::names::is_object_name;

/// The networks every engine has; they cannot be removed.
pub const BUILTIN_NETWORKS: [&str; 3] = ["bridge", "host", "none"];

pub use wire::networks::{AttachedContainer, SubnetInfo};

/// A network, as listed and inspected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkDetail {
    pub id: String,
    pub name: String,
    /// `bridge`, `host`, `null`, `overlay`, `macvlan`, …
    pub driver: String,
    /// `local` or `swarm`.
    pub scope: String,
    /// RFC 3339, as the engine reports it.
    pub created: Option<String>,
    pub internal: bool,
    pub attachable: bool,
    pub ingress: bool,
    pub ipv6: bool,
    pub subnets: Vec<SubnetInfo>,
    pub labels: BTreeMap<String, String>,
    pub options: BTreeMap<String, String>,
    /// By name.
    pub containers: Vec<AttachedContainer>,
    /// `bridge`, `host` or `none`: made by the engine, cannot be removed.
    pub builtin: bool,
}

/// `docker network create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSpec {
    pub name: String,
    /// `bridge` when absent.
    pub driver: Option<String>,
    /// `10.42.0.0/24` (or IPv6); the engine picks one when absent.
    pub subnet: Option<String>,
    /// An address inside `subnet`; needs a subnet.
    pub gateway: Option<String>,
    /// No route to the outside.
    pub internal: bool,
    /// Swarm overlay networks: standalone containers may attach.
    pub attachable: bool,
    pub labels: BTreeMap<String, String>,
    /// Driver options (`com.docker.network.bridge.name`, …).
    pub options: BTreeMap<String, String>,
}

/// An IP network in CIDR notation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    base: u128,
    prefix: u8,
    v6: bool,
}

impl Cidr {
    /// `10.1.0.0/16` or `fd00::/64`.
    pub fn parse(text: &str) -> Option<Cidr> {
        let (addr, prefix) = text.split_once('/')?;
        let ip: IpAddr = addr.parse().ok()?;
        if prefix.is_empty() || !prefix.chars().all(|c| c.is_ascii_digit()) {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let (base, v6) = bits(ip);
        (prefix <= width(v6)).then_some(Cidr { base, prefix, v6 })
    }

    fn mask(&self) -> u128 {
        mask(self.v6, self.prefix)
    }

    /// Whether `ip` is inside the network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let (b, v6) = bits(ip);
        v6 == self.v6 && b & self.mask() == self.base & self.mask()
    }

    /// Whether the two networks share any address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        if self.v6 != other.v6 {
            return false;
        }
        let m = mask(self.v6, self.prefix.min(other.prefix));
        self.base & m == other.base & m
    }

    /// Only the network part is set (`10.1.0.0/16`, not `10.1.2.3/16`).
    pub fn is_network_address(&self) -> bool {
        self.base & !self.mask() & full(self.v6) == 0
    }

    pub fn is_v6(&self) -> bool {
        self.v6
    }
}

fn bits(ip: IpAddr) -> (u128, bool) {
    match ip {
        IpAddr::V4(v4) => (u128::from(u32::from(v4)), false),
        IpAddr::V6(v6) => (u128::from(v6), true),
    }
}

fn width(v6: bool) -> u8 {
    if v6 {
        128
    } else {
        32
    }
}

fn full(v6: bool) -> u128 {
    if v6 {
        u128::MAX
    } else {
        u128::from(u32::MAX)
    }
}

fn mask(v6: bool, prefix: u8) -> u128 {
    if prefix == 0 {
        0
    } else {
        (u128::MAX << (width(v6) - prefix)) & full(v6)
    }
}

impl NetworkSpec {
    /// Checks the fields and returns the parsed subnet, if any.
    pub fn validate(&self) -> Result<Option<Cidr>> {
        if !is_object_name(&self.name, 1..=255) {
            return Err(Error::invalid(
                "name",
                "use a letter or digit, then letters, digits, _ . and - (255 at most)",
            ));
        }
        if let Some(d) = &self.driver {
            validate_driver(d)?;
        }
        validate_labels(&self.labels)?;
        for (k, v) in &self.options {
            if k.is_empty()
                || k.len() > 255
                || k.chars().any(|c| c.is_control() || c == '=')
                || v.len() > 4096
            {
                return Err(Error::invalid(
                    "options",
                    format!("{k:?} is not a driver option"),
                ));
            }
        }
        let subnet = match self.subnet.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => {
                let cidr = Cidr::parse(text).ok_or_else(|| {
                    Error::invalid(
                        "subnet",
                        "must be a network in CIDR notation, like 10.42.0.0/24",
                    )
                })?;
                if width(cidr.v6) - cidr.prefix < 2 {
                    return Err(Error::invalid(
                        "subnet",
                        "is too small for any container (use /30 or larger)",
                    ));
                }
                if !cidr.is_network_address() {
                    return Err(Error::invalid(
                        "subnet",
                        "give the network address, with the host part zero (like 10.42.0.0/24)",
                    ));
                }
                Some(cidr)
            }
        };
        if let Some(text) = self.gateway.as_deref().filter(|s| !s.is_empty()) {
            let ip: IpAddr = text
                .parse()
                .map_err(|_| Error::invalid("gateway", "must be an IP address, like 10.42.0.1"))?;
            let Some(cidr) = subnet else {
                return Err(Error::invalid("gateway", "needs a subnet to belong to"));
            };
            if !cidr.contains(ip) {
                return Err(Error::invalid("gateway", "must be inside the subnet"));
            }
            if bits(ip).0 == cidr.base {
                return Err(Error::invalid(
                    "gateway",
                    "must not be the subnet's network address",
                ));
            }
        }
        Ok(subnet)
    }
}

fn check_network_ref(id: &str) -> Result<&str> {
    if is_object_name(id, 1..=255) {
        Ok(id)
    } else {
        Err(Error::NotFound("network".into()))
    }
}

fn network_error(err: Error, doing: &str) -> Error {
    match err {
        Error::Engine { status: 404, .. } => Error::NotFound("network".into()),
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

/// Connect and disconnect: a 404 may be the network or the container; the engine's words say
/// which.
fn attach_error(err: Error, doing: &str) -> Error {
    match err {
        Error::Engine {
            status: 404,
            message,
        } => {
            if message.to_ascii_lowercase().contains("container") {
                Error::NotFound("container".into())
            } else {
                Error::NotFound("network".into())
            }
        }
        Error::Engine { status, message } if (400..=500).contains(&status) => {
            let m = message.to_ascii_lowercase();
            tracing::info!(status, engine = %message, "the engine refused to {doing}");
            if m.contains("already exists")
                || m.contains("already attached")
                || m.contains("already connected")
            {
                Error::Conflict("the container is already connected to this network".into())
            } else if m.contains("not connected") {
                Error::Conflict("the container is not connected to this network".into())
            } else if m.contains("no such container") {
                Error::NotFound("container".into())
            } else if m.contains("host mode")
                || m.contains("conflicts with")
                || m.contains("cannot be")
            {
                Error::Conflict(format!(
                    "the engine refused to {doing}: the container's network mode does not allow it"
                ))
            } else if status == 500 {
                network_error(Error::Engine { status, message }, doing)
            } else {
                Error::Conflict(format!("the engine refused to {doing}"))
            }
        }
        other => network_error(other, doing),
    }
}

fn subnets(ipam: Option<Ipam>) -> Vec<SubnetInfo> {
    ipam.and_then(|i| i.config)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| {
            Some(SubnetInfo {
                subnet: c.subnet.filter(|s| !s.is_empty())?,
                gateway: c.gateway.filter(|g| !g.is_empty()),
            })
        })
        .collect()
}

fn attached_from_usage(usage: &Usage, id: &str) -> Vec<AttachedContainer> {
    let mut out: Vec<AttachedContainer> = usage
        .on_network(id)
        .into_iter()
        .map(|c| AttachedContainer {
            id: c.id.clone(),
            name: c.name.clone(),
            ipv4: None,
            ipv6: None,
            mac: None,
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn address(a: Option<String>) -> Option<String> {
    a.filter(|s| !s.is_empty())
}

impl Engine {
    /// `docker network ls`, by name, each with the containers attached (from one container list).
    pub async fn list_networks(&self) -> Result<Vec<NetworkDetail>> {
        let (networks, usage) = tokio::join!(
            self.call(|d| async move { d.list_networks(None::<ListNetworksOptions>).await }),
            self.usage()
        );
        let (networks, usage) = (networks?, usage?);
        let mut out: Vec<NetworkDetail> = networks
            .into_iter()
            .map(|n| {
                let id = n.id.unwrap_or_default();
                let name = n.name.unwrap_or_default();
                NetworkDetail {
                    containers: attached_from_usage(&usage, &id),
                    builtin: BUILTIN_NETWORKS.contains(&name.as_str()),
                    id,
                    name,
                    driver: n.driver.unwrap_or_default(),
                    scope: n.scope.unwrap_or_default(),
                    created: n.created.filter(|c| !c.is_empty()),
                    internal: n.internal.unwrap_or(false),
                    attachable: n.attachable.unwrap_or(false),
                    ingress: n.ingress.unwrap_or(false),
                    ipv6: n.enable_ipv6.unwrap_or(false),
                    subnets: subnets(n.ipam),
                    labels: n.labels.unwrap_or_default().into_iter().collect(),
                    options: n.options.unwrap_or_default().into_iter().collect(),
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
        Ok(out)
    }

    /// `docker network inspect`, with the attached containers' addresses.
    pub async fn inspect_network(&self, id: &str) -> Result<NetworkDetail> {
        let id = check_network_ref(id)?.to_owned();
        let n = self
            .call(|d| async move { d.inspect_network(&id, None::<InspectNetworkOptions>).await })
            .await
            .map_err(|e| network_error(e, "inspect the network"))?;
        let name = n.name.unwrap_or_default();
        let mut containers: Vec<AttachedContainer> = n
            .containers
            .unwrap_or_default()
            .into_iter()
            .map(|(cid, ep)| AttachedContainer {
                id: cid,
                name: ep.name.unwrap_or_default(),
                ipv4: address(ep.ipv4_address),
                ipv6: address(ep.ipv6_address),
                mac: address(ep.mac_address),
            })
            .collect();
        containers.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(NetworkDetail {
            id: n.id.unwrap_or_default(),
            builtin: BUILTIN_NETWORKS.contains(&name.as_str()),
            name,
            driver: n.driver.unwrap_or_default(),
            scope: n.scope.unwrap_or_default(),
            created: n.created.filter(|c| !c.is_empty()),
            internal: n.internal.unwrap_or(false),
            attachable: n.attachable.unwrap_or(false),
            ingress: n.ingress.unwrap_or(false),
            ipv6: n.enable_ipv6.unwrap_or(false),
            subnets: subnets(n.ipam),
            labels: n.labels.unwrap_or_default().into_iter().collect(),
            options: n.options.unwrap_or_default().into_iter().collect(),
            containers,
        })
    }

    /// Networks whose name is exactly `name` (the engine's name filter also matches parts).
    async fn networks_named(&self, name: &str) -> Result<Vec<String>> {
        let mut filters = HashMap::new();
        filters.insert("name".to_owned(), vec![name.to_owned()]);
        let options = ListNetworksOptions {
            filters: Some(filters),
        };
        let list = self
            .call(|d| async move { d.list_networks(Some(options)).await })
            .await?;
        Ok(list
            .into_iter()
            .filter(|n| n.name.as_deref() == Some(name))
            .filter_map(|n| n.id)
            .collect())
    }

    /// [`Self::create_network`] for a person bound by `limits`: drivers other than `bridge`
    /// and `overlay` (`macvlan`, `ipvlan`, `host`, plugins) need the host's allow-list.
    pub async fn create_network_within(
        &self,
        spec: &NetworkSpec,
        limits: Option<&crate::guardrails::Guardrails>,
    ) -> Result<NetworkDetail> {
        if let Some(g) = limits {
            g.check_network_driver(spec.driver.as_deref().unwrap_or("bridge"))?;
        }
        self.create_network(spec).await
    }

    /// `docker network create`. A taken name or a subnet that overlaps another network's is a
    /// conflict; the engine (API 1.41) would otherwise make a second network of the same name.
    pub async fn create_network(&self, spec: &NetworkSpec) -> Result<NetworkDetail> {
        let subnet = spec.validate()?;
        if let Some(driver) = spec.driver.as_deref().filter(|d| *d != "bridge") {
            // The engine looks for a missing driver plugin for many seconds; refuse it up front.
            if !self
                .drivers(DriverKind::Network)
                .await?
                .iter()
                .any(|d| d == driver)
            {
                return Err(Error::invalid(
                    "driver",
                    "no such network driver on this engine",
                ));
            }
        }
        if !self.networks_named(&spec.name).await?.is_empty() {
            return Err(Error::Conflict(format!(
                "a network named {} already exists",
                spec.name
            )));
        }
        if let Some(cidr) = subnet {
            let existing = self
                .call(|d| async move { d.list_networks(None::<ListNetworksOptions>).await })
                .await?;
            for n in existing {
                for s in subnets(n.ipam) {
                    if Cidr::parse(&s.subnet).is_some_and(|other| other.overlaps(&cidr)) {
                        return Err(Error::Conflict(format!(
                            "subnet: {} overlaps {} of network {}",
                            spec.subnet.as_deref().unwrap_or_default(),
                            s.subnet,
                            n.name.unwrap_or_default()
                        )));
                    }
                }
            }
        }
        let ipam = subnet.map(|_| Ipam {
            driver: Some("default".into()),
            config: Some(vec![IpamConfig {
                subnet: spec.subnet.clone(),
                gateway: spec.gateway.clone().filter(|g| !g.is_empty()),
                ip_range: None,
                auxiliary_addresses: None,
            }]),
            options: None,
        });
        let request = NetworkCreateRequest {
            name: spec.name.clone(),
            driver: Some(spec.driver.clone().unwrap_or_else(|| "bridge".into())),
            internal: Some(spec.internal),
            attachable: Some(spec.attachable),
            ipam,
            enable_ipv6: subnet.map(|s| s.is_v6()).filter(|v6| *v6),
            options: Some(spec.options.clone().into_iter().collect()),
            labels: Some(spec.labels.clone().into_iter().collect()),
            ..Default::default()
        };
        let created = self.call(|d| async move { d.create_network(request).await }).await.map_err(|e| match e {
            Error::Engine { status, message } if (400..=500).contains(&status) => {
                tracing::info!(status, engine = %message, "the engine refused to create a network");
                let m = message.to_ascii_lowercase();
                if status == 409 || m.contains("already exists") {
                    Error::Conflict(format!("a network named {} already exists", spec.name))
                } else if m.contains("overlap") {
                    Error::Conflict("subnet: overlaps another network on this engine".into())
                } else if m.contains("plugin") || m.contains("not found") {
                    Error::invalid("driver", "no such network driver on this engine")
                } else if m.contains("gateway") {
                    Error::invalid("gateway", "the engine refused this gateway")
                } else if m.contains("subnet") || m.contains("pool") || m.contains("address") {
                    Error::invalid("subnet", "the engine refused this subnet")
                } else if m.contains("swarm") || m.contains("attachable") {
                    Error::invalid("driver", "this driver needs the engine to be in a swarm")
                } else {
                    Error::invalid("options", "the engine refused a network with these settings")
                }
            }
            other => network_error(other, "create the network"),
        })?;
        // Two creates racing past the name check both succeed on API 1.41: keep the first only.
        let named = self.networks_named(&spec.name).await.unwrap_or_default();
        if named.len() > 1 {
            self.discard_network(&created.id).await;
            return Err(Error::Conflict(format!(
                "a network named {} already exists",
                spec.name
            )));
        }
        self.inspect_network(&created.id).await
    }

    async fn discard_network(&self, id: &str) {
        let owned = id.to_owned();
        if let Err(e) = self
            .call(|d| async move { d.remove_network(&owned).await })
            .await
        {
            tracing::warn!(network = %id, error = %e.log_detail(), "could not remove a network after a failed create");
        }
    }

    /// `docker network rm`. The built-in networks and networks with containers attached are
    /// refused (with the containers' names).
    pub async fn remove_network(&self, id: &str) -> Result<()> {
        let network = self.inspect_network(id).await?;
        if network.builtin || network.ingress {
            return Err(Error::Conflict(format!(
                "{} is made by the engine and cannot be removed",
                network.name
            )));
        }
        if !network.containers.is_empty() {
            let names: Vec<String> = network.containers.iter().map(|c| c.name.clone()).collect();
            return Err(Error::Conflict(format!(
                "the network has containers attached: {}",
                name_list(&names)
            )));
        }
        let owned = network.id.clone();
        self.call(|d| async move { d.remove_network(&owned).await })
            .await
            .map_err(|e| match e {
                Error::Engine {
                    status: 403 | 409,
                    message,
                } => {
                    tracing::info!(engine = %message, "the engine refused to remove a network");
                    if message.contains("pre-defined") {
                        Error::Conflict(format!(
                            "{} is made by the engine and cannot be removed",
                            network.name
                        ))
                    } else {
                        Error::Conflict("the network is in use".into())
                    }
                }
                other => network_error(other, "remove the network"),
            })
    }

    /// `docker network connect [--alias …]`.
    pub async fn connect_network(
        &self,
        network: &str,
        container: &str,
        aliases: &[String],
    ) -> Result<()> {
        let network = check_network_ref(network)?.to_owned();
        let container = check_container_ref(container)?.to_owned();
        for a in aliases {
            if !is_object_name(a, 1..=255) {
                return Err(Error::invalid(
                    "aliases",
                    format!("{a:?} is not a host name: use letters, digits, _ . and -"),
                ));
            }
        }
        let endpoint = (!aliases.is_empty()).then(|| EndpointSettings {
            aliases: Some(aliases.to_vec()),
            ..Default::default()
        });
        let request = NetworkConnectRequest {
            container,
            endpoint_config: endpoint,
        };
        self.call(|d| async move { d.connect_network(&network, request).await })
            .await
            .map_err(|e| attach_error(e, "connect the container"))
    }

    /// `docker network disconnect [--force]`.
    pub async fn disconnect_network(
        &self,
        network: &str,
        container: &str,
        force: bool,
    ) -> Result<()> {
        let network = check_network_ref(network)?.to_owned();
        let container = check_container_ref(container)?.to_owned();
        let request = NetworkDisconnectRequest {
            container,
            force: Some(force),
        };
        self.call(|d| async move { d.disconnect_network(&network, request).await })
            .await
            .map_err(|e| attach_error(e, "disconnect the container"))
    }

    /// `docker network prune`: removes networks no container uses (only those with `label`,
    /// when given).
    pub async fn prune_networks(&self, label: Option<&str>) -> Result<Pruned> {
        let mut filters: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(l) = label {
            validate_label_filter(l)?;
            filters.insert("label".into(), vec![l.to_owned()]);
        }
        let options = PruneNetworksOptions {
            filters: Some(filters),
        };
        let pruned = self
            .call(|d| async move { d.prune_networks(Some(options)).await })
            .await
            .map_err(|e| match e {
                Error::Engine { status: 409, .. } => {
                    Error::Conflict("a prune is already running on this engine".into())
                }
                other => network_error(other, "prune networks"),
            })?;
        let mut deleted = pruned.networks_deleted.unwrap_or_default();
        deleted.sort();
        Ok(Pruned {
            deleted,
            space_reclaimed: 0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(subnet: Option<&str>, gateway: Option<&str>) -> NetworkSpec {
        NetworkSpec {
            name: "net".into(),
            subnet: subnet.map(Into::into),
            gateway: gateway.map(Into::into),
            ..Default::default()
        }
    }

    fn field(r: Result<Option<Cidr>>) -> String {
        match r {
            Err(Error::Invalid { field, .. }) => field,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn cidrs() {
        let a = Cidr::parse("10.1.0.0/16").expect("cidr");
        assert!(a.contains("10.1.255.3".parse().expect("ip")));
        assert!(!a.contains("10.2.0.1".parse().expect("ip")));
        assert!(a.overlaps(&Cidr::parse("10.1.2.0/24").expect("cidr")));
        assert!(!a.overlaps(&Cidr::parse("10.2.0.0/16").expect("cidr")));
        assert!(!a.overlaps(&Cidr::parse("fd00::/64").expect("cidr")));
        assert!(Cidr::parse("0.0.0.0/0").expect("cidr").overlaps(&a));
        assert!(!Cidr::parse("10.1.2.3/16")
            .expect("cidr")
            .is_network_address());
        for bad in [
            "10.1.0.0",
            "10.1.0.0/33",
            "10.1.0/16",
            "x/8",
            "10.0.0.0/+8",
            "fd00::/129",
        ] {
            assert!(Cidr::parse(bad).is_none(), "{bad}");
        }
        assert!(Cidr::parse("fd00:1::/64").expect("v6").is_network_address());
    }

    #[test]
    fn specs() {
        assert!(spec(None, None).validate().is_ok());
        assert!(spec(Some("10.42.0.0/24"), Some("10.42.0.1"))
            .validate()
            .is_ok());
        assert_eq!(field(spec(Some("10.42.0.0"), None).validate()), "subnet");
        assert_eq!(field(spec(Some("10.42.0.5/24"), None).validate()), "subnet");
        assert_eq!(field(spec(Some("10.42.0.0/31"), None).validate()), "subnet");
        assert_eq!(
            field(spec(Some("10.42.0.0/24"), Some("10.43.0.1")).validate()),
            "gateway"
        );
        assert_eq!(
            field(spec(Some("10.42.0.0/24"), Some("nope")).validate()),
            "gateway"
        );
        assert_eq!(field(spec(None, Some("10.42.0.1")).validate()), "gateway");
        assert_eq!(
            field(spec(Some("10.42.0.0/24"), Some("10.42.0.0")).validate()),
            "gateway"
        );
        let mut bad = spec(None, None);
        bad.name = "a b".into();
        assert_eq!(field(bad.validate()), "name");
    }
}
