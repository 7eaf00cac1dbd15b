//! Telling open streams that someone's access may have shrunk.
//!
//! A terminal or a followed log is authorized once, when it opens. Whenever a change could
//! take access away from a user (a grant removed or lowered, a team membership or team gone,
//! the user disabled, deleted, demoted, a password changed, a token revoked) the accounts and
//! teams services call [`Revocations::revoke`] for that user; every stream the user has open
//! holds a token from [`Revocations::watch`], wakes up, checks again and ends if the access is
//! gone. The services do this themselves (through [`crate::store::Store::revoke`], which also
//! tells the other replicas on a shared PostgreSQL), so neither REST handlers nor server fns
//! have to remember it. Expiry (sessions, tokens) is caught by the streams' periodic re-check.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

/// Per user, the token its open streams watch. Cheap to clone; shared by every clone.
#[derive(Clone, Default)]
pub struct Revocations {
    users: Arc<Mutex<HashMap<i64, CancellationToken>>>,
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let watched = self.users.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("Revocations")
            .field("watched_users", &watched)
            .finish()
    }
}

impl Revocations {
    pub fn new() -> Self {
        Self::default()
    }

    /// A token cancelled at the next change that may shrink `user_id`'s access. Take it
    /// before checking access, so a change between the check and the watch is not missed.
    pub fn watch(&self, user_id: i64) -> CancellationToken {
        let Ok(mut users) = self.users.lock() else {
            // A poisoned map cannot hand out tokens that will ever fire: end at once instead.
            let token = CancellationToken::new();
            token.cancel();
            return token;
        };
        // One entry per user who ever watched: bounded by the users table.
        users.entry(user_id).or_default().child_token()
    }

    /// Wakes every stream `user_id` has open; later watchers get a fresh token.
    pub fn revoke(&self, user_id: i64) {
        let token = self
            .users
            .lock()
            .ok()
            .and_then(|mut users| users.remove(&user_id));
        if let Some(token) = token {
            token.cancel();
        }
    }

    pub fn revoke_many(&self, user_ids: impl IntoIterator<Item = i64>) {
        for id in user_ids {
            self.revoke(id);
        }
    }

    /// Wakes every open stream (each checks its access again): for when changes may have been
    /// missed, e.g. while the connection that hears other replicas was down.
    pub fn revoke_all(&self) {
        let all: Vec<CancellationToken> = self
            .users
            .lock()
            .map(|mut users| users.drain().map(|(_, t)| t).collect())
            .unwrap_or_default();
        for token in all {
            token.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoking_wakes_only_that_users_watchers_and_later_watches_start_fresh() {
        let r = Revocations::new();
        let a1 = r.watch(1);
        let a2 = r.watch(1);
        let b = r.watch(2);
        r.revoke(1);
        assert!(a1.is_cancelled() && a2.is_cancelled());
        assert!(!b.is_cancelled());
        let again = r.watch(1);
        assert!(!again.is_cancelled());
        r.revoke_many([2, 3]);
        assert!(b.is_cancelled() && !again.is_cancelled());
    }
}
