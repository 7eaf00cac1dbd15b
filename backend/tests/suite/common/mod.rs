//! The private engines that `./dev test` starts (scripts/testenv.sh) and how to reach them.
#![allow(dead_code)]

use std::process::Command;

use std::time::Duration;

use backend::engine::{Engine, EngineSpec, Timeouts, TlsFiles};

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with `./dev test`, which starts the test engines")
    })
}

pub fn unix_spec() -> EngineSpec {
    EngineSpec {
        url: env("CAPSTAN_TEST_UNIX_URL"),
        tls: None,
    }
}

pub fn tls_spec() -> EngineSpec {
    EngineSpec {
        url: env("CAPSTAN_TEST_TLS_URL"),
        tls: Some(TlsFiles::from_dir(env("CAPSTAN_TEST_TLS_DIR")).into()),
    }
}

/// The docker CLI against the unix test engine, for arranging state the backend cannot yet create.
pub fn docker_a(args: &[&str]) -> String {
    let out = Command::new("docker")
        .arg("-H")
        .arg(env("CAPSTAN_TEST_UNIX_URL"))
        .args(args)
        .output()
        .expect("docker CLI runs");
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// A TCP listener that accepts connections and never answers: the worst kind of dead engine.
/// Returns its address; it lives until the test's runtime ends.
pub async fn hanging_engine() -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = listener.accept().await {
            held.push(s);
        }
    });
    addr
}

/// An admin, for tests that reach hosts the way the doors do: through a permit.
pub fn admin() -> backend::policy::Principal {
    backend::policy::Principal {
        user_id: 0,
        username: "test-admin".into(),
        admin: true,
        roles: Default::default(),
    }
}

/// The host `slug` of the fleet, reached with an admin's permit.
pub fn host_of(fleet: &backend::fleet::Fleet, slug: &str) -> backend::Result<backend::fleet::Host> {
    fleet.host(&backend::policy::authorize(
        &admin(),
        slug,
        backend::policy::HostAction::View,
    )?)
}

/// Every host of the fleet, as an admin sees them.
pub fn all_hosts(fleet: &backend::fleet::Fleet) -> Vec<backend::fleet::Host> {
    fleet.visible(&admin(), backend::policy::HostAction::View)
}

/// The password the tests give the accounts they make (long enough for the policy).
pub const PW: &str = "a long enough password";

/// An engine client for a test, with a 10 s call timeout.
pub fn engine(spec: EngineSpec) -> Engine {
    Engine::new(
        spec,
        Timeouts {
            call: Duration::from_secs(10),
        },
    )
}

/// A name no other test (or earlier run) uses: `capstan-<test>-<random>`.
pub fn unique(test: &str) -> String {
    format!("capstan-{test}-{:08x}", rand::random::<u32>())
}

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}
