//! Swarm nodes against engine c, which exists for this: the test makes it a swarm manager and
//! leaves the swarm again, so reruns (and a run after one that crashed mid-way) start clean.

use std::process::Command;
use std::time::Duration;

use crate::common::*;
use backend::engine::{Engine, EngineSpec, SwarmNode};
use bollard::models::SwarmInitRequest;
use bollard::query_parameters::LeaveSwarmOptions;
use bollard::Docker;

fn swarm_url() -> String {
    std::env::var("CAPSTAN_TEST_SWARM_URL").unwrap_or_else(|_| {
        panic!("CAPSTAN_TEST_SWARM_URL is not set: run `scripts/testenv.sh up c` (or `./dev test`)")
    })
}

/// Leaves the swarm when dropped, so a failed assertion does not leave engine c a manager.
struct LeaveOnDrop(String);

impl Drop for LeaveOnDrop {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["-H", &self.0, "swarm", "leave", "--force"])
            .output();
    }
}

async fn leave(docker: &Docker) {
    match docker
        .leave_swarm(Some(LeaveSwarmOptions { force: true }))
        .await
    {
        // 503: the engine is not part of a swarm, which is what leaving is for.
        Ok(())
        | Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 503, ..
        }) => {}
        Err(e) => panic!("leave the swarm: {e}"),
    }
}

async fn nodes_when_ready(e: &Engine) -> Vec<SwarmNode> {
    let mut nodes = Vec::new();
    for _ in 0..50 {
        nodes = e.swarm_nodes().await.expect("nodes");
        if nodes.iter().all(|n| n.status == "ready") && !nodes.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    nodes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_swarm_manager_lists_its_nodes_and_a_left_swarm_lists_none() {
    let url = swarm_url();
    let docker = Docker::connect_with_unix(&url, 30, bollard::API_DEFAULT_VERSION)
        .expect("client")
        .negotiate_version()
        .await
        .expect("engine c is up");
    // A crashed earlier run may have left engine c in a swarm: start from none.
    leave(&docker).await;
    let _leave = LeaveOnDrop(url.clone());
    let e = engine(EngineSpec { url, tls: None });
    assert_eq!(
        e.swarm_nodes().await.expect("nodes"),
        vec![],
        "outside a swarm there are no nodes"
    );

    docker
        .init_swarm(SwarmInitRequest {
            // Loopback and a free port: the machine's own engine may be listening on 2377.
            listen_addr: Some(format!("127.0.0.1:{}", free_port())),
            advertise_addr: Some("127.0.0.1".into()),
            ..Default::default()
        })
        .await
        .expect("swarm init");

    let nodes = nodes_when_ready(&e).await;
    assert_eq!(nodes.len(), 1, "{nodes:?}");
    let n = &nodes[0];
    assert!(!n.id.is_empty() && !n.hostname.is_empty(), "{n:?}");
    assert_eq!(n.role, "manager");
    assert_eq!(n.manager_status.as_deref(), Some("leader"));
    assert_eq!(n.status, "ready");
    assert_eq!(n.availability, "active");
    assert_eq!(n.address, "127.0.0.1");
    assert!(n.platform.starts_with("linux/"), "{}", n.platform);

    let probe = e.probe().await.expect("probe");
    assert!(
        n.engine_version == probe.summary.engine_version,
        "{} vs {}",
        n.engine_version,
        probe.summary.engine_version
    );
    assert_eq!(
        probe.summary.swarm_role, "manager",
        "the hosts summary names the role"
    );
    let info = e.info().await.expect("info");
    assert_eq!(info.swarm_state, "active");
    assert!(info.swarm_manager);
    assert_eq!((info.swarm_nodes, info.swarm_managers), (1, 1));

    leave(&docker).await;
    assert_eq!(
        e.swarm_nodes().await.expect("nodes"),
        vec![],
        "after leaving, no nodes again"
    );
    assert_eq!(e.probe().await.expect("probe").summary.swarm_role, "");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_engine_outside_a_swarm_has_no_nodes() {
    assert_eq!(
        engine(EngineSpec {
            url: env("CAPSTAN_TEST_UNIX_URL"),
            tls: None
        })
        .swarm_nodes()
        .await
        .expect("nodes"),
        vec![]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_of_an_unreachable_engine_are_an_error_not_an_empty_list() {
    let result = engine(EngineSpec {
        url: env("CAPSTAN_TEST_REFUSED_URL"),
        tls: None,
    })
    .swarm_nodes()
    .await;
    assert!(
        matches!(result, Err(backend::Error::EngineUnreachable { .. })),
        "{result:?}"
    );
}
