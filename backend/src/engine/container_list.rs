//! Reading the engine's `/containers/json` answer.
//!
//! The answer is read in place: every string of a container is a slice of the engine's bytes
//! (copied only when the engine escaped something in it), and the parts the list does not show
//! (host config, every network's endpoint, every mount's details) are skipped without being
//! built. From there a list is either turned into owned [`ContainerSummary`]s (pages:
//! [`summaries`]) or written straight out as the REST answer for one host ([`json_for_host`])
//! or for the fleet ([`json_for_hosts`]) — no owned copy of a hundred containers made only to
//! be serialised and dropped (docs/performance.md, container list).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeStruct, Serializer};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The label docker compose puts on every container of a project.
pub const COMPOSE_PROJECT_LABEL: &str = "com.docker.compose.project";

pub use wire::containers::PortMapping;

/// A container as the list shows it; everything comes from one `/containers/json` answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContainerSummary {
    pub id: String,
    pub name: String,
    pub image: String,
    pub image_id: String,
    pub command: String,
    /// Unix seconds.
    pub created: i64,
    /// `created`, `running`, `paused`, `restarting`, `removing`, `exited` or `dead`.
    pub state: String,
    /// The engine's words: `Up 3 hours (healthy)`, `Exited (0) 2 minutes ago`.
    pub status: String,
    /// `healthy`, `unhealthy` or `starting` when the container has a health check.
    pub health: Option<String>,
    pub ports: Vec<PortMapping>,
    pub labels: BTreeMap<String, String>,
    pub compose_project: Option<String>,
    pub networks: Vec<String>,
    pub mounts: u32,
}

/// Which containers a list shows, and in which order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListQuery {
    /// Stopped ones too (implied by a `state` other than running).
    pub all: bool,
    pub state: Option<StateFilter>,
    /// Case-insensitive text matched against the name and the image.
    pub text: Option<String>,
    /// `key` or `key=value`.
    pub label: Option<String>,
    pub sort: Sort,
    /// More of `docker ps --filter`, as the engine takes them: `ancestor`, `network`,
    /// `volume`, `exited`, `health` ([`ListQuery::with_ps`]).
    pub filters: Vec<(&'static str, String)>,
    /// `docker ps -n N` (`-l` is 1): the N containers created last, stopped ones included.
    pub limit: Option<u32>,
}

/// The words of `docker ps` beyond the state, text and label filters, as a request has them.
#[derive(Debug, Clone, Copy, Default)]
pub struct PsWords<'a> {
    /// An image (name, name:tag or id) the containers were made from, or descend from.
    pub ancestor: Option<&'a str>,
    pub network: Option<&'a str>,
    pub volume: Option<&'a str>,
    /// The exit code of exited containers.
    pub exited: Option<&'a str>,
    /// `healthy`, `unhealthy`, `starting` or `none`.
    pub health: Option<&'a str>,
    /// `-n`: how many of the last created.
    pub n: Option<&'a str>,
    /// `-l`: only the last created.
    pub latest: Option<&'a str>,
    /// Whether the request named its order (else `-n`/`-l` list newest first, as docker ps).
    pub sort_given: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateFilter {
    Running,
    Paused,
    Exited,
    Created,
    Restarting,
    Removing,
    Dead,
}

impl StateFilter {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            StateFilter::Running => "running",
            StateFilter::Paused => "paused",
            StateFilter::Exited => "exited",
            StateFilter::Created => "created",
            StateFilter::Restarting => "restarting",
            StateFilter::Removing => "removing",
            StateFilter::Dead => "dead",
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    /// By name, then host.
    #[default]
    Name,
    /// Newest first.
    Created,
    /// Running, paused, restarting, created, exited, dead; then by name.
    State,
}

