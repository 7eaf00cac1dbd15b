//! `GET /api/v1/hosts/{host}/containers/{id}/exec?cmd=&cols=&rows=`: a terminal over a
//! WebSocket. Before the upgrade: who is asking (401), ManageContainers on the host (404/403),
//! the `Origin` (a page of another site → 403), the query (422 naming the field) and the
//! container (404). After it:
//! - server → client: binary frames are the terminal's output; text frames are JSON:
//!   `{"type":"error","message":…}` (e.g. the shell is missing) and, when the command ends,
//!   `{"type":"exit","code":N}` (null when unknown) before a normal close.
//! - client → server: binary or text frames are keystrokes, except a text frame that is
//!   exactly `{"resize":{"cols":N,"rows":N}}`, which resizes the terminal.
//! - Closing the socket ends the session (the engine closes the shell's terminal); server
//!   shutdown closes it with 1001; losing the right to it (a grant lowered or removed, the
//!   user disabled, signed out, …; see `live`) closes it with 1008 "access changed".
//! - A client that stops reading never holds the server: output waits for it only until
//!   shutdown or a change of access, and the last frames get a short grace.
//!
//! The audit middleware records the session's opening (`container.exec`); its end is recorded
//! here as `container.exec.close` with how long it lasted and how it ended.

use super::Params;
use crate::http::{ApiError, ErrorResponse};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::json;
use tokio::io::AsyncWriteExt;
use tokio_util::sync::CancellationToken;

use backend::audit::{Audit, Outcome, Record};
use backend::engine::Engine;
use backend::live::{start_terminal, terminal_size, ExecParams, ExecRequest};
use backend::ops::live::ExecTarget;
use backend::policy::HostAction;

use super::live::{AccessWatch, Proof, ACCESS_CHANGED};
use crate::http::auth::Caller;
use crate::state::AppState;

#[derive(Deserialize)]
struct Resize {
    resize: Size,
}

#[derive(Deserialize)]
struct Size {
    cols: u32,
    rows: u32,
}

/// A browser's `Origin` must name this server (the `Host` it was asked by). Clients that are
/// not browsers send no `Origin` and carry no ambient cookie risk.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let Ok(origin) = origin.to_str() else {
        return false;
    };
    let authority = origin
        .split_once("://")
        .map_or("", |(_, rest)| rest.trim_end_matches('/'));
    !authority.is_empty() && authority.eq_ignore_ascii_case(host)
}

// Each extractor is one thing the gate or the audit needs; bundling them would only hide that.
#[allow(clippy::too_many_arguments)]
#[utoipa::path(
    get,
    path = "/hosts/{host}/containers/{id}/exec",
    operation_id = "live_exec.exec",
    tag = "live",
    summary = "WebSocket terminal (manager; same-origin): binary frames are the tty; text {\"resize\":{\"cols\",\"rows\"}}; the server ends with {\"type\":\"exit\",\"code\"}; 409 before the upgrade when the container is not running or is paused; closes with 1008 \"access changed\" when the caller's access is revoked (audited as container.exec.close)",
    params(("host" = String, Path, description = "the host's slug"), ("id" = String, Path, description = "the object's id or name"), ExecParams),
    responses(
        (status = 101, description = "ok"),
        (status = 409, description = "the container is not running, or is paused", body = ErrorResponse),
        (status = 422, description = "cmd not an allowed shell", body = ErrorResponse),
    ),
)]
pub async fn exec(
    State(state): State<AppState>,
    Caller(c): Caller,
    proof: Proof,
    Path((host, id)): Path<(String, String)>,
    client: Result<ConnectInfo<SocketAddr>, axum::extract::rejection::ExtensionRejection>,
    headers: HeaderMap,
    Params(params): Params<ExecParams>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    if !same_origin(&headers) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "cross_origin",
            "a terminal can only be opened from Capstan's own pages",
        ));
    }
    let request = ExecRequest::parse(&params)?;
    // One inspect: it finds the container (404), refuses one not running (409, before the
    // upgrade, so the client gets an ordinary answer) and names the container for the exec.
    let ExecTarget { engine, detail } = state.ops().exec(&c, (&host, &id), &request.shell).await?;
    let upgrade = upgrade.map_err(|e| {
        ApiError::new(
            e.status(),
            "websocket_required",
            "this endpoint speaks WebSocket; send an upgrade request",
        )
    })?;
    let shutdown = state.shutdown.clone();
    let who = c.who;
    let watch = AccessWatch::start(
        &state,
        who.user_id,
        proof,
        vec![host.clone()],
        HostAction::ManageContainers,
    );
    tracing::info!(user = %who.username, %host, container = %detail.id, shell = %request.shell, "terminal opened");
    let close = CloseRecord {
        audit: state.audit.clone(),
        user_id: who.user_id,
        username: who.username,
        client: client.ok().map(|ConnectInfo(a)| a.ip().to_string()),
        host,
        // The id or name as asked, like the opening row's object, so both rows match a filter.
        object: id,
        shell: request.shell.clone(),
    };
    Ok(upgrade
        .max_message_size(1024 * 1024)
        .on_upgrade(move |socket| async move {
            let started = Instant::now();
            let ended = terminal(socket, engine, detail.id, request, shutdown, &watch.lost).await;
            drop(watch);
            close.record(&ended, started.elapsed()).await;
        })
        .into_response())
}

