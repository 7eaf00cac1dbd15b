//! Throttling of password guesses. Every attempt is counted *before* its password is hashed (a
//! reservation that a success takes back), so guesses sent in parallel cannot all get through
//! while the hashes run. Two kinds of key:
//!
//! - [`Key::hard`]: a client address (IPv6 by its /64, see [`client_key`]), the setup form, an
//!   account's password change (only the holder of a session can trip that one). The sixth
//!   attempt within a minute locks the key; each further lock doubles (1 min, 2 min, 4 min … up
//!   to an hour).
//! - [`Key::soft`]: an account's sign-ins. Anyone can fail those, so they never lock: after five
//!   free failures each further one asks for a growing pause before the next attempt (1 s, 2 s,
//!   4 s, then 5 s at most). A lock there would be a lock-out an attacker holds for as long as
//!   they like; a pause of seconds costs the owner seconds and a guesser nearly all of their rate.
//!
//! A success clears the account's record. Kept in memory: a restart forgets, which only ever
//! helps the user.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Attempts within [`WINDOW`] a hard key allows; the next one locks it.
pub(crate) const MAX_ATTEMPTS: usize = 5;
pub(crate) const WINDOW: Duration = Duration::from_secs(60);
const FIRST_LOCK: Duration = Duration::from_secs(60);
const MAX_LOCK: Duration = Duration::from_secs(3600);
/// Failures of an account that cost nothing.
const FREE_FAILURES: u32 = 5;
const FIRST_PAUSE: Duration = Duration::from_secs(1);
const MAX_PAUSE: Duration = Duration::from_secs(5);
/// An account left alone this long starts again with its free failures.
pub(crate) const SOFT_FORGET: Duration = Duration::from_secs(15 * 60);
/// Entries idle this long are dropped, so the map cannot grow without bound.
const FORGET_AFTER: Duration = Duration::from_secs(2 * 3600);
/// How often the map is swept for idle entries (a sweep reads every entry).
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// Beyond this many entries, entries that hold no lock or pause are dropped at once.
const MAX_ENTRIES: usize = 100_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hard,
    Soft,
}

/// What is throttled: a client, an account, a form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Key {
    name: String,
    kind: Kind,
}

impl Key {
    /// A key that locks (a client, the setup form, a password change).
    pub fn hard(name: impl Into<String>) -> Key {
        Key {
            name: name.into(),
            kind: Kind::Hard,
        }
    }

    /// A key that only slows down (an account's sign-ins).
    pub fn soft(name: impl Into<String>) -> Key {
        Key {
            name: name.into(),
            kind: Kind::Soft,
        }
    }
}

/// The limiter's key for a client address: IPv4 addresses as they are, IPv6 addresses by their
/// /64 (one subscriber usually holds a whole /64, and rotating within it must not buy guesses);
/// IPv4-mapped IPv6 addresses as the IPv4 address they carry.
pub fn client_key(client: Option<IpAddr>) -> String {
    match client.map(|c| c.to_canonical()) {
        None => "ip:-".into(),
        Some(IpAddr::V4(v4)) => format!("ip:{v4}"),
        Some(IpAddr::V6(v6)) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("ip:{net}/64")
        }
    }
}

/// An attempt that passed the limiter and is counted; give it to [`LoginLimiter::succeeded`]
/// when the password was right. Dropping it leaves it counted as a failure.
#[derive(Debug)]
#[must_use = "a successful attempt must be handed back to the limiter"]
pub struct Attempt {
    keys: Vec<Key>,
    at: Instant,
}

#[derive(Debug)]
struct Entry {
    /// Hard keys: attempts within the window since the last lock, not taken back.
    attempts: Vec<Instant>,
    strikes: u32,
    locked_until: Option<Instant>,
    /// Soft keys: failures since the last success (or since the account was left alone).
    failures: u32,
    last_failure: Option<Instant>,
    next_allowed: Option<Instant>,
    last_seen: Instant,
}

impl Entry {
    fn new(now: Instant) -> Entry {
        Entry {
            attempts: Vec::new(),
            strikes: 0,
            locked_until: None,
            failures: 0,
            last_failure: None,
            next_allowed: None,
            last_seen: now,
        }
    }

    fn holds(&self, now: Instant) -> bool {
        self.locked_until.is_some_and(|t| t > now) || self.next_allowed.is_some_and(|t| t > now)
    }
}

#[derive(Debug)]
struct Map {
    entries: HashMap<String, Entry>,
    swept: Instant,
}

#[derive(Debug)]
pub struct LoginLimiter {
    map: Mutex<Map>,
}

impl Default for LoginLimiter {
    fn default() -> Self {
        LoginLimiter {
            map: Mutex::new(Map {
                entries: HashMap::new(),
                swept: Instant::now(),
            }),
        }
    }
}

