//! The HTTP face of the simulator: Graph under `/v1.0` and `/beta`, the token endpoint under
//! `/{tenant}/oauth2/v2.0/token`, latency and injected faults.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::errors::GraphResponse;
use super::faults::Fault;
use super::handler::{dispatch, expired_page_token};
use super::protocol::GraphRequest;
use super::token::{Grant, TokenProblem};
use super::{ChurnReport, SimConfig, SimState, Tenant, auth, batch};

/// A running simulator: its URL, its ground truth, and a way to stop it.
pub struct SimServer {
    state: Arc<SimState>,
    url: String,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimServer").field("url", &self.url).finish_non_exhaustive()
    }
}

impl SimServer {
    /// Generate the tenant and serve it on 127.0.0.1 at a free port.
    pub async fn start(config: SimConfig) -> std::io::Result<SimServer> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Generate the tenant and serve it on `addr` (port 0 picks a free port).
    pub async fn start_on(config: SimConfig, addr: SocketAddr) -> std::io::Result<SimServer> {
        let listener = TcpListener::bind(addr).await?;
        let state = SimState::new(config);
        Ok(Self::serve(state, listener))
    }

    /// Serve an existing state on a bound listener.
    pub fn serve(state: Arc<SimState>, listener: TcpListener) -> SimServer {
        let addr = listener.local_addr().expect("a bound listener has an address");
        let url = format!("http://{addr}");
        let app = Router::new().fallback(handle).with_state(state.clone());
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        SimServer { state, url, addr, stop: Some(stop), task: Some(task) }
    }

    /// `http://127.0.0.1:PORT`: the Graph root is `{url}/v1.0`, the authority is `{url}`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Graph base URL: `{url}/v1.0`.
    pub fn graph_url(&self) -> String {
        format!("{}/v1.0", self.url)
    }

    /// The simulated tenant's id (a GUID).
    pub fn tenant_id(&self) -> String {
        self.state.tenant_id()
    }

    /// The shared state: ground truth, clock, tokens.
    pub fn state(&self) -> &Arc<SimState> {
        &self.state
    }

    /// Read the ground truth.
    pub fn tenant(&self) -> std::sync::RwLockReadGuard<'_, Tenant> {
        self.state.tenant()
    }

    /// Change the ground truth.
    pub fn tenant_mut(&self) -> std::sync::RwLockWriteGuard<'_, Tenant> {
        self.state.tenant_mut()
    }

    /// Change about `fraction` of the big directory categories, deterministically from `seed`,
    /// dated by the simulator's clock (see [`churn`](super::churn::churn)).
    pub fn churn(&self, fraction: f64, seed: u64) -> ChurnReport {
        let now = self.state.clock.now();
        super::churn::churn(&mut self.state.tenant_mut(), now, fraction, seed)
    }

    /// Hold back every request whose path contains `path_contains` (case-insensitively) until
    /// the returned [`Hold`](crate::Hold) is released or dropped: a test that must act while a
    /// client is still reading holds one of the client's requests, rather than hoping the client
    /// is slow enough.
    pub fn hold(&self, path_contains: &str) -> crate::Hold {
        crate::Hold::new(self.state.holds.add(path_contains))
    }

    /// Stop serving and wait for open connections to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// The URL clients reached us at, for links: the Host header, and the scheme a TLS front
/// (X-Forwarded-Proto) says it terminated.
fn base_url(headers: &HeaderMap) -> String {
    let scheme = match headers.get("x-forwarded-proto").and_then(|h| h.to_str().ok()) {
        Some("https") => "https",
        _ => "http",
    };
    match headers.get("host").and_then(|h| h.to_str().ok()) {
        Some(host) => format!("{scheme}://{host}"),
        None => format!("{scheme}://localhost"),
    }
}

