#![recursion_limit = "256"]
//! The wasm entry: hydrate the server-rendered page and nothing else.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Most pages are lazy routes (their area's code is a wasm chunk loaded on demand,
    // app/src/lazy.rs): hydration waits for the current page's chunk before it walks the HTML.
    leptos::mount::hydrate_lazy(app::App);
}

/// Room for the wasm splitter, never read. `cargo leptos build --split` moves each piece of
/// read-only data into the chunk that uses it, packing each chunk's share of the `.rodata`
/// segment separately; when the packed shares come out longer than the segment was (alignment
/// padding at each chunk's start), the splitter leaves the *whole* segment in the main wasm
/// (wasm_split_cli_support 0.2.3, emit.rs: "Overlong segment … putting it in main module"),
/// about 126 KB more for every first load. Data that no code uses is not moved anywhere, so
/// these bytes lengthen the segment without lengthening any share: room for the padding of
/// hundreds of chunk boundaries (at most 7 bytes each). `#[used]` keeps the linker from
/// dropping it; its bytes are not zero so that it stays in `.rodata`. docs/performance.md (First load) has the numbers.
#[used]
static SPLIT_ROOM: [u8; 4096] = [0xA5; 4096];
