//! The Graph client: every request paced by its throttling family, retried where retrying is right
//! (429 with Retry-After, 503/504/500, dropped connections, truncated bodies), refreshed on 401, and
//! bounded in total time. Paging follows `@odata.nextLink` verbatim; `$batch` sends up to 20 reads
//! at once and retries the ones throttled inside the envelope.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use serde_json::{Map, Value, json};

use super::auth::TokenSource;
use super::pacing::Pacer;
use crate::catalog::ThrottleFamily;
use crate::error::{Error, ErrorKind, Result};

/// Counters of one category's requests, shared with whoever shows progress.
#[derive(Debug, Default)]
pub struct RequestStats {
    /// HTTP requests sent (a `$batch` envelope is one).
    pub requests: AtomicU64,
    /// `$batch` envelopes sent (each also counts in `requests`).
    pub batches: AtomicU64,
    /// Graph requests inside `$batch` envelopes.
    pub batched: AtomicU64,
    /// 429 responses (top-level or inside a batch).
    pub throttled: AtomicU64,
    /// Requests sent again after a transient failure or a 429.
    pub retries: AtomicU64,
    /// Resource units Graph charged (`x-ms-resource-unit`), or our estimate where it said nothing.
    pub resource_units: AtomicU64,
}

impl RequestStats {
    fn add(&self, field: &AtomicU64, n: u64) {
        field.fetch_add(n, Ordering::Relaxed);
    }
}

/// What a request is, for pacing and accounting.
#[derive(Debug, Clone)]
pub struct RequestMeta {
    /// The throttling family whose pace the request waits for.
    pub family: ThrottleFamily,
    /// Estimated cost in the family's units (resource units for identity, 1 elsewhere).
    pub cost: u32,
    /// Where its counts go.
    pub stats: Arc<RequestStats>,
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Transient failures (5xx, dropped connections) retried at most this often per request.
    pub max_retries: u32,
    /// Give up on one request after this long, throttling waits included.
    pub max_elapsed: Duration,
    /// First backoff; doubled each time, with full jitter, up to `max_backoff`.
    pub base_backoff: Duration,
    /// The longest backoff between two tries.
    pub max_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 8,
            max_elapsed: Duration::from_secs(15 * 60),
            base_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(30),
        }
    }
}

/// One page of a listing.
#[derive(Debug)]
pub struct Page {
    /// The page's items (`value`), or the one object of a singleton.
    pub items: Vec<Value>,
    /// `@odata.nextLink`: where the next page is; `None` on the last page.
    pub next_link: Option<String>,
    /// `@odata.deltaLink`: given on the last page of a delta round, where the next round starts.
    pub delta_link: Option<String>,
}

/// A Graph client for one tenant.
#[derive(Debug)]
pub struct GraphClient {
    http: reqwest::Client,
    graph_url: String,
    tokens: Arc<dyn TokenSource>,
    pacer: Pacer,
    retry: RetryPolicy,
    jitter: AtomicU64,
}

/// `Retry-After` in seconds (Graph sends whole seconds).
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers.get("retry-after")?.to_str().ok()?.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Graph's error body: (code, message).
pub fn graph_error(body: &Value) -> (Option<String>, String) {
    let e = &body["error"];
    let code = e["code"].as_str().map(String::from);
    let message = e["message"].as_str().unwrap_or("no error message").to_string();
    (code, message)
}

/// The error kind for a final (not retried) status.
fn kind_of(status: u16) -> ErrorKind {
    match status {
        401 => ErrorKind::Authentication,
        403 => ErrorKind::Permission,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::ThrottlingExhausted,
        _ => ErrorKind::Graph,
    }
}

enum Attempt {
    Done(Value),
    /// Retry after this long (None: our own backoff). `throttled` marks a 429.
    Retry {
        after: Option<Duration>,
        throttled: bool,
        why: String,
    },
    Refresh,
    Fail(Error),
}