impl ListQuery {
    /// The query parameters of the list endpoints, each checked with its name.
    pub fn parse(
        all: Option<&str>,
        state: Option<&str>,
        text: Option<&str>,
        label: Option<&str>,
        sort: Option<&str>,
    ) -> Result<ListQuery> {
        let all = match all.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("false" | "0" | "no") => false,
            Some("true" | "1" | "yes") => true,
            Some(_) => return Err(Error::invalid("all", "must be true or false")),
        };
        let (all, state) =
            match state.map(str::trim).filter(|s| !s.is_empty()) {
                None => (all, None),
                Some("all") => (true, None),
                Some("running") => (all, Some(StateFilter::Running)),
                Some("paused") => (true, Some(StateFilter::Paused)),
                Some("exited") => (true, Some(StateFilter::Exited)),
                Some("created") => (true, Some(StateFilter::Created)),
                Some("restarting") => (true, Some(StateFilter::Restarting)),
                Some("removing") => (true, Some(StateFilter::Removing)),
                Some("dead") => (true, Some(StateFilter::Dead)),
                Some(_) => return Err(Error::invalid(
                    "state",
                    "must be running, paused, exited, created, restarting, removing, dead or all",
                )),
            };
        let label = label.map(str::trim).filter(|s| !s.is_empty());
        if let Some(l) = label {
            let key = l.split_once('=').map_or(l, |(k, _)| k);
            if key.trim().is_empty() || l.contains('\0') {
                return Err(Error::invalid("label", "use key or key=value"));
            }
        }
        let sort = match sort.map(str::trim).filter(|s| !s.is_empty()) {
            None | Some("name") => Sort::Name,
            Some("created") => Sort::Created,
            Some("state") => Sort::State,
            Some(_) => return Err(Error::invalid("sort", "must be name, created or state")),
        };
        let text = text
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_lowercase);
        Ok(ListQuery {
            all,
            state,
            text,
            label: label.map(str::to_string),
            sort,
            filters: Vec::new(),
            limit: None,
        })
    }

    /// Adds the words of `docker ps` in `w`, each checked with its name.
    pub fn with_ps(mut self, w: &PsWords<'_>) -> Result<ListQuery> {
        fn given(v: Option<&str>) -> Option<&str> {
            v.map(str::trim).filter(|s| !s.is_empty())
        }
        if let Some(a) = given(w.ancestor) {
            if a.len() > 512 || a.chars().any(|c| c.is_whitespace() || c == '\0') {
                return Err(Error::invalid(
                    "ancestor",
                    "use an image name, name:tag or id",
                ));
            }
            self.filters.push(("ancestor", a.to_string()));
        }
        for (field, v) in [("network", w.network), ("volume", w.volume)] {
            if let Some(v) = given(v) {
                if !crate::names::is_object_name(v, 1..=255) {
                    return Err(Error::invalid(field, format!("use a {field}'s name or id")));
                }
                self.filters.push((field, v.to_string()));
            }
        }
        if let Some(code) = given(w.exited) {
            let ok = code.parse::<u16>().is_ok_and(|c| c <= 255);
            if !ok {
                return Err(Error::invalid("exited", "an exit code from 0 to 255"));
            }
            self.all = true;
            self.filters.push(("exited", code.to_string()));
        }
        if let Some(h) = given(w.health) {
            if !matches!(h, "healthy" | "unhealthy" | "starting" | "none") {
                return Err(Error::invalid(
                    "health",
                    "must be healthy, unhealthy, starting or none",
                ));
            }
            self.filters.push(("health", h.to_string()));
        }
        let latest = match given(w.latest) {
            None | Some("false" | "0" | "no") => false,
            Some("true" | "1" | "yes") => true,
            Some(_) => return Err(Error::invalid("latest", "must be true or false")),
        };
        self.limit = match (given(w.n), latest) {
            (Some(_), true) => {
                return Err(Error::invalid("latest", "give n or latest, not both"));
            }
            (Some(n), false) => Some(
                n.parse::<u32>()
                    .ok()
                    .filter(|n| (1..=10_000).contains(n))
                    .ok_or_else(|| Error::invalid("n", "a number of containers from 1 to 10000"))?,
            ),
            (None, true) => Some(1),
            (None, false) => None,
        };
        if self.limit.is_some() {
            self.all = true;
            if !w.sort_given {
                self.sort = Sort::Created;
            }
        }
        Ok(self)
    }

    /// With a limit, only the `limit` newest of `items` stay (of several hosts' lists, each
    /// already its own newest).
    pub fn keep_newest<T, C: SortKey>(&self, items: &mut Vec<T>, get: impl Fn(&T) -> &C) {
        if let Some(n) = self.limit {
            items.sort_by_key(|t| std::cmp::Reverse(get(t).created()));
            items.truncate(n as usize);
        }
    }

    /// Whether a container passes the text filter (the engine applied the others).
    pub fn matches(&self, c: &impl ListEntry) -> bool {
        self.text.as_deref().is_none_or(|t| {
            c.name().to_lowercase().contains(t) || c.image().to_lowercase().contains(t)
        })
    }

    /// Orders containers; `key` breaks ties (the host, in fleet-wide lists).
    pub fn sort_by<T, C: SortKey>(&self, items: &mut [T], get: impl Fn(&T) -> (&C, &str)) {
        match self.sort {
            Sort::Name => items.sort_by(|a, b| {
                let (ca, ha) = get(a);
                let (cb, hb) = get(b);
                ca.name().cmp(cb.name()).then_with(|| ha.cmp(hb))
            }),
            Sort::Created => items.sort_by(|a, b| {
                let (ca, ha) = get(a);
                let (cb, hb) = get(b);
                cb.created()
                    .cmp(&ca.created())
                    .then_with(|| ca.name().cmp(cb.name()))
                    .then_with(|| ha.cmp(hb))
            }),
            Sort::State => items.sort_by(|a, b| {
                let (ca, ha) = get(a);
                let (cb, hb) = get(b);
                state_rank(ca.state())
                    .cmp(&state_rank(cb.state()))
                    .then_with(|| ca.name().cmp(cb.name()))
                    .then_with(|| ha.cmp(hb))
            }),
        }
    }
}

