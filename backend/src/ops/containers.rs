//! Containers: lists, inspect, the run spec, create, recreate and edit, the lifecycle, rename,
//! remove, processes, changes, commit and the file browser. Capstan's own container is guarded
//! here too (`crate::engine::own`), and environment values are hidden from whoever may not read them.

use super::{spool_within, Caller, Op, Ops, Upload};
use crate::containers::{FleetContainers, FleetJson};
use crate::engine::own::{guard_container, ContainerAct};
use crate::engine::{
    CarryOver, CommitOptions, ContainerDetail, ContainerSummary, Created, DirListing, Download,
    FsChange, ListQuery, ProcessList, RunSpec, UploadContent,
};
use crate::error::Result;
use crate::fleet::Host;
use crate::policy::{HostAction, Role};
use crate::step_params;

pub const LIST: Op = Op::read("container.list");
pub const GET: Op = Op::read("container.get");
pub const SPEC: Op = Op::read("container.spec");
pub const CARRY_OVER: Op = Op::read("container.carry_over");
pub const TOP: Op = Op::read("container.top");
pub const CHANGES: Op = Op::read("container.changes");
pub const FILES: Op = Op::read("container.files");
pub const CREATE: Op = Op::create("container.create", HostAction::ManageContainers);
pub const RECREATE: Op = Op::create("container.recreate", HostAction::ManageContainers);
pub const START: Op = Op::change("container.start", HostAction::Operate);
pub const STOP: Op = Op::change("container.stop", HostAction::Operate);
pub const RESTART: Op = Op::change("container.restart", HostAction::Operate);
pub const KILL: Op = Op::change("container.kill", HostAction::Operate);
pub const PAUSE: Op = Op::change("container.pause", HostAction::Operate);
pub const UNPAUSE: Op = Op::change("container.unpause", HostAction::Operate);
pub const RENAME: Op = Op::change("container.rename", HostAction::ManageContainers);
pub const REMOVE: Op = Op::change("container.remove", HostAction::ManageContainers);
pub const EXPORT: Op = Op::answer("container.export", HostAction::ManageContainers);
pub const DOWNLOAD: Op = Op::answer("container.download", HostAction::ManageContainers);
pub const UPLOAD: Op = Op::change("container.upload", HostAction::ManageContainers);
pub const COMMIT: Op = Op::create("container.commit", HostAction::ManageContainers);

/// The most containers one bulk action may name.
pub const BULK_LIMIT: usize = 200;
/// How many targets of a bulk action are worked on at once.
const BULK_AT_ONCE: usize = 6;

/// What a bulk action does to each of its targets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkAct {
    Lifecycle(Lifecycle),
    Remove { force: bool, volumes: bool },
}

impl BulkAct {
    /// A bulk request's words: `stop` with `t`, `kill` with `signal`, `remove` with `force`
    /// and `volumes`; anything else is 422 on `action`.
    pub fn from_words(
        action: &str,
        t: Option<i64>,
        signal: Option<String>,
        force: bool,
        volumes: bool,
    ) -> Result<BulkAct> {
        Ok(BulkAct::Lifecycle(match action {
            "start" => Lifecycle::Start,
            "stop" => Lifecycle::Stop(t),
            "restart" => Lifecycle::Restart(t),
            "kill" => Lifecycle::Kill(signal),
            "pause" => Lifecycle::Pause,
            "unpause" => Lifecycle::Unpause,
            "remove" => return Ok(BulkAct::Remove { force, volumes }),
            _ => {
                return Err(crate::Error::invalid(
                    "action",
                    "must be start, stop, restart, kill, pause, unpause or remove",
                ))
            }
        }))
    }
}

/// One of `docker start / stop / restart / kill / pause / unpause`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lifecycle {
    Start,
    /// Seconds to wait before killing (the engine's default when `None`).
    Stop(Option<i64>),
    Restart(Option<i64>),
    /// The signal (KILL when `None`).
    Kill(Option<String>),
    Pause,
    Unpause,
}

