//! The `docker run` of api.md: a [`RunSpec`] in the words of the command line, checked field by
//! field (every problem names its field), and turned into the engine's create body.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use bollard::models::{
    ContainerCreateBody, DeviceMapping, EndpointSettings, HostConfig, HostConfigLogConfig,
    NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};

use super::flags;
use crate::error::{Error, Result};

pub use wire::containers::RunSpec;

/// A checked [`RunSpec`], ready for the engine.
#[derive(Debug, Clone)]
pub(crate) struct RunPlan {
    pub image: String,
    pub name: Option<String>,
    pub body: ContainerCreateBody,
    /// `--platform`, for the create and for a pull.
    pub platform: Option<String>,
    /// Networks besides the main one, connected after the create.
    pub networks: Vec<(String, EndpointSettings)>,
    pub start: bool,
    /// What the engine will do but a person should know (a very large port range).
    pub warnings: Vec<String>,
}

/// Above this many host ports in one request, the run warns: every published port costs the
/// engine a proxy process and firewall rules.
const MANY_PORTS: usize = 1000;
/// Labels a container may carry from Capstan: enough for compose's and a team's own, not so
/// many that every list of the host grows by megabytes.
const MAX_LABELS: usize = 128;
const MAX_LABEL_BYTES: usize = 64 * 1024;
/// The engine refuses less than 6 MiB.
const MIN_MEMORY: i64 = 6 * 1024 * 1024;
/// Entries of any one of the rarer list fields (mounts, DNS servers, ulimits …).
const MAX_LINES: usize = 256;

