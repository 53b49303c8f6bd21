//! A raw key: 32 random bytes kept by the user in a file, an alternative to a passphrase.

use std::fmt;
use std::path::Path;

use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{KEY_LEN, Key32, b64_decode, b64_encode};
use crate::Secret;
use crate::{Error, Result};

/// BLAKE3 `derive_key` context for the wrapping key of a raw-key key file.
const RAW_KEY_CONTEXT: &str = "entra-backup 2026-05 key file wrapping key from a raw key v1";

/// A random 32-byte key kept in a file (standard base64, one line), an alternative to a passphrase.
/// `Debug` prints `RawKey(..)`.
#[derive(Clone)]
pub struct RawKey(Key32);

impl RawKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        RawKey(Key32::random())
    }

    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: &[u8; KEY_LEN]) -> Self {
        RawKey(Key32::from_slice(bytes))
    }

    /// The file's text: base64 of the key (no newline).
    pub fn encode(&self) -> Secret {
        Secret::new(b64_encode(self.0.as_bytes()))
    }

    /// Parse a key file's text: base64 of 32 bytes, surrounding whitespace ignored.
    pub fn parse(text: &str) -> Result<Self> {
        Self::parse_or(text, || Error::invalid_input("the key is not a base64-encoded 32-byte key"))
    }

    fn parse_or(text: &str, error: impl FnOnce() -> Error) -> Result<Self> {
        match b64_decode(text.trim()) {
            Some(bytes) if bytes.len() == KEY_LEN => Ok(RawKey(Key32::from_slice(&bytes))),
            _ => Err(error()),
        }
    }

    /// Read a key file (with a warning if other users can read it). Errors name the path, never
    /// the contents.
    pub fn read_file(path: &Path) -> Result<Self> {
        if let Some(warning) = super::readable_by_others(path) {
            tracing::warn!("{warning}");
        }
        let bytes = Zeroizing::new(
            std::fs::read(path).map_err(|e| Error::io(format!("reading the key file {}", path.display()), e))?,
        );
        let invalid = || {
            Error::invalid_input(format!("the key file {} does not hold a base64-encoded 32-byte key", path.display()))
        };
        let text = std::str::from_utf8(&bytes).map_err(|_| invalid())?;
        Self::parse_or(text, invalid)
    }

    /// Write a new key file (its base64 and a newline); fails if the file exists. On Unix the file
    /// is readable by its owner only.
    pub fn write_new_file(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let write = || -> std::io::Result<()> {
            let mut file = options.open(path)?;
            let mut text = Zeroizing::new(self.encode().expose().to_string());
            text.push('\n');
            file.write_all(text.as_bytes())?;
            file.sync_all()
        };
        write().map_err(|e| Error::io(format!("writing the key file {}", path.display()), e))
    }
}

impl PartialEq for RawKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for RawKey {}

impl fmt::Debug for RawKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RawKey(..)")
    }
}

impl RawKey {
    /// The key that wraps a key file opened with this raw key: BLAKE3 `derive_key` over the
    /// raw key and the file's salt.
    pub(super) fn wrapping_key(&self, salt: &[u8]) -> Key32 {
        let mut hasher = blake3::Hasher::new_derive_key(RAW_KEY_CONTEXT);
        hasher.update(self.0.as_bytes()).update(salt);
        let mut out = Key32::zero();
        hasher.finalize_xof().fill(&mut out.0[..]);
        out
    }

    #[cfg(test)]
    pub(super) fn key_bytes(&self) -> &[u8] {
        &self.0.as_bytes()[..]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn raw_key_text_and_files() {
        let raw = RawKey::generate();
        let text = raw.encode();
        assert_eq!(RawKey::parse(text.expose()).unwrap(), raw);
        assert_eq!(RawKey::parse(&format!("  {}\r\n", text.expose())).unwrap(), raw);
        assert_eq!(RawKey::parse("AAAA").unwrap_err().kind(), ErrorKind::InvalidInput);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("repo.key");
        raw.write_new_file(&path).unwrap();
        assert_eq!(RawKey::read_file(&path).unwrap(), raw);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // No overwriting an existing key file.
        assert_eq!(RawKey::generate().write_new_file(&path).unwrap_err().kind(), ErrorKind::Io);
        assert_eq!(RawKey::read_file(&path).unwrap(), raw);
        // A bad file: the error names the path, not the contents.
        let bad = dir.path().join("bad.key");
        std::fs::write(&bad, "sekrit-text-not-a-key\n").unwrap();
        let err = RawKey::read_file(&bad).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidInput);
        assert!(err.to_string().contains("bad.key") && !err.to_string().contains("sekrit"));
        assert_eq!(RawKey::read_file(&dir.path().join("missing")).unwrap_err().kind(), ErrorKind::Io);
    }
}
