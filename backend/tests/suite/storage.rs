//! Volumes and networks on the private test engines through `backend::engine`, and the
//! fleet-wide lists with a dead host. Everything made here is named `capstan-<test>-…` and removed.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::{docker_a, env, tls_spec, unique, unix_spec};
use backend::engine::{Engine, EngineSpec, NetworkSpec, Timeouts, VolumeSpec};
use backend::fleet::{Fleet, HostConfig};
use backend::policy::Principal;
use backend::Error;

fn quiet(args: &[&str]) {
    let _ = std::process::Command::new("docker")
        .arg("-H")
        .arg(env("CAPSTAN_TEST_UNIX_URL"))
        .args(args)
        .output();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volumes_on_both_engines() {
    for spec in [unix_spec(), tls_spec()] {
        let engine = Engine::new(spec, Timeouts::default());
        let name = unique("bvol");
        let mut labels = BTreeMap::new();
        labels.insert("capstan-h7".to_owned(), "yes".to_owned());
        let created = engine
            .create_volume(&VolumeSpec {
                name: name.clone(),
                labels,
                ..Default::default()
            })
            .await
            .expect("create");
        assert_eq!(
            (created.driver.as_str(), created.scope.as_str()),
            ("local", "local")
        );
        assert!(matches!(
            engine
                .create_volume(&VolumeSpec {
                    name: name.clone(),
                    ..Default::default()
                })
                .await,
            Err(Error::Conflict(_))
        ));
        let listed = engine.list_volumes().await.expect("list");
        assert!(listed.iter().any(
            |v| v.name == name && v.labels.get("capstan-h7").map(String::as_str) == Some("yes")
        ));
        assert_eq!(
            engine.inspect_volume(&name).await.expect("inspect").name,
            name
        );
        engine.remove_volume(&name, false).await.expect("remove");
        assert!(matches!(
            engine.inspect_volume(&name).await,
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            engine.remove_volume("../x", false).await,
            Err(Error::NotFound(_))
        ));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_volume_in_use_names_its_container() {
    let engine = Engine::new(unix_spec(), Timeouts::default());
    let (volume, container) = (unique("bused"), unique("bc"));
    engine
        .create_volume(&VolumeSpec {
            name: volume.clone(),
            ..Default::default()
        })
        .await
        .expect("create");
    docker_a(&[
        "create",
        "--name",
        &container,
        "-v",
        &format!("{volume}:/data"),
        &env("CAPSTAN_TEST_IMAGE"),
        "true",
    ]);
    let refused = engine.remove_volume(&volume, false).await;
    quiet(&["rm", "-f", &container]);
    let after = engine.remove_volume(&volume, false).await;
    quiet(&["volume", "rm", "-f", &volume]);
    match refused {
        Err(Error::Conflict(m)) => assert!(m.contains(&container), "{m}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    after.expect("removed once the container is gone");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn networks_check_subnets_and_attach_containers() {
    let engine = Engine::new(unix_spec(), Timeouts::default());
    let (name, container) = (unique("bnet"), unique("bnc"));
    let r = rand::random::<u16>();
    let subnet = format!("10.{}.{}.0/24", 150 + r % 40, (r >> 8) % 256);
    let spec = NetworkSpec {
        name: name.clone(),
        subnet: Some(subnet.clone()),
        internal: true,
        ..Default::default()
    };
    let created = engine.create_network(&spec).await.expect("create");
    assert!(created.internal && created.subnets[0].subnet == subnet);
    let overlap = NetworkSpec {
        name: unique("bover"),
        subnet: Some(subnet.clone()),
        ..Default::default()
    };
    let refused = engine.create_network(&overlap).await;
    assert!(
        matches!(&refused, Err(Error::Conflict(m)) if m.starts_with("subnet")),
        "{refused:?}"
    );
    assert!(matches!(
        engine.create_network(&spec).await,
        Err(Error::Conflict(_))
    ));
    let nodriver = NetworkSpec {
        name: unique("bdrv"),
        driver: Some("capstan-h7-nodriver".into()),
        ..Default::default()
    };
    assert!(
        matches!(engine.create_network(&nodriver).await, Err(Error::Invalid { field, .. }) if field == "driver")
    );

    docker_a(&[
        "run",
        "-d",
        "--name",
        &container,
        &env("CAPSTAN_TEST_IMAGE"),
        "sleep",
        "600",
    ]);
    let connected = engine
        .connect_network(&name, &container, &["alias-one".to_owned()])
        .await;
    let inspected = engine.inspect_network(&created.id).await;
    let listed = engine.list_networks().await;
    let removal = engine.remove_network(&name).await;
    let disconnected = engine.disconnect_network(&name, &container, false).await;
    quiet(&["rm", "-f", &container]);
    let removed = engine.remove_network(&name).await;
    quiet(&["network", "rm", &name]);

    connected.expect("connect");
    let inspected = inspected.expect("inspect");
    assert_eq!(
        inspected
            .containers
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>(),
        vec![container.as_str()]
    );
    let listed = listed.expect("list");
    assert!(listed
        .iter()
        .any(|n| n.id == created.id && n.containers.iter().any(|c| c.name == container)));
    assert!(
        matches!(&removal, Err(Error::Conflict(m)) if m.contains(&container)),
        "{removal:?}"
    );
    disconnected.expect("disconnect");
    removed.expect("remove");
    assert!(matches!(
        engine.remove_network("bridge").await,
        Err(Error::Conflict(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fleet_lists_carry_hosts_and_name_the_dead_ones() {
    let fleet = Fleet::new(
        vec![
            HostConfig::new("a", "a", unix_spec()),
            HostConfig::new(
                "dead",
                "dead",
                EngineSpec {
                    url: env("CAPSTAN_TEST_REFUSED_URL"),
                    tls: None,
                },
            ),
        ],
        Timeouts {
            call: Duration::from_secs(5),
        },
        Duration::from_secs(5),
    )
    .expect("fleet");
    let admin = Principal {
        user_id: 1,
        username: "root".into(),
        admin: true,
        roles: BTreeMap::new(),
    };
    let images = backend::storage::images(&fleet, &admin, None).await;
    assert!(images.items.iter().all(|i| i.host == "a") && !images.items.is_empty());
    assert_eq!(
        images
            .unreachable
            .iter()
            .map(|p| p.host.as_str())
            .collect::<Vec<_>>(),
        vec!["dead"]
    );
    let networks = backend::storage::networks(&fleet, &admin).await;
    assert!(networks
        .items
        .iter()
        .any(|n| n.item.name == "bridge" && n.item.builtin));
    let volumes = backend::storage::volumes(&fleet, &admin).await;
    assert_eq!(volumes.unreachable.len(), 1);
    let nobody = Principal {
        user_id: 2,
        username: "n".into(),
        admin: false,
        roles: BTreeMap::new(),
    };
    let none = backend::storage::images(&fleet, &nobody, None).await;
    assert!(none.items.is_empty() && none.unreachable.is_empty());
}
