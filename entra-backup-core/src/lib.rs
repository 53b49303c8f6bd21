//! # entra-backup
//!
//! Back up a Microsoft Entra ID tenant through Microsoft Graph, keep point-in-time snapshots in
//! object storage, and restore any attribute, object, relationship, category or the whole tenant.
//!
//! The data flows through a few seams, each a module:
//!
//! ```text
//! catalog    what a tenant holds and how each category is read, written and restored
//! model      typed views (generated from Microsoft's CSDL) over lossless Graph JSON
//! graph      the paced, retrying Graph client and credentials
//!
//! source -> pipeline -> sink       a backup: GraphSource reads, RepositorySink hands the objects
//!                                  to repo::SnapshotWriter, which stores them as a snapshot
//! repo::Snapshot                   a snapshot read back (ids, objects, one object); as a Source
//!                                  it is the same object stream GraphSource gave
//! diff                             snapshot against snapshot, or against the live tenant
//! restore                          plan per category, then GraphRestorer writes (recycle bin,
//!                                  recreate with ids remapped, patch, relink) and reports
//! (the simulated tenant is its own crate, entra-backup-sim; the command line is entra-backup-cli)
//! ```
//!
//! The items most programs need are re-exported here: [`Repository`] and its [`Snapshot`]s,
//! [`backup`], [`export`], [`diff_snapshots`] and [`diff_live`], [`restore()`]; the modules hold
//! the rest.
//!
//! Start with [`catalog`]: every category of a tenant, as data.
//!
//! ```
//! let ca = entra_backup::catalog::get("conditionalAccessPolicies").unwrap();
//! assert_eq!(ca.path, "/identity/conditionalAccess/policies");
//! ```

pub mod api;
pub mod catalog;
pub mod diff;
mod error;
pub mod graph;
pub mod model;
pub mod net;
pub mod pipeline;
pub mod repo;
pub mod restore;
mod secret;
pub mod sink;
pub mod source;
mod summary;
#[cfg(feature = "testing")]
pub mod testing;
pub mod text;

pub use api::Connection;
pub use catalog::Category;
pub use diff::{DiffKind, DiffSummary, ObjectDiff, diff_live, diff_snapshots};
pub use error::{CategoryFailure, Error, ErrorKind, Result};
pub use pipeline::{BackupReport, Progress, backup, export};
pub use repo::{Access, BackupOptions, IdMap, Repository, Snapshot, SnapshotWriter};
pub use restore::{GraphRestorer, RestoreOptions, RestoreReport, Restorer, restore, restore_snapshot};
pub use secret::Secret;
pub use sink::{JsonDirSink, RepositorySink, Sink};
pub use source::{GraphSource, Object, Source, SourceOptions};
pub use summary::{CategoryReport, State, Summary};

/// Install the process-wide TLS crypto provider (ring). Call it once before making HTTP clients;
/// calling it again does nothing. The library calls it itself where it creates clients.
pub fn init_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Repository internals for this project's own integration tests (the reliability matrices and
/// the pack, index and key tests craft and decode repository files): not part of the API, and
/// changed without notice. Embedders read snapshots through [`repo::Snapshot`].
#[doc(hidden)]
pub mod __private {
    /// Canonical JSON.
    pub mod canonical {
        pub use crate::repo::canonical::*;
    }
    /// Index files.
    pub mod index {
        pub use crate::repo::index::*;
    }
    /// Packs and blobs.
    pub mod pack {
        pub use crate::repo::pack::*;
    }
    /// Category trees.
    pub mod tree {
        pub use crate::repo::tree::*;
    }

    use std::future::Future;

    use serde_json::{Map, Value};

    use crate::Result;
    use crate::repo::Repository;
    use crate::repo::index::Index;
    use crate::repo::tree::Entries;

    /// The repository's low-level reads, which the crate itself uses behind [`repo::Snapshot`](crate::repo::Snapshot).
    pub trait RepositoryInternals {
        /// Every index file not superseded, combined.
        fn load_index(&self) -> impl Future<Output = Result<Index>> + Send;
        /// A category's whole tree.
        fn read_tree(&self, index: &Index, root: &str) -> impl Future<Output = Result<Entries>> + Send;
        /// Every node id of a tree, and its entries.
        fn tree_node_ids(
            &self,
            index: &Index,
            root: &str,
        ) -> impl Future<Output = Result<(Vec<String>, Entries)>> + Send;
        /// Blobs by id, in the order of `ids`.
        fn read_blobs(&self, index: &Index, ids: &[String]) -> impl Future<Output = Result<Vec<Vec<u8>>>> + Send;
        /// The objects of `entries`, `batch` at a time.
        fn objects<'a>(
            &'a self,
            index: &'a Index,
            entries: Entries,
            with_secrets: bool,
            batch: usize,
        ) -> impl futures::Stream<Item = Result<(String, Map<String, Value>)>> + Send + 'a;
    }

    impl RepositoryInternals for Repository {
        fn load_index(&self) -> impl Future<Output = Result<Index>> + Send {
            Repository::load_index(self)
        }
        fn read_tree(&self, index: &Index, root: &str) -> impl Future<Output = Result<Entries>> + Send {
            Repository::read_tree(self, index, root)
        }
        fn tree_node_ids(
            &self,
            index: &Index,
            root: &str,
        ) -> impl Future<Output = Result<(Vec<String>, Entries)>> + Send {
            Repository::tree_node_ids(self, index, root)
        }
        fn read_blobs(&self, index: &Index, ids: &[String]) -> impl Future<Output = Result<Vec<Vec<u8>>>> + Send {
            Repository::read_blobs(self, index, ids)
        }
        fn objects<'a>(
            &'a self,
            index: &'a Index,
            entries: Entries,
            with_secrets: bool,
            batch: usize,
        ) -> impl futures::Stream<Item = Result<(String, Map<String, Value>)>> + Send + 'a {
            Repository::objects(self, index, entries, with_secrets, batch)
        }
    }
}
