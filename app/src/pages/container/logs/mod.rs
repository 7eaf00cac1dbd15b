//! The log viewer (a container's Logs tab) and the merged logs page `/logs?c=host/id&c=…`.
//!
//! Lines arrive over Server-Sent Events (`…/logs?follow=true`, see `server::http::api::live`).
//! The DOM of the lines is kept by hand, not by signals: lines are gathered as they come and
//! appended once per animation frame as one fragment, and at most [`MAX_DOM_LINES`] stay in
//! the page (the oldest are dropped, and the view says so). Engine text only ever becomes text
//! nodes; ANSI colours become classes (or CSSOM colours for 256-colour and RGB codes).

pub mod ansi;
pub mod text;

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use leptos::prelude::*;
use leptos::wasm_bindgen::closure::Closure;
use leptos::wasm_bindgen::{JsCast, JsValue};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use send_wrapper::SendWrapper;
use serde::{Deserialize, Serialize};

use crate::browser::{js_call, Local};
use crate::client::sse::{ConnState, Listener, Sse};
use crate::components::badge::Badge;
use crate::components::page::ErrorNotice;
use crate::error::AppError;
use crate::format::short_id;
use crate::pages::container::logs::ansi::parse_ansi;
use crate::pages::container::logs::text::{regex_escape, short_time, ts_key, unix_seconds};
use crate::pages::container::use_container;
use crate::routes::{container_href, encode};

/// Lines kept in the page; older ones are dropped from the view (Download has them all).
pub const MAX_DOM_LINES: usize = 5000;
/// Containers in one merged view.
pub const MAX_SOURCES: usize = wire::containers::MAX_LOG_SOURCES;
/// Colours the merged view gives its containers (`log-src-0` … in the stylesheet).
const SOURCE_COLOURS: u64 = 8;

/// One container whose log is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogSource {
    pub host: String,
    pub id: String,
    pub name: String,
}

impl LogSource {
    /// `/api/v1/hosts/{host}/containers/{id}`.
    pub fn api_base(&self) -> String {
        format!(
            "/api/v1/hosts/{}/containers/{}",
            encode(&self.host),
            encode(&self.id)
        )
    }

    /// A stable colour class for this container (FNV-1a of host/id).
    pub fn colour(&self) -> u64 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in self.host.bytes().chain([b'/']).chain(self.id.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
        h % SOURCE_COLOURS
    }

    pub fn label(&self) -> String {
        if self.name.is_empty() {
            short_id(&self.id)
        } else {
            self.name.clone()
        }
    }
}

/// The containers named by `c=host/id` values, checked: the caller may view each host and the
/// container exists. Duplicates are shown once.
#[server(output = crate::codec::TextJson)]
pub async fn log_sources(cs: Vec<String>) -> Result<Vec<LogSource>, AppError> {
    let caller = crate::ssr::caller()?;
    if cs.is_empty() {
        return Err(AppError::Invalid {
            field: "c".into(),
            message: "name at least one container as host/container".into(),
        }
        .respond());
    }
    if cs.len() > MAX_SOURCES {
        return Err(AppError::Invalid {
            field: "c".into(),
            message: format!("show at most {MAX_SOURCES} containers at once"),
        }
        .respond());
    }
    let ops = crate::ssr::ops()?;
    let mut out: Vec<LogSource> = Vec::with_capacity(cs.len());
    for c in cs {
        let Some((host, id)) = c
            .split_once('/')
            .filter(|(h, i)| !h.is_empty() && !i.is_empty())
        else {
            return Err(AppError::Invalid {
                field: "c".into(),
                message: format!("\"{c}\" is not host/container"),
            }
            .respond());
        };
        let detail = ops.log_source(&caller, host, id).await?;
        if out.iter().any(|s| s.host == host && s.id == detail.id) {
            continue;
        }
        out.push(LogSource {
            host: host.to_string(),
            id: detail.id,
            name: detail.name.trim_start_matches('/').to_string(),
        });
    }
    Ok(out)
}

