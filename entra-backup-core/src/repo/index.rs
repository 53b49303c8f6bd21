//! Indexes: which blob is in which pack, at which offset (see "Indexes" in
//! `docs/repository-format.md`).
//!
//! An index file is the JSON `{"packs": [{"id", "blobs": [{"kind", "id", "offset", "length",
//! "ulength"}]}], "supersedes": [index ids], "delete": [{"pack", "marked"}]}`, compressed with
//! zstd, sealed with the data key and written once to `index/<id>`, the id being the keyed content
//! id of the JSON. A backup writes one after its packs and before its snapshot. A blob's location
//! is the union of all index files that no other index file supersedes. `delete` lists packs prune
//! found unused and will delete once the mark is old enough (two-phase delete).

use std::collections::{HashMap, HashSet};

use bytes::Bytes;
use futures::stream::{self, StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::backend::Store;
use crate::repo::crypto::Cipher;
use crate::repo::pack::{BlobEntry, BlobKind, PackInfo, check_id};

/// Index files read at once by [`Index::load`] (each is held parsed, its entries as strings, until
/// it is folded into the index: a few, not all of them).
const LOAD_CONCURRENCY: usize = 4;

/// The largest index file a reader downloads: a file larger than this is refused before it is
/// read into memory (and a writer refuses to write one). An entry takes about 100 stored bytes, so
/// this is room for some ten million blobs.
pub const MAX_INDEX_FILE: u64 = 1024 * 1024 * 1024;

/// One index file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexFile {
    /// The packs it indexes, each with its blobs.
    pub packs: Vec<PackInfo>,
    /// Ids of index files this one replaces: a reader ignores them (prune and repair rewrite the
    /// index this way).
    #[serde(default)]
    pub supersedes: Vec<String>,
    /// Packs marked for deletion by prune, and when.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub delete: Vec<Marked>,
}

/// A pack prune found unused, and when it first found it so.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Marked {
    /// The pack's id.
    pub pack: String,
    /// When prune first found it unused.
    pub marked: jiff::Timestamp,
}

/// The path of an index file: `index/<id>`.
pub fn index_path(index_id: &str) -> Result<String> {
    check_id(index_id, "index")?;
    Ok(format!("index/{index_id}"))
}

impl IndexFile {
    /// An index of `packs` that supersedes nothing and marks nothing.
    pub fn new(packs: Vec<PackInfo>) -> Self {
        IndexFile { packs, supersedes: Vec::new(), delete: Vec::new() }
    }

    /// Seal and write this index (create-if-absent) and return its id.
    pub async fn write(&self, store: &Store, cipher: &Cipher) -> Result<String> {
        Ok(self.write_sized(store, cipher).await?.0)
    }

    /// [`IndexFile::write`], also returning the bytes written.
    pub async fn write_sized(&self, store: &Store, cipher: &Cipher) -> Result<(String, u64)> {
        let json = serde_json::to_vec(self)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("encoding an index file: {e}")))?;
        let id = cipher.id_hex(&json);
        let path = index_path(&id)?;
        let sealed = cipher.seal(&crate::repo::pack::compress(&json)?);
        let len = sealed.len() as u64;
        if len > MAX_INDEX_FILE {
            return Err(Error::invalid_input(format!(
                "an index file of {len} bytes is larger than the {MAX_INDEX_FILE} bytes an index file may have"
            )));
        }
        store.put_if_absent(&path, Bytes::from(sealed)).await.map_err(|e| e.context(format!("writing index {id}")))?;
        Ok((id, len))
    }

    /// Read, open and parse the index file `id`, checking that its content has that id. A missing
    /// file is [`ErrorKind::NotFound`]; a damaged one is [`ErrorKind::Protocol`] naming it.
    pub async fn read(store: &Store, cipher: &Cipher, id: &str) -> Result<IndexFile> {
        let path = index_path(id)?;
        let damaged = |what: String| Error::new(ErrorKind::Protocol, format!("index {id}: {what}"));
        let sealed = match store.get_bounded(&path, MAX_INDEX_FILE).await {
            Ok(Some(sealed)) => sealed,
            Ok(None) => return Err(Error::new(ErrorKind::NotFound, format!("index {id} does not exist ({path})"))),
            Err(e) if e.kind() == ErrorKind::Protocol => return Err(damaged(e.message().to_owned())),
            Err(e) => return Err(e),
        };
        let compressed = cipher.open(&sealed).map_err(|e| damaged(e.message().to_owned()))?;
        let json =
            crate::repo::pack::decompress(&compressed).map_err(|e| damaged(format!("does not decompress: {e}")))?;
        let actual = cipher.id_hex(&json);
        if actual != id {
            return Err(damaged(format!("the content has the id {actual}")));
        }
        serde_json::from_slice(&json).map_err(|e| damaged(format!("not a valid index file: {e}")))
    }
}

