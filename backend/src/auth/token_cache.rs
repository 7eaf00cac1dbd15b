//! The principals of API tokens in use, kept so that a script's burst of requests does not ask
//! SQLite who it is on every request (each question is a round trip through the store's worker
//! threads: on two busy cores, a good part of a millisecond; docs/performance.md).
//!
//! An entry counts only while all of these hold:
//! - nothing that can change a principal has been committed since it was read: the store's
//!   access generation, read *before* the token's row, still has the same value
//!   ([`crate::store::Store::access_changed`] is called after every such commit, so a change
//!   that lands while a row is being read leaves that row already stale);
//! - the token has not expired (its expiry is kept with the entry);
//! - it was read less than [`TTL`] ago. This bounds what no in-process change can announce:
//!   an edit of the database by another program. It also keeps a token's "last used" time
//!   within a minute and [`TTL`] of the truth, since that is written on the uncached path.
//!
//! Unknown, expired or disabled tokens are never kept, so guessing costs a lookup each time.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::policy::Principal;

/// How long an entry counts at most.
pub const TTL: Duration = Duration::from_secs(10);
/// Entries kept at most; past that, stale entries go, then all of them.
const MAX_ENTRIES: usize = 4096;

/// A token's SHA-256, as the store keeps it.
pub type TokenHash = [u8; 32];

struct Entry {
    principal: Principal,
    generation: u64,
    read_at: Instant,
    expires_at: Option<i64>,
}

impl Entry {
    fn counts(&self, generation: u64, now: i64, at: Instant) -> bool {
        self.generation == generation
            && at.saturating_duration_since(self.read_at) < TTL
            && self.expires_at.is_none_or(|exp| now < exp)
    }
}

#[derive(Default)]
pub struct TokenCache {
    entries: Mutex<HashMap<TokenHash, Entry>>,
}

impl std::fmt::Debug for TokenCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let n = self.entries.lock().map(|m| m.len()).unwrap_or(0);
        f.debug_struct("TokenCache").field("entries", &n).finish()
    }
}

impl TokenCache {
    /// The principal of the token, if it was read at access generation `generation` (the
    /// current one), less than [`TTL`] ago, and the token has not expired by `now` (unix s).
    pub fn get(&self, hash: &TokenHash, generation: u64, now: i64) -> Option<Principal> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(hash)?;
        entry
            .counts(generation, now, Instant::now())
            .then(|| entry.principal.clone())
    }

    /// Keeps a principal read while the access generation was `generation`.
    pub fn put(
        &self,
        hash: TokenHash,
        principal: Principal,
        generation: u64,
        expires_at: Option<i64>,
        now: i64,
    ) {
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        let at = Instant::now();
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.counts(generation, now, at));
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(
            hash,
            Entry {
                principal,
                generation,
                read_at: at,
                expires_at,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn who() -> Principal {
        Principal {
            user_id: 7,
            username: "dev".into(),
            admin: false,
            roles: Default::default(),
        }
    }

    #[test]
    fn an_entry_counts_only_in_its_generation_and_before_expiry() {
        let cache = TokenCache::default();
        cache.put([1; 32], who(), 3, Some(1_000), 500);
        assert_eq!(cache.get(&[1; 32], 3, 999).map(|p| p.user_id), Some(7));
        assert!(
            cache.get(&[1; 32], 4, 999).is_none(),
            "a change since it was read"
        );
        assert!(cache.get(&[1; 32], 3, 1_000).is_none(), "expired");
        assert!(cache.get(&[2; 32], 3, 999).is_none(), "another token");
    }

    #[test]
    fn a_full_cache_keeps_only_what_still_counts() {
        let cache = TokenCache::default();
        for i in 0..MAX_ENTRIES {
            let mut hash = [0; 32];
            hash[..8].copy_from_slice(&(i as u64).to_le_bytes());
            cache.put(hash, who(), 1, None, 0);
        }
        cache.put([9; 32], who(), 2, None, 0);
        let len = cache.entries.lock().map(|m| m.len()).unwrap_or(0);
        assert_eq!(len, 1, "entries of an older generation went");
    }
}
