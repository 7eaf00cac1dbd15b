//! Containers as lists and forms show them.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// One published (or exposed) port of a container.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PortMapping {
    /// Host address the port is published on; `None` when it is only exposed.
    pub ip: Option<String>,
    pub private: u16,
    pub public: Option<u16>,
    /// `tcp`, `udp` or `sctp`.
    pub proto: String,
}

/// A container just created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created {
    pub id: String,
    pub name: String,
    pub warnings: Vec<String>,
}

/// A host whose containers could not be listed, and why (in words safe to show).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HostProblem {
    pub host: String,
    pub error: String,
}

/// `POST /api/v1/hosts/{host}/containers`: what a person asks for when running a container, in
/// the words of `docker run` (api.md; each field's flag is named in its description). Only
/// `image` is required; unknown fields are refused so a typo is not silently ignored. Every
/// problem is reported with the field's name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RunSpec {
    pub image: String,
    /// `--name`.
    pub name: Option<String>,
    /// The command and its arguments (the image's `CMD` when absent).
    pub cmd: Option<Vec<String>>,
    /// `--entrypoint`, as words.
    pub entrypoint: Option<Vec<String>>,
    /// `-e`: `KEY=VALUE` lines.
    pub env: Vec<String>,
    /// `-p`: `8080:80`, `8080:80/udp`, `127.0.0.1:9000:9000`, `[::1]:80:80`,
    /// `2000-3000:2000-3000`, `80` (a random host port). A range of more than 1,000 ports is
    /// published with a warning about its cost to the engine.
    pub ports: Vec<String>,
    /// `-v`: `name:/path`, `/host/path:/path[:ro|rw]`, or `/path` for an anonymous volume.
    pub volumes: Vec<String>,
    /// `--mount`: `type=volume|bind|tmpfs,source=…,target=…[,readonly][,volume-driver=…]
    /// [,volume-opt=k=v][,volume-nocopy][,volume-subpath=…][,bind-propagation=…]
    /// [,bind-nonrecursive][,tmpfs-size=…][,tmpfs-mode=1777]`, one mount per line.
    pub mounts: Vec<String>,
    /// `--volume-driver`: the driver of the named volumes `volumes` creates.
    pub volume_driver: Option<String>,
    /// `--tmpfs`: `/path[:options]`, e.g. `/run:rw,size=64m`.
    pub tmpfs: Vec<String>,
    /// `--volumes-from`: `container[:ro|rw]`.
    pub volumes_from: Vec<String>,
    /// `--network`: the main network (`bridge`, a network's name, `host`, `none`,
    /// `container:<name>`).
    pub network: Option<String>,
    /// `--network-alias`: names the container has on its main network.
    pub network_alias: Vec<String>,
    /// `--ip`: a static IPv4 address on the main network.
    pub ip: Option<String>,
    /// `--ip6`: a static IPv6 address on the main network.
    pub ip6: Option<String>,
    /// Further networks, one per line: `name[,alias=a][,alias=b][,ip=10.1.0.5][,ip6=fd00::5]`
    /// (`docker network connect` after the create).
    pub networks: Vec<String>,
    /// `--dns`: name server addresses.
    pub dns: Vec<String>,
    /// `--dns-search`: search domains.
    pub dns_search: Vec<String>,
    /// `--dns-option`: resolver options such as `ndots:2`.
    pub dns_option: Vec<String>,
    /// `--add-host`: `name:address` lines for `/etc/hosts` (`host-gateway` as the address).
    pub add_host: Vec<String>,
    /// `--restart`: `no`, `always`, `unless-stopped`, `on-failure[:N]`.
    pub restart: Option<String>,
    /// `--label`.
    pub labels: BTreeMap<String, String>,
    /// `--rm`.
    pub auto_remove: bool,
    /// `-t`.
    pub tty: bool,
    /// `-i`.
    pub stdin: bool,
    /// `--workdir`.
    pub workdir: Option<String>,
    /// `--user`: `name`, `uid`, `name:group`, `uid:gid`.
    pub user: Option<String>,
    /// `--hostname`.
    pub hostname: Option<String>,
    /// `--memory`: `256m`, `1g`, or bytes (a string or a number).
    #[serde(deserialize_with = "string_or_number")]
    pub memory: Option<String>,
    /// `--cpus`.
    pub cpus: Option<f64>,
    /// `--pids-limit`: the most processes (`-1` for no limit).
    pub pids_limit: Option<i64>,
    /// `--shm-size`: the size of `/dev/shm`, like `64m` (a string or a number of bytes).
    #[serde(deserialize_with = "string_or_number")]
    pub shm_size: Option<String>,
    /// `--ulimit`: `name=soft[:hard]`, e.g. `nofile=1024:2048`.
    pub ulimits: Vec<String>,
    /// `--sysctl`: namespaced kernel parameters, e.g. `net.ipv4.ip_forward` → `1`.
    pub sysctls: BTreeMap<String, String>,
    /// `--health-cmd`: a shell command (`CMD-SHELL`); exit 0 is healthy.
    pub health_cmd: Option<String>,
    /// `--health-interval`: a duration like `30s` or `1m30s`.
    pub health_interval: Option<String>,
    /// `--health-timeout`: a duration like `5s`.
    pub health_timeout: Option<String>,
    /// `--health-start-period`: a duration like `10s`.
    pub health_start_period: Option<String>,
    /// `--health-retries`: failures in a row before the container is unhealthy.
    pub health_retries: Option<u32>,
    /// `--no-healthcheck`: turns off the image's healthcheck.
    pub no_healthcheck: bool,
    /// `--log-driver`: `json-file`, `local`, `journald`, `syslog`, `none`, …
    pub log_driver: Option<String>,
    /// `--log-opt`: the driver's options, e.g. `max-size` → `10m`.
    pub log_opts: BTreeMap<String, String>,
    /// `--init`: an init process reaps zombies and forwards signals.
    pub init: bool,
    /// `--stop-signal`: `SIGTERM`, `SIGINT`, `15`, …
    pub stop_signal: Option<String>,
    /// `--stop-timeout`: seconds to wait after the stop signal before killing.
    pub stop_timeout: Option<i64>,
    /// `--read-only`: the root filesystem is read-only.
    pub read_only: bool,
    /// `--platform`: `os[/arch[/variant]]`, e.g. `linux/arm64`.
    pub platform: Option<String>,
    /// Start the container once created.
    pub start: bool,
    /// `--privileged`. Non-admins need the host's guardrail.
    pub privileged: bool,
    /// `--cap-add`, e.g. `NET_ADMIN`. Non-admins need the host's guardrail.
    pub cap_add: Vec<String>,
    /// `--cap-drop`, e.g. `NET_RAW` (or `ALL`).
    pub cap_drop: Vec<String>,
    /// `--security-opt`: `no-new-privileges`, `seccomp=…`, `apparmor=…`, `label=…`. Anything
    /// but `no-new-privileges` lifts confinement: non-admins need the host's guardrail.
    pub security_opt: Vec<String>,
    /// `--device`: `/dev/x[:/dev/y[:rwm]]`. Non-admins need the host's guardrail.
    pub devices: Vec<String>,
    /// `--gpus`: `all`, a count, or `count=2,driver=nvidia,device=0,capabilities=compute`.
    /// Non-admins need the host's guardrail (devices: `gpus`).
    pub gpus: Option<String>,
    /// `--pid`: `host` (a guardrail for non-admins) or `container:<name>`.
    pub pid: Option<String>,
    /// `--ipc`: `host` (a guardrail for non-admins), `private`, `shareable`, `none` or
    /// `container:<name>`.
    pub ipc: Option<String>,
}

