//! Delta encoding: a changed object stored as the changes from its previous version (see
//! "Deltas" in `docs/repository-format.md`).
//!
//! A delta blob's plaintext is
//!
//! ```text
//! 0x01 (the encoding's version) || varint(length of the result) || ops
//! op: 0x00 varint(offset) varint(length)   copy that range of the base
//!     0x01 varint(length) bytes            insert these bytes
//! ```
//!
//! with LEB128 varints. Its index entry has kind `delta` and names its `base`; its blob id is that
//! of the whole object the ops produce from the base's plaintext, so ids, deduplication and trees
//! do not change. Chains are bounded: a delta is written only when it is at most half the whole
//! object, its chain (the deltas down to a whole blob) at most [`MAX_CHAIN`] links, and the chain's
//! stored deltas together no larger than the whole object.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::pack::BlobKind;

/// The encoding's version byte.
const VERSION: u8 = 1;

const OP_COPY: u8 = 0;
const OP_INSERT: u8 = 1;

/// The most deltas between an object and the whole blob its chain starts from.
pub(crate) const MAX_CHAIN: usize = 8;

/// Matches shorter than this are inserted instead (a copy op costs a few bytes).
const MIN_MATCH: usize = 12;

/// The largest result a delta may claim (a damaged length must not make a reader allocate more).
const MAX_RESULT: u64 = 256 * 1024 * 1024;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn get_varint(bytes: &[u8], at: &mut usize) -> std::result::Result<u64, String> {
    let mut v = 0u64;
    for shift in (0..64).step_by(7) {
        let b = *bytes.get(*at).ok_or("the delta ends inside a number")?;
        *at += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b & 0x80 == 0 {
            return Ok(v);
        }
    }
    Err("a number in the delta is too long".into())
}

