//! Where objects come from: a [`Source`] reads one category at a time and sends its objects, each
//! with its relationships as navigation properties, down a channel.
//!
//! [`GraphSource`] reads a live tenant through Microsoft Graph. Later, a repository snapshot reads
//! back as the same stream.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::catalog::Category;
use crate::error::Result;
use crate::graph::RequestStats;

mod graph;

pub use graph::{Endpoints, GraphSource, SourceOptions};

/// One object of a tenant: its Graph JSON (every property, unchanged) plus each relationship as a
/// navigation property: an array of references `{"@odata.type", "id"}` for links, an array of the
/// child objects for contained relationships.
#[derive(Debug, Clone)]
pub struct Object {
    pub category: &'static Category,
    /// The object's id (or its key: a cross-tenant partner's `tenantId`; a singleton's category
    /// name when Graph gives it no id).
    pub id: String,
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

/// Live counters of one category's read, shared with whoever shows progress.
#[derive(Debug, Default)]
pub struct CategoryStats {
    pub requests: Arc<RequestStats>,
    pub objects: AtomicU64,
    /// Links and contained children read.
    pub relationships: AtomicU64,
}

impl CategoryStats {
    pub fn objects(&self) -> u64 {
        self.objects.load(Ordering::Relaxed)
    }

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
}
