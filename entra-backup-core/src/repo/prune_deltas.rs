//! Prune and deltas: which bases stay, which deltas are rewritten, and the rewriting (see
//! "Deltas" in `docs/repository-format.md`).
//!
//! A blob a kept snapshot reaches is *live*. A delta needs its base, and the base's base, but a
//! base that only forgotten snapshots reached whole must not pin its pack for ever. So:
//!
//! - a base that is not live but lies in a pack prune keeps anyway (mostly used) is *pinned*: it
//!   stays, and the deltas on it stay as they are (rewriting them would free nothing now);
//! - a delta whose base would go (its pack is repacked, marked or deleted) is *rebased*: decoded,
//!   then stored again as a delta against the nearest blob of its old chain that stays (live or
//!   pinned) when that delta is at most half the whole object and the new chain's deltas together
//!   are no larger than the whole object, else whole. Rebasing only drops links, so chains only
//!   get shorter. The pack it was in is repacked, not kept: its old copy must not stay indexed
//!   once its base is gone;
//! - a delta no snapshot reaches, in a pack that stays, keeps its whole chain (a backup that finds
//!   its blob indexed uses it).
//!
//! A rebased delta's new copy goes in a new pack, listed first in the new index, which is written
//! before anything is deleted: killed at any point, every blob a snapshot needs stays readable.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::error::Result;
use crate::repo::Repository;
use crate::repo::delta::{MAX_CHAIN, encode};
use crate::repo::index::Index;
use crate::repo::pack::{BlobEntry, BlobKind, PackInfo, PackWriter};

/// Blobs decoded and rewritten at once (bounds the plaintext prune holds).
const REWRITE_BATCH: usize = 1_000;

/// (used bytes, total bytes) per pack, for the blobs in `live`. A frame's stored bytes are
/// shared by its blobs in proportion to their plaintext. A blob stored twice (repacked) is used
/// only where the index finds it.
pub(super) fn usage<'a>(
    packs: &'a BTreeMap<String, Vec<BlobEntry>>,
    index: &Index,
    live: &HashSet<String>,
) -> BTreeMap<&'a str, (u64, u64)> {
    let mut by_pack: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (pack, entries) in packs {
        let e = by_pack.entry(pack.as_str()).or_default();
        let mut frames: HashMap<u64, (u64, u64, u64)> = HashMap::new(); // length, plaintext, live plaintext
        for entry in entries {
            let used = live.contains(&entry.id) && index.lookup(&entry.id).is_some_and(|(p, _)| p == pack);
            let f = frames.entry(entry.offset).or_insert((entry.length, 0, 0));
            f.1 += entry.ulength.max(1);
            if used {
                f.2 += entry.ulength.max(1);
            }
        }
        for (length, plain, live_plain) in frames.into_values() {
            e.1 += length;
            e.0 +=
                if live_plain == 0 { 0 } else { (length as u128 * live_plain as u128 / plain as u128).max(1) as u64 };
        }
    }
    by_pack
}

/// Whether prune keeps a pack of this usage as it is (not marked, not repacked).
pub(super) fn is_kept((used, total): (u64, u64), max_unused: f64) -> bool {
    used > 0 && !(total > 0 && (total - used) as f64 / total as f64 > max_unused)
}

/// How the chains are settled: the deltas to rebase, each with the blob it is to be stored
/// against (the nearest of its old chain that stays) or `None` for whole, and the packs kept
/// otherwise that are repacked because they hold such a delta.
pub(super) struct Settled {
    pub(super) rebase: HashMap<String, Option<String>>,
    pub(super) repack: HashSet<String>,
}

/// Settle the chains of the deltas (see the module docs): pin the bases that lie in `kept` packs
/// (added to `live`), choose the live deltas to rebase, and keep whole the chains of the deltas
/// no snapshot reaches that stay indexed in kept packs (so that no indexed blob ever names a base
/// that is gone: a backup may find such a blob stored and use it). A delta whose chain leaves the
/// index is left alone (check reports it; rewriting it would fail).
pub(super) fn settle_chains(
    index: &Index,
    packs: &BTreeMap<String, Vec<BlobEntry>>,
    live: &mut HashSet<String>,
    kept: &HashSet<&str>,
) -> Settled {
    let stays = |id: &str, live: &HashSet<String>| {
        live.contains(id) || index.lookup(id).is_some_and(|(pack, _)| kept.contains(pack))
    };
    let mut rebase = HashMap::new();
    let mut work: Vec<String> =
        live.iter().filter(|id| index.lookup(id).is_some_and(|(_, e)| e.base.is_some())).cloned().collect();
    while let Some(delta) = work.pop() {
        let Some(base) = index.lookup(&delta).and_then(|(_, e)| e.base) else { continue };
        if live.contains(&base) {
            continue;
        }
        if stays(&base, live) {
            live.insert(base.clone());
            work.push(base);
            continue;
        }
        // The base goes: find the nearest link below it that stays.
        let mut current = base;
        let mut new_base = None;
        let mut intact = true;
        for _ in 0..=2 * MAX_CHAIN {
            let Some((_, entry)) = index.lookup(&current) else {
                intact = false;
                break;
            };
            let Some(next) = entry.base else { break };
            if stays(&next, live) {
                if live.insert(next.clone()) {
                    work.push(next.clone());
                }
                new_base = Some(next);
                break;
            }
            current = next;
        }
        if intact {
            rebase.insert(delta, new_base);
        } else {
            pin_chain(index, &delta, live);
        }
    }
    // A rebased delta's old copy must not stay indexed once its base is gone: its pack is
    // repacked (and so marked, then deleted) rather than kept.
    let repack: HashSet<String> = rebase
        .keys()
        .filter_map(|id| index.lookup(id).map(|(pack, _)| pack.to_string()))
        .filter(|pack| kept.contains(pack.as_str()))
        .collect();
    // Deltas no snapshot reaches, in packs that stay: their bases stay too.
    for (pack, entries) in packs {
        if !kept.contains(pack.as_str()) || repack.contains(pack) {
            continue;
        }
        for e in entries {
            if e.base.is_some() && !live.contains(&e.id) && index.lookup(&e.id).is_some_and(|(p, _)| p == pack) {
                pin_chain(index, &e.id, live);
            }
        }
    }
    Settled { rebase, repack }
}

