//! The backup and export use cases: a tenant into a repository as a snapshot, or into a folder;
//! a snapshot out into a folder.

use std::path::Path;
use std::sync::Arc;

use super::Connection;
use crate::catalog::{self, Category};
use crate::error::Result;
use crate::pipeline::{self, BackupReport, ExportOptions, Progress};
use crate::repo::crypto::trust::SecretsRecipient;
use crate::repo::spill::MemoryBudget;
use crate::repo::{BackupOptions, Repository, Snapshot};
use crate::source::{Source, SourceOptions};
use crate::summary::Summary;

/// `categories`, or every category of the catalog when it is empty.
fn or_all(categories: &[&'static Category]) -> Vec<&'static Category> {
    if categories.is_empty() { catalog::all().iter().collect() } else { categories.to_vec() }
}

/// What [`backup`] does: which categories, in full or incrementally, with which tags.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BackupRequest {
    /// The categories to read; empty (the default): every category of the catalog.
    pub categories: Vec<&'static Category>,
    /// Read every category in full instead of the changes since the tenant's latest snapshot.
    pub full: bool,
    /// Tags stored with the snapshot.
    pub tags: Vec<String>,
    /// Read secret values (BitLocker keys), sealed under the repository's secrets key (default: yes).
    pub secrets: bool,
    /// Which secrets public key the backup may seal to (default: the one this machine pinned).
    pub secrets_recipient: SecretsRecipient,
    /// Memory the backup's per-object sets may take before they spill to disk (default 64 MiB).
    pub memory_budget: MemoryBudget,
    /// Store changed objects as deltas against their previous version (default: yes; see
    /// [`BackupOptions::deltas`]).
    pub deltas: bool,
}

impl Default for BackupRequest {
    fn default() -> Self {
        BackupRequest {
            categories: Vec::new(),
            full: false,
            tags: Vec::new(),
            secrets: true,
            secrets_recipient: SecretsRecipient::default(),
            memory_budget: MemoryBudget::default(),
            deltas: true,
        }
    }
}

impl BackupRequest {
    /// Only these categories (empty: all).
    #[must_use]
    pub fn categories(mut self, categories: Vec<&'static Category>) -> Self {
        self.categories = categories;
        self
    }

    /// Read in full rather than incrementally.
    #[must_use]
    pub fn full(mut self, full: bool) -> Self {
        self.full = full;
        self
    }

    /// Tags for the snapshot.
    #[must_use]
    pub fn tags(mut self, tags: Vec<String>) -> Self {
        self.tags = tags;
        self
    }

    /// Whether to read secret values.
    #[must_use]
    pub fn secrets(mut self, secrets: bool) -> Self {
        self.secrets = secrets;
        self
    }

    /// The secrets public key the backup may seal to.
    #[must_use]
    pub fn secrets_recipient(mut self, recipient: SecretsRecipient) -> Self {
        self.secrets_recipient = recipient;
        self
    }

    /// The memory the backup's per-object sets may take before they spill to disk.
    #[must_use]
    pub fn memory_budget(mut self, budget: MemoryBudget) -> Self {
        self.memory_budget = budget;
        self
    }

    /// Whether to store changed objects as deltas.
    #[must_use]
    pub fn deltas(mut self, deltas: bool) -> Self {
        self.deltas = deltas;
        self
    }

    /// A [`Progress`] over the categories this request reads, to pass to [`backup`] (and to show).
    pub fn progress(&self) -> Arc<Progress> {
        Progress::new(&or_all(&self.categories))
    }
}

/// Back up the tenant `connection` reads into `repo` as a new snapshot, incrementally from the
/// tenant's latest snapshot unless [`BackupRequest::full`]. The categories read are `progress`'s
/// (make it with [`BackupRequest::progress`]). A category Graph refuses keeps its previous data and
/// is listed in the snapshot's `failed`; see [`pipeline::backup`].
pub async fn backup(
    connection: &Connection,
    repo: &Repository,
    request: &BackupRequest,
    progress: &Progress,
) -> Result<BackupReport> {
    let source = connection.source(SourceOptions { secrets: request.secrets, ..SourceOptions::default() })?;
    let mut options = BackupOptions::new(source.tenant_id().unwrap_or_default());
    options.full = request.full;
    options.tags.clone_from(&request.tags);
    options.secrets_recipient = request.secrets_recipient.clone();
    options.memory_budget = request.memory_budget;
    options.deltas = request.deltas;
    pipeline::backup(&source, repo, options, progress).await
}

/// What [`export`] and [`export_snapshot`] do.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ExportRequest {
    /// The categories to read from Graph; empty (the default): every category. (A snapshot is
    /// exported whole.)
    pub categories: Vec<&'static Category>,
    /// Read secret values (BitLocker keys) from Graph; each read is audited in the tenant.
    pub secrets: bool,
    /// Read audit and sign-in logs from this instant on (default: all Graph keeps).
    pub logs_since: Option<jiff::Timestamp>,
    /// Replace an output folder that already holds files (replaced whole, never merged with).
    pub replace: bool,
}

impl ExportRequest {
    /// Only these categories (empty: all).
    #[must_use]
    pub fn categories(mut self, categories: Vec<&'static Category>) -> Self {
        self.categories = categories;
        self
    }

    /// Whether to read secret values.
    #[must_use]
    pub fn secrets(mut self, secrets: bool) -> Self {
        self.secrets = secrets;
        self
    }

    /// Read logs from this instant on.
    #[must_use]
    pub fn logs_since(mut self, since: Option<jiff::Timestamp>) -> Self {
        self.logs_since = since;
        self
    }

    /// Replace an output folder that holds files.
    #[must_use]
    pub fn replace(mut self, replace: bool) -> Self {
        self.replace = replace;
        self
    }

    /// A [`Progress`] over the categories this request reads from Graph, to pass to [`export`].
    pub fn progress(&self) -> Arc<Progress> {
        Progress::new(&or_all(&self.categories))
    }
}

/// Export the tenant `connection` reads into `dir/<category>/<id>.json`, the categories of
/// `progress` (make it with [`ExportRequest::progress`]). The folder is replaced in one step at the
/// end (see [`pipeline::export_with`]); failed categories are named in the summary.
pub async fn export(
    connection: &Connection,
    dir: &Path,
    request: &ExportRequest,
    progress: &Progress,
) -> Result<Summary> {
    let options =
        SourceOptions { secrets: request.secrets, logs_since: request.logs_since, ..SourceOptions::default() };
    let source = connection.source(options)?;
    pipeline::export_with(&source, dir, progress, ExportOptions { replace: request.replace, whole: false }).await
}

/// Write `snapshot` out whole into `dir/<category>/<id>.json` (secrets too when the snapshot was
/// opened with them). The folder is put in place only if every category was read; otherwise it is
/// left as it was and the summary names what failed.
pub async fn export_snapshot(snapshot: &Snapshot, dir: &Path, request: &ExportRequest) -> Result<Summary> {
    let progress = Progress::new(&snapshot.categories());
    pipeline::export_with(snapshot, dir, &progress, ExportOptions { replace: request.replace, whole: true }).await
}
