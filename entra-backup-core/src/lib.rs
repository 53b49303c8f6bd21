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
//! source  -> sink -> repo          a backup: GraphSource reads, RepositorySink stores snapshots
//! repo    -> source::SnapshotSource   a snapshot read back as the same object stream
//! diff                             snapshot against snapshot, or against the live tenant
//! restore                          plan per category, then GraphRestorer writes (recycle bin,
//!                                  recreate with ids remapped, patch, relink) and reports
//! (the simulated tenant is its own crate, entra-backup-sim; the command line is entra-backup-cli)
//! ```
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
pub mod error;
pub mod graph;
pub mod model;
pub mod net;
pub mod pipeline;
pub mod repo;
pub mod restore;

pub mod sink;
pub mod source;
pub mod text;

pub use error::{Error, ErrorKind, Result};

/// Install the process-wide TLS crypto provider (ring). Call it once before making HTTP clients;
/// calling it again does nothing. The library calls it itself where it creates clients.
pub fn init_crypto() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