// ---------- the wire ----------

#[derive(Debug, Deserialize)]
struct WireLine {
    stream: String,
    ts: Option<String>,
    line: String,
}

#[derive(Debug, Deserialize)]
struct WireEnd {
    reason: String,
    exit_code: Option<i64>,
    message: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireCount {
    count: u64,
}

#[derive(Debug, Deserialize)]
struct WireMessage {
    message: String,
}

// ---------- the viewer ----------

#[derive(Debug, Clone, PartialEq, Eq)]
struct Query {
    tail: String,
    since: String,
    q: String,
    regex: bool,
    case: bool,
}

impl Query {
    fn params(&self) -> String {
        let mut s = String::new();
        if !self.since.is_empty() {
            s.push_str(&format!("&since={}", encode(&self.since)));
        }
        if !self.q.is_empty() {
            s.push_str(&format!("&q={}", encode(&self.q)));
            if self.regex {
                s.push_str("&regex=true");
            }
            if self.case {
                s.push_str("&case=true");
            }
        }
        s
    }
}

enum Pending {
    Line {
        src: usize,
        stderr: bool,
        ts: Option<String>,
        text: String,
    },
    Marker {
        src: Option<usize>,
        class: &'static str,
        text: String,
    },
}

#[derive(Clone, Copy)]
struct Signals {
    states: RwSignal<Vec<ConnState>>,
    total: RwSignal<u64>,
    dropped: RwSignal<u64>,
    follow: RwSignal<bool>,
}

struct Viewer {
    me: Weak<RefCell<Viewer>>,
    lines: web_sys::Element,
    scroller: web_sys::Element,
    sources: Vec<LogSource>,
    merged: bool,
    query: Option<Query>,
    highlight: Option<JsValue>,
    pending: Vec<Pending>,
    frame_asked: bool,
    frame: Option<Closure<dyn FnMut()>>,
    streams: Vec<Option<Sse>>,
    last: Vec<Option<(String, u32)>>,
    retries: Vec<u32>,
    generation: u32,
    sig: Signals,
}

fn document() -> Option<web_sys::Document> {
    web_sys::window().and_then(|w| w.document())
}

/// A RegExp for highlighting what the server filtered on; `None` when JavaScript's regular
/// expressions cannot read it (the server's syntax is a little different).
fn highlighter(q: &Query) -> Option<JsValue> {
    if q.q.is_empty() {
        return None;
    }
    let source = if q.regex {
        q.q.clone()
    } else {
        regex_escape(&q.q)
    };
    let flags = if q.case { "g" } else { "gi" };
    let ctor: js_sys::Function = js_sys::Reflect::get(&js_sys::global(), &"RegExp".into())
        .ok()?
        .dyn_into()
        .ok()?;
    let args = js_sys::Array::of2(&source.into(), &flags.into());
    js_sys::Reflect::construct(&ctor, &args).ok()
}

/// `text` cut into (piece, is-a-match) by `re`.
fn split_matches(re: &JsValue, text: &str) -> Vec<(String, bool)> {
    let s = JsValue::from_str(text);
    let slice = |a: u32, b: Option<u32>| -> String {
        let mut args = vec![JsValue::from(a)];
        if let Some(b) = b {
            args.push(JsValue::from(b));
        }
        js_call(&s, "slice", &args)
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default()
    };
    let _ = js_sys::Reflect::set(re, &"lastIndex".into(), &JsValue::from(0));
    let mut out = Vec::new();
    let mut last = 0u32;
    for _ in 0..256 {
        let Ok(m) = js_call(re, "exec", std::slice::from_ref(&s)) else {
            break;
        };
        if m.is_null() || m.is_undefined() {
            break;
        }
        // Indices are small non-negative whole numbers (UTF-16 offsets of one line).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let idx = js_sys::Reflect::get(&m, &"index".into())
            .ok()
            .and_then(|v| v.as_f64())
            .unwrap_or(0.0) as u32;
        let found = js_sys::Reflect::get(&m, &JsValue::from(0))
            .ok()
            .and_then(|v| v.as_string())
            .unwrap_or_default();
        let len = u32::try_from(found.encode_utf16().count()).unwrap_or(0);
        if len == 0 {
            let _ = js_sys::Reflect::set(re, &"lastIndex".into(), &JsValue::from(idx + 1));
            continue;
        }
        if idx > last {
            out.push((slice(last, Some(idx)), false));
        }
        out.push((found, true));
        last = idx + len;
    }
    let rest = slice(last, None);
    if !rest.is_empty() || out.is_empty() {
        out.push((rest, false));
    }
    out
}

fn el(doc: &web_sys::Document, tag: &str, class: &str) -> Option<web_sys::Element> {
    let e = doc.create_element(tag).ok()?;
    if !class.is_empty() {
        e.set_class_name(class);
    }
    Some(e)
}

impl Viewer {
    fn restart(&mut self, query: Query) {
        self.generation = self.generation.wrapping_add(1);
        self.streams.clear();
        self.pending.clear();
        self.lines.set_text_content(None);
        self.highlight = highlighter(&query);
        self.query = Some(query);
        let n = self.sources.len();
        self.last = vec![None; n];
        self.retries = vec![0; n];
        self.streams = (0..n).map(|_| None).collect();
        self.sig.total.set(0);
        self.sig.dropped.set(0);
        self.sig.states.set(vec![ConnState::Connecting; n]);
        self.sig.follow.set(true);
        for i in 0..n {
            self.open(i);
        }
    }

