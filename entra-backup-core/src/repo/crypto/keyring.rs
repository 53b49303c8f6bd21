//! The key files a repository keeps, as a set: opening the repository (cheapest file first, a
//! damaged file told apart from a wrong passphrase), unlocking the secrets key (a malformed file
//! does not stop the others), checking every file without a passphrase, and managing them (`key
//! list / add / remove / passwd`).
//!
//! A key file is named by the plain BLAKE3 of its bytes (`keys/<hex>`, `secrets-keys/<hex>`), so
//! any change to one is seen without a passphrase: its content no longer matches its name.

use bytes::Bytes;
use serde::Serialize;

use super::{Cipher, KdfParams, KeyFile, MasterKeys, SecretsKey, SecretsKeyFile, SecretsPublicKey};
use crate::repo::Access;
use crate::repo::backend::Store;
use crate::{Error, ErrorKind, Result};

/// Largest key file read: one is under 1 KiB, so anything much larger is not one.
const MAX_KEY_FILE_BYTES: u64 = 64 * 1024;

/// Which set of key files: the repository's (`keys/`) or the secrets key's (`secrets-keys/`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    /// Key files wrapping the repository's master keys, in `keys/`.
    Master,
    /// Key files wrapping the secrets private key, in `secrets-keys/`.
    Secrets,
}

impl KeyKind {
    /// The folder its files are in.
    pub fn dir(self) -> &'static str {
        match self {
            KeyKind::Master => "keys",
            KeyKind::Secrets => "secrets-keys",
        }
    }
}

/// Where a key file with this JSON is stored.
pub fn key_file_path(kind: KeyKind, json: &[u8]) -> String {
    format!("{}/{}", kind.dir(), Cipher::plaintext().id_hex(json))
}

/// One stored key file: its path and bytes, or why they could not be read.
struct Stored {
    path: String,
    bytes: std::result::Result<Bytes, String>,
}

