//! The HTTP listener: a manual accept loop over hyper's HTTP/1 connections (what axum::serve
//! does, plus the limits it does not offer), so a slow or idle client cannot hold the server:
//!
//! - header read: a request's head must arrive within `header_read` of its first byte (the
//!   first request of a connection: of the connection's start), else the connection is closed;
//! - idle: a keep-alive connection with no request for `idle` is closed;
//! - connections: at most `max_connections` at once, upgraded WebSockets included; beyond that
//!   new connections wait in the kernel's backlog until one ends.
//!
//! hyper's own `header_read_timeout` is not used: it starts when a connection begins waiting for
//! a head, keep-alive waits included, so it would also be the idle timeout. A watchdog per
//! connection judges instead, from when bytes moved and whether a request is being answered;
//! while one is, the handler's own deadlines apply (streams can be quiet for minutes).
//!
//! Shutdown: `shutdown` stops the accepting, every connection is asked to finish gracefully
//! (idle ones close at once, answers in progress complete; streams end on the app's
//! cancellation token), and `serve` returns when the last connection has ended.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::Router;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tower::ServiceExt;

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_read: Duration,
    pub idle: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            max_connections: 1024,
        }
    }
}

/// Serves `app` on `listener` until `shutdown` completes, then drains the connections.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send,
) -> io::Result<()> {
    let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
    let slots = Arc::new(Semaphore::new(max));
    let (closing, closed) = tokio::sync::watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = slots.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let (tcp, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) if is_per_connection(&e) => continue,
                Err(e) => {
                    // Out of file descriptors and the like: wait rather than spin.
                    tracing::error!(error = %e, "accepting a connection");
                    tokio::select! {
                        () = &mut shutdown => break,
                        () = tokio::time::sleep(Duration::from_secs(1)) => continue,
                    }
                }
            },
        };
        // Small answers and SSE events go out at once, not after the peer's delayed ACK (~40 ms).
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY on a connection");
        }
        tokio::spawn(connection(
            tcp,
            peer,
            app.clone(),
            limits,
            permit,
            closed.clone(),
        ));
    }
    drop(listener);
    let _ = closing.send(true);
    // Every connection (and upgraded WebSocket) holds a slot until it ends.
    let all = u32::try_from(max).unwrap_or(u32::MAX);
    let _drained = slots.acquire_many(all).await;
    Ok(())
}

/// Errors of one connection that say nothing about the listener.
fn is_per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: Limits,
    slot: OwnedSemaphorePermit,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    let activity = Arc::new(Activity::new());
    let io = Io {
        inner: tcp,
        activity: activity.clone(),
        _slot: slot,
    };
    let service = ConnService {
        app,
        peer,
        activity: activity.clone(),
    };
    let conn = hyper::server::conn::http1::Builder::new()
        .keep_alive(true)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(conn);
    let mut draining = false;
    let mut check = Instant::now() + limits.header_read.min(limits.idle);
    loop {
        tokio::select! {
            done = conn.as_mut() => {
                if let Err(e) = done {
                    tracing::debug!(client = %peer, error = %e, "connection ended");
                }
                return;
            }
            changed = closing.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    conn.as_mut().graceful_shutdown();
                }
            }
            () = tokio::time::sleep_until(check) => {
                let now = Instant::now();
                match activity.deadline(&limits) {
                    Some(deadline) if deadline <= now => {
                        // Nothing is being answered: dropping the connection loses nothing.
                        tracing::debug!(client = %peer, "closing a slow or idle connection");
                        return;
                    }
                    Some(deadline) => check = deadline,
                    None => check = now + limits.header_read.min(limits.idle),
                }
            }
        }
    }
}

/// What a connection's watchdog needs to know, written by the socket and the service.
struct Activity {
    start: Instant,
    /// Requests whose answer is not over yet.
    in_flight: AtomicUsize,
    /// Requests answered (or started) on this connection.
    requests: AtomicUsize,
    /// Milliseconds since `start`: the last byte moved either way; the first byte read since the
    /// connection last went idle (0: none); when it last went idle.
    last_io: AtomicU64,
    head_started: AtomicU64,
    idle_since: AtomicU64,
}