/// The ids of every index file in the store (names under `index/` that are not ids are ignored).
pub async fn list_index_ids(store: &Store) -> Result<Vec<String>> {
    crate::repo::pack::list_ids(store, "index").await
}

/// Where one blob is, compactly: its pack by position in [`Index::packs`] and its frame. A blob's
/// plaintext and its place in its frame are below 4 GiB (no frame decompresses to more), so they
/// are held in 32 bits, which leaves room for the index file it came from within 40 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    offset: u64,
    length: u64,
    ulength: u32,
    uoffset: u32,
    pack: u32,
    /// The index file it was read from, by position while loading (to drop superseded files').
    file: u32,
    /// Its place in the order the files list their blobs, while loading (the first wins).
    seq: u32,
    kind: BlobKind,
}

// 72 bytes a blob with its id: the index of a million-user tenant (3.3 million blobs) is 240 MB.
const _: () = assert!(std::mem::size_of::<Slot>() == 40);

impl Slot {
    fn entry(&self, id: String, bases: &HashMap<String, String>) -> BlobEntry {
        // Only a delta has a base; the few deltas' bases are kept beside the slots.
        let base = if self.kind == BlobKind::Delta { bases.get(&id).cloned() } else { None };
        BlobEntry {
            kind: self.kind,
            id,
            offset: self.offset,
            length: self.length,
            ulength: u64::from(self.ulength),
            uoffset: u64::from(self.uoffset),
            base,
        }
    }
}

/// Where every blob is: the union of the index files not superseded.
///
/// Blob ids are held as 32-byte values (72 bytes a blob in all), in one vector sorted by id once
/// the index files are read; blobs added later go to a small map beside it. An id in an index
/// file that is not 64 lowercase hex digits (never written by this program) is kept as text.
#[derive(Debug, Clone, Default)]
pub struct Index {
    /// Pack ids, in the order first seen; blobs refer to them by position.
    packs: Vec<String>,
    pack_positions: HashMap<String, u32>,
    /// Blobs sorted by id, each id once.
    sorted: Vec<([u8; 32], Slot)>,
    /// Blobs added after loading (by [`Index::add_pack`]).
    recent: HashMap<[u8; 32], Slot>,
    /// Blobs whose id is not a content id.
    odd: HashMap<String, Slot>,
    /// The base of each delta blob (the first one indexed, as for its location).
    bases: HashMap<String, String>,
    /// The index files this was loaded from (not superseded).
    files: Vec<String>,
    /// Index files superseded by the loaded ones.
    superseded: HashSet<String>,
    /// Packs marked for deletion, with the earliest mark.
    marked: HashMap<String, jiff::Timestamp>,
}

impl Index {
    /// An empty index.
    pub fn new() -> Self {
        Index::default()
    }

    /// Read every index file in the store and combine those no other one supersedes. Each file
    /// is folded in as it is read, so that only a few are ever held parsed.
    pub async fn load(store: &Store, cipher: &Cipher) -> Result<Index> {
        let ids = list_index_ids(store).await?;
        let mut files = stream::iter(ids)
            .map(|id| async move { IndexFile::read(store, cipher, &id).await.map(|file| (id, file)) })
            .buffered(LOAD_CONCURRENCY);
        let mut loading = Loading::default();
        while let Some((id, file)) = files.try_next().await? {
            loading.add(id, file);
        }
        Ok(loading.finish())
    }

    /// Combine index files already read (those another one supersedes are left out).
    pub fn from_files(files: Vec<(String, IndexFile)>) -> Index {
        let mut loading = Loading::default();
        for (id, file) in files {
            loading.add(id, file);
        }
        loading.finish()
    }

    fn pack_position(&mut self, pack_id: &str) -> u32 {
        match self.pack_positions.get(pack_id) {
            Some(&position) => position,
            None => {
                let position = u32::try_from(self.packs.len()).expect("fewer than 4 billion packs");
                self.packs.push(pack_id.to_string());
                self.pack_positions.insert(pack_id.to_string(), position);
                position
            }
        }
    }

