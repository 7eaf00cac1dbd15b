//! Small helpers for code that runs only in the browser.

/// Waits `ms` milliseconds in the browser (a `setTimeout` turned into a future).
pub async fn sleep_ms(ms: i32) {
    use wasm_bindgen_futures::JsFuture;
    let promise = web_sys::js_sys::Promise::new(&mut |resolve, _reject| {
        if let Some(w) = web_sys::window() {
            let _ = w.set_timeout_with_callback_and_timeout_and_arguments_0(&resolve, ms);
        }
    });
    let _ = JsFuture::from(promise).await;
}