/// Checks every field of `spec` and builds the engine's create body; the first problem found
/// is reported with its field.
#[allow(clippy::too_many_lines)]
pub(crate) fn plan(spec: &RunSpec) -> Result<RunPlan> {
    let s = spec;
    let image = s.image.trim();
    validate_image(image)?;
    if let Some(name) = &s.name {
        validate_name("name", name)?;
    }
    for (field, len) in [
        ("mounts", s.mounts.len()),
        ("tmpfs", s.tmpfs.len()),
        ("networks", s.networks.len()),
        ("network_alias", s.network_alias.len()),
        ("dns", s.dns.len()),
        ("dns_search", s.dns_search.len()),
        ("dns_option", s.dns_option.len()),
        ("add_host", s.add_host.len()),
        ("ulimits", s.ulimits.len()),
        ("sysctls", s.sysctls.len()),
        ("log_opts", s.log_opts.len()),
        ("security_opt", s.security_opt.len()),
    ] {
        if len > MAX_LINES {
            return Err(Error::invalid(
                field,
                format!("use at most {MAX_LINES} entries"),
            ));
        }
    }
    let cmd = s.cmd.as_ref().map(|c| checked_args("cmd", c)).transpose()?;
    let entrypoint = s
        .entrypoint
        .as_ref()
        .map(|c| checked_args("entrypoint", c))
        .transpose()?;
    for line in &s.env {
        validate_env(line)?;
    }
    let mut exposed: Vec<String> = Vec::new();
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    let mut published = 0usize;
    for text in &s.ports {
        for (container, binding) in parse_port(text)? {
            if !exposed.contains(&container) {
                exposed.push(container.clone());
            }
            published += 1;
            bindings
                .entry(container)
                .or_insert_with(|| Some(Vec::new()))
                .get_or_insert_with(Vec::new)
                .push(binding);
        }
    }
    let mut warnings = Vec::new();
    if published > MANY_PORTS {
        warnings.push(format!(
            "{published} ports are published: the engine runs a proxy process and adds firewall \
             rules for each (unless its userland proxy is off), which takes time and memory on \
             the host"
        ));
    }
    let mut binds = Vec::new();
    let mut anonymous = Vec::new();
    for text in &s.volumes {
        match parse_volume(text)? {
            Volume::Bind(b) => binds.push(b),
            Volume::Anonymous(path) => anonymous.push(path),
        }
    }
    let mounts = s
        .mounts
        .iter()
        .map(|m| flags::parse_mount(m, parse_size))
        .collect::<Result<Vec<_>>>()?;
    let mut targets: Vec<&str> = binds
        .iter()
        .filter_map(|b| b.split(':').nth(1))
        .chain(anonymous.iter().map(String::as_str))
        .collect();
    for m in &mounts {
        let t = m.target.as_deref().unwrap_or_default();
        if targets.contains(&t) {
            return Err(Error::invalid(
                "mounts",
                format!("{t} is mounted twice (by volumes and mounts)"),
            ));
        }
        targets.push(t);
    }
    let volume_driver = opt(&s.volume_driver)
        .map(|d| driver_name("volume_driver", d))
        .transpose()?;
    let mut tmpfs = HashMap::new();
    for t in &s.tmpfs {
        let (path, opts) = flags::parse_tmpfs(t)?;
        tmpfs.insert(path, opts);
    }
    for text in &s.volumes_from {
        validate_volumes_from(text)?;
    }
    let network = opt(&s.network);
    if let Some(n) = network {
        validate_network(n)?;
    }
    let aliases = s
        .network_alias
        .iter()
        .map(|a| flags::parse_alias("network_alias", a))
        .collect::<Result<Vec<_>>>()?;
    let ip = opt(&s.ip).map(|a| flags::parse_ipv4("ip", a)).transpose()?;
    let ip6 = opt(&s.ip6)
        .map(|a| flags::parse_ipv6("ip6", a))
        .transpose()?;
    let user_network = network.filter(|n| {
        !matches!(*n, "bridge" | "default" | "host" | "none") && !n.starts_with("container:")
    });
    for (field, asked) in [
        ("network_alias", !aliases.is_empty()),
        ("ip", ip.is_some()),
        ("ip6", ip6.is_some()),
    ] {
        if asked && user_network.is_none() {
            return Err(Error::invalid(
                field,
                "needs a network of your own as the main network (not bridge, host or none): \
                 the engine gives aliases and fixed addresses only there",
            ));
        }
    }
    let mut networks: Vec<(String, EndpointSettings)> = Vec::new();
    for line in &s.networks {
        let (name, endpoint) = flags::parse_network_line(line)?;
        if Some(name.as_str()) == network || networks.iter().any(|(n, _)| *n == name) {
            return Err(Error::invalid(
                "networks",
                format!("{name} is listed twice (the main network is given once, in network)"),
            ));
        }
        networks.push((name, endpoint));
    }
    if !networks.is_empty()
        && network.is_some_and(|n| matches!(n, "host" | "none") || n.starts_with("container:"))
    {
        return Err(Error::invalid(
            "networks",
            "a container on the host's network, none or another container's cannot join others",
        ));
    }
    let dns = s
        .dns
        .iter()
        .map(|d| flags::parse_dns(d))
        .collect::<Result<Vec<_>>>()?;
    let dns_search = s
        .dns_search
        .iter()
        .map(|d| flags::parse_dns_search(d))
        .collect::<Result<Vec<_>>>()?;
    let dns_options = s
        .dns_option
        .iter()
        .map(|d| flags::parse_dns_option(d))
        .collect::<Result<Vec<_>>>()?;
    let extra_hosts = s
        .add_host
        .iter()
        .map(|h| flags::parse_add_host(h))
        .collect::<Result<Vec<_>>>()?;
    let restart = opt(&s.restart).map(parse_restart).transpose()?;
    let restarts = restart
        .as_ref()
        .is_some_and(|r| r.name != Some(RestartPolicyNameEnum::NO));
    if s.auto_remove && restarts {
        return Err(Error::invalid(
            "restart",
            "a restart policy cannot be combined with auto_remove (--rm)",
        ));
    }
    validate_labels(&s.labels)?;
    let workdir = opt(&s.workdir);
    if let Some(w) = workdir {
        if !w.starts_with('/') || w.contains('\0') {
            return Err(Error::invalid(
                "workdir",
                "must be an absolute path inside the container, like /app",
            ));
        }
    }
    let user = opt(&s.user);
    if let Some(u) = user {
        validate_user(u)?;
    }
    let hostname = opt(&s.hostname);
    if let Some(h) = hostname {
        validate_hostname(h)?;
    }
    let memory = opt(&s.memory).map(parse_memory).transpose()?;
    let nano_cpus = s.cpus.map(parse_cpus).transpose()?;
    if let Some(p) = s.pids_limit {
        if p < -1 || p == 0 {
            return Err(Error::invalid(
                "pids_limit",
                "must be a number of processes, or -1 for no limit",
            ));
        }
    }
    let shm_size = opt(&s.shm_size)
        .map(|t| parse_size("shm_size", t))
        .transpose()?;
    let ulimits = s
        .ulimits
        .iter()
        .map(|u| flags::parse_ulimit(u))
        .collect::<Result<Vec<_>>>()?;
    for (k, v) in &s.sysctls {
        flags::check_sysctl(k, v)?;
    }
    let healthcheck = flags::health(&flags::Health {
        cmd: opt(&s.health_cmd),
        interval: opt(&s.health_interval),
        timeout: opt(&s.health_timeout),
        start_period: opt(&s.health_start_period),
        retries: s.health_retries,
        none: s.no_healthcheck,
    })?;
    let log_driver = opt(&s.log_driver)
        .map(|d| driver_name("log_driver", d))
        .transpose()?;
    for (k, v) in &s.log_opts {
        flags::check_log_opt(k, v)?;
    }
    if log_driver.is_none() && !s.log_opts.is_empty() {
        return Err(Error::invalid(
            "log_opts",
            "name the log driver the options are for (json-file, local, …)",
        ));
    }
    let stop_signal = opt(&s.stop_signal).map(flags::parse_signal).transpose()?;
    if let Some(t) = s.stop_timeout {
        if !(-1..=86_400).contains(&t) {
            return Err(Error::invalid(
                "stop_timeout",
                "must be a number of seconds up to 86400 (or -1 to wait forever)",
            ));
        }
    }
    let platform = opt(&s.platform).map(flags::parse_platform).transpose()?;
    let cap_add = s
        .cap_add
        .iter()
        .map(|c| parse_capability("cap_add", c))
        .collect::<Result<Vec<_>>>()?;
    let cap_drop = s
        .cap_drop
        .iter()
        .map(|c| parse_capability("cap_drop", c))
        .collect::<Result<Vec<_>>>()?;
    let security_opt = s
        .security_opt
        .iter()
        .map(|o| parse_security_opt(o))
        .collect::<Result<Vec<_>>>()?;
    let devices = s
        .devices
        .iter()
        .map(|d| parse_device(d))
        .collect::<Result<Vec<_>>>()?;
    let gpus = opt(&s.gpus).map(flags::parse_gpus).transpose()?;
    let pid = opt(&s.pid)
        .map(|p| validate_namespace("pid", p, &["host"]))
        .transpose()?;
    let ipc = opt(&s.ipc)
        .map(|p| validate_namespace("ipc", p, &["host", "private", "shareable", "none"]))
        .transpose()?;

    let main_endpoint = flags::endpoint(aliases, ip, ip6);
    let networking_config =
        network
            .filter(|n| !n.starts_with("container:"))
            .map(|n| NetworkingConfig {
                endpoints_config: Some(HashMap::from([(n.to_string(), main_endpoint)])),
            });
    let some = |v: Vec<String>| (!v.is_empty()).then_some(v);
    let host_config = HostConfig {
        binds: some(binds),
        mounts: (!mounts.is_empty()).then_some(mounts),
        volume_driver,
        tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
        volumes_from: some(
            s.volumes_from
                .iter()
                .map(|v| v.trim().to_string())
                .collect(),
        ),
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        network_mode: network.map(str::to_string),
        dns: some(dns),
        dns_search: some(dns_search),
        dns_options: some(dns_options),
        extra_hosts: some(extra_hosts),
        restart_policy: restart,
        auto_remove: Some(s.auto_remove),
        memory,
        nano_cpus,
        pids_limit: s.pids_limit,
        shm_size,
        ulimits: (!ulimits.is_empty()).then_some(ulimits),
        sysctls: (!s.sysctls.is_empty()).then(|| {
            s.sysctls
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        }),
        log_config: log_driver.map(|d| HostConfigLogConfig {
            typ: Some(d),
            config: (!s.log_opts.is_empty()).then(|| {
                s.log_opts
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            }),
        }),
        init: s.init.then_some(true),
        readonly_rootfs: s.read_only.then_some(true),
        privileged: s.privileged.then_some(true),
        cap_add: some(cap_add),
        cap_drop: some(cap_drop),
        security_opt: some(security_opt),
        devices: (!devices.is_empty()).then_some(devices),
        device_requests: gpus.map(|g| vec![g]),
        pid_mode: pid,
        ipc_mode: ipc,
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(image.to_string()),
        cmd,
        entrypoint,
        env: some(s.env.clone()),
        exposed_ports: some(exposed),
        volumes: some(anonymous),
        labels: (!s.labels.is_empty()).then(|| s.labels.clone().into_iter().collect()),
        tty: Some(s.tty),
        open_stdin: Some(s.stdin),
        working_dir: workdir.map(str::to_string),
        user: user.map(str::to_string),
        hostname: hostname.map(str::to_string),
        healthcheck,
        stop_signal,
        stop_timeout: s.stop_timeout,
        host_config: Some(host_config),
        networking_config,
        ..Default::default()
    };
    Ok(RunPlan {
        image: image.to_string(),
        name: s.name.as_ref().map(|n| n.trim().to_string()),
        body,
        platform,
        networks,
        start: s.start,
        warnings,
    })
}