    fn set_state(&self, i: usize, state: ConnState) {
        self.sig.states.update(|s| {
            if let Some(slot) = s.get_mut(i) {
                *slot = state;
            }
        });
    }

    fn open(&mut self, i: usize) {
        let Some(query) = self.query.clone() else {
            return;
        };
        let Some(source) = self.sources.get(i) else {
            return;
        };
        // A reconnect picks up where the view left off: everything since the last line seen.
        let resume = self.last[i]
            .as_ref()
            .and_then(|(secs, _)| unix_seconds(secs));
        let url = match resume {
            Some(since) => {
                let q = Query {
                    since: since.to_string(),
                    ..query
                };
                format!(
                    "{}/logs?follow=true&timestamps=true&tail=all{}",
                    source.api_base(),
                    q.params()
                )
            }
            None => format!(
                "{}/logs?follow=true&timestamps=true&tail={}{}",
                source.api_base(),
                encode(&query.tail),
                query.params()
            ),
        };
        let me = self.me.clone();
        let generation = self.generation;
        let on = move |f: fn(&mut Viewer, usize, &web_sys::Event)| -> Listener {
            let me = me.clone();
            Box::new(move |ev: web_sys::Event| {
                if let Some(v) = me.upgrade() {
                    if let Ok(mut v) = v.try_borrow_mut() {
                        if v.generation == generation {
                            f(&mut v, i, &ev);
                        }
                    }
                }
            })
        };
        let listeners: Vec<(&'static str, Listener)> = vec![
            ("open", on(|v, i, _| v.set_state(i, ConnState::Live))),
            ("line", on(Viewer::on_line)),
            ("skipped", on(Viewer::on_skipped)),
            ("end", on(Viewer::on_end)),
            ("error", on(Viewer::on_error)),
        ];
        match Sse::open(&url, listeners) {
            Ok(sse) => self.streams[i] = Some(sse),
            Err(_) => self.set_state(
                i,
                ConnState::Ended("the browser could not open the stream".into()),
            ),
        }
    }

