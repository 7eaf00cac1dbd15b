//! `/audit`: the audit log for admins — filters (user, host, action, outcome, dates), pages of
//! 50 newest first, the CSV export of the same filter, and the retention setting.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::components::badge::{Badge, Tone};
use crate::components::page::{ErrorNotice, PageHeader};
use crate::error::AppError;
use crate::format;
use crate::model::access::AuditPageView;

#[cfg(feature = "ssr")]
const PAGE: u32 = 50;

/// The filter as the page's query string carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuditFilter {
    pub user: String,
    pub host: String,
    pub action: String,
    pub outcome: String,
    /// `YYYY-MM-DD`, inclusive.
    pub since: String,
    /// `YYYY-MM-DD`, inclusive.
    pub until: String,
    pub before: Option<i64>,
}

impl AuditFilter {
    fn query(&self, before: Option<i64>) -> String {
        let mut parts = Vec::new();
        for (k, v) in [
            ("user", &self.user),
            ("host", &self.host),
            ("action", &self.action),
            ("outcome", &self.outcome),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k}={}", urlencoding(v)));
            }
        }
        if let Some(b) = before {
            parts.push(format!("before={b}"));
        }
        parts.join("&")
    }
}

fn urlencoding(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'*' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[server(output = crate::codec::TextJson)]
pub async fn list_audit(filter: AuditFilter) -> Result<AuditPageView, AppError> {
    let c = crate::ssr::caller()?;
    let opt = |s: &str| Some(s.trim().to_string()).filter(|s| !s.is_empty());
    let since = opt(&filter.since)
        .map(|d| backend::audit::day_start("since", &d))
        .transpose()?;
    let until = opt(&filter.until)
        .map(|d| backend::audit::day_start("until", &d).map(|t| t + 86_400))
        .transpose()?;
    let query = backend::audit::Filter {
        user: opt(&filter.user),
        host: opt(&filter.host),
        action: opt(&filter.action),
        outcome: opt(&filter.outcome),
        since,
        until,
        limit: Some(PAGE),
        before: filter.before,
    };
    let entries: Vec<crate::model::access::AuditEntryView> = crate::ssr::ops()?
        .audit_entries(&c, &query)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    let next_before = (entries.len() == PAGE as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(AuditPageView {
        entries,
        next_before,
    })
}

#[server(output = crate::codec::TextJson)]
pub async fn load_audit_retention() -> Result<u32, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?.audit_retention(&c).await?)
}

#[server(output = crate::codec::TextJson)]
pub async fn set_audit_retention(days: u32) -> Result<u32, AppError> {
    let c = crate::ssr::caller()?;
    Ok(crate::ssr::ops()?
        .set_audit_retention(&c, ("days", days))
        .await?)
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let me = Resource::new(|| (), |_| crate::client::session::current_user());
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(m) if m.admin => view! { <AuditAdmin /> }.into_any(),
                    _ => view! { <crate::components::page::NotAllowed /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AuditAdmin() -> impl IntoView {
    let query = use_query_map();
    let filter = Memo::new(move |_| {
        let q = query.read();
        let get = |k: &str| q.get(k).unwrap_or_default();
        AuditFilter {
            user: get("user"),
            host: get("host"),
            action: get("action"),
            outcome: get("outcome"),
            since: get("since"),
            until: get("until"),
            before: q.get("before").and_then(|b| b.parse().ok()),
        }
    });
    let page = Resource::new(move || filter.get(), list_audit);
    let save = ServerAction::<SetAuditRetention>::new();
    let retention = Resource::new(move || save.version().get(), |_| load_audit_retention());
    let f = filter.get_untracked();
    view! {
        <PageHeader title="Audit log" />
        <p class="page-summary">"Every change, download, terminal, sign-in and refusal, newest first."</p>
        <form method="get" action="/audit" class="inline-form audit-filters" aria-label="Filter the audit log">
            <label class="field"><span>"User"</span><input name="user" value=f.user.clone() autocomplete="off" /></label>
            <label class="field"><span>"Host"</span><input name="host" value=f.host.clone() autocomplete="off" /></label>
            <label class="field"><span>"Action"</span><input name="action" value=f.action.clone() placeholder="container.stop or container." autocomplete="off" /></label>
            <label class="field">
                <span>"Outcome"</span>
                <select name="outcome">
                    {["", "ok", "denied", "failed"].into_iter().map(|o| view! {
                        <option value=o selected=f.outcome == o>{if o.is_empty() { "any" } else { o }}</option>
                    }).collect_view()}
                </select>
            </label>
            <label class="field"><span>"From"</span><input type="date" name="since" value=f.since.clone() /></label>
            <label class="field"><span>"To"</span><input type="date" name="until" value=f.until.clone() /></label>
            <button type="submit" class="button button-primary">"Filter"</button>
            <a class="button" href="/audit">"Clear"</a>
            <a class="button" rel="external" href=move || format!("/api/v1/audit.csv?{}", csv_query(&filter.get()))>"Export CSV"</a>
        </form>
        <Transition fallback=|| view! { <p class="muted">"Loading the log…"</p> }>
            {move || Suspend::new(async move {
                match page.await {
                    Ok(p) => view! { <AuditTable page=p filter=filter.get_untracked() /> }.into_any(),
                    Err(e) => view! { <ErrorNotice message=e.to_string() /> }.into_any(),
                }
            })}
        </Transition>
        <section class="panel" aria-labelledby="retention-title">
            <h2 id="retention-title">"Retention"</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    retention.await.ok().map(|days| view! {
                        <ActionForm action=save attr:class="inline-form">
                            <label class="field">
                                <span>"Keep rows for (days)"</span>
                                <input type="number" name="days" min="1" max="3650" value=days.to_string() required />
                            </label>
                            <button type="submit" class="button">"Save"</button>
                        </ActionForm>
                    })
                })}
            </Transition>
            {move || save.value().get().map(|r| match r {
                Ok(d) => view! { <p class="form-ok" role="status">{format!("Rows older than {d} days are deleted daily.")}</p> }.into_any(),
                Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
            })}
        </section>
    }
}