/// A volume or log driver's name (`local`, `json-file`, a plugin's).
fn driver_name(field: &str, name: &str) -> Result<String> {
    if crate::names::is_object_name(name, 1..=128) {
        Ok(name.to_string())
    } else {
        Err(Error::invalid(
            field,
            format!("{name:?} is not a driver name"),
        ))
    }
}

fn validate_labels(labels: &BTreeMap<String, String>) -> Result<()> {
    if labels.len() > MAX_LABELS
        || labels.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>() > MAX_LABEL_BYTES
    {
        return Err(Error::invalid(
            "labels",
            format!(
                "use at most {MAX_LABELS} labels and {} KiB of them in all",
                MAX_LABEL_BYTES / 1024
            ),
        ));
    }
    for (k, v) in labels {
        if k.trim().is_empty() {
            return Err(Error::invalid("labels", "a label needs a key"));
        }
        if k.contains('\0') || v.contains('\0') || k.contains('=') {
            return Err(Error::invalid(
                "labels",
                format!("label {k:?} may not contain '=' in its key or NUL characters"),
            ));
        }
    }
    Ok(())
}

/// `--security-opt`: `no-new-privileges[:true|false]`, `seccomp=…`, `apparmor=…`, `label=…`,
/// `systempaths=unconfined`, `writable-cgroups=…`.
fn parse_security_opt(text: &str) -> Result<String> {
    let t = text.trim();
    let key = t.split(['=', ':']).next().unwrap_or_default();
    let known = matches!(
        key,
        "no-new-privileges" | "seccomp" | "apparmor" | "label" | "systempaths" | "writable-cgroups"
    );
    if !known || t.contains(['\0', '\n']) || t.len() > 4096 {
        return Err(Error::invalid(
            "security_opt",
            format!("{text:?}: use no-new-privileges, seccomp=…, apparmor=… or label=…"),
        ));
    }
    Ok(t.to_string())
}

/// `NET_ADMIN` or `CAP_NET_ADMIN` (or `ALL`): letters, digits and underscores.
fn parse_capability(field: &str, text: &str) -> Result<String> {
    let t = text.trim().to_ascii_uppercase();
    let ok =
        !t.is_empty() && t.len() <= 64 && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        Ok(t)
    } else {
        Err(Error::invalid(
            field,
            format!("{text:?} is not a capability name like NET_ADMIN"),
        ))
    }
}

/// `/dev/x`, `/dev/x:/dev/y` or `/dev/x:/dev/y:rwm`.
fn parse_device(text: &str) -> Result<DeviceMapping> {
    let bad = || {
        Error::invalid(
            "devices",
            format!("{text:?}: use /dev/host[:/dev/container[:rwm]]"),
        )
    };
    let parts: Vec<&str> = text.trim().split(':').collect();
    let (host, container, perms) = match parts.as_slice() {
        [h] => (*h, *h, "rwm"),
        [h, c] if c.starts_with('/') => (*h, *c, "rwm"),
        [h, p] => (*h, *h, *p),
        [h, c, p] => (*h, *c, *p),
        _ => return Err(bad()),
    };
    let perms_ok = !perms.is_empty() && perms.chars().all(|c| matches!(c, 'r' | 'w' | 'm'));
    if !host.starts_with('/') || !container.starts_with('/') || !perms_ok || text.contains('\0') {
        return Err(bad());
    }
    Ok(DeviceMapping {
        path_on_host: Some(host.to_string()),
        path_in_container: Some(container.to_string()),
        cgroup_permissions: Some(perms.to_string()),
    })
}