    /// Add a pack's blobs (one just written, say). A blob already indexed keeps its location.
    pub fn add_pack(&mut self, pack: &PackInfo) {
        let position = self.pack_position(&pack.id);
        for entry in &pack.entries {
            let slot = slot(position, 0, entry);
            match parse_id(&entry.id) {
                Some(key) => {
                    if self.find(&key).is_none() {
                        self.recent.insert(key, slot);
                        if let Some(base) = &entry.base {
                            self.bases.insert(entry.id.clone(), base.clone());
                        }
                    }
                }
                None => {
                    self.odd.entry(entry.id.clone()).or_insert(slot);
                }
            }
        }
    }

    fn find(&self, key: &[u8; 32]) -> Option<&Slot> {
        match self.sorted.binary_search_by(|(k, _)| k.cmp(key)) {
            Ok(i) => Some(&self.sorted[i].1),
            Err(_) => self.recent.get(key),
        }
    }

    fn slot_of(&self, id: &str) -> Option<&Slot> {
        match parse_id(id) {
            Some(key) => self.find(&key),
            None => self.odd.get(id),
        }
    }

    /// The pack holding the blob `id` and where in it.
    pub fn lookup(&self, id: &str) -> Option<(&str, BlobEntry)> {
        self.slot_of(id).map(|s| (self.packs[s.pack as usize].as_str(), s.entry(id.to_string(), &self.bases)))
    }

    /// Whether the blob `id` is indexed.
    pub fn contains(&self, id: &str) -> bool {
        self.slot_of(id).is_some()
    }

    /// Whether the blob with the 32-byte id `id` is indexed.
    pub fn contains_id(&self, id: &[u8; 32]) -> bool {
        self.find(id).is_some()
    }

    /// Number of blobs.
    pub fn len(&self) -> usize {
        self.sorted.len() + self.recent.len() + self.odd.len()
    }

    /// Whether it indexes no blob.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The blobs of one pack, as indexed, in the order they are stored.
    pub fn pack_blobs(&self, pack_id: &str) -> Vec<BlobEntry> {
        let Some(&position) = self.pack_positions.get(pack_id) else { return Vec::new() };
        let mut out: Vec<BlobEntry> =
            self.slots().filter(|(_, s)| s.pack == position).map(|(id, s)| s.entry(id, &self.bases)).collect();
        out.sort_by(|a, b| (a.offset, a.uoffset, &a.id).cmp(&(b.offset, b.uoffset, &b.id)));
        out
    }

    fn slots(&self) -> impl Iterator<Item = (String, &Slot)> {
        self.sorted
            .iter()
            .map(|(k, s)| (to_hex(k), s))
            .chain(self.recent.iter().map(|(k, s)| (to_hex(k), s)))
            .chain(self.odd.iter().map(|(k, s)| (k.clone(), s)))
    }

    /// Every indexed pack id.
    pub fn pack_ids(&self) -> impl Iterator<Item = &str> {
        self.packs.iter().map(String::as_str)
    }

    /// Whether the pack `pack_id` is indexed.
    pub fn contains_pack(&self, pack_id: &str) -> bool {
        self.pack_positions.contains_key(pack_id)
    }

    /// The index files this index was loaded from (superseded ones excluded).
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// When prune marked the pack for deletion, if it did.
    pub fn marked(&self, pack_id: &str) -> Option<jiff::Timestamp> {
        self.marked.get(pack_id).copied()
    }

    /// The blob's location, unless its pack is marked for deletion: a backup must not rely on
    /// such a blob (it stores it again instead).
    pub fn lookup_live(&self, id: &str) -> Option<(&str, BlobEntry)> {
        self.lookup(id).filter(|(pack, _)| !self.marked.contains_key(*pack))
    }

    /// Whether the blob is indexed in a pack not marked for deletion ([`Index::lookup_live`]
    /// without making its entry).
    pub fn contains_live(&self, id: &str) -> bool {
        self.slot_of(id)
            .is_some_and(|s| self.marked.is_empty() || !self.marked.contains_key(&self.packs[s.pack as usize]))
    }

    /// Every blob: (pack id, entry).
    pub fn blobs(&self) -> impl Iterator<Item = (&str, BlobEntry)> {
        self.slots().map(|(id, s)| (self.packs[s.pack as usize].as_str(), s.entry(id, &self.bases)))
    }

    /// Whether a loaded index file supersedes the index file `id`.
    pub fn is_superseded(&self, id: &str) -> bool {
        self.superseded.contains(id)
    }
}

fn slot(pack: u32, file: u32, e: &BlobEntry) -> Slot {
    // Beyond 32 bits a length is damage (no frame decompresses to 4 GiB): kept as the largest
    // value, which no frame matches, so reading the blob fails as it would have.
    let small = |v: u64| u32::try_from(v).unwrap_or(u32::MAX);
    Slot {
        offset: e.offset,
        length: e.length,
        ulength: small(e.ulength),
        uoffset: small(e.uoffset),
        pack,
        file,
        seq: 0,
        kind: e.kind,
    }
}