    fn on_line(&mut self, i: usize, ev: &web_sys::Event) {
        let Some(line) = Sse::data(ev).and_then(|d| serde_json::from_str::<WireLine>(&d).ok())
        else {
            return;
        };
        let key = line.ts.as_deref().and_then(ts_key);
        if let (Some(k), Some(last)) = (&key, &self.last[i]) {
            // After a reconnect the engine repeats the last second: skip what was shown.
            if k <= last {
                return;
            }
        }
        if key.is_some() {
            self.last[i] = key;
        }
        self.retries[i] = 0;
        self.pending.push(Pending::Line {
            src: i,
            stderr: line.stream == "stderr",
            ts: line.ts,
            text: line.line,
        });
        self.ask_frame();
    }

    fn on_skipped(&mut self, i: usize, ev: &web_sys::Event) {
        if let Some(c) = Sse::data(ev).and_then(|d| serde_json::from_str::<WireCount>(&d).ok()) {
            self.pending.push(Pending::Marker {
                src: Some(i),
                class: "log-marker log-marker-skip",
                text: format!(
                    "skipped {} lines — the view fell behind the container",
                    c.count
                ),
            });
            self.ask_frame();
        }
    }

    fn on_end(&mut self, i: usize, ev: &web_sys::Event) {
        let Some(end) = Sse::data(ev).and_then(|d| serde_json::from_str::<WireEnd>(&d).ok()) else {
            return;
        };
        if let Some(s) = &self.streams[i] {
            s.close();
        }
        let (text, again) = match end.reason.as_str() {
            "exited" => (
                match end.exit_code {
                    Some(code) => format!("the container exited with code {code}"),
                    None => "the container stopped".to_string(),
                },
                false,
            ),
            "shutdown" => ("the server is restarting".to_string(), true),
            "error" => (
                end.message
                    .unwrap_or_else(|| "the log stream failed".to_string()),
                true,
            ),
            _ => ("the engine closed the log stream".to_string(), true),
        };
        self.pending.push(Pending::Marker {
            src: Some(i),
            class: "log-marker log-marker-end",
            text: format!("— {text} —"),
        });
        self.ask_frame();
        if again {
            self.retry(i);
        } else {
            let state = if end.reason == "exited" {
                match end.exit_code {
                    Some(code) => format!("exited ({code})"),
                    None => "stopped".into(),
                }
            } else {
                "ended".into()
            };
            self.set_state(i, ConnState::Ended(state));
        }
    }

    fn on_error(&mut self, i: usize, ev: &web_sys::Event) {
        if let Some(data) = Sse::data(ev) {
            // The server's own `error` event: a message safe to show; the stream goes on.
            let message = serde_json::from_str::<WireMessage>(&data)
                .map(|m| m.message)
                .unwrap_or(data);
            self.pending.push(Pending::Marker {
                src: Some(i),
                class: "log-marker log-marker-error",
                text: message,
            });
            self.ask_frame();
            return;
        }
        if matches!(
            self.sig.states.get_untracked().get(i),
            Some(ConnState::Ended(_))
        ) {
            return;
        }
        if let Some(s) = &self.streams[i] {
            s.close();
        }
        self.retry(i);
    }

    /// Opens stream `i` again after a pause that grows with each failure (up to 30 s).
    fn retry(&mut self, i: usize) {
        self.set_state(i, ConnState::Reconnecting);
        let n = self.retries[i].min(5);
        self.retries[i] += 1;
        let delay = (1000u64 << n).min(30_000);
        let me = self.me.clone();
        let generation = self.generation;
        set_timeout(
            move || {
                if let Some(v) = me.upgrade() {
                    if let Ok(mut v) = v.try_borrow_mut() {
                        if v.generation == generation {
                            v.open(i);
                        }
                    }
                }
            },
            std::time::Duration::from_millis(delay),
        );
    }

    fn ask_frame(&mut self) {
        if self.frame_asked {
            return;
        }
        if let (Some(w), Some(f)) = (web_sys::window(), self.frame.as_ref()) {
            if w.request_animation_frame(f.as_ref().unchecked_ref())
                .is_ok()
            {
                self.frame_asked = true;
            }
        }
    }

