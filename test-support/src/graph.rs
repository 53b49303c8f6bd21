//! A bare Graph client for tests of the simulated tenant: raw status, headers and JSON, with a
//! token from the simulator's token endpoint.

use reqwest::header::HeaderMap;
use serde_json::Value;

use entra_backup_sim::SimServer;

/// Status, headers and JSON body (`null` when empty or not JSON).
pub type Reply = (u16, HeaderMap, Value);

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub bearer: String,
}

impl Client {
    pub async fn new(sim: &SimServer) -> Client {
        entra_backup::init_crypto();
        let http = reqwest::Client::new();
        let bearer = super::bearer(&http, sim).await;
        Client { http, base: sim.url().to_string(), bearer }
    }

    /// A path under the simulator (`/v1.0/users`), or an absolute URL (a nextLink) as it is.
    pub fn url(&self, path_or_url: &str) -> String {
        if path_or_url.starts_with("http") { path_or_url.to_string() } else { format!("{}{path_or_url}", self.base) }
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<&Value>) -> Reply {
        let mut r = self.http.request(method, self.url(path)).header("Authorization", &self.bearer);
        if let Some(b) = body {
            r = r.json(b);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let headers = r.headers().clone();
        let text = r.text().await.unwrap_or_default();
        let body = if text.is_empty() { Value::Null } else { serde_json::from_str(&text).unwrap_or(Value::Null) };
        (status, headers, body)
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Follow nextLinks to the end; returns (items, requests, final page).
    pub async fn all(&self, first: &str) -> (Vec<Value>, usize, Value) {
        let mut url = first.to_string();
        let mut items = Vec::new();
        let mut requests = 0;
        loop {
            let (status, _, body) = self.get(&url).await;
            requests += 1;
            assert_eq!(status, 200, "{url}: {body}");
            items.extend(body["value"].as_array().unwrap().iter().cloned());
            match body["@odata.nextLink"].as_str() {
                Some(n) => url = n.to_string(),
                None => return (items, requests, body),
            }
        }
    }

    /// A whole delta round: every item over the nextLinks, and the deltaLink at its end.
    pub async fn delta_round(&self, first: &str) -> (Vec<Value>, String) {
        let (items, _, last) = self.all(first).await;
        (items, last["@odata.deltaLink"].as_str().expect("a deltaLink").to_string())
    }
}
