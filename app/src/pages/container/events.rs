//! `/events`: the fleet's engine events as they happen (`GET /api/v1/events`, SSE), newest
//! first, the last [`MAX_EVENTS`] kept. Type and action filter on the server (a new filter is a
//! new stream); the host filter and pause work in the page.

use std::collections::VecDeque;

use leptos::prelude::*;
use leptos_meta::Title;
use serde::Deserialize;

use crate::browser::Local;
use crate::client::sse::{ConnState, Listener, Sse};
use crate::components::badge::{Badge, Tone};
use crate::format::short_id;
use crate::routes::{container_href, encode};

/// Events kept in the table.
pub const MAX_EVENTS: usize = 500;
const TYPES: [&str; 6] = [
    "container",
    "image",
    "volume",
    "network",
    "daemon",
    "plugin",
];

/// One event as the feed sends it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct EventRow {
    #[serde(skip)]
    pub seq: u64,
    pub host: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub action: String,
    pub id: String,
    pub name: Option<String>,
    pub time: i64,
    #[serde(default)]
    pub time_nano: i64,
}

#[derive(Debug, Deserialize)]
struct Skipped {
    count: u64,
    host: Option<String>,
}

#[derive(Debug, Deserialize)]
struct HostEnd {
    host: String,
    reason: String,
}