/// A `--pid`/`--ipc` mode: one of `allowed` or `container:<name>`.
fn validate_namespace(field: &str, value: &str, allowed: &[&str]) -> Result<String> {
    if allowed.contains(&value) {
        return Ok(value.to_string());
    }
    match value.strip_prefix("container:") {
        Some(name) => {
            validate_name(field, name)?;
            Ok(value.to_string())
        }
        None => Err(Error::invalid(
            field,
            format!("must be {} or container:<name>", allowed.join(", ")),
        )),
    }
}

fn opt(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn checked_args(field: &str, args: &[String]) -> Result<Vec<String>> {
    if args.iter().any(|a| a.contains('\0')) {
        return Err(Error::invalid(field, "may not contain NUL characters"));
    }
    Ok(args.to_vec())
}

/// A container or volume name as the engine accepts it: `[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub(crate) fn validate_name(field: &str, name: &str) -> Result<()> {
    if crate::names::is_object_name(name, 2..=128) {
        Ok(())
    } else {
        Err(Error::invalid(
            field,
            "use 2 to 128 letters, digits, '_', '.' and '-', starting with a letter or digit",
        ))
    }
}

/// An image reference: `[registry[:port]/]path[:tag][@algo:digest]`, as the engine's
/// reference grammar has it (lowercase path components, tags of up to 128 characters).
pub fn validate_image(reference: &str) -> Result<()> {
    let bad = |why: &str| {
        Err(Error::invalid(
            "image",
            format!("{reference:?} is not an image reference: {why}"),
        ))
    };
    if reference.is_empty() {
        return Err(Error::invalid(
            "image",
            "is required, like nginx:1.27 or registry:5000/team/app:1.2",
        ));
    }
    if reference.len() > 512 {
        return bad("too long");
    }
    let (rest, digest) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (reference, None),
    };
    if let Some(d) = digest {
        let ok = d.split_once(':').is_some_and(|(algo, hex)| {
            !algo.is_empty()
                && algo.chars().all(|c| {
                    c.is_ascii_lowercase()
                        || c.is_ascii_digit()
                        || matches!(c, '+' | '.' | '_' | '-')
                })
                && hex.len() >= 32
                && hex.chars().all(|c| c.is_ascii_hexdigit())
        });
        if !ok {
            return bad("the digest must look like sha256:<64 hex digits>");
        }
    }
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(t) = tag {
        if !crate::names::is_tag(t) {
            return bad("a tag is up to 128 letters, digits, '_', '.' and '-'");
        }
    }
    let mut parts: Vec<&str> = name.split('/').collect();
    if parts.len() > 1 && (parts[0].contains(['.', ':']) || parts[0] == "localhost") {
        let registry = parts.remove(0);
        if !crate::names::is_registry(registry) {
            return bad("the registry must be host[:port]");
        }
    }
    if parts.is_empty() || !parts.iter().all(|p| crate::names::is_repo_component(p)) {
        return bad("names are lowercase letters and digits, separated by '.', '_', '__' or '-'");
    }
    Ok(())
}

fn validate_env(line: &str) -> Result<()> {
    let Some((key, value)) = line.split_once('=') else {
        return Err(Error::invalid(
            "env",
            format!("{line:?} must be a KEY=VALUE line"),
        ));
    };
    if key.is_empty() || key.chars().any(|c| c.is_whitespace() || c == '\0') || value.contains('\0')
    {
        return Err(Error::invalid(
            "env",
            format!("{line:?}: the key must be non-empty without spaces"),
        ));
    }
    Ok(())
}

/// `(container port "80/tcp", binding)` pairs for one mapping.
fn parse_port(text: &str) -> Result<Vec<(String, PortBinding)>> {
    let bad = |why: &str| Error::invalid("ports", format!("{text:?}: {why}"));
    let text_t = text.trim();
    let (spec, proto) = match text_t.rsplit_once('/') {
        Some((s, p)) => (s, p.to_ascii_lowercase()),
        None => (text_t, "tcp".to_string()),
    };
    if !matches!(proto.as_str(), "tcp" | "udp" | "sctp") {
        return Err(bad("the protocol must be tcp, udp or sctp"));
    }
    // The host IP, if any: `[v6]:` or `a.b.c.d:` before `host:container`.
    let (ip, rest) = if let Some(after) = spec.strip_prefix('[') {
        let (inside, rest) = after
            .split_once(']')
            .ok_or_else(|| bad("an IPv6 address needs a closing ']'"))?;
        let rest = rest
            .strip_prefix(':')
            .ok_or_else(|| bad("expected ':' after the host IP"))?;
        let ip: IpAddr = inside
            .parse()
            .map_err(|_| bad("the host IP is not an IP address"))?;
        (Some(ip), rest)
    } else {
        let pieces: Vec<&str> = spec.split(':').collect();
        match pieces.len() {
            1 | 2 => (None, spec),
            3 => {
                let ip: IpAddr = pieces[0]
                    .parse()
                    .map_err(|_| bad("the host IP is not an IP address"))?;
                (Some(ip), spec.split_once(':').map_or("", |(_, r)| r))
            }
            _ => {
                return Err(bad(
                    "use [ip:]host:container[/proto]; write IPv6 addresses in brackets",
                ))
            }
        }
    };
    let (host, container) = match rest.split_once(':') {
        Some((h, c)) => (Some(h), c),
        None if ip.is_some() => return Err(bad("a host IP needs a container port after it")),
        None => (None, rest),
    };
    let (c_lo, c_hi) = parse_range(container)
        .ok_or_else(|| bad("container ports are 1-65535, or a range like 2000-2010"))?;
    let host_range = match host.filter(|h| !h.is_empty()) {
        Some(h) => {
            let (lo, hi) = parse_range(h)
                .ok_or_else(|| bad("host ports are 1-65535, or a range like 2000-2010"))?;
            if c_lo == c_hi && lo != hi {
                // `8000-8010:80`: the engine picks a free host port of the range.
                let binding = PortBinding {
                    host_ip: ip.map(|ip| ip.to_string()),
                    host_port: Some(format!("{lo}-{hi}")),
                };
                return Ok(vec![(format!("{c_lo}/{proto}"), binding)]);
            }
            if hi - lo != c_hi - c_lo {
                return Err(bad(
                    "the host and container ranges must have the same length",
                ));
            }
            Some(lo)
        }
        None => None,
    };
    let host_ip = ip.map(|ip| ip.to_string());
    Ok((0..=(c_hi - c_lo))
        .map(|offset| {
            let binding = PortBinding {
                host_ip: host_ip.clone(),
                host_port: Some(
                    host_range
                        .map(|lo| (lo + offset).to_string())
                        .unwrap_or_default(),
                ),
            };
            (format!("{}/{proto}", c_lo + offset), binding)
        })
        .collect())
}

