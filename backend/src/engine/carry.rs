//! What a recreate or an edit carries over from the old container: its whole configuration as
//! the engine reports it (inspect), not the run form's subset, so a container made with flags
//! Capstan's form does not know (cap-drop, healthcheck, DNS, extra hosts, mount options, log
//! settings, ulimits, extra networks …) comes back with every one of them. An edit changes only
//! the fields of its [`RunSpec`] that differ from the spec the form was given.

use std::collections::HashMap;

use bollard::models::{
    ContainerConfig, ContainerCreateBody, ContainerInspectResponse, EndpointSettings, ImageConfig,
    NetworkingConfig,
};

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
    if spec.volumes != shown.volumes {
        edit_volumes(body, &spec.volumes, &planned);
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

/// A changed volume list: old binds, mounts and anonymous volumes still listed (as
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
    if let Some(mounts) = &mut hc.mounts {
        mounts.retain(|m| {
            let (Some(target), Some(kind)) = (&m.target, m.typ) else {
                return true;
            };
            let ro = if m.read_only == Some(true) { ":ro" } else { "" };
            let text = match (
                kind.to_string().as_str(),
                m.source.as_deref().filter(|s| !s.is_empty()),
            ) {
                ("bind" | "volume", Some(source)) => format!("{source}:{target}{ro}"),
                ("volume", None) => target.clone(),
                // tmpfs and the like are not in the list: the form never had them.
                _ => return true,
            };
            listed.contains(&text)
        });
        kept_targets.extend(mounts.iter().filter_map(|m| m.target.clone()));
    }
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
