//! Reading blobs: each wanted frame with one ranged GET (nearby frames of a pack in one request),
//! deltas decoded against their bases (see `repo::delta`).

use std::collections::HashMap;

use futures::stream::{self, StreamExt, TryStreamExt};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::index::Index;
use crate::repo::pack::{BlobEntry, BlobKind, blob_from_frame, open_frame};

/// Packs read at once.
const READ_CONCURRENCY: usize = 16;

impl Repository {
    /// Read blobs by id (any kind): a pack holding many of them is read whole, others blob by blob.
    /// Returns the plaintexts in the order of `ids`; a delta comes back decoded (its bases read
    /// too, through a cache), checked against its id.
    pub(crate) async fn read_blobs(&self, index: &Index, ids: &[String]) -> Result<Vec<Vec<u8>>> {
        self.read_blobs_at(index, ids, 0).await
    }

    /// [`Repository::read_blobs`] as the base of a delta `depth` links down.
    pub(crate) fn read_blobs_at<'a>(
        &'a self,
        index: &'a Index,
        ids: &'a [String],
        depth: usize,
    ) -> futures::future::BoxFuture<'a, Result<Vec<Vec<u8>>>> {
        Box::pin(async move {
            let (mut blobs, deltas) = self.read_stored(index, ids).await?;
            if !deltas.is_empty() {
                crate::repo::delta::resolve(self, index, ids, &mut blobs, deltas, depth).await?;
            }
            Ok(blobs)
        })
    }

    /// The blobs as stored, and which of them are deltas (position, base).
    async fn read_stored(&self, index: &Index, ids: &[String]) -> Result<(Vec<Vec<u8>>, Vec<(usize, String)>)> {
        let mut by_pack: HashMap<String, Vec<(usize, BlobEntry)>> = HashMap::new();
        for (i, id) in ids.iter().enumerate() {
            let (pack, entry) = index.lookup(id).ok_or_else(|| {
                Error::new(
                    ErrorKind::Protocol,
                    format!("blob {id} is in no index (the repository is damaged: run check)"),
                )
            })?;
            by_pack.entry(pack.to_string()).or_default().push((i, entry.clone()));
        }
        let mut out: Vec<Vec<u8>> = vec![Vec::new(); ids.len()];
        let reads: Vec<_> = by_pack.into_iter().map(|(pack, wanted)| self.read_from_pack(pack, wanted)).collect();
        let reads: Vec<(usize, Vec<u8>, Option<String>)> = stream::iter(reads)
            .buffer_unordered(READ_CONCURRENCY)
            .try_collect::<Vec<_>>()
            .await?
            .into_iter()
            .flatten()
            .collect();
        let mut deltas = Vec::new();
        for (i, bytes, base) in reads {
            out[i] = bytes;
            deltas.extend(base.map(|b| (i, b)));
        }
        Ok((out, deltas))
    }

    /// Read the wanted blobs of one pack: each frame once, nearby frames in one request.
    async fn read_from_pack(
        &self,
        pack: String,
        wanted: Vec<(usize, BlobEntry)>,
    ) -> Result<Vec<(usize, Vec<u8>, Option<String>)>> {
        let path = crate::repo::pack::pack_path(&pack)?;
        let mut frames: Vec<std::ops::Range<u64>> = wanted.iter().map(|(_, e)| e.range()).collect();
        frames.sort_by_key(|r| r.start);
        frames.dedup();
        let stored =
            self.store().get_ranges(&path, &frames).await.map_err(|e| e.context(format!("reading pack {pack}")))?;
        let mut opened: HashMap<u64, Vec<u8>> = HashMap::new();
        let mut out = Vec::with_capacity(wanted.len());
        for (i, entry) in wanted {
            let frame = match opened.entry(entry.offset) {
                std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
                std::collections::hash_map::Entry::Vacant(v) => {
                    let k = frames.iter().position(|r| r.start == entry.offset).expect("every frame was read");
                    v.insert(open_frame(self.cipher(), &pack, &entry, &stored[k])?)
                }
            };
            let base = if entry.kind == BlobKind::Delta {
                Some(entry.base.clone().ok_or_else(|| {
                    Error::new(ErrorKind::Protocol, format!("pack {pack}: delta {} names no base", entry.id))
                })?)
            } else {
                None
            };
            out.push((i, blob_from_frame(self.cipher(), &pack, &entry, frame)?, base));
        }
        Ok(out)
    }
}
