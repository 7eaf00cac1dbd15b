//! Containers across the fleet: every host the person may see, queried in parallel, each held
//! to the fleet's deadline. A host that is down or slow becomes a notice, never a failed list.

use futures::future::join_all;

use crate::engine::container_list::{self, HostShare};
use crate::engine::{read_sized, ContainerSummary, ListQuery};
use crate::error::Error;
use crate::fleet::{Fleet, Host};
use crate::policy::{HostAction, Principal};

/// A container and the host it runs on.
#[derive(Debug, Clone, PartialEq)]
pub struct HostContainer {
    pub host: String,
    pub container: ContainerSummary,
}

pub use wire::containers::HostProblem;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct FleetContainers {
    pub containers: Vec<HostContainer>,
    pub unreachable: Vec<HostProblem>,
}

/// Asks every host `who` may view, in parallel, each held to the fleet's deadline: the answers
/// in the fleet's order, and the hosts that did not answer.
async fn ask_visible<T, F, Fut>(
    fleet: &Fleet,
    who: &Principal,
    ask: F,
) -> (Vec<(String, T)>, Vec<HostProblem>)
where
    F: Fn(Host) -> Fut,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let hosts: Vec<Host> = fleet.visible(who, HostAction::View);
    let deadline = fleet.deadline();
    let ask = &ask;
    let answers = join_all(hosts.into_iter().map(|h| async move {
        let slug = h.slug.clone();
        let result = tokio::time::timeout(deadline, ask(h))
            .await
            .unwrap_or(Err(Error::EngineTimeout));
        (slug, result)
    }))
    .await;
    let mut answered = Vec::with_capacity(answers.len());
    let mut unreachable = Vec::new();
    for (host, result) in answers {
        match result {
            Ok(answer) => answered.push((host, answer)),
            Err(e) => {
                tracing::debug!(host = %host, error = %e.log_detail(), "listing containers failed");
                unreachable.push(HostProblem {
                    host,
                    error: e.public_message(),
                });
            }
        }
    }
    unreachable.sort_by(|a, b| a.host.cmp(&b.host));
    (answered, unreachable)
}

/// The containers of every host `who` may view, filtered and ordered by `query`.
pub async fn list(fleet: &Fleet, who: &Principal, query: &ListQuery) -> FleetContainers {
    let (answered, unreachable) = ask_visible(fleet, who, |h| async move {
        h.engine.list_containers(query).await
    })
    .await;
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
    query.keep_newest(&mut out.containers, |c| &c.container);
    query.sort_by(&mut out.containers, |c| (&c.container, c.host.as_str()));
    out
}

/// The fleet-wide list as the REST API writes it: the JSON array of the same containers, in
/// the same order, as [`list`] gives, and the hosts that could not be listed.
pub struct FleetJson {
    pub json: Vec<u8>,
    pub unreachable: Vec<HostProblem>,
}

/// [`list`] written as the REST API's JSON array (`GET /api/v1/containers`), made straight from
/// the engines' answers: each host's share is read and written as soon as it answers
/// ([`HostShare`]; an answer that cannot be read makes its host unreachable), then the shares
/// are ordered together.
pub async fn list_json(
    fleet: &Fleet,
    who: &Principal,
    query: &ListQuery,
) -> Result<FleetJson, Error> {
    let (shares, unreachable) = ask_visible(fleet, who, |h| async move {
        let body = h.engine.list_answer(query).await?;
        let query = query.clone();
        read_sized(body.len(), move || HostShare::read(&body, &h.slug, &query)).await
    })
    .await;
    let len = shares.iter().map(|(_, share)| share.json_len()).sum();
    let query = query.clone();
    let json = read_sized(len, move || {
        Ok(container_list::json_for_hosts(&shares, &query))
    })
    .await?;
    Ok(FleetJson { json, unreachable })
}