    fn line_node(&self, doc: &web_sys::Document, item: &Pending) -> Option<web_sys::Element> {
        match item {
            Pending::Marker { src, class, text } => {
                let row = el(doc, "div", class)?;
                let _ = row.set_attribute("role", "note");
                if let (true, Some(s)) = (self.merged, src.and_then(|i| self.sources.get(i))) {
                    let tag = el(doc, "span", &format!("log-src log-src-{}", s.colour()))?;
                    tag.set_text_content(Some(&s.label()));
                    let _ = row.append_child(&tag);
                }
                let t = el(doc, "span", "")?;
                t.set_text_content(Some(text));
                let _ = row.append_child(&t);
                Some(row)
            }
            Pending::Line {
                src,
                stderr,
                ts,
                text,
            } => {
                let row = el(
                    doc,
                    "div",
                    if *stderr {
                        "log-line log-err"
                    } else {
                        "log-line"
                    },
                )?;
                if self.merged {
                    if let Some(s) = self.sources.get(*src) {
                        let tag = el(doc, "span", &format!("log-src log-src-{}", s.colour()))?;
                        tag.set_text_content(Some(&s.label()));
                        let _ = row.append_child(&tag);
                    }
                }
                if let Some(ts) = ts {
                    let t = el(doc, "span", "log-ts")?;
                    t.set_text_content(Some(&short_time(ts)));
                    let _ = t.set_attribute("title", ts);
                    let _ = row.append_child(&t);
                }
                if *stderr {
                    let s = el(doc, "span", "log-stream")?;
                    s.set_text_content(Some("err"));
                    let _ = s.set_attribute("title", "written to stderr");
                    let _ = row.append_child(&s);
                }
                let body = el(doc, "span", "log-text")?;
                for seg in parse_ansi(text) {
                    let classes = seg.style.classes();
                    let (fg, bg) = seg.style.rgb();
                    let styled = !classes.is_empty() || fg.is_some() || bg.is_some();
                    let holder = if styled {
                        let span = el(doc, "span", &classes.join(" "))?;
                        if let Some(h) = span.dyn_ref::<web_sys::HtmlElement>() {
                            if let Some(fg) = fg {
                                let _ = h.style().set_property("color", &fg);
                            }
                            if let Some(bg) = bg {
                                let _ = h.style().set_property("background-color", &bg);
                            }
                        }
                        let _ = body.append_child(&span);
                        span
                    } else {
                        body.clone()
                    };
                    match &self.highlight {
                        Some(re) => {
                            for (piece, hit) in split_matches(re, &seg.text) {
                                if hit {
                                    let m = el(doc, "mark", "log-hit")?;
                                    m.set_text_content(Some(&piece));
                                    let _ = holder.append_child(&m);
                                } else if !piece.is_empty() {
                                    let _ = holder.append_child(&doc.create_text_node(&piece));
                                }
                            }
                        }
                        None => {
                            let _ = holder.append_child(&doc.create_text_node(&seg.text));
                        }
                    }
                }
                let _ = row.append_child(&body);
                Some(row)
            }
        }
    }

