//! Parts every page uses; each is built once here.

pub mod badge;
pub mod confirm;
pub mod containers;
pub mod frame;
pub mod page;
pub mod text;