fn state_rank(state: &str) -> u8 {
    match state {
        "running" => 0,
        "paused" => 1,
        "restarting" => 2,
        "created" => 3,
        "exited" => 4,
        "removing" => 5,
        "dead" => 6,
        _ => 7,
    }
}

/// A string of the engine's answer: borrowed from it unless the engine escaped something.
#[derive(Debug, Default, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Of<'a>(PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for Of<'a> {
            type Value = Text<'a>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> std::result::Result<Text<'a>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Text<'a>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Of(PhantomData))
    }
}

/// A JSON object read as its entries sorted by key (a later duplicate key wins, as in a map).
struct Entries<'a, V>(Vec<(Text<'a>, V)>);

impl<'de: 'a, 'a, V: Deserialize<'de>> Deserialize<'de> for Entries<'a, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Of<'a, V>(PhantomData<(&'a (), V)>);
        impl<'de: 'a, 'a, V: Deserialize<'de>> Visitor<'de> for Of<'a, V> {
            type Value = Entries<'a, V>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<M: MapAccess<'de>>(
                self,
                mut m: M,
            ) -> std::result::Result<Self::Value, M::Error> {
                let mut entries: Vec<(Text<'a>, V)> =
                    Vec::with_capacity(m.size_hint().unwrap_or(4));
                while let Some(entry) = m.next_entry::<Text<'a>, V>()? {
                    entries.push(entry);
                }
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                entries.dedup_by(|later, kept| {
                    let same = later.0 == kept.0;
                    if same {
                        std::mem::swap(later, kept);
                    }
                    same
                });
                Ok(Entries(entries))
            }
        }
        d.deserialize_map(Of(PhantomData))
    }
}

/// The fields of one `/containers/json` entry the list shows. serde skips the rest of the
/// engine's answer without building it.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", bound(deserialize = "'de: 'a"))]
struct Listed<'a> {
    #[serde(default)]
    id: Text<'a>,
    names: Option<Vec<Text<'a>>>,
    image: Option<Text<'a>>,
    #[serde(rename = "ImageID")]
    image_id: Option<Text<'a>>,
    command: Option<Text<'a>>,
    created: Option<i64>,
    ports: Option<Vec<ListedPort<'a>>>,
    labels: Option<Entries<'a, Text<'a>>>,
    state: Option<Text<'a>>,
    status: Option<Text<'a>>,
    /// API ≥ 1.52 only.
    health: Option<ListedHealth<'a>>,
    network_settings: Option<ListedNetworks<'a>>,
    mounts: Option<Vec<IgnoredAny>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ListedPort<'a> {
    #[serde(rename = "IP")]
    ip: Option<Text<'a>>,
    #[serde(rename = "PrivatePort", default)]
    private: u16,
    #[serde(rename = "PublicPort")]
    public: Option<u16>,
    #[serde(rename = "Type")]
    typ: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ListedHealth<'a> {
    #[serde(rename = "Status")]
    status: Option<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(bound(deserialize = "'de: 'a"))]
struct ListedNetworks<'a> {
    #[serde(rename = "Networks")]
    networks: Option<Entries<'a, IgnoredAny>>,
}

