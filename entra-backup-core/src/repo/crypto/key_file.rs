//! Key files: [`MasterKeys`] or a [`SecretsKey`] wrapped with XChaCha20-Poly1305 under a key derived
//! from a passphrase (Argon2id) or from a [`RawKey`] (BLAKE3 key derivation). JSON, stored by the
//! repository under `keys/` and `secrets-keys/`:
//!
//! ```json
//! {
//!   "version": 2,
//!   "kind": "master",
//!   "repository": "<the repository id, 64 hex digits>",
//!   "created": "2026-05-01T12:00:00Z",
//!   "kdf": { "algorithm": "argon2id", "version": 19, "memory_kib": 65536, "iterations": 3,
//!            "parallelism": 1, "salt": "<base64, 32 bytes>" },
//!   "public_key": "<base64: the secrets public key>",
//!   "data": "<base64: nonce (24) || ciphertext || tag (16)>"
//! }
//! ```
//!
//! `kind` is `master` or `secrets`. With a raw key, `kdf` is `{ "algorithm": "raw-key", "salt":
//! "<base64, 32 bytes>" }`. The additional authenticated data binds the kind, the repository id
//! and the public key, so none of them can be changed unnoticed; a master key file's wrapped public
//! key must also equal the one it shows, so `check` can compare every key file's public key
//! without a passphrase. Version 1 files (no `repository`, no `public_key` in a master file) are
//! still read.

use std::fmt;

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use super::{
    KEY_LEN, KdfParams, Key32, MasterKeys, NONCE_LEN, RawKey, SEAL_OVERHEAD, SecretsKey, SecretsPublicKey, b64_decode,
    b64_encode,
};
use crate::Secret;
use crate::{Error, ErrorKind, Result};

/// The version written. Version 1 (before key files were bound to their repository) is read.
const FORMAT_VERSION: u32 = 2;
const SALT_LEN: usize = 32;
/// Argon2 version 1.3, the only one written or read.
const ARGON2_VERSION: u32 = 0x13;

const WRONG_PASSPHRASE: &str = "wrong passphrase for the repository (or a damaged key file)";
const WRONG_RAW_KEY: &str = "wrong key for the repository (or a damaged key file)";
const WRONG_SECRETS_PASSPHRASE: &str =
    "wrong passphrase for the repository's secrets key (or a damaged secrets key file)";
const WRONG_SECRETS_RAW_KEY: &str = "wrong key for the repository's secrets key (or a damaged secrets key file)";

/// The JSON of a key file.
#[derive(Clone, Serialize, Deserialize)]
struct WrappedKey {
    version: u32,
    kind: Kind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    repository: Option<String>,
    created: jiff::Timestamp,
    kdf: Kdf,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    public_key: Option<String>,
    data: String,
}

#[derive(Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Kind {
    Master,
    Secrets,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Master => "master",
            Kind::Secrets => "secrets",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Kind::Master => "a repository key file",
            Kind::Secrets => "a secrets key file",
        }
    }
}

#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "algorithm")]
enum Kdf {
    #[serde(rename = "argon2id")]
    Argon2id { version: u32, memory_kib: u32, iterations: u32, parallelism: u32, salt: String },
    #[serde(rename = "raw-key")]
    RawKey { salt: String },
}

