//! The tags that load Capstan's code into a server-rendered page, in place of Leptos's
//! `<HydrationScripts>`: the same preloads and split-chunk manifest, but a loader that survives
//! a network hiccup. Chromium aborts every request in flight when the machine's network changes
//! (a phone moving between networks; on a Docker host, any new container network), and Leptos's
//! loader then leaves the page dead. This one asks again (see `LOADER`) and leaves the
//! server-rendered page readable meanwhile. Chunks of lazy pages retry on their own
//! (crate::lazy).

use std::collections::HashMap;
use std::sync::OnceLock;

use leptos::prelude::*;

/// The loader; `{js}` and `{wasm}` are filled in. A wasm that did not arrive is asked for again
/// in place (twice, after 0.5 and 1 s). A script that did not arrive needs the page reloaded:
/// Chromium remembers a failed module for the life of the page. Reloads are counted in the
/// tab's session storage and stop after three in a row; then a notice at the foot of the page
/// says the page is inert and offers a reload. A failure inside `hydrate()` is a bug, not the
/// network, and is left to show as one.
const LOADER: &str = r#"((js, wasm) => {
  const key = "capstan-reloads";
  const store = (() => { try { return window.sessionStorage; } catch { return null; } })();
  const reload = (error) => {
    const reloads = Number(store?.getItem(key) ?? 0);
    if (store && reloads < 3) {
      console.warn(`Capstan's code did not load (${error}); reloading the page`);
      store.setItem(key, String(reloads + 1));
      setTimeout(() => location.reload(), 500 * (reloads + 1));
    } else {
      console.error(`Capstan's code did not load (${error}); reload the page to try again`);
      notice();
    }
  };
  const notice = () => {
    if (!document.body) return addEventListener("DOMContentLoaded", notice, { once: true });
    const bar = document.createElement("div");
    bar.className = "notice notice-bad load-failed";
    bar.setAttribute("role", "alert");
    const text = document.createElement("span");
    text.textContent = "Capstan's code did not load, so this page shows what the server sent and its buttons do nothing. Check your connection, then reload.";
    const again = document.createElement("button");
    again.type = "button";
    again.className = "button button-primary";
    again.textContent = "Reload";
    again.addEventListener("click", () => { store?.removeItem(key); location.reload(); });
    bar.append(text, again);
    document.body.append(bar);
  };
  const start = (mod, attempt) => mod.default({ module_or_path: wasm }).then(() => {
    store?.removeItem(key);
    mod.hydrate();
  }, (error) => {
    if (attempt >= 2) return reload(error);
    console.warn(`Capstan's code did not load (${error}); trying again`);
    setTimeout(() => start(mod, attempt + 1), 500 * (attempt + 1));
  });
  import(js).then((mod) => start(mod, 0), reload);
})"#;

/// `<link>`s that start fetching the code early, and the inline loader (with the CSP nonce).
#[component]
pub fn LoadScripts(options: LeptosOptions) -> impl IntoView {
    if let Some(manifest) = split_manifest(&options) {
        // Read by the server integration: it names the chunks of the lazy pages this render
        // used, so a first load of such a page fetches them alongside the main wasm.
        provide_context(manifest.clone());
    }
    let pkg = format!("/{}", options.site_pkg_dir);
    let name = options.output_name.to_string();
    // cargo-leptos names the wasm after the crate, wasm-pack style builds add `_bg`.
    let wasm_name = if option_env!("LEPTOS_OUTPUT_NAME").is_some() {
        name.clone()
    } else {
        format!("{name}_bg")
    };
    let js = format!("{pkg}/{name}.js");
    let wasm = format!("{pkg}/{wasm_name}.wasm");
    let nonce = leptos::nonce::use_nonce();
    let script = format!("{LOADER}({js:?}, {wasm:?});");
    view! {
        <link rel="modulepreload" href=js crossorigin="anonymous" />
        <link rel="preload" href=wasm r#as="fetch" r#type="application/wasm" crossorigin="anonymous" />
        <script type="module" nonce=nonce>{script}</script>
    }
}

/// The split build's manifest (which chunks each lazy area needs), read once; none when the
/// build was not split (debug builds, tests).
fn split_manifest(options: &LeptosOptions) -> Option<&'static leptos::WasmSplitManifest> {
    static MANIFEST: OnceLock<Option<leptos::WasmSplitManifest>> = OnceLock::new();
    MANIFEST
        .get_or_init(|| {
            let path = std::path::Path::new(options.site_root.as_ref())
                .join(options.site_pkg_dir.as_ref())
                .join("__wasm_split_manifest.json");
            let text = std::fs::read_to_string(path).ok()?;
            let chunks: HashMap<String, Vec<String>> = match serde_json::from_str(&text) {
                Ok(chunks) => chunks,
                Err(error) => {
                    tracing::error!(%error, "the wasm split manifest could not be read");
                    return None;
                }
            };
            Some(leptos::WasmSplitManifest(ArcStoredValue::new((
                format!("/{}", options.site_pkg_dir),
                chunks,
                "__wasm_split.______________________.js".to_string(),
            ))))
        })
        .as_ref()
}
