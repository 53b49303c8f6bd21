//! Which secrets public key a backup may seal to, decided outside the repository.
//!
//! Whoever has the repository passphrase and write access to the storage can re-wrap the master
//! keys with a public key of their own; a backup that took the recipient from the key file would
//! then seal every BitLocker key to them. As age takes recipients from the user, not from the
//! ciphertext, a backup takes it from its own trusted configuration: a public key given
//! ([`SECRETS_PUBLIC_KEY_ENV`], [`SecretsRecipient::Key`]), or else a pin recorded on first use in
//! a trust folder on this machine ([`TRUST_DIR_ENV`], else `$XDG_CONFIG_HOME/entra-backup/trust`,
//! else `~/.config/entra-backup/trust`), one file per repository named by its key
//! [fingerprint](Cipher::fingerprint). A later change of recipient is refused.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Cipher, SecretsPublicKey, keyring};
use crate::repo::Repository;
use crate::{Error, ErrorKind, Result};

/// The folder of trust pins (overrides the default in the user's configuration folder).
pub const TRUST_DIR_ENV: &str = "ENTRA_BACKUP_TRUST_DIR";
/// The secrets public key (base64) a backup must seal to; when set, no pin is consulted.
pub const SECRETS_PUBLIC_KEY_ENV: &str = "ENTRA_BACKUP_SECRETS_PUBLIC_KEY";

/// How a backup decides which secrets public key it may seal to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum SecretsRecipient {
    /// [`SECRETS_PUBLIC_KEY_ENV`] if set, else the pin in the default trust folder (recorded on
    /// first use).
    #[default]
    Default,
    /// The pin in this trust folder (recorded on first use).
    TrustDir(PathBuf),
    /// Exactly this key.
    Key(SecretsPublicKey),
}

/// A recorded pin.
#[derive(Debug, Clone)]
pub struct Pin {
    /// The pinned secrets public key.
    pub public_key: SecretsPublicKey,
    /// The file it is kept in.
    pub path: PathBuf,
}

#[derive(Serialize, Deserialize)]
struct PinFile {
    secrets_public_key: String,
    repository: String,
    location: String,
    recorded: jiff::Timestamp,
}

/// The default trust folder, if one can be named.
pub fn default_trust_dir() -> Option<PathBuf> {
    let from = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
    from(TRUST_DIR_ENV)
        .or_else(|| from("XDG_CONFIG_HOME").map(|d| d.join("entra-backup").join("trust")))
        .or_else(|| from("HOME").map(|d| d.join(".config").join("entra-backup").join("trust")))
}

fn pin_path(dir: &Path, cipher: &Cipher) -> Option<PathBuf> {
    cipher.fingerprint().map(|f| dir.join(f))
}

/// The pin recorded in `dir` for the repository whose keys `cipher` holds.
pub fn pinned(dir: &Path, cipher: &Cipher) -> Result<Option<Pin>> {
    let Some(path) = pin_path(dir, cipher) else { return Ok(None) };
    let bytes = match std::fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(format!("reading the trust pin {}", path.display()), e)),
    };
    let bad = || Error::new(ErrorKind::Protocol, format!("the trust pin {} is not valid", path.display()));
    let file: PinFile = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    let public_key = SecretsPublicKey::from_base64(&file.secrets_public_key).map_err(|_| bad())?;
    Ok(Some(Pin { public_key, path }))
}

/// [`pinned`] in the default trust folder (`None` when there is none).
pub fn pinned_default(cipher: &Cipher) -> Result<Option<Pin>> {
    match default_trust_dir() {
        Some(dir) => pinned(&dir, cipher),
        None => Ok(None),
    }
}

/// Record `cipher`'s secrets public key as trusted in `dir`, unless a pin is already there;
/// returns the pin in force (which the caller compares).
pub fn pin(dir: &Path, cipher: &Cipher, repository: &str, location: &str) -> Result<Option<Pin>> {
    let (Some(path), Some(public)) = (pin_path(dir, cipher), cipher.secrets_public_key()) else { return Ok(None) };
    if let Some(existing) = pinned(dir, cipher)? {
        return Ok(Some(existing));
    }
    let file = PinFile {
        secrets_public_key: public.to_base64(),
        repository: repository.to_string(),
        location: location.to_string(),
        recorded: jiff::Timestamp::now(),
    };
    let io = |e| Error::io(format!("recording the trusted secrets key in {}", dir.display()), e);
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io)?;
    // Written whole beside it, then linked into place (which fails if a pin exists): a backup
    // starting at the same moment sees no pin or a whole one, never a partial file.
    let json = serde_json::to_vec_pretty(&file).expect("a pin serializes");
    let unique = chacha20poly1305::aead::rand_core::RngCore::next_u64(&mut chacha20poly1305::aead::OsRng);
    let tmp = dir.join(format!(".pin-{unique:016x}.tmp"));
    std::fs::write(&tmp, &json).map_err(io)?;
    let linked = std::fs::hard_link(&tmp, &path);
    let _ = std::fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(Some(Pin { public_key: *public, path })),
        // Another backup pinned it at the same moment: theirs is in force.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => pinned(dir, cipher),
        Err(e) => Err(io(e)),
    }
}

