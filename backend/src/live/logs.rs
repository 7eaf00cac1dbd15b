//! Container logs: the request's options and search, the engine's frames cut into lines, the
//! history of one viewer and the live stream all viewers share.
//!
//! The joint between a follower's history and the shared live stream: the live stream asks the
//! engine for `since = start - 1 s` with timestamps and keeps only lines stamped at or after
//! `start` (nanoseconds), the moment its channel was made. A follower first subscribes (so
//! everything broadcast from then on is queued for it), then reads its own history with
//! timestamps. The history ends at some line stamped `L` (`n` lines carry exactly `L`); from the
//! live queue the follower drops lines stamped before `L` and the first `n` stamped `L`. Every
//! line written after `start` is in the live stream, every line written before the history call
//! is in the history, and the subscription precedes the history call, so nothing falls between
//! them and nothing is shown twice.

use std::ops::Deref;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{self, BoxStream};
use futures::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

use crate::engine::{parse_rfc3339_nanos, Chunks, Engine, LogChunk, LogStream, LogsOptions};
use crate::error::{Error, Result};

use super::hub::Stop;
use super::{Hub, LogEnd};

/// Lines longer than this are cut into pieces (the engine itself splits messages at 16 KiB).
pub const MAX_LINE: usize = 16 * 1024;
/// The default and the largest `tail`.
pub const DEFAULT_TAIL: u64 = 500;
pub const MAX_TAIL: u64 = 100_000;
/// Engine frames taken at once when they are ready.
const BATCH: usize = 64;
/// The shared live stream sends lines in batches of up to this many lines or this many bytes
/// of text, waiting at most [`FILL`] to fill one while lines stream: the channel's slack is
/// counted in items, so full batches make it hundreds of thousands of lines for a fast
/// writer, while a viewer that stops reading holds at most capacity × `LIVE_BATCH_BYTES`
/// (plus their encoded forms).
const LIVE_BATCH_LINES: usize = 1024;
const LIVE_BATCH_BYTES: usize = 32 * 1024;
/// How long the live stream waits for more lines before sending a batch: invisible to a
/// person, long enough to gather a fast writer's lines into full batches.
const FILL: Duration = Duration::from_millis(3);
/// Compiled search patterns may not grow past this (bytes of the compiled program).
const REGEX_SIZE_LIMIT: usize = 256 * 1024;
const MAX_QUERY: usize = 1024;

/// The query string of the logs endpoints, as sent; [`LogQuery::parse`] checks it.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogParams {
    pub tail: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    #[param(value_type = Option<bool>)]
    pub timestamps: Option<String>,
    #[param(value_type = Option<bool>)]
    pub follow: Option<String>,
    pub q: Option<String>,
    #[param(value_type = Option<bool>)]
    pub regex: Option<String>,
    #[param(value_type = Option<bool>)]
    pub case: Option<String>,
    #[param(value_type = Option<bool>)]
    pub stdout: Option<String>,
    #[param(value_type = Option<bool>)]
    pub stderr: Option<String>,
}

/// What a viewer asked for, checked.
#[derive(Debug, Clone)]
pub struct LogQuery {
    /// The last N lines of history; `None` for the whole log.
    pub tail: Option<u64>,
    /// Unix seconds, 0 for the beginning.
    pub since: i64,
    /// Unix seconds, 0 for no end. A query with an end does not follow.
    pub until: i64,
    pub timestamps: bool,
    pub follow: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub search: Option<Search>,
}

/// A server-side filter on line text.
#[derive(Debug, Clone)]
pub struct Search {
    regex: regex::Regex,
}

impl Search {
    /// `q` as a substring (or a regular expression with `regex`), case-insensitive unless
    /// `case_sensitive`.
    pub fn new(q: &str, is_regex: bool, case_sensitive: bool) -> Result<Search> {
        if q.len() > MAX_QUERY {
            return Err(Error::invalid(
                "q",
                format!("use at most {MAX_QUERY} characters"),
            ));
        }
        let pattern = if is_regex {
            q.to_owned()
        } else {
            regex::escape(q)
        };
        let regex = regex::RegexBuilder::new(&pattern)
            .case_insensitive(!case_sensitive)
            .size_limit(REGEX_SIZE_LIMIT)
            .dfa_size_limit(REGEX_SIZE_LIMIT * 4)
            .build()
            .map_err(|e| match e {
                regex::Error::CompiledTooBig(_) => {
                    Error::invalid("q", "the regular expression is too large")
                }
                other => Error::invalid(
                    "q",
                    format!(
                        "is not a valid regular expression: {}",
                        first_line(&other.to_string())
                    ),
                ),
            })?;
        Ok(Search { regex })
    }

