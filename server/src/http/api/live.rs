//! Logs, stats and events: JSON or text for a look back, Server-Sent Events for following.
//! Each handler asks the policy first (View); the streams come from the shared hub, end when
//! the client goes away, when the container exits (an `end` event) and on shutdown.
//!
//! SSE events (each `data:` is one JSON object):
//! - logs: `line` `{stream, ts, line}` (ts is null unless `timestamps=true`), `skipped`
//!   `{count}` (lines this client missed by reading too slowly), `end` `{reason, exit_code?,
//!   message?}` with reason `exited` | `shutdown` | `closed` | `error`, and `error` `{message}`.
//! - stats: `stats` (a sample), `skipped` `{count}`, `end`.
//! - events: `event` `{host, type, action, id, name, attributes, time, time_nano}`, `skipped`
//!   `{count, host}`, `end` (per-host feed) or `host_end` `{host, reason, …}` (fleet feed).
//!
//! A `: keep-alive` comment is sent after 15 s of silence.
//!
//! Access is checked again while a stream is open: at once when the accounts say the
//! caller's access may have shrunk (a grant or team membership removed, the user disabled,
//! deleted or demoted, a password change, a token revoked) and every 15 s (the session or
//! token expired, or the person signed out). When it is gone the stream ends with `end`
//! `{"reason":"access_changed","message":…}`.

use super::Params;
use crate::http::{ApiError, ErrorResponse};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::stream::{self, BoxStream};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use backend::auth::{Credential, Identity, SessionStamp};
use backend::live::{
    EventFilter, EventItem, FleetItem, HostUsage, LogItem, LogLine, LogParams, LogQuery, StatsItem,
    DEFAULT_TAIL,
};
use backend::policy::{authorize, HostAction};
use tokio_util::sync::{CancellationToken, DropGuard};
use tower_sessions::session_store::SessionStore;
use tower_sessions::Session;

use crate::http::auth::Caller;
use crate::state::AppState;

type ApiResult<T> = Result<T, ApiError>;

const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// How often an open stream checks that its caller may still see it, when nothing told it
/// sooner: the backstop for expiry and sign-out.
const RECHECK: Duration = Duration::from_secs(15);
/// What a stream's client is told when its access went away.
pub(crate) const ACCESS_CHANGED: &str = "access changed";

/// What proved who opened a stream, kept to prove it again later.
pub(crate) enum Proof {
    Token(String),
    Session(Option<tower_sessions::session::Id>),
}

impl<S: Send + Sync> FromRequestParts<S> for Proof {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let via = parts
            .extensions
            .get::<Identity>()
            .map(|i| i.via)
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "sign in or send an API token",
                )
            })?;
        Ok(match via {
            Credential::Token => {
                let secret = parts
                    .headers
                    .get(header::AUTHORIZATION)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.split_once(' '))
                    .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
                    .map(|(_, token)| token.trim().to_string())
                    .unwrap_or_default();
                Proof::Token(secret)
            }
            Credential::Session => {
                Proof::Session(parts.extensions.get::<Session>().and_then(Session::id))
            }
        })
    }
}

/// Watches that the caller of one open stream keeps `action` on every host of `hosts`;
/// `lost` is cancelled when that is no longer so. Dropping it stops the watching.
pub(crate) struct AccessWatch {
    pub lost: CancellationToken,
    _stop: DropGuard,
}

impl AccessWatch {
    pub(crate) fn start(
        state: &AppState,
        user_id: i64,
        proof: Proof,
        hosts: Vec<String>,
        action: HostAction,
    ) -> AccessWatch {
        let lost = CancellationToken::new();
        let stop = CancellationToken::new();
        let revocations = state.accounts.revocations().clone();
        // Taken now, before the response goes out, so a change from here on is seen.
        let mut revoked = revocations.watch(user_id);
        let (state, watch_lost, watch_stop) = (state.clone(), lost.clone(), stop.clone());
        tokio::spawn(async move {
            let mut every =
                tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK);
            loop {
                tokio::select! {
                    () = watch_stop.cancelled() => return,
                    () = state.shutdown.cancelled() => return,
                    () = revoked.cancelled() => revoked = revocations.watch(user_id),
                    _ = every.tick() => {}
                }
                match still_allowed(&state, user_id, &proof, &hosts, action).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::info!(user_id, hosts = ?hosts, "access changed: ending an open stream");
                        watch_lost.cancel();
                        return;
                    }
                    // A store hiccup is not a verdict: the next check decides.
                    Err(e) => {
                        tracing::warn!(error = %e.log_detail(), "checking a stream's access again")
                    }
                }
            }
        });
        AccessWatch {
            lost,
            _stop: stop.drop_guard(),
        }
    }
}