/// How the caller unlocks, for choosing the key derivation and the error message.
enum Unlock<'a> {
    Passphrase(&'a Secret),
    Key(&'a RawKey),
}

fn random_salt() -> [u8; SALT_LEN] {
    let mut salt = [0u8; SALT_LEN];
    OsRng.fill_bytes(&mut salt);
    salt
}

fn invalid(what: &str) -> Error {
    Error::new(ErrorKind::Protocol, format!("the key file is not a valid key file ({what})"))
}

impl WrappedKey {
    /// Additional authenticated data: the format, the kind, the repository (version 2) and the
    /// public key.
    fn aad(&self, public_key: Option<&SecretsPublicKey>) -> Vec<u8> {
        let mut aad = format!("entra-backup key file v{}\0{}\0", self.version, self.kind.name()).into_bytes();
        if let Some(repository) = &self.repository {
            aad.extend_from_slice(repository.as_bytes());
            aad.push(0);
        }
        if let Some(public) = public_key {
            aad.extend_from_slice(public.as_bytes());
        }
        aad
    }

    fn create(
        kind: Kind,
        payload: &[u8],
        repository: &str,
        public_key: &SecretsPublicKey,
        unlock: Unlock<'_>,
        params: KdfParams,
    ) -> Result<Self> {
        let salt = random_salt();
        let (kdf, wrapping_key) = match unlock {
            Unlock::Passphrase(passphrase) => {
                if passphrase.expose().is_empty() {
                    return Err(Error::invalid_input("the passphrase is empty"));
                }
                let key = params.derive(passphrase.expose().as_bytes(), &salt)?;
                let kdf = Kdf::Argon2id {
                    version: ARGON2_VERSION,
                    memory_kib: params.memory_kib,
                    iterations: params.iterations,
                    parallelism: params.parallelism,
                    salt: b64_encode(&salt),
                };
                (kdf, key)
            }
            Unlock::Key(raw) => (Kdf::RawKey { salt: b64_encode(&salt) }, raw.wrapping_key(&salt)),
        };
        let mut file = WrappedKey {
            version: FORMAT_VERSION,
            kind,
            repository: Some(repository.to_string()),
            created: jiff::Timestamp::now(),
            kdf,
            public_key: Some(public_key.to_base64()),
            data: String::new(),
        };
        let aead = XChaCha20Poly1305::new(wrapping_key.as_bytes().into());
        let mut nonce = XNonce::default();
        OsRng.fill_bytes(&mut nonce);
        let aad = file.aad(Some(public_key));
        let sealed = aead.encrypt(&nonce, Payload { msg: payload, aad: &aad }).expect("a key payload is small");
        let mut data = Vec::with_capacity(NONCE_LEN + sealed.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&sealed);
        file.data = b64_encode(&data);
        Ok(file)
    }

    /// Parse and validate everything that can be checked without a passphrase: the version, the
    /// kind, the fields each version requires, the salt's length, the public key, the Argon2
    /// parameters (against [`KdfParams`]' caps) and the data's encoding.
    fn parse(json: &[u8], expected: Kind) -> Result<Self> {
        let file: WrappedKey = serde_json::from_slice(json).map_err(|e| {
            // serde_json's message can quote the input; give the position only.
            Error::new(
                ErrorKind::Protocol,
                format!("the key file is not a valid key file (line {}, column {})", e.line(), e.column()),
            )
        })?;
        if !(1..=FORMAT_VERSION).contains(&file.version) {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "the key file has format version {}; this program reads versions 1 to {FORMAT_VERSION}",
                    file.version
                ),
            ));
        }
        if file.kind != expected {
            return Err(Error::invalid_input(format!("this is {}, not {}", file.kind.describe(), expected.describe())));
        }
        let v2 = file.version >= 2;
        // Version 1: only a secrets file shows its public key; version 2: every file does.
        if (v2 || expected == Kind::Secrets) != file.public_key.is_some() {
            return Err(invalid("public_key"));
        }
        if v2 != file.repository.is_some() || file.repository.as_deref().is_some_and(|r| r.len() > 128) {
            return Err(invalid("repository"));
        }
        file.public_key()?;
        let salt = match &file.kdf {
            Kdf::Argon2id { version, salt, .. } => {
                if *version != ARGON2_VERSION {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("the key file uses Argon2 version {version}; only 19 is supported"),
                    ));
                }
                if let Some(why) = file.kdf_params().and_then(|p| p.check()) {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("the key file asks for Argon2id parameters out of range ({why}); it is not tried"),
                    ));
                }
                salt
            }
            Kdf::RawKey { salt } => salt,
        };
        if b64_decode(salt).is_none_or(|s| s.len() != SALT_LEN) {
            return Err(invalid("salt: not 32 bytes of base64"));
        }
        if b64_decode(&file.data).is_none_or(|d| d.len() < SEAL_OVERHEAD) {
            return Err(invalid("data"));
        }
        Ok(file)
    }

    fn public_key(&self) -> Result<Option<SecretsPublicKey>> {
        self.public_key
            .as_deref()
            .map(|text| SecretsPublicKey::from_base64(text).map_err(|_| invalid("public_key")))
            .transpose()
    }

    fn kdf_params(&self) -> Option<KdfParams> {
        match self.kdf {
            Kdf::Argon2id { memory_kib, iterations, parallelism, .. } => {
                Some(KdfParams { memory_kib, iterations, parallelism })
            }
            Kdf::RawKey { .. } => None,
        }
    }

    /// The work opening this file takes: 0 for a raw key, else Argon2id's.
    fn cost(&self) -> u64 {
        self.kdf_params().map_or(0, |p| p.cost())
    }

    /// The unwrapped payload, or an Authentication error with `wrong` for any failure to open.
    fn unwrap_payload(&self, unlock: Unlock<'_>, wrong: (&str, &str)) -> Result<Zeroizing<Vec<u8>>> {
        let (wrapping_key, wrong) = match (&self.kdf, unlock) {
            (Kdf::Argon2id { salt, .. }, Unlock::Passphrase(passphrase)) => {
                let salt = b64_decode(salt).filter(|s| s.len() == SALT_LEN).ok_or_else(|| invalid("salt"))?;
                let params = self.kdf_params().expect("argon2id has parameters");
                if let Some(why) = params.check() {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("the key file's Argon2id parameters are out of range: {why}"),
                    ));
                }
                (params.derive(passphrase.expose().as_bytes(), &salt)?, wrong.0)
            }
            (Kdf::RawKey { salt }, Unlock::Key(raw)) => {
                let salt = b64_decode(salt).filter(|s| s.len() == SALT_LEN).ok_or_else(|| invalid("salt"))?;
                (raw.wrapping_key(&salt), wrong.1)
            }
            (Kdf::Argon2id { .. }, Unlock::Key(_)) => {
                return Err(Error::invalid_input("this key file is unlocked with a passphrase, not a key file"));
            }
            (Kdf::RawKey { .. }, Unlock::Passphrase(_)) => {
                return Err(Error::invalid_input("this key file is unlocked with a key file, not a passphrase"));
            }
        };
        let data = b64_decode(&self.data).ok_or_else(|| invalid("data"))?;
        if data.len() < SEAL_OVERHEAD {
            return Err(Error::new(ErrorKind::Authentication, wrong));
        }
        let public_key = self.public_key()?;
        let aad = self.aad(public_key.as_ref());
        let (nonce, ciphertext) = data.split_at(NONCE_LEN);
        let aead = XChaCha20Poly1305::new(wrapping_key.as_bytes().into());
        aead.decrypt(XNonce::from_slice(nonce), Payload { msg: ciphertext, aad: &aad })
            .map(Zeroizing::new)
            .map_err(|_| Error::new(ErrorKind::Authentication, wrong))
    }

    fn to_json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).expect("a key file serializes");
        json.push(b'\n');
        json
    }

    /// `Debug` for the key file types: kind, creation time and KDF, never the wrapped data.
    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kdf = match self.kdf_params() {
            Some(p) => format!("argon2id(m={} KiB, t={}, p={})", p.memory_kib, p.iterations, p.parallelism),
            None => "raw-key".to_string(),
        };
        f.debug_struct(name)
            .field("created", &self.created)
            .field("kdf", &format_args!("{kdf}"))
            .finish_non_exhaustive()
    }
}

