//! Packs: many blobs in one storage object (see "Blobs and packs" in `docs/repository-format.md`).
//!
//! Blobs (an object's canonical JSON, a tree, or a sealed secret) are gathered in *frames* of
//! about [`FRAME_TARGET`] bytes of plaintext; each frame is compressed with zstd and sealed with
//! the data key, so one blob is read with one ranged GET of its frame. A pack is
//!
//! ```text
//! frame 0 || frame 1 || ... || seal(header JSON) || header length (u32 LE, of the sealed header)
//! ```
//!
//! where the header is the JSON list of [`BlobEntry`]s `{kind, id, offset, length, ulength,
//! uoffset}` (`offset`, `length`: the blob's stored frame; `uoffset`, `ulength`: the blob's
//! plaintext within the frame's plaintext). A pack is written once, to
//! `data/<first 2 hex>/<pack id>`, where the pack id is the unkeyed BLAKE3 of the stored bytes, so
//! that `check` can verify every pack file without the keys. A blob id is the keyed content id
//! ([`Cipher::id_hex`]) of its plaintext.
//!
//! Packs hold one kind of blob each (object packs also hold deltas of objects); a [`PackWriter`] is
//! made for one [`BlobKind`].

use std::collections::HashSet;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::backend::Store;
use crate::repo::crypto::Cipher;

/// How many blob ids a [`PackWriter`] remembers: between this many and twice as many of the last
/// ones it took (about 40 bytes each).
pub const SEEN_WINDOW: usize = 1 << 17;

/// The blob ids a writer took lately, as 32-byte values in two generations: once the newer one
/// holds [`SEEN_WINDOW`] ids, the older one is dropped. Memory stays flat however many blobs a
/// backup writes; the price is that a blob repeated after more than [`SEEN_WINDOW`] others in one
/// run (rare: object blobs hold their object's id) is stored a second time, which the index allows
/// (the first location wins) and prune reclaims. Never a false "seen": that would lose the blob.
#[derive(Debug)]
struct Seen {
    /// Ids per generation ([`SEEN_WINDOW`] but in tests).
    window: usize,
    newer: HashSet<[u8; 32]>,
    older: HashSet<[u8; 32]>,
    /// Ids that are not 64 hex digits (never written by this program), kept as they are.
    odd: HashSet<String>,
}

impl Default for Seen {
    fn default() -> Self {
        Seen { window: SEEN_WINDOW, newer: HashSet::new(), older: HashSet::new(), odd: HashSet::new() }
    }
}

impl Seen {
    fn contains(&self, id: &str) -> bool {
        match crate::repo::index::parse_id(id) {
            Some(key) => self.newer.contains(&key) || self.older.contains(&key),
            None => self.odd.contains(id),
        }
    }

    fn insert(&mut self, id: &str) {
        let Some(key) = crate::repo::index::parse_id(id) else {
            self.odd.insert(id.to_string());
            return;
        };
        if self.newer.len() >= self.window {
            self.older = std::mem::take(&mut self.newer);
        }
        self.newer.insert(key);
    }

    fn remove(&mut self, id: &str) {
        match crate::repo::index::parse_id(id) {
            Some(key) => {
                self.newer.remove(&key);
                self.older.remove(&key);
            }
            None => {
                self.odd.remove(id);
            }
        }
    }
}

/// Packs are cut at this size (of stored bytes) unless told otherwise.
pub const DEFAULT_TARGET_SIZE: usize = 16 * 1024 * 1024;

/// The zstd level of every frame, index and snapshot.
pub const ZSTD_LEVEL: i32 = 6;

/// Blobs are compressed together in frames of about this much plaintext (one blob larger than it
/// is a frame of its own): small JSON objects compress several times better together than alone,
/// and reading one blob still reads at most one frame.
pub const FRAME_TARGET: usize = 64 * 1024;

/// Bytes of the header-length trailer at the end of a pack.
const TRAILER_LEN: u64 = 4;

