//! Pulling an image with live progress: the engine's pull stream read as it comes, one row per
//! layer (waiting, downloading, extracting, done).

use leptos::prelude::*;

use crate::client::upload;
use crate::format;
use crate::model::images::PullLine;
use crate::pages::storage::common::{HostSelect, StorageHost};
use crate::pages::storage::images::images_api;

#[derive(Debug, Clone, PartialEq, Eq)]
struct Layer {
    id: String,
    status: String,
    current: Option<u64>,
    total: Option<u64>,
    /// The layer's size, once the engine told it (kept after the download is done).
    size: Option<u64>,
}

impl Layer {
    fn finished(&self) -> bool {
        matches!(self.status.as_str(), "Pull complete" | "Already exists")
    }

    /// The engine's status in a word or two, as `docker pull` shows it.
    fn word(&self) -> &str {
        match self.status.as_str() {
            "Pulling fs layer" | "Waiting" => "Waiting",
            "Verifying Checksum" => "Verifying",
            other => other,
        }
    }

    /// `1.2 MB / 6.3 MB` while bytes move, the layer's size once it is done.
    fn amounts(&self) -> String {
        match (self.status.as_str(), self.current, self.total) {
            ("Downloading" | "Extracting", Some(c), Some(t)) if t > 0 => {
                format!("{} / {}", format::bytes(c.min(t)), format::bytes(t))
            }
            _ if self.finished() || self.status == "Download complete" => {
                self.size.map(format::bytes).unwrap_or_default()
            }
            _ => String::new(),
        }
    }

