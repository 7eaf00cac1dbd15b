//! The container page's Terminal tab: xterm.js over the exec WebSocket
//! (`…/exec?cmd=&cols=&rows=`, see `server::http::api::live_exec`).
//!
//! xterm's script and stylesheet are served from `/vendor/xterm/` and added to the page only
//! when this tab opens. xterm writes a few `<style>` elements of its own; the page's CSP allows
//! `<style>` only with the page's nonce, so every `<style>` the page creates by script gets
//! that nonce (see [`nonce_styles`]). Keystrokes go out as binary frames, resizes as the JSON
//! text frame the server expects.

use std::cell::RefCell;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::wasm_bindgen::closure::Closure;
use leptos::wasm_bindgen::{JsCast, JsValue};
use send_wrapper::SendWrapper;
use serde::Deserialize;

use crate::browser::{js_call, Local};
use crate::components::badge::{Badge, Tone};
use crate::model::{role_at_least, RoleView};
use crate::pages::container::use_container;
use crate::routes::encode;

/// The shells the server lets a terminal start.
pub const SHELLS: [&str; 3] = ["/bin/sh", "/bin/bash", "/bin/ash"];
const XTERM_JS: &str = "/vendor/xterm/xterm.js";
const FIT_JS: &str = "/vendor/xterm/addon-fit.js";
const XTERM_CSS: &str = "/vendor/xterm/xterm.css";

#[derive(Debug, Clone, PartialEq, Eq)]
enum TermState {
    Idle,
    Loading,
    Connecting,
    Open,
    /// The connection was lost (a server restarting, a replica gone): a new session opens
    /// shortly by itself.
    Reconnecting(String),
    Closed(String),
    Failed(String),
}

impl TermState {
    fn badge(&self) -> (Tone, String) {
        match self {
            TermState::Idle => (Tone::Idle, "not connected".into()),
            TermState::Loading => (Tone::Info, "loading".into()),
            TermState::Connecting => (Tone::Info, "connecting".into()),
            TermState::Open => (Tone::Good, "connected".into()),
            TermState::Reconnecting(why) => (Tone::Warn, why.clone()),
            TermState::Closed(why) => (Tone::Idle, why.clone()),
            TermState::Failed(why) => (Tone::Bad, why.clone()),
        }
    }
}

/// A text frame from the server.
#[derive(Debug, Deserialize)]
struct Frame {
    #[serde(rename = "type")]
    kind: String,
    code: Option<i64>,
    message: Option<String>,
}

/// What the session's closing says, from the exit code the server sent before closing.
fn closed_text(exit: Option<Option<i64>>, close_code: u16) -> String {
    match exit {
        Some(Some(code)) => format!("exited with code {code}"),
        Some(None) => "the shell ended".to_string(),
        None if close_code == 1001 => "the server is restarting".to_string(),
        None if close_code == 1000 || close_code == 1005 => "closed".to_string(),
        None => format!("the connection closed ({close_code})"),
    }
}

/// How many times in a row a lost connection is opened again by itself before the page asks.
const AUTO_RECONNECTS: u32 = 5;

/// Whether a socket that closed this way was lost rather than ended: the server going away
/// (1001: restarting) or the connection breaking (1006), with no exit said before.
fn lost(exit: Option<Option<i64>>, close_code: u16) -> bool {
    exit.is_none() && matches!(close_code, 1001 | 1006)
}

/// The signals a session reports to: its state, and the lost-connection retries.
#[derive(Clone, Copy)]
struct Links {
    state: RwSignal<TermState>,
    /// Lost connections in a row (0 once a session opens).
    lost: RwSignal<u32>,
    /// Bumped when a lost session should open again.
    again: RwSignal<u32>,
}

/// `ws://` or `wss://`, as the page was loaded.
fn socket_url(path: &str) -> Option<String> {
    let loc = web_sys::window()?.location();
    let scheme = if loc.protocol().ok()? == "https:" {
        "wss"
    } else {
        "ws"
    };
    Some(format!("{scheme}://{}{path}", loc.host().ok()?))
}

fn global(name: &str) -> Option<JsValue> {
    js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str(name))
        .ok()
        .filter(|v| !v.is_undefined() && !v.is_null())
}