impl GraphClient {
    /// A client for `graph_url` (`https://graph.microsoft.com`, a national cloud, or a simulator).
    pub fn new(http: reqwest::Client, graph_url: &str, tokens: Arc<dyn TokenSource>, pacer: Pacer) -> Self {
        GraphClient {
            http,
            graph_url: graph_url.trim_end_matches('/').to_string(),
            tokens,
            pacer,
            retry: RetryPolicy::default(),
            jitter: AtomicU64::new(0x9E37_79B9_7F4A_7C15 ^ u64::from(std::process::id())),
        }
    }

    /// Replace the default [`RetryPolicy`].
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// `https://graph.microsoft.com` (no version).
    pub fn graph_url(&self) -> &str {
        &self.graph_url
    }

    /// Fetch a token now (or find one cached): whether these credentials can sign in, before
    /// anything depends on it. The error is the identity platform's, without the secret.
    pub async fn sign_in(&self) -> Result<()> {
        self.tokens.token().await.map(|_| ())
    }

    /// The pacer its requests wait for.
    pub fn pacer(&self) -> &Pacer {
        &self.pacer
    }

    /// The absolute URL of a path under a version (`v1.0`, `/users?$top=999`).
    pub fn url(&self, version: &str, path_and_query: &str) -> String {
        format!("{}/{version}{path_and_query}", self.graph_url)
    }

    /// Whether `url` is under this client's Graph root (same scheme, host and port): a link or a
    /// stored delta cursor from another server is not followed with this tenant's token.
    pub fn owns(&self, url: &str) -> bool {
        match (url::Url::parse(&self.graph_url), url::Url::parse(url)) {
            (Ok(root), Ok(u)) => crate::net::same_origin(&root, &u),
            _ => false,
        }
    }

