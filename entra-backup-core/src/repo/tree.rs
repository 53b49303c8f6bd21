//! Trees: a category's object ids mapped to blob ids (see "Trees" in `docs/repository-format.md`).
//!
//! A tree is a small hash trie. A node with at most [`LEAF_MAX`] entries is a leaf,
//! `{"entries": [[object id, blob id], [object id, blob id, secret blob id or "", chunk ids...], ...]}`
//! sorted by object
//! id; a larger one is split into up to 16 sub-trees by the next hex digit of the BLAKE3 hash of
//! the object id, `{"depth": d, "subtrees": [[digit, tree id], ...]}`. The shape depends only on
//! the entries, so the same entries always give the same tree ids, and a day's few changes rewrite
//! only the few leaves (and their parents) they fall in: a 1% change of 50,000 objects rewrites
//! about a tenth of the tree rather than all of it.
//!
//! Even so, each change rewrites a leaf and its parents (about a kilobyte). So a backup that changed
//! few of a category's objects writes a *layer* instead: `{"layer": parent tree id, "depth": n,
//! "set": [rows as in a leaf], "unset": [object ids]}`, the parent's entries with those set and
//! removed, about fifty bytes a change. Layers chain up to [`MAX_LAYERS`]; then, or when a layer
//! would hold more than a quarter of the entries, the next backup writes a whole trie again.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, ErrorKind, Result};
use crate::repo::canonical;
use crate::repo::crypto::Cipher;
use crate::repo::pack::is_id;

/// Entries in a leaf before it splits.
pub const LEAF_MAX: usize = 16;

/// The deepest split (64 hex digits of hash): beyond it entries stay in one leaf.
const MAX_DEPTH: usize = 63;

/// What a tree holds for one object.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Entry {
    /// The object blob: its canonical JSON without secret properties.
    pub blob: String,
    /// The sealed secret properties, if the object has any.
    pub secret: Option<String>,
    /// Blobs holding the object's large link lists, in chunks (see `sink::repository`).
    pub chunks: Vec<String>,
}

impl Entry {
    /// An entry for an object blob with no secret and no chunks.
    pub fn new(blob: String) -> Self {
        Entry { blob, secret: None, chunks: Vec::new() }
    }
}

/// A whole tree in memory: object id -> entry. Ids only, no object content.
pub type Entries = BTreeMap<String, Entry>;

/// One encoded tree node: its id and canonical JSON.
#[derive(Debug, Clone)]
pub struct Node {
    /// The node's blob id.
    pub id: String,
    /// Its canonical JSON.
    pub json: Vec<u8>,
}

/// A tree node as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum NodeData {
    /// At most [`LEAF_MAX`] entries.
    Leaf {
        /// Rows sorted by object id: `[object id, blob id]`, or
        /// `[object id, blob id, secret blob id or "", chunk ids...]`.
        entries: Vec<Vec<String>>,
    },
    /// Entries split by a hex digit of their object id's hash.
    Inner {
        /// Which digit of the hash splits them (0 at the root).
        depth: usize,
        /// `(digit, sub-tree id)`, for the digits that have entries.
        subtrees: Vec<(u8, String)>,
    },
    /// The parent tree's entries, with `set` set and `unset` removed.
    Layer {
        /// The parent tree's id.
        layer: String,
        /// 1 over a trie, one more over each layer.
        depth: usize,
        /// Rows added or replaced, as in a leaf.
        set: Vec<Vec<String>>,
        /// Object ids removed.
        unset: Vec<String>,
    },
}

/// Layers that may chain before a backup writes a whole trie again.
pub const MAX_LAYERS: usize = 32;

fn row(oid: &str, e: &Entry) -> Value {
    let mut row = vec![Value::from(oid), Value::from(e.blob.as_str())];
    if e.secret.is_some() || !e.chunks.is_empty() {
        row.push(Value::from(e.secret.as_deref().unwrap_or("")));
    }
    row.extend(e.chunks.iter().map(|c| Value::from(c.as_str())));
    Value::Array(row)
}

