//! The repository's cryptography: a layer the repository code calls, as in restic, with the keys
//! kept in key files under `keys/`.
//!
//! Three keys, two of them unlocked together:
//!
//! - [`MasterKeys`]: a 32-byte **data key** (XChaCha20-Poly1305 over packs, indexes and snapshots),
//!   a 32-byte **id key** (keyed BLAKE3, so a content id does not reveal the content to anyone
//!   without the key), and the **secrets public key** (X25519). Unlocked from a [`KeyFile`] with the
//!   repository passphrase or a [`RawKey`].
//! - [`SecretsKey`]: the secrets **private** key, wrapped in its own [`SecretsKeyFile`] under a
//!   separate passphrase (or raw key). BitLocker recovery keys and other secrets are sealed to the
//!   public key ([`seal_secret`], [`Cipher::seal_secret`]), so a backup can store them without being
//!   able to read them, and a repository can be browsed without ever seeing them.
//!
//! The repository code goes through a [`Cipher`]: [`Cipher::seal`] / [`Cipher::open`] for
//! everything it stores, [`Cipher::id`] for content ids. [`Cipher::plaintext`] is the cipher of a
//! repository created without encryption (only when asked for by name): sealing is the identity and
//! ids are unkeyed BLAKE3, so the repository code treats both alike.
//!
//! Hygiene: key material lives in heap boxes zeroed on drop; `Debug` of every key type prints no
//! key material; no error message carries a secret; secrets are compared in constant time.

mod input;
mod kdf;
mod key_file;
pub mod keyring;
mod raw_key;
pub mod trust;

use std::fmt;

use chacha20poly1305::aead::rand_core::RngCore;
use chacha20poly1305::aead::{Aead, KeyInit, OsRng, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, ErrorKind, Result};

pub use input::{
    PASSWORD_ENV, SAME_PASSPHRASE_WARNING, SECRETS_PASSWORD_ENV, passphrase_from_env_or_file, readable_by_others,
    same_passphrase,
};
pub use kdf::KdfParams;
pub use key_file::{KeyFile, SecretsKeyFile};
pub use raw_key::RawKey;

/// Length of every symmetric key and of a content id, in bytes.
pub const KEY_LEN: usize = 32;
/// Length of the random XChaCha20-Poly1305 nonce at the start of a sealed blob.
pub const NONCE_LEN: usize = 24;
/// Length of the Poly1305 tag at the end of a sealed blob.
pub const TAG_LEN: usize = 16;
/// Bytes [`Cipher::seal`] adds to a plaintext (nonce and tag) in an encrypted repository.
pub const SEAL_OVERHEAD: usize = NONCE_LEN + TAG_LEN;
/// Bytes [`seal_secret`] adds to a plaintext (ephemeral public key and tag).
pub const SECRET_SEAL_OVERHEAD: usize = KEY_LEN + TAG_LEN;

/// BLAKE3 `derive_key` context of [`Cipher::fingerprint`].
const FINGERPRINT_CONTEXT: &str = "entra-backup 2026-12 repository key fingerprint v1";

/// The message for any ciphertext that fails authentication. It says nothing about the key.
const AUTH_FAILED: &str = "authentication failed: the data was changed or damaged";

fn auth_failed() -> Error {
    Error::new(ErrorKind::Protocol, AUTH_FAILED)
}

/// 32 bytes of key material in one heap allocation (so moves do not copy it), zeroed on drop.
struct Key32(Box<[u8; KEY_LEN]>);

impl Key32 {
    fn zero() -> Self {
        Key32(Box::new([0u8; KEY_LEN]))
    }

    fn random() -> Self {
        let mut key = Self::zero();
        OsRng.fill_bytes(&mut key.0[..]);
        key
    }

    /// From a slice of exactly [`KEY_LEN`] bytes (callers check the length).
    fn from_slice(bytes: &[u8]) -> Self {
        let mut key = Self::zero();
        key.0.copy_from_slice(bytes);
        key
    }

    fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }
}

impl Clone for Key32 {
    fn clone(&self) -> Self {
        Self::from_slice(&self.0[..])
    }
}

