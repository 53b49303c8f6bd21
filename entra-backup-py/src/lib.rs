//! The Python module `entra_backup` (native part `entra_backup._entra_backup`): PyO3 glue over the
//! entra-backup-core library, and nothing more. Conversion (JSON to dicts, reports in the shape of
//! the command-line tool's `--json`), error mapping (`errors`), and the runtime (`runtime`: one
//! shared tokio runtime; sync calls release the GIL and honour Ctrl-C; `*_async` twins are
//! awaitable).
//!
//! | file            | Python                                                            |
//! |-----------------|-------------------------------------------------------------------|
//! | credentials.rs  | `Credentials`, `categories`, `category`, `permissions`            |
//! | access.rs       | `Access`                                                          |
//! | repository.rs   | `Repository`                                                      |
//! | backup.rs       | the backup job of `Repository.backup` and its report              |
//! | restore.rs      | the restore job of `Repository.restore` and `plan_restore`        |
//! | maintenance.rs  | the options and reports of `check`, `forget`, `prune`             |
//! | snapshot.rs     | `Snapshot`                                                        |
//! | export.rs       | `export`, `export_async`                                          |
//! | iter.rs         | `ObjectIterator`, `WalkIterator`, `DiffIterator`, `IdIterator`    |
//! | sim.rs          | `SimServer`                                                       |
//! | errors.rs       | `EntraBackupError` and its subclasses; messages in Python's words |
//! | args.rs         | arguments checked by hand (`InvalidInputError` naming them)       |
//!
//! The dicts returned follow `python/entra_backup/_types.py` (TypedDicts): camelCase keys, as the
//! command-line tool's `--json`, with `httpRequests` and `graphRequests` kept apart.

use pyo3::prelude::*;

mod access;
mod args;
mod awaitable;
mod backup;
mod convert;
mod credentials;
mod errors;
mod export;
mod iter;
mod maintenance;
mod progress;
mod repository;
mod restore;
mod runtime;
#[cfg(feature = "sim")]
mod sim;
mod snapshot;

#[pymodule]
mod _entra_backup {
    use super::*;

    #[pymodule_export]
    use crate::export::{export, export_async};
    #[pymodule_export]
    use access::Access;
    #[pymodule_export]
    use credentials::{Credentials, categories, category, permissions};
    #[pymodule_export]
    use iter::{DiffIterator, IdIterator, ObjectIterator, WalkIterator};
    #[pymodule_export]
    use repository::Repository;
    #[cfg(feature = "sim")]
    #[pymodule_export]
    use sim::SimServer;
    #[pymodule_export]
    use snapshot::Snapshot;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        entra_backup::init_crypto();
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        errors::register(m)
    }
}
