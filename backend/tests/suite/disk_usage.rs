//! `docker system df` numbers against the private engines (API 1.41, where bollard's own model
//! reads nothing): what a test creates shows up, and the totals hold together.

use crate::common::*;
use backend::engine::{DiskUsage, EngineSpec, UsageTotals};

/// Removes the test's container and volume when dropped, also after a failed assertion.
struct Cleanup {
    container: String,
    volume: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let url = env("CAPSTAN_TEST_UNIX_URL");
        let docker = |args: &[&str]| {
            std::process::Command::new("docker")
                .arg("-H")
                .arg(&url)
                .args(args)
                .output()
        };
        let _ = docker(&["rm", "-f", &self.container]);
        let _ = docker(&["volume", "rm", "-f", &self.volume]);
    }
}

fn consistent(kind: &str, t: Option<UsageTotals>) -> UsageTotals {
    let t = t.unwrap_or_else(|| panic!("{kind}: an API 1.41 engine reports it"));
    let (count, active) = (t.count.expect("count"), t.active.expect("active"));
    assert!(active <= count, "{kind}: {t:?}");
    let (size, reclaimable) = (
        t.size_bytes.expect("size"),
        t.reclaimable_bytes.expect("reclaimable"),
    );
    assert!(reclaimable <= size, "{kind}: {t:?}");
    t
}

fn check(df: &DiskUsage) {
    consistent("images", df.images);
    consistent("containers", df.containers);
    consistent("volumes", df.volumes);
    consistent("build cache", df.build_cache);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_test_creates_shows_in_the_disk_usage() {
    let tag = format!("backend-df-{}", std::process::id());
    let _cleanup = Cleanup {
        container: tag.clone(),
        volume: tag.clone(),
    };
    let image = env("CAPSTAN_TEST_IMAGE");
    docker_a(&["volume", "create", &tag]);
    // 64 KiB in the volume, a few bytes in the container's writable layer, and it keeps running.
    docker_a(&[
        "run",
        "--rm",
        "-v",
        &format!("{tag}:/data"),
        &image,
        "dd",
        "if=/dev/zero",
        "of=/data/blob",
        "bs=1024",
        "count=64",
    ]);
    docker_a(&[
        "run",
        "-d",
        "--name",
        &tag,
        "-v",
        &format!("{tag}:/data"),
        &image,
        "sleep",
        "600",
    ]);
    docker_a(&["exec", &tag, "sh", "-c", "echo written > /marker"]);

    let df = engine(unix_spec()).disk_usage().await.expect("disk usage");
    check(&df);
    let images = consistent("images", df.images);
    assert!(
        images.count >= Some(1) && images.active >= Some(1),
        "the test image is in use: {images:?}"
    );
    assert!(images.size_bytes >= Some(1), "{images:?}");
    let containers = consistent("containers", df.containers);
    assert!(
        containers.count >= Some(1) && containers.active >= Some(1),
        "{containers:?}"
    );
    assert!(
        containers.size_bytes >= Some(7),
        "the marker file is in a writable layer: {containers:?}"
    );
    let volumes = consistent("volumes", df.volumes);
    assert!(
        volumes.count >= Some(1) && volumes.active >= Some(1),
        "{volumes:?}"
    );
    assert!(
        volumes.size_bytes >= Some(64 * 1024),
        "the volume holds 64 KiB: {volumes:?}"
    );

    // Stopped, the container and (once it is gone) the volume become reclaimable.
    docker_a(&["stop", "-t", "0", &tag]);
    let stopped = engine(unix_spec()).disk_usage().await.expect("disk usage");
    check(&stopped);
    let containers = consistent("containers", stopped.containers);
    assert!(
        containers.reclaimable_bytes >= Some(7),
        "a stopped container's layer is reclaimable: {containers:?}"
    );
    docker_a(&["rm", &tag]);
    let unused = engine(unix_spec()).disk_usage().await.expect("disk usage");
    let volumes = consistent("volumes", unused.volumes);
    assert!(
        volumes.reclaimable_bytes >= Some(64 * 1024),
        "an unused volume is reclaimable: {volumes:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_tls_engine_reports_disk_usage_too() {
    let df = engine(tls_spec())
        .disk_usage()
        .await
        .expect("disk usage over TLS");
    check(&df);
    assert!(
        df.images.and_then(|i| i.count) >= Some(1),
        "the test image is there"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_engine_is_an_error() {
    let spec = EngineSpec {
        url: env("CAPSTAN_TEST_REFUSED_URL"),
        tls: None,
    };
    let result = engine(spec).disk_usage().await;
    assert!(
        matches!(result, Err(backend::Error::EngineUnreachable { .. })),
        "{result:?}"
    );
}
