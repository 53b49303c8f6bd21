//! A category's changes and its parent's entries as sorted runs ([`crate::repo::spill`]), and
//! their merge into the new tree's entries: what a backup holds per object while it runs is one
//! record, spilled to disk past the memory budget, never a map of the whole category.
//!
//! A record's key is the BLAKE3 hash of the object id followed by the id (the order of a tree's
//! trie, see [`tree::build_sorted`]); its value is an operation: set an entry, or remove the
//! object. Of several records of one object the last pushed wins.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::index::{parse_id, to_hex};
use crate::repo::pack::decompress;
use crate::repo::spill::{Sorted, Sorter, SpillBudget, TempDir, io_error};
use crate::repo::tree::{Entries, Entry, HashedEntry};

const REMOVE: u8 = 0;
const SET: u8 = 1;

/// The sort key of object `oid`: its hash, then the id.
pub(crate) fn key(oid: &str) -> Vec<u8> {
    let mut k = Vec::with_capacity(32 + oid.len());
    k.extend_from_slice(blake3::hash(oid.as_bytes()).as_bytes());
    k.extend_from_slice(oid.as_bytes());
    k
}

fn id_bytes(id: &str) -> Result<[u8; 32]> {
    parse_id(id).ok_or_else(|| Error::new(ErrorKind::Protocol, format!("{id:?} is not a blob id")))
}

/// An entry as bytes: the blob id, a flag and the secret's id, the chunks' ids.
pub(crate) fn encode(e: &Entry) -> Result<Vec<u8>> {
    let mut v = Vec::with_capacity(1 + 33 + 32 * (1 + e.chunks.len()));
    v.push(SET);
    v.extend_from_slice(&id_bytes(&e.blob)?);
    match &e.secret {
        Some(s) => {
            v.push(1);
            v.extend_from_slice(&id_bytes(s)?);
        }
        None => v.push(0),
    }
    for c in &e.chunks {
        v.extend_from_slice(&id_bytes(c)?);
    }
    Ok(v)
}

fn damaged() -> Error {
    Error::new(ErrorKind::Io, "a spilled record is damaged (the spill folder was changed while the backup ran)")
}

/// An operation read back: `None` for a removal.
pub(crate) fn decode(v: &[u8]) -> Result<Option<Entry>> {
    match v.first() {
        Some(&REMOVE) if v.len() == 1 => return Ok(None),
        Some(&SET) if v.len() >= 34 => {}
        _ => return Err(damaged()),
    }
    let id = |b: &[u8]| -> Result<String> { Ok(to_hex(b.try_into().map_err(|_| damaged())?)) };
    let blob = id(&v[1..33])?;
    let (secret, rest) = match v[33] {
        0 => (None, &v[34..]),
        1 if v.len() >= 66 => (Some(id(&v[34..66])?), &v[66..]),
        _ => return Err(damaged()),
    };
    if rest.len() % 32 != 0 {
        return Err(damaged());
    }
    let chunks = rest.chunks(32).map(id).collect::<Result<Vec<_>>>()?;
    Ok(Some(Entry { blob, secret, chunks }))
}

/// Push "set `oid` to `e`".
pub(crate) fn push_set(sorter: &mut Sorter, oid: &str, e: &Entry) -> Result<()> {
    sorter.push(&key(oid), &encode(e)?)
}

/// Push "`oid` is gone".
pub(crate) fn push_remove(sorter: &mut Sorter, oid: &str) -> Result<()> {
    sorter.push(&key(oid), &[REMOVE])
}

/// The last operation of each object of a sorted run: (key, encoded operation).
pub(crate) struct LastWins {
    inner: std::iter::Peekable<Sorted>,
}

impl LastWins {
    pub(crate) fn new(sorted: Sorted) -> Self {
        LastWins { inner: sorted.peekable() }
    }
}

impl Iterator for LastWins {
    type Item = Result<(Box<[u8]>, Box<[u8]>)>;

    fn next(&mut self) -> Option<Self::Item> {
        let (k, mut v) = match self.inner.next()? {
            Ok(kv) => kv,
            Err(e) => return Some(Err(e)),
        };
        while let Some(Ok((next, _))) = self.inner.peek() {
            if *next != k {
                break;
            }
            v = self.inner.next().expect("peeked").expect("peeked ok").1;
        }
        Some(Ok((k, v)))
    }
}

