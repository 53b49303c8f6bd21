//! Key files: [`MasterKeys`] or a [`SecretsKey`] wrapped with XChaCha20-Poly1305 under a key derived
//! from a passphrase (Argon2id) or from a [`RawKey`] (BLAKE3 key derivation). JSON, stored by the
//! repository under `keys/`:
//!
//! ```json
//! {
//!   "version": 1,
//!   "kind": "master",
//!   "created": "2026-05-01T12:00:00Z",
//!   "kdf": { "algorithm": "argon2id", "version": 19, "memory_kib": 65536, "iterations": 3,
//!            "parallelism": 1, "salt": "<base64, 32 bytes>" },
//!   "data": "<base64: nonce (24) || ciphertext || tag (16)>"
//! }
//! ```
//!
//! `kind` is `master` or `secrets`; a secrets key file also has `"public_key": "<base64>"`. With a
//! raw key, `kdf` is `{ "algorithm": "raw-key", "salt": "<base64, 32 bytes>" }`. The additional
//! authenticated data binds the kind (and the public key), so neither can be swapped unnoticed.

use std::fmt;
use std::path::Path;

use chacha20poly1305::XChaCha20Poly1305;
use chacha20poly1305::XNonce;
use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use super::{
    KEY_LEN, Key32, MasterKeys, NONCE_LEN, SEAL_OVERHEAD, SecretsKey, SecretsPublicKey, b64_decode, b64_encode,
};
use crate::graph::auth::Secret;
use crate::{Error, ErrorKind, Result};

const FORMAT_VERSION: u32 = 1;
const SALT_LEN: usize = 32;
/// Argon2 version 1.3, the only one written or read.
const ARGON2_VERSION: u32 = 0x13;
/// BLAKE3 `derive_key` context for the wrapping key of a raw-key key file.
const RAW_KEY_CONTEXT: &str = "entra-backup 2026-05 key file wrapping key from a raw key v1";

const WRONG_PASSPHRASE: &str = "wrong passphrase for the repository (or a damaged key file)";
const WRONG_RAW_KEY: &str = "wrong key for the repository (or a damaged key file)";
const WRONG_SECRETS_PASSPHRASE: &str =
    "wrong passphrase for the repository's secrets key (or a damaged secrets key file)";
const WRONG_SECRETS_RAW_KEY: &str = "wrong key for the repository's secrets key (or a damaged secrets key file)";

/// Argon2id cost parameters, stored in the key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB (at least 8 per lane).
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl KdfParams {
    /// Largest memory a key file may ask for: 4 GiB. Keeps a crafted key file from exhausting memory.
    pub const MAX_MEMORY_KIB: u32 = 4 * 1024 * 1024;
    pub const MAX_ITERATIONS: u32 = 64;
    pub const MAX_PARALLELISM: u32 = 64;

    /// The smallest cost Argon2 allows. Only for tests: it protects a passphrase hardly at all.
    pub fn fast_for_tests() -> Self {
        KdfParams { memory_kib: 8, iterations: 1, parallelism: 1 }
    }

    /// The reason these parameters are out of range, if they are.
    fn check(&self) -> Option<String> {
        let KdfParams { memory_kib, iterations, parallelism } = *self;
        if !(1..=Self::MAX_PARALLELISM).contains(&parallelism) {
            return Some(format!("parallelism {parallelism} is not between 1 and {}", Self::MAX_PARALLELISM));
        }
        if !(1..=Self::MAX_ITERATIONS).contains(&iterations) {
            return Some(format!("iterations {iterations} is not between 1 and {}", Self::MAX_ITERATIONS));
        }
        let min = 8 * parallelism;
        if !(min..=Self::MAX_MEMORY_KIB).contains(&memory_kib) {
            return Some(format!("memory {memory_kib} KiB is not between {min} and {} KiB", Self::MAX_MEMORY_KIB));
        }
        None
    }

    fn derive(&self, passphrase: &[u8], salt: &[u8]) -> Result<Key32> {
        if let Some(why) = self.check() {
            return Err(Error::invalid_input(format!("Argon2id parameters out of range: {why}")));
        }
        let params = argon2::Params::new(self.memory_kib, self.iterations, self.parallelism, Some(KEY_LEN))
            .map_err(|e| Error::invalid_input(format!("Argon2id parameters not accepted: {e}")))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Key32::zero();
        argon
            .hash_password_into(passphrase, salt, &mut key.0[..])
            .map_err(|e| Error::invalid_input(format!("Argon2id failed: {e}")))?;
        Ok(key)
    }
}

