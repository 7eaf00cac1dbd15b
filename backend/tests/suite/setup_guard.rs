//! The unauthenticated setup form: a wrong token is refused before any password hashing, and
//! wrong tokens are throttled per client like sign-ins.

use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

use crate::common::PW;
use backend::auth::{password, Accounts};
use backend::error::Error;

fn ip(n: u8) -> Option<IpAddr> {
    Some(IpAddr::V4(Ipv4Addr::new(10, 0, 1, n)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_setup_token_is_refused_without_hashing_and_is_throttled() {
    let dir = tempfile::tempdir().expect("tempdir");
    let accounts = Accounts::new(
        backend::store::open_for_test(dir.path())
            .await
            .expect("store"),
    );
    let token = accounts
        .prepare_setup(dir.path())
        .await
        .expect("prepare")
        .expect("token");

    // What one password hash costs on this machine right now.
    let started = Instant::now();
    password::hash(PW.to_string()).await.expect("hash");
    let one_hash = started.elapsed();

    // Four wrong tokens: each refused as before (401 words), and each much cheaper than a hash.
    let mut slowest = Duration::ZERO;
    for _ in 0..4 {
        let started = Instant::now();
        let wrong = accounts
            .complete_setup(dir.path(), "not-the-token", "root", PW, ip(1))
            .await;
        slowest = slowest.max(started.elapsed());
        assert!(matches!(wrong, Err(Error::Unauthenticated(_))), "{wrong:?}");
    }
    assert!(
        slowest < one_hash,
        "a wrong token took {slowest:?}, a hash takes {one_hash:?}"
    );

    // The fifth failure locks this client, even for the right token.
    let fifth = accounts
        .complete_setup(dir.path(), "not-the-token", "root", PW, ip(1))
        .await;
    assert!(matches!(fifth, Err(Error::Unauthenticated(_))), "{fifth:?}");
    let locked = accounts
        .complete_setup(dir.path(), &token, "root", PW, ip(1))
        .await;
    assert!(
        matches!(locked, Err(Error::Throttled { retry_after }) if retry_after >= Duration::from_secs(1)),
        "{locked:?}"
    );

    // Another client is not affected and completes setup with the right token.
    let admin = accounts
        .complete_setup(dir.path(), &token, "root", PW, ip(2))
        .await
        .expect("setup");
    assert!(admin.admin);
}