    /// Refuse, before sending the token, a URL the policy forbids or another origin's.
    fn check_target(&self, url: &str) -> Result<()> {
        crate::net::check_url("the Graph URL", &self.graph_url)?;
        if !self.owns(url) {
            let origin =
                url::Url::parse(url).map_or_else(|_| "an unparsable URL".into(), |u| u.origin().ascii_serialization());
            return Err(Error::new(
                ErrorKind::Protocol,
                format!(
                    "refusing to send this tenant's token to {origin}: it is not the Graph root {}",
                    self.graph_url
                ),
            ));
        }
        Ok(())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        // Full jitter: a uniform wait in [0, min(max, base * 2^attempt)].
        let cap = self.retry.base_backoff.saturating_mul(1u32 << attempt.min(16)).min(self.retry.max_backoff);
        let mut x = self.jitter.fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed);
        x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let unit = (x >> 11) as f64 / (1u64 << 53) as f64;
        cap.mul_f64(0.5 + unit / 2.0)
    }

    /// GET a URL (absolute, as Graph's links are) and return its JSON.
    pub async fn get_json(&self, url: &str, meta: &RequestMeta, headers: &[(&str, &str)]) -> Result<Value> {
        self.send(reqwest::Method::GET, url, None, meta, headers).await
    }

    async fn send(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        meta: &RequestMeta,
        headers: &[(&str, &str)],
    ) -> Result<Value> {
        self.check_target(url)?;
        let started = tokio::time::Instant::now();
        let mut transient = 0u32;
        let mut refreshed = false;
        loop {
            self.pacer.acquire(meta.family, meta.cost).await;
            let attempt = self.attempt(method.clone(), url, body, meta, headers).await;
            let (after, throttled, why) = match attempt {
                Attempt::Done(v) => return Ok(v),
                Attempt::Fail(e) => return Err(e),
                Attempt::Refresh if !refreshed => {
                    refreshed = true;
                    self.tokens.invalidate();
                    meta.stats.add(&meta.stats.retries, 1);
                    continue;
                }
                Attempt::Refresh => {
                    return Err(Error::graph(
                        ErrorKind::Authentication,
                        401,
                        Some("InvalidAuthenticationToken".into()),
                        format!("Graph refused a fresh token for {url}"),
                    ));
                }
                Attempt::Retry { after, throttled, why } => (after, throttled, why),
            };
            if throttled {
                meta.stats.add(&meta.stats.throttled, 1);
                self.pacer.throttled(meta.family, after);
            } else if method == reqwest::Method::POST && !url.ends_with(crate::catalog::urls::BATCH) {
                // A create that failed on the way may have been carried out: never send it twice.
                return Err(Error::new(ErrorKind::Network, format!("{why} (a POST is not sent twice)")));
            } else {
                transient += 1;
                if transient > self.retry.max_retries {
                    return Err(Error::new(
                        ErrorKind::Network,
                        format!("{why} (gave up after {} retries)", transient - 1),
                    ));
                }
            }
            // A throttled request waits its Retry-After itself (the pacer also pauses the rest of
            // its family); without one, backoff.
            let wait = after.unwrap_or_else(|| self.backoff(transient.max(1)));
            if started.elapsed() + wait > self.retry.max_elapsed {
                let kind = if throttled { ErrorKind::ThrottlingExhausted } else { ErrorKind::Network };
                return Err(Error::new(kind, format!("{why}; gave up after {:?}", started.elapsed())));
            }
            meta.stats.add(&meta.stats.retries, 1);
            tokio::time::sleep(wait).await;
        }
    }

    async fn attempt(
        &self,
        method: reqwest::Method,
        url: &str,
        body: Option<&Value>,
        meta: &RequestMeta,
        headers: &[(&str, &str)],
    ) -> Attempt {
        let token = match self.tokens.token().await {
            Ok(t) => t,
            Err(e) => return Attempt::Fail(e),
        };
        let method_name = method.to_string();
        let mut req = self.http.request(method, url).bearer_auth(token.secret());
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        meta.stats.add(&meta.stats.requests, 1);
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) if e.is_redirect() => {
                let why = std::error::Error::source(&e).map_or_else(|| e.to_string(), ToString::to_string);
                return Attempt::Fail(Error::new(ErrorKind::Protocol, format!("{method_name} {url}: {why}")));
            }
            Err(e) => {
                return Attempt::Retry { after: None, throttled: false, why: format!("request to {url} failed: {e}") };
            }
        };
        let status = resp.status().as_u16();
        let after = retry_after(resp.headers());
        let ru =
            resp.headers().get("x-ms-resource-unit").and_then(|v| v.to_str().ok()).and_then(|v| v.parse::<u32>().ok());
        if let Some(ru) = ru {
            self.pacer.settle(meta.family, meta.cost, ru);
        }
        meta.stats.add(&meta.stats.resource_units, u64::from(ru.unwrap_or(meta.cost)));
        // A body cut short or a dropped connection shows up here: retry, it is a GET.
        let bytes = match resp.bytes().await {
            Ok(b) => b,
            Err(e) => {
                return Attempt::Retry { after: None, throttled: false, why: format!("reading {url} failed: {e}") };
            }
        };
        let parsed: Option<Value> =
            if bytes.is_empty() { Some(Value::Null) } else { serde_json::from_slice(&bytes).ok() };
        match status {
            200..=299 => match parsed {
                Some(v) => Attempt::Done(v),
                // A 200 whose body does not parse was truncated on the way.
                None => {
                    Attempt::Retry { after: None, throttled: false, why: format!("{url} returned a malformed body") }
                }
            },
            401 => Attempt::Refresh,
            429 => Attempt::Retry { after, throttled: true, why: format!("{url} was throttled (429)") },
            500 | 502 | 503 | 504 => {
                Attempt::Retry { after, throttled: false, why: format!("{url} answered {status}") }
            }
            _ => {
                let (code, message) = parsed.as_ref().map(graph_error).unwrap_or((None, "no error body".into()));
                Attempt::Fail(Error::graph(
                    kind_of(status),
                    status,
                    code,
                    format!("{method_name} {url}: {status}: {message}"),
                ))
            }
        }
    }

    /// Send one write (`POST`, `PATCH`, `PUT`, `DELETE`) with a JSON body; returns the answer's
    /// JSON (`null` for 204). Throttled requests wait and are sent again; a `POST` is not sent
    /// again after a 5xx (it may have been carried out), the others are.
    pub async fn write_json(&self, method: &str, url: &str, body: Option<&Value>, meta: &RequestMeta) -> Result<Value> {
        let method = reqwest::Method::from_bytes(method.as_bytes())
            .map_err(|_| Error::invalid_input(format!("`{method}` is not an HTTP method")))?;
        if method != reqwest::Method::GET {
            self.pacer.acquire_writes(meta.family, 1).await;
        }
        self.send(method, url, body, meta, &[]).await
    }

    /// Send up to 20 GETs in one `$batch` (relative URLs such as `/groups/{id}/members`). Returns
    /// each request's body or error in order. Requests throttled inside the envelope wait and are
    /// sent again alone, in a later batch.
    pub async fn batch_get(&self, version: &str, urls: &[String], meta: &RequestMeta) -> Vec<Result<Value>> {
        let requests: Vec<BatchRequest> =
            urls.iter().map(|u| BatchRequest { method: "GET", url: u.clone(), body: None }).collect();
        self.batch(version, &requests, meta).await
    }

    /// Send up to 20 requests (reads or writes) in one `$batch`; each answer or error in order.
    /// Requests throttled inside the envelope (not carried out) are sent again in a later batch, as
    /// are reads and idempotent writes that met a 5xx; a `POST` that met a 5xx is reported failed.
    pub async fn batch(&self, version: &str, reqs: &[BatchRequest], meta: &RequestMeta) -> Vec<Result<Value>> {
        let urls: Vec<String> = reqs.iter().map(|r| r.url.clone()).collect();
        let mut results: Vec<Option<Result<Value>>> = (0..urls.len()).map(|_| None).collect();
        let mut pending: Vec<usize> = (0..urls.len()).collect();
        let mut rounds = 0u32;
        let started = tokio::time::Instant::now();
        while !pending.is_empty() {
            rounds += 1;
            let requests: Vec<Value> = pending
                .iter()
                .map(|i| {
                    let r = &reqs[*i];
                    let mut v = json!({"id": i.to_string(), "method": r.method, "url": r.url});
                    if let Some(b) = &r.body {
                        v["body"] = b.clone();
                        v["headers"] = json!({"Content-Type": "application/json"});
                    }
                    v
                })
                .collect();
            let writes = pending.iter().filter(|i| reqs[**i].method != "GET").count() as u32;
            if writes > 0 {
                self.pacer.acquire_writes(meta.family, writes).await;
            }
            let cost = meta.cost * pending.len() as u32;
            let envelope = RequestMeta { family: meta.family, cost, stats: meta.stats.clone() };
            meta.stats.add(&meta.stats.batched, pending.len() as u64);
            meta.stats.add(&meta.stats.batches, 1);
            let url = self.url(version, crate::catalog::urls::BATCH);
            let body = match self
                .send(reqwest::Method::POST, &url, Some(&json!({"requests": requests})), &envelope, &[])
                .await
            {
                Ok(b) => b,
                Err(e) => {
                    let msg = e.to_string();
                    for i in pending.drain(..) {
                        results[i] = Some(Err(Error::new(e.kind(), msg.clone())));
                    }
                    break;
                }
            };
            let mut again = Vec::new();
            let mut pause: Option<Duration> = None;
            for r in body["responses"].as_array().into_iter().flatten() {
                let Some(i) = r["id"].as_str().and_then(|s| s.parse::<usize>().ok()).filter(|i| *i < urls.len()) else {
                    continue;
                };
                let status = r["status"].as_u64().unwrap_or(0) as u16;
                let after = r["headers"]
                    .as_object()
                    .and_then(|h| h.iter().find(|(k, _)| k.eq_ignore_ascii_case("retry-after")))
                    .and_then(|(_, v)| v.as_str().and_then(|s| s.parse::<u64>().ok()).or(v.as_u64()))
                    .map(Duration::from_secs);
                let retryable = status == 429 || reqs[i].method != "POST";
                match status {
                    200..=299 => results[i] = Some(Ok(r.get("body").cloned().unwrap_or(Value::Null))),
                    429 | 500 | 502 | 503 | 504
                        if retryable
                            && rounds <= self.retry.max_retries + 1
                            && started.elapsed() < self.retry.max_elapsed =>
                    {
                        if status == 429 {
                            meta.stats.add(&meta.stats.throttled, 1);
                            self.pacer.throttled(meta.family, after);
                        }
                        pause = pause.max(after);
                        meta.stats.add(&meta.stats.retries, 1);
                        again.push(i);
                    }
                    _ => {
                        let (code, message) = graph_error(r.get("body").unwrap_or(&Value::Null));
                        let e = Error::graph(
                            kind_of(status),
                            status,
                            code,
                            format!("{} {}: {status}: {message}", reqs[i].method, urls[i]),
                        );
                        results[i] = Some(Err(e));
                    }
                }
            }
            // Anything the envelope left out is sent again too.
            for i in pending.iter().copied() {
                if results[i].is_none() && !again.contains(&i) {
                    again.push(i);
                }
            }
            if !again.is_empty() {
                tokio::time::sleep(pause.unwrap_or_else(|| self.backoff(rounds))).await;
            }
            pending = again;
        }
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|| Err(Error::new(ErrorKind::Protocol, "no response in the batch"))))
            .collect()
    }
}