/// `HH:MM:SS` in the browser's time zone (rows exist only in the browser).
fn clock(row: &EventRow) -> String {
    // Milliseconds since the epoch fit an f64 exactly.
    #[allow(clippy::cast_precision_loss)]
    let ms = if row.time_nano > 0 {
        (row.time_nano / 1_000_000) as f64
    } else {
        (row.time * 1000) as f64
    };
    let d = js_sys::Date::new(&ms.into());
    format!(
        "{:02}:{:02}:{:02}",
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

fn action_tone(action: &str) -> Tone {
    let a = action.split(':').next().unwrap_or(action).trim();
    match a {
        "start" | "unpause" | "create" | "pull" | "connect" | "mount" => Tone::Good,
        "die" | "oom" | "kill" | "destroy" | "delete" | "remove" | "untag" => Tone::Bad,
        "stop" | "pause" | "disconnect" | "unmount" => Tone::Warn,
        "health_status" if action.contains("unhealthy") => Tone::Bad,
        "health_status" => Tone::Good,
        _ => Tone::Info,
    }
}

/// A comma-separated filter as the server wants it: trimmed, no empty parts.
pub fn filter_list(s: &str) -> String {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(",")
}

#[component]
pub fn EventsPage() -> impl IntoView {
    let rows = RwSignal::new(VecDeque::<EventRow>::new());
    let held = RwSignal::new(VecDeque::<EventRow>::new());
    let notes = RwSignal::new(Vec::<String>::new());
    let paused = RwSignal::new(false);
    let state = RwSignal::new(ConnState::Connecting);
    let kind = RwSignal::new(String::new());
    let action_input = RwSignal::new(String::new());
    let action = RwSignal::new(String::new());
    let host = RwSignal::new(String::new());
    let hosts = RwSignal::new(Vec::<String>::new());
    let seq = StoredValue::new(0u64);
    let holder: Local<Sse> = StoredValue::new(None);
    let generation = StoredValue::new(0u32);

    let push = move |mut row: EventRow| {
        seq.update_value(|s| *s += 1);
        row.seq = seq.get_value();
        if !hosts.with_untracked(|h| h.contains(&row.host)) {
            hosts.update(|h| {
                h.push(row.host.clone());
                h.sort();
            });
        }
        let target = if paused.get_untracked() { held } else { rows };
        target.update(|r| {
            r.push_front(row);
            r.truncate(MAX_EVENTS);
        });
    };
    let note = move |text: String| {
        notes.update(|n| {
            n.push(text);
            if n.len() > 5 {
                n.remove(0);
            }
        });
    };

    // Opens (or reopens) the feed with the server-side filters.
    let open = move |kind: String, action: String| {
        generation.update_value(|g| *g += 1);
        let mine = generation.get_value();
        holder.set_value(None);
        state.set(ConnState::Connecting);
        let mut url = "/api/v1/events".to_string();
        let mut sep = '?';
        for (k, v) in [("type", kind.clone()), ("action", filter_list(&action))] {
            if !v.is_empty() {
                url.push_str(&format!("{sep}{k}={}", encode(&v)));
                sep = '&';
            }
        }
        let on_open: Listener = Box::new(move |_| state.set(ConnState::Live));
        let on_event: Listener = Box::new(move |ev| {
            if let Some(row) =
                Sse::data(&ev).and_then(|d| serde_json::from_str::<EventRow>(&d).ok())
            {
                push(row);
            }
        });
        let on_skipped: Listener = Box::new(move |ev| {
            if let Some(s) = Sse::data(&ev).and_then(|d| serde_json::from_str::<Skipped>(&d).ok()) {
                note(format!(
                    "{} events from {} were skipped (the page fell behind).",
                    s.count,
                    s.host.unwrap_or_else(|| "a host".into())
                ));
            }
        });
        let on_host_end: Listener = Box::new(move |ev| {
            if let Some(e) = Sse::data(&ev).and_then(|d| serde_json::from_str::<HostEnd>(&d).ok()) {
                note(format!(
                    "Events from {} stopped ({}). Reload the page to follow it again.",
                    e.host,
                    e.reason.replace('_', " ")
                ));
            }
        });
        let on_error: Listener = Box::new(move |ev| {
            // A connection error (not the server's own `error` event): the browser retries by
            // itself, and a feed it gave up on is reopened by the timer below.
            if Sse::data(&ev).is_none() && generation.try_get_value() == Some(mine) {
                state.set(ConnState::Reconnecting);
            }
        });
        match Sse::open(
            &url,
            vec![
                ("open", on_open),
                ("event", on_event),
                ("skipped", on_skipped),
                ("host_end", on_host_end),
                ("error", on_error),
            ],
        ) {
            Ok(sse) => holder.set_value(Some(send_wrapper::SendWrapper::new(sse))),
            Err(_) => state.set(ConnState::Ended(
                "the browser could not open the feed".into(),
            )),
        }
    };
    let reopen = RwSignal::new(0u32);
    Effect::new(move |_| {
        reopen.track();
        open(kind.get(), action.get());
    });
    let timer = StoredValue::new(None::<leptos::leptos_dom::helpers::IntervalHandle>);
    Effect::new(move |_| {
        // A feed the browser gave up on is reopened every 10 s.
        if timer.with_value(Option::is_none) {
            let h = set_interval_with_handle(
                move || {
                    let gave_up = holder.try_with_value(|h| {
                        h.as_ref()
                            .is_some_and(|s| s.ready_state() == web_sys::EventSource::CLOSED)
                    });
                    if gave_up == Some(true) {
                        reopen.update(|n| *n += 1);
                    }
                },
                std::time::Duration::from_secs(10),
            );
            timer.set_value(h.ok());
        }
    });
    on_cleanup(move || {
        let _ = holder.try_update_value(Option::take);
        if let Some(h) = timer.try_get_value().flatten() {
            h.clear();
        }
    });

    let resume = move || {
        let mut pending = held.get_untracked();
        held.set(VecDeque::new());
        rows.update(|r| {
            while let Some(row) = pending.pop_back() {
                r.push_front(row);
            }
            r.truncate(MAX_EVENTS);
        });
        paused.set(false);
    };
    let shown = Memo::new(move |_| {
        let h = host.get();
        rows.with(|r| {
            r.iter()
                .filter(|row| h.is_empty() || row.host == h)
                .cloned()
                .collect::<Vec<_>>()
        })
    });

    view! {
        <Title text="Events" />
        <header class="page-header">
            <h1>"Events"</h1>
            <div class="page-actions">
                <span data-testid="events-state">{move || { let (tone, word) = state.get().badge(); view! { <Badge tone label=word /> } }}</span>
                <button type="button" class="button" data-testid="events-pause"
                    on:click=move |_| if paused.get_untracked() { resume() } else { paused.set(true) }>
                    {move || if paused.get() {
                        let n = held.with(VecDeque::len);
                        if n == 0 { "Resume".to_string() } else { format!("Resume ({n} new)") }
                    } else { "Pause".to_string() }}
                </button>
                <button type="button" class="button button-quiet" on:click=move |_| { rows.set(VecDeque::new()); held.set(VecDeque::new()); }>"Clear"</button>
            </div>
        </header>
        <p class="page-summary">
            {move || format!("Live from every host you can see · the last {MAX_EVENTS} are kept · {} shown", shown.with(Vec::len))}
        </p>
        <form class="filter-bar" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); action.set(action_input.get_untracked()); }>
            <label class="field">
                <span>"Type"</span>
                <select on:change=move |ev| kind.set(event_target_value(&ev))>
                    <option value="" selected=move || kind.get().is_empty()>"All types"</option>
                    {TYPES.into_iter().map(|t| view! { <option value=t selected=move || kind.get() == t>{t}</option> }).collect_view()}
                </select>
            </label>
            <label class="field filter-text">
                <span>"Action"</span>
                <input type="text" placeholder="e.g. start, die, oom" prop:value=move || action_input.get()
                    on:input=move |ev| action_input.set(event_target_value(&ev))
                    on:change=move |ev| action.set(event_target_value(&ev)) />
            </label>
            <label class="field">
                <span>"Host"</span>
                <select on:change=move |ev| host.set(event_target_value(&ev))>
                    <option value="">"All hosts"</option>
                    {move || hosts.get().into_iter().map(|h| {
                        let (value, current) = (h.clone(), h.clone());
                        view! { <option value=value selected=move || host.get() == current>{h}</option> }
                    }).collect_view()}
                </select>
            </label>
        </form>
        {move || notes.get().into_iter().map(|n| view! { <div class="notice" role="status">{n}</div> }).collect_view()}
        <div class="table-wrap events-wrap">
            <table class="table table-cards events-table" aria-label="Events" data-testid="events">
                <thead>
                    <tr>
                        <th scope="col">"Time"</th>
                        <th scope="col">"Host"</th>
                        <th scope="col">"Type"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Object"</th>
                    </tr>
                </thead>
                <tbody>
                    <Show when=move || shown.with(Vec::is_empty)>
                        <tr class="events-empty"><td colspan="5" class="muted">
                            {move || if paused.get() { "Paused." } else { "Waiting for events — start, stop or pull something and it shows here." }}
                        </td></tr>
                    </Show>
                    <For each=move || shown.get() key=|r| r.seq let:row>
                        {
                            let object = row.name.clone().unwrap_or_else(|| if row.id.len() == 64 { short_id(&row.id) } else { row.id.clone() });
                            let link = (row.kind == "container").then(|| container_href(&row.host, &row.id));
                            let tone = action_tone(&row.action);
                            view! {
                                <tr data-action=row.action.clone() data-type=row.kind.clone()>
                                    <td data-label="Time" class="mono" title=row.time.to_string()>{clock(&row)}</td>
                                    <td data-label="Host">{row.host.clone()}</td>
                                    <td data-label="Type">{row.kind.clone()}</td>
                                    <td data-label="Action"><Badge tone label=row.action.clone() /></td>
                                    <td data-label="Object" class="cell-wrap mono" title=row.id.clone()>
                                        {match link {
                                            Some(href) => view! { <a href=href>{object}</a> }.into_any(),
                                            None => view! { <span>{object}</span> }.into_any(),
                                        }}
                                    </td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_and_tones() {
        assert_eq!(filter_list(" start, die ,,oom "), "start,die,oom");
        assert_eq!(filter_list(""), "");
        assert_eq!(action_tone("start"), Tone::Good);
        assert_eq!(action_tone("die"), Tone::Bad);
        assert_eq!(action_tone("health_status: unhealthy"), Tone::Bad);
        assert_eq!(action_tone("exec_start: sh"), Tone::Info);
    }

    #[test]
    fn rows_read_the_wire() {
        let row: EventRow = serde_json::from_str(
            r#"{"host":"a","type":"container","action":"start","id":"x","name":"web","attributes":{},"time":5,"time_nano":5000000000}"#,
        )
        .expect("a row");
        assert_eq!(row.kind, "container");
        assert_eq!(row.name.as_deref(), Some("web"));
    }
}