impl Lifecycle {
    pub fn op(&self) -> &'static Op {
        match self {
            Lifecycle::Start => &START,
            Lifecycle::Stop(_) => &STOP,
            Lifecycle::Restart(_) => &RESTART,
            Lifecycle::Kill(_) => &KILL,
            Lifecycle::Pause => &PAUSE,
            Lifecycle::Unpause => &UNPAUSE,
        }
    }
}

/// How a recreate goes: with the container's own settings (the image pulled again), or edited
/// from a spec.
#[derive(Debug, Clone, PartialEq)]
pub enum Recreate {
    Same,
    Edit { spec: Box<RunSpec>, pull: bool },
}

/// A container as its page shows it.
#[derive(Debug, Clone)]
pub struct Inspected {
    pub detail: ContainerDetail,
    /// The caller's role on its host, capped at viewer on Capstan's own container.
    pub role: Role,
    /// Capstan's own container, seen by someone who is not an admin.
    pub own: bool,
    pub host_name: String,
    /// The host's engine address (for where published ports are reachable).
    pub engine_url: String,
}

/// What a create made, for its audit step.
fn created_id(created: &Created, params: &mut serde_json::Map<String, serde_json::Value>) {
    params.insert("created_id".into(), created.id.clone().into());
}

/// The host's name and engine address, for pages that show them.
fn host_facts(h: &Host) -> (String, String) {
    (h.name.clone(), h.engine.spec().url.clone())
}

impl Ops {
    /// The containers of every host the caller may view (`docker ps` over the fleet).
    pub async fn containers(&self, c: &Caller, query: &ListQuery) -> FleetContainers {
        crate::containers::list(self.fleet(), &c.who, query).await
    }

    /// [`Ops::containers`] as the REST API's JSON array.
    pub async fn containers_json(&self, c: &Caller, query: &ListQuery) -> Result<FleetJson> {
        crate::containers::list_json(self.fleet(), &c.who, query).await
    }

    /// One host's containers, with the host's name and engine address.
    pub async fn containers_on(
        &self,
        c: &Caller,
        host: &str,
        query: &ListQuery,
    ) -> Result<(Vec<ContainerSummary>, (String, String))> {
        self.on_host(c, &LIST, (host, None), step_params!(), |h| async move {
            Ok((h.engine.list_containers(query).await?, host_facts(&h)))
        })
        .await
    }

    /// One host's containers as the REST API's JSON array.
    pub async fn containers_on_json(
        &self,
        c: &Caller,
        host: &str,
        query: &ListQuery,
    ) -> Result<Vec<u8>> {
        self.on_host(c, &LIST, (host, None), step_params!(), |h| async move {
            h.engine.list_containers_json(query, &h.slug).await
        })
        .await
    }

    /// `docker inspect`, with the environment's values hidden from whoever may not read them.
    pub async fn container(&self, c: &Caller, host: &str, id: &str) -> Result<Inspected> {
        self.on_host(c, &GET, (host, Some(id)), step_params!(), |h| async move {
            let mut detail = h.engine.inspect_container(id).await?;
            let own = !c.who.admin && h.engine.is_own_container(&detail.id).await?;
            if !self
                .guardrails
                .env_shown(&h.engine, &c.who, &h.slug, &detail.id)
                .await?
            {
                detail.hide_env();
            }
            let role = c.who.role_on(&h.slug).unwrap_or(Role::Viewer);
            let (host_name, engine_url) = host_facts(&h);
            Ok(Inspected {
                detail,
                role: if own { Role::Viewer } else { role },
                own,
                host_name,
                engine_url,
            })
        })
        .await
    }

    /// A container's configuration as a run spec (to duplicate or edit it), environment values
    /// hidden as in [`Ops::container`].
    pub async fn container_spec(&self, c: &Caller, host: &str, id: &str) -> Result<RunSpec> {
        self.on_host(c, &SPEC, (host, Some(id)), step_params!(), |h| async move {
            let mut spec = h.engine.run_spec_of(id).await?;
            if !self
                .guardrails
                .env_shown(&h.engine, &c.who, &h.slug, id)
                .await?
            {
                crate::engine::hide_env_lines(&mut spec.env);
            }
            Ok(spec)
        })
        .await
    }