impl Drop for Key32 {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl ConstantTimeEq for Key32 {
    fn ct_eq(&self, other: &Self) -> subtle::Choice {
        self.0[..].ct_eq(&other.0[..])
    }
}

/// The keys a backup needs: the data key, the id key, and the public half of the secrets key.
///
/// Made once per repository by [`MasterKeys::generate`] and kept wrapped in [`KeyFile`]s (one per
/// passphrase or raw key that can open the repository). `Debug` prints `MasterKeys(..)`.
#[derive(Clone)]
pub struct MasterKeys {
    data: Key32,
    id: Key32,
    secrets_public: SecretsPublicKey,
}

/// Length of the wrapped form of [`MasterKeys`]: data key, id key, secrets public key.
const MASTER_PAYLOAD_LEN: usize = 3 * KEY_LEN;

impl MasterKeys {
    /// Fresh random keys for a new repository, and the secrets private key that goes with them.
    /// Wrap the [`SecretsKey`] in a [`SecretsKeyFile`] straight away: nothing else can make it
    /// again, and without it the sealed secrets cannot be read.
    pub fn generate() -> (MasterKeys, SecretsKey) {
        let secrets = SecretsKey::generate();
        let keys = MasterKeys { data: Key32::random(), id: Key32::random(), secrets_public: *secrets.public_key() };
        (keys, secrets)
    }

    /// The public key secrets are sealed to.
    pub fn secrets_public_key(&self) -> &SecretsPublicKey {
        &self.secrets_public
    }

    /// The cipher for the repository's contents.
    pub fn cipher(&self) -> Cipher {
        Cipher::new(self)
    }

    /// `data || id || secrets_public`, the plaintext a key file wraps.
    fn to_payload(&self) -> Zeroizing<Vec<u8>> {
        let mut payload = Zeroizing::new(Vec::with_capacity(MASTER_PAYLOAD_LEN));
        payload.extend_from_slice(self.data.as_bytes());
        payload.extend_from_slice(self.id.as_bytes());
        payload.extend_from_slice(self.secrets_public.as_bytes());
        payload
    }

    fn from_payload(payload: &[u8]) -> Result<Self> {
        if payload.len() != MASTER_PAYLOAD_LEN {
            return Err(Error::new(
                ErrorKind::Protocol,
                format!("the key file holds {} bytes of keys where {MASTER_PAYLOAD_LEN} were expected", payload.len()),
            ));
        }
        let mut public = [0u8; KEY_LEN];
        public.copy_from_slice(&payload[2 * KEY_LEN..]);
        Ok(MasterKeys {
            data: Key32::from_slice(&payload[..KEY_LEN]),
            id: Key32::from_slice(&payload[KEY_LEN..2 * KEY_LEN]),
            secrets_public: SecretsPublicKey(public),
        })
    }
}

/// Constant time over the secret keys.
impl PartialEq for MasterKeys {
    fn eq(&self, other: &Self) -> bool {
        let same = self.data.ct_eq(&other.data)
            & self.id.ct_eq(&other.id)
            & self.secrets_public.0[..].ct_eq(&other.secrets_public.0[..]);
        same.into()
    }
}

impl Eq for MasterKeys {}

impl fmt::Debug for MasterKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKeys(..)")
    }
}

/// The X25519 public key secrets are sealed to. Not secret: `Debug` shows it in base64.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecretsPublicKey([u8; KEY_LEN]);

impl SecretsPublicKey {
    /// The key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; KEY_LEN]) -> Self {
        SecretsPublicKey(bytes)
    }

    /// Its 32 bytes.
    pub fn as_bytes(&self) -> &[u8; KEY_LEN] {
        &self.0
    }

    /// Standard base64 with padding, as stored in a [`SecretsKeyFile`].
    pub fn to_base64(&self) -> String {
        b64_encode(&self.0)
    }

    /// Parse [`SecretsPublicKey::to_base64`]'s form (surrounding whitespace ignored); anything
    /// but 32 bytes is an [`ErrorKind::InvalidInput`] error.
    pub fn from_base64(text: &str) -> Result<Self> {
        let bytes = b64_decode(text.trim())
            .filter(|b| b.len() == KEY_LEN)
            .ok_or_else(|| Error::invalid_input("not a base64-encoded 32-byte public key"))?;
        let mut key = [0u8; KEY_LEN];
        key.copy_from_slice(&bytes);
        Ok(SecretsPublicKey(key))
    }
}

impl fmt::Debug for SecretsPublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretsPublicKey({})", self.to_base64())
    }
}

/// The secrets private key: opens what [`seal_secret`] sealed. Unlocked from a [`SecretsKeyFile`]
/// with its own passphrase; never stored in a repository key file. `Debug` prints `SecretsKey(..)`.
pub struct SecretsKey {
    // The private key's bytes, zeroed on drop (Key32). crypto_box's own key type is built only for
    // the moment it is needed: it zeroes its scalar but not its copy of the bytes, and keeping it
    // here would leave them in memory for the key's whole life.
    key: Key32,
    public: SecretsPublicKey,
}

impl SecretsKey {
    /// A fresh random key pair. [`MasterKeys::generate`] calls this for a new repository.
    pub fn generate() -> Self {
        let bytes = Key32::random();
        Self::from_key_bytes(&bytes)
    }

