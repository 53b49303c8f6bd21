//! The simulated tenant behaves as Microsoft Graph does: paging and `$top` limits, `$select`,
//! tokens, delta, `$batch`, throttling, BitLocker keys and errors in Graph's format.

use common::graph::Client;
use entra_backup_test_support as common;

use std::time::Duration;

use entra_backup_sim::{Ref, Removal, SimConfig, SimServer};
use serde_json::{Value, json};

fn small() -> SimConfig {
    SimConfig { users: 120, groups: 30, throttle: false, ..SimConfig::default() }
}

#[tokio::test]
async fn ten_thousand_users_in_eleven_pages_and_top_1000_refused() {
    let sim =
        SimServer::start(SimConfig { users: 10_000, groups: 50, memberships: Some(20_000), ..SimConfig::default() })
            .await
            .unwrap();
    let c = Client::new(&sim).await;
    let (users, requests, _) = c.all("/v1.0/users?$top=999").await;
    assert_eq!(users.len(), 10_000);
    assert_eq!(requests, 11);
    let mut ids: Vec<&str> = users.iter().map(|u| u["id"].as_str().unwrap()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 10_000, "every user exactly once");

    let (status, _, body) = c.get("/v1.0/users?$top=1000").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "Request_UnsupportedQuery");
    assert_eq!(body["error"]["message"], "Invalid page size specified: '1000'. Must be between 1 and 999 inclusive.");
    assert!(body["error"]["innerError"]["request-id"].is_string());
}

#[tokio::test]
async fn default_properties_select_and_unknown_properties() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let (_, headers, body) = c.get("/v1.0/users?$top=5").await;
    assert!(headers.get("x-ms-resource-unit").is_some());
    let u = &body["value"][0];
    // Graph's default user properties only.
    assert!(u.get("userPrincipalName").is_some());
    assert!(u.get("department").is_none());
    assert!(u.get("accountEnabled").is_none());
    assert_eq!(body["value"].as_array().unwrap().len(), 5);
    let next = body["@odata.nextLink"].as_str().unwrap();
    assert!(next.contains("$skiptoken="), "{next}");

    let (_, _, body) = c.get("/v1.0/users?$select=id,department,accountEnabled&$top=3").await;
    let u = body["value"][0].as_object().unwrap();
    assert_eq!(u.keys().collect::<Vec<_>>(), ["id", "department", "accountEnabled"]);

    let (status, _, body) = c.get("/v1.0/users?$select=shoeSize").await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("shoeSize"));

    let (status, _, body) = c.get("/v1.0/nothingHere").await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "Resource not found for the segment 'nothingHere'.");

    let (status, _, body) = c.get("/v1.0/users/00000000-0000-0000-0000-000000000000").await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "Request_ResourceNotFound");

    let (status, _, _) = c.get("/v1.0/users?$bogus=1").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn tokens_are_required_and_checked() {
    let sim =
        SimServer::start(SimConfig { credentials: Some(("app-1".into(), "right".into())), ..small() }).await.unwrap();
    entra_backup::init_crypto();
    let http = reqwest::Client::new();
    let r = http.get(format!("{}/v1.0/users", sim.url())).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "InvalidAuthenticationToken");

    let r = http
        .get(format!("{}/v1.0/users", sim.url()))
        .header("Authorization", "Bearer forged.token.value")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let token = |secret: &'static str| {
        http.post(format!("{}/{}/oauth2/v2.0/token", sim.url(), sim.tenant_id())).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "app-1"),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
    };
    let r = token("wrong").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(body["error_description"].as_str().unwrap().starts_with("AADSTS7000215"));
    assert!(!body.to_string().contains("wrong"), "the secret is never echoed");

    let r = token("right").send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let body: Value = r.json().await.unwrap();
    let bearer = format!("Bearer {}", body["access_token"].as_str().unwrap());
    let r = http.get(format!("{}/v1.0/users", sim.url())).header("Authorization", &bearer).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);

    sim.state().expire_access_tokens();
    let r = http.get(format!("{}/v1.0/users", sim.url())).header("Authorization", &bearer).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let r = http
        .post(format!("{}/not-a-tenant/oauth2/v2.0/token", sim.url()))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

#[tokio::test]
async fn missing_permission_is_403() {
    let sim = SimServer::start(SimConfig { granted_permissions: Some(vec!["User.Read.All".into()]), ..small() })
        .await
        .unwrap();
    let c = Client::new(&sim).await;
    assert_eq!(c.get("/v1.0/users").await.0, 200);
    let (status, _, body) = c.get("/v1.0/identity/conditionalAccess/policies").await;
    assert_eq!(status, 403);
    assert_eq!(body["error"]["code"], "Authorization_RequestDenied");
}