/// Every `<style>` element created by script from now on carries the page's CSP nonce (the one
/// on the hydration script), so xterm's own styles apply under `style-src 'self' 'nonce-…'`.
/// Installed once per page.
fn nonce_styles(doc: &web_sys::Document) {
    let flag = JsValue::from_str("__capstanStyleNonce");
    if js_sys::Reflect::has(doc, &flag).unwrap_or(false) {
        return;
    }
    let nonce = doc
        .query_selector("script[nonce]")
        .ok()
        .flatten()
        .and_then(|s| js_sys::Reflect::get(&s, &"nonce".into()).ok())
        .and_then(|n| n.as_string())
        .filter(|n| !n.is_empty());
    let Some(nonce) = nonce else {
        return;
    };
    let Ok(original) = js_sys::Reflect::get(doc, &"createElement".into()) else {
        return;
    };
    let Ok(original) = original.dyn_into::<js_sys::Function>() else {
        return;
    };
    let owner = doc.clone();
    let wrapped =
        Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(move |tag: JsValue, opts: JsValue| {
            let made = original.call2(&owner, &tag, &opts).unwrap_or(JsValue::NULL);
            if tag
                .as_string()
                .is_some_and(|t| t.eq_ignore_ascii_case("style"))
            {
                let _ = js_sys::Reflect::set(&made, &"nonce".into(), &JsValue::from_str(&nonce));
            }
            made
        });
    let _ = js_sys::Reflect::set(doc, &"createElement".into(), wrapped.as_ref());
    let _ = js_sys::Reflect::set(doc, &flag, &JsValue::TRUE);
    // Lives as long as the page.
    wrapped.forget();
}

/// Adds a `<script>` (or the stylesheet) once and waits until it has loaded.
async fn load_script(doc: &web_sys::Document, src: &str) -> Result<(), String> {
    let script: web_sys::HtmlScriptElement = doc
        .create_element("script")
        .map_err(|_| "the browser refused a script element".to_string())?
        .unchecked_into();
    script.set_src(src);
    script.set_async(false);
    let loaded = js_sys::Promise::new(&mut |resolve, reject| {
        script.set_onload(Some(&resolve));
        script.set_onerror(Some(&reject));
    });
    doc.query_selector("head")
        .ok()
        .flatten()
        .ok_or_else(|| "the page has no head".to_string())?
        .append_child(&script)
        .map_err(|_| "the browser refused the script".to_string())?;
    wasm_bindgen_futures::JsFuture::from(loaded)
        .await
        .map(|_| ())
        .map_err(|_| format!("could not load {src}"))
}

async fn load_xterm() -> Result<(), String> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or_else(|| "no document".to_string())?;
    nonce_styles(&doc);
    if doc.get_element_by_id("xterm-css").is_none() {
        let link: web_sys::HtmlLinkElement = doc
            .create_element("link")
            .map_err(|_| "the browser refused a stylesheet".to_string())?
            .unchecked_into();
        link.set_id("xterm-css");
        link.set_rel("stylesheet");
        link.set_href(XTERM_CSS);
        if let Some(head) = doc.query_selector("head").ok().flatten() {
            let _ = head.append_child(&link);
        }
    }
    if global("Terminal").is_none() {
        load_script(&doc, XTERM_JS).await?;
    }
    if global("FitAddon").is_none() {
        load_script(&doc, FIT_JS).await?;
    }
    Ok(())
}

/// A live terminal: xterm, its fit addon, the socket and the listeners. Dropping it closes the
/// socket and disposes of xterm.
struct Session {
    term: JsValue,
    ws: web_sys::WebSocket,
    disposables: Vec<JsValue>,
    on_window_resize: Closure<dyn FnMut()>,
    _socket_handlers: Vec<Closure<dyn FnMut(web_sys::Event)>>,
    _term_handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl Session {
    fn disconnect(&self) {
        let _ = self.ws.close_with_code(1000);
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.ws.set_onopen(None);
        self.ws.set_onmessage(None);
        self.ws.set_onclose(None);
        self.ws.set_onerror(None);
        let _ = self.ws.close_with_code(1000);
        if let Some(w) = web_sys::window() {
            let _ = w.remove_event_listener_with_callback(
                "resize",
                self.on_window_resize.as_ref().unchecked_ref(),
            );
        }
        for d in &self.disposables {
            let _ = js_call(d, "dispose", &[]);
        }
        let _ = js_call(&self.term, "dispose", &[]);
    }
}

fn construct(ctor: &JsValue, args: &[JsValue]) -> Result<JsValue, String> {
    let ctor: js_sys::Function = ctor
        .clone()
        .dyn_into()
        .map_err(|_| "xterm did not load".to_string())?;
    let list = js_sys::Array::new();
    for a in args {
        list.push(a);
    }
    js_sys::Reflect::construct(&ctor, &list).map_err(|_| "xterm could not start".to_string())
}

fn dims(term: &JsValue) -> (u32, u32) {
    let get = |k: &str| {
        js_sys::Reflect::get(term, &JsValue::from_str(k))
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0)
    };
    // Terminal sizes are small whole numbers.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let (c, r) = (get("cols") as u32, get("rows") as u32);
    (c.clamp(1, 1000), r.clamp(1, 1000))
}