    fn from_key_bytes(bytes: &Key32) -> Self {
        let public = SecretsPublicKey(Self::box_key(bytes).public_key().to_bytes());
        SecretsKey { key: Key32::from_slice(&bytes.as_bytes()[..]), public }
    }

    fn box_key(bytes: &Key32) -> crypto_box::SecretKey {
        crypto_box::SecretKey::from_bytes(*bytes.as_bytes())
    }

    fn to_key_bytes(&self) -> Key32 {
        Key32::from_slice(&self.key.as_bytes()[..])
    }

    /// The public half, which backups seal to.
    pub fn public_key(&self) -> &SecretsPublicKey {
        &self.public
    }

    /// Open a secret sealed with [`seal_secret`] to this key's public key. A changed or damaged
    /// blob, or one sealed to another key, is a [`ErrorKind::Protocol`] error.
    pub fn open_secret(&self, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        if sealed.len() < SECRET_SEAL_OVERHEAD {
            return Err(auth_failed());
        }
        Self::box_key(&self.key).unseal(sealed).map(Zeroizing::new).map_err(|_| auth_failed())
    }
}

impl fmt::Debug for SecretsKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretsKey(..)")
    }
}

/// Seal a secret (a BitLocker recovery key, a credential) to the secrets public key: an anonymous
/// sealed box (X25519 + XSalsa20-Poly1305, libsodium's `crypto_box_seal`). Anyone with the public
/// key can seal; only the [`SecretsKey`] opens. Output is libsodium's layout: `ephemeral public
/// key (32) || tag (16) || ciphertext`.
///
/// A sealed box does not say who sealed it, so store it inside data sealed with [`Cipher::seal`]
/// (which authenticates it under the data key).
pub fn seal_secret(public: &SecretsPublicKey, plaintext: &[u8]) -> Vec<u8> {
    crypto_box::PublicKey::from_bytes(public.0)
        .seal(&mut OsRng, plaintext)
        .expect("sealing cannot fail below 256 GiB of plaintext")
}

/// Seals and opens what the repository stores, and names content by id.
///
/// Encrypted: `seal` gives `nonce (24, random) || ciphertext || tag (16)` under XChaCha20-Poly1305
/// with the data key; `id` is BLAKE3 keyed with the id key. Plaintext ([`Cipher::plaintext`]):
/// `seal` and `open` return the bytes unchanged, `id` is plain BLAKE3.
#[derive(Clone)]
pub struct Cipher {
    inner: Inner,
}

#[derive(Clone)]
enum Inner {
    Encrypted {
        // Boxed: the AEAD holds the data key (and zeroes it on drop); moves then copy a pointer.
        aead: Box<XChaCha20Poly1305>,
        id_key: Key32,
        secrets_public: SecretsPublicKey,
    },
    Plaintext,
}

impl Cipher {
    /// The cipher of an encrypted repository, from its unlocked master keys.
    pub fn new(keys: &MasterKeys) -> Self {
        let aead = Box::new(XChaCha20Poly1305::new(keys.data.as_bytes().into()));
        Cipher { inner: Inner::Encrypted { aead, id_key: keys.id.clone(), secrets_public: keys.secrets_public } }
    }

    /// The cipher of a repository created without encryption: identity seal, unkeyed ids.
    pub fn plaintext() -> Self {
        Cipher { inner: Inner::Plaintext }
    }

    /// Whether it encrypts (false for [`Cipher::plaintext`]).
    pub fn is_encrypted(&self) -> bool {
        matches!(self.inner, Inner::Encrypted { .. })
    }

    /// Bytes `seal` adds: [`SEAL_OVERHEAD`] when encrypted, 0 in plaintext.
    pub fn overhead(&self) -> usize {
        if self.is_encrypted() { SEAL_OVERHEAD } else { 0 }
    }

    /// Encrypt and authenticate `plaintext` under a fresh random nonce.
    pub fn seal(&self, plaintext: &[u8]) -> Vec<u8> {
        self.seal_with(plaintext, b"")
    }

    /// [`Cipher::seal`] with associated data: `aad` is authenticated (not stored), so the blob
    /// opens only with the same `aad` ([`Cipher::open_with`]). Binds a mutable file to its path,
    /// kind and generation. In plaintext, the identity (nothing is authenticated).
    pub fn seal_with(&self, plaintext: &[u8], aad: &[u8]) -> Vec<u8> {
        match &self.inner {
            Inner::Encrypted { aead, .. } => {
                let mut nonce = XNonce::default();
                OsRng.fill_bytes(&mut nonce);
                let sealed = aead
                    .encrypt(&nonce, Payload { msg: plaintext, aad })
                    .expect("sealing cannot fail below 256 GiB of plaintext");
                let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
                out.extend_from_slice(&nonce);
                out.extend_from_slice(&sealed);
                out
            }
            Inner::Plaintext => plaintext.to_vec(),
        }
    }