/// The most blobs a writer puts in one pack, so that its header stays under `MAX_HEADER_LEN`
/// (an entry takes at most about 220 bytes of JSON).
pub const MAX_PACK_BLOBS: usize = 100_000;

/// At most this much of a pack's buffer is reserved up front (a pack cut later grows as needed).
const MAX_RESERVED: usize = 64 * 1024 * 1024;

/// The largest header a reader accepts, besides the pack's own size: a damaged or planted length
/// must not make a reader download and hold more than this before the header authenticates.
const MAX_HEADER_LEN: u64 = 32 * 1024 * 1024;

/// What a blob holds. Each pack holds blobs of one kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BlobKind {
    /// A directory object's canonical JSON.
    Object,
    /// A tree (a category's object id → blob id map, or its sub-trees).
    Tree,
    /// A secret sealed to the secrets public key.
    Secret,
    /// A directory object stored as the changes from another version of it (its `base`): the
    /// blob id is still that of the object's whole canonical JSON, which decoding gives (see
    /// `repo::delta`). Stored in object packs; only in repositories of format version 2 or later.
    Delta,
}

impl BlobKind {
    /// Its name in index files: `object`, `tree` or `secret`.
    pub fn as_str(self) -> &'static str {
        match self {
            BlobKind::Object => "object",
            BlobKind::Tree => "tree",
            BlobKind::Secret => "secret",
            BlobKind::Delta => "delta",
        }
    }
}

/// Where one blob is in its pack.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct BlobEntry {
    /// What the blob holds.
    pub kind: BlobKind,
    /// The blob id: [`Cipher::id_hex`] of the plaintext.
    pub id: String,
    /// Offset in the pack of the frame holding the blob (its stored, compressed and sealed bytes).
    pub offset: u64,
    /// Length of the stored frame.
    pub length: u64,
    /// Length of the blob's plaintext.
    pub ulength: u64,
    /// Offset of the blob's plaintext in the frame's plaintext.
    #[serde(default)]
    pub uoffset: u64,
    /// For a [`BlobKind::Delta`]: the blob it is decoded against (itself possibly a delta).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
}

impl BlobEntry {
    /// The byte range of the stored blob in its pack.
    pub fn range(&self) -> std::ops::Range<u64> {
        self.offset..self.offset.saturating_add(self.length)
    }
}

/// A written pack: its id and its blobs (as an index file lists it: `{"id", "blobs"}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackInfo {
    /// The pack id: the unkeyed BLAKE3 of its stored bytes, 64 hex digits.
    pub id: String,
    /// Its blobs, in the order they are stored.
    #[serde(rename = "blobs")]
    pub entries: Vec<BlobEntry>,
}

/// The path of a pack in the store: `data/<first 2 hex>/<pack id>`. An id that is not 64
/// lowercase hex digits is an [`ErrorKind::InvalidInput`] error.
pub fn pack_path(pack_id: &str) -> Result<String> {
    check_id(pack_id, "pack")?;
    Ok(format!("data/{}/{pack_id}", &pack_id[..2]))
}

/// Whether `id` looks like a content id (64 lowercase hex digits).
pub fn is_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// The ids of the files directly under `dir` (`index`, `snapshots`), sorted; names that are not
/// ids are ignored.
pub(crate) async fn list_ids(store: &Store, dir: &str) -> Result<Vec<String>> {
    let prefix = format!("{dir}/");
    let mut ids: Vec<String> = store
        .list(dir)
        .await?
        .into_iter()
        .filter_map(|meta| {
            let name = meta.location.as_ref().strip_prefix(prefix.as_str())?.to_owned();
            is_id(&name).then_some(name)
        })
        .collect();
    ids.sort();
    Ok(ids)
}

