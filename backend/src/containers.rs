//! Containers across the fleet: every host the person may see, queried in parallel, each held
//! to the fleet's deadline. A host that is down or slow becomes a notice, never a failed list.

use futures::future::join_all;

use crate::engine::{container_list, read_sized, ContainerSummary, Engine, ListQuery};
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

/// Asks every host `who` may view, in parallel, each held to the fleet's deadline: the answers
/// in the fleet's order, and the hosts that did not answer.
async fn ask_visible<T, F, Fut>(fleet: &Fleet, who: &Principal, ask: F) -> (Vec<(String, T)>, Vec<HostProblem>)
where
    F: Fn(&Engine) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let hosts: Vec<Host> = fleet
        .hosts()
        .iter()
        .filter(|h| authorize(who, &h.slug, HostAction::View).is_ok())
        .cloned()
        .collect();
    let deadline = fleet.deadline();
    let ask = &ask;
    let answers = join_all(hosts.iter().map(|h| async move {
        let result = tokio::time::timeout(deadline, ask(&h.engine))
            .await
            .unwrap_or(Err(Error::EngineTimeout));
        (h.slug.clone(), result)
    }))
    .await;
    let mut answered = Vec::with_capacity(answers.len());
    let mut unreachable = Vec::new();
    for (host, result) in answers {
        match result {
            Ok(answer) => answered.push((host, answer)),
            Err(e) => unreachable.push(problem(host, e)),
        }
    }
    (answered, unreachable)
}

fn problem(host: String, e: Error) -> HostProblem {
    tracing::debug!(host = %host, error = %e.log_detail(), "listing containers failed");
    HostProblem {
        host,
        error: e.public_message(),
    }
}

/// The containers of every host `who` may view, filtered and ordered by `query`.
pub async fn list(fleet: &Fleet, who: &Principal, query: &ListQuery) -> FleetContainers {
    let (answered, unreachable) = ask_visible(fleet, who, |e| e.list_containers(query)).await;
    let mut out = FleetContainers {
        containers: Vec::with_capacity(answered.iter().map(|(_, list)| list.len()).sum()),
        unreachable,
    };
    for (host, list) in answered {
        out.containers
            .extend(list.into_iter().map(|container| HostContainer {
                host: host.clone(),
                container,
            }));
    }
    query.sort_by(&mut out.containers, |c| (&c.container, c.host.as_str()));
    out.unreachable.sort_by(|a, b| a.host.cmp(&b.host));
    out
}

/// The fleet-wide list as the REST API writes it, made straight from the engines' answers
/// ([`container_list::json_for_hosts`]): the JSON array of the same containers, in the same
/// order, as [`list`] gives, and the hosts that could not be listed.
pub struct FleetJson {
    pub json: Vec<u8>,
    pub unreachable: Vec<HostProblem>,
}

/// [`list`] written as the REST API's JSON array (`GET /api/v1/containers`).
pub async fn list_json(fleet: &Fleet, who: &Principal, query: &ListQuery) -> Result<FleetJson, Error> {
    let (answers, mut unreachable) = ask_visible(fleet, who, |e| e.list_answer(query)).await;
    let len = answers.iter().map(|(_, body)| body.len()).sum();
    let owned = query.clone();
    let (json, unreadable) =
        read_sized(len, move || container_list::json_for_hosts(&answers, &owned)).await?;
    unreachable.extend(unreadable.into_iter().map(|(host, e)| problem(host, e)));
    unreachable.sort_by(|a, b| a.host.cmp(&b.host));
    Ok(FleetJson { json, unreachable })
}
