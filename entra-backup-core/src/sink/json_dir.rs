//! The plain export: `DIR/<category>/<id>.json`, one file per object, pretty-printed Graph JSON.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use super::Sink;
use crate::error::{Error, Result};
use crate::pipeline::Summary;
use crate::source::Object;

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
                std::fs::create_dir_all(&dir).map_err(|e| Error::io(format!("cannot create {}", dir.display()), e))?;
                made.insert(category);
            }
        }
        let path = self.path_of(category, &object.id);
        let bytes = serde_json::to_vec_pretty(&object.json).map_err(|e| Error::invalid_input(e.to_string()))?;
        tokio::fs::write(&path, bytes).await.map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    }

    async fn finish(&self, summary: &Summary) -> Result<()> {
        tokio::fs::create_dir_all(&self.root)
            .await
            .map_err(|e| Error::io(format!("cannot create {}", self.root.display()), e))?;
        let path = self.root.join("summary.json");
        let bytes = serde_json::to_vec_pretty(summary).map_err(|e| Error::invalid_input(e.to_string()))?;
        tokio::fs::write(&path, bytes).await.map_err(|e| Error::io(format!("cannot write {}", path.display()), e))
    }
}