fn parse_range(text: &str) -> Option<(u16, u16)> {
    let port = |s: &str| {
        s.parse::<u16>()
            .ok()
            .filter(|p| *p > 0 && s.chars().all(|c| c.is_ascii_digit()))
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (port(a)?, port(b)?);
            (a <= b).then_some((a, b))
        }
        None => port(text).map(|p| (p, p)),
    }
}

enum Volume {
    /// `source:dest[:mode]`, as the engine's `Binds` takes it.
    Bind(String),
    Anonymous(String),
}

fn parse_volume(text: &str) -> Result<Volume> {
    let bad = |why: &str| Error::invalid("volumes", format!("{text:?}: {why}"));
    let text = text.trim();
    if text.contains('\0') {
        return Err(bad("may not contain NUL characters"));
    }
    let parts: Vec<&str> = text.split(':').collect();
    let dest_ok = |d: &str| d.starts_with('/') && d != "/";
    match parts.as_slice() {
        [dest] => {
            if dest_ok(dest) {
                Ok(Volume::Anonymous((*dest).to_string()))
            } else {
                Err(bad("use name:/path, /host/path:/path[:ro] or /path"))
            }
        }
        [source, dest, mode @ ..] if mode.len() <= 1 => {
            if source.is_empty() {
                return Err(bad("the volume name or host path is missing"));
            }
            if !source.starts_with('/') {
                validate_name("volumes", source).map_err(|_| bad("a volume name is letters, digits, '_', '.' and '-'; a host path starts with '/'"))?;
            }
            if !dest_ok(dest) {
                return Err(bad("the container path must be absolute and not '/'"));
            }
            if let Some(m) = mode.first() {
                if !matches!(*m, "ro" | "rw") {
                    return Err(bad("the mode must be ro or rw"));
                }
            }
            Ok(Volume::Bind(text.to_string()))
        }
        _ => Err(bad("use name:/path, /host/path:/path[:ro|rw] or /path")),
    }
}

fn validate_volumes_from(text: &str) -> Result<()> {
    let text = text.trim();
    let (name, mode) = match text.split_once(':') {
        Some((n, m)) => (n, Some(m)),
        None => (text, None),
    };
    let name_ok = crate::names::is_object_name(name, 1..=255);
    if !name_ok || mode.is_some_and(|m| !matches!(m, "ro" | "rw")) {
        return Err(Error::invalid(
            "volumes_from",
            format!("{text:?}: use a container name or id, optionally followed by :ro or :rw"),
        ));
    }
    Ok(())
}

fn validate_network(name: &str) -> Result<()> {
    let plain = |n: &str| crate::names::is_object_name(n, 1..=128);
    let ok = match name.strip_prefix("container:") {
        Some(c) => plain(c),
        None => plain(name),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "network",
            format!("{name:?} is not a network name (or container:<name>)"),
        ))
    }
}

fn parse_restart(text: &str) -> Result<RestartPolicy> {
    let policy = |name, retries| {
        Ok(RestartPolicy {
            name: Some(name),
            maximum_retry_count: retries,
        })
    };
    match text {
        "no" => policy(RestartPolicyNameEnum::NO, None),
        "always" => policy(RestartPolicyNameEnum::ALWAYS, None),
        "unless-stopped" => policy(RestartPolicyNameEnum::UNLESS_STOPPED, None),
        "on-failure" => policy(RestartPolicyNameEnum::ON_FAILURE, None),
        other => match other.strip_prefix("on-failure:").map(|n| n.parse::<u32>()) {
            Some(Ok(n)) => policy(RestartPolicyNameEnum::ON_FAILURE, Some(i64::from(n))),
            _ => Err(Error::invalid(
                "restart",
                "must be no, always, unless-stopped, on-failure or on-failure:N",
            )),
        },
    }
}

fn validate_user(user: &str) -> Result<()> {
    let part_ok = |p: &str| {
        !p.is_empty()
            && p.len() <= 64
            && p.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    };
    let ok = match user.split_once(':') {
        Some((u, g)) => part_ok(u) && part_ok(g),
        None => part_ok(user),
    };
    if ok {
        Ok(())
    } else {
        Err(Error::invalid(
            "user",
            "use a user name or uid, optionally :group or :gid",
        ))
    }
}

fn validate_hostname(name: &str) -> Result<()> {
    if crate::names::is_dns_name(name) {
        Ok(())
    } else {
        Err(Error::invalid(
            "hostname",
            "use letters, digits and '-', in dot-separated labels of up to 63 characters",
        ))
    }
}

/// `--memory`: a size of at least 6m, the engine's minimum.
pub(crate) fn parse_memory(text: &str) -> Result<i64> {
    let bytes = parse_size("memory", text)?;
    if bytes < MIN_MEMORY {
        return Err(Error::invalid(
            "memory",
            "must be at least 6m (the engine's minimum)",
        ));
    }
    Ok(bytes)
}