/// The hash and object id of a key.
pub(crate) fn split_key(k: &[u8]) -> Result<([u8; 32], String)> {
    if k.len() < 32 {
        return Err(damaged());
    }
    let hash: [u8; 32] = k[..32].try_into().expect("32 bytes");
    let oid = String::from_utf8(k[32..].to_vec()).map_err(|_| damaged())?;
    Ok((hash, oid))
}

/// How a category is read: its objects in full (the tree is what was read) or as changes over
/// the parent's tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Over {
    /// The new tree holds what was read.
    Nothing,
    /// The new tree is the parent's with the changes applied.
    Parent,
}

/// What merging a category's changes with its parent's entries gives.
#[derive(Debug, Default)]
pub(crate) struct Merged {
    /// Objects in the new tree.
    pub entries: u64,
    /// Objects read this time the parent did not hold.
    pub added: u64,
    /// Objects read this time the parent held otherwise.
    pub changed: u64,
    /// Objects of the parent not in the new tree.
    pub removed: u64,
    /// The entries that differ from the parent's, while few enough for a layer (see
    /// [`merge`]'s `layer_limit`); `None` past it.
    pub set: Option<Entries>,
    /// The parent's object ids not in the new tree (with `set`).
    pub unset: Option<Vec<String>>,
}

/// Merge the changes (`changes`, last operation wins) over the parent's entries (`base`, each
/// object once), both in key order: the new entries go into `out` in key order, the figures and
/// (while `set` and `unset` hold at most `layer_limit` together) the differences into the result.
pub(crate) fn merge(
    base: Option<Sorted>,
    changes: Sorted,
    over: Over,
    layer_limit: u64,
    out: &mut Sorter,
) -> Result<Merged> {
    let mut base = base.map(|b| LastWins::new(b).peekable());
    let mut changes = LastWins::new(changes).peekable();
    let mut m = Merged { set: Some(Entries::new()), unset: Some(Vec::new()), ..Merged::default() };
    let mut differ = 0u64;
    loop {
        let next_base = match base.as_mut().and_then(|b| b.peek()) {
            Some(Ok((k, _))) => Some(k.clone()),
            Some(Err(_)) => {
                return Err(base.as_mut().and_then(Iterator::next).and_then(Result::err).expect("an error"));
            }
            None => None,
        };
        let next_change = match changes.peek() {
            Some(Ok((k, _))) => Some(k.clone()),
            Some(Err(_)) => return Err(changes.next().and_then(Result::err).expect("an error")),
            None => None,
        };
        let k = match (&next_base, &next_change) {
            (None, None) => break,
            (Some(b), Some(c)) => std::cmp::min(b, c).clone(),
            (Some(b), None) => b.clone(),
            (None, Some(c)) => c.clone(),
        };
        let old = if next_base.as_ref() == Some(&k) {
            base.as_mut().and_then(Iterator::next).expect("peeked")?.1
        } else {
            Box::from([REMOVE].as_slice())
        };
        let op = if next_change.as_ref() == Some(&k) { Some(changes.next().expect("peeked")?.1) } else { None };
        let old = (old[0] == SET).then_some(old);
        // The parent's entries are never removals.
        let new: Option<&[u8]> = match (&op, over) {
            (Some(v), _) if v[0] == SET => Some(v),
            (Some(_), _) => None,
            (None, Over::Nothing) => None,
            (None, Over::Parent) => old.as_deref(),
        };
        if let Some(v) = &op
            && v[0] == SET
        {
            match &old {
                None => m.added += 1,
                Some(o) if o != v => m.changed += 1,
                Some(_) => {}
            }
        }
        match new {
            Some(v) => {
                m.entries += 1;
                out.push(&k, v)?;
                if old.as_deref() != Some(v) {
                    differ += 1;
                    if let Some(set) = m.set.as_mut() {
                        let (_, oid) = split_key(&k)?;
                        set.insert(oid, decode(v)?.ok_or_else(damaged)?);
                    }
                }
            }
            None if old.is_some() => {
                m.removed += 1;
                differ += 1;
                if let Some(unset) = m.unset.as_mut() {
                    unset.push(split_key(&k)?.1);
                }
            }
            None => {}
        }
        if differ > layer_limit {
            m.set = None;
            m.unset = None;
        }
    }
    if let Some(unset) = m.unset.as_mut() {
        unset.sort();
    }
    Ok(m)
}