pub(crate) fn check_id(id: &str, what: &str) -> Result<()> {
    if is_id(id) {
        Ok(())
    } else {
        let shown: String = id.chars().take(80).collect();
        Err(Error::invalid_input(format!("`{shown}` is not a {what} id (64 lowercase hex digits)")))
    }
}

/// Collects blobs of one kind into a pack and writes it.
///
/// [`PackWriter::add`] compresses and seals a blob in memory and returns its id; a blob whose id
/// this writer already took (in this pack or in one it wrote before) is skipped. When
/// [`PackWriter::is_full`] says so (the target size is reached), or at the end of a backup, the
/// caller writes the pack with [`PackWriter::finish`], which leaves the writer empty and ready
/// for the next pack. [`PackWriter::add_and_flush`] does both.
#[derive(Debug)]
pub struct PackWriter {
    kind: BlobKind,
    cipher: Cipher,
    target_size: usize,
    buf: Vec<u8>,
    entries: Vec<BlobEntry>,
    /// The blob ids this writer took most recently, across packs (see [`Seen`]).
    seen: Seen,
    /// The frame being filled: plaintexts one after another, and the entries waiting for its
    /// stored offset and length.
    frame: Vec<u8>,
    frame_entries: Vec<BlobEntry>,
}

impl PackWriter {
    /// A writer of `kind` packs cut at [`DEFAULT_TARGET_SIZE`].
    pub fn new(kind: BlobKind, cipher: Cipher) -> Self {
        PackWriter {
            kind,
            cipher,
            target_size: DEFAULT_TARGET_SIZE,
            buf: Vec::new(),
            entries: Vec::new(),
            seen: Seen::default(),
            frame: Vec::new(),
            frame_entries: Vec::new(),
        }
    }

    /// Cut packs at `bytes` of stored blobs instead (at least one blob per pack).
    pub fn with_target_size(mut self, bytes: usize) -> Self {
        self.target_size = bytes.max(1);
        self
    }

    /// The kind of blob it packs.
    pub fn kind(&self) -> BlobKind {
        self.kind
    }

    /// Packs are cut at this many bytes of stored blobs.
    pub fn target_size(&self) -> usize {
        self.target_size
    }

    /// Blobs in the pack being built.
    pub fn len(&self) -> usize {
        self.entries.len() + self.frame_entries.len()
    }

    /// Whether the pack being built holds no blob.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Stored bytes of the blobs in the pack being built (the open frame counted uncompressed).
    pub fn size(&self) -> usize {
        self.buf.len() + self.frame.len() / 4
    }

    /// Whether the pack being built reached the target size (or [`MAX_PACK_BLOBS`]) and should be
    /// written.
    pub fn is_full(&self) -> bool {
        self.size() >= self.target_size || self.len() >= MAX_PACK_BLOBS
    }

    /// Whether this writer took the blob `id` lately (among about the last [`SEEN_WINDOW`] it
    /// took, in any pack it built). False for one taken longer ago: storing it again is safe.
    pub fn contains(&self, id: &str) -> bool {
        self.seen.contains(id)
    }

    /// Mark `id` as already stored elsewhere (found in the index), so `add` skips it.
    pub fn mark_stored(&mut self, id: impl Into<String>) {
        self.seen.insert(&id.into());
    }

    /// Add a blob (its plaintext) and return its id. A blob this writer already took is not
    /// added again. Does not write anything; see [`PackWriter::finish`].
    pub fn add(&mut self, plaintext: &[u8]) -> Result<String> {
        let id = self.cipher.id_hex(plaintext);
        self.add_with_id(id, plaintext)
    }

    fn add_with_id(&mut self, id: String, plaintext: &[u8]) -> Result<String> {
        self.add_entry(id, plaintext, self.kind, None)
    }

    /// Add object `id` (the id of its whole canonical JSON) stored as `delta`, its changes from
    /// blob `base` (see `repo::delta`). Only in an object writer.
    pub fn add_delta(&mut self, id: String, base: String, delta: &[u8]) -> Result<String> {
        debug_assert_eq!(self.kind, BlobKind::Object, "deltas go in object packs");
        self.add_entry(id, delta, BlobKind::Delta, Some(base))
    }

