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
use crate::graph::auth::Secret;
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
mod tests {
    use super::super::tests::assert_hides;
    use super::*;

    const REPO: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn fast() -> KdfParams {
        KdfParams::fast_for_tests()
    }

    fn pass(s: &str) -> Secret {
        Secret::new(s)
    }

    #[test]
    fn passphrase_round_trip_through_json() {
        let (keys, _) = MasterKeys::generate();
        let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("correct horse"), fast()).unwrap();
        let json = file.to_json();
        let back = KeyFile::from_json(&json).unwrap();
        assert_eq!(back.unlock(&pass("correct horse")).unwrap(), keys);
        assert_eq!(back.kdf_params(), Some(fast()));
        assert_eq!(back.created(), file.created());
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["version"], 2);
        assert_eq!(v["repository"], REPO);
        assert_eq!(v["kind"], "master");
        assert_eq!(v["kdf"]["algorithm"], "argon2id");
        assert_eq!(v["kdf"]["version"], 19);
        assert_eq!(v["kdf"]["memory_kib"], 8);
        assert_eq!(v["kdf"]["iterations"], 1);
        assert_eq!(v["kdf"]["parallelism"], 1);
        assert_eq!(v["public_key"], keys.secrets_public_key().to_base64());
        assert_eq!(b64_decode(v["kdf"]["salt"].as_str().unwrap()).unwrap().len(), SALT_LEN);
        assert_eq!(b64_decode(v["data"].as_str().unwrap()).unwrap().len(), 3 * KEY_LEN + SEAL_OVERHEAD);
    }

    #[test]
    fn kdf_params_round_trip_through_json() {
        let (keys, _) = MasterKeys::generate();
        let params = KdfParams { memory_kib: 64, iterations: 2, parallelism: 2 };
        let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), params).unwrap();
        let back = KeyFile::from_json(&file.to_json()).unwrap();
        assert_eq!(back.kdf_params(), Some(params));
        assert_eq!(back.unlock(&pass("pw")).unwrap(), keys);
        assert_eq!(KdfParams::default(), KdfParams { memory_kib: 65536, iterations: 3, parallelism: 1 });
    }

    #[test]
    fn wrong_passphrase_is_authentication_without_the_passphrase() {
        let (keys, _) = MasterKeys::generate();
        let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("hunter2-right"), fast()).unwrap();
        let err = file.unlock(&pass("hunter2-typo")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.message(), "wrong passphrase for the repository (or a damaged key file)");
        let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn salts_differ_and_same_passphrase_gives_different_files() {
        let (keys, _) = MasterKeys::generate();
        let a = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
        let b = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
        let (Kdf::Argon2id { salt: sa, .. }, Kdf::Argon2id { salt: sb, .. }) = (&a.0.kdf, &b.0.kdf) else { panic!() };
        assert_ne!(sa, sb);
        assert_ne!(a.0.data, b.0.data);
    }

    #[test]
    fn damaged_key_file_is_caught() {
        let (keys, _) = MasterKeys::generate();
        let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
        let data = b64_decode(&file.0.data).unwrap();
        for i in 0..data.len() {
            let mut bad = data.to_vec();
            bad[i] ^= 0x10;
            let mut damaged = file.clone();
            damaged.0.data = b64_encode(&bad);
            assert_eq!(damaged.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication, "byte {i}");
        }
        // A changed salt or changed parameters derive another key.
        let mut damaged = file.clone();
        if let Kdf::Argon2id { salt, .. } = &mut damaged.0.kdf {
            *salt = b64_encode(&[7u8; SALT_LEN]);
        }
        assert_eq!(damaged.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication);
        let mut damaged = file.clone();
        if let Kdf::Argon2id { iterations, .. } = &mut damaged.0.kdf {
            *iterations = 2;
        }
        assert_eq!(damaged.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication);
        // Truncated data.
        let mut damaged = file.clone();
        damaged.0.data = b64_encode(&data[..10]);
        assert_eq!(damaged.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication);
    }

    #[test]
    fn hostile_parameters_are_refused_before_deriving() {
        let (keys, _) = MasterKeys::generate();
        let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
        for (m, t, p) in [(u32::MAX, 1, 1), (8, 1_000_000, 1), (8, 1, 0), (8, 0, 1), (4, 1, 1), (8, 1, 2)] {
            let mut bad = file.clone();
            if let Kdf::Argon2id { memory_kib, iterations, parallelism, .. } = &mut bad.0.kdf {
                (*memory_kib, *iterations, *parallelism) = (m, t, p);
            }
            let err = bad.unlock(&pass("pw")).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "{m} {t} {p}: {err}");
        }
        assert_eq!(
            KeyFile::create_with_passphrase(
                &keys,
                REPO,
                &pass("pw"),
                KdfParams { memory_kib: 1, iterations: 1, parallelism: 1 }
            )
            .unwrap_err()
            .kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn malformed_json_and_versions() {
        let (keys, secrets) = MasterKeys::generate();
        let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
        let err = KeyFile::from_json(b"{\"version\": \"secret-ish text\"}").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(!err.to_string().contains("secret-ish"));
        assert_eq!(KeyFile::from_json(b"not json").unwrap_err().kind(), ErrorKind::Protocol);
        let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
        v["version"] = 3.into();
        assert_eq!(KeyFile::from_json(v.to_string().as_bytes()).unwrap_err().kind(), ErrorKind::Protocol);
        let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
        v["kdf"]["version"] = 16.into();
        assert_eq!(KeyFile::from_json(v.to_string().as_bytes()).unwrap_err().kind(), ErrorKind::Protocol);
        // Unknown fields are ignored (room for hostname, username...).
        let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
        v["hostname"] = "backup-host".into();
        let back = KeyFile::from_json(v.to_string().as_bytes()).unwrap();
        assert_eq!(back.unlock(&pass("pw")).unwrap(), keys);
        // The wrong kind of file.
        let sfile = SecretsKeyFile::create_with_passphrase(&secrets, REPO, &pass("pw"), fast()).unwrap();
        assert_eq!(KeyFile::from_json(&sfile.to_json()).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(SecretsKeyFile::from_json(&file.to_json()).unwrap_err().kind(), ErrorKind::InvalidInput);
        // Relabelled as the other kind, it fails to open (the kind is authenticated).
        let mut v: serde_json::Value = serde_json::from_slice(&sfile.to_json()).unwrap();
        v["kind"] = "master".into();
        let relabelled = KeyFile::from_json(v.to_string().as_bytes()).unwrap();
        assert_eq!(relabelled.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication);
    }

    #[test]
    fn empty_passphrase_is_refused() {
        let (keys, secrets) = MasterKeys::generate();
        assert_eq!(
            KeyFile::create_with_passphrase(&keys, REPO, &pass(""), fast()).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            SecretsKeyFile::create_with_passphrase(&secrets, REPO, &pass(""), fast()).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn raw_key_round_trip() {
        let (keys, _) = MasterKeys::generate();
        let raw = RawKey::generate();
        let file = KeyFile::create_with_key(&keys, REPO, &raw);
        let json = file.to_json();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["kdf"]["algorithm"], "raw-key");
        let back = KeyFile::from_json(&json).unwrap();
        assert_eq!(back.kdf_params(), None);
        assert_eq!(back.unlock_with_key(&raw).unwrap(), keys);
        let err = back.unlock_with_key(&RawKey::generate()).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.message(), "wrong key for the repository (or a damaged key file)");
        // Unlocking the wrong way round says so.
        assert_eq!(back.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::InvalidInput);
        let pfile = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
        assert_eq!(pfile.unlock_with_key(&raw).unwrap_err().kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn secrets_key_file_round_trip() {
        let (keys, secrets) = MasterKeys::generate();
        let file = SecretsKeyFile::create_with_passphrase(&secrets, REPO, &pass("secrets pw"), fast()).unwrap();
        let json = file.to_json();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["kind"], "secrets");
        assert_eq!(v["public_key"], keys.secrets_public_key().to_base64());
        let back = SecretsKeyFile::from_json(&json).unwrap();
        assert_eq!(&back.public_key().unwrap(), keys.secrets_public_key());
        let opened = back.unlock(&pass("secrets pw")).unwrap();
        let sealed = keys.cipher().seal_secret(b"BitLocker key");
        assert_eq!(&opened.open_secret(&sealed).unwrap()[..], b"BitLocker key");
        // The repository passphrase does not open it.
        let err = back.unlock(&pass("repo pw")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.message(), WRONG_SECRETS_PASSPHRASE);
        // A swapped public key fails authentication (it is bound into the AAD).
        let (other, _) = MasterKeys::generate();
        let mut v = v.clone();
        v["public_key"] = other.secrets_public_key().to_base64().into();
        let swapped = SecretsKeyFile::from_json(v.to_string().as_bytes()).unwrap();
        assert_eq!(swapped.unlock(&pass("secrets pw")).unwrap_err().kind(), ErrorKind::Authentication);
        // With a raw key.
        let raw = RawKey::generate();
        let file = SecretsKeyFile::create_with_key(&secrets, REPO, &raw);
        let back = SecretsKeyFile::from_json(&file.to_json()).unwrap();
        assert_eq!(back.unlock_with_key(&raw).unwrap().public_key(), secrets.public_key());
        assert_eq!(back.unlock_with_key(&RawKey::generate()).unwrap_err().kind(), ErrorKind::Authentication);
    }

    #[test]
    fn key_files_show_no_key_material() {
        let (keys, secrets) = MasterKeys::generate();
        let raw = RawKey::generate();
        let files = [
            format!("{:?}", KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap()),
            format!("{:?}", KeyFile::create_with_key(&keys, REPO, &raw)),
            format!("{:?}", SecretsKeyFile::create_with_passphrase(&secrets, REPO, &pass("pw"), fast()).unwrap()),
            format!("{raw:?}"),
            String::from_utf8(KeyFile::create_with_key(&keys, REPO, &raw).to_json()).unwrap(),
            String::from_utf8(SecretsKeyFile::create_with_key(&secrets, REPO, &raw).to_json()).unwrap(),
        ];
        assert_eq!(files[3], "RawKey(..)");
        for text in &files {
            assert_hides(text, keys.data.as_bytes());
            assert_hides(text, keys.id.as_bytes());
            assert_hides(text, secrets.to_key_bytes().as_bytes());
            assert_hides(text, raw.key_bytes());
        }
    }

    /// Builds a version 1 file (as written before key files were bound to a repository).
    fn version_1(keys: &MasterKeys, passphrase: &str) -> KeyFile {
        let mut file = KeyFile::create_with_passphrase(keys, REPO, &pass(passphrase), fast()).unwrap();
        file.0.version = 1;
        file.0.repository = None;
        file.0.public_key = None;
        let salt = b64_decode(match &file.0.kdf {
            Kdf::Argon2id { salt, .. } => salt,
            Kdf::RawKey { .. } => unreachable!(),
        })
        .unwrap();
        let wrapping = fast().derive(passphrase.as_bytes(), &salt).unwrap();
        let aead = XChaCha20Poly1305::new(wrapping.as_bytes().into());
        let nonce = XNonce::default();
        let aad = file.0.aad(None);
        let sealed = aead.encrypt(&nonce, Payload { msg: &keys.to_payload(), aad: &aad }).unwrap();
        file.0.data = b64_encode(&[&nonce[..], &sealed].concat());
        file
    }

    #[test]
    fn version_1_files_are_still_read() {
        let (keys, _) = MasterKeys::generate();
        let old = version_1(&keys, "pw");
        let back = KeyFile::from_json(&old.to_json()).unwrap();
        assert_eq!(back.version(), 1);
        assert_eq!(back.repository(), None);
        assert_eq!(back.secrets_public_key().unwrap(), None);
        assert_eq!(back.unlock(&pass("pw")).unwrap(), keys);
    }

    #[test]
    fn key_files_are_bound_to_their_repository_and_public_key() {
        let (keys, _) = MasterKeys::generate();
        let file = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap();
        assert_eq!(file.repository(), Some(REPO));
        assert_eq!(file.secrets_public_key().unwrap().as_ref(), Some(keys.secrets_public_key()));
        // Another repository id, or another shown public key: the file no longer opens.
        let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
        v["repository"] = "f".repeat(64).into();
        assert_eq!(
            KeyFile::from_json(v.to_string().as_bytes()).unwrap().unlock(&pass("pw")).unwrap_err().kind(),
            ErrorKind::Authentication
        );
        let (other, _) = MasterKeys::generate();
        let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
        v["public_key"] = other.secrets_public_key().to_base64().into();
        assert_eq!(
            KeyFile::from_json(v.to_string().as_bytes()).unwrap().unlock(&pass("pw")).unwrap_err().kind(),
            ErrorKind::Authentication
        );
        // A version 2 file without its repository or public key is malformed.
        for field in ["repository", "public_key"] {
            let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
            v.as_object_mut().unwrap().remove(field);
            assert_eq!(
                KeyFile::from_json(v.to_string().as_bytes()).unwrap_err().kind(),
                ErrorKind::Protocol,
                "{field}"
            );
        }
    }

    #[test]
    fn salts_of_the_wrong_length_are_refused_when_read() {
        let (keys, _) = MasterKeys::generate();
        let raw = RawKey::generate();
        for json in [
            KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap().to_json(),
            KeyFile::create_with_key(&keys, REPO, &raw).to_json(),
        ] {
            for salt in [b64_encode(&[1u8; 8]), b64_encode(&[1u8; 33]), String::new(), "!!".into()] {
                let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
                v["kdf"]["salt"] = salt.clone().into();
                let err = KeyFile::from_json(v.to_string().as_bytes()).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Protocol, "{salt:?}");
                assert!(err.message().contains("salt"), "{err}");
            }
        }
    }

    #[test]
    fn parameters_above_the_caps_are_refused_when_read() {
        let (keys, _) = MasterKeys::generate();
        let json = KeyFile::create_with_passphrase(&keys, REPO, &pass("pw"), fast()).unwrap().to_json();
        // The demands of the review's planted key file (4 GiB, 64 passes), and just above each cap.
        for (m, t) in
            [(4 * 1024 * 1024u32, 64u32), (KdfParams::MAX_MEMORY_KIB + 1, 1), (8, KdfParams::MAX_ITERATIONS + 1)]
        {
            let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
            v["kdf"]["memory_kib"] = m.into();
            v["kdf"]["iterations"] = t.into();
            let err = KeyFile::from_json(v.to_string().as_bytes()).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Protocol, "{m} {t}");
            assert!(err.message().contains("out of range"), "{err}");
        }
        // At the caps, accepted (and cheaper files sort first).
        let mut v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        v["kdf"]["memory_kib"] = KdfParams::MAX_MEMORY_KIB.into();
        v["kdf"]["iterations"] = KdfParams::MAX_ITERATIONS.into();
        let expensive = KeyFile::from_json(v.to_string().as_bytes()).unwrap();
        let cheap = KeyFile::from_json(&json).unwrap();
        assert!(cheap.cost() < expensive.cost());
        assert_eq!(KeyFile::create_with_key(&keys, REPO, &RawKey::generate()).cost(), 0);
    }
}
