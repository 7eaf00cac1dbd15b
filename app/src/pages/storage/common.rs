//! What the images, volumes and networks pages share: the hosts the caller may see (with their
//! role and whether they are up), the host picker of the forms, small helpers, outcomes of
//! actions in words, notices for hosts that did not answer, and the skeleton of the volume and
//! network pages (page shell with name filter, table, prune panel, create-form result).

use std::collections::BTreeMap;

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::components::confirm::Confirm;
use crate::components::page::{ErrorNotice, HostNotices, PageHeader};
use crate::error::AppError;
use crate::format;
use crate::model::storage::{HostProblem, Pruned};
use crate::model::RoleView;

/// A host the caller may see, their role on it (buttons follow the role; the server decides),
/// and whether the hosts snapshot last saw it up.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageHost {
    pub slug: String,
    pub name: String,
    pub role: RoleView,
    /// `false` when the last probe found the engine down (a host never probed yet counts as
    /// up: the form lets the engine answer for itself).
    pub up: bool,
}

impl StorageHost {
    pub fn manages(&self) -> bool {
        self.role == RoleView::Manager
    }
}

/// The hosts `who` may see, by slug, with their health from the hosts snapshot (no probe).
#[cfg(feature = "ssr")]
pub(crate) fn visible_hosts(
    who: &backend::policy::Principal,
    fleet: &backend::fleet::Fleet,
) -> Vec<StorageHost> {
    let mut hosts: Vec<StorageHost> = fleet
        .visible(who, backend::policy::HostAction::View)
        .iter()
        .filter_map(|h| {
            who.role_on(&h.slug).map(|role| StorageHost {
                slug: h.slug.clone(),
                name: h.name.clone(),
                role: role.into(),
                up: !fleet
                    .snapshot_of(&h.slug)
                    .is_some_and(|s| matches!(s.health, backend::fleet::Health::Down { .. })),
            })
        })
        .collect();
    hosts.sort_by(|a, b| a.slug.cmp(&b.slug));
    hosts
}

/// The hosts the caller may see, with their role and health (for the pages' forms and
/// buttons).
#[server(output = crate::codec::TextJson)]
pub async fn storage_hosts() -> Result<Vec<StorageHost>, AppError> {
    let who = crate::ssr::principal()?;
    Ok(visible_hosts(&who, &crate::ssr::fleet()?))
}

/// The server's clock in Unix seconds: pages render "3 min ago" against it, so the server and
/// the browser print the same text.
#[cfg(feature = "ssr")]
pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// `then` relative to `now`: "just now", "5 min ago", "3 hours ago", "12 days ago".
pub fn ago(now: i64, then: i64) -> String {
    let secs = now.saturating_sub(then).max(0);
    match secs {
        0..=59 => "just now".into(),
        60..=3_599 => format!("{} min ago", secs / 60),
        3_600..=86_399 => format::plural((secs / 3_600) as usize, "hour ago", "hours ago"),
        86_400..=5_183_999 => format::plural((secs / 86_400) as usize, "day ago", "days ago"),
        5_184_000..=63_071_999 => {
            format::plural((secs / 2_592_000) as usize, "month ago", "months ago")
        }
        _ => format::plural((secs / 31_536_000) as usize, "year ago", "years ago"),
    }
}

/// An RFC 3339 time as `2026-11-28 05:27` (what the engine reports for volumes and networks).
pub fn rfc3339_short(t: Option<&str>) -> String {
    match t {
        Some(t) if t.len() >= 16 && !t.starts_with("0001-") => {
            format!("{} {}", &t[..10], &t[11..16])
        }
        _ => "—".into(),
    }
}

/// `key=value` lines (blank lines ignored) as a map; a line without `=` is an error naming
/// `field`.
pub fn parse_pairs(field: &str, text: &str) -> Result<BTreeMap<String, String>, AppError> {
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            return Err(AppError::Invalid {
                field: field.into(),
                message: format!("line {} ({line:?}) is not key=value", n + 1),
            });
        };
        let k = k.trim();
        if k.is_empty() {
            return Err(AppError::Invalid {
                field: field.into(),
                message: format!("line {} has no key before =", n + 1),
            });
        }
        out.insert(k.to_string(), v.trim().to_string());
    }
    Ok(out)
}

