//! Uploads with progress (a file into a container, an image tar): an XMLHttpRequest, because
//! fetch cannot report how much of a request body has been sent.

use leptos::prelude::*;

/// The message of a REST error answer (`{"error":{"message"}}`), or the status in words.
pub fn api_message(text: &str, status: u16) -> String {
    serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|v| {
            v.pointer("/error/message")
                .and_then(|m| m.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("the server answered HTTP {status}"))
}

/// Sends `file` as the body of `method url` with `content_type`, reporting the share sent in
/// `progress`, and calls `done` once: the answer's body, or the failure in words (the API's
/// own message when it gave one). `Err` when the browser could not start the request.
pub fn send(
    method: &str,
    url: &str,
    content_type: &str,
    file: &web_sys::File,
    progress: RwSignal<Option<f64>>,
    done: impl FnOnce(Result<String, String>) + 'static,
) -> Result<(), String> {
    use leptos::wasm_bindgen::closure::Closure;
    use leptos::wasm_bindgen::JsCast;
    let fail = |_| "the browser could not start the upload".to_string();
    let xhr = web_sys::XmlHttpRequest::new().map_err(fail)?;
    xhr.open_with_async_and_user_and_password(method, url, true, None, None)
        .map_err(fail)?;
    xhr.set_request_header("Content-Type", content_type)
        .map_err(fail)?;
    let upload = xhr.upload().map_err(fail)?;
    let on_progress =
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            if e.length_computable() && e.total() > 0.0 {
                progress.set(Some(e.loaded() / e.total()));
            }
        });
    upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
    let answer = xhr.clone();
    let on_end = Closure::once_into_js(move || {
        upload.set_onprogress(None);
        drop(on_progress);
        let status = answer.status().unwrap_or(0);
        let text = answer.response_text().ok().flatten().unwrap_or_default();
        let result = match status {
            200..=299 => Ok(text),
            0 => Err("the upload did not reach the server — check the connection".to_string()),
            _ => Err(api_message(&text, status)),
        };
        done(result);
    });
    xhr.set_onloadend(Some(on_end.unchecked_ref()));
    xhr.send_with_opt_blob(Some(file)).map_err(fail)?;
    Ok(())
}
