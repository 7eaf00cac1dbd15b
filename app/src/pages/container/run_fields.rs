//! The run form's fields: every word of `docker run` the form holds, as typed, and the
//! [`RunSpec`] they make (a field that cannot be read is an error naming it, like the server's).

use std::collections::BTreeMap;

use leptos::prelude::*;

use crate::error::AppError;
use crate::model::containers::RunSpec;

pub use wire::words::{join_words, split_words};

pub(super) fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Words separated by spaces, commas or lines (`NET_ADMIN SYS_TIME`, DNS servers).
fn list(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

/// `key=value` lines as a map; a line without `=` is an error naming `field`.
fn pairs(field: &str, text: &str) -> Result<BTreeMap<String, String>, AppError> {
    let mut map = BTreeMap::new();
    for (n, line) in lines(text).into_iter().enumerate() {
        let Some((k, v)) = line.split_once('=') else {
            return Err(AppError::Invalid {
                field: field.into(),
                message: format!("line {} needs the form key=value", n + 1),
            });
        };
        map.insert(k.trim().to_string(), v.trim().to_string());
    }
    Ok(map)
}

fn pairs_text(map: &BTreeMap<String, String>) -> String {
    map.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// What the form makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Mode {
    /// A new container (`/run`).
    New,
    /// A new container with another container's settings, named `<name>-copy`.
    Duplicate,
    /// The container `id` replaced under its own name.
    Edit { id: String },
}

/// The form's fields, all text as typed.
#[derive(Clone, Copy)]
pub(super) struct Fields {
    pub host: RwSignal<String>,
    pub image: RwSignal<String>,
    pub name: RwSignal<String>,
    pub cmd: RwSignal<String>,
    pub entrypoint: RwSignal<String>,
    pub workdir: RwSignal<String>,
    pub user: RwSignal<String>,
    pub hostname: RwSignal<String>,
    pub env: RwSignal<String>,
    pub ports: RwSignal<String>,
    pub volumes: RwSignal<String>,
    pub mounts: RwSignal<String>,
    pub volume_driver: RwSignal<String>,
    pub tmpfs: RwSignal<String>,
    pub volumes_from: RwSignal<String>,
    pub network: RwSignal<String>,
    pub network_alias: RwSignal<String>,
    pub ip: RwSignal<String>,
    pub ip6: RwSignal<String>,
    pub networks: RwSignal<String>,
    pub dns: RwSignal<String>,
    pub dns_search: RwSignal<String>,
    pub dns_option: RwSignal<String>,
    pub add_host: RwSignal<String>,
    pub restart: RwSignal<String>,
    pub labels: RwSignal<String>,
    pub auto_remove: RwSignal<bool>,
    pub interactive: RwSignal<bool>,
    pub memory: RwSignal<String>,
    pub cpus: RwSignal<String>,
    pub pids_limit: RwSignal<String>,
    pub shm_size: RwSignal<String>,
    pub ulimits: RwSignal<String>,
    pub sysctls: RwSignal<String>,
    pub health_cmd: RwSignal<String>,
    pub health_interval: RwSignal<String>,
    pub health_timeout: RwSignal<String>,
    pub health_start_period: RwSignal<String>,
    pub health_retries: RwSignal<String>,
    pub no_healthcheck: RwSignal<bool>,
    pub log_driver: RwSignal<String>,
    pub log_opts: RwSignal<String>,
    pub init: RwSignal<bool>,
    pub stop_signal: RwSignal<String>,
    pub stop_timeout: RwSignal<String>,
    pub read_only: RwSignal<bool>,
    pub platform: RwSignal<String>,
    pub start: RwSignal<bool>,
    pub privileged: RwSignal<bool>,
    /// Capabilities, separated by spaces, commas or lines.
    pub cap_add: RwSignal<String>,
    pub cap_drop: RwSignal<String>,
    pub security_opt: RwSignal<String>,
    pub devices: RwSignal<String>,
    pub gpus: RwSignal<String>,
    pub pid: RwSignal<String>,
    pub ipc: RwSignal<String>,
    /// Pull the image again before an edit.
    pub pull: RwSignal<bool>,
}

impl Fields {
    pub fn new(host: String, spec: Option<RunSpec>, mode: &Mode) -> Self {
        let s = spec.unwrap_or_default();
        let text = |v: Option<String>| RwSignal::new(v.unwrap_or_default());
        let joined = |v: &[String], by: &str| RwSignal::new(v.join(by));
        let number = |v: Option<String>| RwSignal::new(v.unwrap_or_default());
        let name = match mode {
            Mode::New => String::new(),
            Mode::Duplicate => s
                .name
                .clone()
                .map(|n| format!("{n}-copy"))
                .unwrap_or_default(),
            Mode::Edit { .. } => s.name.clone().unwrap_or_default(),
        };
        Fields {
            host: RwSignal::new(host),
            image: RwSignal::new(s.image.clone()),
            name: RwSignal::new(name),
            cmd: RwSignal::new(s.cmd.as_deref().map(join_words).unwrap_or_default()),
            entrypoint: RwSignal::new(s.entrypoint.as_deref().map(join_words).unwrap_or_default()),
            workdir: text(s.workdir),
            user: text(s.user),
            hostname: text(s.hostname),
            env: joined(&s.env, "\n"),
            ports: joined(&s.ports, "\n"),
            volumes: joined(&s.volumes, "\n"),
            mounts: joined(&s.mounts, "\n"),
            volume_driver: text(s.volume_driver),
            tmpfs: joined(&s.tmpfs, "\n"),
            volumes_from: joined(&s.volumes_from, "\n"),
            network: text(s.network),
            network_alias: joined(&s.network_alias, " "),
            ip: text(s.ip),
            ip6: text(s.ip6),
            networks: joined(&s.networks, "\n"),
            dns: joined(&s.dns, " "),
            dns_search: joined(&s.dns_search, " "),
            dns_option: joined(&s.dns_option, " "),
            add_host: joined(&s.add_host, "\n"),
            restart: RwSignal::new(s.restart.unwrap_or_else(|| "no".into())),
            labels: RwSignal::new(pairs_text(&s.labels)),
            auto_remove: RwSignal::new(s.auto_remove),
            interactive: RwSignal::new(s.tty && s.stdin),
            memory: text(s.memory),
            cpus: number(s.cpus.map(|c| c.to_string())),
            pids_limit: number(s.pids_limit.map(|p| p.to_string())),
            shm_size: text(s.shm_size),
            ulimits: joined(&s.ulimits, "\n"),
            sysctls: RwSignal::new(pairs_text(&s.sysctls)),
            health_cmd: text(s.health_cmd),
            health_interval: text(s.health_interval),
            health_timeout: text(s.health_timeout),
            health_start_period: text(s.health_start_period),
            health_retries: number(s.health_retries.map(|r| r.to_string())),
            no_healthcheck: RwSignal::new(s.no_healthcheck),
            log_driver: text(s.log_driver),
            log_opts: RwSignal::new(pairs_text(&s.log_opts)),
            init: RwSignal::new(s.init),
            stop_signal: text(s.stop_signal),
            stop_timeout: number(s.stop_timeout.map(|t| t.to_string())),
            read_only: RwSignal::new(s.read_only),
            platform: text(s.platform),
            start: RwSignal::new(true),
            privileged: RwSignal::new(s.privileged),
            cap_add: joined(&s.cap_add, " "),
            cap_drop: joined(&s.cap_drop, " "),
            security_opt: joined(&s.security_opt, "\n"),
            devices: joined(&s.devices, "\n"),
            gpus: text(s.gpus),
            pid: text(s.pid),
            ipc: text(s.ipc),
            pull: RwSignal::new(false),
        }
    }

    /// The spec to send; a field that cannot be read is an error naming it, like the server's.
    pub fn spec(&self) -> Result<RunSpec, AppError> {
        let invalid = |field: &str, message: String| AppError::Invalid {
            field: field.into(),
            message,
        };
        let opt = |s: RwSignal<String>| {
            Some(s.get_untracked().trim().to_string()).filter(|v| !v.is_empty())
        };
        let words = |field: &str, s: RwSignal<String>| -> Result<Option<Vec<String>>, AppError> {
            let w = split_words(&s.get_untracked()).map_err(|e| invalid(field, e))?;
            Ok((!w.is_empty()).then_some(w))
        };
        let lines_of = |s: RwSignal<String>| lines(&s.get_untracked());
        let list_of = |s: RwSignal<String>| list(&s.get_untracked());
        fn parsed<T: std::str::FromStr>(
            field: &str,
            value: Option<String>,
            what: &str,
        ) -> Result<Option<T>, AppError> {
            value
                .map(|v| {
                    v.parse::<T>().map_err(|_| AppError::Invalid {
                        field: field.into(),
                        message: format!("{v:?} is not {what}"),
                    })
                })
                .transpose()
        }
        let cpus = parsed::<f64>("cpus", opt(self.cpus), "a number of CPUs like 0.5 or 2")?;
        if cpus.is_some_and(|c| !c.is_finite() || c <= 0.0) {
            return Err(invalid("cpus", "a number of CPUs like 0.5 or 2".into()));
        }
        let image = self.image.get_untracked().trim().to_string();
        if image.is_empty() {
            return Err(invalid("image", "is required, like nginx:1.27".into()));
        }
        let interactive = self.interactive.get_untracked();
        Ok(RunSpec {
            image,
            name: opt(self.name),
            cmd: words("cmd", self.cmd)?,
            entrypoint: words("entrypoint", self.entrypoint)?,
            env: lines_of(self.env),
            ports: lines_of(self.ports),
            volumes: lines_of(self.volumes),
            mounts: lines_of(self.mounts),
            volume_driver: opt(self.volume_driver),
            tmpfs: lines_of(self.tmpfs),
            volumes_from: list_of(self.volumes_from),
            network: opt(self.network),
            network_alias: list_of(self.network_alias),
            ip: opt(self.ip),
            ip6: opt(self.ip6),
            networks: lines_of(self.networks),
            dns: list_of(self.dns),
            dns_search: list_of(self.dns_search),
            dns_option: list_of(self.dns_option),
            add_host: lines_of(self.add_host),
            restart: opt(self.restart).filter(|r| r != "no"),
            labels: pairs("labels", &self.labels.get_untracked())?,
            auto_remove: self.auto_remove.get_untracked(),
            tty: interactive,
            stdin: interactive,
            workdir: opt(self.workdir),
            user: opt(self.user),
            hostname: opt(self.hostname),
            memory: opt(self.memory),
            cpus,
            pids_limit: parsed("pids_limit", opt(self.pids_limit), "a number of processes")?,
            shm_size: opt(self.shm_size),
            ulimits: lines_of(self.ulimits),
            sysctls: pairs("sysctls", &self.sysctls.get_untracked())?,
            health_cmd: opt(self.health_cmd),
            health_interval: opt(self.health_interval),
            health_timeout: opt(self.health_timeout),
            health_start_period: opt(self.health_start_period),
            health_retries: parsed(
                "health_retries",
                opt(self.health_retries),
                "a number of tries",
            )?,
            no_healthcheck: self.no_healthcheck.get_untracked(),
            log_driver: opt(self.log_driver),
            log_opts: pairs("log_opts", &self.log_opts.get_untracked())?,
            init: self.init.get_untracked(),
            stop_signal: opt(self.stop_signal),
            stop_timeout: parsed(
                "stop_timeout",
                opt(self.stop_timeout),
                "a number of seconds",
            )?,
            read_only: self.read_only.get_untracked(),
            platform: opt(self.platform),
            start: self.start.get_untracked(),
            privileged: self.privileged.get_untracked(),
            cap_add: list_of(self.cap_add),
            cap_drop: list_of(self.cap_drop),
            security_opt: lines_of(self.security_opt),
            devices: lines_of(self.devices),
            gpus: opt(self.gpus),
            pid: opt(self.pid),
            ipc: opt(self.ipc),
        })
    }
}
