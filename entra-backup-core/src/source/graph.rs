//! Reading a live tenant through Microsoft Graph, category by category, as the catalog describes.
//!
//! A collection is listed at its largest page with the properties the catalog selects; single links
//! (a user's manager) come inline through `$expand`; every other relationship of every object is read
//! through its own endpoint, all pages, never capped, the first page of twenty objects at a time in one
//! `$batch`. BitLocker keys are read one by one, only when asked for (each read is audited).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::StreamExt;
use serde_json::{Map, Value, json};
use tokio::sync::mpsc;

use super::{CategoryStats, Object, Source};
use crate::catalog::{Category, Relationship, RelationshipKind, Shape};
use crate::error::{Error, ErrorKind, Result};
use crate::graph::auth::Credentials;
use crate::graph::pacing::{Pacer, identity_cost};
use crate::graph::{GraphClient, Pager, RequestMeta};

/// What to read beyond the catalog's defaults.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Read the values of secret properties (BitLocker keys). Each read writes an audit record in
    /// the tenant.
    pub secrets: bool,
    /// Read time-windowed records (audit and sign-in logs) from this instant on; None: all Graph keeps.
    pub logs_since: Option<jiff::Timestamp>,
    /// `$batch` requests in flight per category.
    pub batch_concurrency: usize,
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions { secrets: false, logs_since: None, batch_concurrency: 6 }
    }
}

/// A [`Source`] over Microsoft Graph.
#[derive(Debug, Clone)]
pub struct GraphSource {
    client: Arc<GraphClient>,
    options: SourceOptions,
}

/// Graph requests in one `$batch`.
const BATCH: usize = 20;

/// A planned per-object read: (object index in the page, relationship or None for secrets, URL).
type Planned = (usize, Option<&'static Relationship>, String);
/// Its answer.
type Read = (usize, Option<&'static Relationship>, String, Value);

/// Where Graph and the identity platform are: the public cloud by default, a national cloud or a
/// simulated tenant otherwise.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    /// Graph's root, `https://graph.microsoft.com` by default.
    pub graph_url: Option<String>,
    /// The identity platform, `https://login.microsoftonline.com` by default.
    pub authority_url: Option<String>,
}

fn check_url(what: &str, url: &str) -> Result<()> {
    match url::Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Ok(()),
        _ => Err(Error::invalid_input(format!("{what} '{url}' is not an http(s) URL"))),
    }
}

impl GraphSource {
    /// Connect to a tenant with an app's credentials: a paced, retrying Graph client over HTTPS.
    /// Nothing is sent until the first read.
    pub fn connect(credentials: &Credentials, endpoints: &Endpoints, options: SourceOptions) -> Result<Self> {
        if let Some(u) = &endpoints.graph_url {
            check_url("the Graph URL", u)?;
        }
        if let Some(u) = &endpoints.authority_url {
            check_url("the authority URL", u)?;
        }
        crate::init_crypto();
        let http = reqwest::Client::builder()
            .user_agent(concat!("entra-backup/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(std::time::Duration::from_secs(20))
            .timeout(std::time::Duration::from_secs(120))
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| Error::new(ErrorKind::Network, format!("cannot build the HTTP client: {e}")))?;
        let graph_url = endpoints.graph_url.as_deref().unwrap_or(crate::graph::auth::DEFAULT_GRAPH_URL);
        let tokens = credentials.token_source(http.clone(), endpoints.authority_url.as_deref(), Some(graph_url))?;
        // The smallest tenant's quota until prepare() has counted the users.
        let client = GraphClient::new(http, graph_url, tokens, Pacer::new(0));
        Ok(GraphSource::new(Arc::new(client), options))
    }

    pub fn new(client: Arc<GraphClient>, options: SourceOptions) -> Self {
        GraphSource { client, options }
    }

    pub fn client(&self) -> &Arc<GraphClient> {
        &self.client
    }

    fn meta(
        &self,
        category: &Category,
        base: u8,
        select: bool,
        expand: bool,
        top: Option<u32>,
        stats: &CategoryStats,
    ) -> RequestMeta {
        let cost = match category.throttle {
            crate::catalog::ThrottleFamily::Identity => identity_cost(base, select, expand, top),
            _ => 1,
        };
        RequestMeta { family: category.throttle, cost, stats: stats.requests.clone() }
    }

    /// The first URL of a category's listing.
    fn list_url(&self, cat: &Category) -> (String, bool, bool, Option<u32>) {
        let mut q: Vec<String> = Vec::new();
        let top = (cat.shape == Shape::Collection && cat.page.top_supported).then_some(cat.page.max);
        if let Some(t) = top {
            q.push(format!("$top={t}"));
        }
        let select = !cat.select.is_empty();
        if select {
            q.push(format!("$select={}", cat.select.join(",")));
        }
        let expand: Vec<&str> =
            cat.relationships.iter().filter(|r| r.kind == RelationshipKind::Link).map(|r| r.name).collect();
        if !expand.is_empty() {
            q.push(format!(
                "$expand={}",
                expand.iter().map(|n| format!("{n}($select=id)")).collect::<Vec<_>>().join(",")
            ));
        }
        if let (Some(prop), Some(since)) = (cat.time_property, self.options.logs_since) {
            q.push(format!("$filter={prop}%20ge%20{since}"));
        }
        let mut url = self.client.url(cat.api_version.segment(), cat.path);
        if !q.is_empty() {
            url.push('?');
            url.push_str(&q.join("&"));
        }
        (url, select, !expand.is_empty(), top)
    }

    /// Relationships read through their own endpoints (single links come inline with `$expand`).
    fn separate(cat: &Category) -> impl Iterator<Item = &'static Relationship> {
        cat.relationships.iter().filter(|r| r.kind != RelationshipKind::Link)
    }