fn options() -> JsValue {
    let o = js_sys::Object::new();
    let set = |o: &js_sys::Object, k: &str, v: JsValue| {
        let _ = js_sys::Reflect::set(o, &JsValue::from_str(k), &v);
    };
    set(&o, "cursorBlink", JsValue::TRUE);
    set(&o, "fontSize", JsValue::from(13));
    set(
        &o,
        "fontFamily",
        JsValue::from_str(
            "ui-monospace, SFMono-Regular, Menlo, Consolas, \"Liberation Mono\", monospace",
        ),
    );
    set(&o, "scrollback", JsValue::from(5000));
    let theme = js_sys::Object::new();
    set(&theme, "background", JsValue::from_str("#0f1218"));
    set(&theme, "foreground", JsValue::from_str("#e4e8ee"));
    set(&theme, "cursor", JsValue::from_str("#7aa2f7"));
    set(&theme, "selectionBackground", JsValue::from_str("#2a3b5f"));
    set(&o, "theme", theme.into());
    o.into()
}

async fn start(
    el: web_sys::HtmlElement,
    path_base: String,
    shell: String,
    links: Links,
    holder: Local<Session>,
) -> Result<(), String> {
    let state = links.state;
    state.set(TermState::Loading);
    load_xterm().await?;
    // The tab may have been left while xterm loaded.
    if holder.try_with_value(|_| ()).is_none() {
        return Ok(());
    }
    holder.set_value(None);
    el.set_text_content(None);
    let term = construct(
        &global("Terminal").unwrap_or(JsValue::UNDEFINED),
        &[options()],
    )?;
    let fit_ns = global("FitAddon").ok_or_else(|| "xterm's fit addon did not load".to_string())?;
    let fit = construct(
        &js_sys::Reflect::get(&fit_ns, &"FitAddon".into()).unwrap_or(JsValue::UNDEFINED),
        &[],
    )?;
    js_call(&term, "loadAddon", std::slice::from_ref(&fit))
        .map_err(|_| "xterm could not fit the terminal".to_string())?;
    js_call(&term, "open", &[el.clone().into()]).map_err(|_| "xterm could not open".to_string())?;
    let _ = js_call(&fit, "fit", &[]);
    if links.lost.get_untracked() > 0 {
        let _ = js_call(
            &term,
            "write",
            &[JsValue::from_str(
                "\u{1b}[2m[a new session: the connection to the last one was lost]\u{1b}[0m\r\n",
            )],
        );
    }
    let (cols, rows) = dims(&term);
    let url = socket_url(&format!(
        "{path_base}/exec?cmd={}&cols={cols}&rows={rows}",
        encode(&shell)
    ))
    .ok_or_else(|| "the page has no address".to_string())?;
    state.set(TermState::Connecting);
    let ws = web_sys::WebSocket::new(&url)
        .map_err(|_| "the browser refused the connection".to_string())?;
    ws.set_binary_type(web_sys::BinaryType::Arraybuffer);

    let exit: Rc<RefCell<Option<Option<i64>>>> = Rc::new(RefCell::new(None));
    let mut socket_handlers = Vec::new();
    {
        let term = term.clone();
        let on_open = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            state.set(TermState::Open);
            links.lost.set(0);
            let _ = js_call(&term, "focus", &[]);
        });
        ws.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket_handlers.push(on_open);
    }
    {
        let term = term.clone();
        let exit = exit.clone();
        let on_message = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let Some(msg) = ev.dyn_ref::<web_sys::MessageEvent>() else {
                return;
            };
            let data = msg.data();
            if let Some(text) = data.as_string() {
                if let Ok(frame) = serde_json::from_str::<Frame>(&text) {
                    match frame.kind.as_str() {
                        "exit" => *exit.borrow_mut() = Some(frame.code),
                        "error" => {
                            let m = frame
                                .message
                                .unwrap_or_else(|| "the terminal failed".into());
                            let _ = js_call(
                                &term,
                                "write",
                                &[JsValue::from_str(&format!(
                                    "\r\n\u{1b}[31m{m}\u{1b}[0m\r\n"
                                ))],
                            );
                            state.set(TermState::Failed(m));
                        }
                        _ => {}
                    }
                }
            } else if data.is_instance_of::<js_sys::ArrayBuffer>() {
                let bytes = js_sys::Uint8Array::new(&data);
                let _ = js_call(&term, "write", &[bytes.into()]);
            }
        });
        ws.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket_handlers.push(on_message);
    }
    {
        let term = term.clone();
        let on_close = Closure::<dyn FnMut(web_sys::Event)>::new(move |ev: web_sys::Event| {
            let code = ev
                .dyn_ref::<web_sys::CloseEvent>()
                .map_or(1006, web_sys::CloseEvent::code);
            let text = closed_text(*exit.borrow(), code);
            let failed = matches!(state.get_untracked(), TermState::Failed(_));
            let tries = links.lost.get_untracked();
            if !failed && lost(*exit.borrow(), code) && tries < AUTO_RECONNECTS {
                let _ = js_call(
                    &term,
                    "write",
                    &[JsValue::from_str(&format!(
                        "\r\n\u{1b}[2m[{text}: reconnecting…]\u{1b}[0m\r\n"
                    ))],
                );
                state.set(TermState::Reconnecting("reconnecting".into()));
                links.lost.set(tries + 1);
                // 0.5 s, then doubling: a load balancer needs a moment to see a replica gone.
                set_timeout(
                    move || {
                        if links.state.try_get_untracked()
                            == Some(TermState::Reconnecting("reconnecting".into()))
                        {
                            links.again.update(|n| *n += 1);
                        }
                    },
                    std::time::Duration::from_millis(500 << tries),
                );
                return;
            }
            let _ = js_call(
                &term,
                "write",
                &[JsValue::from_str(&format!(
                    "\r\n\u{1b}[2m[{text}]\u{1b}[0m\r\n"
                ))],
            );
            if !failed {
                state.set(if code == 1000 || code == 1005 || exit.borrow().is_some() {
                    TermState::Closed(text)
                } else {
                    TermState::Failed(text)
                });
            }
        });
        ws.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        socket_handlers.push(on_close);
    }

    let mut term_handlers = Vec::new();
    let mut disposables = Vec::new();
    {
        let ws = ws.clone();
        let on_data = Closure::<dyn FnMut(JsValue)>::new(move |d: JsValue| {
            if ws.ready_state() == web_sys::WebSocket::OPEN {
                if let Some(s) = d.as_string() {
                    let _ = ws.send_with_u8_array(s.as_bytes());
                }
            }
        });
        if let Ok(d) = js_call(&term, "onData", &[on_data.as_ref().clone()]) {
            disposables.push(d);
        }
        term_handlers.push(on_data);
    }
    {
        let ws = ws.clone();
        let on_resize = Closure::<dyn FnMut(JsValue)>::new(move |size: JsValue| {
            let (cols, rows) = dims(&size);
            if ws.ready_state() == web_sys::WebSocket::OPEN {
                let _ =
                    ws.send_with_str(&format!(r#"{{"resize":{{"cols":{cols},"rows":{rows}}}}}"#));
            }
        });
        if let Ok(d) = js_call(&term, "onResize", &[on_resize.as_ref().clone()]) {
            disposables.push(d);
        }
        term_handlers.push(on_resize);
    }
    let on_window_resize = {
        let fit = fit.clone();
        Closure::<dyn FnMut()>::new(move || {
            let _ = js_call(&fit, "fit", &[]);
        })
    };
    if let Some(w) = web_sys::window() {
        let _ =
            w.add_event_listener_with_callback("resize", on_window_resize.as_ref().unchecked_ref());
    }
    let session = Session {
        term,
        ws,
        disposables,
        on_window_resize,
        _socket_handlers: socket_handlers,
        _term_handlers: term_handlers,
    };
    if holder
        .try_set_value(Some(SendWrapper::new(session)))
        .is_some()
    {
        // The tab is gone: the session was handed back and is dropped (closed) here.
    }
    Ok(())
}

/// The container page's Terminal tab (managers only; the server checks it again). The role and
/// state come from the container page's resource, awaited under Suspense like the other tabs
/// (reading it with `get()` outside Suspense never saw it resolve after hydration).
#[component]
pub fn TerminalTab() -> impl IntoView {
    let ctx = use_container();
    view! {
        <Suspense fallback=|| view! {
            <section class="panel terminal-panel"><p class="muted">"Checking your role…"</p></section>
        }>
            {move || Suspend::new(async move {
                match ctx.page.await {
                    Ok(p) => {
                        let manager = role_at_least(Some(p.role), RoleView::Manager);
                        let running = p.detail.state == "running";
                        view! { <TerminalBody manager running /> }.into_any()
                    }
                    Err(e) => view! { <crate::components::page::ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TerminalBody(manager: bool, running: bool) -> impl IntoView {
    let ctx = use_container();
    let manager = Signal::derive(move || manager);
    let running = Signal::derive(move || Some(running));
    let shell = RwSignal::new(SHELLS[0].to_string());
    let state = RwSignal::new(TermState::Idle);
    let links = Links {
        state,
        lost: RwSignal::new(0),
        again: RwSignal::new(0),
    };
    let holder: Local<Session> = StoredValue::new(None);
    let screen = NodeRef::<leptos::html::Div>::new();

    let connect = move || {
        let Some(el) = screen.get_untracked() else {
            return;
        };
        let el: web_sys::HtmlElement = el.into();
        let base = format!(
            "/api/v1/hosts/{}/containers/{}",
            encode(&ctx.host.get_untracked()),
            encode(&ctx.id.get_untracked())
        );
        let shell = shell.get_untracked();
        leptos::task::spawn_local(async move {
            if let Err(e) = start(el, base, shell, links, holder).await {
                let _ = state.try_set(TermState::Failed(e));
            }
        });
    };
    // Connect once the tab is shown to a manager of a running container.
    Effect::new(move |done: Option<bool>| {
        if done == Some(true) {
            return true;
        }
        if manager.get() && running.get() == Some(true) && screen.get().is_some() {
            connect();
            return true;
        }
        false
    });
    // A lost session opens again (see `Links::again`).
    Effect::new(move |seen: Option<u32>| {
        let now = links.again.get();
        if seen.is_some_and(|s| s != now) {
            connect();
        }
        now
    });
    on_cleanup(move || {
        let _ = holder.try_update_value(Option::take);
    });

    view! {
        <section class="panel terminal-panel" aria-labelledby="terminal-title">
            <div class="panel-title-row">
                <h2 id="terminal-title">"Terminal"</h2>
                <span data-testid="terminal-state">
                    {move || { let (tone, word) = state.get().badge(); view! { <Badge tone label=word /> } }}
                </span>
            </div>
            <Show when=move || manager.get() fallback=move || view! {
                <p class="muted">"A terminal needs the manager role on this host."</p>
            }>
                <form class="terminal-bar" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); connect(); }>
                    <label class="inline-select">
                        <span>"Shell"</span>
                        <select aria-label="Shell" on:change=move |ev| shell.set(event_target_value(&ev))>
                            {SHELLS.into_iter().map(|s| view! { <option value=s selected=move || shell.get() == s>{s}</option> }).collect_view()}
                        </select>
                    </label>
                    <button type="submit" class="button button-primary" data-testid="terminal-connect"
                        prop:disabled=move || matches!(state.get(), TermState::Loading | TermState::Connecting)>
                        {move || match state.get() { TermState::Idle => "Connect", TermState::Open => "New session", _ => "Reconnect" }}
                    </button>
                    <button type="button" class="button"
                        prop:disabled=move || state.get() != TermState::Open
                        on:click=move |_| holder.with_value(|h| { if let Some(s) = h { s.disconnect(); } })>
                        "Disconnect"
                    </button>
                    {move || (running.get() == Some(false)).then(|| view! {
                        <span class="muted small">"The container is not running: start it to open a shell."</span>
                    })}
                </form>
            </Show>
            <div class="terminal-screen" node_ref=screen data-testid="terminal" class:terminal-hidden=move || !manager.get()></div>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_words() {
        assert_eq!(closed_text(Some(Some(0)), 1000), "exited with code 0");
        assert_eq!(closed_text(Some(None), 1000), "the shell ended");
        assert_eq!(closed_text(None, 1001), "the server is restarting");
        assert_eq!(closed_text(None, 1000), "closed");
        assert_eq!(closed_text(None, 1006), "the connection closed (1006)");
    }

    #[test]
    fn only_a_lost_connection_opens_again_by_itself() {
        assert!(lost(None, 1006));
        assert!(lost(None, 1001));
        assert!(!lost(Some(Some(0)), 1006), "the shell exited");
        assert!(!lost(None, 1000), "closed on purpose");
        assert!(!lost(None, 1011), "the server failed it");
    }
}
