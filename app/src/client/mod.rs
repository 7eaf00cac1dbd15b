//! How the pages talk to the server besides their own server fns: the ones several areas share
//! (the session, the container lifecycle), live streams (SSE) and uploads with progress.

pub mod containers;
pub mod session;
pub mod sse;
pub mod upload;
