//! What a recreate or an edit carries over from the old container: its whole configuration as
//! the engine reports it (inspect), not the run form's subset, so a container made with flags
//! Capstan's form does not know (cap-drop, healthcheck, DNS, extra hosts, mount options, log
//! settings, ulimits, extra networks …) comes back with every one of them. An edit changes only
//! the fields of its [`RunSpec`] that differ from the spec the form was given.

use std::collections::HashMap;

use bollard::models::{
    ContainerConfig, ContainerCreateBody, ContainerInspectResponse, EndpointSettings, HealthConfig,
    ImageConfig, Mount, NetworkingConfig,
};

use super::flags;
use super::run::{hidden_line, RunSpec};

/// The new container's create body, and the networks to connect after the create (engines
/// before API 1.44 take one network at create).
pub(super) struct Carried {
    pub body: ContainerCreateBody,
    pub rest: Vec<(String, EndpointSettings)>,
    /// `--network host|none|container:…`: no networks of its own to connect.
    pub shares_namespace: bool,
}

/// Leaves to the image what the container has only because its image says so (its env lines,
/// command, labels …), so a new image's defaults apply. A command is the image's default only
/// while the entrypoint is too: the engine drops the image's command when an entrypoint is set.
pub(super) fn strip_image_defaults(config: &mut ContainerConfig, image: &ImageConfig) {
    if let (Some(env), Some(image_env)) = (&mut config.env, &image.env) {
        env.retain(|e| !image_env.contains(e));
    }
    let own_entrypoint = config.entrypoint.is_some() && config.entrypoint != image.entrypoint;
    if config.cmd.is_some() && config.cmd == image.cmd && !own_entrypoint {
        config.cmd = None;
    }
    if !own_entrypoint {
        config.entrypoint = None;
    }
    if let (Some(labels), Some(image_labels)) = (&mut config.labels, &image.labels) {
        labels.retain(|k, v| image_labels.get(k) != Some(v));
    }
    if config.working_dir.is_some() && config.working_dir == image.working_dir {
        config.working_dir = None;
    }
    if config.user.is_some() && config.user == image.user {
        config.user = None;
    }
    if let (Some(ports), Some(image_ports)) = (&mut config.exposed_ports, &image.exposed_ports) {
        ports.retain(|p| !image_ports.contains(p));
    }
    if let (Some(volumes), Some(image_volumes)) = (&mut config.volumes, &image.volumes) {
        volumes.retain(|v| !image_volumes.contains(v));
    }
    if config.healthcheck.is_some() && config.healthcheck == image.healthcheck {
        config.healthcheck = None;
    }
    if config.stop_signal.is_some() && config.stop_signal == image.stop_signal {
        config.stop_signal = None;
    }
}