    pub fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .rev()
        .find(|l| l.trim_start().starts_with("error:"))
        .unwrap_or(text)
        .trim()
        .to_owned()
}

fn flag(field: &str, value: Option<&str>, default: bool) -> Result<bool> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some("1" | "true" | "yes" | "on") => Ok(true),
        Some("0" | "false" | "no" | "off") => Ok(false),
        Some(_) => Err(Error::invalid(field, "must be true or false")),
    }
}

/// A point in time: unix seconds (fractions allowed), RFC 3339, or an age like `90s`, `10m`,
/// `2h`, `1d` (that long before `now`).
pub fn parse_time(field: &str, value: &str, now: i64) -> Result<i64> {
    let value = value.trim();
    let bad = || {
        Error::invalid(
            field,
            "use unix seconds, an RFC 3339 time, or an age like 30s, 10m, 2h, 1d",
        )
    };
    if let Ok(secs) = value.parse::<f64>() {
        if (0.0..1e12).contains(&secs) {
            // Truncation is meant: the engine takes whole seconds.
            #[allow(clippy::cast_possible_truncation)]
            return Ok(secs as i64);
        }
        return Err(bad());
    }
    if let Some(nanos) = parse_rfc3339_nanos(value) {
        return i64::try_from(nanos / 1_000_000_000).map_err(|_| bad());
    }
    let split = value.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
    let (digits, unit) = value.split_at(split);
    let n: i64 = digits.parse().map_err(|_| bad())?;
    let unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(bad()),
    };
    Ok(now.saturating_sub(n.saturating_mul(unit)).max(0))
}

impl LogQuery {
    /// Checks the query string. `default_tail` is [`DEFAULT_TAIL`] for viewing, `None` (all)
    /// for downloads.
    pub fn parse(p: &LogParams, default_tail: Option<u64>) -> Result<LogQuery> {
        let now = crate::store::now();
        let tail = match p.tail.as_deref().map(str::trim) {
            None | Some("") => default_tail,
            Some("all") => None,
            Some(t) => {
                let n: u64 = t
                    .parse()
                    .map_err(|_| Error::invalid("tail", "must be a number of lines or \"all\""))?;
                if n > MAX_TAIL {
                    return Err(Error::invalid(
                        "tail",
                        format!("use at most {MAX_TAIL} lines"),
                    ));
                }
                Some(n)
            }
        };
        let since = p
            .since
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_time("since", s, now))
            .transpose()?
            .unwrap_or(0);
        let until = p
            .until
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|s| parse_time("until", s, now))
            .transpose()?
            .unwrap_or(0);
        if until != 0 && until < since {
            return Err(Error::invalid("until", "must not be before since"));
        }
        let stdout = flag("stdout", p.stdout.as_deref(), true)?;
        let stderr = flag("stderr", p.stderr.as_deref(), true)?;
        if !stdout && !stderr {
            return Err(Error::invalid("stdout", "ask for stdout, stderr or both"));
        }
        let is_regex = flag("regex", p.regex.as_deref(), false)?;
        let case_sensitive = flag("case", p.case.as_deref(), false)?;
        let search = match p.q.as_deref() {
            None | Some("") => None,
            Some(q) => Some(Search::new(q, is_regex, case_sensitive)?),
        };
        Ok(LogQuery {
            tail,
            since,
            until,
            timestamps: flag("timestamps", p.timestamps.as_deref(), false)?,
            follow: flag("follow", p.follow.as_deref(), false)? && until == 0,
            stdout,
            stderr,
            search,
        })
    }

    fn wants(&self, stream: LogStream) -> bool {
        match stream {
            LogStream::Stdout => self.stdout,
            LogStream::Stderr => self.stderr,
        }
    }

    fn shows(&self, line: &LogLine) -> bool {
        self.search.as_ref().is_none_or(|s| s.matches(&line.text))
    }
}

