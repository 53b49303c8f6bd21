//! The Graph client against recorded Graph responses (wiremock): Retry-After, backoff on 5xx,
//! refresh on 401, errors that are final, paging verbatim, restart on an expired page token, and
//! `$batch` retrying what was throttled inside the envelope.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use entra_backup::ErrorKind;
use entra_backup::catalog::ThrottleFamily;
use entra_backup::graph::auth::{AccessToken, TokenSource};
use entra_backup::graph::pacing::Pacer;
use entra_backup::graph::{GraphClient, Pager, RequestMeta, RequestStats, RetryPolicy};
use serde_json::{Value, json};
use wiremock::matchers::{header, method, path, query_param};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

/// Hands out "t1", "t2", ... and counts invalidations.
#[derive(Debug, Default)]
struct CountingTokens {
    issued: AtomicUsize,
    invalidated: AtomicUsize,
}

#[async_trait::async_trait]
impl TokenSource for CountingTokens {
    async fn token(&self) -> entra_backup::Result<AccessToken> {
        let n = self.invalidated.load(Ordering::SeqCst) + 1;
        self.issued.fetch_add(1, Ordering::SeqCst);
        Ok(AccessToken::new(format!("t{n}"), std::time::Instant::now() + Duration::from_secs(3600)))
    }
    fn invalidate(&self) {
        self.invalidated.fetch_add(1, Ordering::SeqCst);
    }
}

fn client(server: &MockServer, tokens: Arc<CountingTokens>) -> GraphClient {
    entra_backup::init_crypto();
    GraphClient::new(reqwest::Client::new(), &server.uri(), tokens, Pacer::unlimited()).with_retry(RetryPolicy {
        max_retries: 3,
        max_elapsed: Duration::from_secs(30),
        base_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    })
}

fn meta() -> RequestMeta {
    RequestMeta { family: ThrottleFamily::Identity, cost: 2, stats: Arc::new(RequestStats::default()) }
}

/// Answers with each template in turn, then repeats the last.
struct Sequence(Vec<ResponseTemplate>, AtomicUsize);

impl Respond for Sequence {
    fn respond(&self, _: &Request) -> ResponseTemplate {
        let i = self.1.fetch_add(1, Ordering::SeqCst).min(self.0.len() - 1);
        self.0[i].clone()
    }
}

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/resources/graph/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))).unwrap()
}

#[tokio::test]
async fn a_429_waits_its_retry_after() {
    let server = MockServer::start().await;
    let throttled =
        ResponseTemplate::new(429).insert_header("Retry-After", "1").set_body_json(fixture("throttled.json"));
    let ok = ResponseTemplate::new(200).set_body_json(fixture("users_page_2.json"));
    Mock::given(method("GET"))
        .and(path("/v1.0/users"))
        .respond_with(Sequence(vec![throttled, ok], 0.into()))
        .mount(&server)
        .await;
    let c = client(&server, Arc::default());
    let m = meta();
    let started = std::time::Instant::now();
    let body = c.get_json(&format!("{}/v1.0/users", server.uri()), &m, &[]).await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "waited {:?}", started.elapsed());
    assert_eq!(body["value"].as_array().unwrap().len(), 2);
    assert_eq!(m.stats.throttled.load(Ordering::Relaxed), 1);
    assert_eq!(m.stats.requests.load(Ordering::Relaxed), 2);
}

#[tokio::test]
async fn transient_failures_are_retried_then_reported() {
    let server = MockServer::start().await;
    let unavailable = ResponseTemplate::new(503).set_body_json(fixture("unavailable.json"));
    let ok = ResponseTemplate::new(200).set_body_json(fixture("users_page_2.json"));
    Mock::given(path("/v1.0/users"))
        .respond_with(Sequence(vec![unavailable.clone(), ResponseTemplate::new(504), ok], 0.into()))
        .mount(&server)
        .await;
    Mock::given(path("/v1.0/groups")).respond_with(unavailable).mount(&server).await;
    // A 200 whose body was cut short is retried too.
    Mock::given(path("/v1.0/devices"))
        .respond_with(Sequence(
            vec![
                ResponseTemplate::new(200).set_body_string("{\"value\": [{\"id\""),
                ResponseTemplate::new(200).set_body_json(json!({"value": []})),
            ],
            0.into(),
        ))
        .mount(&server)
        .await;
    let c = client(&server, Arc::default());
    let m = meta();
    assert!(c.get_json(&format!("{}/v1.0/users", server.uri()), &m, &[]).await.is_ok());
    assert_eq!(m.stats.retries.load(Ordering::Relaxed), 2);
    let e = c.get_json(&format!("{}/v1.0/groups", server.uri()), &meta(), &[]).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Network);
    assert!(e.to_string().contains("503"), "{e}");
    assert!(c.get_json(&format!("{}/v1.0/devices", server.uri()), &meta(), &[]).await.is_ok());
}