/// Resolves the caller again from what proved them at the start, as the identity
/// middleware would for a new request, and asks the policy again.
async fn still_allowed(
    state: &AppState,
    user_id: i64,
    proof: &Proof,
    hosts: &[String],
    action: HostAction,
) -> backend::Result<bool> {
    let principal = match proof {
        Proof::Token(secret) => state.accounts.principal_for_token(secret).await?,
        Proof::Session(None) => None,
        Proof::Session(Some(id)) => {
            let record = crate::http::auth::Sessions::new(state.accounts.store().native())
                .load(id)
                .await
                .map_err(|e| backend::Error::Internal(format!("session store: {e}")))?;
            let stamp = record
                .and_then(|r| r.data.get(crate::http::auth::SESSION_KEY).cloned())
                .and_then(|v| serde_json::from_value::<SessionStamp>(v).ok());
            match stamp {
                Some(stamp) if stamp.user_id == user_id => {
                    let age = backend::store::now().saturating_sub(stamp.signed_in_at);
                    if u64::try_from(age).unwrap_or(0) > state.settings.session_max.as_secs() {
                        None
                    } else {
                        state.accounts.principal_for_session(stamp).await?
                    }
                }
                _ => None,
            }
        }
    };
    Ok(principal.is_some_and(|p| {
        p.user_id == user_id && hosts.iter().all(|h| authorize(&p, h, action).is_ok())
    }))
}

/// `chunks` until the access is lost, then a last `end` event saying so.
fn until_lost(chunks: BoxStream<'static, Bytes>, watch: AccessWatch) -> BoxStream<'static, Bytes> {
    let lost = watch.lost.clone();
    let last = stream::once(async move {
        // The watch lives as long as the stream: dropping the stream stops it.
        let watch = watch;
        watch.lost.is_cancelled().then(|| {
            let mut buf = Vec::new();
            sse_event(
                &mut buf,
                "end",
                &json!({ "reason": "access_changed", "message": ACCESS_CHANGED }),
            );
            Bytes::from(buf)
        })
    })
    .filter_map(std::future::ready);
    Box::pin(chunks.take_until(lost.cancelled_owned()).chain(last))
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FormatParams {
    format: Option<String>,
}

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventParams {
    #[serde(rename = "type")]
    kind: Option<String>,
    action: Option<String>,
}

/// One line as the API shows it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = LogLine)]
struct WireLine<'a> {
    stream: backend::engine::LogStream,
    ts: Option<&'a str>,
    line: &'a str,
}

fn wire(line: &LogLine, timestamps: bool) -> WireLine<'_> {
    WireLine {
        stream: line.stream,
        ts: if timestamps { line.ts.as_deref() } else { None },
        line: &line.text,
    }
}

fn sse_event(buf: &mut Vec<u8>, event: &str, data: &impl Serialize) {
    buf.extend_from_slice(b"event: ");
    buf.extend_from_slice(event.as_bytes());
    buf.extend_from_slice(b"\ndata: ");
    // Serialising our own types cannot fail; JSON has no raw newlines, so one data line.
    if serde_json::to_writer(&mut *buf, data).is_err() {
        buf.extend_from_slice(b"null");
    }
    buf.extend_from_slice(b"\n\n");
}

/// One event of a `text/event-stream` answer: its name and its JSON data.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // documents the wire format; the events are written by `sse_event`
struct SseEvent {
    /// `line`, `skipped`, `stats`, `event`, `end` or `error`.
    event: String,
    /// The event's JSON, on one line.
    data: String,
}

