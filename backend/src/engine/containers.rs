//! Containers on one engine: the list (one `/containers/json` call), inspect, every lifecycle
//! action, run (create + pull when missing + start) and recreate, in Capstan's own types.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::models::{
    ContainerCreateBody, ContainerInspectResponse, EndpointSettings, HostConfig, ImageConfig,
    NetworkConnectRequest,
};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, CreateImageOptionsBuilder, KillContainerOptionsBuilder,
    RemoveContainerOptionsBuilder, RenameContainerOptionsBuilder, RestartContainerOptionsBuilder,
    StopContainerOptionsBuilder,
};
use bytes::Bytes;
use futures::StreamExt;

use super::carry::{self, strip_image_defaults, Carried};
use super::container_list::{self, ContainerSummary, ListQuery, PortMapping};
use super::flags;
use super::run::{self, hidden_line, validate_name, RunPlan, RunSpec};
use super::{classify, Engine};
use crate::error::{Error, Result};

/// One variable of a container's environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub key: String,
    pub value: String,
    /// The key looks like it holds a secret (PASSWORD, SECRET, TOKEN, KEY): show it masked.
    pub secret: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MountInfo {
    /// `bind`, `volume`, `tmpfs`, …
    pub kind: String,
    /// The volume's name, for volumes.
    pub name: Option<String>,
    pub source: String,
    pub destination: String,
    pub mode: String,
    pub rw: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    pub name: String,
    pub ip_address: Option<String>,
    pub ipv6_address: Option<String>,
    pub gateway: Option<String>,
    pub mac_address: Option<String>,
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthInfo {
    /// `starting`, `healthy` or `unhealthy`.
    pub status: String,
    pub failing_streak: i64,
    /// The last checks, oldest first.
    pub log: Vec<HealthCheck>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub start: String,
    pub end: String,
    pub exit_code: i64,
    pub output: String,
}

impl ContainerDetail {
    /// Leaves out the values of the environment, here and in the raw inspect answer, for a
    /// reader who may see only the names (`GuardrailStore::env_shown`).
    pub fn hide_env(&mut self) {
        for v in &mut self.env {
            v.value.clear();
        }
        self.env_hidden = true;
        if let Some(lines) = self
            .raw
            .pointer_mut("/Config/Env")
            .and_then(|e| e.as_array_mut())
        {
            for item in lines.iter_mut() {
                *item = serde_json::Value::String(hidden_line(item.as_str().unwrap_or_default()));
            }
        }
    }
}

/// Everything the detail page shows about one container. Not a wire type: the API and the pages
/// send `app::model::containers::ContainerDetail`, converted from this with the host added.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerDetail {
    pub id: String,
    pub name: String,
    /// The image as the container was created from it (`nginx:1.27`).
    pub image: String,
    pub image_id: String,
    pub state: String,
    pub running: bool,
    pub paused: bool,
    pub restarting: bool,
    pub oom_killed: bool,
    pub pid: i64,
    pub exit_code: i64,
    /// The engine's last error starting the container, if any.
    pub error: Option<String>,
    pub health: Option<HealthInfo>,
    pub cmd: Vec<String>,
    pub entrypoint: Vec<String>,
    /// RFC 3339 timestamps as the engine gives them.
    pub created: String,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    pub restart_count: i64,
    /// `no`, `always`, `unless-stopped`, `on-failure` or `on-failure:N`.
    pub restart_policy: String,
    pub ports: Vec<PortMapping>,
    pub mounts: Vec<MountInfo>,
    pub env: Vec<EnvVar>,
    /// The values of `env` were left out for this reader (`hide_env`): only the names show.
    pub env_hidden: bool,
    pub labels: BTreeMap<String, String>,
    pub network_mode: String,
    pub networks: Vec<NetworkInfo>,
    /// Bytes; 0 when unlimited.
    pub memory: i64,
    /// Billionths of a CPU; 0 when unlimited.
    pub nano_cpus: i64,
    pub tty: bool,
    pub stdin: bool,
    pub workdir: String,
    pub user: String,
    pub hostname: String,
    pub auto_remove: bool,
    /// The engine's inspect answer, for the folded-away raw view.
    pub raw: serde_json::Value,
}

pub use wire::containers::{CarryOver, Created};

/// A key whose value should be masked until revealed.
pub fn is_secret_key(key: &str) -> bool {
    let upper = key.to_ascii_uppercase();
    ["PASSWORD", "SECRET", "TOKEN", "KEY"]
        .iter()
        .any(|w| upper.contains(w))
}

/// Ids and names go into the engine's URL paths: anything else is refused before it gets there.
fn check_ref(id: &str) -> Result<()> {
    if crate::names::is_object_name(id, 1..=128) {
        Ok(())
    } else {
        Err(Error::NotFound("container".into()))
    }
}

/// What was being done when the engine refused, to tell a missing container from a missing
/// `volumes_from` source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Doing {
    Action,
    Create,
}

/// Turns the engine messages we recognise into words a person can act on; anything else stays
/// `Error::Engine`, whose public text is generic (the engine's own text is only logged).
fn words(err: Error, doing: Doing) -> Error {
    let Error::Engine { status, message } = &err else {
        return err;
    };
    let m = message.to_ascii_lowercase();
    let has = |s: &str| m.contains(s);
    if has("no such container") {
        return if doing == Doing::Create {
            Error::invalid(
                "volumes_from",
                "names a container that does not exist on this host",
            )
        } else {
            Error::NotFound("container".into())
        };
    }
    if has("no such image")
        || has("pull access denied")
        || has("manifest unknown")
        || has("repository does not exist")
    {
        return Error::NotFound("image".into());
    }
    if has("is already in use by container") || has("the container name") && has("already in use") {
        return Error::Conflict(
            "name: another container on this host already has that name".into(),
        );
    }
    if has("port is already allocated") || has("address already in use") {
        return Error::Conflict("ports: a host port is already in use on this host".into());
    }
    if has("cannot remove a running container") || has("stop the container before") {
        return Error::Conflict(
            "the container is running: stop it first, or remove it with force".into(),
        );
    }
    if has("removal of container") && has("already in progress") {
        return Error::Conflict("the container is already being removed".into());
    }
    if has("is paused") && (has("unpause") || has("cannot")) {
        return Error::Conflict("the container is paused: unpause it first".into());
    }
    if has("is restarting") {
        return Error::Conflict("the container is restarting: wait, or stop it".into());
    }
    if has("is not running") {
        return Error::Conflict("the container is not running".into());
    }
    if has("unknown operating system or architecture") || has("invalid platform") {
        return Error::invalid("platform", "the engine does not know that platform");
    }
    if has("ulimit") {
        return Error::invalid("ulimits", "the engine does not know that limit");
    }
    if has("does not match the specified platform") {
        return Error::NotFound("image of that platform".into());
    }
    if has("could not select device driver") {
        return Error::invalid(
            "gpus",
            "this host has no device driver for the request (for GPUs, the NVIDIA container toolkit)",
        );
    }
    if has("user specified ip address")
        || has("invalid ipv4 address")
        || has("invalid ipv6 address")
    {
        return Error::invalid(
            "ip",
            "a fixed address needs a network of your own created with a subnet that holds it",
        );
    }
    if has("sysctl") {
        return Error::invalid(
            "sysctls",
            "the engine refused a kernel parameter: only namespaced ones (net.*, kernel.shm*, \
             kernel.msg*, fs.mqueue.*) can be set per container",
        );
    }
    if has("log opt") {
        return Error::invalid(
            "log_opts",
            "the log driver does not know one of these options",
        );
    }
    if has("log driver") || has("logging driver") || has("logger:") {
        return Error::invalid(
            "log_driver",
            "the engine has no such log driver, or refused its options",
        );
    }
    if has("security-opt") || has("seccomp") || has("apparmor") {
        return Error::invalid("security_opt", "the engine refused a security option");
    }
    if has("tmpfs") && !has("mount config") {
        return Error::invalid("tmpfs", "the engine refused a tmpfs mount or its options");
    }
    if has("plugin") && has("not found") {
        return Error::invalid(
            "volume_driver",
            "this host has no volume driver by that name",
        );
    }
    if has("network") && has("not found") {
        return Error::invalid("network", "no network with that name on this host");
    }
    if has("executable file not found")
        || has("exec format error")
        || (has("exec:") && has("no such file or directory"))
    {
        return Error::invalid(
            "cmd",
            "the command could not be started: no such executable in the container",
        );
    }
    if has("range of cpus") {
        return Error::invalid("cpus", "more CPUs than this host has");
    }
    if has("minimum memory limit") {
        return Error::invalid("memory", "below the engine's minimum of 6m");
    }
    if has("invalid reference format") {
        return Error::invalid("image", "not a valid image reference");
    }
    if has("invalid signal") {
        let field = if doing == Doing::Create {
            "stop_signal"
        } else {
            "signal"
        };
        return Error::invalid(field, "not a signal name or number the engine knows");
    }
    if has("same name as its current name") {
        return Error::invalid("name", "the container already has that name");
    }
    if has("bind source path does not exist") {
        return Error::invalid(
            "volumes",
            "a host path to bind does not exist on the engine's host",
        );
    }
    if has("invalid mount config") || has("invalid volume specification") || has("invalid mode") {
        return Error::invalid(
            "volumes",
            "the engine refused a volume; check names, paths and modes",
        );
    }
    if has("conflicting options") {
        return Error::invalid("network", "the engine refused this combination of options");
    }
    if *status == 404 && doing == Doing::Action {
        return Error::NotFound("container".into());
    }
    err
}

