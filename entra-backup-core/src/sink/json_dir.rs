//! The plain export: `DIR/<category>/<id>.json`, one file per object, pretty-printed Graph JSON.
//!
//! An export is written into a fresh folder beside `DIR` ([`Staging`]) and renamed into place
//! only when it is complete, so `DIR` never mixes with an older export's files, a failed or
//! interrupted export leaves it as it was, and no file is written through a symbolic link.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tokio::io::AsyncWriteExt;

use super::Sink;
use crate::error::{Error, Result};
use crate::source::Object;
use crate::summary::Summary;

/// Writes each object to `DIR/<category>/<id>.json` and the run's summary to `DIR/summary.json`.
#[derive(Debug)]
pub struct JsonDirSink {
    root: PathBuf,
    made: Mutex<HashSet<&'static str>>,
}

impl JsonDirSink {
    /// A sink writing under `root` (created if missing).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        JsonDirSink { root: root.into(), made: Mutex::new(HashSet::new()) }
    }

    /// The folder written into.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The file an object goes to. Ids are GUIDs or plain names; anything that could leave the folder
    /// or trouble a file system is percent-encoded.
    pub fn path_of(&self, category: &str, id: &str) -> PathBuf {
        let mut name = String::with_capacity(id.len() + 5);
        for b in id.bytes() {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.') && !(name.is_empty() && b == b'.') {
                name.push(b as char);
            } else {
                name.push_str(&format!("%{b:02X}"));
            }
        }
        self.root.join(category).join(format!("{name}.json"))
    }
}

/// Write `bytes` to a new file at `path`. `create_new` never follows a symbolic link (one found
/// there is an error); an object read twice replaces its own earlier file.
async fn write_new(path: &Path, bytes: &[u8]) -> Result<()> {
    let mut options = tokio::fs::OpenOptions::new();
    options.write(true).create_new(true);
    let open = || options.open(path);
    let mut file = match open().await {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            // Removing unlinks the entry itself, never what a link points at.
            tokio::fs::remove_file(path).await.map_err(|e| Error::io(format!("cannot replace {}", shown(path)), e))?;
            open().await
        }
        other => other,
    }
    .map_err(|e| Error::io(format!("cannot write {}", shown(path)), e))?;
    // Flushed: tokio writes in the background, and the folder may be renamed right after.
    let written = async {
        file.write_all(bytes).await?;
        file.flush().await
    };
    written.await.map_err(|e| Error::io(format!("cannot write {}", shown(path)), e))
}

#[async_trait::async_trait]
impl Sink for JsonDirSink {
    async fn put(&self, object: Object) -> Result<()> {
        let category = object.category.name;
        {
            // Under the lock, so that no concurrent put of the same category writes before the
            // folder exists (a quick, once-per-category system call).
            let mut made = self.made.lock().unwrap_or_else(|p| p.into_inner());
            if !made.contains(category) {
                let dir = self.root.join(category);
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("cannot create {}", shown(&dir)), e))?;
                made.insert(category);
            }
        }
        let path = self.path_of(category, &object.id);
        let bytes = serde_json::to_vec_pretty(&object.json).map_err(|e| Error::invalid_input(e.to_string()))?;
        write_new(&path, &bytes).await
    }

    async fn finish(&self, summary: &Summary) -> Result<()> {
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(|e| Error::io(format!("cannot create {}", shown(&self.root)), e))?;
        let bytes = serde_json::to_vec_pretty(summary).map_err(|e| Error::invalid_input(e.to_string()))?;
        write_new(&self.root.join("summary.json"), &bytes).await
    }
}

/// A fresh folder beside an export's target, renamed into place by [`Staging::commit`]; removed
/// when dropped uncommitted (an error, a cancelled run).
#[derive(Debug)]
pub struct Staging {
    target: PathBuf,
    path: PathBuf,
    replace: bool,
    done: bool,
}

impl Staging {
    /// Check `target` and make the staging folder beside it. `target` may be missing or an empty
    /// folder; one that holds anything is refused unless `replace` (it is then replaced whole at
    /// the end, never merged with). A symbolic link, or a file, is refused.
    pub fn begin(target: &Path, replace: bool) -> Result<Staging> {
        check_target(target, replace)?;
        let (parent, name) = parent_and_name(target)?;
        std::fs::create_dir_all(&parent).map_err(|e| Error::io(format!("cannot create {}", shown(&parent)), e))?;
        let path = parent.join(format!(".{name}.export-{}", nonce()));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(&path).map_err(|e| Error::io(format!("cannot create {}", shown(&path)), e))?;
        Ok(Staging { target: target.to_path_buf(), path, replace, done: false })
    }