/// A `text/event-stream` response over `chunks`, with keep-alive comments when quiet.
fn sse(chunks: BoxStream<'static, Bytes>) -> Response {
    let body = stream::unfold(Some(chunks), |state| async move {
        let mut chunks = state?;
        tokio::select! {
            next = chunks.next() => next.map(|b| (Ok::<_, std::io::Error>(b), Some(chunks))),
            () = tokio::time::sleep(KEEP_ALIVE) => Some((Ok(Bytes::from_static(b": keep-alive\n\n")), Some(chunks))),
        }
    });
    let mut res = super::streamed(body).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/event-stream"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // Proxies such as nginx would otherwise hold the stream back.
    headers.insert("x-accel-buffering", HeaderValue::from_static("no"));
    res
}

fn wants_text(headers: &HeaderMap, format: Option<&str>) -> ApiResult<bool> {
    match format {
        Some("text") => Ok(true),
        Some("json") => Ok(false),
        Some(_) => Err(backend::Error::invalid("format", "must be json or text").into()),
        None => Ok(headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/plain") && !a.contains("application/json"))),
    }
}

fn text_line(buf: &mut Vec<u8>, line: &LogLine, timestamps: bool) {
    if timestamps {
        if let Some(ts) = &line.ts {
            buf.extend_from_slice(ts.as_bytes());
            buf.push(b' ');
        }
    }
    buf.extend_from_slice(line.text.as_bytes());
    buf.push(b'\n');
}

/// `GET /api/v1/hosts/{host}/containers/{id}/logs?tail=&since=&until=&timestamps=&follow=&q=&regex=&case=&stdout=&stderr=&format=`
///
/// Without `follow`: a JSON array of `{stream, ts, line}` (or text with `format=text` or
/// `Accept: text/plain`), streamed. With `follow=true`: SSE (see the module documentation).
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/logs",
    operation_id = "live.logs",
    tag = "live",
    summary = "Logs: a JSON array of {stream, ts, line} (or text), or with follow=true text/event-stream events line/skipped/end/error The stream also ends with event end {\"reason\":\"access_changed\"} when the caller's access is revoked (checked on every change and every 15 s).",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), LogParams),
    responses(
        (status = 200, description = "the lines, or with follow=true their events", content((Vec<WireLine> = "application/json"), (String = "text/plain"), (SseEvent = "text/event-stream"))),
        (status = 422, description = "invalid parameter (q names a bad regex)", body = ErrorResponse),
    ),
)]
pub async fn logs(
    State(state): State<AppState>,
    Caller(c): Caller,
    proof: Proof,
    Path((host, id)): Path<(String, String)>,
    headers: HeaderMap,
    Params(query): Params<LogParams>,
    Params(format): Params<FormatParams>,
) -> ApiResult<Response> {
    let query = LogQuery::parse(&query, Some(DEFAULT_TAIL))?;
    let text = wants_text(&headers, format.format.as_deref())?;
    let timestamps = query.timestamps;
    let follow = query.follow;
    let feed = state
        .ops()
        .logs(&c, &state.live, (&host, &id), query)
        .await?;
    if follow {
        let chunks = feed.items.map(move |item| {
            let mut buf = Vec::new();
            match item {
                Ok(LogItem::Lines(lines)) => {
                    // A whole batch of the shared stream is encoded once for all its viewers.
                    return lines.encoded(timestamps, |lines| {
                        let mut buf =
                            Vec::with_capacity(lines.iter().map(|l| l.text.len() + 96).sum());
                        for line in lines {
                            sse_event(&mut buf, "line", &wire(line, timestamps));
                        }
                        Bytes::from(buf)
                    });
                }
                Ok(LogItem::Skipped(count)) => {
                    sse_event(&mut buf, "skipped", &json!({ "count": count }))
                }
                Ok(LogItem::End(end)) => sse_event(&mut buf, "end", &end),
                Err(e) => {
                    tracing::warn!(error = %e.log_detail(), "a log stream failed");
                    sse_event(&mut buf, "error", &json!({ "message": e.public_message() }));
                }
            }
            Bytes::from(buf)
        });
        let watch = AccessWatch::start(&state, c.who.user_id, proof, vec![host], HostAction::View);
        return Ok(sse(until_lost(Box::pin(chunks), watch)));
    }
    if text {
        return Ok(text_response(feed.items, timestamps, None));
    }
    let mut first = true;
    let items = feed.items.filter_map(move |item| {
        let out = match item {
            Ok(LogItem::Lines(lines)) => {
                let mut buf = Vec::new();
                for line in &lines {
                    buf.push(if first { b'[' } else { b',' });
                    first = false;
                    if serde_json::to_writer(&mut buf, &wire(line, timestamps)).is_err() {
                        buf.extend_from_slice(b"null");
                    }
                }
                Some(Ok(Bytes::from(buf)))
            }
            Ok(_) => None,
            Err(e) => Some(Err(std::io::Error::other(e.log_detail()))),
        };
        std::future::ready(out)
    });
    // The array's opening bracket comes with the first line; an empty log is `[]`.
    let body = JsonArray {
        inner: Box::pin(items),
        opened: false,
        done: false,
    };
    let mut res = super::streamed(body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(res)
}

/// `GET /api/v1/logs`'s sources: `host/container` pairs, comma-separated.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SourcesParams {
    /// `host/container` pairs, comma-separated: `web-1/nginx,web-2/nginx` (1 to 16).
    c: Option<String>,
}