    fn add_entry(&mut self, id: String, plaintext: &[u8], kind: BlobKind, base: Option<String>) -> Result<String> {
        if self.seen.contains(&id) {
            return Ok(id);
        }
        if !self.frame.is_empty() && self.frame.len() + plaintext.len() > FRAME_TARGET {
            self.close_frame()?;
        }
        self.frame_entries.push(BlobEntry {
            kind,
            id: id.clone(),
            offset: 0,
            length: 0,
            ulength: plaintext.len() as u64,
            uoffset: self.frame.len() as u64,
            base,
        });
        self.frame.extend_from_slice(plaintext);
        self.seen.insert(&id);
        if self.frame.len() >= FRAME_TARGET {
            self.close_frame()?;
        }
        Ok(id)
    }

    /// Compress and seal the open frame and append it to the pack.
    fn close_frame(&mut self) -> Result<()> {
        if self.frame_entries.is_empty() {
            return Ok(());
        }
        // With zstd's checksum, damage is caught even in a plaintext repository.
        let compressed = zstd::bulk::Compressor::new(ZSTD_LEVEL)
            .and_then(|mut c| {
                c.include_checksum(true)?;
                c.compress(&self.frame)
            })
            .map_err(|e| {
                Error::new(ErrorKind::Io, format!("compressing {} blobs: {e}", self.kind.as_str())).with_source(e)
            })?;
        let sealed = self.cipher.seal(&compressed);
        if self.buf.capacity() == 0 {
            // The pack's whole buffer at once, not grown by doubling: one large allocation the
            // allocator maps and returns whole when the pack is written, where a buffer grown in
            // steps leaves its smaller steps behind as fragments (tens of MB over a backup).
            self.buf.reserve_exact(self.target_size.min(MAX_RESERVED).saturating_add(FRAME_TARGET));
        }
        let offset = self.buf.len() as u64;
        for mut entry in self.frame_entries.drain(..) {
            entry.offset = offset;
            entry.length = sealed.len() as u64;
            self.entries.push(entry);
        }
        self.buf.extend_from_slice(&sealed);
        self.frame.clear();
        Ok(())
    }

    /// [`PackWriter::add`], then [`PackWriter::finish`] if that made the pack full.
    pub async fn add_and_flush(&mut self, store: &Store, plaintext: &[u8]) -> Result<(String, Option<PackInfo>)> {
        let id = self.add(plaintext)?;
        let written = if self.is_full() { self.finish(store).await? } else { None };
        Ok((id, written))
    }

    /// Write the pack being built (nothing if it is empty) with create-if-absent and start a new
    /// one. An existing pack of the same id already holds these exact bytes.
    pub async fn finish(&mut self, store: &Store) -> Result<Option<PackInfo>> {
        let Some(pack) = self.take()? else { return Ok(None) };
        match pack.upload(store).await {
            Ok(info) => Ok(Some(info)),
            Err(e) => {
                // The blobs are not stored: let a retry add them again.
                for entry in &pack.info.entries {
                    self.seen.remove(&entry.id);
                }
                Err(e)
            }
        }
    }

