//! Compact per-object bookkeeping for streams over a whole tenant: a set of object ids held as
//! 16-byte keys (the first 16 bytes of the id's BLAKE3 hash) instead of strings, and the size of
//! the batches streams work in.
//!
//! A million ids take about 16 MB here, against about 80 MB as `HashSet<String>`; two different
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

/// Keys gathered unsorted before they are merged into the sorted ones.
const PENDING: usize = 4096;

/// A set of object ids, 16 bytes each: sorted keys, plus up to [`PENDING`] newer ones in a small
/// table, merged in place into the sorted ones when it fills. A hash table of a million keys
/// would take 32 MB (a power of two of buckets, some empty); this takes 16 MB, and never twice
/// that while it grows (the sorted keys are extended in place, not copied).
#[derive(Debug, Default, Clone)]
pub(crate) struct IdSet {
    sorted: Vec<u128>,
    pending: HashSet<u128>,
}

impl IdSet {
    /// An empty set.
    pub(crate) fn new() -> Self {
        IdSet::default()
    }

    /// Add `id`; whether it was new.
    pub(crate) fn insert(&mut self, id: &str) -> bool {
        self.insert_key(key(id))
    }

    fn insert_key(&mut self, k: u128) -> bool {
        if self.sorted.binary_search(&k).is_ok() || !self.pending.insert(k) {
            return false;
        }
        if self.pending.len() >= PENDING {
            self.merge();
        }
        true
    }

    /// Merge the pending keys into the sorted ones, from the back, in place.
    fn merge(&mut self) {
        let mut new: Vec<u128> = self.pending.drain().collect();
        new.sort_unstable();
        let old = self.sorted.len();
        // Grown by what is added or by an eighth, whichever is more: not by doubling.
        if self.sorted.capacity() - old < new.len() {
            self.sorted.reserve_exact(new.len().max(old / 8));
        }
        self.sorted.resize(old + new.len(), 0);
        let (mut i, mut j, mut k) = (old, new.len(), old + new.len());
        while j > 0 {
            k -= 1;
            if i > 0 && self.sorted[i - 1] > new[j - 1] {
                self.sorted[k] = self.sorted[i - 1];
                i -= 1;
            } else {
                self.sorted[k] = new[j - 1];
                j -= 1;
            }
        }
    }

    /// Add every id of `other`.
    pub(crate) fn absorb(&mut self, other: IdSet) {
        for k in other.sorted.into_iter().chain(other.pending) {
            self.insert_key(k);
        }
    }

    /// Whether `id` is in the set.
    pub(crate) fn contains(&self, id: &str) -> bool {
        let k = key(id);
        self.pending.contains(&k) || self.sorted.binary_search(&k).is_ok()
    }

    /// How many ids it holds.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.sorted.len() + self.pending.len()
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

    #[test]
    fn an_id_set_stays_a_set_across_merges() {
        // Several merges of the pending keys into the sorted ones, ids inserted twice across them.
        let mut s = IdSet::new();
        let mut other = IdSet::new();
        for i in 0..3 * PENDING + 17 {
            assert!(s.insert(&format!("id-{i}")));
            if i % 3 == 0 {
                assert!(!s.insert(&format!("id-{}", i / 2)), "{i}");
            }
            other.insert(&format!("id-{}", i + 2 * PENDING));
        }
        assert!(s.sorted.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(s.len(), 3 * PENDING + 17);
        assert!((0..3 * PENDING + 17).all(|i| s.contains(&format!("id-{i}"))));
        assert!(!s.contains("id-x"));
        s.absorb(other);
        assert_eq!(s.len(), 5 * PENDING + 17);
        assert!(s.contains(&format!("id-{}", 5 * PENDING + 16)));
    }
}
