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

use super::{CategoryStats, Change, Object, Prior, ReadMode, ReadOutcome, Source};
use crate::catalog::{Category, Relationship, RelationshipKind, TenantFact, urls};
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
    tenant: Option<String>,
}

/// Where a category's objects go: the plain object stream, or the change stream of a backup.
#[derive(Clone, Copy)]
enum Out<'a> {
    Objects(&'a mpsc::Sender<Object>),
    Changes(&'a mpsc::Sender<Change>),
}

impl Out<'_> {
    async fn send(&self, object: Object, patch: bool) -> Result<()> {
        let sent = match self {
            Out::Objects(tx) => tx.send(object).await.is_ok(),
            Out::Changes(tx) => {
                tx.send(if patch { Change::Patch(object) } else { Change::Object(object) }).await.is_ok()
            }
        };
        if sent { Ok(()) } else { Err(Error::new(ErrorKind::Cancelled, "the sink stopped taking objects")) }
    }
}

/// Whether a delta link can no longer be used and the category must be read in full.
fn delta_expired(e: &Error) -> bool {
    e.graph_code().is_some_and(|c| c.eq_ignore_ascii_case("syncStateNotFound") || c == "resyncRequired")
        || e.status() == Some(410)
}

/// Whether a failed delta link is the link's fault (gone, refused, unreachable, not understood),
/// so that a full read is worth trying; not when the app, its token or the run is the cause.
fn cursor_failed(e: &Error) -> bool {
    !matches!(
        e.kind(),
        ErrorKind::Cancelled | ErrorKind::Authentication | ErrorKind::Permission | ErrorKind::ThrottlingExhausted
    )
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

impl GraphSource {
    /// Connect to a tenant with an app's credentials: a paced, retrying Graph client over HTTPS.
    /// Nothing is sent until the first read.
    pub fn connect(credentials: &Credentials, endpoints: &Endpoints, options: SourceOptions) -> Result<Self> {
        // Nothing is sent anywhere the URL policy refuses (plain http:// off this machine).
        if let Some(u) = &endpoints.graph_url {
            crate::net::check_url("the Graph URL", u)?;
        }
        if let Some(u) = &endpoints.authority_url {
            crate::net::check_url("the authority URL", u)?;
        }
        let http = crate::net::http_client()?;
        let graph_url = endpoints.graph_url.as_deref().unwrap_or(crate::graph::auth::DEFAULT_GRAPH_URL);
        let tokens = credentials.token_source(http.clone(), endpoints.authority_url.as_deref(), Some(graph_url))?;
        // The smallest tenant's quota until prepare() has counted the users.
        let client = GraphClient::new(http, graph_url, tokens, Pacer::new(0));
        let mut source = GraphSource::new(Arc::new(client), options);
        source.tenant = Some(credentials.tenant_id.clone());
        Ok(source)
    }

    /// A source over an existing client (a simulator's, a test's); no tenant id until
    /// [`GraphSource::with_tenant_id`].
    pub fn new(client: Arc<GraphClient>, options: SourceOptions) -> Self {
        GraphSource { client, options, tenant: None }
    }

    /// Say which tenant the client reads (for snapshots); [`GraphSource::connect`] sets it.
    pub fn with_tenant_id(mut self, tenant_id: impl Into<String>) -> Self {
        self.tenant = Some(tenant_id.into());
        self
    }

    /// The Graph client it reads through.
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

    /// The first URL of a category's listing (logs from `since`, or from the options' start).
    fn list_url(&self, cat: &Category, since: Option<&str>) -> (String, bool, bool, Option<u32>) {
        let since = since.map(String::from).or_else(|| self.options.logs_since.map(|t| t.to_string()));
        let list = urls::list(cat, since.as_deref());
        (self.client.url(cat.api_version.segment(), &list.path), list.select, list.expand, list.top)
    }

    /// Relationships read through their own endpoints (single links come inline with `$expand`).
    fn separate(cat: &Category) -> impl Iterator<Item = &'static Relationship> {
        cat.relationships.iter().filter(|r| r.kind != RelationshipKind::Link)
    }

    /// Read the relationships (and secrets) of a page of objects, attach them, and send each
    /// object to `out` as soon as it is complete, in page order: a page's relationships are never
    /// all held at once, only the `$batch` answers in flight and the objects not yet sent.
    /// `before_send` sees each object just before it is sent.
    #[allow(clippy::too_many_arguments)]
    async fn complete_and_send(
        &self,
        cat: &'static Category,
        objects: Vec<Map<String, Value>>,
        stats: &CategoryStats,
        prior: Option<&Prior>,
        skip_relationships: &[&str],
        out: Out<'_>,
        patch: bool,
        before_send: &mut (dyn FnMut(&Map<String, Value>) + Send),
    ) -> Result<()> {
        let version = cat.api_version.segment();
        // (object index, relationship, relative URL), in object order.
        let mut reads: Vec<Planned> = Vec::new();
        for (i, o) in objects.iter().enumerate() {
            let Some(id) = o.get("id").or_else(|| o.get("tenantId")).and_then(Value::as_str) else { continue };
            for rel in Self::separate(cat).filter(|r| !skip_relationships.contains(&r.name)) {
                reads.push((i, Some(rel), urls::relationship_list(rel, id)));
            }
            // A secret already backed up is not read (nor audited) again: BitLocker keys never change.
            let known = prior.is_some_and(|p| p.known_secrets.contains(id));
            if self.options.secrets
                && !known
                && let Some(url) = urls::secret_read(cat, id)
            {
                reads.push((i, None, url));
            }
        }
        let mut objects: Vec<Option<Map<String, Value>>> = objects.into_iter().map(Some).collect();
        let mut next = 0usize;
        let mut send_until = async |objects: &mut Vec<Option<Map<String, Value>>>, end: usize| -> Result<()> {
            while next < end {
                if let Some(m) = objects[next].take() {
                    before_send(&m);
                    stats.objects.fetch_add(1, Ordering::Relaxed);
                    out.send(Object::new(cat, m), patch).await?;
                }
                next += 1;
            }
            Ok(())
        };
        let chunks: Vec<Vec<Planned>> = reads.chunks(BATCH).map(<[Planned]>::to_vec).collect();
        drop(reads);
        // `buffered`, not `buffer_unordered`: relationships are attached in the order they were
        // planned (the catalog's), so an object's keys come in the same order in every run.
        // The futures are made up front (they do nothing until polled), as a closure inside the
        // stream would not be general enough for the async trait's `Send` bound.
        let batches: Vec<_> = chunks.into_iter().map(|chunk| self.read_batch(cat, chunk, stats)).collect();
        let mut answers = futures::stream::iter(batches).buffered(self.options.batch_concurrency.max(1));
        while let Some(chunk) = answers.next().await {
            let chunk = chunk?;
            // Reads are planned in object order: every object before the last one answered here
            // has all its reads answered (the last may have more in the next batch).
            let last = chunk.last().map(|(i, ..)| *i);
            for (i, rel, url, body) in chunk {
                let Some(object) = objects[i].as_mut() else { continue };
                match rel {
                    None => {
                        // A secret read one by one: merge its properties in.
                        if let Value::Object(m) = body {
                            for p in cat.single_get_select {
                                if let Some(v) = m.get(*p) {
                                    object.insert((*p).to_string(), v.clone());
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
                            // Each item becomes its reference in place: a group of a million
                            // members is held once, not as items and references side by side.
                            _ => items.into_iter().map(into_reference).collect(),
                        };
                        object.insert(rel.name.to_string(), Value::Array(value));
                    }
                }
            }
            if let Some(last) = last {
                send_until(&mut objects, last).await?;
            }
        }
        let end = objects.len();
        send_until(&mut objects, end).await
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
    let mut m = Map::with_capacity(2);
    m.insert("@odata.type".into(), item.get("@odata.type").cloned().unwrap_or(Value::Null));
    m.insert("id".into(), item.get("id").cloned().unwrap_or(Value::Null));
    Value::Object(m)
}

/// [`reference`], taking the item's strings rather than copying them, in a map sized for its two
/// keys (a parsed item's map has room for four).
fn into_reference(item: Value) -> Value {
    let Value::Object(mut item) = item else { return reference(&item) };
    let mut m = Map::with_capacity(2);
    m.insert("@odata.type".into(), item.remove("@odata.type").unwrap_or(Value::Null));
    m.insert("id".into(), item.remove("id").unwrap_or(Value::Null));
    Value::Object(m)
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
        let counted = Category::holding(TenantFact::Size);
        let meta = self.meta(counted, 1, false, false, None, &stats);
        let url = self.client.url(counted.api_version.segment(), &urls::count(counted));
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
        self.read_full(cat, None, None, Out::Objects(out), stats, None).await.map(drop)
    }

    /// One listing; relationships read through their own endpoints only for `ids`.
    async fn read_some(
        &self,
        cat: &'static Category,
        ids: &HashSet<String>,
        out: &mpsc::Sender<Object>,
        stats: &CategoryStats,
    ) -> Result<()> {
        self.read_full(cat, None, None, Out::Objects(out), stats, Some(ids)).await.map(drop)
    }

    async fn read_changes(
        &self,
        cat: &'static Category,
        prior: &Prior,
        out: &mpsc::Sender<Change>,
        stats: &CategoryStats,
    ) -> Result<ReadOutcome> {
        let out = Out::Changes(out);
        // Logs are append-only, but records reach Graph late: read from a while before the newest
        // record held. Records read again keep their ids, so the snapshot holds each once.
        if cat.time_property.is_some() {
            let since = prior.cursor.as_deref().and_then(|c| {
                let start = overlap_start(cat, c);
                if start.is_none() {
                    tracing::warn!(category = cat.name, "the stored log cursor is not a time; reading the log in full");
                }
                start
            });
            let newest = self.read_full(cat, Some(prior), since.as_deref(), out, stats, None).await?;
            let mode = if since.is_some() { ReadMode::Since } else { ReadMode::Full };
            let held = since.and(prior.cursor.clone());
            let cursor = match (newest, held) {
                (Some(n), Some(h)) => Some(if later(&h, &n) { h } else { n }),
                (n, h) => n.or(h),
            };
            return Ok(ReadOutcome { mode, cursor });
        }
        if cat.delta.is_some() {
            if let Some(link) = &prior.cursor {
                if !self.client.owns(link) {
                    // Issued by another Graph root (a moved simulator, another cloud): never sent
                    // this tenant's token, and says nothing about this root's state.
                    tracing::warn!(
                        category = cat.name,
                        "the stored delta link belongs to another Graph root than {}; reading the category in full",
                        self.client.graph_url()
                    );
                } else {
                    let mut sent = false;
                    match self.read_delta(cat, link, prior, out, stats, &mut sent).await {
                        Ok(next) => return Ok(ReadOutcome { mode: ReadMode::Delta, cursor: Some(next) }),
                        // Expired (Graph keeps delta state for 7 days): read everything again.
                        Err(e) if delta_expired(&e) && !sent => {
                            tracing::info!(category = cat.name, "delta link expired; reading the category in full");
                        }
                        // A link that no longer answers (gone, refused, failing) is not carried
                        // from backup to backup: a full read sets up a fresh one. Once changes
                        // of the round went to the sink, a full read would mix with them: fail.
                        Err(e) if !sent && cursor_failed(&e) => {
                            tracing::warn!(
                                category = cat.name,
                                "the stored delta link failed ({e}); reading the category in full"
                            );
                        }
                        Err(e) => return Err(e.context(format!("reading changes of {}", cat.name))),
                    }
                }
            }
            // The link is taken before the listing, so that nothing changed during it is missed
            // (a change seen twice is merged twice, to the same result).
            let cursor = if prior.want_cursor {
                Some(self.latest_delta_link(cat, stats).await.map_err(|e| e.context(format!("reading {}", cat.name)))?)
            } else {
                None
            };
            self.read_full(cat, Some(prior), None, out, stats, None).await?;
            return Ok(ReadOutcome { mode: ReadMode::Full, cursor });
        }
        self.read_full(cat, Some(prior), None, out, stats, None).await?;
        Ok(ReadOutcome { mode: ReadMode::Full, cursor: None })
    }

    fn tenant_id(&self) -> Option<String> {
        self.tenant.clone()
    }
}

impl GraphSource {
    /// List a category in full and send every object whole (with `only`, only those objects
    /// get the relationships read through their own endpoints). Returns the newest value of the
    /// category's time property (logs), for the next read's cursor.
    async fn read_full(
        &self,
        cat: &'static Category,
        prior: Option<&Prior>,
        since: Option<&str>,
        out: Out<'_>,
        stats: &CategoryStats,
        only: Option<&HashSet<String>>,
    ) -> Result<Option<String>> {
        let (first, select, expand, top) = self.list_url(cat, since);
        let mut newest: Option<String> = None;
        let meta = self.meta(cat, cat.cost, select, expand, top, stats);
        let mut pager = Pager::new(first);
        // Ids already sent, 16 bytes each (a restarted listing sends each object once).
        let mut seen = super::ids::IdSet::new();
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
                let id = m.get("id").or_else(|| m.get("tenantId")).and_then(Value::as_str).unwrap_or(cat.name);
                if !seen.insert(id) {
                    continue;
                }
                let links = flatten_expanded(cat, &mut m);
                stats.relationships.fetch_add(links, Ordering::Relaxed);
                objects.push(m);
            }
            if let Some(only) = only {
                let id_of = |m: &Map<String, Value>| m.get("id").and_then(Value::as_str).map(String::from);
                objects.retain(|m| id_of(m).is_some_and(|id| only.contains(&id)));
            }
            let mut track_newest = |m: &Map<String, Value>| {
                if let Some(t) = cat.time_property.and_then(|p| m.get(p)).and_then(Value::as_str)
                    && newest.as_deref().is_none_or(|n| later(t, n))
                {
                    newest = Some(t.to_string());
                }
            };
            self.complete_and_send(cat, objects, stats, prior, &[], out, false, &mut track_newest).await.map_err(
                |e| if e.kind() == ErrorKind::Cancelled { e } else { e.context(format!("reading {}", cat.name)) },
            )?;
        }
        Ok(newest)
    }

    /// A delta link for "now", without reading anything (`$deltatoken=latest`).
    async fn latest_delta_link(&self, cat: &'static Category, stats: &CategoryStats) -> Result<String> {
        let url = self.client.url(cat.api_version.segment(), &urls::delta_latest(cat).expect("a delta category"));
        let meta = self.meta(cat, cat.cost, true, false, None, stats);
        let page = crate::graph::client::into_page(self.client.get_json(&url, &meta, &[]).await?)?;
        page.delta_link.ok_or_else(|| {
            Error::new(ErrorKind::Protocol, format!("Graph gave no deltaLink for {} with $deltatoken=latest", cat.name))
        })
    }

    /// Follow a delta link to the end of the round: patches for new and changed objects (with the
    /// relationships delta does not track read in full), removals for the others. Returns the
    /// round's new delta link.
    async fn read_delta(
        &self,
        cat: &'static Category,
        link: &str,
        prior: &Prior,
        out: Out<'_>,
        stats: &CategoryStats,
        sent: &mut bool,
    ) -> Result<String> {
        let tracked = cat.delta.as_ref().map_or(&[][..], |d| d.tracked_relationships);
        let meta = self.meta(cat, cat.cost, true, false, None, stats);
        let mut pager = Pager::new(link.to_string());
        while let Some(page) = pager.next(&self.client, &meta, &[]).await? {
            let mut changed = Vec::new();
            for item in page.items {
                let Value::Object(mut m) = item else {
                    return Err(Error::new(ErrorKind::Protocol, "a delta item was not a JSON object"));
                };
                m.remove("@odata.context");
                if m.contains_key("@removed") {
                    let id = m.get("id").and_then(Value::as_str).unwrap_or_default().to_string();
                    let reason =
                        m.get("@removed").and_then(|r| r.get("reason")).and_then(Value::as_str).map(String::from);
                    *sent = true;
                    if let Out::Changes(tx) = out
                        && tx.send(Change::Removed { category: cat, id, reason }).await.is_err()
                    {
                        return Err(Error::new(ErrorKind::Cancelled, "the sink stopped taking objects"));
                    }
                    continue;
                }
                changed.push(m);
            }
            let mut mark_sent = |_: &Map<String, Value>| *sent = true;
            self.complete_and_send(cat, changed, stats, Some(prior), tracked, out, true, &mut mark_sent).await?;
        }
        pager.delta_link.ok_or_else(|| {
            Error::new(ErrorKind::Protocol, format!("the delta round of {} ended without a deltaLink", cat.name))
        })
    }
}

/// The overlap window of a log category: how late Graph may deliver its records, as the catalog
/// gives it (`log_latency_minutes`), two hours when it gives none.
pub(crate) fn log_overlap(cat: &Category) -> jiff::SignedDuration {
    jiff::SignedDuration::from_mins(cat.log_latency_minutes.unwrap_or(120).into())
}

/// Where an incremental read of a log starts: its overlap window before `cursor` (the newest record
/// held), or None when the cursor is not a time.
fn overlap_start(cat: &Category, cursor: &str) -> Option<String> {
    let newest: jiff::Timestamp = cursor.parse().ok()?;
    Some(newest.checked_sub(log_overlap(cat)).unwrap_or(newest).to_string())
}

/// Whether ISO 8601 time `a` is later than `b` (compared as instants when both parse).
fn later(a: &str, b: &str) -> bool {
    match (a.parse::<jiff::Timestamp>(), b.parse::<jiff::Timestamp>()) {
        (Ok(a), Ok(b)) => a > b,
        _ => a > b,
    }
}