/// One line of a container's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogLine {
    pub stream: LogStream,
    /// The engine's timestamp (RFC 3339 with nanoseconds) when it gave one.
    pub ts: Option<String>,
    #[serde(skip)]
    pub nanos: Option<i128>,
    /// The text, lossy UTF-8, without the newline; ANSI escapes are kept.
    pub text: String,
}

/// A run of lines from the shared stream, numbered so a viewer that lagged knows how many it
/// missed.
#[derive(Debug)]
pub struct LogBatch {
    pub first_seq: u64,
    pub lines: Vec<Arc<LogLine>>,
    /// The batch as the wire shows it, without and with timestamps: made by the first viewer
    /// that sends the whole batch, shared by every other.
    encoded: [OnceLock<Bytes>; 2],
}

impl LogBatch {
    pub fn new(first_seq: u64, lines: Vec<Arc<LogLine>>) -> Self {
        LogBatch {
            first_seq,
            lines,
            encoded: [OnceLock::new(), OnceLock::new()],
        }
    }
}

/// The lines one viewer receives at once. When they are a whole batch of the shared live
/// stream (the viewer shows both streams, searches nothing and is past its history), they
/// are that batch, and [`LogLines::encoded`] makes its wire form once for all such viewers.
#[derive(Debug, Clone)]
pub struct LogLines(Repr);

#[derive(Debug, Clone)]
enum Repr {
    Own(Vec<Arc<LogLine>>),
    Shared(Arc<LogBatch>),
}

impl LogLines {
    /// The lines in wire form: `encode` runs once per shared batch and `timestamps`, or every
    /// time for lines of this viewer's own.
    pub fn encoded(
        &self,
        timestamps: bool,
        encode: impl FnOnce(&[Arc<LogLine>]) -> Bytes,
    ) -> Bytes {
        match &self.0 {
            Repr::Own(lines) => encode(lines),
            Repr::Shared(batch) => batch.encoded[usize::from(timestamps)]
                .get_or_init(|| encode(&batch.lines))
                .clone(),
        }
    }
}

impl From<Vec<Arc<LogLine>>> for LogLines {
    fn from(lines: Vec<Arc<LogLine>>) -> Self {
        LogLines(Repr::Own(lines))
    }
}

impl Deref for LogLines {
    type Target = [Arc<LogLine>];

    fn deref(&self) -> &[Arc<LogLine>] {
        match &self.0 {
            Repr::Own(lines) => lines,
            Repr::Shared(batch) => &batch.lines,
        }
    }
}

impl<'a> IntoIterator for &'a LogLines {
    type Item = &'a Arc<LogLine>;
    type IntoIter = std::slice::Iter<'a, Arc<LogLine>>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// What the shared logs channel carries.
#[derive(Debug, Clone)]
pub enum LogMessage {
    Lines(Arc<LogBatch>),
    End(LogEnd),
}

/// What a viewer receives.
#[derive(Debug, Clone)]
pub enum LogItem {
    Lines(LogLines),
    /// This viewer fell behind and missed this many lines.
    Skipped(u64),
    End(LogEnd),
}

/// Cuts the engine's frames into lines, per output stream.
#[derive(Default)]
struct Lines {
    stdout: Vec<u8>,
    stderr: Vec<u8>,
}

impl Lines {
    fn push(&mut self, chunk: &LogChunk, timestamps: bool, out: &mut Vec<LogLine>) {
        let buf = match chunk.stream {
            LogStream::Stdout => &mut self.stdout,
            LogStream::Stderr => &mut self.stderr,
        };
        let mut rest: &[u8] = &chunk.bytes;
        while !rest.is_empty() {
            match rest.iter().position(|b| *b == b'\n') {
                Some(nl) => {
                    buf.extend_from_slice(&rest[..nl]);
                    out.push(make_line(chunk.stream, std::mem::take(buf), timestamps));
                    rest = &rest[nl + 1..];
                }
                None => {
                    buf.extend_from_slice(rest);
                    rest = &[];
                }
            }
            while buf.len() > MAX_LINE {
                let tail = buf.split_off(MAX_LINE);
                out.push(make_line(
                    chunk.stream,
                    std::mem::replace(buf, tail),
                    timestamps,
                ));
            }
        }
    }

