//! Images, volumes and networks across the fleet: every host the person may see, queried in
//! parallel, each held to the fleet's deadline. A host that is down or slow becomes a notice,
//! never a failed list.

use std::future::Future;

use futures::future::join_all;

use crate::containers::HostProblem;
use crate::engine::{Engine, ImageSummary, NetworkDetail, VolumeInfo};
use crate::error::{Error, Result};
use crate::fleet::{Fleet, Host};
use crate::policy::{HostAction, Principal};

/// An object and the host it is on.
#[derive(Debug, Clone, PartialEq)]
pub struct OnHost<T> {
    pub host: String,
    pub item: T,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FleetList<T> {
    /// By host, then in each engine's order.
    pub items: Vec<OnHost<T>>,
    pub unreachable: Vec<HostProblem>,
}

impl<T> Default for FleetList<T> {
    fn default() -> Self {
        FleetList {
            items: Vec::new(),
            unreachable: Vec::new(),
        }
    }
}

async fn fan_out<T, F, Fut>(fleet: &Fleet, who: &Principal, what: &str, list: F) -> FleetList<T>
where
    F: Fn(Engine) -> Fut,
    Fut: Future<Output = Result<Vec<T>>>,
{
    let mut hosts: Vec<Host> = fleet.visible(who, HostAction::View);
    hosts.sort_by(|a, b| a.slug.cmp(&b.slug));
    let deadline = fleet.deadline();
    let answers = join_all(hosts.iter().map(|h| {
        let work = list(h.engine.clone());
        async move {
            let result = tokio::time::timeout(deadline, work)
                .await
                .unwrap_or(Err(Error::EngineTimeout));
            (h.slug.clone(), result)
        }
    }))
    .await;
    let mut out = FleetList::default();
    for (host, result) in answers {
        match result {
            Ok(list) => out.items.extend(list.into_iter().map(|item| OnHost {
                host: host.clone(),
                item,
            })),
            Err(e) => {
                tracing::debug!(host = %host, error = %e.log_detail(), "listing {what} failed");
                out.unreachable.push(HostProblem {
                    host,
                    error: e.public_message(),
                });
            }
        }
    }
    out
}

/// The images of every host `who` may view (only dangling or only tagged ones with `dangling`).
pub async fn images(
    fleet: &Fleet,
    who: &Principal,
    dangling: Option<bool>,
) -> FleetList<ImageSummary> {
    fan_out(fleet, who, "images", |e| async move {
        e.list_images(dangling).await
    })
    .await
}

/// The volumes of every host `who` may view.
pub async fn volumes(fleet: &Fleet, who: &Principal) -> FleetList<VolumeInfo> {
    fan_out(
        fleet,
        who,
        "volumes",
        |e| async move { e.list_volumes().await },
    )
    .await
}

/// The networks of every host `who` may view.
pub async fn networks(fleet: &Fleet, who: &Principal) -> FleetList<NetworkDetail> {
    fan_out(fleet, who, "networks", |e| async move {
        e.list_networks().await
    })
    .await
}