#[tokio::test]
async fn a_401_refreshes_the_token_once() {
    let server = MockServer::start().await;
    Mock::given(path("/v1.0/organization"))
        .and(header("Authorization", "Bearer t1"))
        .respond_with(ResponseTemplate::new(401).set_body_json(fixture("token_expired.json")))
        .mount(&server)
        .await;
    Mock::given(path("/v1.0/organization"))
        .and(header("Authorization", "Bearer t2"))
        .respond_with(ResponseTemplate::new(200).set_body_json(json!({"value": [{"id": "org"}]})))
        .mount(&server)
        .await;
    let tokens = Arc::new(CountingTokens::default());
    let c = client(&server, tokens.clone());
    c.get_json(&format!("{}/v1.0/organization", server.uri()), &meta(), &[]).await.unwrap();
    assert_eq!(tokens.invalidated.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn final_errors_keep_graphs_code_and_are_not_retried() {
    let server = MockServer::start().await;
    Mock::given(path("/v1.0/identity/conditionalAccess/policies"))
        .respond_with(ResponseTemplate::new(403).set_body_json(fixture("forbidden.json")))
        .expect(1)
        .mount(&server)
        .await;
    let c = client(&server, Arc::default());
    let e = c
        .get_json(&format!("{}/v1.0/identity/conditionalAccess/policies", server.uri()), &meta(), &[])
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Permission);
    assert_eq!(e.graph_code(), Some("Authorization_RequestDenied"));
    assert_eq!(e.status(), Some(403));
}

#[tokio::test]
async fn pages_follow_next_links_verbatim_and_restart_on_an_expired_token() {
    let server = MockServer::start().await;
    let mut first = fixture("users_page_1.json");
    first["@odata.nextLink"] =
        json!(format!("{}/v1.0/users?$top=2&$skiptoken=RFNwdAoAAQAAAAAAAAAAFAAAAAAAAA", server.uri()));
    Mock::given(path("/v1.0/users"))
        .and(query_param("$top", "2"))
        .and(wiremock::matchers::query_param_is_missing("$skiptoken"))
        .respond_with(ResponseTemplate::new(200).set_body_json(first))
        .mount(&server)
        .await;
    Mock::given(path("/v1.0/users"))
        .and(query_param("$skiptoken", "RFNwdAoAAQAAAAAAAAAAFAAAAAAAAA"))
        .respond_with(Sequence(
            vec![
                ResponseTemplate::new(400).set_body_json(fixture("expired_page_token.json")),
                ResponseTemplate::new(200).set_body_json(fixture("users_page_2.json")),
            ],
            0.into(),
        ))
        .mount(&server)
        .await;
    let c = client(&server, Arc::default());
    let m = meta();
    let mut pager = Pager::new(format!("{}/v1.0/users?$top=2", server.uri()));
    let mut ids = Vec::new();
    let mut restarts = 0;
    while let Some(page) = pager.next(&c, &m, &[]).await.unwrap() {
        if pager.restarted {
            restarts += 1;
            ids.clear();
        }
        ids.extend(page.items.iter().map(|u| u["id"].as_str().unwrap().to_string()));
    }
    assert_eq!(restarts, 1);
    assert_eq!(ids.len(), 4, "{ids:?}");
}

#[tokio::test]
async fn batch_retries_what_was_throttled_inside_the_envelope() {
    let server = MockServer::start().await;
    let mut first = fixture("batch_with_429.json");
    first["responses"][1]["headers"]["Retry-After"] = json!("1");
    let second = json!({"responses": [{"id": "1", "status": 200, "headers": {}, "body": {"value": [{"id": "m2"}]}}]});
    Mock::given(method("POST"))
        .and(path("/v1.0/$batch"))
        .respond_with(Sequence(
            vec![ResponseTemplate::new(200).set_body_json(first), ResponseTemplate::new(200).set_body_json(second)],
            0.into(),
        ))
        .expect(2)
        .mount(&server)
        .await;
    let c = client(&server, Arc::default());
    let m = meta();
    let urls = vec!["/groups/a/members".to_string(), "/groups/b/members".to_string()];
    let results = c.batch_get("v1.0", &urls, &m).await;
    assert_eq!(results[0].as_ref().unwrap()["value"][0]["id"], "m1");
    assert_eq!(results[1].as_ref().unwrap()["value"][0]["id"], "m2");
    assert_eq!(m.stats.throttled.load(Ordering::Relaxed), 1);
    assert_eq!(m.stats.batched.load(Ordering::Relaxed), 3);
}