/// A wait given to a person in whole seconds, rounded up (never "0 seconds").
/// The pause an account's sign-ins wait after `failures` failures in a row: none for the free
/// ones, then 1 s, 2 s, 4 s, 5 s at most.
pub(crate) fn soft_pause(failures: u32) -> Option<Duration> {
    let over = failures.saturating_sub(FREE_FAILURES);
    (over > 0).then(|| {
        FIRST_PAUSE
            .saturating_mul(1 << (over - 1).min(16))
            .min(MAX_PAUSE)
    })
}

fn whole_seconds(d: Duration) -> Duration {
    let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
    Duration::from_secs(secs.max(1))
}

impl LoginLimiter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Counts an attempt on every key, or refuses it with how long to wait when any key is
    /// locked or paused (a refused attempt counts on no key).
    pub fn attempt(&self, keys: &[Key]) -> Result<Attempt, Duration> {
        self.attempt_at(keys, Instant::now())
    }

    /// The password was right: the attempt is taken back from the client's count and the
    /// account's record is cleared.
    pub fn succeeded(&self, attempt: Attempt) {
        let Ok(mut map) = self.map.lock() else { return };
        for key in &attempt.keys {
            match key.kind {
                Kind::Soft => {
                    map.entries.remove(&key.name);
                }
                Kind::Hard => {
                    if let Some(e) = map.entries.get_mut(&key.name) {
                        if let Some(i) = e.attempts.iter().rposition(|t| *t == attempt.at) {
                            e.attempts.remove(i);
                        }
                    }
                }
            }
        }
    }

    /// The attempt was not a guess after all (say setup was already done): as if never made.
    pub fn forget(&self, attempt: Attempt) {
        let Ok(mut map) = self.map.lock() else { return };
        for key in &attempt.keys {
            if let Some(e) = map.entries.get_mut(&key.name) {
                if let Some(i) = e.attempts.iter().rposition(|t| *t == attempt.at) {
                    e.attempts.remove(i);
                }
                if key.kind == Kind::Soft && e.failures > 0 {
                    e.failures -= 1;
                }
            }
        }
    }

    fn attempt_at(&self, keys: &[Key], now: Instant) -> Result<Attempt, Duration> {
        // A poisoned lock means a panic elsewhere while holding it; failing closed would lock
        // everyone out, so the attempt passes uncounted.
        let Ok(mut map) = self.map.lock() else {
            return Ok(Attempt {
                keys: keys.to_vec(),
                at: now,
            });
        };
        map.sweep(now);
        let mut wait: Option<Duration> = None;
        for key in keys {
            let Some(e) = map.entries.get_mut(&key.name) else {
                continue;
            };
            e.last_seen = now;
            let held = match key.kind {
                Kind::Hard => {
                    if e.locked_until.is_none_or(|t| t <= now) {
                        e.attempts.retain(|t| now.duration_since(*t) < WINDOW);
                        if e.attempts.len() >= MAX_ATTEMPTS {
                            let lock = FIRST_LOCK
                                .saturating_mul(1 << e.strikes.min(6))
                                .min(MAX_LOCK);
                            e.locked_until = Some(now + lock);
                            e.strikes += 1;
                            e.attempts.clear();
                        }
                    }
                    e.locked_until.filter(|t| *t > now)
                }
                Kind::Soft => e.next_allowed.filter(|t| *t > now),
            };
            if let Some(until) = held {
                wait = wait.max(Some(until - now));
            }
        }
        if let Some(w) = wait {
            return Err(whole_seconds(w));
        }
        for key in keys {
            let e = map
                .entries
                .entry(key.name.clone())
                .or_insert_with(|| Entry::new(now));
            e.last_seen = now;
            match key.kind {
                Kind::Hard => e.attempts.push(now),
                Kind::Soft => {
                    if e.last_failure
                        .is_some_and(|t| now.duration_since(t) > SOFT_FORGET)
                    {
                        e.failures = 0;
                    }
                    e.failures += 1;
                    e.last_failure = Some(now);
                    e.next_allowed = soft_pause(e.failures).map(|pause| now + pause);
                }
            }
        }
        Ok(Attempt {
            keys: keys.to_vec(),
            at: now,
        })
    }
}

