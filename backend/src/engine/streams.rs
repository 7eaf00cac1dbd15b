//! The engine's long-lived streams: container logs, stats samples, engine events and exec
//! sessions. Callers get our own types; `crate::live` shares them between viewers.

use std::collections::{BTreeMap, HashMap};
use std::pin::Pin;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use bollard::models::{ContainerStatsResponse, EventMessage};
use bollard::query_parameters::{
    ContainerArchiveInfoOptionsBuilder, EventsOptionsBuilder, LogsOptionsBuilder,
    StatsOptionsBuilder,
};
use bytes::Bytes;
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWrite;

use super::container_ops::{check_container_ref, container_error};
use super::{classify, Engine};
use crate::error::{Error, Result};

/// Which of a container's output streams a piece of log came from. A tty container has only
/// stdout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    Stdout,
    Stderr,
}

/// One piece of a container's log as the engine framed it (not necessarily one line).
#[derive(Debug, Clone)]
pub struct LogChunk {
    pub stream: LogStream,
    pub bytes: Bytes,
}

/// What to ask the engine for (`docker logs` options).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogsOptions {
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    /// Unix seconds; 0 for the beginning.
    pub since: i64,
    /// Unix seconds; 0 for no end.
    pub until: i64,
    pub timestamps: bool,
    /// The last N lines; `None` for all.
    pub tail: Option<u64>,
}

pub type Chunks<T> = Pin<Box<dyn Stream<Item = Result<T>> + Send>>;

/// One stats sample, the engine's raw counters (cumulative), before any rate is computed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RawStats {
    /// Nanoseconds since the epoch of this sample, when the engine gave one.
    pub read_nanos: Option<i128>,
    pub cpu_total: u64,
    pub system_cpu: u64,
    pub pre_cpu_total: u64,
    pub pre_system_cpu: u64,
    pub online_cpus: u32,
    pub memory_usage: u64,
    pub memory_limit: u64,
    /// The memory counters by name (`inactive_file`, `cache`, …).
    pub memory_stats: HashMap<String, u64>,
    pub net_rx: u64,
    pub net_tx: u64,
    pub block_read: u64,
    pub block_write: u64,
    pub pids: u64,
}

/// One engine event (`docker events`), in our words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EngineEvent {
    /// `container`, `image`, `volume`, `network`, `daemon`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// `start`, `die`, `oom`, `kill`, `health_status: healthy`, `pull`, `delete`, …
    pub action: String,
    /// The object's id (container id, image reference, volume name, network id).
    pub id: String,
    /// The object's name when the engine gives one.
    pub name: Option<String>,
    pub attributes: BTreeMap<String, String>,
    /// Unix seconds.
    pub time: i64,
    pub time_nano: i64,
}

/// A started exec session with a tty: bytes out, bytes in.
pub struct ExecSession {
    pub exec_id: String,
    pub output: Chunks<Bytes>,
    pub input: Pin<Box<dyn AsyncWrite + Send>>,
}

/// The end of an exec session as the engine reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecState {
    pub running: bool,
    pub exit_code: Option<i64>,
}

fn stream_error(e: bollard::errors::Error, doing: &str) -> Error {
    container_error(classify::call(e), doing)
}

impl Engine {
    /// A container's log as the engine frames it. Errors (a missing container) arrive as the
    /// stream's first item; callers inspect the container first to answer 404 cleanly.
    pub async fn container_logs(
        &self,
        id: &str,
        options: &LogsOptions,
    ) -> Result<Chunks<LogChunk>> {
        let id = check_container_ref(id)?.to_owned();
        let clamp = |secs: i64| i32::try_from(secs.max(0)).unwrap_or(i32::MAX);
        let tail = options
            .tail
            .map_or_else(|| "all".to_owned(), |n| n.to_string());
        let query = LogsOptionsBuilder::new()
            .follow(options.follow)
            .stdout(options.stdout)
            .stderr(options.stderr)
            .since(clamp(options.since))
            .until(clamp(options.until))
            .timestamps(options.timestamps)
            .tail(&tail)
            .build();
        let docker = self.docker().await?;
        let stream = docker.logs(&id, Some(query)).filter_map(|item| async move {
            match item {
                Ok(LogOutput::StdOut { message } | LogOutput::Console { message }) => {
                    Some(Ok(LogChunk {
                        stream: LogStream::Stdout,
                        bytes: message,
                    }))
                }
                Ok(LogOutput::StdErr { message }) => Some(Ok(LogChunk {
                    stream: LogStream::Stderr,
                    bytes: message,
                })),
                Ok(LogOutput::StdIn { .. }) => None,
                Err(e) => Some(Err(stream_error(e, "read the logs"))),
            }
        });
        Ok(Box::pin(stream))
    }

