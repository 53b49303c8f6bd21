//! An export of the simulated tenant equals its ground truth: every object, every property, every
//! relationship, with Graph's throttling on and injected faults; and failures are reported as a
//! user needs them.

use entra_backup::ErrorKind;
use entra_backup::catalog;
use entra_backup::pipeline::{self, Progress, State};
use entra_backup::source::SourceOptions;
use entra_backup_sim::{SimConfig, SimServer};

use common::sim_tenant::{assert_equal_to_ground_truth, source};
use entra_backup_test_support as common;

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