#[tokio::test]
async fn delta_rounds_report_changes_and_removals_and_expire() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let (first, _, last) = c.all("/v1.0/users/delta?$select=displayName,department,manager").await;
    assert_eq!(first.len(), sim.tenant().count("users"));
    assert!(first.iter().any(|u| u.get("manager@delta").is_some()), "manager tracked when selected");
    let delta_link = last["@odata.deltaLink"].as_str().unwrap().to_string();
    assert!(last.get("@odata.nextLink").is_none());

    // Nothing changed: an empty round.
    let (items, _, last) = c.all(&delta_link).await;
    assert!(items.is_empty(), "{items:?}");
    let delta_link = last["@odata.deltaLink"].as_str().unwrap().to_string();

    let (changed, removed) = {
        let t = sim.tenant();
        let mut it = t.objects("users");
        (it.next().unwrap().id().to_string(), it.next().unwrap().id().to_string())
    };
    {
        let mut t = sim.tenant_mut();
        let mut patch = serde_json::Map::new();
        patch.insert("department".into(), json!("Drills"));
        t.patch("users", &changed, &patch).unwrap();
        t.remove("users", &removed, Removal::SoftDeleted).unwrap();
    }
    let (items, _, last) = c.all(&delta_link).await;
    assert_eq!(items.len(), 2, "{items:?}");
    let upd = items.iter().find(|i| i["id"] == changed.as_str()).unwrap();
    assert_eq!(upd["department"], "Drills");
    assert!(upd.get("displayName").is_none(), "only changed properties of an updated object");
    let gone = items.iter().find(|i| i["id"] == removed.as_str()).unwrap();
    assert_eq!(gone["@removed"]["reason"], "changed");

    // Seven days later the link has expired: Graph answers syncStateNotFound.
    let link = last["@odata.deltaLink"].as_str().unwrap().to_string();
    sim.state().clock.advance(Duration::from_secs(8 * 24 * 3600));
    let (status, _, body) = c.get(&link).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "syncStateNotFound");

    // $top is refused on delta.
    assert_eq!(c.get("/v1.0/users/delta?$top=5").await.0, 400);
}

#[tokio::test]
async fn group_members_delta_tracks_link_changes() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let (_, _, last) = c.all("/v1.0/groups/delta?$select=displayName,members").await;
    let link = last["@odata.deltaLink"].as_str().unwrap().to_string();
    let (group, user) = {
        let t = sim.tenant();
        let g = t.objects("groups").find(|g| !g.links("members").is_empty()).unwrap();
        let member = g.links("members")[0].clone();
        (g.id().to_string(), member)
    };
    sim.tenant_mut().unlink("groups", &group, "members", &user).unwrap();
    let (items, _, _) = c.all(&link).await;
    assert_eq!(items.len(), 1);
    let m = &items[0]["members@delta"][0];
    assert_eq!(m["id"], user.id.as_str());
    assert_eq!(m["@removed"]["reason"], "deleted");
    let _ = Ref { category: "users", id: String::new() };
}

