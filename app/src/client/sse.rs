//! Server-Sent Events as the live pages read them (logs, stats, events): an open stream that
//! closes when dropped, and how the stream is doing, in words.

use leptos::wasm_bindgen::closure::Closure;
use leptos::wasm_bindgen::{JsCast, JsValue};

use crate::components::badge::Tone;

/// How a live stream is doing, shown next to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnState {
    Connecting,
    Live,
    Reconnecting,
    Ended(String),
}

impl ConnState {
    pub fn badge(&self) -> (Tone, String) {
        match self {
            ConnState::Connecting => (Tone::Info, "connecting".into()),
            ConnState::Live => (Tone::Good, "live".into()),
            ConnState::Reconnecting => (Tone::Warn, "reconnecting".into()),
            ConnState::Ended(why) => (Tone::Idle, why.clone()),
        }
    }
}

/// An open EventSource and the listeners it holds; closed when dropped.
pub struct Sse {
    es: web_sys::EventSource,
    _listeners: Vec<Closure<dyn FnMut(web_sys::Event)>>,
}

/// A listener for one SSE event name.
pub type Listener = Box<dyn FnMut(web_sys::Event)>;

impl Sse {
    pub fn open(url: &str, listeners: Vec<(&'static str, Listener)>) -> Result<Sse, JsValue> {
        let es = web_sys::EventSource::new(url)?;
        let mut held = Vec::with_capacity(listeners.len());
        for (name, f) in listeners {
            let cb = Closure::<dyn FnMut(web_sys::Event)>::wrap(f);
            es.add_event_listener_with_callback(name, cb.as_ref().unchecked_ref())?;
            held.push(cb);
        }
        Ok(Sse {
            es,
            _listeners: held,
        })
    }

    pub fn close(&self) {
        self.es.close();
    }

    /// `EventSource.readyState`: 0 connecting, 1 open, 2 closed.
    pub fn ready_state(&self) -> u16 {
        self.es.ready_state()
    }

    /// The `data` of a message event; `None` for a plain event (a connection error).
    pub fn data(ev: &web_sys::Event) -> Option<String> {
        ev.dyn_ref::<web_sys::MessageEvent>()
            .and_then(|m| m.data().as_string())
    }
}

impl Drop for Sse {
    fn drop(&mut self) {
        self.es.close();
    }
}
