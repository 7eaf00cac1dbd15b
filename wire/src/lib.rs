//! The types Capstan sends and receives, defined once: the backend builds them, the pages
//! show them and the REST API answers them (the OpenAPI document derives their schemas with the
//! `openapi` feature). Only data lives here — no engine, store or browser code — so the browser's
//! wasm and the server share one definition instead of a copy and a conversion each (and the
//! one way a command is written as words, `words`).

pub mod containers;
pub mod files;
pub mod images;
pub mod networks;
pub mod system;
pub mod words;