    fn relationship_url(rel: &Relationship, id: &str) -> String {
        let mut url = rel.path.replace("{id}", id);
        let mut q = Vec::new();
        if rel.page.top_supported {
            q.push(format!("$top={}", rel.page.max));
        }
        if rel.kind == RelationshipKind::Links {
            // References are all a backup keeps of a link: ask for nothing more (and pay 1 RU less).
            q.push("$select=id".to_string());
        }
        if !q.is_empty() {
            url.push('?');
            url.push_str(&q.join("&"));
        }
        url
    }

    /// Read the relationships (and secrets) of a page of objects and attach them.
    async fn complete(
        &self,
        cat: &'static Category,
        objects: &mut [Map<String, Value>],
        stats: &CategoryStats,
    ) -> Result<()> {
        let version = cat.api_version.segment();
        // (object index, relationship, relative URL)
        let mut reads: Vec<Planned> = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            let Some(id) = o.get("id").or_else(|| o.get("tenantId")).and_then(Value::as_str) else { continue };
            for rel in Self::separate(cat) {
                reads.push((i, Some(rel), Self::relationship_url(rel, id)));
            }
            if self.options.secrets && !cat.single_get_select.is_empty() {
                reads.push((i, None, format!("{}/{id}?$select={}", cat.path, cat.single_get_select.join(","))));
            }
        }
        if reads.is_empty() {
            return Ok(());
        }
        let chunks: Vec<Vec<Planned>> = reads.chunks(BATCH).map(|c| c.to_vec()).collect();
        let batches: Vec<_> = chunks.into_iter().map(|chunk| self.read_batch(cat, chunk, stats)).collect();
        let results: Vec<Result<Vec<Read>>> =
            futures::stream::iter(batches).buffer_unordered(self.options.batch_concurrency.max(1)).collect().await;
        for chunk in results {
            for (i, rel, url, body) in chunk? {
                match rel {
                    None => {
                        // A secret read one by one: merge its properties in.
                        if let Value::Object(m) = body {
                            for p in cat.single_get_select {
                                if let Some(v) = m.get(*p) {
                                    objects[i].insert((*p).to_string(), v.clone());
                                }
                            }
                        }
                    }
                    Some(rel) => {
                        let items = self.all_items(version, rel, &url, body, cat, stats).await?;
                        stats.relationships.fetch_add(items.len() as u64, Ordering::Relaxed);
                        let value = match rel.kind {
                            RelationshipKind::Contained => items
                                .into_iter()
                                .map(|mut v| {
                                    if let Value::Object(m) = &mut v {
                                        m.retain(|k, _| k != "@odata.context");
                                    }
                                    v
                                })
                                .collect(),
                            _ => items.iter().map(reference).collect(),
                        };
                        objects[i].insert(rel.name.to_string(), Value::Array(value));
                    }
                }
            }
        }
        Ok(())
    }

    /// One `$batch` of first-page reads.
    async fn read_batch(
        &self,
        cat: &'static Category,
        chunk: Vec<Planned>,
        stats: &CategoryStats,
    ) -> Result<Vec<Read>> {
        let urls: Vec<String> = chunk.iter().map(|(_, _, u)| u.clone()).collect();
        let base = chunk.iter().filter_map(|(_, r, _)| r.map(|r| r.cost)).max().unwrap_or(1);
        let links = chunk.iter().all(|(_, r, _)| r.is_some_and(|r| r.kind == RelationshipKind::Links));
        let meta = self.meta(cat, base, links, false, None, stats);
        let answers = self.client.batch_get(cat.api_version.segment(), &urls, &meta).await;
        let mut out = Vec::with_capacity(chunk.len());
        for ((i, rel, url), answer) in chunk.into_iter().zip(answers) {
            match answer {
                Ok(body) => out.push((i, rel, url, body)),
                // The object went away between the list and this read: it has no links now.
                Err(e) if e.kind() == ErrorKind::NotFound => out.push((i, rel, url, json!({"value": []}))),
                Err(e) => return Err(e),
            }
        }
        Ok(out)
    }

    /// The items of a relationship: the batched first page, then every further page.
    async fn all_items(
        &self,
        version: &str,
        rel: &Relationship,
        url: &str,
        first: Value,
        cat: &Category,
        stats: &CategoryStats,
    ) -> Result<Vec<Value>> {
        let page = crate::graph::client::into_page(first)?;
        let mut items = page.items;
        let Some(next) = page.next_link else { return Ok(items) };
        let meta = self.meta(cat, rel.cost, rel.kind == RelationshipKind::Links, false, Some(rel.page.max), stats);
        let mut pager = Pager::resume(self.client.url(version, url), next);
        while let Some(p) = pager.next(&self.client, &meta, &[]).await? {
            if pager.restarted {
                items.clear();
            }
            items.extend(p.items);
        }
        Ok(items)
    }
}