/// One line of a merged log: which container said it, then the line.
#[derive(Serialize, utoipa::ToSchema)]
struct MergedLine<'a> {
    host: &'a str,
    container: &'a str,
    stream: backend::engine::LogStream,
    ts: Option<&'a str>,
    line: &'a str,
}

/// The most lines a merged look back (without `follow`) gathers from all its containers.
const MAX_MERGED_LINES: usize = 200_000;

/// `GET /api/v1/logs?c=host/container,…` and the parameters of one container's logs: several
/// containers' logs as one. Without `follow`: a JSON array of `{host, container, stream, ts,
/// line}` in time order (`tail` lines of each), or text with `format=text`, each line
/// prefixed `host/container |`. With `follow=true`: SSE `line` events with `host` and
/// `container`, as they come from any of them; `source_end` `{host, container, reason, …}`
/// when one ends, and `end` when all have. Each container is authorized like its own log.
#[utoipa::path(
    get,
    path = "/logs",
    operation_id = "live.merged_logs",
    tag = "live",
    summary = "Merged logs of several containers, across hosts: JSON in time order, text, or with follow=true text/event-stream events line/skipped/source_end/end/error",
    params(SourcesParams, LogParams),
    responses(
        (status = 200, description = "the lines, or with follow=true their events", content((Vec<MergedLine> = "application/json"), (String = "text/plain"), (SseEvent = "text/event-stream"))),
        (status = 422, description = "invalid parameter (c, q, tail)", body = ErrorResponse),
    ),
)]
pub async fn merged_logs(
    State(state): State<AppState>,
    Caller(c): Caller,
    proof: Proof,
    headers: HeaderMap,
    Params(sources): Params<SourcesParams>,
    Params(query): Params<LogParams>,
    Params(format): Params<FormatParams>,
) -> ApiResult<Response> {
    let sources = merged_sources(sources.c.as_deref())?;
    let query = LogQuery::parse(&query, Some(DEFAULT_TAIL))?;
    let text = wants_text(&headers, format.format.as_deref())?;
    let (timestamps, follow) = (query.timestamps, query.follow);
    let mut feeds = Vec::with_capacity(sources.len());
    for (host, id) in &sources {
        let feed = state
            .ops()
            .logs(&c, &state.live, (host, id), query.clone())
            .await?;
        feeds.push(((host.clone(), id.clone()), feed.items));
    }
    if follow {
        let tagged = feeds.into_iter().map(|((host, id), items)| {
            items.map(move |item| {
                let mut buf = Vec::new();
                match item {
                    Ok(LogItem::Lines(lines)) => {
                        for line in &lines {
                            sse_event(&mut buf, "line", &merged(&host, &id, line, timestamps));
                        }
                    }
                    Ok(LogItem::Skipped(count)) => sse_event(
                        &mut buf,
                        "skipped",
                        &json!({"host": host, "container": id, "count": count}),
                    ),
                    Ok(LogItem::End(end)) => {
                        let mut data = serde_json::to_value(&end).unwrap_or_default();
                        if let Some(o) = data.as_object_mut() {
                            o.insert("host".into(), json!(host));
                            o.insert("container".into(), json!(id));
                        }
                        sse_event(&mut buf, "source_end", &data);
                    }
                    Err(e) => {
                        tracing::warn!(error = %e.log_detail(), "a merged log stream failed");
                        sse_event(
                            &mut buf,
                            "error",
                            &json!({"host": host, "container": id, "message": e.public_message()}),
                        );
                    }
                }
                Bytes::from(buf)
            })
        });
        let all = stream::select_all(tagged).chain(stream::once(async {
            let mut buf = Vec::new();
            sse_event(&mut buf, "end", &json!({"reason": "closed"}));
            Bytes::from(buf)
        }));
        let hosts: Vec<String> = sources.iter().map(|(h, _)| h.clone()).collect();
        let watch = AccessWatch::start(&state, c.who.user_id, proof, hosts, HostAction::View);
        return Ok(sse(until_lost(Box::pin(all), watch)));
    }
    // A look back: every container's lines, then one order by time.
    let mut all: Vec<(usize, std::sync::Arc<LogLine>)> = Vec::new();
    for (i, (_, mut items)) in feeds.into_iter().enumerate() {
        while let Some(item) = items.next().await {
            if let LogItem::Lines(lines) = item? {
                for line in &lines {
                    all.push((i, line.clone()));
                }
                if all.len() > MAX_MERGED_LINES {
                    return Err(backend::Error::invalid(
                        "tail",
                        format!("merge at most {MAX_MERGED_LINES} lines: ask for fewer (tail) or a shorter time (since, until)"),
                    )
                    .into());
                }
            }
        }
    }
    all.sort_by(|a, b| a.1.ts.cmp(&b.1.ts));
    let body = tokio::task::spawn_blocking(move || {
        let mut buf = Vec::with_capacity(all.len() * 96 + 2);
        if text {
            for (i, line) in &all {
                let (host, id) = &sources[*i];
                buf.extend_from_slice(format!("{host}/{id} | ").as_bytes());
                text_line(&mut buf, line, timestamps);
            }
        } else {
            let lines: Vec<MergedLine<'_>> = all
                .iter()
                .map(|(i, line)| {
                    let (host, id) = &sources[*i];
                    merged(host, id, line, timestamps)
                })
                .collect();
            if serde_json::to_writer(&mut buf, &lines).is_err() {
                buf = b"[]".to_vec();
            }
        }
        buf
    })
    .await
    .map_err(|e| backend::Error::Internal(format!("merging logs: {e}")))?;
    let mut res = Bytes::from(body).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(if text {
            "text/plain; charset=utf-8"
        } else {
            "application/json"
        }),
    );
    Ok(res)
}