    /// The same action on many containers, on any hosts, a few at a time: each target is its
    /// own use case (authorized, done and recorded on its own, failing on its own), and its
    /// result comes back in the order asked. 422 on `targets` for none or more than
    /// [`BULK_LIMIT`].
    pub async fn bulk(
        &self,
        c: &Caller,
        act: &BulkAct,
        targets: &[(String, String)],
    ) -> Result<Vec<Result<()>>> {
        use futures::StreamExt;
        if targets.is_empty() || targets.len() > BULK_LIMIT {
            return Err(crate::Error::invalid(
                "targets",
                format!("name between 1 and {BULK_LIMIT} containers"),
            ));
        }
        Ok(futures::stream::iter(targets.to_vec())
            .map(|(host, id)| async move {
                let result = match act {
                    BulkAct::Lifecycle(l) => self.lifecycle(c, &host, &id, l).await,
                    BulkAct::Remove { force, volumes } => {
                        self.remove_container(c, &host, &id, *force, *volumes).await
                    }
                };
                if let Err(e) = &result {
                    tracing::debug!(host = %host, container = %id, error = %e.log_detail(), "a bulk action's target failed");
                }
                result
            })
            .buffered(BULK_AT_ONCE)
            .collect()
            .await)
    }

    /// What an edit of the container cannot take to the new one, for the person to read first.
    pub async fn container_carry_over(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
    ) -> Result<CarryOver> {
        self.on_host(
            c,
            &CARRY_OVER,
            (host, Some(id)),
            step_params!(),
            |h| async move { h.engine.carry_over(id).await },
        )
        .await
    }

    /// `docker run`: creates (pulling the image when the host lacks it) and, with `spec.start`,
    /// starts a container, within the host's guardrails. A create that fails leaves nothing.
    pub async fn create_container(
        &self,
        c: &Caller,
        host: &str,
        spec: &RunSpec,
    ) -> Result<Created> {
        // The spec's own fields, as the REST body names them.
        let params = serde_json::to_value(spec).unwrap_or_default();
        self.on_host_then(
            c,
            &CREATE,
            (host, None),
            params,
            |h| async move {
                let limits = self.guardrails.limits_for(&c.who, &h.slug).await?;
                h.engine.run_container_within(spec, limits.as_ref()).await
            },
            created_id,
        )
        .await
    }

