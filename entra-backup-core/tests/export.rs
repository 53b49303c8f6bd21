//! An export of the simulated tenant equals its ground truth: every object, every property, every
//! relationship, with Graph's throttling on and injected faults; and failures are reported as a
//! user needs them.
#![cfg(feature = "sim")]

use std::collections::BTreeSet;

use entra_backup::ErrorKind;
use entra_backup::catalog::{self, RelationshipKind};
use entra_backup::graph::auth::{ClientAuth, Credentials, Secret};
use entra_backup::pipeline::{self, Progress, State};
use entra_backup::sim::{SimConfig, SimServer};
use entra_backup::source::{Endpoints, GraphSource, SourceOptions};
use serde_json::{Map, Value};

fn creds(sim: &SimServer, secret: &str) -> Credentials {
    Credentials {
        tenant_id: sim.tenant_id(),
        client_id: "export-test".into(),
        auth: ClientAuth::Secret(Secret::new(secret)),
        authority_host: None,
    }
}

fn source(sim: &SimServer, secret: &str, options: SourceOptions) -> GraphSource {
    let endpoints = Endpoints { graph_url: Some(sim.url().into()), authority_url: Some(sim.url().into()) };
    GraphSource::connect(&creds(sim, secret), &endpoints, options).unwrap()
}