/// The old container's configuration as a create body for `image`; `defaults` (the old
/// image's configuration) is left to the image when given. Its host config is the old one
/// whole; anonymous volumes are the caller's to carry.
pub(super) fn carried_over(
    old: &ContainerInspectResponse,
    image: &str,
    defaults: Option<&ImageConfig>,
) -> Carried {
    let old_id = old.id.clone().unwrap_or_default();
    let mut config = old.config.clone().unwrap_or_default();
    if let Some(defaults) = defaults {
        strip_image_defaults(&mut config, defaults);
    }
    if config
        .hostname
        .as_deref()
        .is_some_and(|h| old_id.starts_with(h))
    {
        config.hostname = None;
    }
    let host_config = old.host_config.clone().unwrap_or_default();
    let network_mode = host_config.network_mode.clone().unwrap_or_default();
    let short_id: String = old_id.chars().take(12).collect();
    let mut endpoints: Vec<(String, EndpointSettings)> = old
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(net, e)| {
            let aliases: Vec<String> = e
                .aliases
                .unwrap_or_default()
                .into_iter()
                .filter(|a| *a != short_id && !old_id.starts_with(a.as_str()))
                .collect();
            (
                net,
                EndpointSettings {
                    aliases: (!aliases.is_empty()).then_some(aliases),
                    ipam_config: e.ipam_config,
                    links: e.links,
                    driver_opts: e.driver_opts,
                    ..Default::default()
                },
            )
        })
        .collect();
    endpoints.sort_by(|a, b| {
        (a.0 != network_mode)
            .cmp(&(b.0 != network_mode))
            .then_with(|| a.0.cmp(&b.0))
    });
    let first = endpoints
        .first()
        .filter(|(n, _)| *n == network_mode || network_mode == "default")
        .cloned();
    let rest: Vec<(String, EndpointSettings)> = endpoints
        .into_iter()
        .filter(|(n, _)| Some(n) != first.as_ref().map(|f| &f.0))
        .collect();
    let shares_namespace = shares_namespace(&network_mode);
    let body = ContainerCreateBody {
        hostname: config.hostname,
        domainname: config.domainname,
        user: config.user,
        attach_stdin: config.attach_stdin,
        attach_stdout: config.attach_stdout,
        attach_stderr: config.attach_stderr,
        exposed_ports: config.exposed_ports,
        tty: config.tty,
        open_stdin: config.open_stdin,
        stdin_once: config.stdin_once,
        env: config.env,
        cmd: config.cmd,
        healthcheck: config.healthcheck,
        args_escaped: config.args_escaped,
        image: Some(image.to_string()),
        volumes: config.volumes,
        working_dir: config.working_dir,
        entrypoint: config.entrypoint,
        network_disabled: config.network_disabled,
        on_build: config.on_build,
        labels: config.labels,
        stop_signal: config.stop_signal,
        stop_timeout: config.stop_timeout,
        shell: config.shell,
        host_config: Some(host_config),
        networking_config: first
            .filter(|_| !shares_namespace)
            .map(|(n, e)| NetworkingConfig {
                endpoints_config: Some(HashMap::from([(n, e)])),
            }),
    };
    Carried {
        body,
        rest: if shares_namespace { Vec::new() } else { rest },
        shares_namespace,
    }
}

fn shares_namespace(network_mode: &str) -> bool {
    network_mode.starts_with("container:") || network_mode == "host" || network_mode == "none"
}

/// `spec`'s environment with every `KEY=********` line (a value its reader was not shown)
/// given the old container's value back, when the old container had that key.
pub(super) fn restore_hidden_env(spec: &mut RunSpec, shown: &RunSpec) {
    for line in &mut spec.env {
        if *line != hidden_line(line) {
            continue;
        }
        if let Some(old) = shown.env.iter().find(|l| hidden_line(l) == *line) {
            line.clone_from(old);
        }
    }
}

