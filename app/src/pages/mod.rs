pub mod hosts;
pub mod not_found;