/// Index files being folded into an [`Index`], in the order they are listed: every entry is
/// taken as it comes, tagged with its file, and those of files another one supersedes (which
/// may come later) are dropped at the end. The result is what combining the files not
/// superseded gives: a blob indexed twice keeps its first location.
#[derive(Default)]
struct Loading {
    index: Index,
    /// Every file's id, by position.
    ids: Vec<String>,
    /// (pack, file) for every pack a file lists, in order.
    pack_files: Vec<(u32, u32)>,
    odd: Vec<(String, Slot)>,
    bases: Vec<(String, String, u32)>,
    marks: Vec<(String, jiff::Timestamp, u32)>,
}

impl Loading {
    fn add(&mut self, id: String, file: IndexFile) {
        let f = u32::try_from(self.ids.len()).expect("fewer than 4 billion index files");
        self.ids.push(id);
        self.index.superseded.extend(file.supersedes);
        // Grown by what the file adds or by an eighth, not by doubling (a transient 2x of the
        // largest thing held).
        let adding: usize = file.packs.iter().map(|p| p.entries.len()).sum();
        let sorted = &mut self.index.sorted;
        if sorted.capacity() - sorted.len() < adding {
            sorted.reserve_exact(adding.max(sorted.len() / 8));
        }
        for pack in file.packs {
            let position = self.index.pack_position(&pack.id);
            self.pack_files.push((position, f));
            for entry in pack.entries {
                let slot = slot(position, f, &entry);
                match parse_id(&entry.id) {
                    Some(key) => self.index.sorted.push((key, slot)),
                    None => self.odd.push((entry.id.clone(), slot)),
                }
                if let Some(base) = entry.base {
                    self.bases.push((entry.id, base, f));
                }
            }
        }
        self.marks.extend(file.delete.into_iter().map(|m| (m.pack, m.marked, f)));
    }

    fn finish(self) -> Index {
        let Loading { mut index, ids, pack_files, odd, bases, marks } = self;
        let live: Vec<bool> = ids.iter().map(|id| !index.superseded.contains(id)).collect();
        let is_live = |f: u32| live[f as usize];
        // Packs in the order the live files first list them (as if only those had been read).
        let old_packs = std::mem::take(&mut index.packs);
        index.pack_positions.clear();
        let mut renumber = vec![u32::MAX; old_packs.len()];
        for (p, f) in pack_files {
            if is_live(f) && renumber[p as usize] == u32::MAX {
                renumber[p as usize] = index.pack_position(&old_packs[p as usize]);
            }
        }
        drop(old_packs);
        index.sorted.retain(|(_, s)| is_live(s.file));
        for (seq, (_, s)) in index.sorted.iter_mut().enumerate() {
            s.pack = renumber[s.pack as usize];
            s.seq = u32::try_from(seq).unwrap_or(u32::MAX);
        }
        // A blob indexed twice keeps its first location. Unstable with the order as tie-break:
        // a stable sort would allocate half the index again.
        index.sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(a.1.seq.cmp(&b.1.seq)));
        index.sorted.dedup_by(|later, first| later.0 == first.0);
        index.sorted.shrink_to_fit();
        for (id, mut s) in odd.into_iter().filter(|(_, s)| is_live(s.file)) {
            s.pack = renumber[s.pack as usize];
            index.odd.entry(id).or_insert(s);
        }
        for (id, base, _) in bases.into_iter().filter(|b| is_live(b.2)) {
            index.bases.entry(id).or_insert(base);
        }
        for (pack, marked, _) in marks.into_iter().filter(|m| is_live(m.2)) {
            let at = index.marked.entry(pack).or_insert(marked);
            *at = (*at).min(marked);
        }
        index.files = ids.into_iter().filter(|id| !index.superseded.contains(id)).collect();
        index
    }
}

/// A content id (64 lowercase hex digits) as its 32 bytes; `None` for anything else.
pub fn parse_id(id: &str) -> Option<[u8; 32]> {
    let b = id.as_bytes();
    if b.len() != 64 {
        return None;
    }
    let nibble = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = (nibble(b[2 * i])? << 4) | nibble(b[2 * i + 1])?;
    }
    Some(out)
}