/// One request of a `$batch`: a method, a URL relative to the version root, and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct BatchRequest {
    /// `GET`, `POST`, `PATCH`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// Relative to the version root, with its query: `/users/{id}?$select=id`.
    pub url: String,
    /// The JSON body, if any.
    pub body: Option<Value>,
}

/// A cursor over the pages of a listing: follows `@odata.nextLink` verbatim, and restarts from the
/// first URL when Graph says a page token expired (`Directory_ExpiredPageToken`), at most five
/// times. After a restart, [`Pager::restarted`] is true for one page, so the caller can skip what
/// it has already seen.
#[derive(Debug)]
pub struct Pager {
    first: String,
    next: Option<String>,
    restarts: u32,
    /// The listing started over before this page.
    pub restarted: bool,
    /// The deltaLink of the last page of a delta round.
    pub delta_link: Option<String>,
}

impl Pager {
    /// A listing starting at `first`, an absolute URL.
    pub fn new(first: impl Into<String>) -> Self {
        let first = first.into();
        Pager { next: Some(first.clone()), first, restarts: 0, restarted: false, delta_link: None }
    }

    /// Continue a listing at `next` (its first page was read elsewhere, in a `$batch`). A restart
    /// goes back to `first`.
    pub fn resume(first: impl Into<String>, next: impl Into<String>) -> Self {
        Pager { next: Some(next.into()), first: first.into(), restarts: 0, restarted: false, delta_link: None }
    }