/// One port as the list shows it; ordered like [`PortMapping`] (field by field).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Port<'a> {
    ip: Option<Cow<'a, str>>,
    private: u16,
    public: Option<u16>,
    proto: Cow<'a, str>,
}

/// A container of the list, its strings still in the engine's answer.
#[derive(Debug)]
pub struct Row<'a> {
    id: Cow<'a, str>,
    name: Cow<'a, str>,
    image: Cow<'a, str>,
    image_id: Cow<'a, str>,
    command: Cow<'a, str>,
    created: i64,
    state: Cow<'a, str>,
    status: Cow<'a, str>,
    health: Option<Cow<'a, str>>,
    ports: Vec<Port<'a>>,
    /// Sorted by key, each key once.
    labels: Vec<(Cow<'a, str>, Cow<'a, str>)>,
    compose_project: Option<Cow<'a, str>>,
    networks: Vec<Cow<'a, str>>,
    mounts: u32,
}

/// What a list's order reads of a container ([`ListQuery::sort_by`]).
pub trait SortKey {
    fn name(&self) -> &str;
    fn created(&self) -> i64;
    fn state(&self) -> &str;
}

/// [`SortKey`] for types that keep the three as fields of those names.
macro_rules! sort_key_from_fields {
    ($($ty:ty),*) => {$(
        impl SortKey for $ty {
            fn name(&self) -> &str {
                &self.name
            }
            fn created(&self) -> i64 {
                self.created
            }
            fn state(&self) -> &str {
                &self.state
            }
        }
    )*};
}

/// What a list's filter reads of a container too ([`ListQuery::matches`]).
pub trait ListEntry: SortKey {
    fn image(&self) -> &str;
}

impl ListEntry for Row<'_> {
    fn image(&self) -> &str {
        &self.image
    }
}

impl ListEntry for ContainerSummary {
    fn image(&self) -> &str {
        &self.image
    }
}

/// Reads the engine's answer; its strings stay in `body`.
pub fn parse(body: &[u8]) -> Result<Vec<Row<'_>>> {
    let listed: Vec<Listed<'_>> = serde_json::from_slice(body).map_err(|e| {
        tracing::warn!(error = %e, "the engine's container list could not be read");
        Error::Engine {
            status: 502,
            message: "the engine answered the container list in a form Capstan cannot read".into(),
        }
    })?;
    Ok(listed.into_iter().map(Row::from).collect())
}

/// The part of `s` that `f` picks, borrowed when `s` is.
fn part<'a>(s: &Cow<'a, str>, f: impl Fn(&str) -> &str) -> Cow<'a, str> {
    match s {
        Cow::Borrowed(b) => Cow::Borrowed(f(b)),
        Cow::Owned(o) => Cow::Owned(f(o).to_owned()),
    }
}

/// Engines before API 1.52 say the health only in the status text: `Up 5 minutes (healthy)`.
fn health_from_status(status: &str) -> Option<&'static str> {
    if status.ends_with("(healthy)") {
        Some("healthy")
    } else if status.ends_with("(unhealthy)") {
        Some("unhealthy")
    } else if status.ends_with("(health: starting)") {
        Some("starting")
    } else {
        None
    }
}