    /// Replaces a container under the same name: with its own settings, or edited. Nothing is
    /// touched when the spec is refused; a failure later puts the old container back.
    pub async fn recreate_container(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
        how: &Recreate,
    ) -> Result<Created> {
        let params = match how {
            Recreate::Same => step_params!(),
            Recreate::Edit { spec, pull } => step_params!("spec": spec, "pull": pull),
        };
        self.on_host_then(
            c,
            &RECREATE,
            (host, Some(id)),
            params,
            |h| async move {
                let limits = self.guardrails.limits_for(&c.who, &h.slug).await?;
                guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Recreate).await?;
                match how {
                    Recreate::Same => {
                        h.engine
                            .recreate_container_within(id, limits.as_ref())
                            .await
                    }
                    Recreate::Edit { spec, pull } => {
                        h.engine
                            .replace_container_within(id, spec, *pull, limits.as_ref())
                            .await
                    }
                }
            },
            created_id,
        )
        .await
    }

    /// Starts, stops, restarts, kills, pauses or unpauses a container.
    pub async fn lifecycle(&self, c: &Caller, host: &str, id: &str, act: &Lifecycle) -> Result<()> {
        let params = match act {
            Lifecycle::Stop(t) | Lifecycle::Restart(t) => step_params!("t": t),
            Lifecycle::Kill(signal) => step_params!("signal": signal),
            _ => step_params!(),
        };
        self.on_host(c, act.op(), (host, Some(id)), params, |h| async move {
            guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Lifecycle).await?;
            let e = &h.engine;
            match act {
                Lifecycle::Start => e.start_container(id).await,
                Lifecycle::Stop(t) => e.stop_container(id, *t).await,
                Lifecycle::Restart(t) => e.restart_container(id, *t).await,
                Lifecycle::Kill(signal) => e.kill_container(id, signal.as_deref()).await,
                Lifecycle::Pause => e.pause_container(id).await,
                Lifecycle::Unpause => e.unpause_container(id).await,
            }
        })
        .await
    }

    /// `docker rename`.
    pub async fn rename_container(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
        name: &str,
    ) -> Result<()> {
        let name = name.trim();
        self.on_host(
            c,
            &RENAME,
            (host, Some(id)),
            step_params!("name": name),
            |h| async move {
                guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Rename).await?;
                h.engine.rename_container(id, name).await
            },
        )
        .await
    }

    /// `docker rm`, with `--force` and `--volumes`.
    pub async fn remove_container(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
        force: bool,
        volumes: bool,
    ) -> Result<()> {
        let params = step_params!("force": force, "volumes": volumes);
        self.on_host(c, &REMOVE, (host, Some(id)), params, |h| async move {
            guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Remove).await?;
            h.engine.remove_container(id, force, volumes).await
        })
        .await
    }

    /// `docker top`, with `ps` arguments.
    pub async fn container_top(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
        ps_args: Option<&str>,
    ) -> Result<ProcessList> {
        self.on_host(c, &TOP, (host, Some(id)), step_params!(), |h| async move {
            guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Top).await?;
            h.engine.container_top(id, ps_args).await
        })
        .await
    }

    /// `docker diff`.
    pub async fn container_changes(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
    ) -> Result<Vec<FsChange>> {
        self.on_host(
            c,
            &CHANGES,
            (host, Some(id)),
            step_params!(),
            |h| async move {
                guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Files).await?;
                h.engine.container_changes(id).await
            },
        )
        .await
    }

    /// `docker commit` → the new image's id.
    pub async fn commit_container(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
        options: &CommitOptions,
    ) -> Result<String> {
        let params = step_params!("repo": options.repo, "tag": options.tag);
        self.on_host(c, &COMMIT, (host, Some(id)), params, |h| async move {
            guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Commit).await?;
            h.engine.commit_container(id, options).await
        })
        .await
    }

    /// A folder's direct children in the container (`/` when `path` is empty).
    pub async fn container_dir(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
        path: &str,
    ) -> Result<DirListing> {
        let path = if path.is_empty() { "/" } else { path };
        self.on_host(
            c,
            &FILES,
            (host, Some(id)),
            step_params!("path": path),
            |h| async move {
                guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Files).await?;
                h.engine.list_container_dir(id, path).await
            },
        )
        .await
    }

    /// `docker export`: the container's filesystem as a tar, streamed.
    pub async fn export_container(&self, c: &Caller, host: &str, id: &str) -> Result<Download> {
        self.on_host(
            c,
            &EXPORT,
            (host, Some(id)),
            step_params!(),
            |h| async move {
                guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Export).await?;
                h.engine.export_container(id).await
            },
        )
        .await
    }

    /// `docker cp` out: a file or folder as a tar, streamed.
    pub async fn download_files(
        &self,
        c: &Caller,
        host: &str,
        id: &str,
        path: &str,
    ) -> Result<Download> {
        self.on_host(
            c,
            &DOWNLOAD,
            (host, Some(id)),
            step_params!("path": path),
            |h| async move {
                guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Files).await?;
                h.engine.archive_download(id, path).await
            },
        )
        .await
    }

    /// `docker cp` in: a tar or one file into the folder `path`. The folder is checked before
    /// the body is read; the body is spooled within the upload's limit before the engine sees a
    /// byte, so nothing is written when it is too large.
    pub async fn upload_files<S, E>(
        &self,
        c: &Caller,
        (host, id): (&str, &str),
        (path, content): (&str, UploadContent),
        upload: Upload<S>,
    ) -> Result<()>
    where
        S: futures::Stream<Item = std::result::Result<bytes::Bytes, E>> + Send,
        E: std::fmt::Display,
    {
        let params = match &content {
            UploadContent::Tar => step_params!("path": path),
            UploadContent::File { name } => step_params!("path": path, "name": name),
        };
        self.on_host(c, &UPLOAD, (host, Some(id)), params, |h| async move {
            guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Files).await?;
            let target = h.engine.upload_target(id, path).await?;
            let body = spool_within(upload).await?;
            h.engine.archive_upload(&target, content, body).await
        })
        .await
    }
}