/// m = 64 MiB, t = 3, p = 1.
impl Default for KdfParams {
    fn default() -> Self {
        KdfParams { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 }
    }
}

/// A random 32-byte key kept in a file (standard base64, one line), an alternative to a passphrase.
/// `Debug` prints `RawKey(..)`.
#[derive(Clone)]
pub struct RawKey(Key32);

impl RawKey {
    pub fn generate() -> Self {
        RawKey(Key32::random())
    }

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

    /// Read a key file. Errors name the path, never the contents.
    pub fn read_file(path: &Path) -> Result<Self> {
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

/// The JSON of a key file.
#[derive(Clone, Serialize, Deserialize)]
struct WrappedKey {
    version: u32,
    kind: Kind,
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

fn raw_key_wrapping_key(key: &RawKey, salt: &[u8]) -> Key32 {
    let mut hasher = blake3::Hasher::new_derive_key(RAW_KEY_CONTEXT);
    hasher.update(key.0.as_bytes()).update(salt);
    let mut out = Key32::zero();
    hasher.finalize_xof().fill(&mut out.0[..]);
    out
}

impl WrappedKey {
    /// Additional authenticated data: the format, the kind and, for secrets, the public key.
    fn aad(kind: Kind, public_key: Option<&SecretsPublicKey>) -> Vec<u8> {
        let mut aad = format!("entra-backup key file v{FORMAT_VERSION}\0{}\0", kind.name()).into_bytes();
        if let Some(public) = public_key {
            aad.extend_from_slice(public.as_bytes());
        }
        aad
    }

    fn create(
        kind: Kind,
        payload: &[u8],
        public_key: Option<&SecretsPublicKey>,
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
            Unlock::Key(raw) => (Kdf::RawKey { salt: b64_encode(&salt) }, raw_key_wrapping_key(raw, &salt)),
        };
        let aead = XChaCha20Poly1305::new(wrapping_key.as_bytes().into());
        let mut nonce = XNonce::default();
        OsRng.fill_bytes(&mut nonce);
        let aad = Self::aad(kind, public_key);
        let sealed = aead.encrypt(&nonce, Payload { msg: payload, aad: &aad }).expect("a key payload is small");
        let mut data = Vec::with_capacity(NONCE_LEN + sealed.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&sealed);
        Ok(WrappedKey {
            version: FORMAT_VERSION,
            kind,
            created: jiff::Timestamp::now(),
            kdf,
            public_key: public_key.map(SecretsPublicKey::to_base64),
            data: b64_encode(&data),
        })
    }

    fn parse(json: &[u8], expected: Kind) -> Result<Self> {
        let file: WrappedKey = serde_json::from_slice(json).map_err(|e| {
            // serde_json's message can quote the input; give the position only.
            Error::new(
                ErrorKind::Protocol,
                format!("the key file is not a valid key file (line {}, column {})", e.line(), e.column()),
            )
        })?;
        if file.version != FORMAT_VERSION {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "the key file has format version {}; this program reads version {FORMAT_VERSION}",
                    file.version
                ),
            ));
        }
        if file.kind != expected {
            return Err(Error::invalid_input(format!("this is {}, not {}", file.kind.describe(), expected.describe())));
        }
        if (expected == Kind::Secrets) != file.public_key.is_some() {
            return Err(Error::new(ErrorKind::Protocol, "the key file is not a valid key file (public_key)"));
        }
        if let Kdf::Argon2id { version, .. } = file.kdf
            && version != ARGON2_VERSION
        {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("the key file uses Argon2 version {version}; only 19 is supported"),
            ));
        }
        Ok(file)
    }

    fn public_key(&self) -> Result<Option<SecretsPublicKey>> {
        self.public_key
            .as_deref()
            .map(|text| {
                SecretsPublicKey::from_base64(text)
                    .map_err(|_| Error::new(ErrorKind::Protocol, "the key file is not a valid key file (public_key)"))
            })
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

    /// The unwrapped payload, or an Authentication error with `wrong` for any failure to open.
    fn unwrap_payload(&self, unlock: Unlock<'_>, wrong: (&str, &str)) -> Result<Zeroizing<Vec<u8>>> {
        let invalid =
            |what: &str| Error::new(ErrorKind::Protocol, format!("the key file is not a valid key file ({what})"));
        let (wrapping_key, wrong) = match (&self.kdf, unlock) {
            (Kdf::Argon2id { salt, .. }, Unlock::Passphrase(passphrase)) => {
                let salt = b64_decode(salt).ok_or_else(|| invalid("salt"))?;
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
                let salt = b64_decode(salt).ok_or_else(|| invalid("salt"))?;
                (raw_key_wrapping_key(raw, &salt), wrong.1)
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
        let aad = Self::aad(self.kind, public_key.as_ref());
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
}

impl WrappedKey {
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
    /// Wrap `keys` under `passphrase` (Argon2id with `params`, random salt). Empty passphrases
    /// are refused.
    pub fn create_with_passphrase(keys: &MasterKeys, passphrase: &Secret, params: KdfParams) -> Result<Self> {
        WrappedKey::create(Kind::Master, &keys.to_payload(), None, Unlock::Passphrase(passphrase), params).map(KeyFile)
    }

    /// Wrap `keys` under a raw key (kept by the user in a key file).
    pub fn create_with_key(keys: &MasterKeys, key: &RawKey) -> Self {
        WrappedKey::create(Kind::Master, &keys.to_payload(), None, Unlock::Key(key), KdfParams::default())
            .map(KeyFile)
            .expect("wrapping under a raw key cannot fail")
    }

    /// Unwrap with the passphrase. Wrong passphrase (or damaged file): [`ErrorKind::Authentication`],
    /// "wrong passphrase for the repository (or a damaged key file)".
    pub fn unlock(&self, passphrase: &Secret) -> Result<MasterKeys> {
        let payload = self.0.unwrap_payload(Unlock::Passphrase(passphrase), (WRONG_PASSPHRASE, WRONG_RAW_KEY))?;
        MasterKeys::from_payload(&payload)
    }

    /// Unwrap with the raw key. Wrong key: [`ErrorKind::Authentication`].
    pub fn unlock_with_key(&self, key: &RawKey) -> Result<MasterKeys> {
        let payload = self.0.unwrap_payload(Unlock::Key(key), (WRONG_PASSPHRASE, WRONG_RAW_KEY))?;
        MasterKeys::from_payload(&payload)
    }

    /// The Argon2id parameters, or `None` for a key file opened with a raw key.
    pub fn kdf_params(&self) -> Option<KdfParams> {
        self.0.kdf_params()
    }

    pub fn created(&self) -> jiff::Timestamp {
        self.0.created
    }

    /// The file's JSON (pretty, newline-terminated).
    pub fn to_json(&self) -> Vec<u8> {
        self.0.to_json()
    }

    /// Parse a key file. Malformed JSON or an unknown version is [`ErrorKind::Protocol`]; a secrets
    /// key file is [`ErrorKind::InvalidInput`].
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
    pub fn create_with_passphrase(key: &SecretsKey, passphrase: &Secret, params: KdfParams) -> Result<Self> {
        let payload = key.to_key_bytes();
        WrappedKey::create(
            Kind::Secrets,
            payload.as_bytes(),
            Some(key.public_key()),
            Unlock::Passphrase(passphrase),
            params,
        )
        .map(SecretsKeyFile)
    }

    pub fn create_with_key(key: &SecretsKey, raw: &RawKey) -> Self {
        let payload = key.to_key_bytes();
        WrappedKey::create(
            Kind::Secrets,
            payload.as_bytes(),
            Some(key.public_key()),
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

    pub fn kdf_params(&self) -> Option<KdfParams> {
        self.0.kdf_params()
    }

    pub fn created(&self) -> jiff::Timestamp {
        self.0.created
    }

    pub fn to_json(&self) -> Vec<u8> {
        self.0.to_json()
    }

    pub fn from_json(json: &[u8]) -> Result<Self> {
        WrappedKey::parse(json, Kind::Secrets).map(SecretsKeyFile)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::assert_hides;
    use super::*;

    fn fast() -> KdfParams {
        KdfParams::fast_for_tests()
    }

    fn pass(s: &str) -> Secret {
        Secret::new(s)
    }

    #[test]
    fn passphrase_round_trip_through_json() {
        let (keys, _) = MasterKeys::generate();
        let file = KeyFile::create_with_passphrase(&keys, &pass("correct horse"), fast()).unwrap();
        let json = file.to_json();
        let back = KeyFile::from_json(&json).unwrap();
        assert_eq!(back.unlock(&pass("correct horse")).unwrap(), keys);
        assert_eq!(back.kdf_params(), Some(fast()));
        assert_eq!(back.created(), file.created());
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["version"], 1);
        assert_eq!(v["kind"], "master");
        assert_eq!(v["kdf"]["algorithm"], "argon2id");
        assert_eq!(v["kdf"]["version"], 19);
        assert_eq!(v["kdf"]["memory_kib"], 8);
        assert_eq!(v["kdf"]["iterations"], 1);
        assert_eq!(v["kdf"]["parallelism"], 1);
        assert!(v.get("public_key").is_none());
        assert_eq!(b64_decode(v["kdf"]["salt"].as_str().unwrap()).unwrap().len(), SALT_LEN);
        assert_eq!(b64_decode(v["data"].as_str().unwrap()).unwrap().len(), 3 * KEY_LEN + SEAL_OVERHEAD);
    }

    #[test]
    fn kdf_params_round_trip_through_json() {
        let (keys, _) = MasterKeys::generate();
        let params = KdfParams { memory_kib: 64, iterations: 2, parallelism: 2 };
        let file = KeyFile::create_with_passphrase(&keys, &pass("pw"), params).unwrap();
        let back = KeyFile::from_json(&file.to_json()).unwrap();
        assert_eq!(back.kdf_params(), Some(params));
        assert_eq!(back.unlock(&pass("pw")).unwrap(), keys);
        assert_eq!(KdfParams::default(), KdfParams { memory_kib: 65536, iterations: 3, parallelism: 1 });
    }

    #[test]
    fn wrong_passphrase_is_authentication_without_the_passphrase() {
        let (keys, _) = MasterKeys::generate();
        let file = KeyFile::create_with_passphrase(&keys, &pass("hunter2-right"), fast()).unwrap();
        let err = file.unlock(&pass("hunter2-typo")).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Authentication);
        assert_eq!(err.message(), "wrong passphrase for the repository (or a damaged key file)");
        let shown = format!("{err} {err:?} {:?}", std::error::Error::source(&err));
        assert!(!shown.contains("hunter2"), "{shown}");
    }

    #[test]
    fn salts_differ_and_same_passphrase_gives_different_files() {
        let (keys, _) = MasterKeys::generate();
        let a = KeyFile::create_with_passphrase(&keys, &pass("pw"), fast()).unwrap();
        let b = KeyFile::create_with_passphrase(&keys, &pass("pw"), fast()).unwrap();
        let (Kdf::Argon2id { salt: sa, .. }, Kdf::Argon2id { salt: sb, .. }) = (&a.0.kdf, &b.0.kdf) else { panic!() };
        assert_ne!(sa, sb);
        assert_ne!(a.0.data, b.0.data);
    }

    #[test]
    fn damaged_key_file_is_caught() {
        let (keys, _) = MasterKeys::generate();
        let file = KeyFile::create_with_passphrase(&keys, &pass("pw"), fast()).unwrap();
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
        let file = KeyFile::create_with_passphrase(&keys, &pass("pw"), fast()).unwrap();
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
        let file = KeyFile::create_with_passphrase(&keys, &pass("pw"), fast()).unwrap();
        let err = KeyFile::from_json(b"{\"version\": \"secret-ish text\"}").unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Protocol);
        assert!(!err.to_string().contains("secret-ish"));
        assert_eq!(KeyFile::from_json(b"not json").unwrap_err().kind(), ErrorKind::Protocol);
        let mut v: serde_json::Value = serde_json::from_slice(&file.to_json()).unwrap();
        v["version"] = 2.into();
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
        let sfile = SecretsKeyFile::create_with_passphrase(&secrets, &pass("pw"), fast()).unwrap();
        assert_eq!(KeyFile::from_json(&sfile.to_json()).unwrap_err().kind(), ErrorKind::InvalidInput);
        assert_eq!(SecretsKeyFile::from_json(&file.to_json()).unwrap_err().kind(), ErrorKind::InvalidInput);
        // Relabelled as the other kind, it fails to open (the kind is authenticated).
        let mut v: serde_json::Value = serde_json::from_slice(&sfile.to_json()).unwrap();
        v["kind"] = "master".into();
        v.as_object_mut().unwrap().remove("public_key");
        let relabelled = KeyFile::from_json(v.to_string().as_bytes()).unwrap();
        assert_eq!(relabelled.unlock(&pass("pw")).unwrap_err().kind(), ErrorKind::Authentication);
    }

    #[test]
    fn empty_passphrase_is_refused() {
        let (keys, secrets) = MasterKeys::generate();
        assert_eq!(
            KeyFile::create_with_passphrase(&keys, &pass(""), fast()).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(
            SecretsKeyFile::create_with_passphrase(&secrets, &pass(""), fast()).unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }

    #[test]
    fn raw_key_round_trip() {
        let (keys, _) = MasterKeys::generate();
        let raw = RawKey::generate();
        let file = KeyFile::create_with_key(&keys, &raw);
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
        let pfile = KeyFile::create_with_passphrase(&keys, &pass("pw"), fast()).unwrap();
        assert_eq!(pfile.unlock_with_key(&raw).unwrap_err().kind(), ErrorKind::InvalidInput);
    }

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

    #[test]
    fn secrets_key_file_round_trip() {
        let (keys, secrets) = MasterKeys::generate();
        let file = SecretsKeyFile::create_with_passphrase(&secrets, &pass("secrets pw"), fast()).unwrap();
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
        let file = SecretsKeyFile::create_with_key(&secrets, &raw);
        let back = SecretsKeyFile::from_json(&file.to_json()).unwrap();
        assert_eq!(back.unlock_with_key(&raw).unwrap().public_key(), secrets.public_key());
        assert_eq!(back.unlock_with_key(&RawKey::generate()).unwrap_err().kind(), ErrorKind::Authentication);
    }

    #[test]
    fn key_files_show_no_key_material() {
        let (keys, secrets) = MasterKeys::generate();
        let raw = RawKey::generate();
        let files = [
            format!("{:?}", KeyFile::create_with_passphrase(&keys, &pass("pw"), fast()).unwrap()),
            format!("{:?}", KeyFile::create_with_key(&keys, &raw)),
            format!("{:?}", SecretsKeyFile::create_with_passphrase(&secrets, &pass("pw"), fast()).unwrap()),
            format!("{raw:?}"),
            String::from_utf8(KeyFile::create_with_key(&keys, &raw).to_json()).unwrap(),
            String::from_utf8(SecretsKeyFile::create_with_key(&secrets, &raw).to_json()).unwrap(),
        ];
        assert_eq!(files[3], "RawKey(..)");
        for text in &files {
            assert_hides(text, keys.data.as_bytes());
            assert_hides(text, keys.id.as_bytes());
            assert_hides(text, secrets.to_key_bytes().as_bytes());
            assert_hides(text, raw.0.as_bytes());
        }
    }
}