    fn flush(&mut self, timestamps: bool, out: &mut Vec<LogLine>) {
        for (stream, buf) in [
            (LogStream::Stdout, &mut self.stdout),
            (LogStream::Stderr, &mut self.stderr),
        ] {
            if !buf.is_empty() {
                out.push(make_line(stream, std::mem::take(buf), timestamps));
            }
        }
    }
}

/// One line from its raw bytes, which become its text without a copy when they are UTF-8.
fn make_line(stream: LogStream, mut raw: Vec<u8>, timestamps: bool) -> LogLine {
    if raw.last() == Some(&b'\r') {
        raw.pop();
    }
    let mut ts = None;
    let mut nanos = None;
    if timestamps {
        let end = raw.iter().position(|b| *b == b' ').unwrap_or(raw.len());
        if let Some((s, n)) = std::str::from_utf8(&raw[..end])
            .ok()
            .and_then(|s| parse_rfc3339_nanos(s).map(|n| (s.to_owned(), n)))
        {
            ts = Some(s);
            nanos = Some(n);
            raw.drain(..(end + 1).min(raw.len()));
        }
    }
    let text = match String::from_utf8(raw) {
        Ok(text) => text,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    };
    LogLine {
        stream,
        ts,
        nanos,
        text,
    }
}

/// The engine's chunks as batches of lines: as many as were ready, or with `fill`, as many as
/// arrive within that time after the first (up to [`LIVE_BATCH_LINES`] and
/// [`LIVE_BATCH_BYTES`]).
fn into_lines(
    chunks: Chunks<LogChunk>,
    timestamps: bool,
    fill: Option<Duration>,
) -> impl Stream<Item = Result<Vec<LogLine>>> + Send {
    let state = Some((chunks.ready_chunks(BATCH), Lines::default()));
    stream::unfold(state, move |state| async move {
        let (mut chunks, mut lines) = state?;
        let mut out = Vec::new();
        let mut bytes = 0;
        let mut deadline = None;
        loop {
            let next = match deadline {
                None => chunks.next().await,
                // `next` holds nothing between polls: abandoning it at the deadline loses nothing.
                Some(at) => match tokio::time::timeout_at(at, chunks.next()).await {
                    Ok(next) => next,
                    Err(_) => return Some((Ok(out), Some((chunks, lines)))),
                },
            };
            let Some(batch) = next else {
                lines.flush(timestamps, &mut out);
                return (!out.is_empty()).then_some((Ok(out), None));
            };
            for chunk in batch {
                match chunk {
                    Ok(chunk) => {
                        bytes += chunk.bytes.len();
                        lines.push(&chunk, timestamps, &mut out);
                    }
                    // The lines before the error are lost with the stream; the error is what counts.
                    Err(e) => return Some((Err(e), None)),
                }
            }
            if out.is_empty() {
                continue;
            }
            match fill {
                Some(fill) if out.len() < LIVE_BATCH_LINES && bytes < LIVE_BATCH_BYTES => {
                    deadline.get_or_insert_with(|| tokio::time::Instant::now() + fill);
                }
                _ => return Some((Ok(out), Some((chunks, lines)))),
            }
        }
    })
}

/// What a log request answers: whether the container has a tty (then every line is stdout)
/// and the stream of items.
pub struct LogFeed {
    pub tty: bool,
    pub items: BoxStream<'static, Result<LogItem>>,
}

impl Hub {
    /// The log of a container as `query` asks: history, then (when following a running
    /// container) the shared live stream, then an end item. The first engine error (a missing
    /// container) is returned here, not in the stream.
    pub async fn logs(
        &self,
        engine: &Engine,
        host: &str,
        id: &str,
        query: LogQuery,
    ) -> Result<LogFeed> {
        let detail = engine.inspect_container(id).await?;
        let follow = query.follow && detail.running;
        // Subscribe before reading history: see the module's documentation.
        let live = follow.then(|| self.subscribe_logs(engine, host, &detail.id));
        let history = engine
            .container_logs(
                &detail.id,
                &LogsOptions {
                    follow: false,
                    stdout: query.stdout,
                    stderr: query.stderr,
                    since: query.since,
                    until: query.until,
                    timestamps: true,
                    tail: query.tail,
                },
            )
            .await?;
        // Fused: the first batch is taken here, and an empty log must not be polled again.
        let mut history = Box::pin(into_lines(history, true, None).fuse());
        // The first batch now, so a missing container is an error and not a cut stream.
        let first = match history.next().await {
            Some(Ok(batch)) => Some(batch),
            Some(Err(e)) => return Err(e),
            None => None,
        };
        let query = Arc::new(query);
        let joint = Arc::new(std::sync::Mutex::new(Joint::default()));
        let history = stream::iter(first.map(Ok)).chain(history);
        let shown = {
            let query = query.clone();
            let joint = joint.clone();
            history.map(move |batch| {
                let batch = batch?;
                let mut joint = joint
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner);
                let lines: Vec<Arc<LogLine>> = batch
                    .into_iter()
                    .inspect(|line| joint.saw(line.nanos))
                    .filter(|line| query.shows(line))
                    .map(Arc::new)
                    .collect::<Vec<_>>();
                Ok(LogItem::Lines(lines.into()))
            })
        };
        let shutdown = self.pumps.shutdown.clone();
        let items: BoxStream<'static, Result<LogItem>> = match live {
            Some(rx) => Box::pin(shown.chain(follow_live(rx, query, joint))),
            None if query.follow => {
                let end = LogEnd::Exited {
                    exit_code: Some(detail.exit_code),
                };
                Box::pin(shown.chain(stream::once(async move { Ok(LogItem::End(end)) })))
            }
            None => Box::pin(shown),
        };
        let items = items
            .filter(|item| {
                std::future::ready(!matches!(item, Ok(LogItem::Lines(l)) if l.is_empty()))
            })
            .take_until(async move { shutdown.cancelled_owned().await });
        Ok(LogFeed {
            tty: detail.tty,
            items: Box::pin(items),
        })
    }

    fn subscribe_logs(
        &self,
        engine: &Engine,
        host: &str,
        container_id: &str,
    ) -> broadcast::Receiver<LogMessage> {
        let key = (host.to_owned(), container_id.to_owned());
        let open_engine = engine.clone();
        let end_engine = engine.clone();
        let id = container_id.to_owned();
        let end_id = container_id.to_owned();
        self.pumps.subscribe(
            &self.logs,
            key,
            move || async move {
                let start = super::now_nanos();
                let since = i64::try_from(start / 1_000_000_000).unwrap_or(0).saturating_sub(1);
                let options = LogsOptions { follow: true, stdout: true, stderr: true, since, until: 0, timestamps: true, tail: None };
                let chunks = open_engine.container_logs(&id, &options).await?;
                let mut seq = 0u64;
                let batches = into_lines(chunks, true, Some(FILL)).filter_map(move |batch| {
                    let item = batch.map(|lines| {
                        let lines: Vec<Arc<LogLine>> =
                            lines.into_iter().filter(|l| l.nanos.is_none_or(|n| n >= start)).map(Arc::new).collect();
                        let first_seq = seq;
                        seq += lines.len() as u64;
                        (!lines.is_empty()).then(|| LogMessage::Lines(Arc::new(LogBatch::new(first_seq, lines))))
                    });
                    std::future::ready(item.transpose())
                });
                Ok(Box::pin(batches) as Chunks<LogMessage>)
            },
            move |stop| async move { Some(LogMessage::End(end_of(&end_engine, &end_id, stop).await)) },
        )
    }

    /// Items queued in the shared logs channel of one container, if one is open: never more
    /// than the hub's capacity.
    pub fn buffered_logs(&self, host: &str, container_id: &str) -> Option<usize> {
        self.logs
            .buffered(&(host.to_owned(), container_id.to_owned()))
    }
}