    /// Once per animation frame: what arrived since the last frame goes in as one fragment.
    fn flush(&mut self) {
        self.frame_asked = false;
        let mut items = std::mem::take(&mut self.pending);
        if items.is_empty() {
            return;
        }
        let Some(doc) = document() else {
            return;
        };
        let mut dropped: u64 = 0;
        if items.len() > MAX_DOM_LINES {
            let cut = items.len() - MAX_DOM_LINES;
            dropped += items[..cut]
                .iter()
                .filter(|p| matches!(p, Pending::Line { .. }))
                .count() as u64;
            items.drain(..cut);
        }
        let added = items
            .iter()
            .filter(|p| matches!(p, Pending::Line { .. }))
            .count() as u64;
        let frag = doc.create_document_fragment();
        for item in &items {
            if let Some(node) = self.line_node(&doc, item) {
                let _ = frag.append_child(&node);
            }
        }
        let _ = self.lines.append_child(&frag);
        let count = self.lines.child_element_count() as usize;
        if count > MAX_DOM_LINES {
            let before = self.scroller.scroll_height();
            for _ in 0..count - MAX_DOM_LINES {
                match self.lines.first_element_child() {
                    Some(first) => {
                        if first.class_name().contains("log-line") {
                            dropped += 1;
                        }
                        first.remove();
                    }
                    None => break,
                }
            }
            if !self.sig.follow.get_untracked() {
                // Keep what the reader is looking at in place.
                let shrunk = before - self.scroller.scroll_height();
                self.scroller
                    .set_scroll_top(self.scroller.scroll_top() - shrunk);
            }
        }
        self.sig.total.update(|t| *t += added);
        if dropped > 0 {
            self.sig.dropped.update(|d| *d += dropped);
        }
        if self.sig.follow.get_untracked() {
            self.scroller.set_scroll_top(self.scroller.scroll_height());
        }
    }
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The log of one container, or of several merged (each line marked with its container).
#[component]
pub fn LogViewer(sources: Vec<LogSource>) -> impl IntoView {
    let merged = sources.len() > 1;
    let sig = Signals {
        states: RwSignal::new(vec![ConnState::Connecting; sources.len()]),
        total: RwSignal::new(0),
        dropped: RwSignal::new(0),
        follow: RwSignal::new(true),
    };
    let q_input = RwSignal::new(String::new());
    let q = RwSignal::new(String::new());
    let regex = RwSignal::new(false);
    let case = RwSignal::new(false);
    let tail = RwSignal::new("500".to_string());
    let since = RwSignal::new(String::new());
    let timestamps = RwSignal::new(true);
    let wrap = RwSignal::new(true);
    let scroller = NodeRef::<leptos::html::Div>::new();
    let lines = NodeRef::<leptos::html::Div>::new();
    let viewer: Local<Rc<RefCell<Viewer>>> = StoredValue::new(None);

    let srcs = sources.clone();
    Effect::new(move |_| {
        let query = Query {
            tail: tail.get(),
            since: since.get(),
            q: q.get(),
            regex: regex.get(),
            case: case.get(),
        };
        let (Some(sc), Some(ln)) = (scroller.get(), lines.get()) else {
            return;
        };
        if viewer.with_value(Option::is_none) {
            let v = Rc::new_cyclic(|me: &Weak<RefCell<Viewer>>| {
                let weak = me.clone();
                let frame = Closure::<dyn FnMut()>::new(move || {
                    if let Some(v) = weak.upgrade() {
                        if let Ok(mut v) = v.try_borrow_mut() {
                            v.flush();
                        }
                    }
                });
                RefCell::new(Viewer {
                    me: me.clone(),
                    lines: ln.into(),
                    scroller: sc.into(),
                    sources: srcs.clone(),
                    merged,
                    query: None,
                    highlight: None,
                    pending: Vec::new(),
                    frame_asked: false,
                    frame: Some(frame),
                    streams: Vec::new(),
                    last: Vec::new(),
                    retries: Vec::new(),
                    generation: 0,
                    sig,
                })
            });
            viewer.set_value(Some(SendWrapper::new(v)));
        }
        viewer.with_value(|v| {
            if let Some(v) = v {
                if let Ok(mut v) = v.try_borrow_mut() {
                    v.restart(query);
                }
            }
        });
    });
    on_cleanup(move || {
        if let Some(Some(v)) = viewer.try_update_value(Option::take) {
            if let Ok(mut v) = v.try_borrow_mut() {
                v.generation = v.generation.wrapping_add(1);
                v.streams.clear();
                v.pending.clear();
            }
        }
    });

    let on_scroll = move |_| {
        if let Some(el) = scroller.get_untracked() {
            let at_bottom = el.scroll_top() + el.client_height() >= el.scroll_height() - 24;
            if sig.follow.get_untracked() != at_bottom {
                sig.follow.set(at_bottom);
            }
        }
    };
    let jump = move |_| {
        sig.follow.set(true);
        if let Some(el) = scroller.get_untracked() {
            el.set_scroll_top(el.scroll_height());
        }
    };
    let search = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        q.set(q_input.get_untracked().trim().to_string());
    };
    let clear = move |_| {
        q_input.set(String::new());
        q.set(String::new());
    };