    /// Check and decrypt what [`Cipher::seal`] made. Any change to the bytes is a
    /// [`ErrorKind::Protocol`] error ("authentication failed: the data was changed or damaged").
    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>> {
        self.open_with(sealed, b"")
    }

    /// Open what [`Cipher::seal_with`] sealed with the same `aad`.
    pub fn open_with(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>> {
        match &self.inner {
            Inner::Encrypted { aead, .. } => {
                if sealed.len() < SEAL_OVERHEAD {
                    return Err(auth_failed());
                }
                let (nonce, msg) = sealed.split_at(NONCE_LEN);
                aead.decrypt(XNonce::from_slice(nonce), Payload { msg, aad }).map_err(|_| auth_failed())
            }
            Inner::Plaintext => Ok(sealed.to_vec()),
        }
    }

    /// The public key [`Cipher::seal_secret`] seals to (`None` in plaintext).
    pub fn secrets_public_key(&self) -> Option<&SecretsPublicKey> {
        match &self.inner {
            Inner::Encrypted { secrets_public, .. } => Some(secrets_public),
            Inner::Plaintext => None,
        }
    }

    /// A name for the repository's keys that reveals nothing about them: BLAKE3 `derive_key` of
    /// the id key, 64 hex digits (`None` in plaintext). Unlike the repository id in the
    /// unauthenticated `config`, nobody can give another repository the same fingerprint, nor
    /// change this one's without making every content id wrong. Trust pins are kept under it.
    pub fn fingerprint(&self) -> Option<String> {
        match &self.inner {
            Inner::Encrypted { id_key, .. } => {
                Some(to_hex(&blake3::derive_key(FINGERPRINT_CONTEXT, id_key.as_bytes())))
            }
            Inner::Plaintext => None,
        }
    }

    /// [`seal_secret`] to the repository's secrets public key; the identity in plaintext.
    pub fn seal_secret(&self, plaintext: &[u8]) -> Vec<u8> {
        match &self.inner {
            Inner::Encrypted { secrets_public, .. } => seal_secret(secrets_public, plaintext),
            Inner::Plaintext => plaintext.to_vec(),
        }
    }

    /// The content id of `bytes`: keyed BLAKE3 (plain BLAKE3 in plaintext).
    pub fn id(&self, bytes: &[u8]) -> [u8; KEY_LEN] {
        match &self.inner {
            Inner::Encrypted { id_key, .. } => *blake3::keyed_hash(id_key.as_bytes(), bytes).as_bytes(),
            Inner::Plaintext => *blake3::hash(bytes).as_bytes(),
        }
    }

    /// [`Cipher::id`] as 64 lowercase hex digits.
    pub fn id_hex(&self, bytes: &[u8]) -> String {
        to_hex(&self.id(bytes))
    }

    /// An incremental [`Cipher::id`], for content that comes in pieces.
    pub fn id_hasher(&self) -> IdHasher {
        match &self.inner {
            Inner::Encrypted { id_key, .. } => IdHasher(blake3::Hasher::new_keyed(id_key.as_bytes())),
            Inner::Plaintext => IdHasher(blake3::Hasher::new()),
        }
    }
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_encrypted() { "Cipher(encrypted)" } else { "Cipher(plaintext)" })
    }
}

/// Computes a content id piece by piece; the same id as [`Cipher::id`] over the concatenation.
#[derive(Clone)]
pub struct IdHasher(blake3::Hasher);

impl IdHasher {
    /// Add `bytes` to what is hashed.
    pub fn update(&mut self, bytes: &[u8]) -> &mut Self {
        self.0.update(bytes);
        self
    }

    /// The id of everything added so far.
    pub fn finalize(&self) -> [u8; KEY_LEN] {
        *self.0.finalize().as_bytes()
    }

    /// [`IdHasher::finalize`] as 64 lowercase hex digits.
    pub fn finalize_hex(&self) -> String {
        to_hex(&self.finalize())
    }
}

impl fmt::Debug for IdHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdHasher(..)")
    }
}

fn to_hex(bytes: &[u8]) -> String {
    use fmt::Write;
    let mut s = String::with_capacity(2 * bytes.len());
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn b64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decoded bytes, or `None`; the caller words the error (without echoing the input).
fn b64_decode(text: &str) -> Option<Zeroizing<Vec<u8>>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text).ok().map(Zeroizing::new)
}

#[cfg(test)]
mod tests;
