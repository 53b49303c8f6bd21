//! Hostile but well-formed trees: every node authenticates and parses, yet the shape is one no
//! backup writes. A trie never reaches one node twice (an object id hashes to one path), so a tree
//! that does is damaged or crafted, and walking it must stop instead of doing exponential work.

use entra_backup::__private::RepositoryInternals;
use entra_backup::__private::index::IndexFile;
use entra_backup::__private::pack::{BlobKind, PackWriter};
use entra_backup::repo::crypto::{Cipher, KdfParams};
use entra_backup::repo::{Access, Repository};
use serde_json::json;

use super::fuzz::memory;

/// Levels of 16 distinct inner nodes, each naming all 16 nodes of the level below (in a different
/// order): 16 * depth nodes stored, 16^depth paths from the root. Returns the root id.
fn diamond(writer: &mut PackWriter, cipher: &Cipher, depth: usize) -> String {
    let mut level: Vec<String> = (0..16)
        .map(|j| {
            let leaf = json!({"entries": [[format!("obj-{j}"), cipher.id_hex(format!("blob {j}").as_bytes())]]});
            writer.add(&serde_json::to_vec(&leaf).unwrap()).unwrap()
        })
        .collect();
    for d in (0..depth).rev() {
        level = (0..16)
            .map(|j| {
                let subtrees: Vec<_> = (0..16).map(|i| json!([i, level[(i + j) % 16]])).collect();
                let node = json!({"depth": d, "subtrees": subtrees});
                writer.add(&serde_json::to_vec(&node).unwrap()).unwrap()
            })
            .collect();
    }
    level.swap_remove(0)
}

#[tokio::test]
async fn a_tree_that_reaches_a_node_twice_is_refused() {
    let repo = Repository::init(memory(), &Access::Plaintext, None, KdfParams::fast_for_tests()).await.unwrap();
    let cipher = repo.cipher().clone();
    let mut writer = PackWriter::new(BlobKind::Tree, cipher.clone());
    let root = diamond(&mut writer, &cipher, 4);
    let info = writer.finish(repo.store()).await.unwrap().unwrap();
    IndexFile::new(vec![info]).write(repo.store(), &cipher).await.unwrap();
    let index = repo.load_index().await.unwrap();
    match repo.read_tree(&index, &root).await {
        Ok(entries) => panic!("a tree reaching its leaves 16^4 times was read ({} entries)", entries.len()),
        Err(e) => assert!(e.to_string().contains(&format!("tree {root}: node")), "{e}"),
    }
}
