//! A folder's exact contents, to show that a command changed nothing stored (or created anything).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// One entry of a folder tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir,
    File(Vec<u8>),
    /// A symlink, recorded by its target and never followed (it may dangle or loop).
    Symlink(PathBuf),
    /// A FIFO, socket or device: recorded, never read.
    Other,
}

impl Node {
    /// A regular file's bytes.
    pub fn bytes(&self) -> Option<&[u8]> {
        match self {
            Node::File(b) => Some(b),
            _ => None,
        }
    }
}

/// Every entry under a folder, by path relative to it.
pub type Tree = BTreeMap<PathBuf, Node>;

/// Every entry under `dir` with its bytes; empty when `dir` does not exist.
pub fn fingerprint(dir: &Path) -> Tree {
    fn walk(root: &Path, dir: &Path, into: &mut Tree) {
        for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("listing {}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(root).unwrap().to_path_buf();
            let kind = std::fs::symlink_metadata(&path).unwrap().file_type();
            let node = if kind.is_symlink() {
                Node::Symlink(std::fs::read_link(&path).unwrap())
            } else if kind.is_dir() {
                walk(root, &path, into);
                Node::Dir
            } else if kind.is_file() {
                Node::File(std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display())))
            } else {
                Node::Other
            };
            into.insert(rel, node);
        }
    }
    let mut all = Tree::new();
    if std::fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        walk(dir, dir, &mut all);
    }
    all
}

/// What differs between two fingerprints of one folder, one line per path.
pub fn changes(before: &Tree, after: &Tree) -> Vec<String> {
    let paths: BTreeSet<&PathBuf> = before.keys().chain(after.keys()).collect();
    paths
        .into_iter()
        .filter_map(|p| match (before.get(p), after.get(p)) {
            (Some(_), None) => Some(format!("{} removed", p.display())),
            (None, Some(_)) => Some(format!("{} created", p.display())),
            (Some(a), Some(b)) if a != b => Some(format!("{} changed", p.display())),
            _ => None,
        })
        .collect()
}

/// Panic, naming each path, if `dir` no longer holds exactly `before`.
pub fn assert_unchanged(dir: &Path, before: &Tree, what: &str) {
    let changed = changes(before, &fingerprint(dir));
    assert!(changed.is_empty(), "{what}: the repository's files changed:\n{}", changed.join("\n"));
}