/// A reference to a linked object, as Graph writes them in `$expand` and `@delta`.
fn reference(item: &Value) -> Value {
    json!({"@odata.type": item.get("@odata.type").cloned().unwrap_or(Value::Null), "id": item.get("id").cloned().unwrap_or(Value::Null)})
}

/// Turn `$expand`ed single links into arrays of references.
fn flatten_expanded(cat: &Category, o: &mut Map<String, Value>) -> u64 {
    let mut n = 0;
    for rel in cat.relationships.iter().filter(|r| r.kind == RelationshipKind::Link) {
        let refs = match o.remove(rel.name) {
            Some(Value::Object(m)) => {
                n += 1;
                vec![reference(&Value::Object(m))]
            }
            _ => Vec::new(),
        };
        o.insert(rel.name.to_string(), Value::Array(refs));
    }
    n
}

#[async_trait::async_trait]
impl Source for GraphSource {
    /// Count the tenant's users (one request) to size the identity throttling budget.
    async fn prepare(&self) -> Result<()> {
        let stats = CategoryStats::default();
        let users = crate::catalog::get("users").expect("users is in the catalog");
        let meta = self.meta(users, 1, false, false, None, &stats);
        let url = self.client.url("v1.0", "/users/$count");
        match self.client.get_json(&url, &meta, &[("ConsistencyLevel", "eventual")]).await {
            Ok(v) => {
                if let Some(n) = v.as_u64() {
                    self.client.pacer().set_tenant_size(n as usize);
                }
                Ok(())
            }
            // Without User.Read.All the count fails; pacing then stays at the smallest quota.
            Err(e) if matches!(e.kind(), ErrorKind::Permission | ErrorKind::NotFound | ErrorKind::Graph) => Ok(()),
            Err(e) => Err(e),
        }
    }

    async fn read(&self, cat: &'static Category, out: &mpsc::Sender<Object>, stats: &CategoryStats) -> Result<()> {
        let (first, select, expand, top) = self.list_url(cat);
        let meta = self.meta(cat, cat.cost, select, expand, top, stats);
        let mut pager = Pager::new(first);
        let mut seen: HashSet<String> = HashSet::new();
        while let Some(page) =
            pager.next(&self.client, &meta, &[]).await.map_err(|e| e.context(format!("reading {}", cat.name)))?
        {
            let mut objects: Vec<Map<String, Value>> = Vec::with_capacity(page.items.len());
            for item in page.items {
                let Value::Object(mut m) = item else {
                    return Err(Error::new(
                        ErrorKind::Protocol,
                        format!("reading {}: an item was not a JSON object", cat.name),
                    ));
                };
                m.remove("@odata.context");
                // After a restart, skip what was already sent.
                let id = m
                    .get("id")
                    .or_else(|| m.get("tenantId"))
                    .and_then(Value::as_str)
                    .map_or_else(|| cat.name.to_string(), String::from);
                if !seen.insert(id) {
                    continue;
                }
                let links = flatten_expanded(cat, &mut m);
                stats.relationships.fetch_add(links, Ordering::Relaxed);
                objects.push(m);
            }
            self.complete(cat, &mut objects, stats).await.map_err(|e| e.context(format!("reading {}", cat.name)))?;
            for m in objects {
                stats.objects.fetch_add(1, Ordering::Relaxed);
                if out.send(Object::new(cat, m)).await.is_err() {
                    return Err(Error::new(ErrorKind::Cancelled, "the sink stopped taking objects"));
                }
            }
        }
        Ok(())
    }
}