/// How a terminal session ended, for the audit log.
enum Ended {
    /// The command ended by itself, with its exit code when the engine knew it.
    Exited(Option<i64>),
    /// The browser closed the socket (or it broke).
    ClientClosed,
    /// The server is shutting down.
    Shutdown,
    /// The person's access changed so that the terminal is no longer theirs to use.
    AccessChanged,
    /// The shell could not be started.
    NotStarted,
    /// The engine's stream failed.
    EngineError,
}

/// What the closing audit row needs, taken before the upgrade.
struct CloseRecord {
    audit: Audit,
    user_id: i64,
    username: String,
    client: Option<String>,
    host: String,
    object: String,
    shell: String,
}

impl CloseRecord {
    async fn record(self, ended: &Ended, lasted: Duration) {
        let (how, code, outcome) = match ended {
            Ended::Exited(code) => ("exited", *code, Outcome::Ok),
            Ended::ClientClosed => ("client_closed", None, Outcome::Ok),
            Ended::Shutdown => ("server_shutdown", None, Outcome::Ok),
            Ended::AccessChanged => ("access_changed", None, Outcome::Ok),
            Ended::NotStarted => ("not_started", None, Outcome::Failed),
            Ended::EngineError => ("engine_error", None, Outcome::Failed),
        };
        self.audit
            .record(Record {
                at: backend::store::now(),
                user_id: Some(self.user_id),
                username: Some(self.username),
                client: self.client,
                host: Some(self.host),
                object: Some(self.object),
                action: "container.exec.close".into(),
                params: json!({
                    "shell": self.shell,
                    "ended": how,
                    "exit_code": code,
                    "duration_secs": lasted.as_secs(),
                }),
                // The socket's close code: 1000 normal, 1001 going away, 1008 access changed, 1011 an error.
                status: match ended {
                    Ended::Shutdown => close_code::AWAY,
                    Ended::AccessChanged => close_code::POLICY,
                    Ended::NotStarted | Ended::Exited(_) | Ended::ClientClosed => {
                        close_code::NORMAL
                    }
                    Ended::EngineError => close_code::ERROR,
                },
                outcome,
            })
            .await;
    }
}

fn json_frame(value: &serde_json::Value) -> Message {
    Message::Text(value.to_string().into())
}

/// How long a last frame (an error, the exit code, the close) may wait for a client that is
/// not reading: the session is over either way.
const LAST_FRAME_GRACE: Duration = Duration::from_secs(2);

/// Sends a frame at the end of a session, giving up after [`LAST_FRAME_GRACE`].
async fn send_last(socket: &mut (impl SinkExt<Message> + Unpin), message: Message) {
    let _ = tokio::time::timeout(LAST_FRAME_GRACE, socket.send(message)).await;
}

async fn close(socket: &mut (impl SinkExt<Message> + Unpin), code: u16, reason: &'static str) {
    let frame = CloseFrame {
        code,
        reason: reason.into(),
    };
    send_last(socket, Message::Close(Some(frame))).await;
}

