//! Parts every page uses; each is built once here.

pub mod badge;
pub mod frame;
pub mod page;
pub mod text;