/// Where the highest generation of a mutable repository file this machine saw is kept: under
/// the trust folder `dir`, by the repository's key fingerprint and the hash of the file's path.
fn watermark_path(dir: Option<&Path>, cipher: &Cipher, file: &str) -> Option<PathBuf> {
    let dir = dir?;
    let fingerprint = cipher.fingerprint()?;
    let name = Cipher::plaintext().id_hex(file.as_bytes());
    Some(dir.join(format!("{fingerprint}.generations")).join(name))
}

/// The highest generation of the repository file `file` recorded in the trust folder `dir`
/// (`None`: never, no trust folder, or a plaintext repository).
pub fn watermark(dir: Option<&Path>, cipher: &Cipher, file: &str) -> Result<Option<u64>> {
    let Some(path) = watermark_path(dir, cipher, file) else { return Ok(None) };
    match std::fs::read_to_string(&path) {
        Ok(text) => text.trim().parse().map(Some).map_err(|_| {
            Error::new(ErrorKind::Protocol, format!("the generation record {} is not valid", path.display()))
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(Error::io(format!("reading {}", path.display()), e)),
    }
}

/// Record `generation` as the highest of `file` seen, in the trust folder `dir`.
pub fn record_watermark(dir: Option<&Path>, cipher: &Cipher, file: &str, generation: u64) -> Result<()> {
    let Some(path) = watermark_path(dir, cipher, file) else { return Ok(()) };
    let io = |e| Error::io(format!("recording {}", path.display()), e);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    // Write beside, then rename: a crash leaves the old record or the new one.
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, generation.to_string()).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

/// What [`SecretsRecipient::verify`] approved: the recipient is trusted, or is to be pinned on
/// first use once the backup has committed ([`Trusted::record`]), so that a backup that fails
/// changes nothing on the machine either.
#[derive(Debug, Clone, Default)]
#[must_use = "a first use is pinned only by Trusted::record"]
pub struct Trusted {
    first_use: Option<PathBuf>,
}

impl Trusted {
    /// Record the pin of a first use (nothing when the key was already trusted). If another
    /// process pinned another key meanwhile, that is the error [`SecretsRecipient::verify`] gives.
    pub fn record(&self, repo: &Repository) -> Result<()> {
        let Some(dir) = &self.first_use else { return Ok(()) };
        let cipher = repo.cipher();
        let (Some(actual), location) = (cipher.secrets_public_key(), repo.store().location()) else { return Ok(()) };
        match pin(dir, cipher, &repo.config().id, location)? {
            Some(p) => compare(&p.public_key, actual, &format!("the key pinned in {}", p.path.display()), location),
            None => Ok(()),
        }
    }
}

impl SecretsRecipient {
    /// Check that `repo`'s keys seal secrets to the trusted key. With no pin yet (first use), the
    /// key is approved only if one of the repository's secrets key files holds it, and pinned by
    /// [`Trusted::record`]. A changed recipient, or a first one no secrets key file holds, is an
    /// [`ErrorKind::Protocol`] error that says what to do; no trust folder at all is
    /// [`ErrorKind::InvalidInput`]. A plaintext repository has no recipient and passes.
    pub async fn verify(&self, repo: &Repository) -> Result<Trusted> {
        let cipher = repo.cipher();
        let Some(actual) = cipher.secrets_public_key() else { return Ok(Trusted::default()) };
        let location = repo.store().location();
        let dir = match self {
            SecretsRecipient::Key(key) => {
                return compare(key, actual, "the secrets public key given", location).map(|()| Trusted::default());
            }
            SecretsRecipient::TrustDir(dir) => dir.clone(),
            SecretsRecipient::Default => {
                if let Ok(text) = std::env::var(SECRETS_PUBLIC_KEY_ENV)
                    && !text.trim().is_empty()
                {
                    let key = SecretsPublicKey::from_base64(&text).map_err(|_| {
                        Error::invalid_input(format!("{SECRETS_PUBLIC_KEY_ENV} is not a base64 32-byte public key"))
                    })?;
                    return compare(&key, actual, SECRETS_PUBLIC_KEY_ENV, location).map(|()| Trusted::default());
                }
                default_trust_dir().ok_or_else(|| {
                    Error::invalid_input(format!(
                        "no folder to keep the trusted secrets key in: set {TRUST_DIR_ENV} (or HOME), or give the \
                         secrets public key in {SECRETS_PUBLIC_KEY_ENV}"
                    ))
                })?
            }
        };
        if let Some(p) = pinned(&dir, cipher)? {
            compare(&p.public_key, actual, &format!("the key pinned in {}", p.path.display()), location)?;
            return Ok(Trusted::default());
        }
        if !keyring::holds_public_key(repo.store(), &repo.config().id, actual).await? {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "refusing to seal secrets: the repository's key file seals them to {}, which none of its \
                     secrets key files holds (was the key file replaced?); run `entra-backup check`",
                    actual.to_base64()
                ),
            ));
        }
        Ok(Trusted { first_use: Some(dir) })
    }
}