/// The CSV export's query for the filter the page shows. The export takes unix seconds, the
/// form holds days: "From" is the start of its day, "To" includes its whole day (UTC, as the
/// table's own query counts them). A date the form could not hold is left out, like the table
/// reports it.
fn csv_query(f: &AuditFilter) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in [
        ("user", &f.user),
        ("host", &f.host),
        ("action", &f.action),
        ("outcome", &f.outcome),
    ] {
        if !v.trim().is_empty() {
            parts.push(format!("{k}={}", urlencoding(v.trim())));
        }
    }
    if let Some(since) = day_start(&f.since) {
        parts.push(format!("since={since}"));
    }
    if let Some(until) = day_start(&f.until) {
        parts.push(format!("until={}", until + 86_400));
    }
    parts.join("&")
}

/// `YYYY-MM-DD` → the unix second its day starts (UTC), in plain arithmetic so the browser
/// computes the same link as the server (days from the civil calendar, proleptic Gregorian).
fn day_start(date: &str) -> Option<i64> {
    let mut it = date.trim().splitn(3, '-');
    let (y, m, d) = (it.next()?, it.next()?, it.next()?);
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return None;
    }
    let (y, m, d): (i64, i64, i64) = (y.parse().ok()?, m.parse().ok()?, d.parse().ok()?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let february = if leap { 29 } else { 28 };
    let month_days = [31, february, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    let last = *month_days.get(usize::try_from(m - 1).ok()?)?;
    if !(1..=last).contains(&d) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400)
}

fn tone(outcome: &str) -> Tone {
    match outcome {
        "ok" => Tone::Good,
        "denied" => Tone::Bad,
        _ => Tone::Warn,
    }
}

#[component]
fn AuditTable(page: AuditPageView, filter: AuditFilter) -> impl IntoView {
    let empty = page.entries.is_empty();
    let older = page
        .next_before
        .map(|b| format!("/audit?{}", filter.query(Some(b))));
    view! {
        {empty.then(|| view! { <p class="muted">"Nothing recorded matches."</p> })}
        <div class="table-wrap">
            <table class="table table-cards" aria-label="Audit log">
                <thead>
                    <tr>
                        <th scope="col">"When"</th>
                        <th scope="col">"Who"</th>
                        <th scope="col">"Action"</th>
                        <th scope="col">"Host · object"</th>
                        <th scope="col">"Outcome"</th>
                        <th scope="col">"Details"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.entries.into_iter().map(|e| {
                        let params = if e.params.as_object().is_some_and(|m| m.is_empty()) { String::new() } else { e.params.to_string() };
                        let target = [e.host.clone(), e.object.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
                        view! {
                            <tr data-audit=e.id.to_string()>
                                <td data-label="When">{format::datetime(e.at)}</td>
                                <td data-label="Who" class="cell-primary">
                                    <span class="strong">{e.username.clone().unwrap_or_else(|| "—".into())}</span>
                                    <div class="muted small">{e.client.clone().unwrap_or_default()}</div>
                                </td>
                                <td data-label="Action"><code>{e.action.clone()}</code></td>
                                <td data-label="Host · object">{target}</td>
                                <td data-label="Outcome"><Badge tone=tone(&e.outcome) label=format!("{} {}", e.outcome, e.status) /></td>
                                <td data-label="Details" class="small muted audit-params">{params}</td>
                            </tr>
                        }
                    }).collect_view()}
                </tbody>
            </table>
        </div>
        {older.map(|href| view! { <p><a class="button" href=href>"Older entries →"</a></p> })}
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_csv_link_keeps_every_filter_and_counts_days_like_the_server() {
        for date in [
            "1970-01-01",
            "2000-02-29",
            "2026-01-31",
            "2026-12-31",
            "2100-03-01",
        ] {
            assert_eq!(
                day_start(date),
                backend::audit::day_start("since", date).ok(),
                "{date}"
            );
        }
        for bad in [
            "",
            "2026-02-30",
            "2026-13-01",
            "26-01-01",
            "2026-1-1",
            "soon",
        ] {
            assert_eq!(day_start(bad), None, "{bad:?}");
        }
        let f = AuditFilter {
            user: "ann".into(),
            host: "web-1".into(),
            action: "container.".into(),
            outcome: "denied".into(),
            since: "2026-01-01".into(),
            until: "2026-01-02".into(),
            before: Some(7),
        };
        assert_eq!(
            csv_query(&f),
            "user=ann&host=web-1&action=container.&outcome=denied&since=1767225600&until=1767398400"
        );
        assert_eq!(csv_query(&AuditFilter::default()), "");
    }
}