impl<'a> From<Listed<'a>> for Row<'a> {
    fn from(c: Listed<'a>) -> Row<'a> {
        let names = c.names.unwrap_or_default();
        // The container's own name: the first without a slash inside (the others are links).
        let name = names
            .iter()
            .map(|n| part(&n.0, |n| n.trim_start_matches('/')))
            .find(|n| !n.contains('/'))
            .or_else(|| {
                names
                    .first()
                    .map(|n| part(&n.0, |n| n.trim_start_matches('/')))
            })
            .unwrap_or_default();
        let status = c.status.unwrap_or_default().0;
        let health = match c.health.and_then(|h| h.status) {
            Some(s) if !s.0.is_empty() && s.0 != "none" => Some(s.0),
            _ => health_from_status(&status).map(Cow::Borrowed),
        };
        let mut ports: Vec<Port<'a>> = c
            .ports
            .unwrap_or_default()
            .into_iter()
            .map(|p| Port {
                ip: p.ip.map(|t| t.0).filter(|ip| !ip.is_empty()),
                private: p.private,
                public: p.public.filter(|p| *p != 0),
                proto: p
                    .typ
                    .map(|t| t.0)
                    .filter(|t| !t.is_empty())
                    .unwrap_or(Cow::Borrowed("tcp")),
            })
            .collect();
        // Engines list a port published on both address families twice.
        ports.sort();
        ports.dedup();
        let labels: Vec<(Cow<'a, str>, Cow<'a, str>)> = c
            .labels
            .map(|l| l.0.into_iter().map(|(k, v)| (k.0, v.0)).collect())
            .unwrap_or_default();
        let compose_project = labels
            .binary_search_by(|(k, _)| k.as_ref().cmp(COMPOSE_PROJECT_LABEL))
            .ok()
            .map(|i| labels[i].1.clone());
        let networks = c
            .network_settings
            .and_then(|n| n.networks)
            .map(|n| n.0.into_iter().map(|(k, _)| k.0).collect())
            .unwrap_or_default();
        Row {
            id: c.id.0,
            name,
            image: c.image.unwrap_or_default().0,
            image_id: c.image_id.unwrap_or_default().0,
            command: c.command.unwrap_or_default().0,
            created: c.created.unwrap_or(0),
            state: c.state.unwrap_or_default().0,
            status,
            health,
            ports,
            labels,
            compose_project,
            networks,
            mounts: c
                .mounts
                .map_or(0, |m| u32::try_from(m.len()).unwrap_or(u32::MAX)),
        }
    }
}

impl From<Row<'_>> for ContainerSummary {
    fn from(r: Row<'_>) -> ContainerSummary {
        ContainerSummary {
            id: r.id.into_owned(),
            name: r.name.into_owned(),
            image: r.image.into_owned(),
            image_id: r.image_id.into_owned(),
            command: r.command.into_owned(),
            created: r.created,
            state: r.state.into_owned(),
            status: r.status.into_owned(),
            health: r.health.map(Cow::into_owned),
            ports: r
                .ports
                .into_iter()
                .map(|p| PortMapping {
                    ip: p.ip.map(Cow::into_owned),
                    private: p.private,
                    public: p.public,
                    proto: p.proto.into_owned(),
                })
                .collect(),
            labels: r
                .labels
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
            compose_project: r.compose_project.map(Cow::into_owned),
            networks: r.networks.into_iter().map(Cow::into_owned).collect(),
            mounts: r.mounts,
        }
    }
}

/// A row as the REST API writes a container of one host: the fields and order of the API's
/// container summary (`app::model::containers::ContainerSummary`: the host's slug first, then
/// the container). server/src/http/api/containers.rs checks that both write the same JSON.
struct OnHost<'r, 'a> {
    host: &'r str,
    row: &'r Row<'a>,
}

struct PortOut<'r, 'a>(&'r Port<'a>);

impl Serialize for PortOut<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let p = self.0;
        let mut out = s.serialize_struct("PortView", 4)?;
        out.serialize_field("ip", &p.ip)?;
        out.serialize_field("private", &p.private)?;
        out.serialize_field("public", &p.public)?;
        out.serialize_field("proto", &p.proto)?;
        out.end()
    }
}

struct Labels<'r, 'a>(&'r [(Cow<'a, str>, Cow<'a, str>)]);

impl Serialize for Labels<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

struct Ports<'r, 'a>(&'r [Port<'a>]);

impl Serialize for Ports<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter().map(PortOut))
    }
}

impl Serialize for OnHost<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let r = self.row;
        let mut out = s.serialize_struct("ContainerSummary", 15)?;
        out.serialize_field("host", self.host)?;
        out.serialize_field("id", &r.id)?;
        out.serialize_field("name", &r.name)?;
        out.serialize_field("image", &r.image)?;
        out.serialize_field("image_id", &r.image_id)?;
        out.serialize_field("command", &r.command)?;
        out.serialize_field("created", &r.created)?;
        out.serialize_field("state", &r.state)?;
        out.serialize_field("status", &r.status)?;
        out.serialize_field("health", &r.health)?;
        out.serialize_field("ports", &Ports(&r.ports))?;
        out.serialize_field("labels", &Labels(&r.labels))?;
        out.serialize_field("compose_project", &r.compose_project)?;
        out.serialize_field("networks", &r.networks)?;
        out.serialize_field("mounts", &r.mounts)?;
        out.end()
    }
}