fn merged<'a>(host: &'a str, id: &'a str, line: &'a LogLine, timestamps: bool) -> MergedLine<'a> {
    MergedLine {
        host,
        container: id,
        stream: line.stream,
        ts: if timestamps { line.ts.as_deref() } else { None },
        line: &line.text,
    }
}

/// `c=host/container,…`: 1 to [`app::model::containers::MAX_LOG_SOURCES`] pairs, each once.
fn merged_sources(c: Option<&str>) -> backend::Result<Vec<(String, String)>> {
    let max = app::model::containers::MAX_LOG_SOURCES;
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in c
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let Some((host, id)) = pair
            .split_once('/')
            .filter(|(h, i)| !h.is_empty() && !i.is_empty() && !i.contains('/'))
        else {
            return Err(backend::Error::invalid(
                "c",
                format!("{pair:?} is not host/container"),
            ));
        };
        let source = (host.to_string(), id.to_string());
        if !out.contains(&source) {
            out.push(source);
        }
    }
    if out.is_empty() || out.len() > max {
        return Err(backend::Error::invalid(
            "c",
            format!("name 1 to {max} containers as host/container, comma-separated"),
        ));
    }
    Ok(out)
}

/// Closes the streamed JSON array: `]` after the lines, or `[]` when there were none.
struct JsonArray {
    inner: BoxStream<'static, std::io::Result<Bytes>>,
    opened: bool,
    done: bool,
}