/// What a key file shows without being opened, for listing and checking.
macro_rules! shown_fields {
    () => {
        /// The Argon2id parameters, or `None` for a key file opened with a raw key.
        pub fn kdf_params(&self) -> Option<KdfParams> {
            self.0.kdf_params()
        }

        /// The work opening it takes (0 for a raw key): key files are tried cheapest first.
        pub fn cost(&self) -> u64 {
            self.0.cost()
        }

        /// Whether it is opened with a passphrase (else with a raw key file).
        pub fn uses_passphrase(&self) -> bool {
            self.0.kdf_params().is_some()
        }

        /// When the key file was made.
        pub fn created(&self) -> jiff::Timestamp {
            self.0.created
        }

        /// The repository id it is bound to (`None` for a version 1 file, bound to none).
        pub fn repository(&self) -> Option<&str> {
            self.0.repository.as_deref()
        }

        /// The format version (1 or 2).
        pub fn version(&self) -> u32 {
            self.0.version
        }

        /// The file's JSON (pretty, newline-terminated).
        pub fn to_json(&self) -> Vec<u8> {
            self.0.to_json()
        }
    };
}

impl fmt::Debug for KeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("KeyFile", f)
    }
}

impl fmt::Debug for SecretsKeyFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("SecretsKeyFile", f)
    }
}

