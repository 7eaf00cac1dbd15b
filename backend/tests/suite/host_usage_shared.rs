//! A host's totals are shared between viewers: concurrent callers cost one fan-out over the
//! running containers, and a result is reused for a few seconds.

use std::time::Duration;

use crate::common::{docker_a, env, unix_spec};
use backend::engine::{Engine, Timeouts};
use backend::live::{Hub, HubConfig};
use tokio_util::sync::CancellationToken;

struct Container(String);

impl Drop for Container {
    fn drop(&mut self) {
        docker_a(&["rm", "-f", &self.0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_viewers_share_one_fan_out() {
    let name = "capstan-sec-usage-shared";
    docker_a(&["rm", "-f", name]);
    docker_a(&[
        "run",
        "-d",
        "--name",
        name,
        &env("CAPSTAN_TEST_IMAGE"),
        "sleep",
        "120",
    ]);
    let _c = Container(name.to_owned());
    let shutdown = CancellationToken::new();
    let hub = Hub::new(HubConfig::default(), shutdown.clone());
    let engine = Engine::new(
        unix_spec(),
        Timeouts {
            call: Duration::from_secs(10),
        },
    );

    let calls = (0..6).map(|_| hub.host_usage(&engine, "a", Duration::from_secs(10)));
    let results = futures::future::join_all(calls).await;
    for usage in results {
        let usage = usage.expect("host usage");
        assert!(usage.containers.iter().any(|c| c.name == name), "{usage:?}");
    }
    assert_eq!(
        hub.host_usage_fanouts(),
        1,
        "six viewers at once cost one fan-out"
    );

    // Within the freshness window a later viewer gets the same result without a fan-out.
    hub.host_usage(&engine, "a", Duration::from_secs(10))
        .await
        .expect("cached");
    assert_eq!(hub.host_usage_fanouts(), 1);
    // Another host is its own entry.
    hub.host_usage(&engine, "b", Duration::from_secs(10))
        .await
        .expect("other host");
    assert_eq!(hub.host_usage_fanouts(), 2);
    shutdown.cancel();
}