#[tokio::test]
async fn page_tokens_expire_and_relationships_page() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let (_, _, body) = c.get("/v1.0/users?$top=10").await;
    let next = body["@odata.nextLink"].as_str().unwrap().to_string();
    sim.state().expire_tokens();
    let (status, _, body) = c.get(&next).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["code"], "Directory_ExpiredPageToken");

    // The largest group's members, every page, never capped; $expand stops at 20.
    let (gid, expected) = {
        let t = sim.tenant();
        let g = t.objects("groups").max_by_key(|g| g.links("members").len()).unwrap();
        (g.id().to_string(), g.links("members").len())
    };
    assert!(expected > 25, "the tenant has a large group ({expected})");
    let (members, requests, _) = c.all(&format!("/v1.0/groups/{gid}/members?$top=10&$select=id")).await;
    assert_eq!(members.len(), expected);
    assert_eq!(requests, expected.div_ceil(10));
    assert!(members[0]["@odata.type"].as_str().unwrap().starts_with("#microsoft.graph."));
    let (_, _, g) = c.get(&format!("/v1.0/groups/{gid}?$expand=members")).await;
    assert_eq!(g["members"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn batch_limits_dependencies_and_throttled_items() {
    let sim = SimServer::start(SimConfig { throttle: true, ..small() }).await.unwrap();
    let c = Client::new(&sim).await;
    let reqs: Vec<Value> =
        (0..21).map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/users?$top=1"})).collect();
    let (status, _, _) = c.post("/v1.0/$batch", &json!({"requests": reqs})).await;
    assert_eq!(status, 400);
    let (status, _, _) = c
        .post(
            "/v1.0/$batch",
            &json!({"requests": [
            {"id": "1", "method": "GET", "url": "/users?$top=1"},
            {"id": "1", "method": "GET", "url": "/groups?$top=1"}]}),
        )
        .await;
    assert_eq!(status, 400, "duplicate ids");

    let (status, _, body) = c
        .post(
            "/v1.0/$batch",
            &json!({"requests": [
            {"id": "a", "method": "GET", "url": "/users/does-not-exist"},
            {"id": "b", "method": "GET", "url": "/users?$top=1", "dependsOn": ["a"]},
            {"id": "c", "method": "GET", "url": "/identity/conditionalAccess/policies"},
            {"id": "d", "method": "GET", "url": "/identity/conditionalAccess/policies"}]}),
        )
        .await;
    assert_eq!(status, 200);
    let r = body["responses"].as_array().unwrap();
    let by = |id: &str| r.iter().find(|x| x["id"] == id).unwrap();
    assert_eq!(by("a")["status"], 404);
    assert_eq!(by("b")["status"], 424);
    assert_eq!(by("c")["status"], 200);
    // Conditional Access allows one request per second and says no Retry-After: a 429 inside a 200.
    assert_eq!(by("d")["status"], 429);
    assert!(by("d")["headers"].get("Retry-After").is_none());
}

#[tokio::test]
async fn throttling_follows_the_published_limits() {
    let sim = SimServer::start(SimConfig { throttle: true, ..small() }).await.unwrap();
    let c = Client::new(&sim).await;
    assert_eq!(c.get("/v1.0/identity/conditionalAccess/policies").await.0, 200);
    let (status, headers, body) = c.get("/v1.0/identity/conditionalAccess/policies").await;
    assert_eq!(status, 429);
    assert!(headers.get("retry-after").is_none());
    assert_eq!(body["error"]["code"], "TooManyRequests");
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(c.get("/v1.0/identity/conditionalAccess/policies").await.0, 200);

    // Reports: 5 requests per 10 s, then 429 with Retry-After.
    for _ in 0..5 {
        assert_eq!(c.get("/v1.0/auditLogs/directoryAudits?$top=1").await.0, 200);
    }
    let (status, headers, _) = c.get("/v1.0/auditLogs/directoryAudits?$top=1").await;
    assert_eq!(status, 429);
    assert!(headers.get("retry-after").unwrap().to_str().unwrap().parse::<u64>().unwrap() >= 1);
}

#[tokio::test]
async fn bitlocker_keys_only_by_single_get_and_each_read_is_audited() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let (keys, _, _) = c.all("/v1.0/informationProtection/bitlocker/recoveryKeys").await;
    assert!(!keys.is_empty());
    assert!(keys.iter().all(|k| k.get("key").is_none()), "a list never returns key");
    let id = keys[0]["id"].as_str().unwrap();
    let audits_before = sim.tenant().count("directoryAudits");
    let (status, _, k) = c.get(&format!("/v1.0/informationProtection/bitlocker/recoveryKeys/{id}?$select=key")).await;
    assert_eq!(status, 200);
    let key = k["key"].as_str().unwrap();
    assert_eq!(key.len(), 55, "48 digits in 8 groups: {key}");
    assert_eq!(sim.tenant().count("directoryAudits"), audits_before + 1);
    let (_, _, k) = c.get(&format!("/v1.0/informationProtection/bitlocker/recoveryKeys/{id}")).await;
    assert!(k.get("key").is_none(), "key only with $select=key");
}

#[tokio::test]
async fn injected_faults_happen_and_requests_still_get_answers() {
    let sim = SimServer::start(SimConfig { fault_rate: 0.5, ..small() }).await.unwrap();
    let c = Client::new(&sim).await;
    let mut failures = 0;
    for _ in 0..40 {
        let r = c.http.get(format!("{}/v1.0/users?$top=5", c.base)).header("Authorization", &c.bearer).send().await;
        match r {
            Ok(r) if r.status().is_success() => {
                if r.json::<Value>().await.is_err() {
                    failures += 1;
                }
            }
            _ => failures += 1,
        }
    }
    assert!((5..=35).contains(&failures), "{failures} of 40 failed");
}

#[tokio::test]
async fn malformed_requests_get_graph_errors_not_panics() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    for (path, code) in [
        ("/v1.0/users?$top=abc", "BadRequest"),
        ("/v1.0/users?$top=0", "Request_UnsupportedQuery"),
        ("/v1.0/users?$filter=displayName%20eq", "Request_UnsupportedQuery"),
        ("/v1.0/users?$filter=assignedLicenses/any(x:x/skuId%20eq%201)", "Request_UnsupportedQuery"),
        ("/v1.0/users?$skiptoken=not-ours", "Request_BadRequest"),
        ("/v1.0/users/delta?$deltatoken=forged", "syncStateNotFound"),
        ("/v1.0/deviceManagement/configurationPolicies", "BadRequest"),
    ] {
        let (status, _, body) = c.get(path).await;
        assert_eq!(status, 400, "{path}: {body}");
        assert_eq!(body["error"]["code"], code, "{path}: {body}");
        assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    // Beta-only categories are served under /beta.
    assert_eq!(c.get("/beta/deviceManagement/configurationPolicies").await.0, 200);

    let r = c
        .http
        .post(format!("{}/v1.0/$batch", c.base))
        .header("Authorization", &c.bearer)
        .header("Content-Type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BadRequest");

    // A write without a body and Content-Type fails the whole batch, as Graph does.
    let (status, _, body) =
        c.post("/v1.0/$batch", &json!({"requests": [{"id": "1", "method": "POST", "url": "/$batch"}]})).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("Content-Type"), "{body}");
    // A nested $batch is refused request by request.
    let nested = json!({"requests": [{"id": "1", "method": "POST", "url": "/$batch",
        "headers": {"Content-Type": "application/json"}, "body": {"requests": []}}]});
    let (status, _, body) = c.post("/v1.0/$batch", &nested).await;
    assert_eq!(status, 200);
    assert_eq!(body["responses"][0]["status"], 400, "{body}");
    let (status, _, _) = c.post("/v1.0/$batch", &json!({"nope": []})).await;
    assert_eq!(status, 400);
    // A create without the properties Graph requires is refused as Graph refuses it.
    let (status, _, body) = c.post("/v1.0/users", &json!({"displayName": "x"})).await;
    assert_eq!(status, 400);
    assert!(body["error"]["message"].as_str().unwrap().contains("accountEnabled"), "{body}");
}