/// A recipient other than the trusted one is refused, with what to do.
fn compare(trusted: &SecretsPublicKey, actual: &SecretsPublicKey, source: &str, location: &str) -> Result<()> {
    if trusted == actual {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Protocol,
        format!(
            "refusing to seal secrets: the repository's key file now seals them to {}, not to {} ({source}). Someone \
             with the repository passphrase and write access to {location} may have replaced the key file; run \
             `entra-backup check`. If the secrets key was changed on purpose, trust the new one by removing that pin",
            actual.to_base64(),
            trusted.to_base64()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::crypto::MasterKeys;

    #[test]
    fn pins_are_recorded_once_and_compared() {
        let dir = tempfile::tempdir().unwrap();
        let trust = dir.path().join("trust");
        let (keys, _) = MasterKeys::generate();
        assert!(pinned(&trust, &keys.cipher()).unwrap().is_none());
        let first = pin(&trust, &keys.cipher(), "repo-id", "file:///r").unwrap().unwrap();
        assert_eq!(first.public_key, *keys.secrets_public_key());
        // The same data and id keys sealing to another public key: the pin stays, and differs.
        let (attacker, _) = MasterKeys::generate();
        let mut payload = keys.to_payload();
        payload[64..].copy_from_slice(attacker.secrets_public_key().as_bytes());
        let swapped = MasterKeys::from_payload(&payload).unwrap();
        assert_eq!(swapped.cipher().fingerprint(), keys.cipher().fingerprint());
        let again = pin(&trust, &swapped.cipher(), "repo-id", "file:///r").unwrap().unwrap();
        assert_eq!(again.public_key, *keys.secrets_public_key());
        let err = compare(&again.public_key, swapped.secrets_public_key(), "pin", "file:///r").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(err.message().contains("refusing to seal secrets"), "{err}");
        compare(&first.public_key, keys.secrets_public_key(), "pin", "file:///r").unwrap();
        // Another repository pins its own; plaintext pins nothing.
        assert_eq!(
            pin(&trust, &attacker.cipher(), "other", "x").unwrap().unwrap().public_key,
            *attacker.secrets_public_key()
        );
        assert!(pin(&trust, &Cipher::plaintext(), "p", "x").unwrap().is_none());
    }

    #[test]
    fn backups_pinning_at_once_agree_on_one_whole_pin() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, _) = MasterKeys::generate();
        let results: Vec<Result<Option<Pin>>> = std::thread::scope(|s| {
            let handles: Vec<_> =
                (0..8).map(|_| s.spawn(|| pin(dir.path(), &keys.cipher(), "repo-id", "file:///r"))).collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        for r in results {
            assert_eq!(r.unwrap().unwrap().public_key, *keys.secrets_public_key());
        }
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names.len(), 1, "one pin and no leftovers: {names:?}");
    }

    #[test]
    fn watermarks_rise() {
        let dir = tempfile::tempdir().unwrap();
        let (keys, _) = MasterKeys::generate();
        let cipher = keys.cipher();
        assert_eq!(watermark(Some(dir.path()), &cipher, "restores/a/t").unwrap(), None);
        record_watermark(Some(dir.path()), &cipher, "restores/a/t", 3).unwrap();
        assert_eq!(watermark(Some(dir.path()), &cipher, "restores/a/t").unwrap(), Some(3));
        assert_eq!(watermark(Some(dir.path()), &cipher, "restores/b/t").unwrap(), None);
        assert_eq!(watermark(None, &cipher, "restores/a/t").unwrap(), None);
    }
}
