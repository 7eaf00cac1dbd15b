//! The private engines that `./dev test` starts (scripts/testenv.sh) and how to reach them.
#![allow(dead_code)]

use std::process::Command;

use backend::engine::{EngineSpec, TlsFiles};

pub fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the tests with `./dev test`, which starts the test engines")
    })
}

pub fn unix_spec() -> EngineSpec {
    EngineSpec { url: env("CAPSTAN_TEST_UNIX_URL"), tls: None }
}

pub fn tls_spec() -> EngineSpec {
    EngineSpec {
        url: env("CAPSTAN_TEST_TLS_URL"),
        tls: Some(TlsFiles::from_dir(env("CAPSTAN_TEST_TLS_DIR"))),
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
    assert!(out.status.success(), "docker {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}