/// `256m`, `1g`, `512k`, `1t`, with an optional `b`, or plain bytes (more than 0).
pub(crate) fn parse_size(field: &str, text: &str) -> Result<i64> {
    let bad = || {
        Error::invalid(
            field,
            format!("{text:?}: use bytes or a number with k, m, g or t, like 64m or 1g"),
        )
    };
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix('b').unwrap_or(&lower);
    let (digits, unit) = match lower
        .char_indices()
        .find(|(_, c)| !c.is_ascii_digit() && *c != '.')
    {
        Some((i, _)) => lower.split_at(i),
        None => (lower, ""),
    };
    let factor: f64 = match unit {
        "" => 1.0,
        "k" => 1024.0,
        "m" => 1024.0 * 1024.0,
        "g" => 1024.0 * 1024.0 * 1024.0,
        "t" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return Err(bad()),
    };
    let number: f64 = digits.parse().map_err(|_| bad())?;
    let bytes = (number * factor).floor();
    if !bytes.is_finite() || !(1.0..=9.0e18).contains(&bytes) {
        return Err(bad());
    }
    #[allow(clippy::cast_possible_truncation)]
    Ok(bytes as i64)
}

fn parse_cpus(cpus: f64) -> Result<i64> {
    if !cpus.is_finite() || cpus <= 0.0 || cpus > 1024.0 {
        return Err(Error::invalid(
            "cpus",
            "must be more than 0 and at most 1024, like 0.5 or 2",
        ));
    }
    #[allow(clippy::cast_possible_truncation)]
    let nano = (cpus * 1e9).round() as i64;
    if nano < 1_000_000 {
        return Err(Error::invalid("cpus", "must be at least 0.001"));
    }
    Ok(nano)
}

/// The value an environment line shows when it is hidden from the reader.
pub const HIDDEN_VALUE: &str = "********";

/// `KEY=VALUE` lines with every value replaced by [`HIDDEN_VALUE`].
pub fn hide_env_lines(lines: &mut [String]) {
    for line in lines.iter_mut() {
        *line = hidden_line(line);
    }
}