async fn handle(
    State(state): State<Arc<SimState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !state.config.latency.is_zero() {
        tokio::time::sleep(state.config.latency).await;
    }
    state.holds.wait(uri.path()).await;
    let base = base_url(&headers);
    let path = uri.path();
    let query = uri.query().unwrap_or("");
    let request_id = state.next_request_id();
    let client_request_id = headers
        .get("client-request-id")
        .and_then(|v| v.to_str().ok())
        .map(String::from)
        .unwrap_or_else(|| request_id.clone());

    let segs: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let mut resp = match segs.as_slice() {
        [tenant, "oauth2", "v2.0", "token"] if method == Method::POST => {
            let form: Vec<(String, String)> =
                url::form_urlencoded::parse(&body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
            auth::token(&state, tenant, &form, &base)
        }
        [_tenant, "v2.0", ".well-known", "openid-configuration"] => {
            GraphResponse::ok(auth::openid_configuration(&state, &base))
        }
        ["common", "discovery", "instance"] => GraphResponse::ok(auth::instance_discovery(&state, &base)),
        ["_sim", "churn"] => churn_route(&state, &method, query),
        ["_sim", "delete"] => delete_route(&state, &method, query),
        // What each app (client id) sent: requests, writes admitted, 429s.
        ["_sim", "apps"] => GraphResponse::ok(serde_json::json!(state.app_usage())),
        ["_sim", rest @ ..] => ground_truth(&state, rest),
        [version @ ("v1.0" | "beta"), ..] => {
            let graph_path = &path[version.len() + 1..];
            let graph_path = if graph_path.is_empty() { "/" } else { graph_path };
            match graph(&state, &method, version, graph_path, query, &headers, &body, &base) {
                Ok(r) => r,
                Err(fault) => return fault_response(fault, &request_id),
            }
        }
        _ => GraphResponse::error(
            404,
            "BadRequest",
            format!("Invalid version or path: '{path}'. Graph is served under /v1.0 and /beta."),
        ),
    };
    let date = state.clock.now().to_string();
    resp.stamp(&request_id, &client_request_id, &date);
    to_http(resp, &request_id, &client_request_id)
}

/// `POST /_sim/churn?fraction=0.01&seed=7`: churn the live tenant under its write lock and answer
/// the [`ChurnReport`]. Both parameters are required; `fraction` is a share in (0, 1].
fn churn_route(state: &SimState, method: &Method, query: &str) -> GraphResponse {
    if *method != Method::POST {
        return GraphResponse::error(405, "BadRequest", "/_sim/churn takes POST.");
    }
    let mut fraction = None;
    let mut seed = None;
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "fraction" => match v.parse::<f64>() {
                Ok(f) if f.is_finite() && f > 0.0 && f <= 1.0 => fraction = Some(f),
                _ => {
                    return GraphResponse::bad_request(
                        "BadRequest",
                        format!("Bad fraction '{v}': expected a number greater than 0 and at most 1, such as 0.01."),
                    );
                }
            },
            "seed" => match v.parse::<u64>() {
                Ok(s) => seed = Some(s),
                Err(_) => {
                    return GraphResponse::bad_request(
                        "BadRequest",
                        format!("Bad seed '{v}': expected a whole number from 0 to {}.", u64::MAX),
                    );
                }
            },
            other => {
                return GraphResponse::bad_request(
                    "BadRequest",
                    format!("Unknown parameter '{other}': /_sim/churn takes fraction and seed."),
                );
            }
        }
    }
    let (Some(fraction), Some(seed)) = (fraction, seed) else {
        return GraphResponse::bad_request(
            "BadRequest",
            "/_sim/churn needs both parameters: POST /_sim/churn?fraction=0.01&seed=7.",
        );
    };
    let now = state.clock.now();
    let report = super::churn::churn(&mut state.tenant_mut(), now, fraction, seed);
    match serde_json::to_value(&report) {
        Ok(v) => GraphResponse::ok(v),
        Err(e) => GraphResponse::error(500, "generalException", format!("Could not write the churn report: {e}")),
    }
}

