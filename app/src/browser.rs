//! Small helpers for code that runs only in the browser.

use leptos::prelude::StoredValue;
use leptos::wasm_bindgen::{JsCast, JsValue};
use send_wrapper::SendWrapper;

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

/// Calls `obj[name](...args)`, catching what JavaScript throws.
pub fn js_call(obj: &JsValue, name: &str, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let f: js_sys::Function = js_sys::Reflect::get(obj, &JsValue::from_str(name))?.dyn_into()?;
    let list = js_sys::Array::new();
    for a in args {
        list.push(a);
    }
    f.apply(obj, &list)
}

/// Holds a browser-only value in reactive storage (the pages are single-threaded in the
/// browser; on the server nothing is ever stored).
pub type Local<T> = StoredValue<Option<SendWrapper<T>>>;
