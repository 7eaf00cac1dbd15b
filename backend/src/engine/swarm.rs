//! `docker node ls`: the nodes of the swarm an engine manages.

use bollard::models::{Node, NodeState};

use super::Engine;
use crate::error::{Error, Result};

pub use wire::system::SwarmNode;

impl Engine {
    /// The swarm's nodes when this engine is a swarm manager; empty when it is not in a swarm
    /// or is a worker (the engine refuses node listings to both with 503). Managers first, the
    /// leader at the top, then by host name.
    pub async fn swarm_nodes(&self) -> Result<Vec<SwarmNode>> {
        let nodes = match self
            .call(|d| async move {
                d.list_nodes(None::<bollard::query_parameters::ListNodesOptions>)
                    .await
            })
            .await
        {
            Ok(nodes) => nodes,
            Err(Error::Engine { status: 503, .. }) => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut nodes: Vec<SwarmNode> = nodes.into_iter().map(convert).collect();
        nodes.sort_by(|a, b| {
            let rank = |n: &SwarmNode| match (n.manager_status.as_deref(), n.role.as_str()) {
                (Some("leader"), _) => 0,
                (_, "manager") => 1,
                _ => 2,
            };
            rank(a)
                .cmp(&rank(b))
                .then_with(|| a.hostname.cmp(&b.hostname))
                .then_with(|| a.id.cmp(&b.id))
        });
        Ok(nodes)
    }
}

fn convert(node: Node) -> SwarmNode {
    let spec = node.spec.unwrap_or_default();
    let description = node.description.unwrap_or_default();
    let status = node.status.unwrap_or_default();
    let manager = node.manager_status;
    let manager_status = manager.as_ref().map(|m| {
        if m.leader.unwrap_or(false) {
            "leader".to_string()
        } else {
            m.reachability
                .map(|r| r.to_string())
                .unwrap_or_else(|| "unknown".into())
        }
    });
    // A node that joined with the default listen address reports 0.0.0.0; its manager
    // address then says where it really is.
    let manager_host = manager
        .as_ref()
        .and_then(|m| m.addr.as_deref())
        .map(|a| a.rsplit_once(':').map_or(a, |(host, _)| host).to_string());
    let address = status
        .addr
        .filter(|a| !a.is_empty() && a != "0.0.0.0")
        .or(manager_host)
        .unwrap_or_default();
    let platform = description
        .platform
        .map(|p| {
            let os = p.os.unwrap_or_default();
            let arch = p.architecture.unwrap_or_default();
            if os.is_empty() || arch.is_empty() {
                format!("{os}{arch}")
            } else {
                format!("{os}/{arch}")
            }
        })
        .unwrap_or_default();
    SwarmNode {
        id: node.id.unwrap_or_default(),
        hostname: description.hostname.unwrap_or_default(),
        role: spec.role.map(|r| r.to_string()).unwrap_or_default(),
        availability: spec.availability.map(|a| a.to_string()).unwrap_or_default(),
        status: status.state.unwrap_or(NodeState::UNKNOWN).to_string(),
        manager_status,
        engine_version: description
            .engine
            .and_then(|e| e.engine_version)
            .unwrap_or_default(),
        address,
        platform,
    }
}