/// The result of the last action on a page, in words.
pub type Outcome = RwSignal<Option<Result<String, String>>>;

/// Runs a server fn from a button: the outcome in words, then `after` (a refresh).
pub fn act<T, Fut>(
    outcome: Outcome,
    fut: Fut,
    ok: impl FnOnce(T) -> String + 'static,
    after: impl FnOnce() + 'static,
) where
    T: 'static,
    Fut: std::future::Future<Output = Result<T, AppError>> + 'static,
{
    outcome.set(None);
    leptos::task::spawn_local(async move {
        match fut.await {
            Ok(v) => outcome.set(Some(Ok(ok(v)))),
            Err(e) => outcome.set(Some(Err(e.to_string()))),
        }
        after();
    });
}

/// The last outcome as a notice that screen readers hear.
#[component]
pub fn OutcomeNotice(outcome: Outcome, #[prop(into)] testid: String) -> impl IntoView {
    view! {
        <div aria-live="polite" data-testid=testid>
            {move || outcome.get().map(|o| match o {
                Ok(text) => view! { <div class="notice notice-good" role="status">{text}</div> }.into_any(),
                Err(text) => view! { <div class="notice notice-bad" role="alert">{text}</div> }.into_any(),
            })}
        </div>
    }
}

/// A select of the hosts the caller manages (any visible host with `any_role`, for look-ups
/// like a registry search). It starts on the first host that is up; hosts that are down are
/// listed as such and cannot be chosen.
#[component]
pub fn HostSelect(
    hosts: Vec<StorageHost>,
    value: RwSignal<String>,
    #[prop(into)] label: String,
    #[prop(optional)] any_role: bool,
) -> impl IntoView {
    let choices: Vec<StorageHost> = hosts
        .into_iter()
        .filter(|h| any_role || h.manages())
        .collect();
    if value.get_untracked().is_empty() {
        if let Some(first) = default_host(&choices) {
            value.set(first.to_string());
        }
    }
    let none_up = !choices.iter().any(|h| h.up);
    view! {
        <label class="field">
            <span>{label}</span>
            <select name="host" on:change=move |ev| value.set(event_target_value(&ev))>
                {none_up.then(|| view! { <option value="" selected disabled>"No host is up"</option> })}
                {choices.into_iter().map(|h| {
                    let selected = h.slug == value.get_untracked();
                    let text = if h.up { h.name.clone() } else { format!("{} (down)", h.name) };
                    view! { <option value=h.slug.clone() selected=selected disabled=!h.up>{text}</option> }
                }).collect_view()}
            </select>
        </label>
    }
}

/// The host a form starts on: the first (by slug) that is up.
pub fn default_host(hosts: &[StorageHost]) -> Option<&str> {
    hosts.iter().find(|h| h.up).map(|h| h.slug.as_str())
}

/// A host's name, or its slug when it is not among `hosts`.
pub fn host_name(hosts: &[StorageHost], slug: &str) -> String {
    hosts
        .iter()
        .find(|h| h.slug == slug)
        .map_or_else(|| slug.to_string(), |h| h.name.clone())
}

// ---------- the skeleton of the volume and network pages ----------

/// What a volume or network list answers: the objects of every visible host, the hosts that
/// did not answer, and the caller's hosts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorageList<T> {
    pub items: Vec<T>,
    pub unreachable: Vec<HostProblem>,
    pub hosts: Vec<StorageHost>,
}