impl Activity {
    fn new() -> Activity {
        Activity {
            start: Instant::now(),
            in_flight: AtomicUsize::new(0),
            requests: AtomicUsize::new(0),
            last_io: AtomicU64::new(0),
            head_started: AtomicU64::new(0),
            idle_since: AtomicU64::new(0),
        }
    }

    fn now_ms(&self) -> u64 {
        // At least 1, so 0 can mean "never".
        u64::try_from(self.start.elapsed().as_millis())
            .unwrap_or(u64::MAX)
            .max(1)
    }

    fn at(&self, ms: u64) -> Instant {
        self.start + Duration::from_millis(ms)
    }

    fn read(&self) {
        let now = self.now_ms();
        self.last_io.store(now, Ordering::Relaxed);
        let _ = self
            .head_started
            .compare_exchange(0, now, Ordering::Relaxed, Ordering::Relaxed);
    }

    fn wrote(&self) {
        self.last_io.store(self.now_ms(), Ordering::Relaxed);
    }

    fn request_started(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        self.in_flight.fetch_add(1, Ordering::AcqRel);
    }

    fn request_ended(&self) {
        let now = self.now_ms();
        self.idle_since.store(now, Ordering::Relaxed);
        self.head_started.store(0, Ordering::Relaxed);
        self.in_flight.fetch_sub(1, Ordering::AcqRel);
    }

    /// When the connection is to be closed if nothing changes; `None` while answering.
    fn deadline(&self, limits: &Limits) -> Option<Instant> {
        if self.in_flight.load(Ordering::Acquire) > 0 {
            return None;
        }
        if self.requests.load(Ordering::Relaxed) == 0 {
            return Some(self.start + limits.header_read);
        }
        match self.head_started.load(Ordering::Relaxed) {
            0 => {
                let quiet = self
                    .idle_since
                    .load(Ordering::Relaxed)
                    .max(self.last_io.load(Ordering::Relaxed));
                Some(self.at(quiet) + limits.idle)
            }
            started => Some(self.at(started) + limits.header_read),
        }
    }
}

/// The socket, noting when bytes move; it holds the connection's slot, and keeps holding it
/// after an upgrade (the WebSocket owns the socket then).
struct Io {
    inner: TcpStream,
    activity: Arc<Activity>,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Io {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.read();
        }
        polled
    }
}

impl AsyncWrite for Io {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, data);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        polled
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            this.activity.wrote();
        }
        polled
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// The router for one connection: it learns the peer (`ConnectInfo`, as axum's
/// `into_make_service_with_connect_info` gives it) and counts a request as in flight until its
/// answer's body is over or dropped.
#[derive(Clone)]
struct ConnService {
    app: Router,
    peer: SocketAddr,
    activity: Arc<Activity>,
}

impl hyper::service::Service<Request<Incoming>> for ConnService {
    type Response = Response<Tracked>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn call(&self, mut req: Request<Incoming>) -> Self::Future {
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let guard = InFlight::new(self.activity.clone());
        let app = self.app.clone();
        Box::pin(async move {
            let res = app.oneshot(req.map(axum::body::Body::new)).await?;
            Ok(res.map(|body| Tracked {
                body,
                guard: Some(guard),
            }))
        })
    }
}

struct InFlight(Arc<Activity>);

impl InFlight {
    fn new(activity: Arc<Activity>) -> InFlight {
        activity.request_started();
        InFlight(activity)
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.request_ended();
    }
}

/// An answer's body that ends its request's time in flight when it ends.
struct Tracked {
    body: axum::body::Body,
    guard: Option<InFlight>,
}

impl HttpBody for Tracked {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.body).poll_frame(cx);
        if matches!(polled, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            this.guard = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}
