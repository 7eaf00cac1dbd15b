use leptos::prelude::*;

/// The fixed palette of states. The word is always shown: colour is never the only signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Warn,
    Bad,
    Idle,
    Info,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "badge badge-good",
            Tone::Warn => "badge badge-warn",
            Tone::Bad => "badge badge-bad",
            Tone::Idle => "badge badge-idle",
            Tone::Info => "badge badge-info",
        }
    }
}

#[component]
pub fn Badge(tone: Tone, #[prop(into)] label: String) -> impl IntoView {
    view! {
        <span class=tone.class()>
            <span class="badge-dot" aria-hidden="true"></span>
            {label}
        </span>
    }
}