    /// The next page, or None after the last.
    pub async fn next(
        &mut self,
        client: &GraphClient,
        meta: &RequestMeta,
        headers: &[(&str, &str)],
    ) -> Result<Option<Page>> {
        self.restarted = false;
        loop {
            let Some(url) = self.next.clone() else { return Ok(None) };
            match client.get_json(&url, meta, headers).await {
                Ok(body) => {
                    let page = into_page(body)?;
                    self.next = page.next_link.clone();
                    if page.delta_link.is_some() {
                        self.delta_link = page.delta_link.clone();
                    }
                    return Ok(Some(page));
                }
                Err(e) if e.graph_code() == Some("Directory_ExpiredPageToken") && self.restarts < 5 => {
                    self.restarts += 1;
                    self.restarted = true;
                    meta.stats.add(&meta.stats.retries, 1);
                    self.next = Some(self.first.clone());
                }
                Err(e) => return Err(e),
            }
        }
    }
}

/// Split a collection response into its items and links.
pub fn into_page(body: Value) -> Result<Page> {
    let Value::Object(mut m) = body else {
        return Err(Error::new(ErrorKind::Protocol, "a Graph collection response was not a JSON object"));
    };
    let link = |m: &mut Map<String, Value>, k: &str| m.remove(k).and_then(|v| v.as_str().map(String::from));
    let next_link = link(&mut m, "@odata.nextLink");
    let delta_link = link(&mut m, "@odata.deltaLink");
    let items = match m.remove("value") {
        Some(Value::Array(items)) => items,
        // A singleton (a policy at a fixed path) is one object.
        None => vec![Value::Object(m)],
        Some(_) => return Err(Error::new(ErrorKind::Protocol, "a Graph collection's 'value' was not an array")),
    };
    Ok(Page { items, next_link, delta_link })
}