fn signal_ok(signal: &str) -> bool {
    !signal.is_empty()
        && signal.len() <= 16
        && signal
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '+' || c == '-')
}

fn timeout_secs(t: Option<i64>) -> Result<Option<i32>> {
    match t {
        None => Ok(None),
        Some(t) if (-1..=3600).contains(&t) => Ok(i32::try_from(t).ok()),
        Some(_) => Err(Error::invalid(
            "t",
            "seconds to wait, from 0 to 3600 (-1 waits forever)",
        )),
    }
}

fn restart_text(hc: Option<&HostConfig>) -> String {
    let Some(policy) = hc.and_then(|h| h.restart_policy.as_ref()) else {
        return "no".into();
    };
    let name = policy
        .name
        .map(|n| n.to_string())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "no".into());
    match policy.maximum_retry_count {
        Some(n) if n > 0 && name == "on-failure" => format!("on-failure:{n}"),
        _ => name,
    }
}

fn to_detail(c: ContainerInspectResponse) -> Result<ContainerDetail> {
    let raw =
        serde_json::to_value(&c).map_err(|e| Error::Internal(format!("inspect to JSON: {e}")))?;
    let state = c.state.unwrap_or_default();
    let config = c.config.unwrap_or_default();
    let hc = c.host_config.as_ref();
    let network_settings = c.network_settings.unwrap_or_default();
    let mut ports = Vec::new();
    for (key, bindings) in network_settings.ports.clone().unwrap_or_default() {
        let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        let Ok(private) = port.parse::<u16>() else {
            continue;
        };
        match bindings.filter(|b| !b.is_empty()) {
            None => ports.push(PortMapping {
                ip: None,
                private,
                public: None,
                proto: proto.into(),
            }),
            Some(bs) => ports.extend(bs.into_iter().map(|b| PortMapping {
                ip: b.host_ip.filter(|ip| !ip.is_empty()),
                private,
                public: b.host_port.and_then(|p| p.parse().ok()),
                proto: proto.into(),
            })),
        }
    }
    ports.sort();
    let mounts = c
        .mounts
        .unwrap_or_default()
        .into_iter()
        .map(|m| MountInfo {
            kind: m.typ.unwrap_or_default(),
            name: m.name.filter(|n| !n.is_empty()),
            source: m.source.unwrap_or_default(),
            destination: m.destination.unwrap_or_default(),
            mode: m.mode.unwrap_or_default(),
            rw: m.rw.unwrap_or(true),
        })
        .collect();
    let env = config
        .env
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|line| {
            let (key, value) = line
                .split_once('=')
                .map_or((line.clone(), String::new()), |(k, v)| (k.into(), v.into()));
            EnvVar {
                secret: is_secret_key(&key),
                key,
                value,
            }
        })
        .collect();
    let mut networks: Vec<NetworkInfo> = network_settings
        .networks
        .unwrap_or_default()
        .into_iter()
        .map(|(name, e)| NetworkInfo {
            name,
            ip_address: e.ip_address.filter(|s| !s.is_empty()),
            ipv6_address: e.global_ipv6_address.filter(|s| !s.is_empty()),
            gateway: e.gateway.filter(|s| !s.is_empty()),
            mac_address: e.mac_address.filter(|s| !s.is_empty()),
            aliases: e.aliases.unwrap_or_default(),
        })
        .collect();
    networks.sort_by(|a, b| a.name.cmp(&b.name));
    let health = state.health.map(|h| HealthInfo {
        status: h.status.map(|s| s.to_string()).unwrap_or_default(),
        failing_streak: h.failing_streak.unwrap_or(0),
        log: h
            .log
            .unwrap_or_default()
            .into_iter()
            .map(|l| HealthCheck {
                start: l.start.unwrap_or_default(),
                end: l.end.unwrap_or_default(),
                exit_code: l.exit_code.unwrap_or(0),
                output: l.output.unwrap_or_default(),
            })
            .collect(),
    });
    let health = health.filter(|h| !h.status.is_empty() && h.status != "none");
    let zero_time = |t: Option<String>| t.filter(|t| !t.is_empty() && !t.starts_with("0001-01-01"));
    Ok(ContainerDetail {
        id: c.id.unwrap_or_default(),
        name: c
            .name
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string(),
        image: config.image.clone().unwrap_or_default(),
        image_id: c.image.unwrap_or_default(),
        state: state.status.map(|s| s.to_string()).unwrap_or_default(),
        running: state.running.unwrap_or(false),
        paused: state.paused.unwrap_or(false),
        restarting: state.restarting.unwrap_or(false),
        oom_killed: state.oom_killed.unwrap_or(false),
        pid: state.pid.unwrap_or(0),
        exit_code: state.exit_code.unwrap_or(0),
        error: state.error.filter(|e| !e.is_empty()),
        health,
        cmd: config.cmd.clone().unwrap_or_default(),
        entrypoint: config.entrypoint.clone().unwrap_or_default(),
        created: c.created.unwrap_or_default(),
        started_at: zero_time(state.started_at),
        finished_at: zero_time(state.finished_at),
        restart_count: c.restart_count.unwrap_or(0),
        restart_policy: restart_text(hc),
        ports,
        mounts,
        env,
        env_hidden: false,
        labels: config
            .labels
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect(),
        network_mode: hc.and_then(|h| h.network_mode.clone()).unwrap_or_default(),
        networks,
        memory: hc.and_then(|h| h.memory).unwrap_or(0),
        nano_cpus: hc.and_then(|h| h.nano_cpus).unwrap_or(0),
        tty: config.tty.unwrap_or(false),
        stdin: config.open_stdin.unwrap_or(false),
        workdir: config.working_dir.clone().unwrap_or_default(),
        user: config.user.clone().unwrap_or_default(),
        hostname: config.hostname.clone().unwrap_or_default(),
        auto_remove: hc.and_then(|h| h.auto_remove).unwrap_or(false),
        raw,
    })
}

