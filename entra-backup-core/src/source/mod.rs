//! Where objects come from: a [`Source`] reads one category at a time and sends its objects, each
//! with its relationships as navigation properties, down a channel.
//!
//! [`GraphSource`] reads a live tenant through Microsoft Graph; [`SnapshotSource`] reads a
//! repository snapshot back as the same stream.
//!
//! For incremental backups a source also reads *changes* ([`Source::read_changes`]): from where
//! the last backup left off (a [`Prior`] cursor: a delta link, or the newest log record's time) it
//! sends [`Change`]s, and says how it read ([`ReadOutcome`]).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::catalog::Category;
use crate::error::Result;
use crate::graph::RequestStats;

pub(crate) mod graph;
pub(crate) mod ids;
mod snapshot;

pub use graph::{Endpoints, GraphSource, SourceOptions};
pub use ids::{DEFAULT_STREAM_BATCH, set_stream_batch, stream_batch};
pub use snapshot::SnapshotSource;

pub use crate::repo::snapshot::ReadMode;

/// One object of a tenant: its Graph JSON (every property, unchanged) plus each relationship as a
/// navigation property: an array of references `{"@odata.type", "id"}` for links, an array of the
/// child objects for contained relationships.
#[derive(Debug, Clone)]
pub struct Object {
    /// The category it belongs to.
    pub category: &'static Category,
    /// The object's id (or its key: a cross-tenant partner's `tenantId`; a singleton's category
    /// name when Graph gives it no id).
    pub id: String,
    /// Graph's JSON of the object, relationships included as navigation properties.
    pub json: Map<String, Value>,
}

impl Object {
    /// Build an object from Graph JSON, finding its id or key.
    pub fn new(category: &'static Category, json: Map<String, Value>) -> Self {
        let id = ["id", "tenantId"]
            .iter()
            .find_map(|k| json.get(*k).and_then(Value::as_str))
            .map(String::from)
            .unwrap_or_else(|| category.name.to_string());
        Object { category, id, json }
    }
}

/// One change to a category, as a source reads it.
#[derive(Debug, Clone)]
pub enum Change {
    /// The whole object as it is now.
    Object(Object),
    /// An object new or changed since the cursor, as delta gives it: only the properties that
    /// changed (all of them for a new object), each relationship read in full (an array), and each
    /// relationship delta tracks as `<name>@delta` (references added, or with `@removed`).
    Patch(Object),
    /// The object left the category since the cursor (`reason` as delta gives it: `changed` for
    /// the recycle bin, `deleted` for good).
    Removed {
        /// The category it left.
        category: &'static Category,
        /// The object's id.
        id: String,
        /// Delta's `@removed.reason`; `None` when Graph gave none.
        reason: Option<String>,
    },
}

impl Change {
    /// The category the change belongs to.
    pub fn category(&self) -> &'static Category {
        match self {
            Change::Object(o) | Change::Patch(o) => o.category,
            Change::Removed { category, .. } => category,
        }
    }
}

/// What a sink already holds of a category, so that a source reads only what changed.
#[derive(Debug, Clone, Default)]
pub struct Prior {
    /// Where the last read ended: a delta link, or the newest log record's time. `None`: read all.
    pub cursor: Option<String>,
    /// Set up a cursor for the next read even when reading everything (costs one request for a
    /// category with delta).
    pub want_cursor: bool,
    /// Objects whose secret properties (BitLocker keys) the sink already holds: they never
    /// change, so they are not read (nor audited) again.
    pub known_secrets: std::collections::HashSet<String>,
}

/// How a category was read, and where the next read starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadOutcome {
    /// Whether the category was read whole or as changes since the prior cursor.
    pub mode: ReadMode,
    /// Where the next read starts (a delta link, the newest log record's time); `None`: the next
    /// read reads everything.
    pub cursor: Option<String>,
}

/// Live counters of one category's read, shared with whoever shows progress.
#[derive(Debug, Default)]
pub struct CategoryStats {
    /// The category's Graph requests.
    pub requests: Arc<RequestStats>,
    /// Objects sent (for a delta read: new or changed objects; removals are not counted).
    pub objects: AtomicU64,
    /// Links and contained children read.
    pub relationships: AtomicU64,
}

impl CategoryStats {
    /// Objects sent so far.
    pub fn objects(&self) -> u64 {
        self.objects.load(Ordering::Relaxed)
    }

    /// Links and contained children read so far.
    pub fn relationships(&self) -> u64 {
        self.relationships.load(Ordering::Relaxed)
    }
}

/// Reads categories of a tenant.
#[async_trait::async_trait]
pub trait Source: Send + Sync {
    /// Learn what the source needs before reading (a tenant's size, to pace requests).
    async fn prepare(&self) -> Result<()> {
        Ok(())
    }

    /// Read every object of `category` and send it to `out`. Counts go to `stats`. An error ends
    /// the category (other categories go on); objects already sent stay sent.
    async fn read(&self, category: &'static Category, out: &mpsc::Sender<Object>, stats: &CategoryStats) -> Result<()>;

    /// Read what changed in `category` since `prior`, as [`Change`]s. The default reads
    /// everything ([`ReadMode::Full`], whole objects, no cursor); sources that can do better
    /// (Graph's delta queries) override it.
    async fn read_changes(
        &self,
        category: &'static Category,
        prior: &Prior,
        out: &mpsc::Sender<Change>,
        stats: &CategoryStats,
    ) -> Result<ReadOutcome> {
        let _ = prior;
        let (tx, mut rx) = mpsc::channel::<Object>(64);
        let forward = async {
            while let Some(o) = rx.recv().await {
                if out.send(Change::Object(o)).await.is_err() {
                    return Err(crate::Error::new(crate::ErrorKind::Cancelled, "the sink stopped taking objects"));
                }
            }
            Ok(())
        };
        let read = async move { self.read(category, &tx, stats).await };
        let (read, forwarded) = tokio::join!(read, forward);
        read?;
        forwarded?;
        Ok(ReadOutcome { mode: ReadMode::Full, cursor: None })
    }

    /// Read `category` for a second look at a few objects (those a restore just brought back):
    /// every object in `ids` is sent whole; others may be sent too, with or without their
    /// relationships, and callers ignore them. The default reads everything and keeps `ids`.
    async fn read_some(
        &self,
        category: &'static Category,
        ids: &HashSet<String>,
        out: &mpsc::Sender<Object>,
        stats: &CategoryStats,
    ) -> Result<()> {
        let (tx, mut rx) = mpsc::channel::<Object>(64);
        let forward = async {
            while let Some(o) = rx.recv().await {
                if ids.contains(&o.id) && out.send(o).await.is_err() {
                    return Err(crate::Error::new(crate::ErrorKind::Cancelled, "the reader stopped taking objects"));
                }
            }
            Ok(())
        };
        let read = async move { self.read(category, &tx, stats).await };
        let (read, forwarded) = tokio::join!(read, forward);
        read?;
        forwarded
    }

    /// The tenant's id, when the source knows it.
    fn tenant_id(&self) -> Option<String> {
        None
    }
}
