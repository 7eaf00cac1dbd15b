//! A terminal in a container: which commands may be started and the checks before starting.

use serde::Deserialize;

use crate::engine::{ContainerDetail, Engine, ExecSession};
use crate::error::{Error, Result};

/// The shells a terminal may start.
pub const SHELLS: [&str; 3] = ["/bin/sh", "/bin/bash", "/bin/ash"];
pub const DEFAULT_SHELL: &str = "/bin/sh";

/// The query string of the exec endpoint, as sent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExecParams {
    pub cmd: Option<String>,
    pub cols: Option<String>,
    pub rows: Option<String>,
}

/// A terminal request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub shell: String,
    pub cols: u16,
    pub rows: u16,
}

/// A terminal size: 1 to 1000 columns or rows.
pub fn terminal_size(field: &str, value: Option<&str>, default: u16) -> Result<u16> {
    match value.map(str::trim) {
        None | Some("") => Ok(default),
        Some(v) => v
            .parse::<u16>()
            .ok()
            .filter(|n| (1..=1000).contains(n))
            .ok_or_else(|| Error::invalid(field, "must be a whole number from 1 to 1000")),
    }
}

impl ExecRequest {
    pub fn parse(p: &ExecParams) -> Result<ExecRequest> {
        let shell = match p.cmd.as_deref().map(str::trim) {
            None | Some("") => DEFAULT_SHELL.to_owned(),
            Some(cmd) if SHELLS.contains(&cmd) => cmd.to_owned(),
            Some(_) => {
                return Err(Error::invalid(
                    "cmd",
                    format!("choose one of {}", SHELLS.join(", ")),
                ))
            }
        };
        Ok(ExecRequest {
            shell,
            cols: terminal_size("cols", p.cols.as_deref(), 80)?,
            rows: terminal_size("rows", p.rows.as_deref(), 24)?,
        })
    }
}

/// Whether a terminal may be opened in a container as inspected: it must be running and not
/// paused. Asked before a WebSocket upgrade, so the refusal is an ordinary 409.
pub fn can_open_terminal(detail: &ContainerDetail) -> Result<()> {
    if !detail.running || detail.paused {
        return Err(Error::Conflict(
            "the container is not running; start it to open a terminal".into(),
        ));
    }
    Ok(())
}

/// Starts the shell in the container `container_id` (its full id, from the inspect that
/// [`can_open_terminal`] judged). A shell the container lacks is `Invalid("cmd")` with a
/// message to show.
pub async fn start_terminal(
    engine: &Engine,
    container_id: &str,
    req: &ExecRequest,
) -> Result<ExecSession> {
    if !engine
        .container_path_exists(container_id, &req.shell)
        .await?
    {
        return Err(Error::invalid(
            "cmd",
            format!("{} is not available in this container", req.shell),
        ));
    }
    engine
        .exec_tty(
            container_id,
            std::slice::from_ref(&req.shell),
            req.cols,
            req.rows,
        )
        .await
}