/// `name[:tag]` → (`name`, `tag`) for a pull; a reference without tag or digest means `latest`.
fn pull_parts(reference: &str) -> (String, Option<String>) {
    if reference.contains('@') {
        return (reference.to_string(), None);
    }
    let last_slash = reference.rfind('/').map_or(0, |i| i + 1);
    match reference[last_slash..].rfind(':') {
        Some(i) => (
            reference[..last_slash + i].to_string(),
            Some(reference[last_slash + i + 1..].to_string()),
        ),
        None => (reference.to_string(), Some("latest".into())),
    }
}

/// `/containers/json` with the engine-side filters of `query` (state and label).
fn list_path(query: &ListQuery) -> Result<String> {
    let mut filters: HashMap<String, Vec<String>> = HashMap::new();
    if let Some(state) = query.state {
        filters.insert("status".into(), vec![state.as_str().into()]);
    }
    if let Some(label) = &query.label {
        filters.insert("label".into(), vec![label.clone()]);
    }
    for (key, value) in &query.filters {
        filters
            .entry((*key).to_string())
            .or_default()
            .push(value.clone());
    }
    let mut path = form_urlencoded::Serializer::new(String::from("/containers/json?"));
    if query.all {
        path.append_pair("all", "1");
    }
    if let Some(n) = query.limit {
        path.append_pair("limit", &n.to_string());
    }
    if !filters.is_empty() {
        let json = serde_json::to_string(&filters).map_err(|e| Error::Internal(e.to_string()))?;
        path.append_pair("filters", &json);
    }
    Ok(path.finish())
}

/// Answers up to this size are parsed where they arrive; larger ones on a blocking thread.
const PARSE_INLINE_MAX: usize = 64 * 1024;

/// Runs `read` (reading `len` bytes of an engine's answer) where it is when the answer is
/// short, on a blocking thread when it is long: a thousand containers are most of a megabyte
/// of JSON, milliseconds of CPU that should not hold a runtime worker.
pub(crate) async fn read_sized<T: Send + 'static>(
    len: usize,
    read: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<T> {
    if len > PARSE_INLINE_MAX {
        tokio::task::spawn_blocking(read)
            .await
            .map_err(|e| Error::Internal(format!("reading an engine answer: {e}")))?
    } else {
        read()
    }
}
/// How long a pull may go without a word from the engine before it is given up.
const PULL_STALL: Duration = Duration::from_secs(120);

impl Engine {
    /// The engine's `/containers/json` answer for `query` (its engine-side filters), unread.
    pub(crate) async fn list_answer(&self, query: &ListQuery) -> Result<Bytes> {
        self.get_bytes(&list_path(query)?).await
    }

    /// `docker ps [-a]` with the engine-side filters of `query`, then its text filter and order.
    pub async fn list_containers(&self, query: &ListQuery) -> Result<Vec<ContainerSummary>> {
        let body = self.list_answer(query).await?;
        let query = query.clone();
        read_sized(body.len(), move || container_list::summaries(&body, &query)).await
    }

    /// The same list as [`Engine::list_containers`], as the REST API's JSON array for the host
    /// `host`, written straight from the engine's answer (no owned summaries in between).
    pub async fn list_containers_json(&self, query: &ListQuery, host: &str) -> Result<Vec<u8>> {
        let body = self.list_answer(query).await?;
        let (query, host) = (query.clone(), host.to_owned());
        read_sized(body.len(), move || {
            container_list::json_for_host(&body, &host, &query)
        })
        .await
    }

    pub(crate) async fn inspect_raw(&self, id: &str) -> Result<ContainerInspectResponse> {
        check_ref(id)?;
        let id = id.to_string();
        self.call(|d| async move { d.inspect_container(&id, None).await })
            .await
            .map_err(|e| words(e, Doing::Action))
    }

    /// `docker inspect` of one container, by id or name.
    pub async fn inspect_container(&self, id: &str) -> Result<ContainerDetail> {
        let raw = self.inspect_raw(id).await?;
        tokio::task::spawn_blocking(move || to_detail(raw))
            .await
            .map_err(|e| Error::Internal(format!("inspect conversion: {e}")))?
    }

    /// Starts a container; starting a running one is not an error.
    pub async fn start_container(&self, id: &str) -> Result<()> {
        check_ref(id)?;
        let id = id.to_string();
        self.call(|d| async move { d.start_container(&id, None).await })
            .await
            .map_err(|e| words(e, Doing::Action))
    }

    /// Stops a container, waiting `t` seconds before killing it (the container's own default
    /// when `None`); stopping a stopped one is not an error.
    pub async fn stop_container(&self, id: &str, t: Option<i64>) -> Result<()> {
        check_ref(id)?;
        let t = timeout_secs(t)?;
        let id = id.to_string();
        let mut options = StopContainerOptionsBuilder::default();
        if let Some(t) = t {
            options = options.t(t);
        }
        let options = options.build();
        self.call_long(
            t,
            |d| async move { d.stop_container(&id, Some(options)).await },
        )
        .await
        .map_err(|e| words(e, Doing::Action))
    }

    pub async fn restart_container(&self, id: &str, t: Option<i64>) -> Result<()> {
        check_ref(id)?;
        let t = timeout_secs(t)?;
        let id = id.to_string();
        let mut options = RestartContainerOptionsBuilder::default();
        if let Some(t) = t {
            options = options.t(t);
        }
        let options = options.build();
        self.call_long(t, |d| async move {
            d.restart_container(&id, Some(options)).await
        })
        .await
        .map_err(|e| words(e, Doing::Action))
    }

    /// Sends a signal (`SIGKILL` when `None`).
    pub async fn kill_container(&self, id: &str, signal: Option<&str>) -> Result<()> {
        check_ref(id)?;
        let signal = signal
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .unwrap_or("SIGKILL");
        if !signal_ok(signal) {
            return Err(Error::invalid(
                "signal",
                "use a signal name like SIGTERM or HUP, or a number",
            ));
        }
        let options = KillContainerOptionsBuilder::default()
            .signal(signal)
            .build();
        let id = id.to_string();
        self.call(|d| async move { d.kill_container(&id, Some(options)).await })
            .await
            .map_err(|e| words(e, Doing::Action))
    }

    /// Pauses a container; pausing a paused one is not an error.
    pub async fn pause_container(&self, id: &str) -> Result<()> {
        check_ref(id)?;
        let id = id.to_string();
        match self
            .call(|d| async move { d.pause_container(&id).await })
            .await
        {
            Err(Error::Engine { message, .. }) if message.contains("already paused") => Ok(()),
            other => other.map_err(|e| words(e, Doing::Action)),
        }
    }

