//! The storage area: images, volumes and networks of every host the person may see.

pub mod common;
pub mod images;
pub mod networks;
pub mod volumes;