/// [`MasterKeys`] wrapped under a passphrase or a [`RawKey`]: one file per way in, under `keys/`.
#[derive(Clone)]
pub struct KeyFile(WrappedKey);

impl KeyFile {
    /// Wrap `keys` of the repository `repository` (its id) under `passphrase` (Argon2id with
    /// `params`, random salt). Empty passphrases and parameters out of range are refused.
    pub fn create_with_passphrase(
        keys: &MasterKeys,
        repository: &str,
        passphrase: &Secret,
        params: KdfParams,
    ) -> Result<Self> {
        let payload = keys.to_payload();
        let public = keys.secrets_public_key();
        WrappedKey::create(Kind::Master, &payload, repository, public, Unlock::Passphrase(passphrase), params)
            .map(KeyFile)
    }

    /// Wrap `keys` under a raw key (kept by the user in a key file).
    pub fn create_with_key(keys: &MasterKeys, repository: &str, key: &RawKey) -> Self {
        let payload = keys.to_payload();
        let public = keys.secrets_public_key();
        WrappedKey::create(Kind::Master, &payload, repository, public, Unlock::Key(key), KdfParams::default())
            .map(KeyFile)
            .expect("wrapping under a raw key cannot fail")
    }

    /// Unwrap with the passphrase. Wrong passphrase (or damaged file): [`ErrorKind::Authentication`],
    /// "wrong passphrase for the repository (or a damaged key file)".
    pub fn unlock(&self, passphrase: &Secret) -> Result<MasterKeys> {
        self.finish(&self.0.unwrap_payload(Unlock::Passphrase(passphrase), (WRONG_PASSPHRASE, WRONG_RAW_KEY))?)
    }

    /// Unwrap with the raw key. Wrong key: [`ErrorKind::Authentication`].
    pub fn unlock_with_key(&self, key: &RawKey) -> Result<MasterKeys> {
        self.finish(&self.0.unwrap_payload(Unlock::Key(key), (WRONG_PASSPHRASE, WRONG_RAW_KEY))?)
    }

    fn finish(&self, payload: &[u8]) -> Result<MasterKeys> {
        let keys = MasterKeys::from_payload(payload)?;
        // Authenticated, so only someone who could wrap the keys could make these differ.
        if self.0.public_key()?.is_some_and(|shown| shown != *keys.secrets_public_key()) {
            return Err(Error::new(
                ErrorKind::Protocol,
                "the key file wraps another secrets public key than the one it shows",
            ));
        }
        Ok(keys)
    }

    /// The secrets public key the file shows (authenticated when it is opened); `None` for a
    /// version 1 file, which shows none.
    pub fn secrets_public_key(&self) -> Result<Option<SecretsPublicKey>> {
        self.0.public_key()
    }

