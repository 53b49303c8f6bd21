//! The core library's integration tests: Graph transport and credentials, export, backup, the repository, restore and the reliability matrices, against the simulated tenant and real storage emulators.
//!
//! One test binary per crate (linking is the slow part of a build on two cores): each former test file
//! is a module here.

mod backend_conformance;
mod backup;
mod catalog_names;
mod conformance;
mod export;
mod export_target;
mod graph_auth;
mod graph_client;
mod model_roundtrip;
mod reliability;
mod repo_crypto;
mod repo_history;
mod repo_memory;
mod repo_packs;
mod repo_prune_deltas;
mod restore;
mod restore_apps;
mod restore_resume;
mod restore_scope;
mod streaming;