    /// Seal the pack being built (header and trailer) and start a new one, without writing it: the
    /// caller uploads it with [`SealedPack::upload`], outside any lock it holds on this writer.
    pub fn take(&mut self) -> Result<Option<SealedPack>> {
        self.close_frame()?;
        if self.entries.is_empty() {
            return Ok(None);
        }
        let entries = std::mem::take(&mut self.entries);
        let mut bytes = std::mem::take(&mut self.buf);
        let header = serde_json::to_vec(&entries)
            .map_err(|e| Error::new(ErrorKind::Protocol, format!("encoding a pack header: {e}")))?;
        let sealed = self.cipher.seal(&header);
        let header_len = u32::try_from(sealed.len())
            .map_err(|_| Error::invalid_input(format!("a pack header of {} bytes is too large", sealed.len())))?;
        // Exactly: `reserve` would double a buffer of 16 MiB to 32 for a header of a few MB.
        bytes.reserve_exact(sealed.len() + TRAILER_LEN as usize);
        bytes.extend_from_slice(&sealed);
        bytes.extend_from_slice(&header_len.to_le_bytes());
        let id = Cipher::plaintext().id_hex(&bytes);
        Ok(Some(SealedPack { info: PackInfo { id, entries }, bytes: Bytes::from(bytes) }))
    }

    /// Add a blob whose id the caller computed (a sealed secret: its id is that of the secret's
    /// plaintext, which the stored bytes do not show).
    pub fn add_sealed_secret(&mut self, id: String, sealed_box: &[u8]) -> Result<String> {
        self.add_with_id(id, sealed_box)
    }
}

/// A pack sealed by [`PackWriter::take`], not yet written.
#[derive(Debug, Clone)]
pub struct SealedPack {
    /// Its id and blobs, for the index.
    pub info: PackInfo,
    /// The pack file's bytes, as stored.
    pub bytes: Bytes,
}

impl SealedPack {
    /// Write it with create-if-absent (an existing pack of that id already holds these bytes).
    pub async fn upload(&self, store: &Store) -> Result<PackInfo> {
        let id = &self.info.id;
        let path = pack_path(id)?;
        store.put_if_absent(&path, self.bytes.clone()).await.map_err(|e| e.context(format!("writing pack {id}")))?;
        Ok(self.info.clone())
    }
}

/// zstd at [`ZSTD_LEVEL`], as every blob, index and snapshot is compressed.
pub(crate) fn compress(bytes: &[u8]) -> Result<Vec<u8>> {
    zstd::bulk::compress(bytes, ZSTD_LEVEL)
        .map_err(|e| Error::new(ErrorKind::Io, format!("compressing: {e}")).with_source(e))
}

/// The largest index or snapshot a reader decompresses (a damaged frame must not claim gigabytes).
const MAX_DECOMPRESSED: usize = 4 * 1024 * 1024 * 1024 - 1;

/// Decompress a whole zstd frame (indexes, snapshots and pack frames; the frame records its size).
/// The buffer grows with the output rather than being sized from the size the frame claims: a
/// damaged or crafted header must not make a reader allocate gigabytes.
pub(crate) fn decompress(bytes: &[u8]) -> std::result::Result<Vec<u8>, String> {
    decompress_max(bytes, MAX_DECOMPRESSED)
}

/// [`decompress`], refusing a frame that claims more than `max` bytes.
pub(crate) fn decompress_max(bytes: &[u8], max: usize) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let size = zstd::zstd_safe::get_frame_content_size(bytes)
        .map_err(|e| format!("{e:?}"))?
        .ok_or_else(|| "no content size in the frame".to_string())?;
    if size > max as u64 {
        return Err(format!("claims {size} bytes, more than the {max} allowed"));
    }
    let decoder = zstd::stream::read::Decoder::with_buffer(bytes).map_err(|e| e.to_string())?.single_frame();
    let mut out = Vec::with_capacity((size as usize).min(bytes.len().saturating_mul(4)));
    decoder.take(size + 1).read_to_end(&mut out).map_err(|e| e.to_string())?;
    if out.len() as u64 != size {
        return Err(format!("holds {} bytes, its header claims {size}", out.len()));
    }
    Ok(out)
}

fn damaged(pack_id: &str, what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Protocol, format!("pack {pack_id}: {what}"))
}

