//! Sealing stored secrets (hosts' TLS private keys, registry passwords) so a copy of the
//! database alone does not reveal them: ChaCha20-Poly1305 with a key kept in the data directory,
//! a fresh random nonce per seal, and a context as associated data (the host's slug, the
//! registry's server) so a sealed secret cannot be moved to another row.

use std::io::Write;
use std::path::Path;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};

use crate::error::{Error, Result};

/// The key file, 32 random bytes, 0600, made on first use.
pub const KEY_FILE: &str = "host-secrets.key";

pub struct SecretBox {
    key: LessSafeKey,
    rng: SystemRandom,
}

impl SecretBox {
    /// Loads the key from `key_dir` (the data directory unless `--key-dir` says otherwise),
    /// creating it when missing.
    pub fn open(key_dir: &Path) -> Result<Self> {
        let path = key_dir.join(KEY_FILE);
        let rng = SystemRandom::new();
        let bytes = key_file(&path, CHACHA20_POLY1305.key_len())?;
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &bytes).map_err(|_| {
            Error::Internal(format!(
                "{} is not a valid key (expected 32 bytes)",
                path.display()
            ))
        })?;
        Ok(SecretBox {
            key: LessSafeKey::new(unbound),
            rng,
        })
    }

    /// `nonce || ciphertext || tag`.
    pub fn seal(&self, context: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng
            .fill(&mut nonce)
            .map_err(|_| Error::Internal("no randomness for a nonce".into()))?;
        let mut buf = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| Error::Internal("sealing a host secret failed".into()))?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&buf);
        Ok(out)
    }

    pub fn open_sealed(&self, context: &str, sealed: &[u8]) -> Result<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return Err(Error::Internal(format!(
                "sealed secret of {context} is truncated"
            )));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| Error::Internal(format!("sealed secret of {context} has a bad nonce")))?;
        let mut buf = body.to_vec();
        let plain = self.key.open_in_place(nonce, Aad::from(context.as_bytes()), &mut buf).map_err(|_| {
            Error::Internal(format!(
                "the secret of {context} cannot be opened with {KEY_FILE}: was the data directory's key replaced?"
            ))
        })?;
        Ok(plain.to_vec())
    }
}

/// The key in `path`, made when there is none (`len` random bytes, 0600). Replicas that share
/// a key directory and start at once agree on one key: only the first file lands (created
/// whole, never replaced), the others read it.
pub fn key_file(path: &Path, len: usize) -> Result<Vec<u8>> {
    match std::fs::read(path) {
        Ok(bytes) => return Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::Internal(format!("reading {}: {e}", path.display()))),
    }
    let mut bytes = vec![0u8; len];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| Error::Internal("no randomness for a key".into()))?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::Internal(format!("temp file in {}: {e}", dir.display())))?;
    set_private(tmp.path())?;
    tmp.write_all(&bytes)
        .and_then(|()| tmp.as_file().sync_all())
        .map_err(|e| Error::Internal(format!("writing {}: {e}", path.display())))?;
    match tmp.persist_noclobber(path) {
        Ok(_) => Ok(bytes),
        Err(e) if e.error.kind() == std::io::ErrorKind::AlreadyExists => std::fs::read(path)
            .map_err(|e| Error::Internal(format!("reading {}: {e}", path.display()))),
        Err(e) => Err(Error::Internal(format!(
            "saving {}: {}",
            path.display(),
            e.error
        ))),
    }
}

#[cfg(unix)]
pub(crate) fn set_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = if path.is_dir() { 0o700 } else { 0o600 };
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| Error::Internal(format!("chmod {}: {e}", path.display())))
}

#[cfg(not(unix))]
pub(crate) fn set_private(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replicas_starting_at_once_agree_on_one_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("shared.key");
        let keys: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8).map(|_| s.spawn(|| key_file(&path, 32))).collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("thread").expect("key"))
                .collect()
        });
        assert!(
            keys.iter().all(|k| k.len() == 32 && k == &keys[0]),
            "one key for all"
        );
        assert_eq!(std::fs::read(&path).expect("file"), keys[0]);
    }

    #[test]
    fn seals_and_opens_and_binds_to_context() {
        let dir = tempfile::tempdir().expect("tempdir");
        let sb = SecretBox::open(dir.path()).expect("open");
        let sealed = sb
            .seal("host-a", b"-----BEGIN PRIVATE KEY-----")
            .expect("seal");
        assert!(
            !sealed.windows(5).any(|w| w == b"BEGIN"),
            "sealed text must not contain the plain text"
        );
        assert_eq!(
            sb.open_sealed("host-a", &sealed).expect("open"),
            b"-----BEGIN PRIVATE KEY-----"
        );
        assert!(
            sb.open_sealed("host-b", &sealed).is_err(),
            "a sealed key cannot move to another host"
        );
        // The same key file opens it again; another data directory's key does not.
        let again = SecretBox::open(dir.path()).expect("reopen");
        assert!(again.open_sealed("host-a", &sealed).is_ok());
        let other = tempfile::tempdir().expect("tempdir");
        assert!(SecretBox::open(other.path())
            .expect("open")
            .open_sealed("host-a", &sealed)
            .is_err());
    }
}