/// Applies an edit to what `carried` took over: each field of `spec` that differs from
/// `shown` (the spec made from the old container, as the form got it) is set from `planned`
/// (the create body `spec` makes on its own); every other setting stays as it was. A changed
/// volume list keeps the old entries still listed as they were (a mount keeps its options)
/// and adds the new ones; a changed network replaces the main network, keeping the others.
pub(super) fn apply_edit(
    carried: &mut Carried,
    shown: &RunSpec,
    spec: &RunSpec,
    planned: ContainerCreateBody,
    planned_networks: Vec<(String, EndpointSettings)>,
    old_ids: &[String],
) {
    let body = &mut carried.body;
    let planned_hc = planned.host_config.clone().unwrap_or_default();
    let hc = body.host_config.get_or_insert_with(Default::default);
    macro_rules! take {
        ($field:ident => $($to:ident).+ = $($from:ident).+) => {
            if spec.$field != shown.$field {
                $($to).+ = $($from).+.clone();
            }
        };
    }
    take!(cmd => body.cmd = planned.cmd);
    take!(entrypoint => body.entrypoint = planned.entrypoint);
    take!(env => body.env = planned.env);
    take!(labels => body.labels = planned.labels);
    take!(tty => body.tty = planned.tty);
    take!(workdir => body.working_dir = planned.working_dir);
    take!(user => body.user = planned.user);
    take!(hostname => body.hostname = planned.hostname);
    take!(volumes_from => hc.volumes_from = planned_hc.volumes_from);
    take!(restart => hc.restart_policy = planned_hc.restart_policy);
    take!(auto_remove => hc.auto_remove = planned_hc.auto_remove);
    take!(memory => hc.memory = planned_hc.memory);
    take!(cpus => hc.nano_cpus = planned_hc.nano_cpus);
    take!(privileged => hc.privileged = planned_hc.privileged);
    take!(cap_add => hc.cap_add = planned_hc.cap_add);
    take!(devices => hc.devices = planned_hc.devices);
    take!(pid => hc.pid_mode = planned_hc.pid_mode);
    take!(ipc => hc.ipc_mode = planned_hc.ipc_mode);
    take!(cap_drop => hc.cap_drop = planned_hc.cap_drop);
    take!(security_opt => hc.security_opt = planned_hc.security_opt);
    take!(gpus => hc.device_requests = planned_hc.device_requests);
    take!(volume_driver => hc.volume_driver = planned_hc.volume_driver);
    take!(tmpfs => hc.tmpfs = planned_hc.tmpfs);
    take!(dns => hc.dns = planned_hc.dns);
    take!(dns_search => hc.dns_search = planned_hc.dns_search);
    take!(dns_option => hc.dns_options = planned_hc.dns_options);
    take!(add_host => hc.extra_hosts = planned_hc.extra_hosts);
    take!(pids_limit => hc.pids_limit = planned_hc.pids_limit);
    take!(shm_size => hc.shm_size = planned_hc.shm_size);
    take!(ulimits => hc.ulimits = planned_hc.ulimits);
    take!(sysctls => hc.sysctls = planned_hc.sysctls);
    take!(init => hc.init = planned_hc.init);
    take!(read_only => hc.readonly_rootfs = planned_hc.readonly_rootfs);
    take!(stop_signal => body.stop_signal = planned.stop_signal);
    take!(stop_timeout => body.stop_timeout = planned.stop_timeout);
    if spec.log_driver != shown.log_driver || spec.log_opts != shown.log_opts {
        hc.log_config.clone_from(&planned_hc.log_config);
    }
    if spec.stdin != shown.stdin {
        body.open_stdin = planned.open_stdin;
        if !spec.stdin {
            body.attach_stdin = Some(false);
            body.stdin_once = Some(false);
        }
    }
    if spec.ports != shown.ports {
        body.exposed_ports = planned.exposed_ports.clone();
        hc.port_bindings = planned_hc.port_bindings.clone();
    }
    edit_health(body, shown, spec, planned.healthcheck.as_ref());
    if spec.volumes != shown.volumes {
        edit_volumes(body, &spec.volumes, &planned);
    }
    if spec.mounts != shown.mounts {
        edit_mounts(body, &spec.mounts, &planned);
    }
    if spec.networks != shown.networks {
        let ids: Vec<&str> = old_ids.iter().map(String::as_str).collect();
        carried.rest = planned_networks
            .into_iter()
            .map(|(name, endpoint)| {
                let line = flags::format_network_line(&name, &endpoint, &ids);
                carried
                    .rest
                    .iter()
                    .find(|(n, e)| flags::format_network_line(n, e, &ids) == line)
                    .cloned()
                    .unwrap_or((name, endpoint))
            })
            .collect();
    }
    if spec.network == shown.network
        && (spec.network_alias != shown.network_alias
            || spec.ip != shown.ip
            || spec.ip6 != shown.ip6)
    {
        // The main network stays; its aliases and addresses are the spec's.
        let planned_endpoint = planned
            .networking_config
            .as_ref()
            .and_then(|n| n.endpoints_config.as_ref())
            .and_then(|e| e.values().next().cloned())
            .unwrap_or_default();
        let main = body
            .host_config
            .as_ref()
            .and_then(|h| h.network_mode.clone())
            .unwrap_or_default();
        let endpoints = body
            .networking_config
            .get_or_insert_with(Default::default)
            .endpoints_config
            .get_or_insert_with(HashMap::new);
        let key = endpoints.keys().next().cloned().unwrap_or(main);
        let e = endpoints.entry(key).or_default();
        e.aliases = planned_endpoint.aliases;
        e.ipam_config = planned_endpoint.ipam_config;
    }
    if spec.network != shown.network {
        let hc = body.host_config.get_or_insert_with(Default::default);
        let old_mode = hc.network_mode.clone().unwrap_or_default();
        hc.network_mode = planned_hc.network_mode.clone();
        let new_mode = hc.network_mode.clone().unwrap_or_default();
        carried.shares_namespace = shares_namespace(&new_mode);
        body.networking_config = planned.networking_config;
        let main =
            |n: &str| n == old_mode || n == new_mode || (new_mode.is_empty() && n == "bridge");
        carried.rest.retain(|(n, _)| !main(n));
        if carried.shares_namespace {
            carried.rest.clear();
        }
    }
}

