//! What a run of the [pipeline](crate::pipeline) reports: per category and in total. Its own
//! module because the pipeline makes it and every [`Sink`](crate::sink::Sink) receives it at the
//! end: the sinks depend on it, not on the pipeline that drives them.

use serde::Serialize;

/// Where a category is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum State {
    /// Not started yet (more categories than run at once).
    Waiting,
    /// Being read.
    Reading,
    /// Read to the end.
    Done,
    /// Stopped by an error (the report says which); the other categories went on.
    Failed,
}

/// The outcome of one category.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryReport {
    /// The category's name in the catalog.
    pub category: &'static str,
    /// [`State::Done`] or [`State::Failed`] once the run is over.
    pub state: State,
    /// Objects read (for an incremental read: new or changed objects; removals are not counted).
    pub objects: u64,
    /// Links and contained children read.
    pub relationships: u64,
    /// HTTP requests (a `$batch` envelope counts once).
    pub requests: u64,
    /// `$batch` envelopes among the requests.
    pub batches: u64,
    /// Graph requests sent inside `$batch` envelopes.
    pub batched: u64,
    /// 429 answers (top-level or inside a `$batch`).
    pub throttled: u64,
    /// Requests sent again after a transient failure, a 429 or an expired page token.
    pub retries: u64,
    /// Resource units Graph charged (`x-ms-resource-unit`), or the catalog's estimate where it
    /// said nothing.
    pub resource_units: u64,
    /// 1 if the category failed, else 0 (so that reports add up).
    pub failures: u64,
    /// Wall-clock time of the category's read, in milliseconds.
    pub duration_ms: u64,
    /// Why the category failed; `None` when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Graph's error code for the failure (`Authorization_RequestDenied`), when Graph gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub graph_code: Option<String>,
    /// For a 403: the least-privilege permissions the catalog says the category needs.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub permissions_needed: Vec<&'static str>,
}

/// The outcome of a run.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// One report per category, in the order the run was given them.
    pub categories: Vec<CategoryReport>,
    /// Objects read, over all categories.
    pub objects: u64,
    /// Relationships read, over all categories.
    pub relationships: u64,
    /// HTTP requests (a `$batch` counted once).
    pub requests: u64,
    /// Graph requests (each request inside a `$batch` counted).
    pub graph_requests: u64,
    /// 429 answers, over all categories.
    pub throttled: u64,
    /// Categories in [`State::Failed`].
    pub failed_categories: usize,
    /// Wall-clock time of the whole run, in milliseconds.
    pub duration_ms: u64,
}

impl Summary {
    /// Whether every category was read (no category failed).
    pub fn ok(&self) -> bool {
        self.failed_categories == 0
    }
}