    /// How far the layer is, 0 to 1: downloading is the first half, extracting the second.
    fn progress(&self) -> f64 {
        let part = match (self.current, self.total) {
            (Some(c), Some(t)) if t > 0 => (c as f64 / t as f64).clamp(0.0, 1.0),
            _ => 0.0,
        };
        match self.status.as_str() {
            "Pull complete" | "Already exists" => 1.0,
            "Extracting" => 0.5 + part / 2.0,
            "Download complete" | "Verifying Checksum" => 0.5,
            "Downloading" => part / 2.0,
            _ => 0.0,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct PullState {
    image: String,
    layers: Vec<Layer>,
    /// Lines about the image as a whole (`Digest: …`, `Status: …`).
    messages: Vec<String>,
    running: bool,
    outcome: Option<Result<String, String>>,
}

impl PullState {
    fn apply(&mut self, line: PullLine) {
        if let Some(e) = line.error {
            self.outcome = Some(Err(e.message));
            self.running = false;
            return;
        }
        if line.is_done() {
            self.outcome = Some(Ok(line.image.unwrap_or_default()));
            self.running = false;
            return;
        }
        let status = line.status.unwrap_or_default();
        match line.id {
            Some(id) if id.len() == 12 && id.bytes().all(|b| b.is_ascii_hexdigit()) => {
                let mut layer = Layer {
                    id: id.clone(),
                    status,
                    current: line.current,
                    total: line.total,
                    size: line.total,
                };
                match self.layers.iter_mut().find(|l| l.id == id) {
                    Some(l) => {
                        // Extracting counts the same bytes again: the download's total stays.
                        layer.size = l.size.or(layer.size);
                        *l = layer;
                    }
                    None => self.layers.push(layer),
                }
            }
            Some(id) => self.messages.push(format!("{id}: {status}")),
            None if !status.is_empty() => self.messages.push(status),
            None => {}
        }
        if self.messages.len() > 8 {
            self.messages.remove(0);
        }
    }

    fn overall(&self) -> f64 {
        if matches!(self.outcome, Some(Ok(_))) {
            return 1.0;
        }
        if self.layers.is_empty() {
            return 0.0;
        }
        self.layers.iter().map(Layer::progress).sum::<f64>() / self.layers.len() as f64
    }
}

#[component]
pub fn PullPanel(
    hosts: Vec<StorageHost>,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let host = RwSignal::new(String::new());
    let image = RwSignal::new(String::new());
    let state = RwSignal::new(PullState::default());
    let start = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let reference = image.get_untracked().trim().to_string();
        if reference.is_empty() || state.get_untracked().running {
            return;
        }
        state.set(PullState {
            image: reference.clone(),
            running: true,
            ..Default::default()
        });
        let url = format!("{}/pull", images_api(&host.get_untracked()));
        leptos::task::spawn_local(async move {
            if let Err(e) = stream_pull(&url, &reference, state).await {
                state.update(|s| {
                    s.running = false;
                    if s.outcome.is_none() {
                        s.outcome = Some(Err(e));
                    }
                });
            }
            on_done();
        });
    };
    view! {
        <section class="panel tool-panel" aria-labelledby="pull-title">
            <h2 id="pull-title">"Pull an image"</h2>
            <form class="inline-form" on:submit=start>
                <HostSelect hosts value=host label="Host" />
                <label class="field filter-text">
                    <span>"Image"</span>
                    <input class="mono" name="image" required placeholder="registry:5000/team/app:1.2" autocomplete="off" bind:value=image />
                </label>
                <button type="submit" class="button button-primary" prop:disabled=move || state.get().running>
                    {move || if state.get().running { "Pulling…" } else { "Pull" }}
                </button>
            </form>
            <p class="muted small">"Stored registry credentials are used when the image's registry has some."</p>
            {move || {
                let s = state.get();
                (s.running || s.outcome.is_some()).then(|| view! { <PullProgress s /> })
            }}
        </section>
    }
}

#[component]
fn PullProgress(s: PullState) -> impl IntoView {
    let overall = s.overall();
    let pct = format!("{:.0}", overall * 100.0);
    let done_layers = s.layers.iter().filter(|l| l.finished()).count();
    let headline = match &s.outcome {
        None if s.layers.is_empty() => format!("Pulling {} — asking the registry", s.image),
        None => format!(
            "Pulling {} — {} of {} done",
            s.image,
            done_layers,
            format::plural(s.layers.len(), "layer", "layers")
        ),
        Some(Ok(image)) => format!("Pulled {image}"),
        Some(Err(_)) => format!("Could not pull {}", s.image),
    };
    let nothing_new = matches!(s.outcome, Some(Ok(_))) && s.layers.is_empty();
    let state = match &s.outcome {
        None => "running",
        Some(Ok(_)) => "done",
        Some(Err(_)) => "failed",
    };
    view! {
        <div class="pull" data-testid="pull-progress" data-state=state>
            <div class="pull-head">
                <span class="strong">{headline}</span>
                <span class="num muted">{format!("{pct} %")}</span>
            </div>
            <progress class="pull-overall" max="100" value=pct.clone() aria-label="Overall progress"></progress>
            <ul class="pull-layers" aria-label="Layers">
                {s.layers.into_iter().map(|l| {
                    let p = l.progress();
                    let amounts = l.amounts();
                    let word = l.word().to_string();
                    let status = word.clone();
                    view! {
                        <li class="pull-layer" class:pull-layer-done=l.finished() data-testid="pull-layer"
                            data-layer=l.id.clone() data-status=status>
                            <span class="mono pull-layer-id">{l.id.clone()}</span>
                            <span class="pull-status">{word}</span>
                            <progress max="100" value=format!("{:.0}", p * 100.0) aria-label=format!("Layer {}", l.id)></progress>
                            <span class="mono small muted pull-amount">{amounts}</span>
                        </li>
                    }
                }).collect_view()}
            </ul>
            {nothing_new.then(|| view! {
                <p class="muted small">"Every layer was already on the host: nothing to download."</p>
            })}
            {(!s.messages.is_empty()).then(|| view! {
                <pre class="pre pre-small pull-messages">{s.messages.join("\n")}</pre>
            })}
            <div aria-live="polite">
                {s.outcome.map(|o| match o {
                    Ok(image) => view! { <p class="form-ok" role="status">{format!("Done: {image} is on the host.")}</p> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e}</p> }.into_any(),
                })}
            </div>
        </div>
    }
}

/// POSTs the pull and reads the NDJSON answer as it arrives, line by line, into `state`.
async fn stream_pull(url: &str, image: &str, state: RwSignal<PullState>) -> Result<(), String> {
    use leptos::wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::js_sys;
    fn lost<T>(_: T) -> String {
        "the server could not be reached — check the connection and try again".to_string()
    }
    let window = web_sys::window().ok_or_else(|| "no browser window".to_string())?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    let body = serde_json::json!({ "image": image }).to_string();
    init.set_body(&JsValue::from_str(&body));
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(lost)?;
    let headers = request.headers();
    headers
        .set("Content-Type", "application/json")
        .map_err(lost)?;
    headers
        .set("Accept", "application/x-ndjson")
        .map_err(lost)?;
    let response: web_sys::Response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .map_err(lost)?
        .dyn_into()
        .map_err(lost)?;
    if !response.ok() {
        let text = match response.text() {
            Ok(p) => JsFuture::from(p)
                .await
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default(),
            Err(_) => String::new(),
        };
        return Err(upload::api_message(&text, response.status()));
    }
    let stream = response
        .body()
        .ok_or_else(|| "the server sent no progress".to_string())?;
    let reader: web_sys::ReadableStreamDefaultReader =
        stream.get_reader().dyn_into().map_err(lost)?;
    let mut pending: Vec<u8> = Vec::new();
    let feed = |bytes: &[u8]| {
        if let Ok(line) = serde_json::from_slice::<PullLine>(bytes) {
            state.update(|s| s.apply(line));
        }
    };
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|_| {
            "the progress stream broke off — the pull may still finish on the host".to_string()
        })?;
        let done = js_sys::Reflect::get(&chunk, &JsValue::from_str("done"))
            .ok()
            .and_then(|d| d.as_bool())
            .unwrap_or(true);
        if done {
            break;
        }
        if let Ok(value) = js_sys::Reflect::get(&chunk, &JsValue::from_str("value")) {
            pending.extend(js_sys::Uint8Array::new(&value).to_vec());
        }
        while let Some(end) = pending.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = pending.drain(..=end).collect();
            feed(&line[..end]);
        }
    }
    if !pending.is_empty() {
        feed(&pending);
    }
    if state.get_untracked().outcome.is_none() {
        return Err("the pull ended before the engine said it was done".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pull_lines_build_layers_and_finish() {
        let mut s = PullState {
            running: true,
            ..Default::default()
        };
        s.apply(PullLine {
            id: Some("latest".into()),
            status: Some("Pulling from x".into()),
            ..Default::default()
        });
        s.apply(PullLine {
            id: Some("0123456789ab".into()),
            status: Some("Downloading".into()),
            current: Some(50),
            total: Some(100),
            ..Default::default()
        });
        assert_eq!(s.layers.len(), 1);
        assert!((s.overall() - 0.25).abs() < 1e-9);
        assert_eq!(s.layers[0].word(), "Downloading");
        assert_eq!(
            s.layers[0].amounts(),
            format!("{} / {}", format::bytes(50), format::bytes(100))
        );
        s.apply(PullLine {
            id: Some("0123456789ab".into()),
            status: Some("Verifying Checksum".into()),
            ..Default::default()
        });
        assert_eq!(s.layers[0].word(), "Verifying");
        assert_eq!(
            s.layers[0].size,
            Some(100),
            "the size outlives the download"
        );
        s.apply(PullLine {
            id: Some("0123456789ab".into()),
            status: Some("Pull complete".into()),
            ..Default::default()
        });
        assert!((s.overall() - 1.0).abs() < 1e-9);
        assert_eq!(s.layers[0].amounts(), format::bytes(100));
        s.apply(PullLine {
            id: Some("fedcba987654".into()),
            status: Some("Pulling fs layer".into()),
            ..Default::default()
        });
        assert_eq!(s.layers[1].word(), "Waiting");
        s.apply(PullLine {
            id: Some("fedcba987654".into()),
            status: Some("Already exists".into()),
            ..Default::default()
        });
        s.apply(PullLine::done("x:latest".into()));
        assert_eq!(s.outcome, Some(Ok("x:latest".into())));
        assert!(!s.running);
        assert_eq!(s.messages, vec!["latest: Pulling from x".to_string()]);
    }
}