/// How a shared stream ended, in words for the viewer.
pub(super) async fn end_of(engine: &Engine, id: &str, stop: Stop) -> LogEnd {
    match stop {
        Stop::Shutdown => LogEnd::Shutdown,
        Stop::Finished => match engine.inspect_container(id).await {
            Ok(d) if !d.running => LogEnd::Exited {
                exit_code: Some(d.exit_code),
            },
            Ok(_) => LogEnd::Closed,
            Err(Error::NotFound(_)) => LogEnd::Exited { exit_code: None },
            Err(e) => {
                tracing::warn!(error = %e.log_detail(), "inspecting a container after its stream ended");
                LogEnd::Closed
            }
        },
        Stop::Failed(e) => {
            tracing::warn!(error = %e.log_detail(), "a shared container stream failed");
            LogEnd::Error {
                message: e.public_message(),
            }
        }
    }
}

/// Where the history ended: the last timestamp and how many lines carried it.
#[derive(Default)]
struct Joint {
    last: Option<i128>,
    at_last: u64,
}

impl Joint {
    fn saw(&mut self, nanos: Option<i128>) {
        let Some(n) = nanos else { return };
        if self.last == Some(n) {
            self.at_last += 1;
        } else if self.last.is_none_or(|l| n > l) {
            self.last = Some(n);
            self.at_last = 1;
        }
    }
}

