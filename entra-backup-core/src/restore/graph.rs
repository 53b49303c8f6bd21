//! The restorer over Microsoft Graph: writes in `$batch` envelopes of 20, paced within the
//! published write quotas, and the directory recycle bin. The only restore code that knows how
//! Graph spells a write (its URLs from [`urls`], `$ref`, `@odata.id` and `@odata.bind`).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use futures::StreamExt;
use serde_json::{Map, Value, json};

use super::{Bind, Operation, Restorer};
use crate::catalog::{Category, RelationshipWrite, ThrottleFamily, urls};
use crate::error::Result;
use crate::graph::client::BatchRequest;
use crate::graph::pacing::identity_cost;
use crate::graph::{GraphClient, Pager, RequestMeta, RequestStats};

/// Writes through a [`GraphClient`] (usually the one of the [`GraphSource`](crate::source::GraphSource)
/// that reads the live tenant, so that reads and writes share one pacer), or through the clients of
/// several app registrations of the tenant, each with its own per-app write quota: envelopes go to
/// them in turn (see [`GraphRestorer::with_writers`]).
#[derive(Debug, Clone)]
pub struct GraphRestorer {
    /// Reads (the recycle bin) and the first app's writes.
    client: Arc<GraphClient>,
    /// Every app's client, the first being `client`.
    writers: Vec<Arc<GraphClient>>,
    /// The writer the next envelope goes to, counting on.
    turn: Arc<AtomicUsize>,
    stats: Arc<RequestStats>,
    writes: Arc<AtomicU64>,
    /// `$batch` envelopes in flight per app.
    concurrency: usize,
}

/// Graph requests in one `$batch`.
const BATCH: usize = 20;

impl GraphRestorer {
    /// A restorer writing through `client` (its pacing, retries and credentials).
    pub fn new(client: Arc<GraphClient>) -> Self {
        Self::with_writers(vec![client])
    }

    /// A restorer reading through the first of `writers` and writing through all of them, one
    /// `$batch` envelope to each in turn. Each is one app registration of the tenant with its own
    /// pacer; made with [`Pacer::another_app`](crate::graph::pacing::Pacer::another_app), the
    /// pacers share the tenant-wide write quota, so that the apps together never exceed it.
    ///
    /// # Panics
    /// When `writers` is empty.
    pub fn with_writers(writers: Vec<Arc<GraphClient>>) -> Self {
        let client = writers.first().expect("a restorer needs at least one Graph client").clone();
        GraphRestorer {
            client,
            writers,
            turn: Arc::default(),
            stats: Arc::default(),
            writes: Arc::default(),
            concurrency: 4,
        }
    }

    /// The clients writes go through, the first also reading.
    pub fn writers(&self) -> &[Arc<GraphClient>] {
        &self.writers
    }

    fn meta(&self, family: ThrottleFamily, cost: u32) -> RequestMeta {
        RequestMeta { family, cost, stats: self.stats.clone() }
    }

    /// The absolute URL of a directory object, for `@odata.id` and `@odata.bind`.
    fn object_url(&self, id: &str) -> Value {
        Value::String(self.client.url(urls::DIRECTORY_VERSION.segment(), &urls::directory_object(id)))
    }

    /// `body` with the links of `bind` as `<relationship>@odata.bind` lists.
    fn with_binds(&self, mut body: Map<String, Value>, bind: Vec<Bind>) -> Value {
        for b in bind {
            let key = urls::bind_key(b.relationship);
            if let Some(a) = body.entry(key).or_insert_with(|| json!([])).as_array_mut() {
                a.extend(b.targets.iter().map(|t| self.object_url(t)));
            }
        }
        Value::Object(body)
    }

    /// The Graph request that carries out `op` on an object of `cat`.
    fn request(&self, cat: &Category, op: Operation) -> BatchRequest {
        let (method, url, body) = match op {
            Operation::Undelete { id } => ("POST", urls::restore_deleted(&id), Some(json!({}))),
            Operation::Create { body, bind } => {
                ("POST", urls::create(cat).to_string(), Some(self.with_binds(body, bind)))
            }
            Operation::RequestSchedule { body } => ("POST", urls::create(cat).to_string(), Some(Value::Object(body))),
            Operation::Patch { id, body, bind } => ("PATCH", urls::item(cat, &id), Some(self.with_binds(body, bind))),
            Operation::Link { id, relationship, target } => {
                let method = if matches!(relationship.write, RelationshipWrite::PutRef) { "PUT" } else { "POST" };
                (method, urls::ref_add(relationship, &id), Some(json!({"@odata.id": self.object_url(&target)})))
            }
            Operation::Unlink { id, relationship, target } => {
                ("DELETE", urls::ref_remove(relationship, &id, &target), None)
            }
            Operation::AddChild { parent, relationship, child } => {
                ("POST", urls::relationship(relationship, &parent), Some(child))
            }
            Operation::RemoveChild { parent, relationship, child } => {
                ("DELETE", urls::child(relationship, &parent, &child), None)
            }
            Operation::ReplaceChildren { parent, relationship, children } => {
                let property = match relationship.write {
                    RelationshipWrite::Action { body_property, .. } => body_property,
                    _ => relationship.name,
                };
                let url =
                    urls::action(relationship, &parent).unwrap_or_else(|| urls::relationship(relationship, &parent));
                ("POST", url, Some(json!({ property: children })))
            }
        };
        BatchRequest { method, url, body }
    }
}

#[async_trait::async_trait]
impl Restorer for GraphRestorer {
    async fn deleted(&self, category: &'static Category) -> Result<HashSet<String>> {
        // Ids are all the planner needs: the second look reads what came back.
        let url = self.client.url(urls::DIRECTORY_VERSION.segment(), &urls::deleted_items(category));
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

    async fn apply(&self, category: &'static Category, operations: Vec<Operation>) -> Vec<Result<Value>> {
        let version = category.api_version.segment();
        // Conditional Access allows one request per second: a batch of twenty would be throttled
        // nineteen times over, so its writes go one at a time.
        let size = if category.throttle == ThrottleFamily::ConditionalAccess { 1 } else { BATCH };
        let meta = self.meta(category.throttle, 1);
        self.writes.fetch_add(operations.len() as u64, Ordering::Relaxed);
        let requests: Vec<BatchRequest> = operations.into_iter().map(|op| self.request(category, op)).collect();
        let chunks: Vec<Vec<BatchRequest>> = requests.chunks(size).map(<[BatchRequest]>::to_vec).collect();
        // Identity envelopes go to the apps in turn (their quotas are equal), carrying on where
        // the last call stopped so that small calls spread too. Other families' limits are the
        // tenant's (Conditional Access's one request a second): their writes stay on the first app.
        let apps = if category.throttle == ThrottleFamily::Identity { self.writers.len() } else { 1 };
        let first = if apps > 1 { self.turn.fetch_add(chunks.len(), Ordering::Relaxed) } else { 0 };
        let answers: Vec<Vec<Result<Value>>> = futures::stream::iter(chunks.into_iter().enumerate())
            .map(|(i, chunk)| {
                let meta = meta.clone();
                let client = &self.writers[(first + i) % apps];
                async move { client.batch(version, &chunk, &meta).await }
            })
            .buffered(self.concurrency * apps)
            .collect()
            .await;
        answers.into_iter().flatten().collect()
    }

    fn counts(&self) -> (u64, u64) {
        (self.writes.load(Ordering::Relaxed), self.stats.requests.load(Ordering::Relaxed))
    }
}
