//! Login throttling per client address and per username: 5 failures within a minute lock the
//! key; each further lock doubles (1 min, 2 min, 4 min … up to an hour). A success clears the
//! username's record. Kept in memory: a restart forgets, which only ever helps the user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const MAX_FAILURES: usize = 5;
const WINDOW: Duration = Duration::from_secs(60);
const FIRST_LOCK: Duration = Duration::from_secs(60);
const MAX_LOCK: Duration = Duration::from_secs(3600);
/// Entries idle this long are dropped, so the map cannot grow without bound.
const FORGET_AFTER: Duration = Duration::from_secs(2 * 3600);

#[derive(Debug, Default)]
struct Entry {
    failures: Vec<Instant>,
    strikes: u32,
    locked_until: Option<Instant>,
    last_seen: Option<Instant>,
}

#[derive(Debug, Default)]
pub struct LoginLimiter {
    entries: Mutex<HashMap<String, Entry>>,
}

impl LoginLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// `Err(retry_after)` when any of the keys is locked now.
    pub fn check(&self, keys: &[String]) -> Result<(), Duration> {
        self.check_at(keys, Instant::now())
    }

    pub fn record_failure(&self, keys: &[String]) {
        self.record_failure_at(keys, Instant::now())
    }

    pub fn record_success(&self, key: &str) {
        if let Ok(mut map) = self.entries.lock() {
            map.remove(key);
        }
    }

    fn check_at(&self, keys: &[String], now: Instant) -> Result<(), Duration> {
        let Ok(map) = self.entries.lock() else { return Ok(()) };
        let wait = keys
            .iter()
            .filter_map(|k| map.get(k)?.locked_until)
            .filter(|until| *until > now)
            .map(|until| until - now)
            .max();
        match wait {
            Some(w) => Err(w.max(Duration::from_secs(1))),
            None => Ok(()),
        }
    }

    fn record_failure_at(&self, keys: &[String], now: Instant) {
        let Ok(mut map) = self.entries.lock() else { return };
        map.retain(|_, e| e.last_seen.is_some_and(|t| now.duration_since(t) < FORGET_AFTER));
        for key in keys {
            let e = map.entry(key.clone()).or_default();
            e.last_seen = Some(now);
            e.failures.retain(|t| now.duration_since(*t) < WINDOW);
            e.failures.push(now);
            if e.failures.len() >= MAX_FAILURES {
                let lock = FIRST_LOCK.saturating_mul(1 << e.strikes.min(6)).min(MAX_LOCK);
                e.locked_until = Some(now + lock);
                e.strikes += 1;
                e.failures.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_then_the_lock_grows() {
        let l = LoginLimiter::new();
        let keys = vec!["ip:1".to_string(), "user:a".to_string()];
        let t0 = Instant::now();
        for _ in 0..4 {
            l.record_failure_at(&keys, t0);
            assert!(l.check_at(&keys, t0).is_ok());
        }
        l.record_failure_at(&keys, t0);
        let wait = l.check_at(&keys, t0).expect_err("locked");
        assert_eq!(wait, FIRST_LOCK);
        // After the lock, five more failures lock for twice as long.
        let t1 = t0 + FIRST_LOCK + Duration::from_secs(1);
        assert!(l.check_at(&keys, t1).is_ok());
        for _ in 0..5 {
            l.record_failure_at(&keys, t1);
        }
        assert_eq!(l.check_at(&keys, t1).expect_err("locked"), FIRST_LOCK * 2);
        // Another username from another address is not affected.
        assert!(l.check_at(&["ip:2".into(), "user:b".into()], t1).is_ok());
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let l = LoginLimiter::new();
        let keys = vec!["user:a".to_string()];
        let t0 = Instant::now();
        for i in 0..10u64 {
            l.record_failure_at(&keys, t0 + Duration::from_secs(i * 20));
        }
        assert!(l.check_at(&keys, t0 + Duration::from_secs(200)).is_ok());
    }
}