impl futures::Stream for JsonArray {
    type Item = std::io::Result<Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.done {
            return Poll::Ready(None);
        }
        match self.inner.as_mut().poll_next(cx) {
            Poll::Ready(Some(Ok(b))) => {
                if !b.is_empty() {
                    self.opened = true;
                }
                Poll::Ready(Some(Ok(b)))
            }
            Poll::Ready(Some(Err(e))) => {
                self.done = true;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(None) => {
                self.done = true;
                Poll::Ready(Some(Ok(Bytes::from_static(if self.opened {
                    b"]"
                } else {
                    b"[]"
                }))))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

fn text_response(
    items: BoxStream<'static, backend::Result<LogItem>>,
    timestamps: bool,
    attachment: Option<String>,
) -> Response {
    let body = items.filter_map(move |item| {
        std::future::ready(match item {
            Ok(LogItem::Lines(lines)) => {
                let mut buf = Vec::new();
                for line in &lines {
                    text_line(&mut buf, line, timestamps);
                }
                Some(Ok(Bytes::from(buf)))
            }
            Ok(_) => None,
            Err(e) => Some(Err(std::io::Error::other(e.log_detail()))),
        })
    });
    let mut res = super::streamed(body).into_response();
    let headers = res.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    if let Some(name) = attachment {
        if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
            headers.insert(header::CONTENT_DISPOSITION, v);
        }
    }
    res
}

/// `GET /api/v1/hosts/{host}/containers/{id}/logs/download?…`: the whole log (or what the
/// query selects; `tail` defaults to all) as a text file, streamed from the engine.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/logs/download",
    operation_id = "live.download",
    tag = "live",
    summary = "The whole log as a text file, streamed",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), LogParams),
    responses(
        (status = 200, description = "ok", body = String, content_type = "text/plain"),
    ),
)]
pub async fn download(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path((host, id)): Path<(String, String)>,
    Params(query): Params<LogParams>,
) -> ApiResult<Response> {
    let query = LogQuery::parse(&query, None)?;
    let timestamps = query.timestamps;
    let feed = state
        .ops()
        .download_logs(&c, &state.live, (&host, &id), query)
        .await?;
    let name: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        .take(64)
        .collect();
    Ok(text_response(
        feed.items,
        timestamps,
        Some(format!(
            "{}.log",
            if name.is_empty() { "container" } else { &name }
        )),
    ))
}

/// `GET /api/v1/hosts/{host}/containers/{id}/stats`: SSE, one `stats` event per engine sample
/// (about one a second), `end` when the container stops.
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/stats",
    operation_id = "live.stats",
    tag = "live",
    summary = "Live stats as text/event-stream: event stats {time, cpu_percent, memory_usage, memory_limit, memory_percent, net_rx, net_tx, net_rx_rate, net_tx_rate, block_read, block_write, block_read_rate, block_write_rate, pids} The stream also ends with event end {\"reason\":\"access_changed\"} when the caller's access is revoked (checked on every change and every 15 s).",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name")),
    responses(
        (status = 200, description = "ok", body = SseEvent, content_type = "text/event-stream"),
    ),
)]
pub async fn stats(
    State(state): State<AppState>,
    Caller(c): Caller,
    proof: Proof,
    Path((host, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let items = state.ops().stats(&c, &state.live, (&host, &id)).await?;
    let chunks = items.map(|item| {
        let mut buf = Vec::new();
        match item {
            StatsItem::Sample(sample) => sse_event(&mut buf, "stats", &*sample),
            StatsItem::Skipped(count) => sse_event(&mut buf, "skipped", &json!({ "count": count })),
            StatsItem::End(end) => sse_event(&mut buf, "end", &end),
        }
        Bytes::from(buf)
    });
    let watch = AccessWatch::start(&state, c.who.user_id, proof, vec![host], HostAction::View);
    Ok(sse(until_lost(Box::pin(chunks), watch)))
}

/// `GET /api/v1/hosts/{host}/stats`: one sample of every running container and the totals.
#[utoipa::path(
    get,
    path = "/hosts/{host}/stats",
    operation_id = "live.host_stats",
    tag = "live",
    summary = "Totals of the running containers of a host, and each one's CPU and memory (one shared sample per host, at most 5 s old)",
    params(("host" = String, Path, description = "the host's slug")),
    responses(
        (status = 200, description = "ok", body = HostUsage),
    ),
)]
pub async fn host_stats(
    State(state): State<AppState>,
    Caller(c): Caller,
    Path(host): Path<String>,
) -> ApiResult<Json<HostUsage>> {
    Ok(Json(
        state.ops().host_usage(&c, Some(&state.live), &host).await?,
    ))
}