/// The layer node over `parent` (whose own layer depth is `parent_depth`, 0 for a trie).
pub fn layer_node(parent: &str, parent_depth: usize, set: &Entries, unset: &[String], cipher: &Cipher) -> Node {
    let set: Vec<Value> = set.iter().map(|(oid, e)| row(oid, e)).collect();
    let json = canonical::to_vec(
        &serde_json::json!({ "layer": parent, "depth": parent_depth + 1, "set": set, "unset": unset }),
    );
    Node { id: cipher.id_hex(&json), json }
}

/// Encode `entries` as tree nodes (children before parents; the root last) with `cipher`'s ids.
/// Returns the root id and every node; the caller stores the nodes it does not have yet.
pub fn build(entries: &Entries, cipher: &Cipher) -> (String, Vec<Node>) {
    let items: Vec<(&String, &Entry, [u8; 32])> =
        entries.iter().map(|(k, v)| (k, v, *blake3::hash(k.as_bytes()).as_bytes())).collect();
    let mut nodes = Vec::new();
    let root = build_node(&items, 0, cipher, &mut nodes);
    (root, nodes)
}

/// The hex digit of `hash` at `depth` (0: the first), which picks a sub-tree at that depth.
pub(crate) fn digit_of(hash: &[u8; 32], depth: usize) -> u8 {
    digit(hash, depth)
}

fn digit(hash: &[u8; 32], depth: usize) -> u8 {
    let byte = hash[depth / 2];
    if depth % 2 == 0 { byte >> 4 } else { byte & 0x0f }
}

fn build_node(items: &[(&String, &Entry, [u8; 32])], depth: usize, cipher: &Cipher, nodes: &mut Vec<Node>) -> String {
    let value = if items.len() <= LEAF_MAX || depth > MAX_DEPTH {
        // `items` are sorted by object id (from the BTreeMap), and a split keeps that order.
        let entries: Vec<Value> = items.iter().map(|(oid, e, _)| row(oid, e)).collect();
        serde_json::json!({ "entries": entries })
    } else {
        let mut buckets: Vec<Vec<(&String, &Entry, [u8; 32])>> = vec![Vec::new(); 16];
        for item in items {
            buckets[digit(&item.2, depth) as usize].push(*item);
        }
        let subtrees: Vec<Value> = buckets
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.is_empty())
            .map(|(d, b)| serde_json::json!([d, build_node(b, depth + 1, cipher, nodes)]))
            .collect();
        serde_json::json!({ "depth": depth, "subtrees": subtrees })
    };
    let json = canonical::to_vec(&value);
    let id = cipher.id_hex(&json);
    nodes.push(Node { id: id.clone(), json });
    id
}

/// One entry of a tree on its way into [`build_sorted`]: the BLAKE3 hash of the object id, the
/// object id and what the tree holds for it.
pub type HashedEntry = ([u8; 32], String, Entry);

/// Whether two hashes agree on their first `digits` hex digits.
fn same_prefix(a: &[u8; 32], b: &[u8; 32], digits: usize) -> bool {
    let whole = digits / 2;
    a[..whole] == b[..whole] && (digits % 2 == 0 || a[whole] >> 4 == b[whole] >> 4)
}

/// [`build`] over entries streamed in the order of their object id's hash (then object id), as a
/// sorted run gives them: the same nodes with the same ids, in the same order (children before
/// parents, the root last), handed to `emit` one at a time instead of held. At most one leaf and
/// one node per level are in memory. Returns the root id and the number of entries.
pub fn build_sorted<I>(items: I, cipher: &Cipher, emit: &mut dyn FnMut(Node) -> Result<()>) -> Result<(String, u64)>
where
    I: Iterator<Item = Result<HashedEntry>>,
{
    let mut b = SortedBuilder { items: items.peekable(), ahead: std::collections::VecDeque::new(), count: 0 };
    let root = b.node(0, &[0u8; 32], cipher, emit)?;
    Ok((root, b.count))
}