    shown_fields!();

    /// Parse a key file. Malformed JSON, an unknown version or out-of-range parameters is
    /// [`ErrorKind::Protocol`]; a secrets key file is [`ErrorKind::InvalidInput`].
    pub fn from_json(json: &[u8]) -> Result<Self> {
        WrappedKey::parse(json, Kind::Master).map(KeyFile)
    }
}

/// The [`SecretsKey`] wrapped under its own passphrase or [`RawKey`], separate from the
/// repository's. Carries the public key in the clear (authenticated), to tell which repository it
/// belongs to before asking for the passphrase.
#[derive(Clone)]
pub struct SecretsKeyFile(WrappedKey);

impl SecretsKeyFile {
    /// Wrap `key` for the repository `repository` (its id) under the secrets passphrase
    /// (Argon2id with `params`, random salt). Empty passphrases and parameters out of range are
    /// refused.
    pub fn create_with_passphrase(
        key: &SecretsKey,
        repository: &str,
        passphrase: &Secret,
        params: KdfParams,
    ) -> Result<Self> {
        let payload = key.to_key_bytes();
        let public = key.public_key();
        WrappedKey::create(
            Kind::Secrets,
            payload.as_bytes(),
            repository,
            public,
            Unlock::Passphrase(passphrase),
            params,
        )
        .map(SecretsKeyFile)
    }

    /// Wrap `key` for the repository `repository` (its id) under a raw key.
    pub fn create_with_key(key: &SecretsKey, repository: &str, raw: &RawKey) -> Self {
        let payload = key.to_key_bytes();
        let public = key.public_key();
        WrappedKey::create(
            Kind::Secrets,
            payload.as_bytes(),
            repository,
            public,
            Unlock::Key(raw),
            KdfParams::default(),
        )
        .map(SecretsKeyFile)
        .expect("wrapping under a raw key cannot fail")
    }

    /// Unwrap with the secrets passphrase. Wrong passphrase: [`ErrorKind::Authentication`],
    /// "wrong passphrase for the repository's secrets key (or a damaged secrets key file)".
    pub fn unlock(&self, passphrase: &Secret) -> Result<SecretsKey> {
        let payload =
            self.0.unwrap_payload(Unlock::Passphrase(passphrase), (WRONG_SECRETS_PASSPHRASE, WRONG_SECRETS_RAW_KEY))?;
        self.finish(&payload)
    }

    /// Unwrap with the raw key. Wrong key: [`ErrorKind::Authentication`].
    pub fn unlock_with_key(&self, raw: &RawKey) -> Result<SecretsKey> {
        let payload = self.0.unwrap_payload(Unlock::Key(raw), (WRONG_SECRETS_PASSPHRASE, WRONG_SECRETS_RAW_KEY))?;
        self.finish(&payload)
    }

    fn finish(&self, payload: &[u8]) -> Result<SecretsKey> {
        if payload.len() != KEY_LEN {
            return Err(Error::new(ErrorKind::Protocol, "the secrets key file holds a key of the wrong length"));
        }
        let key = SecretsKey::from_key_bytes(&Key32::from_slice(payload));
        if Some(*key.public_key()) != self.0.public_key()? {
            return Err(Error::new(
                ErrorKind::Protocol,
                "the secrets key file's private key does not match its public key",
            ));
        }
        Ok(key)
    }

    /// The public key this file's private key belongs to; compare with
    /// [`MasterKeys::secrets_public_key`] to check the file belongs to the repository.
    pub fn public_key(&self) -> Result<SecretsPublicKey> {
        Ok(self.0.public_key()?.expect("checked when parsed or created"))
    }

    shown_fields!();

    /// Parse a secrets key file (see [`KeyFile::from_json`]).
    pub fn from_json(json: &[u8]) -> Result<Self> {
        WrappedKey::parse(json, Kind::Secrets).map(SecretsKeyFile)
    }
}

#[cfg(test)]
mod tests;