/// `GET /api/v1/hosts/{host}/events?type=&action=`: SSE of the host's engine events from now
/// on; `type` and `action` are comma-separated lists.
#[utoipa::path(
    get,
    path = "/hosts/{host}/events",
    operation_id = "live.host_events",
    tag = "live",
    summary = "Engine events as text/event-stream (event: event {host, type, action, id, name, attributes, time}) The stream also ends with event end {\"reason\":\"access_changed\"} when the caller's access is revoked (checked on every change and every 15 s).",
    params(("host" = String, Path, description = "the host's slug"), EventParams),
    responses(
        (status = 200, description = "ok", body = SseEvent, content_type = "text/event-stream"),
        (status = 422, description = "unknown type", body = ErrorResponse),
    ),
)]
pub async fn host_events(
    State(state): State<AppState>,
    Caller(c): Caller,
    proof: Proof,
    Path(host): Path<String>,
    Params(query): Params<EventParams>,
) -> ApiResult<Response> {
    let p = query;
    let filter = EventFilter::parse(p.kind.as_deref(), p.action.as_deref())?;
    let items = state.ops().events(&c, &state.live, &host, filter).await?;
    let slug = host.clone();
    let chunks = items.map(move |item| {
        let mut buf = Vec::new();
        match item {
            EventItem::Event(event) => {
                sse_event(
                    &mut buf,
                    "event",
                    &backend::live::HostEvent {
                        host: slug.clone(),
                        event,
                    },
                );
            }
            EventItem::Skipped(count) => sse_event(
                &mut buf,
                "skipped",
                &json!({ "count": count, "host": slug }),
            ),
            EventItem::End(end) => sse_event(&mut buf, "end", &end),
        }
        Bytes::from(buf)
    });
    let watch = AccessWatch::start(&state, c.who.user_id, proof, vec![host], HostAction::View);
    Ok(sse(until_lost(Box::pin(chunks), watch)))
}

/// `GET /api/v1/events?type=&action=`: SSE of the events of every host the caller may see,
/// each with its `host`.
#[utoipa::path(
    get,
    path = "/events",
    operation_id = "live.fleet_events",
    tag = "live",
    summary = "Engine events of every host the caller may see, as text/event-stream The stream also ends with event end {\"reason\":\"access_changed\"} when the caller's access is revoked (checked on every change and every 15 s).",
    params(EventParams),
    responses(
        (status = 200, description = "ok", body = SseEvent, content_type = "text/event-stream"),
        (status = 404, description = "no such host or object (or not visible to the caller)", body = ErrorResponse),
        (status = 422, description = "unknown type", body = ErrorResponse),
    ),
)]
pub async fn fleet_events(
    State(state): State<AppState>,
    Caller(c): Caller,
    proof: Proof,
    Params(query): Params<EventParams>,
) -> ApiResult<Response> {
    let p = query;
    let filter = EventFilter::parse(p.kind.as_deref(), p.action.as_deref())?;
    let feed = state.ops().fleet_events(&c, &state.live, &filter);
    let items = feed.items;
    // Losing any host of the feed ends it; the client opens a new one over what it may see.
    let watch = AccessWatch::start(&state, c.who.user_id, proof, feed.hosts, HostAction::View);
    let shutdown = state.shutdown.clone();
    let chunks = items
        .map(|item| {
            let mut buf = Vec::new();
            match item {
                FleetItem::Event(event) => sse_event(&mut buf, "event", &event),
                FleetItem::Skipped { host, count } => sse_event(
                    &mut buf,
                    "skipped",
                    &json!({ "count": count, "host": host }),
                ),
                FleetItem::HostEnd { host, end } => {
                    let mut value = serde_json::to_value(&end).unwrap_or_default();
                    if let Some(map) = value.as_object_mut() {
                        map.insert("host".into(), host.into());
                    }
                    sse_event(&mut buf, "host_end", &value);
                }
            }
            Bytes::from(buf)
        })
        // With no host left (or none visible), the feed stays open until shutdown.
        .chain(
            stream::once(async move { shutdown.cancelled_owned().await })
                .filter_map(|()| std::future::ready(None)),
        );
    Ok(sse(until_lost(Box::pin(chunks), watch)))
}