    /// `docker stats`: one sample about every second while the container runs.
    pub async fn container_stats(&self, id: &str, stream: bool) -> Result<Chunks<RawStats>> {
        let id = check_container_ref(id)?.to_owned();
        let docker = self.docker().await?;
        let query = StatsOptionsBuilder::new()
            .stream(stream)
            .one_shot(false)
            .build();
        let stream = docker.stats(&id, Some(query)).map(|item| match item {
            Ok(sample) => Ok(raw_stats(sample)),
            Err(e) => Err(stream_error(e, "read the stats")),
        });
        Ok(Box::pin(stream))
    }

    /// `docker events` from now on, optionally filtered by the engine (`type`, `event`, …).
    pub async fn events(
        &self,
        filters: &HashMap<String, Vec<String>>,
    ) -> Result<Chunks<EngineEvent>> {
        let docker = self.docker().await?;
        let mut query = EventsOptionsBuilder::new();
        if !filters.is_empty() {
            query = query.filters(filters);
        }
        let stream = docker.events(Some(query.build())).map(|item| match item {
            Ok(message) => Ok(engine_event(message)),
            Err(e) => Err(classify::call(e)),
        });
        Ok(Box::pin(stream))
    }

    /// Whether `path` exists in the container (following nothing: a link counts).
    pub async fn container_path_exists(&self, id: &str, path: &str) -> Result<bool> {
        let id = check_container_ref(id)?.to_owned();
        let options = ContainerArchiveInfoOptionsBuilder::default()
            .path(path)
            .build();
        match self
            .call(|d| async move { d.get_container_archive_info(&id, Some(options)).await })
            .await
        {
            Ok(_) => Ok(true),
            Err(Error::Engine { status: 404, .. }) => {
                // The container is there (callers inspect first), so the path is what is missing.
                Ok(false)
            }
            Err(e) => Err(container_error(e, "look for the command")),
        }
    }

    /// Starts `cmd` in a running container with a tty and stdin attached.
    pub async fn exec_tty(
        &self,
        id: &str,
        cmd: &[String],
        cols: u16,
        rows: u16,
    ) -> Result<ExecSession> {
        let id = check_container_ref(id)?.to_owned();
        let config = CreateExecOptions {
            attach_stdin: Some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: Some(true),
            cmd: Some(cmd.to_vec()),
            env: Some(vec!["TERM=xterm-256color".to_owned()]),
            ..Default::default()
        };
        let created = self
            .call(|d| async move { d.create_exec(&id, config).await })
            .await
            .map_err(|e| match e {
                Error::Engine { status: 409, .. } => {
                    Error::Conflict("the container is not running".into())
                }
                other => container_error(other, "start the command"),
            })?;
        let exec_id = created.id;
        let start = StartExecOptions {
            detach: false,
            tty: true,
            output_capacity: None,
        };
        let exec = exec_id.clone();
        let started = self
            .call(|d| async move { d.start_exec(&exec, Some(start)).await })
            .await
            .map_err(|e| container_error(e, "start the command"))?;
        let StartExecResults::Attached { output, input } = started else {
            return Err(Error::Internal("exec started detached".into()));
        };
        // The size is set once the process runs; before that the engine refuses it.
        if let Err(e) = self.exec_resize(&exec_id, cols, rows).await {
            tracing::debug!(error = %e.log_detail(), "first exec resize");
        }
        let output = output.filter_map(|item| async move {
            match item {
                Ok(LogOutput::StdIn { .. }) => None,
                Ok(
                    LogOutput::StdOut { message }
                    | LogOutput::StdErr { message }
                    | LogOutput::Console { message },
                ) => Some(Ok(message)),
                Err(e) => Some(Err(stream_error(e, "run the command"))),
            }
        });
        Ok(ExecSession {
            exec_id,
            output: Box::pin(output),
            input,
        })
    }

