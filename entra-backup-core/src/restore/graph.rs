//! The restorer over Microsoft Graph: writes in `$batch` envelopes of 20, paced within the
//! published write quotas, and the directory recycle bin.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures::StreamExt;
use serde_json::Value;

use super::{Restorer, Write};
use crate::catalog::{Category, ThrottleFamily};
use crate::error::Result;
use crate::graph::client::BatchRequest;
use crate::graph::pacing::identity_cost;
use crate::graph::{GraphClient, Pager, RequestMeta, RequestStats};

/// Writes through a [`GraphClient`] (usually the one of the [`GraphSource`](crate::source::GraphSource)
/// that reads the live tenant, so that reads and writes share one pacer).
#[derive(Debug, Clone)]
pub struct GraphRestorer {
    client: Arc<GraphClient>,
    stats: Arc<RequestStats>,
    writes: Arc<AtomicU64>,
    /// `$batch` envelopes in flight.
    concurrency: usize,
}

/// Graph requests in one `$batch`.
const BATCH: usize = 20;

impl GraphRestorer {
    pub fn new(client: Arc<GraphClient>) -> Self {
        GraphRestorer { client, stats: Arc::default(), writes: Arc::default(), concurrency: 4 }
    }

    fn meta(&self, family: ThrottleFamily, cost: u32) -> RequestMeta {
        RequestMeta { family, cost, stats: self.stats.clone() }
    }
}

#[async_trait::async_trait]
impl Restorer for GraphRestorer {
    async fn deleted(&self, category: &'static Category) -> Result<HashSet<String>> {
        // Ids are all the planner needs: the second look reads what came back.
        let path = format!("/directory/deletedItems/{}?$select=id&$top=999", category.entity_type);
        let url = self.client.url("v1.0", &path);
        let meta = self.meta(ThrottleFamily::Identity, identity_cost(1, true, false, Some(999)));
        let mut pager = Pager::new(url);
        let mut out = HashSet::new();
        while let Some(page) = pager.next(&self.client, &meta, &[]).await? {
            if pager.restarted {
                out.clear();
            }
            out.extend(page.items.iter().filter_map(|i| i.get("id").and_then(Value::as_str)).map(String::from));
        }
        Ok(out)
    }

    async fn write(&self, category: &'static Category, writes: Vec<Write>) -> Vec<Result<Value>> {
        let version = category.api_version.segment();
        // Conditional Access allows one request per second: a batch of twenty would be throttled
        // nineteen times over, so its writes go one at a time.
        let size = if category.throttle == ThrottleFamily::ConditionalAccess { 1 } else { BATCH };
        let meta = self.meta(category.throttle, 1);
        self.writes.fetch_add(writes.len() as u64, Ordering::Relaxed);
        let chunks: Vec<Vec<BatchRequest>> = writes
            .chunks(size)
            .map(|c| {
                c.iter().map(|w| BatchRequest { method: w.method, url: w.url.clone(), body: w.body.clone() }).collect()
            })
            .collect();
        let answers: Vec<Vec<Result<Value>>> = futures::stream::iter(chunks)
            .map(|chunk| {
                let meta = meta.clone();
                async move { self.client.batch(version, &chunk, &meta).await }
            })
            .buffered(self.concurrency)
            .collect()
            .await;
        answers.into_iter().flatten().collect()
    }

    fn object_url(&self, path: &str) -> String {
        self.client.url("v1.0", path)
    }

    fn counts(&self) -> (u64, u64) {
        (self.writes.load(Ordering::Relaxed), self.stats.requests.load(Ordering::Relaxed))
    }
}