    let downloads = sources.clone();
    let download_href = move |s: &LogSource| {
        let mut url = format!(
            "{}/logs/download?timestamps={}",
            s.api_base(),
            timestamps.get()
        );
        if !since.get().is_empty() {
            url.push_str(&format!("&since={}", encode(&since.get())));
        }
        if !q.get().is_empty() {
            url.push_str(&format!("&q={}", encode(&q.get())));
            if regex.get() {
                url.push_str("&regex=true");
            }
            if case.get() {
                url.push_str("&case=true");
            }
        }
        url
    };
    let legend = sources.clone();

    view! {
        <section class="log-view panel" data-testid="log-view">
            <form class="log-toolbar" on:submit=search role="search">
                <div class="log-search">
                    <input type="search" aria-label="Search the log" placeholder="Search (on the server)…"
                        data-testid="log-search"
                        prop:value=move || q_input.get()
                        on:input=move |ev| q_input.set(event_target_value(&ev)) />
                    <label class="toggle" title="Regular expression">
                        <input type="checkbox" prop:checked=move || regex.get() on:change=move |ev| regex.set(event_target_checked(&ev)) />
                        <span class="mono">".*"</span><span class="sr-only">"Regular expression"</span>
                    </label>
                    <label class="toggle" title="Match case">
                        <input type="checkbox" prop:checked=move || case.get() on:change=move |ev| case.set(event_target_checked(&ev)) />
                        <span class="mono">"Aa"</span><span class="sr-only">"Match case"</span>
                    </label>
                    <button type="submit" class="button">"Search"</button>
                    <Show when=move || !q.get().is_empty()>
                        <button type="button" class="button button-quiet" on:click=clear>"Clear"</button>
                    </Show>
                </div>
                <div class="log-options">
                    <label class="inline-select">
                        <span>"Lines"</span>
                        <select aria-label="Lines to start with" on:change=move |ev| tail.set(event_target_value(&ev))>
                            {["100", "500", "1000", "all"].into_iter().map(|t| {
                                let label = if t == "all" { "All".to_string() } else { format!("Last {t}") };
                                view! { <option value=t selected=move || tail.get() == t>{label}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="inline-select">
                        <span>"Since"</span>
                        <select aria-label="Since" on:change=move |ev| since.set(event_target_value(&ev))>
                            {[("", "Any time"), ("5m", "5 minutes"), ("1h", "1 hour"), ("24h", "24 hours")].into_iter().map(|(v, l)| {
                                view! { <option value=v selected=move || since.get() == v>{l}</option> }
                            }).collect_view()}
                        </select>
                    </label>
                    <label class="check check-inline">
                        <input type="checkbox" prop:checked=move || timestamps.get() on:change=move |ev| timestamps.set(event_target_checked(&ev)) />
                        "Timestamps"
                    </label>
                    <label class="check check-inline">
                        <input type="checkbox" prop:checked=move || wrap.get() on:change=move |ev| wrap.set(event_target_checked(&ev)) />
                        "Wrap"
                    </label>
                    <button type="button" class="button" data-testid="log-follow"
                        on:click=move |_| {
                            if sig.follow.get_untracked() {
                                sig.follow.set(false);
                            } else {
                                sig.follow.set(true);
                                if let Some(el) = scroller.get_untracked() {
                                    el.set_scroll_top(el.scroll_height());
                                }
                            }
                        }>
                        {move || if sig.follow.get() { "Pause scrolling" } else { "Resume scrolling" }}
                    </button>
                    {downloads.iter().map(|s| {
                        let s2 = s.clone();
                        let label = if merged { format!("Download {}", s.label()) } else { "Download".to_string() };
                        view! { <a class="button" href=move || download_href(&s2) download="" rel="nofollow">{label}</a> }
                    }).collect_view()}
                </div>
            </form>
            <div class="log-status small">
                {move || {
                    let states = sig.states.get();
                    legend.iter().zip(states).map(|(s, st)| {
                        let (tone, word) = st.badge();
                        view! {
                            <span class="log-source">
                                {merged.then(|| view! { <span class=format!("log-src log-src-{}", s.colour())>{s.label()}</span> })}
                                <Badge tone label=word />
                            </span>
                        }
                    }).collect_view()
                }}
                <span class="muted" data-testid="log-count">
                    {move || {
                        let total = sig.total.get();
                        let q = q.get();
                        let lines = if total == 1 { "1 line".to_string() } else { format!("{} lines", thousands(total)) };
                        if q.is_empty() { lines } else { format!("{lines} matching “{q}”") }
                    }}
                </span>
            </div>
            <Show when=move || { sig.dropped.get() > 0 }>
                <p class="log-dropped small" role="status">
                    {move || format!("Showing the last {} lines: {} older lines left the view. Download has the whole log.",
                        thousands(MAX_DOM_LINES as u64), thousands(sig.dropped.get()))}
                </p>
            </Show>
            <div class="log-frame">
                <div class="log-scroll" node_ref=scroller on:scroll=on_scroll tabindex="0" aria-label="Log lines"
                    class:log-nowrap=move || !wrap.get()
                    class:log-no-ts=move || !timestamps.get()>
                    <div class="log-lines" node_ref=lines data-testid="log-lines" aria-live="off"></div>
                </div>
                <Show when=move || !sig.follow.get()>
                    <button type="button" class="button button-primary log-jump" on:click=jump>"↓ Jump to latest"</button>
                </Show>
            </div>
        </section>
    }
}

/// The container page's Logs tab.
#[component]
pub fn LogsTab() -> impl IntoView {
    let ctx = use_container();
    move || {
        // Started again after an action: follow the new run.
        ctx.reload.track();
        let source = LogSource {
            host: ctx.host.get(),
            id: ctx.id.get(),
            name: String::new(),
        };
        view! { <LogViewer sources=vec![source] /> }
    }
}

/// `/logs?c=host/id&c=…`: several containers' logs in one view.
#[component]
pub fn LogsPage() -> impl IntoView {
    let query = use_query_map();
    let wanted = Memo::new(move |_| query.read().get_all("c").unwrap_or_default());
    let found = Resource::new(move || wanted.get(), log_sources);
    view! {
        <Title text="Logs" />
        <header class="page-header">
            <h1>"Logs"</h1>
            <div class="page-actions"><a class="button" href="/containers">"Containers"</a></div>
        </header>
        <Transition fallback=|| view! { <p class="muted">"Finding the containers…"</p> }>
            {move || Suspend::new(async move {
                match found.await {
                    Ok(sources) => {
                        let n = sources.len();
                        let links = sources.clone();
                        view! {
                            <p class="page-summary">
                                {if n == 1 { "1 container".to_string() } else { format!("{n} containers, merged as the lines arrive") }}
                                {links.into_iter().map(|s| view! {
                                    <a class=format!("chip log-src log-src-{}", s.colour()) href=container_href(&s.host, &s.id)>{s.label()}</a>
                                }).collect_view()}
                            </p>
                            <LogViewer sources />
                        }.into_any()
                    }
                    Err(AppError::Invalid { message, .. }) => view! {
                        <div class="empty">
                            <h2>"Which containers?"</h2>
                            <p>{message}</p>
                            <p>"Pick containers in the " <a href="/containers">"containers list"</a> " and choose Logs."</p>
                        </div>
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_and_colours() {
        let a = LogSource {
            host: "h".into(),
            id: "abc".into(),
            name: String::new(),
        };
        assert_eq!(a.colour(), a.clone().colour());
        assert!(a.colour() < SOURCE_COLOURS);
        assert_eq!(a.label(), "abc");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(12), "12");
    }
}