    /// The folder to write into.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Put the finished export in place of the target. A target that holds files (allowed by
    /// `replace`) is swapped with the export in one step where the system can (Linux), so the
    /// target is never missing, or else moved aside before the export is renamed in its place;
    /// then the old one is removed.
    pub fn commit(mut self) -> Result<()> {
        check_target(&self.target, self.replace)?;
        let rename = |from: &Path, to: &Path| {
            std::fs::rename(from, to).map_err(|e| Error::io(format!("cannot move {} to {}", shown(from), shown(to)), e))
        };
        if std::fs::symlink_metadata(&self.target).is_err() {
            rename(&self.path, &self.target)?;
        } else if is_empty_dir(&self.target)? {
            // An empty folder is replaced in one rename where the system allows it.
            if std::fs::rename(&self.path, &self.target).is_err() {
                std::fs::remove_dir(&self.target)
                    .map_err(|e| Error::io(format!("cannot replace {}", shown(&self.target)), e))?;
                rename(&self.path, &self.target)?;
            }
        } else if exchange(&self.path, &self.target).is_ok() {
            // The staging folder now holds the old export.
            self.done = true;
            std::fs::remove_dir_all(&self.path)
                .map_err(|e| Error::io(format!("cannot remove {}", shown(&self.path)), e))?;
        } else {
            let (parent, name) = parent_and_name(&self.target)?;
            let old = parent.join(format!(".{name}.replaced-{}", nonce()));
            rename(&self.target, &old)?;
            if let Err(e) = rename(&self.path, &self.target) {
                // Put the old export back rather than leave nothing.
                let _ = std::fs::rename(&old, &self.target);
                return Err(e);
            }
            // `remove_dir_all` removes links, never what they point at.
            std::fs::remove_dir_all(&old).map_err(|e| Error::io(format!("cannot remove {}", shown(&old)), e))?;
        }
        self.done = true;
        Ok(())
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        if !self.done {
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// Swap two folders in one step (`renameat2` with `RENAME_EXCHANGE`).
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE).map_err(std::io::Error::from)
}

/// Elsewhere (or on a file system without it) the caller falls back to two renames.
#[cfg(not(target_os = "linux"))]
fn exchange(_: &Path, _: &Path) -> std::io::Result<()> {
    Err(std::io::ErrorKind::Unsupported.into())
}

fn check_target(target: &Path, replace: bool) -> Result<()> {
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(format!("cannot read {}", shown(target)), e)),
    };
    let name = shown(target);
    if meta.file_type().is_symlink() {
        return Err(Error::invalid_input(format!(
            "{name} is a symbolic link: an export is written only into a real folder, never through a link"
        )));
    }
    if !meta.is_dir() {
        return Err(Error::invalid_input(format!("{name} exists and is not a folder")));
    }
    if !replace && !is_empty_dir(target)? {
        return Err(Error::invalid_input(format!(
            "{name} is not empty: export into a new or empty folder, or --force to replace it whole"
        )));
    }
    Ok(())
}

fn is_empty_dir(dir: &Path) -> Result<bool> {
    let mut entries = std::fs::read_dir(dir).map_err(|e| Error::io(format!("cannot read {}", shown(dir)), e))?;
    Ok(entries.next().is_none())
}

/// The folder holding `target` and `target`'s own name.
fn parent_and_name(target: &Path) -> Result<(PathBuf, String)> {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .ok_or_else(|| Error::invalid_input(format!("{} names no folder to export into", shown(target))))?;
    let parent = match target.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((parent, name))
}

/// A path as a message shows it: quoted, escaped (it comes from the user, and may hold anything).
fn shown(path: &Path) -> String {
    crate::text::quote(&path.display().to_string())
}

/// Sixteen random hex digits, so that staging names never collide.
fn nonce() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 8];
    // Without randomness the process id still tells concurrent runs apart.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        bytes = u64::from(std::process::id()).to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