fn follow_live(
    rx: broadcast::Receiver<LogMessage>,
    query: Arc<LogQuery>,
    joint: Arc<std::sync::Mutex<Joint>>,
) -> impl Stream<Item = Result<LogItem>> + Send {
    let state = Follower {
        rx,
        query,
        joint,
        next_seq: None,
        lagged: false,
        done: false,
    };
    stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        loop {
            match s.rx.recv().await {
                Ok(LogMessage::Lines(batch)) => {
                    let skipped = match (s.lagged, s.next_seq) {
                        (true, Some(expected)) => batch.first_seq.saturating_sub(expected),
                        // Lagged before the first batch: it missed everything before this one.
                        (true, None) => batch.first_seq.max(1),
                        _ => 0,
                    };
                    s.lagged = false;
                    s.next_seq = Some(batch.first_seq + batch.lines.len() as u64);
                    let lines = s.take(&batch);
                    let mut out = Vec::with_capacity(2);
                    if skipped > 0 {
                        out.push(Ok(LogItem::Skipped(skipped)));
                    }
                    if !lines.is_empty() {
                        out.push(Ok(LogItem::Lines(lines)));
                    }
                    if !out.is_empty() {
                        return Some((out, s));
                    }
                }
                Ok(LogMessage::End(end)) => {
                    s.done = true;
                    return Some((vec![Ok(LogItem::End(end))], s));
                }
                Err(broadcast::error::RecvError::Lagged(_)) => s.lagged = true,
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    })
    .flat_map(stream::iter)
}

struct Follower {
    rx: broadcast::Receiver<LogMessage>,
    query: Arc<LogQuery>,
    joint: Arc<std::sync::Mutex<Joint>>,
    next_seq: Option<u64>,
    lagged: bool,
    done: bool,
}

impl Follower {
    /// The batch's lines this viewer shows: its streams, not already in its history, matching
    /// its search. The whole batch (shared, not copied) when every line passes.
    fn take(&self, batch: &Arc<LogBatch>) -> LogLines {
        let mut joint = self
            .joint
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let past_history = |l: &Arc<LogLine>| match (joint.last, l.nanos) {
            (Some(last), Some(n)) => n > last || (n == last && joint.at_last == 0),
            _ => true,
        };
        if self.query.stdout
            && self.query.stderr
            && self.query.search.is_none()
            && batch.lines.iter().all(past_history)
        {
            return LogLines(Repr::Shared(batch.clone()));
        }
        batch
            .lines
            .iter()
            .filter(|l| self.query.wants(l.stream))
            .filter(|l| match (joint.last, l.nanos) {
                (Some(last), Some(n)) if n < last => false,
                (Some(last), Some(n)) if n == last && joint.at_last > 0 => {
                    joint.at_last -= 1;
                    false
                }
                _ => true,
            })
            .filter(|l| self.query.shows(l))
            .cloned()
            .collect::<Vec<_>>()
            .into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_keep_their_text_and_split_off_the_engine_timestamp() {
        let ts = "2026-11-28T11:50:00.123456789Z";
        let line = make_line(
            LogStream::Stdout,
            format!("{ts} hello world\r").into_bytes(),
            true,
        );
        assert_eq!(
            (line.ts.as_deref(), line.text.as_str()),
            (Some(ts), "hello world")
        );
        assert!(line.nanos.is_some());
        let bare = make_line(LogStream::Stderr, ts.as_bytes().to_vec(), true);
        assert_eq!((bare.ts.as_deref(), bare.text.as_str()), (Some(ts), ""));
        let unstamped = make_line(LogStream::Stdout, b"not-a-time text".to_vec(), true);
        assert_eq!(
            (unstamped.ts, unstamped.text.as_str()),
            (None, "not-a-time text")
        );
        let plain = make_line(LogStream::Stdout, format!("{ts} x").into_bytes(), false);
        assert_eq!(plain.text, format!("{ts} x"));
        let lossy = make_line(LogStream::Stdout, b"a\xffb".to_vec(), false);
        assert_eq!(lossy.text, "a\u{fffd}b");
    }
}