/// Keep every base down the chain under `delta` (added to `live`).
fn pin_chain(index: &Index, delta: &str, live: &mut HashSet<String>) {
    let mut link = index.lookup(delta).and_then(|(_, e)| e.base);
    let mut links = 0;
    while let Some(l) = link {
        links += 1;
        if !live.insert(l.clone()) || links > 2 * MAX_CHAIN {
            break;
        }
        link = index.lookup(&l).and_then(|(_, e)| e.base);
    }
}

/// The stored bytes of the deltas down the chain under `id` (0 for a whole blob), or `None`
/// when the chain is already [`MAX_CHAIN`] links or leaves the index.
fn chain_bytes(index: &Index, id: &str) -> Option<(usize, u64)> {
    let (mut links, mut bytes) = (0usize, 0u64);
    let mut current = id.to_string();
    loop {
        let (_, entry) = index.lookup(&current)?;
        let Some(base) = entry.base else { return Some((links, bytes)) };
        links += 1;
        bytes += entry.ulength;
        if links >= MAX_CHAIN {
            return None;
        }
        current = base;
    }
}

/// Write the blobs `ids` (of the live set) into new packs: a delta stored against `rebase[id]`
/// when it is rebased, else against its own base, when that pays (see the module docs), else
/// whole; other blobs as they are. Returns the number of deltas written as deltas.
pub(super) async fn rewrite(
    repo: &Repository,
    index: &Index,
    ids: &[(String, BlobEntry)],
    rebase: &HashMap<String, Option<String>>,
    writers: &mut HashMap<BlobKind, PackWriter>,
    new_packs: &mut Vec<PackInfo>,
) -> Result<usize> {
    let store = repo.store();
    let mut kept_deltas = 0;
    for batch in ids.chunks(REWRITE_BATCH) {
        let names: Vec<String> = batch.iter().map(|(id, _)| id.clone()).collect();
        let blobs = repo.read_blobs(index, &names).await?;
        // The bases the batch's deltas are to be stored against, read together.
        let target = |id: &str, entry: &BlobEntry| -> Option<String> {
            if entry.kind != BlobKind::Delta {
                return None;
            }
            match rebase.get(id) {
                Some(new_base) => new_base.clone(),
                None => entry.base.clone(),
            }
        };
        let mut wanted: Vec<String> =
            batch.iter().filter_map(|(id, e)| target(id, e)).collect::<HashSet<_>>().into_iter().collect();
        wanted.sort_unstable();
        let bases: HashMap<String, Vec<u8>> =
            wanted.iter().cloned().zip(repo.read_blobs(index, &wanted).await?).collect();
        for ((id, entry), plaintext) in batch.iter().zip(blobs) {
            let kind = if entry.kind == BlobKind::Delta { BlobKind::Object } else { entry.kind };
            let w = writers.entry(kind).or_insert_with(|| PackWriter::new(kind, repo.cipher().clone()));
            let delta = target(id, entry).and_then(|base| {
                let (_, chain) = chain_bytes(index, &base)?;
                let delta = encode(&bases[&base], &plaintext);
                let worth = delta.len() * 2 <= plaintext.len() && chain + delta.len() as u64 <= plaintext.len() as u64;
                worth.then_some((base, delta))
            });
            if let Some((base, delta)) = delta {
                w.add_delta(id.clone(), base, &delta)?;
                kept_deltas += 1;
            } else if entry.kind == BlobKind::Secret {
                w.add_sealed_secret(id.clone(), &plaintext)?;
            } else {
                w.add(&plaintext)?;
            }
            if w.is_full()
                && let Some(p) = w.finish(store).await?
            {
                new_packs.push(p);
            }
        }
    }
    Ok(kept_deltas)
}
