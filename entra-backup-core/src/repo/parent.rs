//! The parent snapshot's tree of a category as a backup uses it, without holding it as a map: its
//! entries streamed into a sorted run (in the trie's order, spilled past the memory budget), one
//! entry looked up by walking the trie with a small cache of nodes, and the few entries with a
//! sealed secret (a backup carries those over) kept aside.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::error::{Error, ErrorKind, Result};
use crate::repo::Repository;
use crate::repo::changes;
use crate::repo::index::Index;
use crate::repo::spill::{Sorter, SpillBudget};
use crate::repo::tree::{self, Entry, NodeData};

/// Tree nodes read at once while streaming a trie.
const READ_BATCH: usize = 256;

/// Trie nodes a [`ParentTree`] keeps for lookups before it forgets them all.
const NODE_CACHE: usize = 1024;

/// A parent's tree: its trie, the layers over it, a cache of nodes for lookups.
#[derive(Debug)]
pub(crate) struct ParentTree {
    /// The trie under the layers.
    trie: String,
    /// What the layers set (`Some`) and remove (`None`), the newest layer winning.
    layers: HashMap<String, Option<Entry>>,
    /// The objects with a sealed secret, and its id.
    pub secrets: HashMap<String, String>,
    /// Every entry, in key order (taken by the backup when it closes the category).
    pub sorted: Mutex<Option<Sorter>>,
    cache: Mutex<HashMap<String, Arc<NodeData>>>,
}

fn err_twice(root: &str, t: &str) -> Error {
    Error::new(ErrorKind::Protocol, format!("tree {root}: node {t} is reached twice (the tree is damaged)"))
}

impl ParentTree {
    /// Read the tree `root`: its layers, then its trie level by level into a sorted run.
    pub(crate) async fn read(repo: &Repository, index: &Index, root: &str, budget: &Arc<SpillBudget>) -> Result<Self> {
        let mut layers_newest_first: Vec<(Vec<Vec<String>>, Vec<String>)> = Vec::new();
        let mut current = root.to_string();
        let first = loop {
            let json = repo.read_blobs(index, std::slice::from_ref(&current)).await?.pop().unwrap_or_default();
            match tree::parse(&current, &json)? {
                NodeData::Layer { layer, set, unset, .. } => {
                    if layers_newest_first.len() > 4 * tree::MAX_LAYERS {
                        return Err(Error::new(ErrorKind::Protocol, format!("tree {root}: its layers do not end")));
                    }
                    current = layer;
                    layers_newest_first.push((set, unset));
                }
                node => break node,
            }
        };
        let trie = current.clone();
        let mut sorter = budget.sorter();
        let mut secrets = HashMap::new();
        let mut seen = std::collections::HashSet::from([current.clone()]);
        let mut pending: Vec<(String, Option<NodeData>)> = vec![(current, Some(first))];
        while !pending.is_empty() {
            let mut next = Vec::new();
            for batch in pending.chunks_mut(READ_BATCH) {
                let unread: Vec<String> = batch.iter().filter(|(_, n)| n.is_none()).map(|(id, _)| id.clone()).collect();
                let mut blobs = repo.read_blobs(index, &unread).await?.into_iter();
                for (id, node) in batch.iter_mut() {
                    let node = match node.take() {
                        Some(n) => n,
                        None => tree::parse(id, &blobs.next().unwrap_or_default())?,
                    };
                    match node {
                        NodeData::Leaf { entries: rows } => {
                            for (oid, e) in tree::leaf_entries(rows) {
                                if let Some(s) = &e.secret {
                                    secrets.insert(oid.clone(), s.clone());
                                }
                                changes::push_set(&mut sorter, &oid, &e)?;
                            }
                        }
                        NodeData::Inner { subtrees, .. } => {
                            for (_, t) in subtrees {
                                if !seen.insert(t.clone()) {
                                    return Err(err_twice(root, &t));
                                }
                                next.push((t, None));
                            }
                        }
                        NodeData::Layer { .. } => {
                            return Err(Error::new(ErrorKind::Protocol, format!("tree {id}: a layer inside a trie")));
                        }
                    }
                }
            }
            pending = next;
        }
        // The layers over the trie, oldest first: the last operation on an object wins.
        let mut layers = HashMap::new();
        for (set, unset) in layers_newest_first.into_iter().rev() {
            for oid in unset {
                secrets.remove(&oid);
                changes::push_remove(&mut sorter, &oid)?;
                layers.insert(oid, None);
            }
            for (oid, e) in tree::leaf_entries(set) {
                match &e.secret {
                    Some(s) => secrets.insert(oid.clone(), s.clone()),
                    None => secrets.remove(&oid),
                };
                changes::push_set(&mut sorter, &oid, &e)?;
                layers.insert(oid, Some(e));
            }
        }
        // The entries are read again only when the category closes: past half the budget, they
        // wait on disk.
        sorter.spill_if_over(0.5)?;
        Ok(ParentTree { trie, layers, secrets, sorted: Mutex::new(Some(sorter)), cache: Mutex::new(HashMap::new()) })
    }

    async fn node(&self, repo: &Repository, index: &Index, id: &str) -> Result<Arc<NodeData>> {
        if let Some(hit) = lock(&self.cache).get(id) {
            return Ok(hit.clone());
        }
        let json = repo.read_blobs(index, &[id.to_string()]).await?.pop().unwrap_or_default();
        let node = Arc::new(tree::parse(id, &json)?);
        let mut cache = lock(&self.cache);
        if cache.len() >= NODE_CACHE {
            cache.clear();
        }
        cache.insert(id.to_string(), node.clone());
        Ok(node)
    }

    /// The parent's entry for object `oid`: from the layers, or found by walking the trie.
    pub(crate) async fn lookup(&self, repo: &Repository, index: &Index, oid: &str) -> Result<Option<Entry>> {
        if let Some(e) = self.layers.get(oid) {
            return Ok(e.clone());
        }
        let hash = *blake3::hash(oid.as_bytes()).as_bytes();
        let mut current = self.trie.clone();
        for _ in 0..=64 {
            let node = self.node(repo, index, &current).await?;
            match &*node {
                NodeData::Leaf { entries } => {
                    let row = entries.iter().find(|r| r.first().map(String::as_str) == Some(oid));
                    return Ok(row.and_then(|r| tree::leaf_entries(vec![r.clone()]).next()).map(|(_, e)| e));
                }
                NodeData::Inner { depth, subtrees } => {
                    let d = tree::digit_of(&hash, *depth);
                    match subtrees.iter().find(|(digit, _)| *digit == d) {
                        Some((_, t)) => current = t.clone(),
                        None => return Ok(None),
                    }
                }
                NodeData::Layer { .. } => {
                    return Err(Error::new(ErrorKind::Protocol, format!("tree {current}: a layer inside a trie")));
                }
            }
        }
        Err(Error::new(ErrorKind::Protocol, format!("tree {}: deeper than a trie can be", self.trie)))
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
