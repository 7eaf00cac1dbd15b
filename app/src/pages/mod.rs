pub mod account;
pub mod host;
pub mod host_form;
pub mod hosts;
pub mod login;
pub mod users;
pub mod not_found;