#[tokio::test]
async fn logs_are_listed_newest_first_and_records_written_while_paging_are_never_skipped_over() {
    let sim = SimServer::start(small()).await.unwrap();
    let c = Client::new(&sim).await;
    let time = |r: &Value| r["activityDateTime"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap();
    let (_, _, page) = c.get("/v1.0/auditLogs/directoryAudits?$top=5").await;
    let mut seen: Vec<Value> = page["value"].as_array().unwrap().clone();
    // A record written while the listing pages is the newest one (records are written in time
    // order): its id sorts before every other, yet it must not make the listing skip older ones.
    let written = {
        let mut r = seen[0].clone();
        r["id"] = json!("Directory_0000_written_while_paging");
        r["activityDateTime"] = json!((time(&seen[0]) + jiff::SignedDuration::from_secs(1)).to_string());
        r
    };
    sim.tenant_mut().insert("directoryAudits", written).unwrap();
    let (rest, _, _) = c.all(page["@odata.nextLink"].as_str().unwrap()).await;
    seen.extend(rest);
    assert!(seen.windows(2).all(|w| time(&w[0]) >= time(&w[1])), "newest first");
    assert_eq!(seen.len(), sim.tenant().count("directoryAudits") - 1, "every record listed before it was written");
    assert!(seen.iter().all(|r| r["id"] != "Directory_0000_written_while_paging"));
    // Late records (held until Graph lists them) are not listed, then are, in their place.
    let mut late = seen[3].clone();
    late["id"] = json!("late-record");
    sim.tenant_mut().hold("directoryAudits", late).unwrap();
    let (all, _, _) = c.all("/v1.0/auditLogs/directoryAudits?$top=999").await;
    assert!(all.iter().all(|r| r["id"] != "late-record"));
    assert_eq!(sim.tenant_mut().deliver_held().unwrap(), 1);
    let (all, _, _) = c.all("/v1.0/auditLogs/directoryAudits?$top=999").await;
    let at = all.iter().position(|r| r["id"] == "late-record").expect("delivered");
    assert_eq!(time(&all[at]), time(&seen[3]));
}