    /// Unpauses a container; unpausing one that is not paused is not an error.
    pub async fn unpause_container(&self, id: &str) -> Result<()> {
        check_ref(id)?;
        let id = id.to_string();
        match self
            .call(|d| async move { d.unpause_container(&id).await })
            .await
        {
            Err(Error::Engine { message, .. }) if message.contains("is not paused") => Ok(()),
            other => other.map_err(|e| words(e, Doing::Action)),
        }
    }

    pub async fn rename_container(&self, id: &str, name: &str) -> Result<()> {
        check_ref(id)?;
        let name = name.trim().trim_start_matches('/');
        validate_name("name", name)?;
        let options = RenameContainerOptionsBuilder::default().name(name).build();
        let id = id.to_string();
        self.call(|d| async move { d.rename_container(&id, options).await })
            .await
            .map_err(|e| words(e, Doing::Action))
    }

    /// Removes a container; `force` stops it first, `volumes` removes its anonymous volumes.
    pub async fn remove_container(&self, id: &str, force: bool, volumes: bool) -> Result<()> {
        check_ref(id)?;
        let options = RemoveContainerOptionsBuilder::default()
            .force(force)
            .v(volumes)
            .build();
        let id = id.to_string();
        self.call_long(Some(10), |d| async move {
            d.remove_container(&id, Some(options)).await
        })
        .await
        .map_err(|e| words(e, Doing::Action))
    }

    /// Runs a call that may legitimately take `wait` seconds longer than an ordinary one (a stop
    /// waits for the process to exit before killing it).
    async fn call_long<T, F, Fut>(&self, wait: Option<i32>, f: F) -> Result<T>
    where
        F: FnOnce(bollard::Docker) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, bollard::errors::Error>>,
    {
        // -1 waits for ever; the engine's default grace period is 10 s.
        let extra = match wait {
            Some(s) if s >= 0 => Duration::from_secs(u64::try_from(s).unwrap_or(0) + 5),
            Some(_) => Duration::from_secs(24 * 3600),
            None => Duration::from_secs(15),
        };
        let limit = self.inner.timeouts.call + extra;
        // The client's own backstop is twice the ordinary deadline: lift it for this call.
        let docker = self
            .docker()
            .await?
            .with_timeout(limit + Duration::from_secs(1));
        tokio::time::timeout(limit, f(docker))
            .await
            .map_err(|_| Error::EngineTimeout)?
            .map_err(classify::call)
    }

