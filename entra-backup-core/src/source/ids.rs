//! Compact per-object bookkeeping for streams over a whole tenant: a set of object ids held as
//! 16-byte keys (the first 16 bytes of the id's BLAKE3 hash) instead of strings, and the size of
//! the batches streams work in.
//!
//! A million ids take about 20 MB here, against about 80 MB as `HashSet<String>`; two different
//! ids share a key with a chance of about 2^-128 per pair, far below any other failure.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};

/// An object id as a 16-byte key.
pub(crate) fn key(id: &str) -> u128 {
    let hash = blake3::hash(id.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hash.as_bytes()[..16]);
    u128::from_le_bytes(bytes)
}

/// A set of object ids, 16 bytes each (plus the table's own overhead).
#[derive(Debug, Default, Clone)]
pub(crate) struct IdSet(HashSet<u128>);

impl IdSet {
    /// An empty set.
    pub(crate) fn new() -> Self {
        IdSet::default()
    }

    /// Add `id`; whether it was new.
    pub(crate) fn insert(&mut self, id: &str) -> bool {
        self.0.insert(key(id))
    }

    /// Add every id of `other`.
    pub(crate) fn absorb(&mut self, other: IdSet) {
        self.0.extend(other.0);
    }

    /// Whether `id` is in the set.
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.0.contains(&key(id))
    }
}

impl<S: AsRef<str>> Extend<S> for IdSet {
    fn extend<T: IntoIterator<Item = S>>(&mut self, iter: T) {
        for id in iter {
            self.insert(id.as_ref());
        }
    }
}

/// The default number of objects a stream works on at once (a batch of snapshot reads, of
/// comparisons, of restore planning).
pub const DEFAULT_STREAM_BATCH: usize = 256;

static STREAM_BATCH: AtomicUsize = AtomicUsize::new(DEFAULT_STREAM_BATCH);

/// Objects a stream works on at once: [`DEFAULT_STREAM_BATCH`] unless [`set_stream_batch`] said
/// otherwise.
pub fn stream_batch() -> usize {
    STREAM_BATCH.load(Ordering::Relaxed).max(1)
}

/// Set the objects streams work on at once, process-wide (at least 1). Results never depend on
/// it, only memory and the number of snapshot reads do; tests set it tiny to prove that.
#[doc(hidden)]
pub fn set_stream_batch(n: usize) {
    STREAM_BATCH.store(n.max(1), Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_set_holds_ids_by_their_key() {
        let mut s = IdSet::new();
        assert!(s.insert("a") && !s.insert("a") && s.insert("b"));
        assert!(s.contains("a") && s.contains("b") && !s.contains("c"));
        s.extend(["c", "a"]);
        assert!(s.contains("c"));
        assert_ne!(key("a"), key("b"));
    }
}