async fn read_all(store: &Store, kind: KeyKind) -> Result<Vec<Stored>> {
    let mut out = Vec::new();
    for meta in store.list(kind.dir()).await? {
        let path = meta.location.to_string();
        let bytes = if meta.size > MAX_KEY_FILE_BYTES {
            Err(format!("{} bytes, too large for a key file", meta.size))
        } else {
            match store.get(&path).await? {
                Some(b) => Ok(b),
                None => continue,
            }
        };
        out.push(Stored { path, bytes });
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// What is wrong with a stored key file before it is parsed: unreadable, or changed since it was
/// written (its name is the hash of what was written).
fn intact(stored: &Stored, kind: KeyKind) -> std::result::Result<&[u8], String> {
    let bytes = stored.bytes.as_deref().map_err(Clone::clone)?;
    if key_file_path(kind, bytes) != stored.path {
        return Err("damaged (its content does not match its name: a changed, truncated or emptied file)".into());
    }
    Ok(bytes)
}

/// A key file bound to another repository is not this one's.
fn bound_here(bound: Option<&str>, repository: &str) -> std::result::Result<(), String> {
    match bound {
        Some(other) if other != repository => Err(format!(
            "belongs to another repository ({other}), not to {repository} that config names: the key file or config \
             is damaged, or the key file is another repository's"
        )),
        _ => Ok(()),
    }
}

fn parse_master(stored: &Stored, repository: &str) -> std::result::Result<KeyFile, String> {
    let file = KeyFile::from_json(intact(stored, KeyKind::Master)?).map_err(|e| e.message().to_string())?;
    bound_here(file.repository(), repository)?;
    Ok(file)
}

fn parse_secrets(stored: &Stored, repository: &str) -> std::result::Result<SecretsKeyFile, String> {
    let file = SecretsKeyFile::from_json(intact(stored, KeyKind::Secrets)?).map_err(|e| e.message().to_string())?;
    bound_here(file.repository(), repository)?;
    Ok(file)
}

/// What trying every key file of one kind found, to word the error when none opened.
#[derive(Default)]
struct Attempts {
    /// Files that could not be tried or failed otherwise than by a wrong passphrase.
    problems: Vec<String>,
    /// Files tried that the passphrase (or key) did not open.
    wrong: usize,
    /// Files the caller's kind of secret (passphrase or raw key) does not open.
    other_kind: usize,
}

impl Attempts {
    /// The error when no file of `kind` opened with `with`: [`ErrorKind::Authentication`] only
    /// when every file was intact and the passphrase (or key) did not open one.
    fn error(self, kind: KeyKind, location: &str, with: &Access) -> Error {
        let means = if matches!(with, Access::Key(_)) { "key file" } else { "passphrase" };
        let what = match kind {
            KeyKind::Master => "key",
            KeyKind::Secrets => "secrets key",
        };
        if self.problems.is_empty() {
            return match (self.wrong, self.other_kind, kind) {
                (0, 0, _) => Error::new(ErrorKind::Protocol, format!("{location}: the repository has no {what} files")),
                (0, _, _) => Error::invalid_input(format!(
                    "{location}: no {what} file of the repository is opened with a {means}; use the other way in"
                )),
                (_, _, KeyKind::Master) => Error::new(
                    ErrorKind::Authentication,
                    format!("wrong passphrase or key for the repository at {location}"),
                ),
                (_, _, KeyKind::Secrets) => {
                    Error::new(ErrorKind::Authentication, "wrong passphrase or key for the repository's secrets key")
                }
            };
        }
        let mut message = format!("no {what} file of {location} opens: {}", self.problems.join("; "));
        if self.wrong > 0 {
            message.push_str(&format!("; the {means} does not open the other {}", self.wrong));
        }
        Error::new(ErrorKind::Protocol, message)
    }
}

fn unlock_master(file: &KeyFile, access: &Access) -> Result<MasterKeys> {
    match access {
        Access::Passphrase(p) => file.unlock(p),
        Access::Key(k) => file.unlock_with_key(k),
        Access::Plaintext => Err(Error::invalid_input("an encrypted repository is not opened as plaintext")),
    }
}

fn unlock_secrets_file(file: &SecretsKeyFile, access: &Access) -> Result<SecretsKey> {
    match access {
        Access::Passphrase(p) => file.unlock(p),
        Access::Key(k) => file.unlock_with_key(k),
        Access::Plaintext => Err(Error::invalid_input("the secrets key is never plaintext")),
    }
}

/// The repository's keys, and the path of the key file `access` opened. Files are tried
/// cheapest first; a damaged or malformed file, one with Argon2id demands above the caps, or one
/// bound to another repository is skipped and, if no file opens, named in the error
/// ([`ErrorKind::Protocol`]). Only a wrong passphrase or key is [`ErrorKind::Authentication`].
pub async fn open_master(store: &Store, repository: &str, access: &Access) -> Result<(MasterKeys, String)> {
    if matches!(access, Access::Plaintext) {
        return Err(Error::invalid_input("an encrypted repository is not opened as plaintext"));
    }
    let mut attempts = Attempts::default();
    let mut candidates = Vec::new();
    for stored in read_all(store, KeyKind::Master).await? {
        match parse_master(&stored, repository) {
            Ok(file) if file.uses_passphrase() == matches!(access, Access::Passphrase(_)) => {
                candidates.push((stored.path, file))
            }
            Ok(_) => attempts.other_kind += 1,
            Err(why) => attempts.problems.push(format!("key file {}: {why}", stored.path)),
        }
    }
    candidates.sort_by_key(|(path, file)| (file.cost(), path.clone()));
    for (path, file) in candidates {
        match unlock_master(&file, access) {
            Ok(keys) => {
                for problem in &attempts.problems {
                    tracing::warn!("{problem} (run `entra-backup check`)");
                }
                return Ok((keys, path));
            }
            Err(e) if e.kind() == ErrorKind::Authentication => attempts.wrong += 1,
            Err(e) => attempts.problems.push(format!("key file {path}: {}", e.message())),
        }
    }
    Err(attempts.error(KeyKind::Master, store.location(), access))
}

/// The secrets key whose public key is `public` (the one the repository's keys seal to), and the
/// path of the file that opened. A file that is damaged, malformed, bound to another repository
/// or for another public key does not stop the others from being tried.
pub async fn open_secrets(
    store: &Store,
    repository: &str,
    public: &SecretsPublicKey,
    access: &Access,
) -> Result<(SecretsKey, String)> {
    if matches!(access, Access::Plaintext) {
        return Err(Error::invalid_input("the secrets key is never plaintext"));
    }
    let mut attempts = Attempts::default();
    let mut candidates = Vec::new();
    for stored in read_all(store, KeyKind::Secrets).await? {
        let parsed = parse_secrets(&stored, repository).and_then(|file| match file.public_key() {
            Ok(p) if p == *public => Ok(file),
            Ok(p) => Err(format!("holds the key of {}, not of the repository's {}", p.to_base64(), public.to_base64())),
            Err(e) => Err(e.message().to_string()),
        });
        match parsed {
            Ok(file) if file.uses_passphrase() == matches!(access, Access::Passphrase(_)) => {
                candidates.push((stored.path, file))
            }
            Ok(_) => attempts.other_kind += 1,
            Err(why) => attempts.problems.push(format!("secrets key file {}: {why}", stored.path)),
        }
    }
    candidates.sort_by_key(|(path, file)| (file.cost(), path.clone()));
    for (path, file) in candidates {
        match unlock_secrets_file(&file, access) {
            Ok(key) => return Ok((key, path)),
            Err(e) if e.kind() == ErrorKind::Authentication => attempts.wrong += 1,
            Err(e) => attempts.problems.push(format!("secrets key file {path}: {}", e.message())),
        }
    }
    Err(attempts.error(KeyKind::Secrets, store.location(), access))
}

/// Whether an intact secrets key file of the repository holds `public`.
pub async fn holds_public_key(store: &Store, repository: &str, public: &SecretsPublicKey) -> Result<bool> {
    Ok(read_all(store, KeyKind::Secrets)
        .await?
        .iter()
        .any(|s| parse_secrets(s, repository).is_ok_and(|f| f.public_key().is_ok_and(|p| p == *public))))
}

/// What [`check_key_files`] found: damage (errors) and things to know (warnings).
#[derive(Debug, Default, Clone)]
pub struct KeyCheck {
    /// Damage, one message per problem, naming the file.
    pub errors: Vec<String>,
    /// Not damage, but worth knowing.
    pub warnings: Vec<String>,
}

/// Check every key file without a passphrase: each is intact (its name is its hash), well formed,
/// within the KDF caps and bound to this repository; every secrets key file holds the same public
/// key; the key the repository was opened with (`cipher`) seals to that public key; every master
/// key file shows that same public key; and it is the one this machine pinned (see
/// [`super::trust`]), if it pinned one. Each problem names its file.
pub async fn check_key_files(store: &Store, repository: &str, cipher: &Cipher) -> Result<KeyCheck> {
    let mut report = KeyCheck::default();
    let Some(sealed_to) = cipher.secrets_public_key() else { return Ok(report) };
    for stored in read_all(store, KeyKind::Master).await? {
        match parse_master(&stored, repository) {
            Err(why) => report.errors.push(format!("{}: {why}", stored.path)),
            Ok(file) => match file.secrets_public_key() {
                Ok(Some(shown)) if shown != *sealed_to => report.errors.push(format!(
                    "{}: seals secrets to {}, but the key this repository was opened with seals them to {}: \
                     key files disagree (was one replaced?)",
                    stored.path,
                    shown.to_base64(),
                    sealed_to.to_base64()
                )),
                Ok(Some(_)) => {}
                Ok(None) => report.warnings.push(format!(
                    "{}: a version 1 key file (not bound to this repository); `entra-backup key passwd` rewrites it",
                    stored.path
                )),
                Err(e) => report.errors.push(format!("{}: {}", stored.path, e.message())),
            },
        }
    }
    let mut publics: Vec<(String, SecretsPublicKey)> = Vec::new();
    for stored in read_all(store, KeyKind::Secrets).await? {
        match parse_secrets(&stored, repository).and_then(|f| f.public_key().map_err(|e| e.message().to_string())) {
            Ok(public) => publics.push((stored.path, public)),
            Err(why) => report.errors.push(format!("{}: {why}", stored.path)),
        }
    }
    if let Some((first_path, first)) = publics.first()
        && let Some((path, other)) = publics.iter().find(|(_, p)| p != first)
    {
        report.errors.push(format!(
            "{path}: holds the secrets public key {}, {first_path} holds {}: secrets key files disagree",
            other.to_base64(),
            first.to_base64()
        ));
    }
    if !publics.iter().any(|(_, p)| p == sealed_to) {
        report.errors.push(format!(
            "keys/: the repository key seals secrets to {}, which no intact secrets key file holds: secrets written \
             now could not be read with the secrets key (was a key file replaced?)",
            sealed_to.to_base64()
        ));
    }
    match super::trust::pinned_default(cipher) {
        Ok(Some(pin)) if pin.public_key != *sealed_to => report.errors.push(format!(
            "keys/: the repository key seals secrets to {}, but this machine pinned {} ({}); backups refuse to \
             seal secrets",
            sealed_to.to_base64(),
            pin.public_key.to_base64(),
            pin.path.display()
        )),
        Ok(_) => {}
        Err(e) => report.warnings.push(format!("the trusted secrets key could not be read: {}", e.message())),
    }
    Ok(report)
}

/// One key file, as `key list` shows it.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyInfo {
    /// The file's path in the repository (`keys/<id>`).
    pub path: String,
    /// Which set it belongs to.
    pub kind: KeyKind,
    /// `passphrase` or `key file`; empty when the file cannot be read.
    pub opened_with: String,
    /// The Argon2id cost (`argon2id m=64 MiB t=3`); `None` for a raw-key file or one that
    /// cannot be read.
    pub kdf: Option<String>,
    /// When it was made; `None` when it cannot be read.
    pub created: Option<jiff::Timestamp>,
    /// Its format version; `None` when it cannot be read.
    pub version: Option<u32>,
    /// The secrets public key it holds or seals to (base64), when it shows one.
    pub public_key: Option<String>,
    /// What is wrong with it, if anything.
    pub problem: Option<String>,
}

/// Every key file of both kinds, readable or not (no passphrase needed).
pub async fn list_keys(store: &Store, repository: &str) -> Result<Vec<KeyInfo>> {
    let mut out = Vec::new();
    for kind in [KeyKind::Master, KeyKind::Secrets] {
        for stored in read_all(store, kind).await? {
            let mut info = KeyInfo {
                path: stored.path.clone(),
                kind,
                opened_with: String::new(),
                kdf: None,
                created: None,
                version: None,
                public_key: None,
                problem: None,
            };
            let shown = match kind {
                KeyKind::Master => parse_master(&stored, repository)
                    .map(|f| (f.kdf_params(), f.created(), f.version(), f.secrets_public_key().ok().flatten())),
                KeyKind::Secrets => parse_secrets(&stored, repository)
                    .map(|f| (f.kdf_params(), f.created(), f.version(), f.public_key().ok())),
            };
            match shown {
                Ok((kdf, created, version, public)) => {
                    info.opened_with = if kdf.is_some() { "passphrase" } else { "key file" }.into();
                    info.kdf = kdf.map(|p| format!("argon2id m={} MiB t={}", p.memory_kib / 1024, p.iterations));
                    info.created = Some(created);
                    info.version = Some(version);
                    info.public_key = public.map(|p| p.to_base64());
                }
                Err(why) => info.problem = Some(why),
            }
            out.push(info);
        }
    }
    Ok(out)
}

/// Write a key file's JSON (create-if-absent under its content's name); its path.
pub async fn write(store: &Store, kind: KeyKind, json: Vec<u8>) -> Result<String> {
    let path = key_file_path(kind, &json);
    store.put_if_absent(&path, Bytes::from(json)).await?;
    Ok(path)
}

/// `keys` wrapped in a new key file opened by `new` (a passphrase, with `kdf`, or a raw key): its
/// JSON, for [`write()`].
pub fn wrap_master(keys: &MasterKeys, repository: &str, new: &Access, kdf: KdfParams) -> Result<Vec<u8>> {
    let file = match new {
        Access::Passphrase(p) => KeyFile::create_with_passphrase(keys, repository, p, kdf)?,
        Access::Key(k) => KeyFile::create_with_key(keys, repository, k),
        Access::Plaintext => return Err(Error::invalid_input("a key file needs a passphrase or a raw key")),
    };
    Ok(file.to_json())
}

/// The secrets key wrapped in a new secrets key file opened by `new`: its JSON, for [`write()`].
pub fn wrap_secrets(key: &SecretsKey, repository: &str, new: &Access, kdf: KdfParams) -> Result<Vec<u8>> {
    let file = match new {
        Access::Passphrase(p) => SecretsKeyFile::create_with_passphrase(key, repository, p, kdf)?,
        Access::Key(k) => SecretsKeyFile::create_with_key(key, repository, k),
        Access::Plaintext => {
            return Err(Error::invalid_input("the secrets key of an encrypted repository cannot be plaintext"));
        }
    };
    Ok(file.to_json())
}

/// Remove the key file of `kind` that `name` names (its path, or a unique prefix of 4 or more hex
/// digits of its id). Refused when it is `in_use` (the file the caller opened with: use `key
/// passwd`, or open with another key) or when no other intact file of its kind would remain.
pub async fn remove_key(store: &Store, repository: &str, kind: KeyKind, name: &str, in_use: &str) -> Result<String> {
    let files = read_all(store, kind).await?;
    let wanted = name.trim().trim_start_matches(&format!("{}/", kind.dir())).to_ascii_lowercase();
    if wanted.len() < 4 || !wanted.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::invalid_input(format!(
            "`{}` is not a key file: give its id (at least 4 hex digits), as `entra-backup key list` shows",
            name.chars().filter(|c| !c.is_control()).take(80).collect::<String>()
        )));
    }
    let prefix = format!("{}/{wanted}", kind.dir());
    let matches: Vec<&Stored> = files.iter().filter(|s| s.path.starts_with(&prefix)).collect();
    let target = match matches.as_slice() {
        [one] => one.path.clone(),
        [] => return Err(Error::new(ErrorKind::NotFound, format!("no key file {prefix} in {}", kind.dir()))),
        _ => return Err(Error::invalid_input(format!("{prefix} names {} key files; give more digits", matches.len()))),
    };
    if target == in_use {
        return Err(Error::invalid_input(format!(
            "{target} is the key file your passphrase or key opens; change it with `entra-backup key passwd`, \
             or open the repository with another key to remove it"
        )));
    }
    let others_intact = files
        .iter()
        .filter(|s| s.path != target)
        .filter(|s| match kind {
            KeyKind::Master => parse_master(s, repository).is_ok(),
            KeyKind::Secrets => parse_secrets(s, repository).is_ok(),
        })
        .count();
    if others_intact == 0 {
        return Err(Error::invalid_input(format!("{target} is the last intact key file of its kind; it stays")));
    }
    store.delete(&target).await?;
    Ok(target)
}