/// `POST /_sim/delete?category=users&count=10000&hard=false`: delete up to `count` objects that a
/// restore can bring back (cloud-only; for groups, neither dynamic nor mail-enabled security groups
/// or distribution lists), in id order, without spending the write quota: into the recycle bin, or
/// for good with `hard=true`. Answers `{"deleted": [ids]}`. For benchmarks of restore.
fn delete_route(state: &SimState, method: &Method, query: &str) -> GraphResponse {
    if *method != Method::POST {
        return GraphResponse::error(405, "BadRequest", "/_sim/delete takes POST.");
    }
    let (mut category, mut count, mut hard) = (None, None, false);
    for (k, v) in url::form_urlencoded::parse(query.as_bytes()) {
        match k.as_ref() {
            "category" if v == "users" || v == "groups" => category = Some(v.into_owned()),
            "count" => count = v.parse::<usize>().ok(),
            "hard" => hard = v == "true",
            _ => {
                return GraphResponse::bad_request(
                    "BadRequest",
                    format!("Bad parameter '{k}={v}': /_sim/delete takes category (users or groups), count and hard."),
                );
            }
        }
    }
    let (Some(category), Some(count)) = (category, count) else {
        return GraphResponse::bad_request("BadRequest", "/_sim/delete needs category and count.");
    };
    let now = state.clock.now();
    let mut t = state.tenant_mut();
    let restorable = |o: &serde_json::Map<String, serde_json::Value>| {
        let flag = |k: &str| o.get(k).and_then(serde_json::Value::as_bool).unwrap_or(false);
        let types: Vec<&str> =
            o.get("groupTypes").and_then(|v| v.as_array()).into_iter().flatten().filter_map(|v| v.as_str()).collect();
        !flag("onPremisesSyncEnabled")
            && !types.contains(&"DynamicMembership")
            && (!flag("mailEnabled") || types.contains(&"Unified"))
    };
    let ids: Vec<String> =
        t.objects(&category).filter(|o| restorable(&o.json)).take(count).map(|o| o.id().to_string()).collect();
    let failed = t.removing_many(|t| {
        for id in &ids {
            let done = if hard {
                t.remove(&category, id, super::tenant::Removal::Deleted).map(drop)
            } else {
                t.soft_delete(&category, id, now)
            };
            if let Err(e) = done {
                return Some(format!("Could not delete {id}: {e}"));
            }
        }
        None
    });
    if let Some(why) = failed {
        return GraphResponse::error(500, "generalException", why);
    }
    GraphResponse::ok(serde_json::json!({ "deleted": ids }))
}

/// `/_sim/...`: the ground truth, for tests in other processes (not part of Graph).
/// `/_sim/summary`: tenant id and object counts per category;
/// `/_sim/objects/{category}`: every object with every property;
/// `/_sim/links/{category}/{id}/{relationship}`: the link targets;
/// `/_sim/pages`: per category, objects and the fewest list and relationship pages that read them;
/// `POST /_sim/churn?fraction=..&seed=..`: see [`churn_route`].
fn ground_truth(state: &SimState, rest: &[&str]) -> GraphResponse {
    let t = state.tenant();
    match rest {
        ["summary"] => {
            let counts: serde_json::Map<String, Value> = entra_backup::catalog::all()
                .iter()
                .map(|c| (c.name.to_string(), Value::from(t.count(c.name))))
                .collect();
            GraphResponse::ok(serde_json::json!({"tenantId": t.tenant_id, "domain": t.domain, "counts": counts}))
        }
        ["pages"] => {
            // The fewest requests that read everything a backup reads: every listing at its largest
            // page, plus every relationship read through its own endpoint (single links come with
            // $expand and cost nothing more).
            let mut out = serde_json::Map::new();
            for c in entra_backup::catalog::all() {
                let n = t.count(c.name);
                let list = if c.shape == entra_backup::catalog::Shape::Singleton {
                    1
                } else {
                    n.div_ceil(c.page.max as usize).max(1)
                };
                let mut rel_pages = 0usize;
                for o in t.objects(c.name) {
                    for r in c.relationships.iter().filter(|r| r.kind != entra_backup::catalog::RelationshipKind::Link)
                    {
                        let len = match r.kind {
                            entra_backup::catalog::RelationshipKind::Contained => {
                                o.children.get(r.name).map_or(0, Vec::len)
                            }
                            _ => o.links(r.name).len(),
                        };
                        rel_pages += len.div_ceil(r.page.max as usize).max(1);
                    }
                }
                out.insert(
                    c.name.to_string(),
                    serde_json::json!({"objects": n, "listPages": list, "relationshipPages": rel_pages}),
                );
            }
            GraphResponse::ok(Value::Object(out))
        }
        ["objects", category] => match t.store(category) {
            Some(store) => GraphResponse::ok(Value::Array(
                store.entries_after(None).map(|(_, e)| Value::Object(e.json())).collect(),
            )),
            None => GraphResponse::not_found(category),
        },
        ["links", category, id, rel] => match t.get(category, id) {
            Some(o) => GraphResponse::ok(Value::Array(
                o.links(rel).iter().map(|r| serde_json::json!({"category": r.category, "id": r.id})).collect(),
            )),
            None => GraphResponse::not_found(id),
        },
        _ => GraphResponse::error(
            404,
            "BadRequest",
            "Unknown /_sim endpoint: use summary, pages, objects/{category}, links/{category}/{id}/{relationship} \
             or POST churn?fraction=0.01&seed=7.",
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn graph(
    state: &SimState,
    method: &Method,
    version: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    base: &str,
) -> Result<GraphResponse, Fault> {
    let authz = headers.get("authorization").and_then(|v| v.to_str().ok());
    let grant = match state.tokens.check(authz) {
        Ok(g) => g,
        Err(problem) => {
            let msg = match problem {
                TokenProblem::Missing => "Access token is empty.",
                TokenProblem::Invalid => "Access token validation failure. Invalid audience.",
                TokenProblem::Expired => "Lifetime validation failed, the token is expired.",
            };
            return Ok(GraphResponse::error(401, "InvalidAuthenticationToken", msg).header(
                "WWW-Authenticate",
                format!("Bearer realm=\"\", authorization_uri=\"{base}/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\""),
            ));
        }
    };
    // Throttling counts against the app the token was issued to.
    super::throttle::as_app(&grant.app_id, || {
        graph_as_app(state, method, version, path, query, headers, body, base, &grant)
    })
}

#[allow(clippy::too_many_arguments)]
fn graph_as_app(
    state: &SimState,
    method: &Method,
    version: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &Bytes,
    base: &str,
    grant: &Grant,
) -> Result<GraphResponse, Fault> {
    let has_page_token = query.contains("skiptoken=") || query.contains("deltatoken=");
    if let Some(fault) = state.faults.draw(has_page_token) {
        if fault == Fault::ExpiredPageToken {
            return Ok(expired_page_token());
        }
        return Err(fault);
    }
    let json_body: Option<Value> = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => Some(v),
            Err(e) => {
                return Ok(GraphResponse::bad_request(
                    "BadRequest",
                    format!("Unable to read JSON request payload: {e}"),
                ));
            }
        }
    };
    if path.trim_matches('/') == "$batch" {
        if *method != Method::POST {
            return Ok(GraphResponse::error(405, "BadRequest", "$batch takes POST."));
        }
        return Ok(batch::batch(state, version, json_body.as_ref(), grant, base));
    }
    let header_list: Vec<(String, String)> =
        headers.iter().map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or_default().to_string())).collect();
    let req = GraphRequest {
        method: method.as_str(),
        version,
        path,
        query,
        headers: &header_list,
        body: json_body.as_ref(),
        grant,
        base,
    };
    Ok(dispatch(state, &req))
}