struct SortedBuilder<I: Iterator<Item = Result<HashedEntry>>> {
    items: std::iter::Peekable<I>,
    /// Entries read ahead (to tell a leaf from a split), in order.
    ahead: std::collections::VecDeque<HashedEntry>,
    count: u64,
}

impl<I: Iterator<Item = Result<HashedEntry>>> SortedBuilder<I> {
    /// Read ahead until `want` entries sharing `prefix`'s first `depth` digits are held, or the
    /// next one does not share them. Returns how many held entries share them.
    fn fill(&mut self, prefix: &[u8; 32], depth: usize, want: usize) -> Result<usize> {
        let mut n = self.ahead.iter().take_while(|(h, _, _)| same_prefix(h, prefix, depth)).count();
        while n < want && n == self.ahead.len() {
            match self.items.peek() {
                Some(Ok((h, _, _))) if same_prefix(h, prefix, depth) => {}
                Some(Ok(_)) | None => break,
                Some(Err(_)) => return Err(self.items.next().and_then(Result::err).expect("an error")),
            }
            let item = self.items.next().expect("peeked")?;
            self.ahead.push_back(item);
            n += 1;
        }
        Ok(n)
    }

    fn node(
        &mut self,
        depth: usize,
        prefix: &[u8; 32],
        cipher: &Cipher,
        emit: &mut dyn FnMut(Node) -> Result<()>,
    ) -> Result<String> {
        let n = if depth > MAX_DEPTH {
            self.fill(prefix, depth, usize::MAX)?
        } else {
            self.fill(prefix, depth, LEAF_MAX + 1)?
        };
        let value = if n <= LEAF_MAX || depth > MAX_DEPTH {
            let mut leaf: Vec<HashedEntry> = self.ahead.drain(..n).collect();
            leaf.sort_by(|a, b| a.1.cmp(&b.1));
            self.count += leaf.len() as u64;
            let entries: Vec<Value> = leaf.iter().map(|(_, oid, e)| row(oid, e)).collect();
            serde_json::json!({ "entries": entries })
        } else {
            let mut subtrees = Vec::new();
            while let Some((h, _, _)) = self.ahead.front()
                && same_prefix(h, prefix, depth)
            {
                let h = *h;
                let id = self.node(depth + 1, &h, cipher, emit)?;
                subtrees.push(serde_json::json!([digit(&h, depth) as usize, id]));
                // Read ahead again so that the next child's first entry is held.
                self.fill(prefix, depth, 1)?;
            }
            serde_json::json!({ "depth": depth, "subtrees": subtrees })
        };
        let json = canonical::to_vec(&value);
        let id = cipher.id_hex(&json);
        emit(Node { id: id.clone(), json })?;
        Ok(id)
    }
}

fn bad(id: &str, what: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Protocol, format!("tree {id}: {what}"))
}

/// Parse a node read from blob `id`: a leaf's entries, or an inner node's sub-tree ids.
pub fn parse(id: &str, json: &[u8]) -> Result<NodeData> {
    let node: NodeData =
        serde_json::from_slice(json).map_err(|e| bad(id, format_args!("not a valid tree node: {e}")))?;
    let check_rows = |rows: &[Vec<String>]| -> Result<()> {
        for row in rows {
            let ok = row.len() >= 2
                && is_id(&row[1])
                && row.get(2).is_none_or(|s| s.is_empty() || is_id(s))
                && row.iter().skip(3).all(|c| is_id(c));
            if !ok {
                return Err(bad(id, "an entry is not [object id, blob id(, secret id or \"\", chunk ids...)]"));
            }
        }
        Ok(())
    };
    match &node {
        NodeData::Layer { layer, set, .. } => {
            if !is_id(layer) {
                return Err(bad(id, "a layer's parent is not a tree id"));
            }
            check_rows(set)?;
        }
        NodeData::Leaf { entries } => check_rows(entries)?,
        NodeData::Inner { subtrees, .. } => {
            if subtrees.iter().any(|(d, t)| *d > 15 || !is_id(t)) {
                return Err(bad(id, "a sub-tree is not [hex digit, tree id]"));
            }
        }
    }
    Ok(node)
}