/// `KEY=VALUE` (or a bare `KEY`) as `KEY=********`.
pub(super) fn hidden_line(line: &str) -> String {
    let key = line.split_once('=').map_or(line, |(k, _)| k);
    format!("{key}={HIDDEN_VALUE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(f: impl FnOnce(&mut RunSpec)) -> RunSpec {
        let mut s = RunSpec {
            image: "busybox".into(),
            ..Default::default()
        };
        f(&mut s);
        s
    }

    fn field_of(s: &RunSpec) -> String {
        match plan(s) {
            Err(Error::Invalid { field, .. }) => field,
            Err(other) => panic!("{s:?}: {other}"),
            Ok(_) => panic!("{s:?} was accepted"),
        }
    }

    #[test]
    fn images() {
        for ok in [
            "busybox",
            "nginx:1.27",
            "library/nginx:latest",
            "registry:5000/team/app:1.2",
            "127.0.0.1:5000/a/b",
            "localhost/x",
            "ghcr.io/o-r/x_y__z.w:v1.0-rc_1",
            "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        ] {
            assert!(validate_image(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "Nginx",
            "nginx:",
            "a//b",
            "-a",
            "a-",
            "a:b:c",
            "reg:99999/x",
            "x@sha256:zz",
            "a b",
            "a/.b",
            "a___b",
            "x:-tag",
        ] {
            assert!(validate_image(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ports() {
        let one = |t: &str| parse_port(t).expect(t);
        let p = one("8080:80");
        assert_eq!(p[0].0, "80/tcp");
        assert_eq!(p[0].1.host_port.as_deref(), Some("8080"));
        assert_eq!(p[0].1.host_ip, None);
        assert_eq!(one("8080:80/udp")[0].0, "80/udp");
        assert_eq!(
            one("127.0.0.1:9000:9000")[0].1.host_ip.as_deref(),
            Some("127.0.0.1")
        );
        assert_eq!(one("[::1]:80:80")[0].1.host_ip.as_deref(), Some("::1"));
        assert_eq!(one("127.0.0.1::80")[0].1.host_port.as_deref(), Some(""));
        let r = one("2000-2002:3000-3002/udp");
        assert_eq!(r.len(), 3);
        assert_eq!(r[2].0, "3002/udp");
        assert_eq!(r[2].1.host_port.as_deref(), Some("2002"));
        assert_eq!(one("80")[0].1.host_port.as_deref(), Some(""));
        for bad in [
            "",
            "0:80",
            "80:0",
            "65536:80",
            "a:80",
            "2000-2001:3000-3005",
            "3-1:3-1",
            "80/xyz",
            "1.2.3:80:80",
            "::1:80:80",
            "[::1]80:80",
            "80:",
            "1.2.3.4:80",
        ] {
            assert!(parse_port(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn volumes_memory_restart() {
        assert!(matches!(parse_volume("data:/data"), Ok(Volume::Bind(_))));
        assert!(matches!(parse_volume("/srv:/site:ro"), Ok(Volume::Bind(_))));
        assert!(matches!(parse_volume("/data"), Ok(Volume::Anonymous(_))));
        for bad in [
            "data",
            "data:rel",
            "/a:/",
            ":/x",
            "/a:/b:xx",
            "a b:/x",
            "/a:/b:ro:rw",
        ] {
            assert!(parse_volume(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_memory("256m").ok(), Some(256 * 1024 * 1024));
        assert_eq!(parse_memory("1G").ok(), Some(1024 * 1024 * 1024));
        assert_eq!(parse_memory("1.5g").ok(), Some(1536 * 1024 * 1024));
        assert_eq!(parse_memory("10485760").ok(), Some(10_485_760));
        for bad in ["", "m", "12x", "1k", "-5m", "1e30g"] {
            assert!(parse_memory(bad).is_err(), "{bad}");
        }
        assert!(parse_restart("on-failure:3").is_ok());
        assert!(parse_restart("sometimes").is_err());
        assert!(parse_restart("on-failure:-1").is_err());
    }

    #[test]
    fn every_bad_field_is_named() {
        let cases: Vec<(RunSpec, &str)> = vec![
            (spec(|s| s.image = "UPPER".into()), "image"),
            (spec(|s| s.name = Some("-x".into())), "name"),
            (spec(|s| s.name = Some("a".into())), "name"),
            (spec(|s| s.env = vec!["NOEQUALS".into()]), "env"),
            (spec(|s| s.ports = vec!["99999:80".into()]), "ports"),
            (
                spec(|s| s.volumes = vec!["data:relative".into()]),
                "volumes",
            ),
            (
                spec(|s| s.volumes_from = vec!["x:rx".into()]),
                "volumes_from",
            ),
            (spec(|s| s.restart = Some("sometimes".into())), "restart"),
            (
                spec(|s| {
                    s.restart = Some("always".into());
                    s.auto_remove = true;
                }),
                "restart",
            ),
            (spec(|s| s.memory = Some("lots".into())), "memory"),
            (spec(|s| s.cpus = Some(0.0)), "cpus"),
            (spec(|s| s.cpus = Some(2000.0)), "cpus"),
            (spec(|s| s.workdir = Some("rel".into())), "workdir"),
            (spec(|s| s.network = Some("bad name".into())), "network"),
            (spec(|s| s.user = Some("a b".into())), "user"),
            (spec(|s| s.hostname = Some("-h".into())), "hostname"),
            (
                spec(|s| {
                    s.labels.insert(String::new(), "v".into());
                }),
                "labels",
            ),
            (
                spec(|s| {
                    s.labels.insert("big".into(), "x".repeat(65 * 1024));
                }),
                "labels",
            ),
            (
                spec(|s| {
                    s.labels = (0..129).map(|i| (format!("k{i}"), String::new())).collect();
                }),
                "labels",
            ),
            (spec(|s| s.cap_drop = vec!["NET RAW".into()]), "cap_drop"),
            (
                spec(|s| s.health_interval = Some("often".into())),
                "health_interval",
            ),
            (
                spec(|s| s.health_timeout = Some("5x".into())),
                "health_timeout",
            ),
            (
                spec(|s| s.health_start_period = Some("10us".into())),
                "health_start_period",
            ),
            (
                spec(|s| {
                    s.no_healthcheck = true;
                    s.health_cmd = Some("true".into());
                }),
                "no_healthcheck",
            ),
            (spec(|s| s.dns = vec!["ns1".into()]), "dns"),
            (spec(|s| s.dns_search = vec!["a b".into()]), "dns_search"),
            (spec(|s| s.dns_option = vec!["nd ots".into()]), "dns_option"),
            (spec(|s| s.add_host = vec!["db".into()]), "add_host"),
            (
                spec(|s| s.mounts = vec!["type=bind,target=/x".into()]),
                "mounts",
            ),
            (
                spec(|s| {
                    s.volumes = vec!["data:/d".into()];
                    s.mounts = vec!["type=tmpfs,target=/d".into()];
                }),
                "mounts",
            ),
            (
                spec(|s| s.volume_driver = Some("a b".into())),
                "volume_driver",
            ),
            (spec(|s| s.tmpfs = vec!["relative".into()]), "tmpfs"),
            (
                spec(|s| s.network_alias = vec!["web".into()]),
                "network_alias",
            ),
            (
                spec(|s| {
                    s.network = Some("back".into());
                    s.ip = Some("10.0.0.300".into());
                }),
                "ip",
            ),
            (
                spec(|s| {
                    s.network = Some("bridge".into());
                    s.ip6 = Some("fd00::5".into());
                }),
                "ip6",
            ),
            (spec(|s| s.networks = vec!["host".into()]), "networks"),
            (
                spec(|s| {
                    s.network = Some("back".into());
                    s.networks = vec!["back".into()];
                }),
                "networks",
            ),
            (
                spec(|s| s.log_driver = Some("no such".into())),
                "log_driver",
            ),
            (
                spec(|s| {
                    s.log_opts.insert("max-size".into(), "1m".into());
                }),
                "log_opts",
            ),
            (spec(|s| s.ulimits = vec!["nofile=9:1".into()]), "ulimits"),
            (spec(|s| s.shm_size = Some("big".into())), "shm_size"),
            (
                spec(|s| {
                    s.sysctls.insert("net ipv4".into(), "1".into());
                }),
                "sysctls",
            ),
            (
                spec(|s| s.stop_signal = Some("SIG TERM".into())),
                "stop_signal",
            ),
            (spec(|s| s.stop_timeout = Some(-5)), "stop_timeout"),
            (
                spec(|s| s.security_opt = vec!["colour=red".into()]),
                "security_opt",
            ),
            (spec(|s| s.gpus = Some("none".into())), "gpus"),
            (
                spec(|s| s.platform = Some("Linux/AMD64".into())),
                "platform",
            ),
            (spec(|s| s.pids_limit = Some(0)), "pids_limit"),
            (spec(|s| s.dns = vec!["10.0.0.1".into(); 257]), "dns"),
        ];
        for (s, field) in cases {
            assert_eq!(field_of(&s), field, "{s:?}");
        }
    }

    #[test]
    fn every_docker_run_word_reaches_the_engine_body() {
        let s = spec(|s| {
            s.network = Some("back".into());
            s.network_alias = vec!["web".into()];
            s.ip = Some("10.5.0.9".into());
            s.networks = vec!["side,alias=s1".into()];
            s.cap_drop = vec!["net_raw".into()];
            s.health_cmd = Some("wget -q localhost".into());
            s.health_interval = Some("5s".into());
            s.health_retries = Some(3);
            s.dns = vec!["10.0.0.53".into()];
            s.dns_search = vec!["example.test".into()];
            s.dns_option = vec!["ndots:2".into()];
            s.add_host = vec!["db:10.0.0.2".into()];
            s.mounts = vec!["type=volume,source=data,target=/data,readonly".into()];
            s.volume_driver = Some("local".into());
            s.tmpfs = vec!["/run:size=1m".into()];
            s.log_driver = Some("json-file".into());
            s.log_opts.insert("max-size".into(), "1m".into());
            s.ulimits = vec!["nofile=1024:2048".into()];
            s.shm_size = Some("8m".into());
            s.sysctls.insert("net.ipv4.ip_forward".into(), "1".into());
            s.init = true;
            s.stop_signal = Some("SIGUSR1".into());
            s.stop_timeout = Some(7);
            s.read_only = true;
            s.security_opt = vec!["no-new-privileges".into()];
            s.gpus = Some("all".into());
            s.platform = Some("linux/amd64".into());
            s.pids_limit = Some(50);
            s.ports = vec!["2000-3000:2000-3000".into(), "8000-8010:80".into()];
        });
        let plan = plan(&s).expect("valid");
        let b = &plan.body;
        let hc = b.host_config.as_ref().expect("host config");
        assert_eq!(hc.cap_drop.as_deref(), Some(&["NET_RAW".to_string()][..]));
        let h = b.healthcheck.as_ref().expect("healthcheck");
        assert_eq!(
            h.test.as_deref(),
            Some(&["CMD-SHELL".to_string(), "wget -q localhost".into()][..])
        );
        assert_eq!((h.interval, h.retries), (Some(5_000_000_000), Some(3)));
        assert_eq!(
            hc.dns_options.as_deref(),
            Some(&["ndots:2".to_string()][..])
        );
        assert_eq!(
            hc.extra_hosts.as_deref(),
            Some(&["db:10.0.0.2".to_string()][..])
        );
        assert_eq!(hc.mounts.as_ref().map(Vec::len), Some(1));
        assert_eq!(
            hc.tmpfs
                .as_ref()
                .and_then(|t| t.get("/run"))
                .map(String::as_str),
            Some("size=1m")
        );
        assert_eq!(
            hc.log_config
                .as_ref()
                .and_then(|l| l.config.as_ref())
                .and_then(|c| c.get("max-size"))
                .map(String::as_str),
            Some("1m")
        );
        assert_eq!(hc.ulimits.as_ref().and_then(|u| u[0].hard), Some(2048));
        assert_eq!(hc.shm_size, Some(8 * 1024 * 1024));
        assert_eq!(
            (hc.init, hc.readonly_rootfs, hc.pids_limit),
            (Some(true), Some(true), Some(50))
        );
        assert_eq!(b.stop_timeout, Some(7));
        assert_eq!(
            hc.device_requests.as_ref().and_then(|d| d[0].count),
            Some(-1)
        );
        assert_eq!(plan.platform.as_deref(), Some("linux/amd64"));
        let main = b
            .networking_config
            .as_ref()
            .and_then(|n| n.endpoints_config.as_ref())
            .and_then(|e| e.get("back"))
            .expect("main endpoint");
        assert_eq!(main.aliases.as_deref(), Some(&["web".to_string()][..]));
        assert_eq!(
            main.ipam_config
                .as_ref()
                .and_then(|i| i.ipv4_address.as_deref()),
            Some("10.5.0.9")
        );
        assert_eq!(plan.networks.len(), 1);
        // 1,001 ports and a host range for one port: published, with a warning.
        let bindings = hc.port_bindings.as_ref().expect("ports");
        assert_eq!(bindings.len(), 1002);
        assert_eq!(
            bindings["80/tcp"]
                .as_ref()
                .and_then(|b| b[0].host_port.as_deref()),
            Some("8000-8010")
        );
        assert!(
            plan.warnings.iter().any(|w| w.contains("1002 ports")),
            "{:?}",
            plan.warnings
        );
    }

    #[test]
    fn a_full_spec_becomes_the_engine_body() {
        let s = spec(|s| {
            s.name = Some("web".into());
            s.env = vec!["A=1".into()];
            s.ports = vec![
                "8080:80".into(),
                "127.0.0.1:8081:80".into(),
                "53/udp".into(),
            ];
            s.volumes = vec!["data:/data".into(), "/anon".into()];
            s.network = Some("bridge".into());
            s.restart = Some("on-failure:2".into());
            s.memory = Some("64m".into());
            s.cpus = Some(0.5);
            s.tty = true;
        });
        let plan = plan(&s).expect("valid");
        let hc = plan.body.host_config.as_ref().expect("host config");
        assert_eq!(
            hc.port_bindings
                .as_ref()
                .and_then(|b| b.get("80/tcp"))
                .and_then(|b| b.as_ref())
                .map(Vec::len),
            Some(2)
        );
        assert_eq!(hc.memory, Some(64 * 1024 * 1024));
        assert_eq!(hc.nano_cpus, Some(500_000_000));
        assert_eq!(hc.binds.as_deref(), Some(&["data:/data".to_string()][..]));
        assert_eq!(
            plan.body.volumes.as_deref(),
            Some(&["/anon".to_string()][..])
        );
        assert_eq!(
            hc.restart_policy
                .as_ref()
                .and_then(|r| r.maximum_retry_count),
            Some(2)
        );
    }
}