fn window_key(w: &[u8]) -> u64 {
    // FNV-1a over the window: cheap, and collisions are checked byte by byte.
    w.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

fn insert(out: &mut Vec<u8>, bytes: &[u8]) {
    if !bytes.is_empty() {
        out.push(OP_INSERT);
        put_varint(out, bytes.len() as u64);
        out.extend_from_slice(bytes);
    }
}

/// The delta that turns `base` into `target`.
pub(crate) fn encode(base: &[u8], target: &[u8]) -> Vec<u8> {
    let mut out = vec![VERSION];
    put_varint(&mut out, target.len() as u64);
    // Windows of the base, every `step` bytes (every byte for objects of usual size).
    let step = (base.len() / 65_536).max(1);
    let mut at: HashMap<u64, usize> = HashMap::with_capacity(base.len() / step + 1);
    if base.len() >= MIN_MATCH {
        for p in (0..base.len() - MIN_MATCH + 1).step_by(step).rev() {
            at.insert(window_key(&base[p..p + MIN_MATCH]), p);
        }
    }
    let (mut i, mut literal) = (0usize, 0usize);
    while i + MIN_MATCH <= target.len() {
        let found = at.get(&window_key(&target[i..i + MIN_MATCH])).copied();
        let Some(mut p) = found.filter(|&p| base[p..p + MIN_MATCH] == target[i..i + MIN_MATCH]) else {
            i += 1;
            continue;
        };
        // Grow the match backwards into the pending literal, then forwards.
        let mut start = i;
        while start > literal && p > 0 && base[p - 1] == target[start - 1] {
            start -= 1;
            p -= 1;
        }
        let mut len = i - start + MIN_MATCH;
        while p + len < base.len() && start + len < target.len() && base[p + len] == target[start + len] {
            len += 1;
        }
        insert(&mut out, &target[literal..start]);
        out.push(OP_COPY);
        put_varint(&mut out, p as u64);
        put_varint(&mut out, len as u64);
        i = start + len;
        literal = i;
    }
    insert(&mut out, &target[literal..]);
    out
}

/// Apply a delta to its base's plaintext.
pub(crate) fn decode(base: &[u8], delta: &[u8]) -> std::result::Result<Vec<u8>, String> {
    if delta.first() != Some(&VERSION) {
        return Err(format!("unknown delta encoding {:?}", delta.first()));
    }
    let mut at = 1;
    let size = get_varint(delta, &mut at)?;
    if size > MAX_RESULT {
        return Err(format!("the delta claims {size} bytes"));
    }
    let mut out = Vec::with_capacity((size as usize).min(base.len() + delta.len()));
    while at < delta.len() {
        let op = delta[at];
        at += 1;
        match op {
            OP_COPY => {
                let off = get_varint(delta, &mut at)?;
                let len = get_varint(delta, &mut at)?;
                let range = usize::try_from(off)
                    .ok()
                    .zip(usize::try_from(len).ok())
                    .and_then(|(o, l)| base.get(o..o.checked_add(l)?))
                    .ok_or_else(|| format!("copies {off}..+{len} from a base of {} bytes", base.len()))?;
                out.extend_from_slice(range);
            }
            OP_INSERT => {
                let len = get_varint(delta, &mut at)?;
                let bytes = usize::try_from(len)
                    .ok()
                    .and_then(|l| delta.get(at..at.checked_add(l)?))
                    .ok_or("an insert runs past the end of the delta")?;
                at += bytes.len();
                out.extend_from_slice(bytes);
            }
            other => return Err(format!("unknown delta op {other}")),
        }
        if out.len() as u64 > size {
            return Err(format!("the delta gives more than the {size} bytes it claims"));
        }
    }
    if out.len() as u64 != size {
        return Err(format!("the delta gives {} bytes, it claims {size}", out.len()));
    }
    Ok(out)
}

/// Decoded blobs read as bases (and by a backup, as the previous version of a changed object),
/// least recently used first out: deltas of one base, or a chain read again, read it once.
#[derive(Debug, Default)]
pub(crate) struct BaseCache {
    blobs: HashMap<String, (Arc<Vec<u8>>, u64)>,
    order: BTreeMap<u64, String>,
    tick: u64,
    bytes: usize,
}

/// The most plaintext the cache holds.
const CACHE_BYTES: usize = 8 * 1024 * 1024;

impl BaseCache {
    fn get(&mut self, id: &str) -> Option<Arc<Vec<u8>>> {
        let (blob, used) = self.blobs.get_mut(id)?;
        self.order.remove(used);
        self.tick += 1;
        *used = self.tick;
        self.order.insert(self.tick, id.to_string());
        Some(blob.clone())
    }

    fn put(&mut self, id: &str, blob: Arc<Vec<u8>>) {
        if blob.len() > CACHE_BYTES / 4 || self.blobs.contains_key(id) {
            return;
        }
        self.tick += 1;
        self.bytes += blob.len();
        self.order.insert(self.tick, id.to_string());
        self.blobs.insert(id.to_string(), (blob, self.tick));
        while self.bytes > CACHE_BYTES {
            let Some((_, oldest)) = self.order.pop_first() else { break };
            if let Some((b, _)) = self.blobs.remove(&oldest) {
                self.bytes -= b.len();
            }
        }
    }
}

/// A shared [`BaseCache`].
pub(crate) type SharedCache = Arc<Mutex<BaseCache>>;

fn lock(cache: &SharedCache) -> std::sync::MutexGuard<'_, BaseCache> {
    cache.lock().unwrap_or_else(|p| p.into_inner())
}

fn damaged(id: &str, what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Protocol, format!("delta {id}: {what} (the repository is damaged: run check)"))
}

/// Decode the deltas among blobs just read: `blobs[i]` (of id `ids[i]`) is a delta against `base`
/// for each `(i, base)` of `deltas`. The bases are read together (a chain one level at a time,
/// `depth` levels down so far), each decoded blob checked against its id.
pub(crate) async fn resolve(
    repo: &Repository,
    index: &Index,
    ids: &[String],
    blobs: &mut [Vec<u8>],
    deltas: Vec<(usize, String)>,
    depth: usize,
) -> Result<()> {
    if depth > MAX_CHAIN * 2 {
        return Err(damaged(&ids[deltas[0].0], "its chain of bases does not end"));
    }
    let mut bases: HashMap<String, Arc<Vec<u8>>> = HashMap::new();
    let mut missing: Vec<String> = Vec::new();
    {
        let mut cache = lock(repo.base_cache());
        let mut asked = HashSet::new();
        for (_, base) in &deltas {
            if let Some(b) = cache.get(base) {
                bases.insert(base.clone(), b);
            } else if asked.insert(base.clone()) {
                missing.push(base.clone());
            }
        }
    }
    if !missing.is_empty() {
        let read = repo.read_blobs_at(index, &missing, depth + 1).await?;
        let mut cache = lock(repo.base_cache());
        for (id, blob) in missing.into_iter().zip(read) {
            let blob = Arc::new(blob);
            cache.put(&id, blob.clone());
            bases.insert(id, blob);
        }
    }
    for (i, base) in deltas {
        let id = &ids[i];
        let whole = decode(&bases[&base], &blobs[i]).map_err(|e| damaged(id, e))?;
        let actual = repo.cipher().id_hex(&whole);
        if actual != *id {
            return Err(damaged(id, format_args!("decoded against {base}, it gives the content of {actual}")));
        }
        blobs[i] = whole;
    }
    Ok(())
}