/// A size given as `"64m"` or as a number of bytes.
fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Value {
        Text(String),
        Whole(u64),
        Fraction(f64),
    }
    Ok(match Option::<Value>::deserialize(d)? {
        None => None,
        Some(Value::Text(s)) => Some(s),
        Some(Value::Whole(n)) => Some(n.to_string()),
        Some(Value::Fraction(f)) => Some(f.to_string()),
    })
}

/// `POST .../{id}/recreate`'s optional body. Without a body (or without `spec`) the container
/// is recreated with its own settings and its image pulled again. With `spec` it is edited:
/// replaced by a container made from its own configuration with the fields of `spec` that
/// differ from its prefill (`GET …/spec`) applied, under the same name, its image pulled only
/// when the host lacks it unless `pull` is true.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RecreateRequest {
    pub spec: Option<RunSpec>,
    pub pull: Option<bool>,
}

/// `GET …/containers/{id}/carry-over`: what an edit (or a recreate) of the container cannot
/// take to the new container, in words, to be read before confirming.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CarryOver {
    pub not_carried: Vec<String>,
}

/// One container a bulk action is for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkTarget {
    /// The host's slug.
    pub host: String,
    /// The container's id or name.
    pub id: String,
}

/// `POST /api/v1/containers/bulk`: one action on containers of any hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct BulkRequest {
    /// `start`, `stop`, `restart`, `kill`, `pause`, `unpause` or `remove`.
    pub action: String,
    /// 1 to 200 containers.
    pub targets: Vec<BulkTarget>,
    /// `remove`: remove running containers too.
    #[serde(default)]
    pub force: bool,
    /// `remove`: remove their anonymous volumes too.
    #[serde(default)]
    pub volumes: bool,
    /// `kill`: the signal (KILL when absent).
    #[serde(default)]
    pub signal: Option<String>,
    /// `stop`/`restart`: seconds to wait before killing.
    #[serde(default)]
    pub t: Option<i64>,
}

/// How one target of a bulk action fared: `status` is what the single action would have
/// answered (204 when done), with its error when it failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkResult {
    pub host: String,
    pub id: String,
    pub status: u16,
    pub error: Option<BulkError>,
}

/// A target's failure, as the single action's error body says it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkError {
    pub code: String,
    pub message: String,
    pub field: Option<String>,
}

/// The answer of a bulk action: every target's result, in the order asked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BulkResults {
    pub results: Vec<BulkResult>,
    /// How many failed.
    pub failed: usize,
}

/// Containers in one merged log (the logs page's merged view, `GET /api/v1/logs`).
pub const MAX_LOG_SOURCES: usize = 16;