/// A leaf's rows as entries.
pub fn leaf_entries(rows: Vec<Vec<String>>) -> impl Iterator<Item = (String, Entry)> {
    rows.into_iter().map(|row| {
        let mut it = row.into_iter();
        let oid = it.next().unwrap_or_default();
        let blob = it.next().unwrap_or_default();
        let secret = it.next().filter(|s| !s.is_empty());
        (oid, Entry { blob, secret, chunks: it.collect() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(n: usize, salt: &str) -> Entries {
        (0..n)
            .map(|i| (format!("obj-{i:06}"), Entry::new(Cipher::plaintext().id_hex(format!("{salt}{i}").as_bytes()))))
            .collect()
    }

    #[test]
    fn small_trees_are_one_leaf_and_large_ones_split() {
        let cipher = Cipher::plaintext();
        let (_, nodes) = build(&entries(LEAF_MAX, "a"), &cipher);
        assert_eq!(nodes.len(), 1);
        let (root, nodes) = build(&entries(5000, "a"), &cipher);
        assert_eq!(nodes.last().unwrap().id, root);
        assert!(nodes.len() > 5000 / LEAF_MAX, "{} nodes", nodes.len());
        let mut seen = 0;
        for n in &nodes {
            if let NodeData::Leaf { entries } = parse(&n.id, &n.json).unwrap() {
                assert!(entries.len() <= LEAF_MAX);
                seen += entries.len();
            }
        }
        assert_eq!(seen, 5000);
    }

    fn hashed(e: &Entries) -> Vec<Result<HashedEntry>> {
        let mut v: Vec<HashedEntry> =
            e.iter().map(|(k, v)| (*blake3::hash(k.as_bytes()).as_bytes(), k.clone(), v.clone())).collect();
        v.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        v.into_iter().map(Ok).collect()
    }

    #[test]
    fn a_sorted_stream_builds_the_same_nodes() {
        let cipher = Cipher::plaintext();
        for n in [0, 1, LEAF_MAX, LEAF_MAX + 1, 300, 5000, 40_000] {
            let mut e = entries(n, "s");
            // Some entries with secrets and chunks, as a leaf row shows them.
            for (i, v) in e.values_mut().enumerate().filter(|(i, _)| i % 7 == 0) {
                v.secret = Some(cipher.id_hex(format!("secret{i}").as_bytes()));
                if i % 2 == 0 {
                    v.chunks = vec![cipher.id_hex(b"c1"), cipher.id_hex(b"c2")];
                }
            }
            let (root, nodes) = build(&e, &cipher);
            let mut streamed = Vec::new();
            let (root2, count) = build_sorted(hashed(&e).into_iter(), &cipher, &mut |node| {
                streamed.push(node);
                Ok(())
            })
            .unwrap();
            assert_eq!(root2, root, "{n} entries");
            assert_eq!(count, n as u64);
            let ids = |v: &[Node]| v.iter().map(|n| n.id.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&streamed), ids(&nodes), "{n} entries");
        }
    }

    #[test]
    fn one_change_rewrites_one_path() {
        let cipher = Cipher::plaintext();
        let mut e = entries(50_000, "a");
        let (root1, nodes1) = build(&e, &cipher);
        e.get_mut("obj-000123").unwrap().blob = cipher.id_hex(b"changed");
        let (root2, nodes2) = build(&e, &cipher);
        assert_ne!(root1, root2);
        let old: std::collections::HashSet<_> = nodes1.iter().map(|n| &n.id).collect();
        let new = nodes2.iter().filter(|n| !old.contains(&n.id)).count();
        assert!(new <= 5, "{new} new nodes for one change: one leaf and its parents");
    }
}