/// The entries of a sorted run of [`merge`]'s output, for [`tree::build_sorted`].
pub(crate) fn hashed(sorted: Sorted) -> impl Iterator<Item = Result<HashedEntry>> {
    sorted.map(|r| {
        let (k, v) = r?;
        let (hash, oid) = split_key(&k)?;
        Ok((hash, oid, decode(&v)?.ok_or_else(damaged)?))
    })
}

/// Objects patched in this run (merged from delta items), so that a second patch of one object
/// builds on the first. Each is held as zstd-compressed JSON (a group's member list as a map of
/// maps takes several times its text), keyed by its category and the hash of its id; once they
/// take more than an eighth of the memory budget they are appended to a file in the spill folder
/// and only their place in it is kept.
pub(crate) struct Patched {
    held: HashMap<(&'static str, [u8; 32]), Held>,
    /// Bytes of the objects held in memory.
    bytes: usize,
    limit: usize,
    budget: Arc<SpillBudget>,
    file: Option<(TempDir, File, u64)>,
}

enum Held {
    Memory(Box<[u8]>),
    /// Offset and length in the spill file.
    Disk(u64, usize),
}

impl Patched {
    pub(crate) fn new(budget: &Arc<SpillBudget>) -> Self {
        let limit = budget.limit() / 8;
        Patched { held: HashMap::new(), bytes: 0, limit, budget: budget.clone(), file: None }
    }

    fn key(cat: &'static str, oid: &str) -> (&'static str, [u8; 32]) {
        (cat, *blake3::hash(oid.as_bytes()).as_bytes())
    }

    /// The object as last patched in this run, if it was.
    pub(crate) fn get(&mut self, cat: &'static str, oid: &str) -> Result<Option<Map<String, Value>>> {
        let compressed = match self.held.get(&Self::key(cat, oid)) {
            None => return Ok(None),
            Some(Held::Memory(b)) => b.to_vec(),
            Some(Held::Disk(at, len)) => {
                let (dir, file, _) = self.file.as_mut().ok_or_else(damaged)?;
                let path = dir.path().join("patched");
                let mut b = vec![0; *len];
                file.seek(SeekFrom::Start(*at))
                    .and_then(|_| file.read_exact(&mut b))
                    .map_err(|e| io_error(&path, "reading", e))?;
                b
            }
        };
        let json = decompress(&compressed).map_err(|_| damaged())?;
        serde_json::from_slice(&json).map(Some).map_err(|_| damaged())
    }

    /// Remember `object` as object `oid` of `cat` now is.
    pub(crate) fn insert(&mut self, cat: &'static str, oid: &str, object: &Map<String, Value>) -> Result<()> {
        let json = serde_json::to_vec(object).map_err(|e| Error::new(ErrorKind::Protocol, e.to_string()))?;
        let compressed = zstd::bulk::compress(&json, 1).map_err(|e| Error::new(ErrorKind::Io, e.to_string()))?;
        self.bytes += compressed.len();
        if let Some(Held::Memory(old)) = self.held.insert(Self::key(cat, oid), Held::Memory(compressed.into())) {
            self.bytes -= old.len();
        }
        if self.bytes > self.limit {
            self.spill()?;
        }
        Ok(())
    }

