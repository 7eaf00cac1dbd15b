//! Engine events: one engine stream per host shared by every viewer, filtered per viewer by
//! type and action; the fleet feed merges the hosts a person may see.

use std::collections::HashMap;
use std::sync::Arc;

use futures::stream::{self, BoxStream};
use futures::StreamExt;
use serde::Serialize;
use tokio::sync::broadcast;

use crate::engine::{Chunks, EngineEvent};
use crate::error::{Error, Result};
use crate::fleet::{Change, EventSource, Host};

use super::hub::Stop;
use super::{Hub, LogEnd};

/// The kinds of object an engine reports events about.
pub const EVENT_TYPES: [&str; 11] = [
    "builder",
    "config",
    "container",
    "daemon",
    "image",
    "network",
    "node",
    "plugin",
    "secret",
    "service",
    "volume",
];

/// Which events a viewer wants: any of `types` (all when empty) and any of `actions` (all when
/// empty). An action matches exactly or by the part before `:` (`health_status` matches
/// `health_status: healthy`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    pub types: Vec<String>,
    pub actions: Vec<String>,
}

impl EventFilter {
    /// From comma-separated lists, as the query string gives them.
    pub fn parse(types: Option<&str>, actions: Option<&str>) -> Result<EventFilter> {
        let split = |s: Option<&str>| -> Vec<String> {
            s.unwrap_or_default()
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        };
        let types = split(types);
        if let Some(bad) = types.iter().find(|t| !EVENT_TYPES.contains(&t.as_str())) {
            return Err(Error::invalid(
                "type",
                format!(
                    "unknown event type {bad:?}; use one of {}",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        let actions = split(actions);
        if actions
            .iter()
            .any(|a| a.len() > 64 || a.chars().any(char::is_control))
        {
            return Err(Error::invalid(
                "action",
                "use short action names like start, die, pull",
            ));
        }
        Ok(EventFilter { types, actions })
    }

    pub fn matches(&self, e: &EngineEvent) -> bool {
        let type_ok = self.types.is_empty() || self.types.contains(&e.kind);
        let action_ok = self.actions.is_empty()
            || self.actions.iter().any(|a| {
                *a == e.action
                    || e.action
                        .split_once(':')
                        .is_some_and(|(head, _)| head.trim() == a)
            });
        type_ok && action_ok
    }
}

/// What a viewer receives.
#[derive(Debug, Clone)]
pub enum EventItem {
    Event(Arc<EngineEvent>),
    /// This viewer fell behind and missed this many events.
    Skipped(u64),
    End(LogEnd),
}

/// An event of the fleet feed: which host it came from.
#[derive(Debug, Clone, Serialize)]
pub struct HostEvent {
    pub host: String,
    #[serde(flatten)]
    pub event: Arc<EngineEvent>,
}

#[derive(Debug, Clone)]
pub enum FleetItem {
    Event(HostEvent),
    Skipped {
        host: String,
        count: u64,
    },
    /// One host's feed ended (its engine went away); the others go on.
    HostEnd {
        host: String,
        end: LogEnd,
    },
}

#[derive(Debug, Clone)]
pub(crate) enum SharedEvent {
    Event(Arc<EngineEvent>),
    End(LogEnd),
}

/// The fleet's monitor follows each host's events through the hub's shared stream.
impl EventSource for Hub {
    fn changes(&self, host: &Host, types: Vec<String>) -> BoxStream<'static, Change> {
        let filter = EventFilter {
            types,
            actions: Vec::new(),
        };
        self.events(host, filter)
            .map(|item| match item {
                EventItem::Event(_) | EventItem::Skipped(_) => Change::Seen,
                EventItem::End(LogEnd::Shutdown) => Change::Shutdown,
                EventItem::End(LogEnd::Error { message }) => Change::Ended(Some(message)),
                EventItem::End(_) => Change::Ended(None),
            })
            .boxed()
    }
}

impl Hub {
    /// The events of one host from now on, as `filter` selects them.
    pub fn events(&self, host: &Host, filter: EventFilter) -> BoxStream<'static, EventItem> {
        let rx = self.subscribe_events(host);
        let shutdown = self.pumps.shutdown.clone();
        let items = stream::unfold((rx, filter, false), |(mut rx, filter, done)| async move {
            if done {
                return None;
            }
            loop {
                match rx.recv().await {
                    Ok(SharedEvent::Event(e)) if filter.matches(&e) => {
                        return Some((EventItem::Event(e), (rx, filter, false)))
                    }
                    Ok(SharedEvent::Event(_)) => {}
                    Ok(SharedEvent::End(end)) => {
                        return Some((EventItem::End(end), (rx, filter, true)))
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        return Some((EventItem::Skipped(n), (rx, filter, false)))
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .take_until(async move { shutdown.cancelled_owned().await });
        Box::pin(items)
    }

    /// The events of every host given (those the person may see), merged, each with its host.
    pub fn fleet_events(
        &self,
        hosts: &[Host],
        filter: &EventFilter,
    ) -> BoxStream<'static, FleetItem> {
        let feeds = hosts.iter().map(|h| {
            let slug = h.slug.clone();
            self.events(h, filter.clone()).map(move |item| match item {
                EventItem::Event(event) => FleetItem::Event(HostEvent {
                    host: slug.clone(),
                    event,
                }),
                EventItem::Skipped(count) => FleetItem::Skipped {
                    host: slug.clone(),
                    count,
                },
                EventItem::End(end) => FleetItem::HostEnd {
                    host: slug.clone(),
                    end,
                },
            })
        });
        Box::pin(stream::select_all(feeds))
    }

    fn subscribe_events(&self, host: &Host) -> broadcast::Receiver<SharedEvent> {
        let key = (host.slug.clone(), String::new());
        let engine = host.engine.clone();
        let fleet = self.fleet.clone();
        let slug = host.slug.clone();
        self.pumps.subscribe(
            &self.events,
            key,
            move || async move {
                let events = engine.events(&HashMap::new()).await?;
                Ok(Box::pin(events.map(move |e| {
                    e.map(|e| {
                        if let Some(fleet) = &fleet {
                            if matches!(
                                e.kind.as_str(),
                                "container" | "image" | "volume" | "network"
                            ) {
                                fleet.refresh_soon(&slug);
                            }
                        }
                        SharedEvent::Event(Arc::new(e))
                    })
                })) as Chunks<SharedEvent>)
            },
            |stop| async move {
                Some(SharedEvent::End(match stop {
                    Stop::Shutdown => LogEnd::Shutdown,
                    Stop::Finished => LogEnd::Closed,
                    Stop::Failed(e) => {
                        tracing::warn!(error = %e.log_detail(), "an engine's event stream failed");
                        LogEnd::Error {
                            message: e.public_message(),
                        }
                    }
                }))
            },
        )
    }
}
