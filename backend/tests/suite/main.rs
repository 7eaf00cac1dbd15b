//! Every integration test of the `backend` crate, in one binary: linking one test binary per file
//! cost most of the suite's build time (issue 19, item 6). Each module is one area; `common`
//! holds the helpers they share. Run one area with `cargo test -p backend --test suite -- <area>::`.

mod accounts;
mod common;
mod container_files;
mod containers;
mod disk_usage;
mod engines;
mod fleet;
mod host_usage_shared;
mod images;
mod live;
mod monitor;
mod registry;
mod setup_guard;
mod storage;
mod swarm;
mod teams;
mod transfer;