/// Room for one container in the REST answer (a summary is 300–500 bytes of JSON): the
/// answer's buffer is made once, not regrown on the way.
const ROW_JSON_BYTES: usize = 512;

/// The engine's answer read in place, then filtered and ordered by `query`.
fn rows<'a>(body: &'a [u8], query: &ListQuery) -> Result<Vec<Row<'a>>> {
    let mut rows = parse(body)?;
    rows.retain(|r| query.matches(r));
    query.keep_newest(&mut rows, |r| r);
    query.sort_by(&mut rows, |r| (r, ""));
    Ok(rows)
}

/// One host's list as owned summaries (for pages, which keep them).
pub fn summaries(body: &[u8], query: &ListQuery) -> Result<Vec<ContainerSummary>> {
    Ok(rows(body, query)?
        .into_iter()
        .map(ContainerSummary::from)
        .collect())
}

fn json_error(e: serde_json::Error) -> Error {
    Error::Internal(format!("container list JSON: {e}"))
}

/// Writes containers as the REST API's JSON array.
fn write_array<'r, 'a: 'r>(rows: impl ExactSizeIterator<Item = OnHost<'r, 'a>>) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(rows.len().saturating_mul(ROW_JSON_BYTES).saturating_add(2));
    serde_json::Serializer::new(&mut out)
        .collect_seq(rows)
        .map_err(json_error)?;
    Ok(out)
}

/// The REST answer for one host's list (`GET /api/v1/hosts/{host}/containers`) made from the
/// engine's answer: read in place, filtered and ordered by `query`, written as a JSON array.
pub fn json_for_host(body: &[u8], host: &str, query: &ListQuery) -> Result<Vec<u8>> {
    let rows = rows(body, query)?;
    write_array(rows.iter().map(|row| OnHost { host, row }))
}

/// One host's share of the fleet-wide REST answer (`GET /api/v1/containers`), made as soon as
/// that host answers, while the others may still be writing theirs: its containers that pass
/// the query's filter, in the engine's order, each already written as JSON. [`json_for_hosts`]
/// then only orders the shares' containers together and copies their bytes.
pub struct HostShare {
    json: Vec<u8>,
    entries: Vec<Written>,
}

/// A container of a [`HostShare`]: what the order reads, and where its JSON is.
struct Written {
    name: String,
    created: i64,
    state: String,
    at: std::ops::Range<usize>,
}