/// A blob's plaintext through the cache (a backup reads a changed object's previous version when
/// it merges a delta change, then again as the base of its delta).
pub(crate) async fn read_cached(repo: &Repository, index: &Index, id: &str) -> Result<Arc<Vec<u8>>> {
    if let Some(b) = lock(repo.base_cache()).get(id) {
        return Ok(b);
    }
    let blob = Arc::new(repo.read_blobs(index, std::slice::from_ref(&id.to_string())).await?.pop().unwrap_or_default());
    lock(repo.base_cache()).put(id, blob.clone());
    Ok(blob)
}

/// The delta to store object `target` (its whole canonical JSON) as, against blob `base` (the
/// previous version's blob), if the repository takes deltas and it is worth it: at most half the
/// whole, its chain at most [`MAX_CHAIN`] links and no larger than the whole. `None`: store it
/// whole.
pub(crate) async fn delta_for(repo: &Repository, index: &Index, base: &str, target: &[u8]) -> Result<Option<Vec<u8>>> {
    if !repo.writes_deltas() || target.len() < 64 {
        return Ok(None);
    }
    // Only against a blob no prune is about to delete, and along a chain that is short enough.
    let Some((_, entry)) = index.lookup_live(base) else { return Ok(None) };
    let (mut links, mut chain_bytes) = (0usize, 0u64);
    let mut link = entry.clone();
    while link.kind == BlobKind::Delta {
        links += 1;
        chain_bytes += link.ulength;
        let next = link.base.as_deref().and_then(|b| index.lookup(b));
        match next {
            Some((_, e)) if links < MAX_CHAIN => link = e.clone(),
            _ => return Ok(None),
        }
    }
    if !matches!(link.kind, BlobKind::Object) {
        return Ok(None);
    }
    let base_plain = read_cached(repo, index, base).await?;
    let delta = encode(&base_plain, target);
    let worth = delta.len() * 2 <= target.len() && chain_bytes + delta.len() as u64 <= target.len() as u64;
    Ok(worth.then_some(delta))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(base: &[u8], target: &[u8]) -> usize {
        let d = encode(base, target);
        assert_eq!(decode(base, &d).unwrap(), target);
        d.len()
    }

    #[test]
    fn deltas_decode_to_their_target_and_are_small_for_small_changes() {
        let base = br#"{"accountEnabled":true,"displayName":"Adele Vance","id":"0001","jobTitle":"Retail Manager","lastSignIn":"2026-01-01T00:00:00Z","mail":"adele@example.com","officeLocation":"18/2111"}"#;
        let target = br#"{"accountEnabled":true,"displayName":"Adele Vance","id":"0001","jobTitle":"Retail Director","lastSignIn":"2026-01-02T00:00:00Z","mail":"adele@example.com","officeLocation":"18/2111"}"#;
        assert!(roundtrip(base, target) < target.len() / 4);
        for (b, t) in [(&b""[..], &b""[..]), (b"", b"abc"), (b"abc", b""), (b"abc", b"abc"), (base, b"x"), (b"x", base)]
        {
            roundtrip(b, t);
        }
        let long: Vec<u8> = (0..200_000u32).flat_map(|i| (i % 251).to_le_bytes()).collect();
        let mut changed = long.clone();
        changed[100_000] ^= 1;
        assert!(roundtrip(&long, &changed) < 2_000);
    }

    #[test]
    fn damaged_deltas_are_errors_not_panics() {
        let d = encode(b"hello world, hello world", b"hello there world, hello world");
        for cut in 0..d.len() {
            let _ = decode(b"hello world, hello world", &d[..cut]);
        }
        for i in 0..d.len() {
            let mut bad = d.clone();
            bad[i] ^= 0xff;
            let _ = decode(b"hello world, hello world", &bad);
        }
        assert!(decode(b"", &[1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]).is_err());
        assert!(decode(b"abc", &[1, 3, 0, 1, 5]).is_err());
    }
}