/// Read one blob with one ranged GET: open it, decompress it, and check its id. A blob that does
/// not authenticate, decompress or match its id is an [`ErrorKind::Protocol`] error naming the pack
/// and the blob.
pub async fn read_blob(store: &Store, cipher: &Cipher, pack_id: &str, entry: &BlobEntry) -> Result<Vec<u8>> {
    let path = pack_path(pack_id)?;
    let blob = &entry.id;
    let stored = store
        .get_range(&path, entry.range())
        .await
        .map_err(|e| e.context(format!("reading blob {blob} of pack {pack_id}")))?;
    open_blob(cipher, pack_id, entry, &stored)
}

/// Open a blob's frame (read by the caller, from a range or a whole pack): authenticate,
/// decompress, cut the blob out and check its id, as [`read_blob`] does.
pub fn open_blob(cipher: &Cipher, pack_id: &str, entry: &BlobEntry, stored: &[u8]) -> Result<Vec<u8>> {
    let frame = open_frame(cipher, pack_id, entry, stored)?;
    blob_from_frame(cipher, pack_id, entry, &frame)
}

/// Authenticate and decompress a frame (the stored bytes `entry.range()` of its pack).
pub fn open_frame(cipher: &Cipher, pack_id: &str, entry: &BlobEntry, stored: &[u8]) -> Result<Vec<u8>> {
    let blob = &entry.id;
    let compressed = cipher.open(stored).map_err(|e| {
        damaged(pack_id, format_args!("the frame at {} holding blob {blob}: {}", entry.offset, e.message()))
    })?;
    decompress(&compressed).map_err(|e| {
        damaged(pack_id, format_args!("the frame at {} holding blob {blob} does not decompress: {e}", entry.offset))
    })
}

/// Cut a blob out of its opened frame and check its id. A [`BlobKind::Delta`] blob is returned as
/// stored (its encoded changes): its id is checked once it is decoded against its base
/// (`Repository::read_blobs` does both).
pub fn blob_from_frame(cipher: &Cipher, pack_id: &str, entry: &BlobEntry, frame: &[u8]) -> Result<Vec<u8>> {
    let blob = &entry.id;
    let plaintext = entry
        .uoffset
        .checked_add(entry.ulength)
        .and_then(|end| frame.get(entry.uoffset as usize..end as usize))
        .ok_or_else(|| {
            damaged(
                pack_id,
                format_args!(
                    "blob {blob} at {}..+{} lies outside its frame of {} bytes",
                    entry.uoffset,
                    entry.ulength,
                    frame.len()
                ),
            )
        })?;
    // A sealed secret's id is that of the secret's plaintext, checked when the secrets key opens it;
    // a delta's, that of the object it decodes to.
    let actual = match entry.kind {
        BlobKind::Secret | BlobKind::Delta => blob.clone(),
        BlobKind::Object | BlobKind::Tree => cipher.id_hex(plaintext),
    };
    if actual != *blob {
        return Err(damaged(pack_id, format_args!("blob {blob} has the content of {actual}")));
    }
    Ok(plaintext.to_vec())
}

/// Read a pack's header: its size, then the trailer (the header's length), then the header.
/// A header that does not authenticate or parse, or lists blobs outside the pack, is an
/// [`ErrorKind::Protocol`] error naming the pack; a missing pack is [`ErrorKind::NotFound`].
pub async fn read_header(store: &Store, cipher: &Cipher, pack_id: &str) -> Result<Vec<BlobEntry>> {
    let path = pack_path(pack_id)?;
    let Some(meta) = store.head(&path).await? else {
        return Err(Error::new(ErrorKind::NotFound, format!("pack {pack_id} does not exist ({path})")));
    };
    let size = meta.size;
    if size < TRAILER_LEN {
        return Err(damaged(pack_id, format_args!("{size} bytes is too short for a pack")));
    }
    let trailer = store.get_range(&path, size - TRAILER_LEN..size).await?;
    let header = header_range(pack_id, size, &trailer)?;
    let sealed = store.get_range(&path, header.clone()).await?;
    decode_header(cipher, pack_id, &sealed, header.start)
}

