//! Live views: a container's logs (followed or downloaded), its stats, a host's usage, the
//! engines' events and the terminal. The streams are shared between viewers through the
//! server's [`Hub`]; the door that carries one ends it when the caller's access changes.

use futures::stream::BoxStream;

use super::{Caller, Needs, Op, Ops, Record};
use crate::engine::own::{guard_container, ContainerAct};
use crate::engine::{ContainerDetail, Engine};
use crate::error::Result;
use crate::fleet::Host;
use crate::live::{
    can_open_terminal, EventFilter, EventItem, FleetItem, HostUsage, Hub, LogFeed, LogQuery,
    StatsItem,
};
use crate::policy::HostAction;
use crate::step_params;

pub const LOGS: Op = Op::read("container.logs");
/// A whole log handed out as a file: recorded like any download.
pub const LOG_DOWNLOAD: Op = Op::answer("container.logs.download", HostAction::View);
pub const STATS: Op = Op::read("container.stats");
pub const HOST_STATS: Op = Op::read("host.stats");
pub const EVENTS: Op = Op::read("host.events");
/// A terminal: recorded when it opens (101, the WebSocket upgrade) and, by the door, when it
/// closes.
pub const EXEC: Op = Op {
    name: "container.exec",
    needs: Needs::Host(HostAction::ManageContainers),
    record: Record::Always,
    ok: 101,
};

/// A container a terminal may be opened in: its engine and what its inspect said.
pub struct ExecTarget {
    pub engine: Engine,
    pub detail: ContainerDetail,
}

/// The engines' events of every host the caller may view, and the hosts it covers.
pub struct FleetFeed {
    pub items: BoxStream<'static, FleetItem>,
    pub hosts: Vec<String>,
}

impl Ops {
    /// A container's logs as `query` selects them (followed while it runs with `follow`).
    pub async fn logs(
        &self,
        c: &Caller,
        hub: &Hub,
        (host, id): (&str, &str),
        query: LogQuery,
    ) -> Result<LogFeed> {
        self.on_host(c, &LOGS, (host, Some(id)), step_params!(), |h| async move {
            guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Logs).await?;
            hub.logs(&h.engine, &h.slug, id, query).await
        })
        .await
    }

    /// A container whose logs the caller may read: its inspect (the log page's sources).
    pub async fn log_source(&self, c: &Caller, host: &str, id: &str) -> Result<ContainerDetail> {
        self.on_host(c, &LOGS, (host, Some(id)), step_params!(), |h| async move {
            guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Logs).await?;
            h.engine.inspect_container(id).await
        })
        .await
    }

    /// A container's whole log (or what `query` selects) to download; never followed.
    pub async fn download_logs(
        &self,
        c: &Caller,
        hub: &Hub,
        (host, id): (&str, &str),
        mut query: LogQuery,
    ) -> Result<LogFeed> {
        query.follow = false;
        self.on_host(
            c,
            &LOG_DOWNLOAD,
            (host, Some(id)),
            step_params!(),
            |h| async move {
                guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Logs).await?;
                hub.logs(&h.engine, &h.slug, id, query).await
            },
        )
        .await
    }

    /// A container's stats, about one sample a second, until it stops.
    pub async fn stats(
        &self,
        c: &Caller,
        hub: &Hub,
        (host, id): (&str, &str),
    ) -> Result<BoxStream<'static, StatsItem>> {
        self.on_host(
            c,
            &STATS,
            (host, Some(id)),
            step_params!(),
            |h| async move { hub.stats(&h.engine, &h.slug, id).await },
        )
        .await
    }

    /// One sample of every running container of a host, and the totals (shared with the
    /// host's other viewers when there is a hub).
    pub async fn host_usage(&self, c: &Caller, hub: Option<&Hub>, host: &str) -> Result<HostUsage> {
        let deadline = self.fleet().deadline();
        self.on_host(
            c,
            &HOST_STATS,
            (host, None),
            step_params!(),
            |h| async move {
                match hub {
                    Some(hub) => hub.host_usage(&h.engine, &h.slug, deadline).await,
                    None => crate::live::host_usage(&h.engine, deadline).await,
                }
            },
        )
        .await
    }

    /// A host's engine events from now on.
    pub async fn events(
        &self,
        c: &Caller,
        hub: &Hub,
        host: &str,
        filter: EventFilter,
    ) -> Result<BoxStream<'static, EventItem>> {
        self.on_host(
            c,
            &EVENTS,
            (host, None),
            step_params!(),
            |h: Host| async move { Ok(hub.events(&h, filter)) },
        )
        .await
    }

    /// The events of every host the caller may view (hosts that could not be set up are left
    /// out), each with its host.
    pub fn fleet_events(&self, c: &Caller, hub: &Hub, filter: &EventFilter) -> FleetFeed {
        let hosts: Vec<Host> = self
            .fleet()
            .visible(&c.who, HostAction::View)
            .into_iter()
            .filter(|h| h.problem.is_none())
            .collect();
        FleetFeed {
            items: hub.fleet_events(&hosts, filter),
            hosts: hosts.into_iter().map(|h| h.slug).collect(),
        }
    }

    /// Opens the way to a terminal: the container must exist and run (409 otherwise, before any
    /// upgrade), and Capstan's own container is refused to non-admins.
    pub async fn exec(
        &self,
        c: &Caller,
        (host, id): (&str, &str),
        shell: &str,
    ) -> Result<ExecTarget> {
        self.on_host(
            c,
            &EXEC,
            (host, Some(id)),
            step_params!("shell": shell),
            |h| async move {
                guard_container(&h.engine, &c.who, &h.slug, id, ContainerAct::Exec).await?;
                let detail = h.engine.inspect_container(id).await?;
                can_open_terminal(&detail)?;
                Ok(ExecTarget {
                    engine: h.engine,
                    detail,
                })
            },
        )
        .await
    }
}
