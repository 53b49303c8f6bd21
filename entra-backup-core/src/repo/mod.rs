//! The repository: point-in-time snapshots of tenants in object storage, encrypted by default.
//! The format is specified in `docs/repository-format.md`.
//!
//! - [`backend`]: stores opened by URL (a local folder, `memory://`, `s3://`, `az://`, `gs://`) with
//!   the few operations the format needs (create-if-absent, ranged reads, conditional updates) and
//!   their capabilities per backend, checked by one conformance suite on every backend.
//! - [`crypto`]: master keys under a passphrase (Argon2id) or a key file, XChaCha20-Poly1305 for
//!   data, keyed BLAKE3 content ids, and secrets sealed to a second key that backups can write but
//!   only its holder can read.
//! - `pack`: blobs compressed (zstd) and sealed one by one, gathered in packs of up to 16 MiB,
//!   each readable with one ranged GET.
//! - `index`: which blob is in which pack, in index files that later ones may supersede.
//! - `tree`: a category's object ids mapped to blob ids, as a hash trie that changes little
//!   when a few objects change.
//! - [`snapshot`]: the commit point of a backup; [`latest`]: each tenant's pointer to its newest.
//! - `delta`: a changed object stored as the changes from its previous version.
//! - [`spill`]: sorting sets larger than a memory budget through sorted runs on disk.
//! - [`Repository`]: the handle that opens all of it; [`check`], [`prune`] and [`repair`] work on
//!   it; [`staging`] finds what interrupted writes leave in a local folder.
//! - [`testing`]: a fault-injecting store wrapper that kills a process at a chosen write.

pub mod backend;
mod blobs;
pub(crate) mod canonical;
mod changes;
pub mod check;
mod chunks;
pub mod crypto;
pub(crate) mod delta;
pub mod idmap;
pub(crate) mod index;
pub mod latest;
pub(crate) mod pack;
mod parent;
pub mod prune;
mod reader;
pub mod repair;
mod repository;
pub mod snapshot;
pub mod spill;
pub mod staging;
pub mod testing;
pub(crate) mod tree;
mod writer;

pub use idmap::IdMap;
pub use pack::pack_path;
pub use reader::{ObjectJson, Snapshot};
pub use repository::{Access, CHUNKS_KEY, Config, DELTA_FORMAT_VERSION, FORMAT_VERSION, Repository};
pub use writer::{BackupOptions, SnapshotWriter};
