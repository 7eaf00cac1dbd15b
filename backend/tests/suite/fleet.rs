//! The fleet's fan-out: every host probed in parallel, a dead or hanging host reported as down
//! with its reason and never holding up the others beyond the deadline.

use std::time::{Duration, Instant};

use crate::common::*;
use backend::engine::{EngineSpec, Timeouts};
use backend::error::Error;
use backend::fleet::{validate_slug, Fleet, Health, HostConfig};

fn host(slug: &str, engine: EngineSpec) -> HostConfig {
    HostConfig::new(slug, slug, engine)
}

#[tokio::test]
async fn statuses_keep_order_and_tell_up_from_down() {
    let fleet = Fleet::new(
        vec![
            host("unix", unix_spec()),
            host("tls", tls_spec()),
            host(
                "stopped",
                EngineSpec {
                    url: env("CAPSTAN_TEST_REFUSED_URL"),
                    tls: None,
                },
            ),
        ],
        Timeouts::default(),
        Duration::from_secs(5),
    )
    .expect("valid fleet");
    let statuses = fleet.statuses().await;
    let slugs: Vec<_> = statuses.iter().map(|s| s.slug.as_str()).collect();
    assert_eq!(slugs, ["unix", "tls", "stopped"]);
    assert!(matches!(statuses[0].health, Health::Up { .. }));
    assert!(matches!(statuses[1].health, Health::Up { .. }));
    assert!(statuses[1].tls);
    match &statuses[2].health {
        Health::Down { error } => assert!(error.contains("connection refused"), "{error}"),
        up => panic!("stopped engine reported {up:?}"),
    }
}

#[tokio::test]
async fn a_hanging_engine_does_not_hold_up_the_others() {
    let addr = hanging_engine().await;
    let fleet = Fleet::new(
        vec![
            host(
                "hangs",
                EngineSpec {
                    url: format!("tcp://{addr}"),
                    tls: None,
                },
            ),
            host("unix", unix_spec()),
        ],
        Timeouts {
            call: Duration::from_secs(30),
        },
        Duration::from_secs(1),
    )
    .expect("valid fleet");
    let started = Instant::now();
    let statuses = fleet.statuses().await;
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the deadline bounds the fan-out"
    );
    assert!(matches!(&statuses[0].health, Health::Down { error } if error.contains("in time")));
    assert!(matches!(statuses[1].health, Health::Up { .. }));
}

#[test]
fn slugs_follow_the_contract() {
    for ok in ["local", "build-01", "a", "0", &"a".repeat(63)] {
        validate_slug(ok).expect(ok);
    }
    for bad in ["", "-a", "Local", "a_b", "a.b", &"a".repeat(64)] {
        assert!(
            matches!(validate_slug(bad), Err(Error::Invalid { .. })),
            "{bad}"
        );
    }
}

#[test]
fn duplicate_and_invalid_hosts_are_refused() {
    let spec = EngineSpec {
        url: "unix:///run/docker.sock".into(),
        tls: None,
    };
    let dup = Fleet::new(
        vec![host("a", spec.clone()), host("a", spec.clone())],
        Timeouts::default(),
        Duration::from_secs(1),
    );
    assert!(matches!(dup, Err(Error::Conflict(_))));
    let bad = Fleet::new(
        vec![host("Bad Slug", spec)],
        Timeouts::default(),
        Duration::from_secs(1),
    );
    assert!(matches!(bad, Err(Error::Invalid { .. })));
}