impl Map {
    fn sweep(&mut self, now: Instant) {
        if now.duration_since(self.swept) < SWEEP_EVERY && self.entries.len() < MAX_ENTRIES {
            return;
        }
        self.swept = now;
        self.entries
            .retain(|_, e| e.holds(now) || now.duration_since(e.last_seen) < FORGET_AFTER);
        if self.entries.len() >= MAX_ENTRIES {
            self.entries.retain(|_, e| e.holds(now));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client_and_account() -> Vec<Key> {
        vec![Key::hard("ip:1"), Key::soft("user:a")]
    }

    #[test]
    fn the_sixth_attempt_of_a_client_is_locked_then_the_lock_grows() {
        let l = LoginLimiter::new();
        let keys = vec![Key::hard("ip:1")];
        let t0 = Instant::now();
        for _ in 0..5 {
            let _failed = l.attempt_at(&keys, t0).expect("allowed");
        }
        assert_eq!(l.attempt_at(&keys, t0).expect_err("locked"), FIRST_LOCK);
        // After the lock, five more attempts, then a lock twice as long.
        let t1 = t0 + FIRST_LOCK + Duration::from_secs(1);
        for _ in 0..5 {
            let _failed = l.attempt_at(&keys, t1).expect("allowed after the lock");
        }
        assert_eq!(l.attempt_at(&keys, t1).expect_err("locked"), FIRST_LOCK * 2);
        // Another client is not affected.
        assert!(l.attempt_at(&[Key::hard("ip:2")], t1).is_ok());
    }

    #[test]
    fn attempts_are_counted_before_the_answer_so_parallel_guesses_stop() {
        let l = LoginLimiter::new();
        let t0 = Instant::now();
        // Fifty guesses arrive together; none has been answered yet.
        let passed: Vec<Attempt> = (0..50)
            .filter_map(|_| l.attempt_at(&client_and_account(), t0).ok())
            .collect();
        // The client's five attempts (the account's five free ones too), nothing more.
        assert_eq!(
            passed.len(),
            5,
            "only a handful of parallel guesses get to hash"
        );
    }

    #[test]
    fn a_success_takes_its_attempt_back_and_clears_the_account() {
        let l = LoginLimiter::new();
        let t0 = Instant::now();
        for _ in 0..4 {
            let ok = l.attempt_at(&[Key::hard("ip:1")], t0).expect("allowed");
            l.succeeded(ok);
        }
        // Successes are not failures: the client still has all five.
        for _ in 0..5 {
            let _failed = l.attempt_at(&[Key::hard("ip:1")], t0).expect("allowed");
        }
        assert!(l.attempt_at(&[Key::hard("ip:1")], t0).is_err());

        let account = [Key::soft("user:a")];
        for _ in 0..5 {
            let _failed = l.attempt_at(&account, t0).expect("free");
        }
        let right = l
            .attempt_at(&account, t0)
            .expect("the sixth is allowed too, then pauses");
        l.succeeded(right);
        for _ in 0..6 {
            let _failed = l
                .attempt_at(&account, t0)
                .expect("free again after a success");
        }
    }

    #[test]
    fn an_account_only_pauses_and_the_pause_is_capped() {
        let l = LoginLimiter::new();
        let mut t = Instant::now();
        let account = [Key::soft("user:a")];
        for _ in 0..5 {
            let _failed = l.attempt_at(&account, t).expect("free");
        }
        let mut pauses = Vec::new();
        for _ in 0..8 {
            let _failed = l
                .attempt_at(&account, t)
                .expect("allowed once the pause is over");
            let wait = l.attempt_at(&account, t).expect_err("paused");
            pauses.push(wait.as_secs());
            t += wait;
        }
        assert_eq!(pauses, [1, 2, 4, 5, 5, 5, 5, 5]);
        // Left alone, the account starts again with its free attempts.
        t += SOFT_FORGET + MAX_PAUSE + Duration::from_secs(1);
        for _ in 0..6 {
            let _failed = l.attempt_at(&account, t).expect("free again");
        }
    }

    #[test]
    fn a_refused_attempt_counts_on_no_key() {
        let l = LoginLimiter::new();
        let t0 = Instant::now();
        for _ in 0..5 {
            let _failed = l.attempt_at(&[Key::hard("ip:1")], t0).expect("allowed");
        }
        // ip:1 is now at its limit; the account is not charged for the refused attempt.
        assert!(l.attempt_at(&client_and_account(), t0).is_err());
        for _ in 0..3 {
            let _failed = l
                .attempt_at(&[Key::hard("ip:2"), Key::soft("user:a")], t0)
                .expect("free");
        }
    }

    #[test]
    fn failures_outside_the_window_do_not_count() {
        let l = LoginLimiter::new();
        let keys = vec![Key::hard("ip:1")];
        let t0 = Instant::now();
        for i in 0..10u64 {
            let _failed = l
                .attempt_at(&keys, t0 + Duration::from_secs(i * 20))
                .expect("allowed");
        }
    }

    #[test]
    fn ipv6_clients_are_keyed_by_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb:cccc:dddd:eeee".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(client_key(Some(a)), "ip:2001:db8:1:2::/64");
        assert_eq!(client_key(Some(a)), client_key(Some(b)));
        assert_ne!(client_key(Some(a)), client_key(Some(c)));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(client_key(Some(mapped)), "ip:192.0.2.7");
        assert_eq!(client_key(None), "ip:-");
    }
}
