//! The backup behind `Repository.backup` and `backup_async`: checked in Python's thread before any
//! work starts, and its report (or `IncompleteBackupError`).

use std::sync::Arc;

use entra_backup::pipeline::{self, Progress};
use entra_backup::repo::{self as core_repo};
use entra_backup::sink::BackupOptions;
use entra_backup::source::{Source, SourceOptions};
use pyo3::prelude::*;

use crate::args;
use crate::convert;
use crate::credentials::{Credentials, resolve};
use crate::errors::IntoPy;

/// What a backup needs, checked in Python's thread before any work starts.
pub struct BackupJob {
    repo: core_repo::Repository,
    source: entra_backup::source::GraphSource,
    options: BackupOptions,
    pub progress: Arc<Progress>,
}

impl BackupJob {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        py: Python<'_>,
        repo: core_repo::Repository,
        credentials: &Credentials,
        categories: Option<&Bound<'_, PyAny>>,
        full: bool,
        tags: Option<&Bound<'_, PyAny>>,
        secrets: bool,
    ) -> PyResult<Self> {
        let cats = resolve(py, "categories", args::strings(py, "categories", categories)?)?;
        let tags = args::strings(py, "tags", tags)?;
        let source = credentials.source(SourceOptions { secrets, ..SourceOptions::default() }).py_err(py)?;
        let mut options = BackupOptions::new(source.tenant_id().unwrap_or_default());
        options.full = full;
        options.tags = tags.unwrap_or_default();
        Ok(BackupJob { repo, source, options, progress: Progress::new(&cats) })
    }

    pub async fn run(self) -> entra_backup::Result<pipeline::BackupReport> {
        pipeline::backup(&self.source, &self.repo, self.options, &self.progress).await
    }
}

/// A backup's report as a dict, or `IncompleteBackupError` carrying it when categories failed
/// (unless `allow_failed`), as the command-line tool exits non-zero then.
pub fn backup_result<'py>(
    py: Python<'py>,
    report: &pipeline::BackupReport,
    allow_failed: bool,
) -> PyResult<Bound<'py, PyAny>> {
    let dict = convert::serialized_with(py, report, convert::backup_report)?;
    let failed = &report.snapshot.failed;
    if failed.is_empty() || allow_failed {
        return Ok(dict);
    }
    let names: Vec<&str> = failed.keys().map(String::as_str).collect();
    let message = format!(
        "the backup wrote snapshot {}, but {} could not be read: {} (the snapshot keeps what its parent held \
         of them; see .report['snapshot']['failed'])",
        report.snapshot_id,
        if names.len() == 1 { "1 category" } else { "these categories" },
        names.join(", ")
    );
    Err(crate::errors::incomplete(py, message, dict))
}
