//! Staging files: what an interrupted write leaves in a local folder.
//!
//! `object_store`'s local backend writes an object to `<path>#<n>` first and then links or renames
//! it into place, so a process killed in between leaves that staging file behind (`data/63/6352…#1`,
//! `index/2c93…#1`). Listings hide such names, so they are looked for here, in the folder itself.
//! Cloud stores publish an object whole or not at all and leave nothing of the kind. `check`
//! reports staging files; `prune` deletes those older than its grace period (a running backup's
//! are younger).

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::repo::backend::Store;

/// A staging file left by an interrupted write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StagingFile {
    /// The path relative to the repository, `/`-separated (`data/63/6352…#1`).
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// When it was last written.
    pub modified: jiff::Timestamp,
}

/// Whether a file name is a staging name: `<name>#<digits>`.
pub fn is_staging_name(name: &str) -> bool {
    name.split_once('#')
        .is_some_and(|(base, n)| !base.is_empty() && !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Every staging file in the store's folder, sorted by path (none for stores that are not local).
pub async fn list(store: &Store) -> Result<Vec<StagingFile>> {
    let Some(root) = store.local_root().map(Path::to_path_buf) else { return Ok(Vec::new()) };
    let found = tokio::task::spawn_blocking(move || {
        let mut found = Vec::new();
        walk(&root, &root, &mut found).map(|()| found)
    })
    .await
    .map_err(|e| Error::new(crate::error::ErrorKind::Io, format!("listing staging files: {e}")))??;
    let mut found = found;
    found.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(found)
}

fn walk(root: &Path, dir: &Path, found: &mut Vec<StagingFile>) -> Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        // Gone meanwhile (an empty folder cleaned up after its last object).
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("listing {}", dir.display()), e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(format!("listing {}", dir.display()), e))?;
        // Not followed: a link is not something the repository wrote.
        let Ok(kind) = entry.file_type() else { continue };
        let path = entry.path();
        if kind.is_dir() {
            walk(root, &path, found)?;
        } else if kind.is_file() && entry.file_name().to_str().is_some_and(is_staging_name) {
            let Ok(meta) = entry.metadata() else { continue };
            let modified = meta
                .modified()
                .ok()
                .and_then(|t| jiff::Timestamp::try_from(t).ok())
                .unwrap_or_else(jiff::Timestamp::now);
            found.push(StagingFile { path: relative(root, &path), size: meta.len(), modified });
        }
    }
    Ok(())
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// Delete the staging file at `path` (relative, as [`list`] gives it); one already gone is not an
/// error.
pub async fn remove(store: &Store, path: &str) -> Result<()> {
    let Some(root) = store.local_root() else { return Ok(()) };
    if !path.rsplit('/').next().is_some_and(is_staging_name) || path.split('/').any(|s| s == ".." || s.is_empty()) {
        return Err(Error::invalid_input(format!("`{}` is not a staging file", path.escape_debug())));
    }
    let full: PathBuf = root.join(path);
    match tokio::fs::remove_file(&full).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io(format!("deleting {}", full.display()), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_are_a_name_a_hash_and_digits() {
        for yes in ["6352ab#1", "config#12", "x#0"] {
            assert!(is_staging_name(yes), "{yes}");
        }
        for no in ["6352ab", "#1", "x#", "x#1a", "x#-1"] {
            assert!(!is_staging_name(no), "{no}");
        }
    }
}
