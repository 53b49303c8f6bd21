//! JSON batching: `POST /$batch` with up to 20 requests, `dependsOn`, and per-request results
//! (including a 429) inside a 200 envelope.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use super::SimState;
use super::errors::GraphResponse;
use super::handler::dispatch;
use super::protocol::GraphRequest;
use super::token::Grant;

/// Graph's limit on requests in one batch.
pub(crate) const MAX_BATCH: usize = 20;

pub(crate) fn batch(state: &SimState, version: &str, body: Option<&Value>, grant: &Grant, base: &str) -> GraphResponse {
    let Some(requests) = body.and_then(|b| b.get("requests")).and_then(Value::as_array) else {
        return GraphResponse::bad_request(
            "BadRequest",
            "The batch request body must be a JSON object with a 'requests' array.",
        );
    };
    if requests.is_empty() {
        return GraphResponse::bad_request("BadRequest", "The batch request must contain at least one request.");
    }
    if requests.len() > MAX_BATCH {
        return GraphResponse::bad_request(
            "BadRequest",
            format!("The batch request contains {} requests; the limit is {MAX_BATCH}.", requests.len()),
        );
    }
    let mut ids = HashSet::new();
    for r in requests {
        let (Some(id), Some(_), Some(_)) = (
            r.get("id").and_then(Value::as_str),
            r.get("method").and_then(Value::as_str),
            r.get("url").and_then(Value::as_str),
        ) else {
            return GraphResponse::bad_request(
                "BadRequest",
                "Every request in a batch needs 'id', 'method' and 'url'.",
            );
        };
        // A POST, PATCH or PUT carries a body and says what it is (Graph refuses the whole batch
        // otherwise); a GET or DELETE needs neither.
        let has_body = r.get("body").is_some_and(|b| !b.is_null());
        let has_type = r
            .get("headers")
            .and_then(Value::as_object)
            .is_some_and(|h| h.keys().any(|k| k.eq_ignore_ascii_case("content-type")));
        let method = r["method"].as_str().unwrap_or("GET").to_ascii_uppercase();
        if matches!(method.as_str(), "POST" | "PATCH" | "PUT") && !(has_body && has_type) {
            return GraphResponse::bad_request(
                "BadRequest",
                format!("Write request id : {id} does not contain Content-Type header or body."),
            );
        }
        if !ids.insert(id.to_string()) {
            return GraphResponse::bad_request(
                "BadRequest",
                format!("The batch request contains the id '{id}' more than once."),
            );
        }
    }
    for r in requests {
        for d in r.get("dependsOn").and_then(Value::as_array).into_iter().flatten() {
            if !d.as_str().is_some_and(|d| ids.contains(d)) {
                return GraphResponse::bad_request("BadRequest", format!("dependsOn names an unknown request id {d}."));
            }
        }
    }
    let mut status_of: HashMap<String, u16> = HashMap::new();
    let mut out = Vec::with_capacity(requests.len());
    for r in requests {
        let id = r["id"].as_str().unwrap_or_default().to_string();
        let failed_dep = r
            .get("dependsOn")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|d| status_of.get(d).is_none_or(|s| *s >= 400));
        let resp = if failed_dep {
            GraphResponse::error(424, "FailedDependency", "A request this one depends on failed.")
        } else {
            let url = r["url"].as_str().unwrap_or_default();
            let url = url.strip_prefix(&format!("/{version}")).unwrap_or(url);
            let url = if url.starts_with('/') { url.to_string() } else { format!("/{url}") };
            let (path, query) = url.split_once('?').unwrap_or((&url, ""));
            let headers: Vec<(String, String)> = r
                .get("headers")
                .and_then(Value::as_object)
                .map(|h| h.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
                .unwrap_or_default();
            if path.trim_matches('/') == "$batch" {
                GraphResponse::bad_request("BadRequest", "A batch cannot contain another batch.")
            } else {
                let req = GraphRequest {
                    method: r["method"].as_str().unwrap_or("GET"),
                    version,
                    path,
                    query,
                    headers: &headers,
                    body: r.get("body"),
                    grant,
                    base,
                };
                dispatch(state, &req)
            }
        };
        status_of.insert(id.clone(), resp.status);
        let mut headers = Map::new();
        for (k, v) in &resp.headers {
            headers.insert(k.clone(), json!(v));
        }
        if resp.body.is_some() {
            headers.insert("Content-Type".into(), json!("application/json"));
        }
        let mut entry = json!({"id": id, "status": resp.status, "headers": headers});
        if let Some(b) = resp.body {
            entry["body"] = b;
        }
        out.push(entry);
    }
    GraphResponse::ok(json!({"responses": out}))
}