/// The header of a pack read whole (by check), as [`read_header`] reads it.
pub fn header_of(cipher: &Cipher, pack_id: &str, pack: &[u8]) -> Result<Vec<BlobEntry>> {
    let size = pack.len() as u64;
    if size < TRAILER_LEN {
        return Err(damaged(pack_id, format_args!("{size} bytes is too short for a pack")));
    }
    let header = header_range(pack_id, size, &pack[(size - TRAILER_LEN) as usize..])?;
    decode_header(cipher, pack_id, &pack[header.start as usize..header.end as usize], header.start)
}

/// Where the sealed header lies, from the pack's size and its trailer; bounded by both the pack's
/// size and [`MAX_HEADER_LEN`].
fn header_range(pack_id: &str, size: u64, trailer: &[u8]) -> Result<std::ops::Range<u64>> {
    let bytes: [u8; 4] = trailer.try_into().map_err(|_| damaged(pack_id, "its trailer is not 4 bytes"))?;
    let header_len = u64::from(u32::from_le_bytes(bytes));
    let body_len = size - TRAILER_LEN;
    if header_len > body_len || header_len > MAX_HEADER_LEN {
        return Err(damaged(pack_id, format_args!("header length {header_len} does not fit a pack of {size} bytes")));
    }
    Ok(body_len - header_len..body_len)
}

/// Open and parse a sealed header that starts at `header_start`; every blob must lie before it.
fn decode_header(cipher: &Cipher, pack_id: &str, sealed: &[u8], header_start: u64) -> Result<Vec<BlobEntry>> {
    let header = cipher.open(sealed).map_err(|e| damaged(pack_id, format_args!("header: {}", e.message())))?;
    let entries: Vec<BlobEntry> =
        serde_json::from_slice(&header).map_err(|e| damaged(pack_id, format_args!("header is not valid: {e}")))?;
    for entry in &entries {
        let base_ok = match (&entry.kind, &entry.base) {
            (BlobKind::Delta, Some(base)) => is_id(base) && *base != entry.id,
            (BlobKind::Delta, None) => false,
            (_, base) => base.is_none(),
        };
        if !base_ok {
            return Err(damaged(pack_id, format_args!("header lists blob {} with a wrong delta base", entry.id)));
        }
        if !is_id(&entry.id) || entry.offset.checked_add(entry.length).is_none_or(|end| end > header_start) {
            return Err(damaged(
                pack_id,
                format_args!(
                    "header lists blob {} at {}..+{} outside the pack's blobs",
                    entry.id, entry.offset, entry.length
                ),
            ));
        }
    }
    Ok(entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_writer_remembers_its_latest_blobs_and_never_takes_a_blob_it_did_not_take() {
        let mut w = PackWriter::new(BlobKind::Object, Cipher::plaintext());
        w.seen.window = 4;
        let ids: Vec<String> = (0..20).map(|i| w.add(format!("{{\"n\":{i}}}").as_bytes()).unwrap()).collect();
        // The last window's ids (4 to 8 of them) are remembered, older ones forgotten, and an id
        // never added is never taken for one.
        assert!(ids[16..].iter().all(|id| w.contains(id)));
        assert!(ids[..12].iter().all(|id| !w.contains(id)));
        assert!(!w.contains(&Cipher::plaintext().id_hex(b"{\"n\":20}")));
        // A blob added again within the window is not stored twice; one forgotten is (harmless:
        // the index keeps its first location).
        let before = w.len();
        w.add(b"{\"n\":19}").unwrap();
        assert_eq!(w.len(), before);
        w.add(b"{\"n\":0}").unwrap();
        assert_eq!(w.len(), before + 1);
        assert!(w.contains(&ids[0]));
        // Odd ids (not 64 hex digits) are remembered as they are.
        w.mark_stored("not-a-content-id");
        assert!(w.contains("not-a-content-id"));
    }
}
