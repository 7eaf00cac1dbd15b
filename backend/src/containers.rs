//! Containers across the fleet: every host the person may see, queried in parallel, each held
//! to the fleet's deadline. A host that is down or slow becomes a notice, never a failed list.

use futures::future::join_all;

use crate::engine::{ContainerSummary, ListQuery};
use crate::error::Error;
use crate::fleet::{Fleet, Host};
use crate::policy::{authorize, HostAction, Principal};

/// A container and the host it runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct HostContainer {
    pub host: String,
    pub container: ContainerSummary,
}

/// A host whose containers could not be listed, and why (in words safe to show).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostProblem {
    pub host: String,
    pub error: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetContainers {
    pub containers: Vec<HostContainer>,
    pub unreachable: Vec<HostProblem>,
}

/// The containers of every host `who` may view, filtered and ordered by `query`.
pub async fn list(fleet: &Fleet, who: &Principal, query: &ListQuery) -> FleetContainers {
    let hosts: Vec<Host> = fleet
        .hosts()
        .iter()
        .filter(|h| authorize(who, &h.slug, HostAction::View).is_ok())
        .cloned()
        .collect();
    let deadline = fleet.deadline();
    let answers = join_all(hosts.iter().map(|h| async move {
        let result = tokio::time::timeout(deadline, h.engine.list_containers(query))
            .await
            .unwrap_or(Err(Error::EngineTimeout));
        (h.slug.clone(), result)
    }))
    .await;
    let mut out = FleetContainers::default();
    for (host, result) in answers {
        match result {
            Ok(list) => out
                .containers
                .extend(list.into_iter().map(|container| HostContainer {
                    host: host.clone(),
                    container,
                })),
            Err(e) => {
                tracing::debug!(host = %host, error = %e.log_detail(), "listing containers failed");
                out.unreachable.push(HostProblem {
                    host,
                    error: e.public_message(),
                });
            }
        }
    }
    query.sort_by(&mut out.containers, |c| (&c.container, c.host.as_str()));
    out.unreachable.sort_by(|a, b| a.host.cmp(&b.host));
    out
}