/// 32 bytes as 64 lowercase hex digits.
pub fn to_hex(id: &[u8; 32]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(64);
    for b in id {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_odd_ids_are_refused() {
        let id = Cipher::plaintext().id_hex(b"x");
        assert_eq!(to_hex(&parse_id(&id).unwrap()), id);
        assert!(parse_id(&id.to_uppercase()).is_none());
        assert!(parse_id("abc").is_none());
    }

    #[test]
    fn the_first_location_of_a_blob_wins_and_odd_ids_still_work() {
        let e = |id: &str, offset| BlobEntry {
            kind: BlobKind::Object,
            id: id.to_string(),
            offset,
            length: 10,
            ulength: 5,
            uoffset: 0,
            base: None,
        };
        let a = Cipher::plaintext().id_hex(b"a");
        let b = Cipher::plaintext().id_hex(b"b");
        let p1 = PackInfo { id: "1".repeat(64), entries: vec![e(&a, 0), e("odd", 10)] };
        let p2 = PackInfo { id: "2".repeat(64), entries: vec![e(&a, 7), e(&b, 20)] };
        let index =
            Index::from_files(vec![("f1".into(), IndexFile::new(vec![p1])), ("f2".into(), IndexFile::new(vec![p2]))]);
        assert_eq!(index.len(), 3);
        let (pack, entry) = index.lookup(&a).unwrap();
        assert_eq!((pack, entry.offset, entry.id.as_str()), ("1".repeat(64).as_str(), 0, a.as_str()));
        assert_eq!(index.lookup("odd").unwrap().1.offset, 10);
        assert_eq!(index.pack_blobs(&"2".repeat(64)).len(), 1);
        let mut index = index;
        let c = Cipher::plaintext().id_hex(b"c");
        index.add_pack(&PackInfo { id: "3".repeat(64), entries: vec![e(&a, 99), e(&c, 1)] });
        assert_eq!(index.lookup(&a).unwrap().1.offset, 0);
        assert_eq!(index.lookup(&c).unwrap().0, "3".repeat(64));
        assert!(index.contains_live(&c));
        assert_eq!(index.blobs().count(), 4);
    }

    #[test]
    fn a_file_superseded_by_a_later_one_is_left_out_as_if_never_read() {
        // Files are folded in as they are read: the superseding file comes after the one it
        // replaces, whose blobs, packs, bases and marks must all be gone.
        let e = |id: &str, offset, base: Option<&str>| BlobEntry {
            kind: if base.is_some() { BlobKind::Delta } else { BlobKind::Object },
            id: id.to_string(),
            offset,
            length: 10,
            ulength: 5,
            uoffset: 3,
            base: base.map(String::from),
        };
        let [a, b, c] = [b"a", b"b", b"c"].map(|x| Cipher::plaintext().id_hex(x));
        let pack = |n: &str, entries| PackInfo { id: n.repeat(64), entries };
        let mark = |n: &str| Marked { pack: n.repeat(64), marked: jiff::Timestamp::UNIX_EPOCH };
        let old = IndexFile {
            packs: vec![pack("1", vec![e(&a, 0, None), e(&b, 10, Some(&c)), e("odd", 1, None)])],
            supersedes: vec![],
            delete: vec![mark("9")],
        };
        let kept = IndexFile::new(vec![pack("4", vec![e(&c, 5, None), e(&a, 6, None)])]);
        let new = IndexFile {
            packs: vec![pack("2", vec![e(&a, 7, None), e(&b, 8, None)])],
            supersedes: vec!["old".into()],
            delete: vec![mark("4")],
        };
        let files = vec![("old".to_string(), old), ("kept".into(), kept.clone()), ("new".into(), new.clone())];
        let index = Index::from_files(files);
        let expected = Index::from_files(vec![("kept".into(), kept), ("new".into(), new)]);
        let all = |i: &Index| {
            let mut v: Vec<(String, BlobEntry)> = i.blobs().map(|(p, e)| (p.to_string(), e)).collect();
            v.sort_by(|x, y| x.1.id.cmp(&y.1.id));
            v
        };
        assert_eq!(all(&index), all(&expected));
        assert_eq!(index.pack_ids().collect::<Vec<_>>(), ["4".repeat(64), "2".repeat(64)]);
        assert_eq!(index.lookup(&a).unwrap().1.offset, 6);
        assert_eq!(index.lookup(&b).unwrap().1, e(&b, 8, None));
        assert!(index.lookup("odd").is_none() && !index.contains_pack(&"1".repeat(64)));
        assert_eq!(index.files(), ["kept", "new"]);
        assert!(index.is_superseded("old"));
        assert!(index.marked(&"9".repeat(64)).is_none() && index.marked(&"4".repeat(64)).is_some());
        assert!(!index.contains_live(&c));
    }
}