sort_key_from_fields!(Row<'_>, ContainerSummary, Written);

impl HostShare {
    /// Reads the answer of the host `host` to the list `query`.
    pub fn read(body: &[u8], host: &str, query: &ListQuery) -> Result<HostShare> {
        let rows = parse(body)?;
        let mut json = Vec::with_capacity(rows.len().saturating_mul(ROW_JSON_BYTES));
        let mut entries = Vec::with_capacity(rows.len());
        for row in rows.iter().filter(|r| query.matches(*r)) {
            let start = json.len();
            serde_json::to_writer(&mut json, &OnHost { host, row }).map_err(json_error)?;
            entries.push(Written {
                name: row.name.clone().into_owned(),
                created: row.created,
                state: row.state.clone().into_owned(),
                at: start..json.len(),
            });
        }
        Ok(HostShare { json, entries })
    }

    /// Bytes of JSON in the share.
    pub fn json_len(&self) -> usize {
        self.json.len()
    }
}

/// The fleet-wide REST answer from the hosts' shares, given as (host slug, share) in the
/// fleet's order: every container ordered by `query`, the host breaking ties (as
/// [`crate::containers::list`] orders them), written as one JSON array.
pub fn json_for_hosts<H: AsRef<str>>(shares: &[(H, HostShare)], query: &ListQuery) -> Vec<u8> {
    let mut all: Vec<(&str, &HostShare, &Written)> = shares
        .iter()
        .flat_map(|(host, share)| share.entries.iter().map(move |w| (host.as_ref(), share, w)))
        .collect();
    query.keep_newest(&mut all, |(_, _, w)| *w);
    query.sort_by(&mut all, |(host, _, w)| (*w, *host));
    let bytes: usize = shares.iter().map(|(_, s)| s.json.len()).sum();
    let mut out = Vec::with_capacity(bytes.saturating_add(all.len()).saturating_add(2));
    out.push(b'[');
    for (i, (_, share, w)) in all.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&share.json[w.at.clone()]);
    }
    out.push(b']');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The engine's `/containers/json` answer as summaries, in the engine's order.
    fn parse_list(body: &[u8]) -> Result<Vec<ContainerSummary>> {
        Ok(parse(body)?
            .into_iter()
            .map(ContainerSummary::from)
            .collect())
    }

    /// The engine's list as Debian's 20.10 engine writes it (API 1.41: health only in the
    /// status text), with the nulls it sends for a container without labels or ports.
    #[test]
    fn the_list_is_read_from_the_engine_answer() {
        let body = br#"[
          {"Id":"abc","Names":["/web","/other/web-alias"],"Image":"busybox:latest","ImageID":"sha256:1",
           "Command":"sh -c 'httpd -f'","Created":1700000000,
           "Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
                    {"IP":"::","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
                    {"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},
                    {"PrivatePort":53,"Type":"udp"}],
           "Labels":{"com.docker.compose.project":"shop","b":"2","a":"1"},
           "State":"running","Status":"Up 3 minutes (healthy)",
           "HostConfig":{"NetworkMode":"default"},
           "NetworkSettings":{"Networks":{"zeta":{"IPAddress":"172.18.0.2","Aliases":null},"bridge":{}}},
           "Mounts":[{"Type":"volume","Name":"data","Destination":"/data"},{"Type":"bind"}]},
          {"Id":"def","Names":null,"Image":"x","ImageID":"sha256:2","Command":"true","Created":1,
           "Ports":null,"Labels":null,"State":"exited","Status":"Exited (0) 2 minutes ago",
           "NetworkSettings":{"Networks":null},"Mounts":null,"SizeRw":12}
        ]"#;
        let list = parse_list(body).expect("parsed");
        assert_eq!(list.len(), 2);
        let web = &list[0];
        assert_eq!(web.name, "web");
        assert_eq!(web.health.as_deref(), Some("healthy"));
        assert_eq!(web.compose_project.as_deref(), Some("shop"));
        assert_eq!(web.networks, vec!["bridge".to_string(), "zeta".to_string()]);
        assert_eq!(web.mounts, 2);
        assert_eq!(web.ports.len(), 3, "duplicates folded: {:?}", web.ports);
        assert!(web
            .ports
            .iter()
            .any(|p| p.proto == "udp" && p.public.is_none() && p.ip.is_none()));
        let other = &list[1];
        assert_eq!(
            (other.name.as_str(), other.mounts, other.ports.len()),
            ("", 0, 0)
        );
        assert!(other.labels.is_empty() && other.networks.is_empty() && other.health.is_none());

        let err = parse_list(b"<html>proxy error</html>").expect_err("not JSON");
        assert!(
            !err.public_message().contains("html"),
            "{}",
            err.public_message()
        );
    }

    #[test]
    fn list_query_parses_with_field_names() {
        let q = ListQuery::parse(
            None,
            Some("exited"),
            Some(" Web "),
            Some("team=web"),
            Some("created"),
        )
        .expect("ok");
        assert!(q.all);
        assert_eq!(q.state, Some(StateFilter::Exited));
        assert_eq!(q.text.as_deref(), Some("web"));
        assert_eq!(q.sort, Sort::Created);
        for (args, field) in [
            ((Some("maybe"), None, None, None), "all"),
            ((None, Some("sleeping"), None, None), "state"),
            ((None, None, Some("=v"), None), "label"),
            ((None, None, None, Some("size")), "sort"),
        ] {
            match ListQuery::parse(args.0, args.1, None, args.2, args.3) {
                Err(Error::Invalid { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
    }

    #[test]
    fn strings_stay_in_the_answer_unless_escaped() {
        let body = br#"[{"Id":"a1","Names":["/web"],"Command":"sh -c \"echo hi\"","Labels":{"k":"v","k":"w"}}]"#;
        let rows = parse(body).expect("parsed");
        let r = &rows[0];
        assert!(matches!(r.id, Cow::Borrowed("a1")));
        assert!(matches!(r.name, Cow::Borrowed("web")));
        assert_eq!(r.command, "sh -c \"echo hi\"");
        assert!(
            matches!(r.command, Cow::Owned(_)),
            "escaped text is unescaped into a copy"
        );
        assert_eq!(
            r.labels,
            vec![(Cow::Borrowed("k"), Cow::Borrowed("w"))],
            "a later duplicate key wins"
        );
    }
}
