//! The people area: one's own account, users, teams, the audit trail, registries and the API
//! reference.

pub mod account;
pub mod api_reference;
pub mod audit;
pub mod registries;
pub mod teams;
pub mod users;