const JSON_CONTENT_TYPE: &str =
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

fn to_http(resp: GraphResponse, request_id: &str, client_request_id: &str) -> Response {
    let body = match &resp.body {
        Some(v) => Body::from(serde_json::to_vec(v).unwrap_or_default()),
        None => Body::empty(),
    };
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(resp.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    if resp.body.is_some() {
        h.insert("content-type", HeaderValue::from_static(JSON_CONTENT_TYPE));
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("request-id", v);
    }
    if let Ok(v) = HeaderValue::from_str(client_request_id) {
        h.insert("client-request-id", v);
    }
    for (k, v) in resp.headers {
        if let (Ok(k), Ok(v)) = (axum::http::HeaderName::try_from(k), HeaderValue::from_str(&v)) {
            h.insert(k, v);
        }
    }
    r
}

fn fault_response(fault: Fault, request_id: &str) -> Response {
    let resp = match fault {
        Fault::InternalError => GraphResponse::error(500, "generalException", "An internal server error occurred."),
        Fault::Unavailable => {
            GraphResponse::error(503, "serviceNotAvailable", "The service is temporarily unavailable.")
                .header("Retry-After", "1")
        }
        Fault::GatewayTimeout => GraphResponse::error(504, "UnknownError", "The gateway timed out."),
        Fault::Reset | Fault::Truncated => {
            // Announce a whole body, then break the connection (after half of it for a truncation).
            let full = serde_json::to_vec(
                &serde_json::json!({"value": [{"id": request_id}], "@odata.nextLink": "x".repeat(64)}),
            )
            .unwrap_or_default();
            let cut = if fault == Fault::Truncated { full.len() / 2 } else { 0 };
            let head = Bytes::copy_from_slice(&full[..cut]);
            let stream = futures::stream::iter(vec![
                Ok::<Bytes, std::io::Error>(head),
                Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "injected fault")),
            ]);
            let mut r = Response::new(Body::from_stream(stream));
            r.headers_mut().insert("content-type", HeaderValue::from_static(JSON_CONTENT_TYPE));
            r.headers_mut().insert("content-length", HeaderValue::from(full.len()));
            return r;
        }
        Fault::ExpiredPageToken => expired_page_token(),
    };
    to_http(resp, request_id, request_id)
}
