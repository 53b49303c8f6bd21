//! The Python module `entra_backup` (native part `entra_backup._entra_backup`): PyO3 glue over the
//! entra-backup-core library, and nothing more. Conversion (JSON to dicts, reports in the shape of
//! the command-line tool's `--json`), error mapping (`errors`), and the runtime (`runtime`: one
//! shared tokio runtime; sync calls release the GIL and honour Ctrl-C; `*_async` twins are
//! awaitable).
//!
//! | file            | Python                                                            |
//! |-----------------|-------------------------------------------------------------------|
//! | credentials.rs  | `Credentials`, `categories`, `category`, `permissions`            |
//! | repository.rs   | `Access`, `Repository`, `Snapshot`, `export`                      |
//! | iter.rs         | `ObjectIterator`, `DiffIterator`, `IdIterator`                    |
//! | sim.rs          | `SimServer`                                                       |
//! | errors.rs       | `EntraBackupError` and its subclasses                             |
//!
//! Restore (`Repository.plan_restore` / `Repository.restore`) goes in `restore.rs` once the core's
//! restore module is public; see the note at the end of `Repository`'s methods.

use pyo3::prelude::*;

mod awaitable;
mod convert;
mod credentials;
mod errors;
mod iter;
mod progress;
mod repository;
mod runtime;
#[cfg(feature = "sim")]
mod sim;

#[pymodule]
mod _entra_backup {
    use super::*;

    #[pymodule_export]
    use credentials::{Credentials, categories, category, permissions};
    #[pymodule_export]
    use iter::{DiffIterator, IdIterator, ObjectIterator};
    #[pymodule_export]
    use repository::{Access, Repository, Snapshot, export, export_async};
    #[cfg(feature = "sim")]
    #[pymodule_export]
    use sim::SimServer;

    #[pymodule_init]
    fn init(m: &Bound<'_, PyModule>) -> PyResult<()> {
        entra_backup::init_crypto();
        m.add("__version__", env!("CARGO_PKG_VERSION"))?;
        errors::register(m)
    }
}
