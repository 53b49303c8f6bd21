//! Argon2id parameters: what a passphrase is stretched with, stored in each key file.

use super::{KEY_LEN, Key32};
use crate::{Error, Result};

/// Argon2id cost parameters, stored in the key file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB (at least 8 per lane).
    pub memory_kib: u32,
    /// Passes over the memory.
    pub iterations: u32,
    /// Lanes computed in parallel.
    pub parallelism: u32,
}

impl KdfParams {
    /// Largest memory a key file may ask for: 1 GiB (16 times the default). A key file planted
    /// by someone with write access to the storage is read before anything authenticates it, so
    /// its demands are capped: above these it is refused, not derived.
    pub const MAX_MEMORY_KIB: u32 = 1024 * 1024;
    /// Largest number of passes (about 5 times the default's work at the default memory).
    pub const MAX_ITERATIONS: u32 = 16;
    /// Largest number of lanes.
    pub const MAX_PARALLELISM: u32 = 16;

    /// The smallest cost Argon2 allows. Only for tests: it protects a passphrase hardly at all.
    pub fn fast_for_tests() -> Self {
        KdfParams { memory_kib: 8, iterations: 1, parallelism: 1 }
    }

    /// Whether these parameters can be used (to create a key file, or to open one): an
    /// [`crate::ErrorKind::InvalidInput`] error saying which is out of range, otherwise.
    pub fn validate(&self) -> Result<()> {
        match self.check() {
            Some(why) => Err(Error::invalid_input(format!("Argon2id parameters out of range: {why}"))),
            None => Ok(()),
        }
    }

    /// The work a derivation takes, to try cheap key files first (KiB times passes).
    pub(super) fn cost(&self) -> u64 {
        u64::from(self.memory_kib) * u64::from(self.iterations)
    }

    /// The reason these parameters are out of range, if they are.
    pub(super) fn check(&self) -> Option<String> {
        let KdfParams { memory_kib, iterations, parallelism } = *self;
        if !(1..=Self::MAX_PARALLELISM).contains(&parallelism) {
            return Some(format!("parallelism {parallelism} is not between 1 and {}", Self::MAX_PARALLELISM));
        }
        if !(1..=Self::MAX_ITERATIONS).contains(&iterations) {
            return Some(format!("iterations {iterations} is not between 1 and {}", Self::MAX_ITERATIONS));
        }
        let min = 8 * parallelism;
        if !(min..=Self::MAX_MEMORY_KIB).contains(&memory_kib) {
            return Some(format!(
                "memory {memory_kib} KiB is not between {min} KiB and {} KiB (1 GiB)",
                Self::MAX_MEMORY_KIB
            ));
        }
        None
    }

    pub(super) fn derive(&self, passphrase: &[u8], salt: &[u8]) -> Result<Key32> {
        self.validate()?;
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
