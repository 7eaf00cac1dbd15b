//! The pages, one room per lazy area (`crate::lazy`): what the first load carries (sign-in,
//! Hosts, not found) at the top, each area's pages in a folder of their own. A page reaches
//! another area only through the shared rooms (`crate::components`, `crate::routes`,
//! `crate::client`, `crate::browser`, `crate::format`), never through that area's folder.

pub mod container;
pub mod containers;
pub mod host_admin;
pub mod hosts;
pub mod login;
pub mod not_found;
pub mod people;
pub mod storage;