async fn terminal(
    socket: WebSocket,
    engine: Engine,
    id: String,
    request: ExecRequest,
    shutdown: CancellationToken,
    lost: &CancellationToken,
) -> Ended {
    let (mut tx, mut rx) = socket.split();
    let session = match start_terminal(&engine, &id, &request).await {
        Ok(session) => session,
        Err(e) => {
            if matches!(
                e,
                backend::Error::Internal(_) | backend::Error::Engine { .. }
            ) {
                tracing::warn!(error = %e.log_detail(), "starting a terminal");
            }
            let message = match &e {
                backend::Error::Invalid { message, .. } => message.clone(),
                other => other.public_message(),
            };
            send_last(
                &mut tx,
                json_frame(&json!({ "type": "error", "message": message })),
            )
            .await;
            close(&mut tx, close_code::NORMAL, "").await;
            return Ended::NotStarted;
        }
    };
    let exec_id = session.exec_id;
    let mut output = session.output;
    let mut input = session.input;
    let ended = loop {
        tokio::select! {
            () = shutdown.cancelled() => {
                close(&mut tx, close_code::AWAY, "the server is shutting down").await;
                break Ended::Shutdown;
            }
            () = lost.cancelled() => {
                close(&mut tx, close_code::POLICY, ACCESS_CHANGED).await;
                break Ended::AccessChanged;
            }
            out = output.next() => match out {
                Some(Ok(bytes)) => {
                    // A client that stops reading makes this wait: shutdown and a change of
                    // access still end the session at once.
                    let stopped = tokio::select! {
                        sent = tx.send(Message::Binary(bytes)) => sent.is_err().then_some(Ended::ClientClosed),
                        () = shutdown.cancelled() => Some(Ended::Shutdown),
                        () = lost.cancelled() => Some(Ended::AccessChanged),
                    };
                    match stopped {
                        None => {}
                        Some(Ended::Shutdown) => {
                            close(&mut tx, close_code::AWAY, "the server is shutting down").await;
                            break Ended::Shutdown;
                        }
                        Some(Ended::AccessChanged) => {
                            close(&mut tx, close_code::POLICY, ACCESS_CHANGED).await;
                            break Ended::AccessChanged;
                        }
                        Some(other) => break other,
                    }
                }
                Some(Err(e)) => {
                    tracing::warn!(error = %e.log_detail(), "terminal output");
                    send_last(&mut tx, json_frame(&json!({ "type": "error", "message": e.public_message() }))).await;
                    close(&mut tx, close_code::ERROR, "").await;
                    break Ended::EngineError;
                }
                None => {
                    let code = exit_code(&engine, &exec_id).await;
                    send_last(&mut tx, json_frame(&json!({ "type": "exit", "code": code }))).await;
                    close(&mut tx, close_code::NORMAL, "").await;
                    break Ended::Exited(code);
                }
            },
            msg = rx.next() => match msg {
                Some(Ok(Message::Binary(bytes))) => {
                    if input.write_all(&bytes).await.is_err() || input.flush().await.is_err() {
                        break Ended::EngineError;
                    }
                }
                Some(Ok(Message::Text(text))) => {
                    if let Ok(Resize { resize }) = serde_json::from_str::<Resize>(text.as_str()) {
                        let size = (
                            terminal_size("cols", Some(&resize.cols.to_string()), 80),
                            terminal_size("rows", Some(&resize.rows.to_string()), 24),
                        );
                        match size {
                            (Ok(cols), Ok(rows)) => {
                                if let Err(e) = engine.exec_resize(&exec_id, cols, rows).await {
                                    tracing::debug!(error = %e.log_detail(), "terminal resize");
                                }
                            }
                            (Err(e), _) | (_, Err(e)) => {
                                send_last(&mut tx, json_frame(&json!({ "type": "error", "message": e.public_message() }))).await;
                            }
                        }
                    } else if input.write_all(text.as_bytes()).await.is_err() || input.flush().await.is_err() {
                        break Ended::EngineError;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => break Ended::ClientClosed,
                Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            },
        }
    };
    let _ = input.shutdown().await;
    ended
}

/// The command's exit code: the engine may report it a moment after the output ends.
async fn exit_code(engine: &Engine, exec_id: &str) -> Option<i64> {
    for _ in 0..20 {
        match engine.exec_state(exec_id).await {
            Ok(state) if !state.running => return state.exit_code,
            Ok(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            Err(e) => {
                tracing::debug!(error = %e.log_detail(), "exec inspect");
                return None;
            }
        }
    }
    None
}