/// Compare the export folder with the simulator's ground truth; returns the number of objects checked.
fn assert_equal_to_ground_truth(sim: &SimServer, dir: &std::path::Path, secrets: bool) -> usize {
    let sink = entra_backup::sink::JsonDirSink::new(dir);
    let t = sim.tenant();
    let mut checked = 0;
    for cat in catalog::all() {
        let files = std::fs::read_dir(dir.join(cat.name)).map(|d| d.count()).unwrap_or(0);
        // Reading BitLocker keys writes audit records while the export runs: those may be missing.
        let written_during =
            |o: &entra_backup::sim::StoredObject| o.json["activityDisplayName"] == "Read BitLocker key";
        let during = t.objects(cat.name).filter(|o| cat.name == "directoryAudits" && written_during(o)).count();
        assert!(files <= t.count(cat.name) && files + during >= t.count(cat.name), "{}: one file per object", cat.name);
        for obj in t.objects(cat.name) {
            let key =
                obj.json.get("id").or_else(|| obj.json.get("tenantId")).and_then(Value::as_str).unwrap().to_string();
            let path = sink.path_of(cat.name, &key);
            if cat.name == "directoryAudits" && written_during(obj) && !path.exists() {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let mut exported: Map<String, Value> = serde_json::from_str(&text).unwrap();
            // Relationships: links as references, contained children whole.
            for rel in cat.relationships {
                let got = exported.remove(rel.name).unwrap_or_else(|| panic!("{}/{key}: no {}", cat.name, rel.name));
                let got = got.as_array().unwrap();
                match rel.kind {
                    RelationshipKind::Contained => {
                        let want: Vec<Value> =
                            obj.children.get(rel.name).into_iter().flatten().cloned().map(Value::Object).collect();
                        assert_eq!(got, &want, "{}/{key}/{}", cat.name, rel.name);
                    }
                    _ => {
                        let got: BTreeSet<(String, String)> = got
                            .iter()
                            .map(|r| {
                                (r["@odata.type"].as_str().unwrap().to_string(), r["id"].as_str().unwrap().to_string())
                            })
                            .collect();
                        let want: BTreeSet<(String, String)> = obj
                            .links(rel.name)
                            .iter()
                            .map(|r| (format!("#{}", catalog::get(r.category).unwrap().entity_type), r.id.clone()))
                            .collect();
                        assert_eq!(got, want, "{}/{key}/{}", cat.name, rel.name);
                    }
                }
            }
            // Properties: exactly the ground truth's (secrets only when asked for).
            let mut want = obj.json.clone();
            if !secrets {
                for p in cat.single_get_select {
                    want.remove(*p);
                }
            }
            if entra_backup::model::properties(cat.entity_type).is_some_and(|p| !p.contains(&"id")) {
                want.remove("id");
            }
            let keys = |m: &Map<String, Value>| m.keys().cloned().collect::<BTreeSet<_>>();
            assert_eq!(keys(&exported), keys(&want), "{}/{key}: property names", cat.name);
            assert_eq!(Value::Object(exported), Value::Object(want), "{}/{key}", cat.name);
            checked += 1;
        }
    }
    checked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_equals_ground_truth_with_throttling_and_faults() {
    let sim = SimServer::start(SimConfig {
        seed: 5,
        users: 400,
        groups: 80,
        throttle: true,
        fault_rate: 0.01,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = source(&sim, "any", SourceOptions { secrets: true, ..SourceOptions::default() });
    let progress = Progress::new(&catalog::all().iter().collect::<Vec<_>>());
    let summary = pipeline::export(&src, dir.path(), &progress).await.unwrap();
    assert!(summary.ok(), "{summary:#?}");
    let checked = assert_equal_to_ground_truth(&sim, dir.path(), true);
    assert_eq!(checked as u64, summary.objects);
    assert!(summary.categories.iter().map(|c| c.retries).sum::<u64>() > 0, "1% faults caused retries");
    assert!(dir.path().join("summary.json").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_without_secrets_leaves_bitlocker_keys_out() {
    let sim = SimServer::start(SimConfig { seed: 6, users: 60, groups: 10, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = source(&sim, "any", SourceOptions::default());
    let cats = catalog::resolve(&["bitlockerRecoveryKeys", "users", "groups"]).unwrap();
    let summary = pipeline::export(&src, dir.path(), &Progress::new(&cats)).await.unwrap();
    assert!(summary.ok());
    let audits_before = sim.tenant().count("directoryAudits");
    for entry in std::fs::read_dir(dir.path().join("bitlockerRecoveryKeys")).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert!(!text.contains("\"key\""), "no key without --secrets");
    }
    assert_eq!(sim.tenant().count("directoryAudits"), audits_before, "no key read, no audit");
}

#[tokio::test]
async fn a_category_without_permission_fails_alone_with_the_permission_it_needs() {
    let granted = vec!["User.Read.All".to_string(), "Group.Read.All".to_string()];
    let sim = SimServer::start(SimConfig {
        users: 60,
        groups: 10,
        throttle: false,
        granted_permissions: Some(granted),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = source(&sim, "any", SourceOptions::default());
    let cats = catalog::resolve(&["users", "groups", "conditionalAccessPolicies"]).unwrap();
    let summary = pipeline::export(&src, dir.path(), &Progress::new(&cats)).await.unwrap();
    assert!(!summary.ok());
    assert_eq!(summary.failed_categories, 1);
    let ca = summary.categories.iter().find(|c| c.category == "conditionalAccessPolicies").unwrap();
    assert_eq!(ca.state, State::Failed);
    assert_eq!(ca.graph_code.as_deref(), Some("Authorization_RequestDenied"));
    assert_eq!(ca.permissions_needed, catalog::get("conditionalAccessPolicies").unwrap().permissions.read);
    let users = summary.categories.iter().find(|c| c.category == "users").unwrap();
    assert_eq!(users.objects, 60);
}

#[tokio::test]
async fn wrong_credentials_give_one_clear_error() {
    let sim = SimServer::start(SimConfig {
        users: 20,
        groups: 2,
        credentials: Some(("export-test".into(), "right-secret".into())),
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let src = source(&sim, "wrong-secret-value", SourceOptions::default());
    let cats = catalog::resolve(&["users"]).unwrap();
    let err = pipeline::export(&src, dir.path(), &Progress::new(&cats)).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Authentication);
    let msg = err.to_string();
    assert!(msg.contains(sim.url()), "names the authority: {msg}");
    assert!(msg.contains(&sim.tenant_id()), "names the tenant: {msg}");
    assert!(msg.contains("AADSTS7000215"), "names Graph's code: {msg}");
    assert!(!msg.contains("wrong-secret-value"), "never the secret: {msg}");
}