    /// Append the objects held in memory to the spill file.
    fn spill(&mut self) -> Result<()> {
        if self.file.is_none() {
            let dir = self.budget.temp_dir()?;
            let path = dir.path().join("patched");
            let file = std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .open(&path)
                .map_err(|e| io_error(&path, "creating", e))?;
            self.file = Some((dir, file, 0));
        }
        let (dir, file, end) = self.file.as_mut().expect("opened above");
        let path = dir.path().join("patched");
        file.seek(SeekFrom::Start(*end)).map_err(|e| io_error(&path, "writing", e))?;
        let mut w = BufWriter::new(&*file);
        for held in self.held.values_mut() {
            if let Held::Memory(b) = held {
                w.write_all(b).map_err(|e| io_error(&path, "writing", e))?;
                let len = b.len();
                *held = Held::Disk(*end, len);
                *end += len as u64;
            }
        }
        w.flush().map_err(|e| io_error(&path, "writing", e))?;
        self.bytes = 0;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::repo::crypto::Cipher;
    use crate::repo::spill::{MemoryBudget, SpillBudget};

    #[test]
    fn patched_objects_come_back_as_they_were_in_memory_and_spilled() {
        for budget in [MemoryBudget::bytes(64), MemoryBudget::default()] {
            let budget = SpillBudget::new(budget, None);
            let mut p = Patched::new(&budget);
            let object = |i: usize, v: &str| -> Map<String, Value> {
                let json = serde_json::json!({"zeta": v, "id": format!("o{i}"), "n": i, "f": 0.1,
                    "members": [{"@odata.type": "#microsoft.graph.user", "id": "u1"}], "alpha": null});
                json.as_object().unwrap().clone()
            };
            for i in 0..50 {
                p.insert("groups", &format!("o{i}"), &object(i, "first")).unwrap();
            }
            p.insert("groups", "o7", &object(7, "second")).unwrap();
            assert_eq!(p.get("users", "o1").unwrap(), None);
            assert_eq!(p.get("groups", "missing").unwrap(), None);
            for i in 0..50 {
                let got = p.get("groups", &format!("o{i}")).unwrap().unwrap();
                let want = object(i, if i == 7 { "second" } else { "first" });
                assert_eq!(got, want);
                // Keys in the same order, not only equal maps.
                assert!(got.keys().eq(want.keys()));
            }
        }
    }

    #[test]
    fn entries_round_trip() {
        let c = Cipher::plaintext();
        let mut e = Entry::new(c.id_hex(b"a"));
        assert_eq!(decode(&encode(&e).unwrap()).unwrap(), Some(e.clone()));
        e.secret = Some(c.id_hex(b"s"));
        e.chunks = vec![c.id_hex(b"1"), c.id_hex(b"2")];
        assert_eq!(decode(&encode(&e).unwrap()).unwrap(), Some(e.clone()));
        e.secret = None;
        assert_eq!(decode(&encode(&e).unwrap()).unwrap(), Some(e));
        assert_eq!(decode(&[REMOVE]).unwrap(), None);
        assert!(decode(&[7]).is_err());
    }

    #[test]
    fn the_last_operation_wins_and_the_merge_counts_like_maps() {
        let c = Cipher::plaintext();
        for budget in [MemoryBudget::bytes(300), MemoryBudget::default()] {
            let budget = SpillBudget::new(budget, None);
            let e = |s: &str| Entry::new(c.id_hex(s.as_bytes()));
            let mut base = budget.sorter();
            for i in 0..100 {
                push_set(&mut base, &format!("o{i}"), &e(&format!("v{i}"))).unwrap();
            }
            let mut changes = budget.sorter();
            push_set(&mut changes, "o1", &e("new")).unwrap(); // changed
            push_set(&mut changes, "o2", &e("v2")).unwrap(); // the same
            push_remove(&mut changes, "o3").unwrap(); // removed
            push_set(&mut changes, "n1", &e("x")).unwrap();
            push_remove(&mut changes, "n1").unwrap(); // added then removed
            push_remove(&mut changes, "n2").unwrap();
            push_set(&mut changes, "n2", &e("y")).unwrap(); // removed then added
            let mut out = budget.sorter();
            let m = merge(Some(base.finish().unwrap()), changes.finish().unwrap(), Over::Parent, 10, &mut out).unwrap();
            assert_eq!((m.entries, m.added, m.changed, m.removed), (100, 1, 1, 1));
            let set = m.set.unwrap();
            assert_eq!(set.keys().collect::<Vec<_>>(), ["n2", "o1"]);
            assert_eq!(m.unset.unwrap(), ["o3"]);
            let ids: Vec<String> = hashed(out.finish().unwrap()).map(|r| r.unwrap().1).collect();
            assert_eq!(ids.len(), 100);
            assert!(ids.contains(&"n2".to_string()) && !ids.contains(&"o3".to_string()));
        }
    }
}