    pub async fn exec_resize(&self, exec_id: &str, cols: u16, rows: u16) -> Result<()> {
        let exec_id = exec_id.to_owned();
        let options = ResizeExecOptions {
            width: cols,
            height: rows,
        };
        self.call(|d| async move { d.resize_exec(&exec_id, options).await })
            .await
    }

    pub async fn exec_state(&self, exec_id: &str) -> Result<ExecState> {
        let exec_id = exec_id.to_owned();
        let info = self
            .call(|d| async move { d.inspect_exec(&exec_id).await })
            .await?;
        Ok(ExecState {
            running: info.running.unwrap_or(false),
            exit_code: info.exit_code,
        })
    }
}

fn raw_stats(s: ContainerStatsResponse) -> RawStats {
    let cpu = s.cpu_stats.unwrap_or_default();
    let pre = s.precpu_stats.unwrap_or_default();
    let memory = s.memory_stats.unwrap_or_default();
    let (mut net_rx, mut net_tx) = (0u64, 0u64);
    for n in s.networks.unwrap_or_default().values() {
        net_rx = net_rx.saturating_add(n.rx_bytes.unwrap_or(0));
        net_tx = net_tx.saturating_add(n.tx_bytes.unwrap_or(0));
    }
    let (mut block_read, mut block_write) = (0u64, 0u64);
    for entry in s
        .blkio_stats
        .and_then(|b| b.io_service_bytes_recursive)
        .unwrap_or_default()
    {
        let value = entry.value.unwrap_or(0);
        match entry.op.as_deref().map(str::to_ascii_lowercase).as_deref() {
            Some("read") => block_read = block_read.saturating_add(value),
            Some("write") => block_write = block_write.saturating_add(value),
            _ => {}
        }
    }
    let online = cpu
        .online_cpus
        .filter(|n| *n > 0)
        .or_else(|| {
            cpu.cpu_usage
                .as_ref()
                .and_then(|u| u.percpu_usage.as_ref())
                .and_then(|p| u32::try_from(p.len()).ok())
        })
        .unwrap_or(1);
    RawStats {
        read_nanos: s.read.as_deref().and_then(parse_rfc3339_nanos),
        cpu_total: cpu
            .cpu_usage
            .as_ref()
            .and_then(|u| u.total_usage)
            .unwrap_or(0),
        system_cpu: cpu.system_cpu_usage.unwrap_or(0),
        pre_cpu_total: pre
            .cpu_usage
            .as_ref()
            .and_then(|u| u.total_usage)
            .unwrap_or(0),
        pre_system_cpu: pre.system_cpu_usage.unwrap_or(0),
        online_cpus: online.max(1),
        memory_usage: memory.usage.unwrap_or(0),
        memory_limit: memory.limit.unwrap_or(0),
        memory_stats: memory.stats.unwrap_or_default(),
        net_rx,
        net_tx,
        block_read,
        block_write,
        pids: s.pids_stats.and_then(|p| p.current).unwrap_or(0),
    }
}

/// An RFC 3339 time (as the engine writes them, nanoseconds optional) → nanoseconds since the
/// epoch. The engine's zero time (`0001-01-01T00:00:00Z`) is `None`.
pub fn parse_rfc3339_nanos(text: &str) -> Option<i128> {
    use time::format_description::well_known::Rfc3339;
    let t = time::OffsetDateTime::parse(text, &Rfc3339).ok()?;
    (t.year() > 1).then(|| t.unix_timestamp_nanos())
}

fn engine_event(m: EventMessage) -> EngineEvent {
    let actor = m.actor.unwrap_or_default();
    let attributes: BTreeMap<String, String> =
        actor.attributes.unwrap_or_default().into_iter().collect();
    let kind = m
        .typ
        .and_then(|t| serde_json::to_value(t).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    EngineEvent {
        kind,
        action: m.action.unwrap_or_default(),
        id: actor.id.unwrap_or_default(),
        name: attributes.get("name").cloned(),
        attributes,
        time: m.time.unwrap_or(0),
        time_nano: m.time_nano.unwrap_or(0),
    }
}