/// A list page of volumes or networks: header with Refresh, a summary line, the outcome of the
/// last action, the manager's panels (create, prune), a name filter, and the table with a
/// notice for each host that did not answer.
#[component]
pub fn StorageListPage<T, Summary, Panels, Table>(
    title: &'static str,
    /// "volumes", "networks": for the loading line and the filter's label.
    noun: &'static str,
    data: Resource<Result<StorageList<T>, AppError>>,
    /// The caller's hosts, apart from the list so a refresh keeps the forms as they are.
    hosts: Resource<Result<Vec<StorageHost>, AppError>>,
    outcome: Outcome,
    outcome_testid: &'static str,
    /// The name filter's text.
    text: RwSignal<String>,
    filter_placeholder: &'static str,
    summary: Summary,
    panels: Panels,
    table: Table,
    on_refresh: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    T: Clone + Send + Sync + Serialize + serde::de::DeserializeOwned + 'static,
    Summary: Fn(&StorageList<T>) -> String + Copy + Send + Sync + 'static,
    Panels: Fn(Vec<StorageHost>) -> AnyView + Copy + Send + Sync + 'static,
    Table: Fn(Option<StorageList<T>>) -> AnyView + Copy + Send + Sync + 'static,
{
    view! {
        <PageHeader title=title>
            <button type="button" class="button" on:click=move |_| on_refresh()>"Refresh"</button>
        </PageHeader>
        <Transition fallback=move || view! { <p class="page-summary muted">{format!("Loading {noun}…")}</p> }>
            {move || Suspend::new(async move {
                data.await.ok().map(|d| view! { <p class="page-summary">{summary(&d)}</p> })
            })}
        </Transition>
        <OutcomeNotice outcome testid=outcome_testid />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let hosts = hosts.await.unwrap_or_default();
                hosts.iter().any(StorageHost::manages).then(|| view! {
                    <div class="panels">{panels(hosts)}</div>
                })
            })}
        </Transition>
        <div class="filter-bar" role="search" aria-label=format!("Filter {noun}")>
            <label class="field filter-text">
                <span>"Name"</span>
                <input type="search" placeholder=filter_placeholder autocomplete="off"
                    prop:value=move || text.get() on:input=move |ev| text.set(event_target_value(&ev)) />
            </label>
        </div>
        <Transition fallback=move || table(None)>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => view! {
                        <HostNotices list=d.unreachable.clone() />
                        {table(Some(d))}
                    }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// A table of the list pages: its columns (`(title, numeric)`), then an actions column.
#[component]
pub fn StorageTable(
    label: &'static str,
    columns: &'static [(&'static str, bool)],
    body: AnyView,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table table-cards" aria-label=label>
                <thead>
                    <tr>
                        {columns.iter().map(|(title, numeric)| view! {
                            <th scope="col" class=numeric.then_some("num")>{*title}</th>
                        }).collect_view()}
                        <th scope="col"><span class="sr-only">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{body}</tbody>
            </table>
        </div>
    }
}

/// One row per object, shown while its name contains the filter text. `row` makes the row from
/// the object, its host's name and whether the caller manages that host.
pub fn filtered_rows<T, V>(
    list: StorageList<T>,
    text: RwSignal<String>,
    keys: fn(&T) -> (&str, &str),
    row: impl Fn(T, String, bool) -> V + Clone + Send + Sync + 'static,
) -> AnyView
where
    T: Clone + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let hosts = list.hosts;
    list.items
        .into_iter()
        .map(|item| {
            let (slug, name) = keys(&item);
            let host = hosts.iter().find(|h| h.slug == slug);
            let host_name = host.map_or_else(|| slug.to_string(), |h| h.name.clone());
            let manage = host.is_some_and(StorageHost::manages);
            let name = name.to_lowercase();
            let visible = move || {
                let t = text.get().trim().to_lowercase();
                t.is_empty() || name.contains(&t)
            };
            let row = row.clone();
            view! {
                <Show when=visible>
                    {
                        let (row, item, host_name) = (row.clone(), item.clone(), host_name.clone());
                        move || row(item.clone(), host_name.clone(), manage)
                    }
                </Show>
            }
        })
        .collect_view()
        .into_any()
}

