//! Everything the simulator serves over HTTP is true to Microsoft's CSDL: every category's pages
//! (with every property selected, and with the defaults), singletons, relationships, contained
//! children and delta pages.

use entra_backup_test_support as common;

use common::csdl;
use entra_backup::catalog::{self, ApiVersion, RelationshipKind, Shape};
use entra_backup_sim::{SimConfig, SimServer};
use serde_json::Value;

/// Every page of a listing, checked item by item against `ty`; returns the items.
async fn crawl(http: &reqwest::Client, bearer: &str, first: String, ty: &str, errors: &mut Vec<String>) -> Vec<Value> {
    let mut url = first;
    let mut items = Vec::new();
    loop {
        let body: Value = http.get(&url).header("Authorization", bearer).send().await.unwrap().json().await.unwrap();
        assert!(body.get("error").is_none(), "{url}: {body}");
        for e in csdl::check_response(ty, &body) {
            errors.push(format!("{url}: {e}"));
        }
        items.extend(body["value"].as_array().cloned().unwrap_or_default());
        match body["@odata.nextLink"].as_str() {
            Some(n) => url = n.to_string(),
            None => return items,
        }
    }
}

#[tokio::test]
async fn every_served_object_matches_the_schema() {
    entra_backup::init_crypto();
    let sim = SimServer::start(SimConfig { seed: 11, users: 150, groups: 40, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let http = reqwest::Client::new();
    let bearer = common::bearer(&http, &sim).await;
    let mut errors = Vec::new();
    let mut checked = 0usize;
    for cat in catalog::all().iter().filter(|c| c.api_version == ApiVersion::V1) {
        let root = format!("{}/v1.0{}", sim.url(), cat.path);
        if cat.shape == Shape::Singleton {
            let body: Value =
                http.get(&root).header("Authorization", &bearer).send().await.unwrap().json().await.unwrap();
            errors.extend(csdl::check_value(cat.entity_type, &body).into_iter().map(|e| format!("{root}: {e}")));
            checked += 1;
            continue;
        }
        // The defaults, then every property the catalog selects.
        let items = crawl(&http, &bearer, root.clone(), cat.entity_type, &mut errors).await;
        checked += items.len();
        if !cat.selected().is_empty() {
            let url = format!("{root}?$select={}", cat.selected().join(","));
            checked += crawl(&http, &bearer, url, cat.entity_type, &mut errors).await.len();
        }
        assert_eq!(items.len(), sim.tenant().count(cat.name), "{}: every object served", cat.name);
        // Relationships of the first few objects.
        for item in items.iter().take(3) {
            let Some(id) = item["id"].as_str() else { continue };
            for rel in cat.relationships {
                let url = format!("{}/v1.0{}", sim.url(), rel.path.replace("{id}", id));
                if rel.kind == RelationshipKind::Link {
                    let r = http.get(&url).header("Authorization", &bearer).send().await.unwrap();
                    if r.status() == 200 {
                        let body: Value = r.json().await.unwrap();
                        errors.extend(
                            csdl::check_value(rel.target_type, &body).into_iter().map(|e| format!("{url}: {e}")),
                        );
                    }
                    continue;
                }
                checked += crawl(&http, &bearer, url, rel.target_type, &mut errors).await.len();
            }
        }
        if let Some(delta) = &cat.delta {
            let url = format!("{}/v1.0{}", sim.url(), delta.path);
            let mut url = url;
            loop {
                let body: Value =
                    http.get(&url).header("Authorization", &bearer).send().await.unwrap().json().await.unwrap();
                assert!(body.get("error").is_none(), "{url}: {body}");
                errors.extend(csdl::check_response(cat.entity_type, &body).into_iter().map(|e| format!("{url}: {e}")));
                match body["@odata.nextLink"].as_str() {
                    Some(n) => url = n.to_string(),
                    None => break,
                }
            }
        }
    }
    assert!(checked > 1_000, "checked {checked} objects");
    assert!(
        errors.is_empty(),
        "{} violations, first ones:\n{}",
        errors.len(),
        errors.iter().take(30).cloned().collect::<Vec<_>>().join("\n")
    );
}
