//! The host admin area: one host's page, its add/edit form and who may use it.

pub mod access;
pub mod form;
pub mod host;
pub mod totals;
