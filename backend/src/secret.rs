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
    /// Loads the key from the data directory, creating it when missing.
    pub fn open(data_dir: &Path) -> Result<Self> {
        let path = data_dir.join(KEY_FILE);
        let rng = SystemRandom::new();
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = vec![0u8; CHACHA20_POLY1305.key_len()];
                rng.fill(&mut bytes)
                    .map_err(|_| Error::Internal("no randomness for the host key".into()))?;
                write_private(&path, &bytes)?;
                bytes
            }
            Err(e) => return Err(Error::Internal(format!("reading {}: {e}", path.display()))),
        };
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

/// Writes a file only its owner can read, atomically (temp file + rename).
pub(crate) fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(dir)
        .map_err(|e| Error::Internal(format!("temp file in {}: {e}", dir.display())))?;
    set_private(tmp.path())?;
    tmp.write_all(bytes)
        .map_err(|e| Error::Internal(format!("writing {}: {e}", path.display())))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| Error::Internal(format!("syncing {}: {e}", path.display())))?;
    tmp.persist(path)
        .map_err(|e| Error::Internal(format!("saving {}: {e}", path.display())))?;
    Ok(())
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
