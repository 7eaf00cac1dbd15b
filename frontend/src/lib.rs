#![recursion_limit = "256"]
//! The wasm entry: hydrate the server-rendered page and nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Most pages are lazy routes (their area's code is a wasm chunk loaded on demand,
    // app/src/lazy.rs): hydration waits for the current page's chunk before it walks the HTML.
    leptos::mount::hydrate_lazy(app::App);
}
