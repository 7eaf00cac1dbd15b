//! The container lifecycle as buttons call it (the list's and the container page's): the
//! actions, who may do them, and their server fns.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::RoleView;

/// A host the caller may see, with what the list needs to know about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostChoice {
    pub slug: String,
    pub name: String,
    pub role: RoleView,
    /// Where the host's published ports are reachable from the browser: the engine URL's host
    /// for `tcp://` engines, the address the browser used for Capstan for local sockets.
    pub address: Option<String>,
}

/// What a lifecycle button does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Lifecycle {
    Start,
    Stop,
    Restart,
    Kill,
    Pause,
    Unpause,
    Remove,
}

impl Lifecycle {
    /// The past tense for outcome messages ("Stopped web-1").
    pub fn done(self) -> &'static str {
        match self {
            Lifecycle::Start => "Started",
            Lifecycle::Stop => "Stopped",
            Lifecycle::Restart => "Restarted",
            Lifecycle::Kill => "Killed",
            Lifecycle::Pause => "Paused",
            Lifecycle::Unpause => "Unpaused",
            Lifecycle::Remove => "Removed",
        }
    }

    /// The least role that may do it, as api.md's table says (the server decides; the page only
    /// hides buttons that would be refused).
    pub fn needs(self) -> RoleView {
        match self {
            Lifecycle::Remove => RoleView::Manager,
            _ => RoleView::Operator,
        }
    }
}

/// Does one lifecycle action on one container through its use case.
#[cfg(feature = "ssr")]
pub(crate) async fn apply(
    c: &backend::ops::Caller,
    (host, id): (&str, &str),
    action: Lifecycle,
    signal: Option<&str>,
    (force, volumes): (bool, bool),
) -> backend::Result<()> {
    let ops =
        crate::ssr::ops().map_err(|_| backend::Error::Internal("no fleet in context".into()))?;
    match action.use_case(signal) {
        None => ops.remove_container(c, host, id, force, volumes).await,
        Some(act) => ops.lifecycle(c, host, id, &act).await,
    }
}

#[cfg(feature = "ssr")]
impl Lifecycle {
    /// The use case a button calls: a lifecycle one, or `None` for remove.
    pub(crate) fn use_case(
        self,
        signal: Option<&str>,
    ) -> Option<backend::ops::containers::Lifecycle> {
        use backend::ops::containers::Lifecycle as L;
        Some(match self {
            Lifecycle::Remove => return None,
            Lifecycle::Start => L::Start,
            Lifecycle::Stop => L::Stop(None),
            Lifecycle::Restart => L::Restart(None),
            Lifecycle::Kill => L::Kill(signal.map(str::to_owned)),
            Lifecycle::Pause => L::Pause,
            Lifecycle::Unpause => L::Unpause,
        })
    }

    /// The operation behind the button, whose needs the page mirrors in [`Lifecycle::needs`].
    #[cfg(test)]
    pub(crate) fn op(self) -> &'static backend::ops::Op {
        match self.use_case(None) {
            Some(act) => act.op(),
            None => &backend::ops::containers::REMOVE,
        }
    }
}

/// One lifecycle action on one container (the detail page's buttons).
#[server(output = crate::codec::TextJson)]
pub async fn container_action(
    host: String,
    id: String,
    action: Lifecycle,
    signal: Option<String>,
) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    apply(&c, (&host, &id), action, signal.as_deref(), (false, false)).await?;
    tracing::info!(by = %c.who.username, host, container = %id, ?action, "container action");
    Ok(())
}

/// Removes one container, with `docker rm`'s `--force` and `--volumes`.
#[server(output = crate::codec::TextJson)]
pub async fn remove_container(
    host: String,
    id: String,
    force: bool,
    volumes: bool,
) -> Result<(), AppError> {
    let c = crate::ssr::caller()?;
    apply(&c, (&host, &id), Lifecycle::Remove, None, (force, volumes)).await?;
    tracing::info!(by = %c.who.username, host, container = %id, force, volumes, "container removed");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page hides the buttons the server would refuse: what it hides must be what the
    /// operations need, from the one table in `backend::ops`.
    #[cfg(feature = "ssr")]
    #[test]
    fn buttons_need_what_their_operations_need() {
        for action in [
            Lifecycle::Start,
            Lifecycle::Stop,
            Lifecycle::Restart,
            Lifecycle::Kill,
            Lifecycle::Pause,
            Lifecycle::Unpause,
            Lifecycle::Remove,
        ] {
            assert_eq!(
                Some(action.needs()),
                action
                    .op()
                    .host_action()
                    .map(|a| RoleView::from(a.required_role())),
                "{action:?}"
            );
        }
    }
}
