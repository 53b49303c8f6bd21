//! What a run of the [pipeline](crate::pipeline) reports: per category and in total. Its own
//! module because the pipeline makes it and every [`Sink`](crate::sink::Sink) receives it at the
//! end: the sinks depend on it, not on the pipeline that drives them.

use serde::Serialize;

/// Where a category is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum State {
    Waiting,
    Reading,
    Done,
    Failed,
}

/// The outcome of one category.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CategoryReport {
    pub category: &'static str,
    pub state: State,
    pub objects: u64,
    pub relationships: u64,
    /// HTTP requests (a `$batch` envelope counts once).
    pub requests: u64,
    /// `$batch` envelopes among the requests.
    pub batches: u64,
    /// Graph requests sent inside `$batch` envelopes.
    pub batched: u64,
    pub throttled: u64,
    pub retries: u64,
    pub resource_units: u64,
    pub failures: u64,
    pub duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
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
    pub categories: Vec<CategoryReport>,
    pub objects: u64,
    pub relationships: u64,
    /// HTTP requests (a `$batch` counted once).
    pub requests: u64,
    /// Graph requests (each request inside a `$batch` counted).
    pub graph_requests: u64,
    pub throttled: u64,
    pub failed_categories: usize,
    pub duration_ms: u64,
}

impl Summary {
    pub fn ok(&self) -> bool {
        self.failed_categories == 0
    }
}