    /// Whether the engine has the image locally.
    async fn has_image(&self, reference: &str) -> Result<bool> {
        let reference = reference.to_string();
        match self
            .call(|d| async move { d.inspect_image(&reference).await })
            .await
        {
            Ok(_) => Ok(true),
            Err(Error::Engine { status: 404, .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    async fn image_config(&self, reference: &str) -> Result<Option<ImageConfig>> {
        let reference = reference.to_string();
        match self
            .call(|d| async move { d.inspect_image(&reference).await })
            .await
        {
            Ok(i) => Ok(i.config),
            Err(Error::Engine { status: 404, .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Pulls an image from its registry, reading the engine's progress as it comes and keeping
    /// none of it but the outcome. Not found → 404 on `image`; any other failure → 422 on `image`.
    pub async fn pull_image(&self, reference: &str) -> Result<()> {
        self.pull_image_for(reference, None).await
    }

    /// [`Self::pull_image`] of one platform (`linux/arm64`), as `docker run --platform` pulls.
    async fn pull_image_for(&self, reference: &str, platform: Option<&str>) -> Result<()> {
        super::run::validate_image(reference)?;
        let (name, tag) = pull_parts(reference);
        let mut options = CreateImageOptionsBuilder::default().from_image(&name);
        if let Some(tag) = &tag {
            options = options.tag(tag);
        }
        if let Some(p) = platform {
            options = options.platform(p);
        }
        let options = options.build();
        // A pull may take long; only a pull that stalls is given up (see `PULL_STALL`).
        let docker = self
            .docker()
            .await?
            .with_timeout(Duration::from_secs(24 * 3600));
        let mut stream = docker.create_image(Some(options), None, None);
        loop {
            let next = tokio::time::timeout(PULL_STALL, stream.next())
                .await
                .map_err(|_| Error::EngineTimeout)?;
            match next {
                None => return Ok(()),
                Some(Ok(_progress)) => {}
                Some(Err(bollard::errors::Error::DockerStreamError { error })) => {
                    return Err(pull_failure(reference, &error))
                }
                Some(Err(bollard::errors::Error::DockerResponseServerError {
                    status_code,
                    message,
                })) => {
                    return Err(if (400..=500).contains(&status_code) {
                        pull_failure(reference, &message)
                    } else {
                        classify::call(bollard::errors::Error::DockerResponseServerError {
                            status_code,
                            message,
                        })
                    })
                }
                Some(Err(e)) => return Err(classify::call(e)),
            }
        }
    }

    /// Creates (pulling the image when the engine lacks it) and, when asked, starts a container.
    /// A container whose start fails is removed again, so a failed run leaves nothing behind.
    pub async fn run_container(&self, spec: &RunSpec) -> Result<Created> {
        self.run_container_within(spec, None).await
    }

    /// [`Self::run_container`] for a person bound by `limits` (the host's guardrails; `None`
    /// for admins): refused with the guardrail's name before anything is pulled or created.
    /// Named volumes it mounts that do not exist are created (plain) by the check, and removed
    /// again when the run fails.
    pub async fn run_container_within(
        &self,
        spec: &RunSpec,
        limits: Option<&crate::guardrails::Guardrails>,
    ) -> Result<Created> {
        let mut plan = run::plan(spec)?;
        let made = match limits {
            Some(g) => {
                self.vet_host_config(g, plan.body.host_config.as_mut(), true)
                    .await?
            }
            None => Vec::new(),
        };
        let result = async {
            if !self.has_image(&plan.image).await? {
                self.pull_image_for(&plan.image, plan.platform.as_deref())
                    .await?;
            }
            self.create_and_start(plan).await
        }
        .await;
        if result.is_err() {
            self.remove_volumes_made(&made).await;
        }
        result
    }

    /// [`Self::recreate_container`] for a person bound by `limits`: the old container's
    /// configuration, which the new one would repeat, must pass the guardrails as it is.
    pub async fn recreate_container_within(
        &self,
        id: &str,
        limits: Option<&crate::guardrails::Guardrails>,
    ) -> Result<Created> {
        if let Some(g) = limits {
            let old = self.inspect_raw(id).await?;
            let mut hc = old.host_config.unwrap_or_default();
            self.vet_host_config(g, Some(&mut hc), false).await?;
        }
        self.recreate_container(id).await
    }

    async fn create_and_start(&self, plan: RunPlan) -> Result<Created> {
        let RunPlan {
            image,
            name,
            body,
            platform,
            networks,
            start,
            warnings,
        } = plan;
        // Kept for a second try only when a platform was asked: the image may be here, but
        // of another platform, and is then pulled for the one asked, once.
        let retry_body = platform.is_some().then(|| body.clone());
        let first = self
            .create_raw(name.as_deref(), body, platform.as_deref())
            .await;
        let mut created = match (first, retry_body) {
            (Err(Error::NotFound(what)), Some(body)) if what.starts_with("image") => {
                self.pull_image_for(&image, platform.as_deref()).await?;
                self.create_raw(name.as_deref(), body, platform.as_deref())
                    .await?
            }
            (other, _) => other?,
        };
        created.warnings.extend(warnings);
        if let Err(e) = self.connect_networks(&created.id, networks).await {
            self.discard(&created.id).await;
            return Err(e);
        }
        if start {
            if let Err(e) = self.start_container(&created.id).await {
                self.discard(&created.id).await;
                return Err(e);
            }
        }
        Ok(created)
    }

    async fn create_raw(
        &self,
        name: Option<&str>,
        body: ContainerCreateBody,
        platform: Option<&str>,
    ) -> Result<Created> {
        let mut options = CreateContainerOptionsBuilder::default();
        if let Some(n) = name {
            options = options.name(n);
        }
        if let Some(p) = platform {
            options = options.platform(p);
        }
        let options = options.build();
        let response = self
            .call(|d| async move { d.create_container(Some(options), body).await })
            .await
            .map_err(|e| words(e, Doing::Create))?;
        let name = match name {
            Some(n) => n.to_string(),
            None => self
                .inspect_raw(&response.id)
                .await
                .ok()
                .and_then(|c| c.name)
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string(),
        };
        Ok(Created {
            id: response.id,
            name,
            warnings: response.warnings,
        })
    }

    /// Connects a just-created container to the networks it could not be given at create.
    async fn connect_networks(
        &self,
        id: &str,
        rest: Vec<(String, EndpointSettings)>,
    ) -> Result<()> {
        for (net, endpoint) in rest {
            let request = NetworkConnectRequest {
                container: id.to_string(),
                endpoint_config: Some(endpoint),
            };
            let net_name = net.clone();
            if let Err(e) = self
                .call(|d| async move { d.connect_network(&net_name, request).await })
                .await
            {
                tracing::warn!(network = %net, error = %e.log_detail(), "connecting a container to a further network failed");
                return Err(match words(e, Doing::Create) {
                    Error::Invalid { field, message } if field == "network" || field == "ip" => {
                        Error::invalid("networks", format!("{net}: {message}"))
                    }
                    other => other,
                });
            }
        }
        Ok(())
    }

    /// Removes a container that must not survive a failure, with its anonymous volumes; an
    /// error here is logged, the original failure is what the caller reports.
    async fn discard(&self, id: &str) {
        if let Err(e) = self.remove_container(id, true, true).await {
            if !matches!(e, Error::NotFound(_)) {
                tracing::warn!(container = %id, error = %e.log_detail(), "could not remove a container after a failed start");
            }
        }
    }

    /// The run form's prefill for "duplicate/edit": the container's configuration in the words
    /// of [`RunSpec`], without what its image supplies by default.
    pub async fn run_spec_of(&self, id: &str) -> Result<RunSpec> {
        let c = self.inspect_raw(id).await?;
        let config = c.config.clone().unwrap_or_default();
        let image = match config.image.as_deref() {
            Some(i) => self.image_config(i).await?.unwrap_or_default(),
            None => ImageConfig::default(),
        };
        Ok(spec_from_inspect(&c, &image))
    }

    /// What replacing the container cannot take along: changes in its own filesystem, the
    /// addresses the engine gave it, and its identity (id, logs, restart count).
    pub async fn carry_over(&self, id: &str) -> Result<CarryOver> {
        let c = self.inspect_raw(id).await?;
        let mut not_carried = Vec::new();
        match self.container_changes(id).await {
            Ok(changes) if !changes.is_empty() => not_carried.push(format!(
                "{} changed path{} in the container's own filesystem, outside its volumes (its \
                 Changes tab lists them): the new container starts from the image",
                changes.len(),
                if changes.len() == 1 { "" } else { "s" }
            )),
            Ok(_) => {}
            Err(e) => {
                tracing::debug!(container = %id, error = %e.log_detail(), "changes for the carry-over notes")
            }
        }
        let mut networks: Vec<(String, bollard::models::EndpointSettings)> = c
            .network_settings
            .and_then(|n| n.networks)
            .unwrap_or_default()
            .into_iter()
            .collect();
        networks.sort_by(|a, b| a.0.cmp(&b.0));
        for (net, e) in &networks {
            let fixed = e.ipam_config.as_ref();
            let given =
                |v: &Option<String>| v.as_deref().filter(|a| !a.is_empty()).map(str::to_string);
            if let Some(ip) = given(&e.ip_address)
                .filter(|_| given(&fixed.and_then(|f| f.ipv4_address.clone())).is_none())
            {
                not_carried.push(format!(
                    "its address {ip} on {net}, which the engine assigned: the new container \
                     gets one anew (set a fixed address to keep it)"
                ));
            }
            if let Some(ip) = given(&e.global_ipv6_address)
                .filter(|_| given(&fixed.and_then(|f| f.ipv6_address.clone())).is_none())
            {
                not_carried.push(format!(
                    "its IPv6 address {ip} on {net}, which the engine assigned"
                ));
            }
        }
        not_carried.push(
            "its id, its logs so far, its restart count and when it was started: they go with \
             the old container"
                .into(),
        );
        Ok(CarryOver { not_carried })
    }

    /// Pulls the image again and replaces the container with a new one of the same
    /// configuration, name, volumes and networks, started if the old one was running.
    ///
    /// The old container is renamed aside, not removed, until the new one exists and has
    /// started; on any failure the new one is removed and the old one gets its name (and, if it
    /// was running, its run) back.
    pub async fn recreate_container(&self, id: &str) -> Result<Created> {
        let old = self.inspect_raw(id).await?;
        let old_id = old.id.clone().unwrap_or_default();
        let name = old
            .name
            .clone()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string();
        let running = old.state.as_ref().and_then(|s| s.running).unwrap_or(false);
        let image = old
            .config
            .as_ref()
            .and_then(|c| c.image.clone())
            .filter(|i| !i.is_empty())
            .ok_or_else(|| {
                Error::Conflict("the container has no image to recreate it from".into())
            })?;

        let mut warnings = Vec::new();
        let old_image_config = self
            .image_config(&old.image.clone().unwrap_or_default())
            .await
            .ok()
            .flatten();
        if let Err(e) = self.pull_image(&image).await {
            if !self.has_image(&image).await? {
                return Err(e);
            }
            tracing::info!(image = %image, error = %e.log_detail(), "recreate: pull failed, using the local image");
            warnings.push(format!(
                "the image could not be pulled again ({}); the local copy was used",
                e.public_message()
            ));
        }
        let new_image_id = match self
            .call({
                let image = image.clone();
                |d| async move { d.inspect_image(&image).await }
            })
            .await
        {
            Ok(i) => i.id,
            Err(e) => return Err(words(e, Doing::Create)),
        };
        // With a new image, what the old image supplied by default must come from the new one.
        let defaults = old_image_config
            .as_ref()
            .filter(|_| new_image_id != old.image);
        let Carried {
            mut body,
            rest,
            shares_namespace,
        } = carry::carried_over(&old, &image, defaults);
        if let Some(hc) = body.host_config.as_mut() {
            keep_anonymous_volumes(&old, hc);
        }
        let short_id: String = old_id.chars().take(12).collect();

        let aside = format!("{name}-recreating-{short_id}");
        self.rename_container(&old_id, &aside).await?;
        let created = match self.create_raw(Some(&name), body, None).await {
            Ok(c) => c,
            Err(e) => {
                self.put_back(&old_id, Some(&name), running, None).await;
                return Err(e);
            }
        };
        if !shares_namespace {
            if let Err(e) = self.connect_networks(&created.id, rest).await {
                self.put_back(&old_id, Some(&name), running, Some(&created.id))
                    .await;
                return Err(e);
            }
        }
        if running {
            if let Err(e) = self.stop_container(&old_id, None).await {
                self.put_back(&old_id, Some(&name), running, Some(&created.id))
                    .await;
                return Err(e);
            }
            if let Err(e) = self.start_container(&created.id).await {
                self.put_back(&old_id, Some(&name), running, Some(&created.id))
                    .await;
                return Err(e);
            }
        }
        Ok(self
            .retire_old(&old_id, &aside, false, created, warnings)
            .await)
    }

    /// "Edit": replaces the container `id` with one made from its own configuration with the
    /// fields of `spec` that differ from the spec the form was given ([`Self::run_spec_of`])
    /// applied, under the same name: every setting the form does not show (cap-drop,
    /// healthcheck, DNS, extra hosts, mount options, log settings, extra networks …) stays.
    /// Environment lines sent as `KEY=********` (values the person was not shown) keep their
    /// old values.
    ///
    /// Everything that can be refused is checked before the old container is touched: the
    /// spec's fields (422 naming the field), the name (an edit keeps it), the guardrails in
    /// `limits` (403 naming the guardrail; what the new container would have, old settings
    /// included) and the image (pulled when the host lacks it, or again when `pull` is set).
    /// Then the old container is stopped if it runs and renamed aside, the new one is created
    /// under the name, connected to the old one's other networks and started when the old one
    /// ran (or when `spec.start` asks), and the old one is removed. Anonymous volumes the new
    /// container mounts at the same path (its spec's `/path` volumes or its image's `VOLUME`s)
    /// are the old ones, so their data stays; named volumes are never removed.
    ///
    /// On any failure after the old container was touched, whatever was created is removed and
    /// the old container gets its name and, if it was running, its run back.
    pub async fn replace_container_within(
        &self,
        id: &str,
        spec: &RunSpec,
        pull: bool,
        limits: Option<&crate::guardrails::Guardrails>,
    ) -> Result<Created> {
        let old = self.inspect_raw(id).await?;
        let old_defaults = match &old.image {
            Some(image) => self.image_config(image).await?.unwrap_or_default(),
            None => ImageConfig::default(),
        };
        let shown = spec_from_inspect(&old, &old_defaults);
        let mut spec = spec.clone();
        carry::restore_hidden_env(&mut spec, &shown);
        let plan = run::plan(&spec)?;
        let old_id = old.id.clone().unwrap_or_default();
        let name = old
            .name
            .clone()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_string();
        if let Some(wanted) = plan.name.as_deref() {
            let wanted = wanted.trim().trim_start_matches('/');
            if !wanted.is_empty() && wanted != name {
                return Err(Error::invalid(
                    "name",
                    "an edit keeps the container's name; rename the container on its page",
                ));
            }
        }
        // The old image's defaults are left to the image: the same image gives them again,
        // a new one its own.
        let mut carried = carry::carried_over(&old, &plan.image, Some(&old_defaults));
        let old_ids = [old.id.clone().unwrap_or_default()];
        carry::apply_edit(
            &mut carried,
            &shown,
            &spec,
            plan.body,
            plan.networks,
            &old_ids,
        );

        let made = match limits {
            Some(g) => {
                self.vet_host_config(g, carried.body.host_config.as_mut(), true)
                    .await?
            }
            None => Vec::new(),
        };
        let edit = Edit {
            image: plan.image,
            carried,
            start: plan.start,
            platform: plan.platform,
            warnings: plan.warnings,
        };
        let result = self.replace_vetted(edit, old, old_id, name, pull).await;
        if result.is_err() {
            self.remove_volumes_made(&made).await;
        }
        result
    }

    /// The part of [`Self::replace_container_within`] after the checks.
    async fn replace_vetted(
        &self,
        edit: Edit,
        old: ContainerInspectResponse,
        old_id: String,
        name: String,
        pull: bool,
    ) -> Result<Created> {
        let Edit {
            image,
            carried,
            start,
            platform,
            mut warnings,
        } = edit;
        let Carried {
            mut body,
            rest,
            shares_namespace,
        } = carried;
        let platform = platform.as_deref();
        if pull {
            if let Err(e) = self.pull_image_for(&image, platform).await {
                if !self.has_image(&image).await? {
                    return Err(e);
                }
                tracing::info!(image = %image, error = %e.log_detail(), "edit: pull failed, using the local image");
                warnings.push(format!(
                    "the image could not be pulled again ({}); the local copy was used",
                    e.public_message()
                ));
            }
        } else if !self.has_image(&image).await? {
            self.pull_image_for(&image, platform).await?;
        }
        let image_volumes = self
            .image_config(&image)
            .await?
            .and_then(|c| c.volumes)
            .unwrap_or_default();
        reuse_anonymous_volumes(&old, &mut body, &image_volumes);

        let state = old.state.clone().unwrap_or_default();
        let running = state.running.unwrap_or(false) || state.restarting.unwrap_or(false);
        let start = start || running;

        // From here on the old container is touched: every failure puts it back.
        if running {
            if let Err(e) = self.stop_container(&old_id, None).await {
                self.put_back(&old_id, None, running, None).await;
                return Err(e);
            }
        }
        let short_id: String = old_id.chars().take(12).collect();
        let aside = format!("{name}-editing-{short_id}");
        if let Err(e) = self.rename_container(&old_id, &aside).await {
            self.put_back(&old_id, None, running, None).await;
            return Err(e);
        }
        let created = match self.create_raw(Some(&name), body, platform).await {
            Ok(c) => c,
            Err(e) => {
                self.put_back(&old_id, Some(&name), running, None).await;
                return Err(e);
            }
        };
        if !shares_namespace {
            if let Err(e) = self.connect_networks(&created.id, rest).await {
                self.put_back(&old_id, Some(&name), running, Some(&created.id))
                    .await;
                return Err(e);
            }
        }
        if start {
            if let Err(e) = self.start_container(&created.id).await {
                self.put_back(&old_id, Some(&name), running, Some(&created.id))
                    .await;
                return Err(e);
            }
        }
        // Anonymous volumes the new container mounts are in use, so the engine keeps them.
        Ok(self
            .retire_old(&old_id, &aside, true, created, warnings)
            .await)
    }

    /// The last step of a recreate or an edit: the old container (renamed `aside`) goes; if the
    /// engine will not remove it, the new one still stands and a warning says where the old is.
    async fn retire_old(
        &self,
        old_id: &str,
        aside: &str,
        volumes: bool,
        created: Created,
        mut warnings: Vec<String>,
    ) -> Created {
        match self.remove_container(old_id, true, volumes).await {
            Ok(()) | Err(Error::NotFound(_)) => {}
            Err(e) => {
                tracing::warn!(container = %old_id, error = %e.log_detail(), "the replaced container could not be removed");
                warnings.push(format!(
                    "the old container is left as {aside}: {}",
                    e.public_message()
                ));
            }
        }
        warnings.extend(created.warnings);
        Created {
            id: created.id,
            name: created.name,
            warnings,
        }
    }

    /// Undoes a failed recreate or edit: removes the new container (if one was made), gives the old one its
    /// `name` back (if it had been renamed) and starts it again if it was running. Failures
    /// here are logged; the caller reports the original one.
    async fn put_back(
        &self,
        old_id: &str,
        name: Option<&str>,
        running: bool,
        new_id: Option<&str>,
    ) {
        if let Some(new_id) = new_id {
            self.discard(new_id).await;
        }
        if let Some(name) = name {
            if let Err(e) = self.rename_container(old_id, name).await {
                tracing::error!(container = %old_id, error = %e.log_detail(), "could not give the replaced container its name back");
            }
        }
        if running {
            if let Err(e) = self.start_container(old_id).await {
                tracing::error!(container = %old_id, error = %e.log_detail(), "could not start the replaced container again");
            }
        }
    }
}

fn pull_failure(reference: &str, message: &str) -> Error {
    let m = message.to_ascii_lowercase();
    tracing::info!(image = %reference, error = %message, "pull failed");
    if m.contains("not found")
        || m.contains("manifest unknown")
        || m.contains("pull access denied")
        || m.contains("repository does not exist")
    {
        Error::NotFound(format!("image {reference}"))
    } else if m.contains("unauthorized")
        || m.contains("authentication required")
        || m.contains("denied")
    {
        Error::invalid(
            "image",
            format!("{reference} could not be pulled: the registry refused access"),
        )
    } else {
        Error::invalid(
            "image",
            format!("{reference} could not be pulled: its registry could not be reached or refused the pull"),
        )
    }
}

/// An edit, checked: the new container's body and networks, and whether to start it.
struct Edit {
    image: String,
    carried: Carried,
    start: bool,
    platform: Option<String>,
    warnings: Vec<String>,
}

/// An edit's new container mounts the old one's anonymous volumes where it asks for an
/// anonymous volume at the same path (a `/path` in its spec, or a `VOLUME` of its image): they
/// are bound by name, so their data stays. Volumes the old container had by name, and paths the
/// new spec binds to something else, are left alone.
fn reuse_anonymous_volumes(
    old: &ContainerInspectResponse,
    body: &mut ContainerCreateBody,
    image_volumes: &[String],
) {
    let old_hc = old.host_config.clone().unwrap_or_default();
    let named: Vec<String> = old_hc
        .binds
        .iter()
        .flatten()
        .filter_map(|b| b.split(':').next().map(str::to_string))
        .chain(
            old_hc
                .mounts
                .iter()
                .flatten()
                .filter_map(|m| m.source.clone()),
        )
        .filter(|s| !s.is_empty())
        .collect();
    let mut anonymous: Vec<String> = body.volumes.clone().unwrap_or_default();
    for v in image_volumes {
        if !anonymous.contains(v) {
            anonymous.push(v.clone());
        }
    }
    let hc = body.host_config.get_or_insert_with(HostConfig::default);
    let bound: Vec<String> = hc
        .binds
        .iter()
        .flatten()
        .filter_map(|b| b.split(':').nth(1).map(str::to_string))
        .chain(hc.mounts.iter().flatten().filter_map(|m| m.target.clone()))
        .collect();
    let mut reused = Vec::new();
    for m in old.mounts.iter().flatten() {
        let (Some(volume), Some(dest)) = (&m.name, &m.destination) else {
            continue;
        };
        if m.typ.as_deref() != Some("volume")
            || volume.is_empty()
            || named.contains(volume)
            || !anonymous.contains(dest)
            || bound.contains(dest)
            || reused.contains(dest)
        {
            continue;
        }
        let mode = if m.rw == Some(false) { ":ro" } else { "" };
        hc.binds
            .get_or_insert_with(Vec::new)
            .push(format!("{volume}:{dest}{mode}"));
        reused.push(dest.clone());
    }
    if let Some(volumes) = &mut body.volumes {
        volumes.retain(|v| !reused.contains(v));
        if volumes.is_empty() {
            body.volumes = None;
        }
    }
}

/// Anonymous volumes (from the image's `VOLUME` or a bare `-v /path`) would be new and empty in
/// a recreated container; bind them by name so it keeps their data.
fn keep_anonymous_volumes(old: &ContainerInspectResponse, hc: &mut HostConfig) {
    let binds = hc.binds.get_or_insert_with(Vec::new);
    let bound: Vec<String> = binds
        .iter()
        .filter_map(|b| b.split(':').nth(1).map(str::to_string))
        .chain(hc.mounts.iter().flatten().filter_map(|m| m.target.clone()))
        .collect();
    for m in old.mounts.iter().flatten() {
        let (Some(name), Some(dest)) = (&m.name, &m.destination) else {
            continue;
        };
        if m.typ.as_deref() != Some("volume") || name.is_empty() || bound.contains(dest) {
            continue;
        }
        let mode = if m.rw == Some(false) { ":ro" } else { "" };
        binds.push(format!("{name}:{dest}{mode}"));
    }
    if binds.is_empty() {
        hc.binds = None;
    }
}

/// What the engine gives `/dev/shm` when no `--shm-size` is asked: 64 MiB.
const DEFAULT_SHM_SIZE: i64 = 64 * 1024 * 1024;

fn spec_from_inspect(c: &ContainerInspectResponse, image: &ImageConfig) -> RunSpec {
    let mut config = c.config.clone().unwrap_or_default();
    let image_ref = config.image.clone().unwrap_or_default();
    strip_image_defaults(&mut config, image);
    let hc = c.host_config.clone().unwrap_or_default();
    let id = c.id.clone().unwrap_or_default();
    let mut ports = Vec::new();
    let mut bindings: Vec<(String, Option<Vec<bollard::models::PortBinding>>)> = hc
        .port_bindings
        .clone()
        .unwrap_or_default()
        .into_iter()
        .collect();
    bindings.sort_by(|a, b| a.0.cmp(&b.0));
    for (key, list) in bindings {
        let (port, proto) = key.split_once('/').unwrap_or((key.as_str(), "tcp"));
        let suffix = if proto == "tcp" {
            String::new()
        } else {
            format!("/{proto}")
        };
        for b in list.unwrap_or_default() {
            let ip = b.host_ip.filter(|i| !i.is_empty());
            let host = b.host_port.unwrap_or_default();
            let ip = ip.map(|i| if i.contains(':') { format!("[{i}]") } else { i });
            ports.push(match (ip, host.is_empty()) {
                (None, true) => format!("{port}{suffix}"),
                (None, false) => format!("{host}:{port}{suffix}"),
                (Some(ip), _) => format!("{ip}:{host}:{port}{suffix}"),
            });
        }
    }
    let mut volumes: Vec<String> = hc.binds.clone().unwrap_or_default();
    let mounts: Vec<String> = hc
        .mounts
        .iter()
        .flatten()
        .filter_map(flags::format_mount)
        .collect();
    let mount_targets: Vec<&str> = hc
        .mounts
        .iter()
        .flatten()
        .filter_map(|m| m.target.as_deref())
        .collect();
    for v in config.volumes.iter().flatten() {
        if !mount_targets.contains(&v.as_str())
            && !volumes
                .iter()
                .any(|b| b.split(':').nth(1) == Some(v.as_str()) || b == v)
        {
            volumes.push(v.clone());
        }
    }
    let name = c
        .name
        .as_deref()
        .map(|n| n.trim_start_matches('/').to_string());
    let ids = [id.as_str()];
    let mut endpoints: Vec<(String, bollard::models::EndpointSettings)> = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.clone())
        .unwrap_or_default()
        .into_iter()
        .collect();
    endpoints.sort_by(|a, b| a.0.cmp(&b.0));
    let main_net = match hc.network_mode.as_deref() {
        None | Some("" | "default") => "bridge".to_string(),
        Some(n) => n.to_string(),
    };
    let (network_alias, ip, ip6) = endpoints
        .iter()
        .find(|(n, _)| *n == main_net)
        .map(|(_, e)| flags::endpoint_words(e, &ids))
        .unwrap_or_default();
    let networks: Vec<String> = endpoints
        .iter()
        .filter(|(n, _)| *n != main_net)
        .map(|(n, e)| flags::format_network_line(n, e, &ids))
        .collect();
    let health = config.healthcheck.clone().unwrap_or_default();
    let duration = |d: Option<i64>| d.filter(|n| *n > 0).map(flags::format_duration);
    let test = health.test.clone().unwrap_or_default();
    let log = hc.log_config.clone().unwrap_or_default();
    let mut tmpfs: Vec<String> = hc
        .tmpfs
        .iter()
        .flatten()
        .map(|(path, opts)| {
            if opts.is_empty() {
                path.clone()
            } else {
                format!("{path}:{opts}")
            }
        })
        .collect();
    tmpfs.sort();
    let list = |v: &Option<Vec<String>>| v.clone().unwrap_or_default();
    let restart = restart_text(Some(&hc));
    let network = hc
        .network_mode
        .clone()
        .filter(|n| !n.is_empty() && n != "default");
    #[allow(clippy::cast_precision_loss)]
    let cpus = hc.nano_cpus.filter(|n| *n > 0).map(|n| n as f64 / 1e9);
    RunSpec {
        image: image_ref,
        name,
        cmd: config.cmd,
        entrypoint: config.entrypoint,
        env: config.env.unwrap_or_default(),
        ports,
        volumes,
        mounts,
        volume_driver: hc.volume_driver.clone().filter(|d| !d.is_empty()),
        tmpfs,
        volumes_from: hc.volumes_from.clone().unwrap_or_default(),
        network,
        network_alias,
        ip,
        ip6,
        networks,
        dns: list(&hc.dns),
        dns_search: list(&hc.dns_search),
        dns_option: list(&hc.dns_options),
        add_host: list(&hc.extra_hosts),
        restart: (restart != "no").then_some(restart),
        labels: config.labels.unwrap_or_default().into_iter().collect(),
        auto_remove: hc.auto_remove.unwrap_or(false),
        tty: config.tty.unwrap_or(false),
        stdin: config.open_stdin.unwrap_or(false),
        workdir: config.working_dir.filter(|w| !w.is_empty()),
        user: config.user.filter(|u| !u.is_empty()),
        hostname: config
            .hostname
            .filter(|h| !h.is_empty() && !id.starts_with(h.as_str())),
        memory: hc.memory.filter(|m| *m > 0).map(|m| m.to_string()),
        cpus,
        pids_limit: hc.pids_limit.filter(|p| *p != 0),
        shm_size: hc
            .shm_size
            .filter(|s| *s > 0 && *s != DEFAULT_SHM_SIZE)
            .map(|s| s.to_string()),
        ulimits: hc
            .ulimits
            .iter()
            .flatten()
            .filter_map(flags::format_ulimit)
            .collect(),
        sysctls: hc.sysctls.clone().unwrap_or_default().into_iter().collect(),
        health_cmd: flags::health_cmd_text(&test),
        health_interval: duration(health.interval),
        health_timeout: duration(health.timeout),
        health_start_period: duration(health.start_period),
        health_retries: health
            .retries
            .filter(|r| *r > 0)
            .and_then(|r| u32::try_from(r).ok()),
        no_healthcheck: test.first().is_some_and(|t| t == "NONE"),
        log_driver: log.typ.filter(|t| !t.is_empty()),
        log_opts: log.config.unwrap_or_default().into_iter().collect(),
        init: hc.init.unwrap_or(false),
        stop_signal: config.stop_signal.filter(|s| !s.is_empty()),
        stop_timeout: config.stop_timeout,
        read_only: hc.readonly_rootfs.unwrap_or(false),
        // The image is on the host already; which platform it is of, the engine decides.
        platform: None,
        start: true,
        privileged: hc.privileged.unwrap_or(false),
        cap_add: hc.cap_add.clone().unwrap_or_default(),
        cap_drop: hc.cap_drop.clone().unwrap_or_default(),
        security_opt: hc.security_opt.clone().unwrap_or_default(),
        gpus: hc
            .device_requests
            .iter()
            .flatten()
            .find_map(flags::format_gpus),
        devices: hc
            .devices
            .iter()
            .flatten()
            .filter_map(|d| {
                let host = d.path_on_host.clone()?;
                let inside = d.path_in_container.clone().unwrap_or_else(|| host.clone());
                let perms = d.cgroup_permissions.clone().unwrap_or_else(|| "rwm".into());
                Some(format!("{host}:{inside}:{perms}"))
            })
            .collect(),
        pid: hc.pid_mode.clone().filter(|p| !p.is_empty()),
        ipc: hc
            .ipc_mode
            .clone()
            .filter(|p| !p.is_empty() && p != "private" && p != "shareable"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_and_refs() {
        for k in ["DB_PASSWORD", "api_key", "GithubToken", "SECRET"] {
            assert!(is_secret_key(k), "{k}");
        }
        assert!(!is_secret_key("PATH"));
        assert!(check_ref("abc123").is_ok());
        for bad in ["", "../images/x", "a/b", "a?b", "-x"] {
            assert!(check_ref(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn engine_words_are_safe() {
        let e = |status, m: &str| {
            words(
                Error::Engine {
                    status,
                    message: m.into(),
                },
                Doing::Action,
            )
        };
        assert!(matches!(e(404, "No such container: x"), Error::NotFound(_)));
        assert!(
            matches!(e(409, "Conflict. The container name \"/web\" is already in use by container \"abc\""), Error::Conflict(m) if m.starts_with("name"))
        );
        assert!(
            matches!(e(500, "driver failed programming external connectivity on endpoint x: Bind for 0.0.0.0:8080 failed: port is already allocated"), Error::Conflict(m) if m.starts_with("ports"))
        );
        assert!(matches!(
            e(409, "Container abc is not running"),
            Error::Conflict(_)
        ));
        let unknown = e(500, "open /var/lib/docker/secret/path: permission denied");
        assert!(
            !unknown.public_message().contains("/var/lib"),
            "{}",
            unknown.public_message()
        );
        assert_eq!(
            pull_parts("reg:5000/a/b"),
            ("reg:5000/a/b".to_string(), Some("latest".into()))
        );
        assert_eq!(
            pull_parts("reg:5000/a/b:1"),
            ("reg:5000/a/b".to_string(), Some("1".into()))
        );
    }
}