/// A prune panel: pick a host, confirm with its name, run `prune`, tell the outcome in words.
#[component]
pub fn PrunePanel<Prune, Fut>(
    /// The heading's element id.
    id: &'static str,
    title: &'static str,
    hint: &'static str,
    /// One of the images page's tool panels rather than a panel of the page.
    #[prop(optional)]
    tool: bool,
    hosts: Vec<StorageHost>,
    /// The confirmation question, given the host's name.
    question: fn(&str) -> String,
    prune: Prune,
    /// The outcome in words.
    done: fn(Pruned) -> String,
    outcome: Outcome,
    on_done: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView
where
    Prune: Fn(String) -> Fut + Copy + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<Pruned, AppError>> + 'static,
{
    let host = RwSignal::new(String::new());
    let names = hosts.clone();
    view! {
        <section class=if tool { "panel tool-panel" } else { "panel" } aria-labelledby=id>
            <h2 id=id>{title}</h2>
            <p class="muted small">{hint}</p>
            <div class="inline-form">
                <HostSelect hosts value=host label="Host" />
                {move || {
                    let q = question(&host_name(&names, &host.get()));
                    view! {
                        <Confirm label="Prune" question=q on_yes=move || {
                            act(outcome, prune(host.get_untracked()), done, on_done);
                        } />
                    }
                }}
            </div>
        </section>
    }
}

/// The answer to a create form: what was made, or why not.
#[component]
pub fn FormResult(
    result: Signal<Option<Result<String, String>>>,
    testid: &'static str,
) -> impl IntoView {
    view! {
        <div aria-live="polite" data-testid=testid>
            {move || result.get().map(|r| match r {
                Ok(text) => view! { <p class="form-ok" role="status">{text}</p> }.into_any(),
                Err(text) => view! { <p class="form-error" role="alert">{text}</p> }.into_any(),
            })}
        </div>
    }
}

/// Empties `form` each time `result` turns into a success.
pub fn reset_on_success(
    form: NodeRef<leptos::html::Form>,
    result: Signal<Option<Result<String, String>>>,
) {
    Effect::new(move |_| {
        if let (Some(Ok(_)), Some(f)) = (result.get(), form.get()) {
            f.reset();
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(slug: &str, role: RoleView, up: bool) -> StorageHost {
        StorageHost {
            slug: slug.into(),
            name: slug.to_uppercase(),
            role,
            up,
        }
    }

    #[test]
    fn relative_times() {
        assert_eq!(ago(1000, 990), "just now");
        assert_eq!(ago(10_000, 10_000 - 300), "5 min ago");
        assert_eq!(ago(100_000, 100_000 - 7_200), "2 hours ago");
        assert_eq!(ago(10_000_000, 10_000_000 - 86_400), "1 day ago");
        assert_eq!(ago(0, 100), "just now");
    }

    #[test]
    fn pairs_name_the_bad_line() {
        let ok = parse_pairs("labels", "a=1\n\n b = two \n").expect("valid pairs");
        assert_eq!(ok.get("b").map(String::as_str), Some("two"));
        let err = parse_pairs("labels", "a=1\nnope").expect_err("a line without =");
        assert!(err.to_string().starts_with("labels: line 2"));
    }

    #[test]
    fn host_names() {
        let hosts = [
            host("a", RoleView::Viewer, true),
            host("b", RoleView::Manager, true),
        ];
        assert_eq!(host_name(&hosts, "b"), "B");
        assert_eq!(host_name(&hosts, "gone"), "gone");
    }

    #[test]
    fn forms_start_on_the_first_host_that_is_up() {
        let hosts = [
            host("a-down", RoleView::Manager, false),
            host("b-up", RoleView::Manager, true),
            host("c-up", RoleView::Manager, true),
        ];
        assert_eq!(default_host(&hosts), Some("b-up"));
        assert_eq!(default_host(&hosts[..1]), None);
        assert_eq!(default_host(&[]), None);
    }
}
