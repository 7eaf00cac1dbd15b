//! Every integration test of the `server` crate, in one binary: linking one test binary per file
//! cost most of the suite's build time (issue 19, item 6). Each module is one area; `common`
//! holds the helpers they share. Run one area with `cargo test -p server --test suite -- <area>::`.

mod assets;
mod audit;
mod auth;
mod common;
mod container_files;
mod containers;
mod doors;
mod durability;
mod guardrails;
mod host_url;
mod hosts_admin;
mod images;
mod live;
mod nodes;
mod own;
mod revocation;
mod router;
mod storage;
