//! argon2id with OWASP's parameters (m = 19 MiB, t = 2, p = 1), as PHC strings. Hashing and
//! verifying are CPU-heavy on purpose, so they run on the blocking pool, and at most about two
//! per core at once (each holds 19 MiB and a core): a flood of sign-ins queues for the hasher
//! instead of taking every core and hundreds of megabytes, and what waits too long is told to
//! come back (429).

use std::sync::OnceLock;
use std::time::Duration;

use tokio::sync::{Semaphore, SemaphorePermit};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::error::{Error, Result};

pub const MIN_LENGTH: usize = 12;
pub const MAX_LENGTH: usize = 1024;

fn argon2() -> Argon2<'static> {
    // These parameters are constants that Params::new accepts.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Rejects passwords that are too short or absurdly long, naming the field.
pub fn check_strength(field: &str, password: &str) -> Result<()> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Err(Error::invalid(
            field,
            format!("must be at least {MIN_LENGTH} characters"),
        ));
    }
    if password.len() > MAX_LENGTH {
        return Err(Error::invalid(
            field,
            format!("must be at most {MAX_LENGTH} bytes"),
        ));
    }
    Ok(())
}

/// How long a hash may wait for its turn before the request is refused as throttled.
const MAX_WAIT: Duration = Duration::from_secs(10);

/// The process's hashing slots: argon2 work is bounded per machine, not per request.
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        Semaphore::new((2 * cores).max(2))
    })
}

/// A hashing slot, waited for at most [`MAX_WAIT`]. The permit is moved into the blocking task,
/// so a request that goes away while its hash runs still holds the slot until the hash ends.
async fn slot() -> Result<SemaphorePermit<'static>> {
    match tokio::time::timeout(MAX_WAIT, slots().acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        Ok(Err(_)) => Err(Error::Internal("the hashing slots are closed".into())),
        Err(_) => Err(Error::Throttled {
            retry_after: Duration::from_secs(1),
        }),
    }
}

pub async fn hash(password: String) -> Result<String> {
    let permit = slot().await?;
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>())
            .map_err(|e| Error::Internal(format!("making a salt: {e}")))?;
        argon2()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Internal(format!("hashing a password: {e}")))
    })
    .await
    .map_err(|e| Error::Internal(format!("hashing task: {e}")))?
}

/// Verifies against a stored hash, or against a dummy hash when there is none (unknown user),
/// so both cases take the same time.
pub async fn verify(password: String, stored: Option<String>) -> Result<bool> {
    let known = stored.is_some();
    let stored = match stored {
        Some(s) => s,
        None => dummy_hash().await?,
    };
    let permit = slot().await?;
    let ok = tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let parsed = PasswordHash::new(&stored)
            .map_err(|e| Error::Internal(format!("stored password hash unreadable: {e}")))?;
        Ok::<bool, Error>(
            argon2()
                .verify_password(password.as_bytes(), &parsed)
                .is_ok(),
        )
    })
    .await
    .map_err(|e| Error::Internal(format!("verifying task: {e}")))??;
    Ok(ok && known)
}

async fn dummy_hash() -> Result<String> {
    static DUMMY: OnceLock<String> = OnceLock::new();
    if let Some(h) = DUMMY.get() {
        return Ok(h.clone());
    }
    let h = hash("capstan dummy password for unknown users".into()).await?;
    Ok(DUMMY.get_or_init(|| h).clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_phc_and_verify() {
        let h = hash("correct horse battery".into()).await.expect("hash");
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify("correct horse battery".into(), Some(h.clone()))
            .await
            .expect("verify"));
        assert!(!verify("wrong horse battery".into(), Some(h))
            .await
            .expect("verify"));
        assert!(!verify("anything at all".into(), None).await.expect("dummy"));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hashes_take_a_slot_and_give_it_back() {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let limit = (2 * cores).max(2);
        let jobs: Vec<_> = (0..limit + 3)
            .map(|i| tokio::spawn(hash(format!("password number {i}"))))
            .collect();
        let mut lowest = limit;
        while jobs.iter().any(|j| !j.is_finished()) {
            lowest = lowest.min(slots().available_permits());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        for j in jobs {
            j.await.expect("task").expect("hashed");
        }
        assert!(lowest < limit, "the hashes held slots while they ran");
        // Other tests of this binary may be hashing too: wait for them.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while slots().available_permits() != limit && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(
            slots().available_permits(),
            limit,
            "every slot is given back"
        );
    }

    #[test]
    fn strength() {
        assert!(
            matches!(check_strength("password", "short"), Err(Error::Invalid { field, .. }) if field == "password")
        );
        assert!(check_strength("password", "twelve chars").is_ok());
        assert!(check_strength("password", &"x".repeat(2000)).is_err());
    }
}