/// A changed volume list: old binds and anonymous volumes still listed (as
/// [`super::containers`] writes them for the form) stay as they were; entries new to the list
/// are added as `planned` has them.
fn edit_volumes(body: &mut ContainerCreateBody, listed: &[String], planned: &ContainerCreateBody) {
    let hc = body.host_config.get_or_insert_with(Default::default);
    let mut kept_targets: Vec<String> = Vec::new();
    if let Some(binds) = &mut hc.binds {
        binds.retain(|b| listed.contains(b));
        kept_targets.extend(
            binds
                .iter()
                .filter_map(|b| b.split(':').nth(1).map(str::to_string)),
        );
    }
    kept_targets.extend(hc.mounts.iter().flatten().filter_map(|m| m.target.clone()));
    if let Some(volumes) = &mut body.volumes {
        volumes.retain(|v| listed.contains(v));
        kept_targets.extend(volumes.iter().cloned());
    }
    let planned_hc = planned.host_config.clone().unwrap_or_default();
    let new_binds: Vec<String> = planned_hc
        .binds
        .unwrap_or_default()
        .into_iter()
        .filter(|b| {
            b.split(':')
                .nth(1)
                .is_none_or(|t| !kept_targets.iter().any(|k| k == t))
        })
        .collect();
    let binds = hc.binds.get_or_insert_with(Vec::new);
    binds.extend(new_binds);
    if binds.is_empty() {
        hc.binds = None;
    }
    let new_anonymous: Vec<String> = planned
        .volumes
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|v| !kept_targets.contains(v))
        .collect();
    let volumes = body.volumes.get_or_insert_with(Vec::new);
    volumes.extend(new_anonymous);
    if volumes.is_empty() {
        body.volumes = None;
    }
}

/// A changed `--mount` list: old mounts whose line is still listed stay exactly as they were
/// (with options the line cannot say); lines new to the list are added as `planned` has them.
fn edit_mounts(body: &mut ContainerCreateBody, listed: &[String], planned: &ContainerCreateBody) {
    let hc = body.host_config.get_or_insert_with(Default::default);
    let mut mounts: Vec<Mount> = hc
        .mounts
        .take()
        .unwrap_or_default()
        .into_iter()
        .filter(|m| flags::format_mount(m).is_some_and(|line| listed.contains(&line)))
        .collect();
    let kept: Vec<String> = mounts.iter().filter_map(flags::format_mount).collect();
    for m in planned
        .host_config
        .as_ref()
        .and_then(|h| h.mounts.clone())
        .unwrap_or_default()
    {
        if !flags::format_mount(&m).is_some_and(|line| kept.contains(&line)) {
            mounts.push(m);
        }
    }
    hc.mounts = (!mounts.is_empty()).then_some(mounts);
}

/// The `--health-*` fields that changed, each set on the old healthcheck; the rest of it stays.
fn edit_health(
    body: &mut ContainerCreateBody,
    shown: &RunSpec,
    spec: &RunSpec,
    planned: Option<&HealthConfig>,
) {
    let test_changed =
        spec.health_cmd != shown.health_cmd || spec.no_healthcheck != shown.no_healthcheck;
    let changed = test_changed
        || spec.health_interval != shown.health_interval
        || spec.health_timeout != shown.health_timeout
        || spec.health_start_period != shown.health_start_period
        || spec.health_retries != shown.health_retries;
    if !changed {
        return;
    }
    let planned = planned.cloned().unwrap_or_default();
    if spec.no_healthcheck {
        body.healthcheck = Some(planned);
        return;
    }
    let h = body.healthcheck.get_or_insert_with(Default::default);
    if test_changed {
        h.test = planned.test;
        if shown.no_healthcheck {
            *h = HealthConfig {
                test: h.test.take(),
                ..Default::default()
            };
        }
    }
    if spec.health_interval != shown.health_interval {
        h.interval = planned.interval;
    }
    if spec.health_timeout != shown.health_timeout {
        h.timeout = planned.timeout;
    }
    if spec.health_start_period != shown.health_start_period {
        h.start_period = planned.start_period;
    }
    if spec.health_retries != shown.health_retries {
        h.retries = planned.retries;
    }
    if *h == HealthConfig::default() {
        body.healthcheck = None;
    }
}
