//! Restores that stop half-way and resume, that take away, or that Graph refuses: an interrupted
//! restore creates nothing twice, nor requests a schedule twice; `overwrite_relationships`
//! removes what the snapshot lacks; a user whose name was given away fails with what to do; a
//! category Graph refuses is reported while the others are restored.

use std::collections::{BTreeSet, HashSet};

use entra_backup::catalog::{self, Category};
use entra_backup::diff::{DiffKind, diff_live};
use entra_backup::repo::IdMap;
use entra_backup::restore::{GraphRestorer, Outcome, RestoreOptions, restore};
use entra_backup::source::{GraphSource, SnapshotSource, SourceOptions};
use entra_backup_sim::{SimConfig, SimServer};
use serde_json::{Value, json};

use super::restore::{diff_now, ids, ok, plain_security, run_restore, snapshot_of};
use common::graph::Client;
use common::sim_tenant::source;
use entra_backup_test_support as common;

/// A restorer whose first batch of creates is carried out but whose answers are lost, as when the
/// connection drops or the process is killed right after sending.
struct LoseFirstCreates {
    inner: GraphRestorer,
    armed: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl entra_backup::restore::Restorer for LoseFirstCreates {
    async fn deleted(&self, category: &'static Category) -> entra_backup::Result<HashSet<String>> {
        self.inner.deleted(category).await
    }

    async fn apply(
        &self,
        category: &'static Category,
        operations: Vec<entra_backup::restore::Operation>,
    ) -> Vec<entra_backup::Result<Value>> {
        use entra_backup::restore::Operation;
        let creates =
            operations.iter().all(|o| matches!(o, Operation::Create { .. } | Operation::RequestSchedule { .. }));
        let answers = self.inner.apply(category, operations).await;
        if creates && self.armed.swap(false, std::sync::atomic::Ordering::SeqCst) {
            return answers
                .into_iter()
                .map(|_| Err(entra_backup::Error::new(entra_backup::ErrorKind::Network, "connection reset")))
                .collect();
        }
        answers
    }

    fn counts(&self) -> (u64, u64) {
        self.inner.counts()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interrupted_restore_resumes_without_creating_anything_twice() {
    let sim = SimServer::start(SimConfig { seed: 8, users: 120, groups: 40, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let (repo, snapshot) = snapshot_of(&sim).await;
    let c = Client::new(&sim).await;
    let plain = ids(&sim, "groups", plain_security);
    let gone: Vec<String> = plain.into_iter().take(3).collect();
    let names: Vec<String> = gone
        .iter()
        .map(|g| sim.tenant().get("groups", g).unwrap().json["displayName"].as_str().unwrap().to_string())
        .collect();
    for g in &gone {
        assert_eq!(c.delete(&format!("/v1.0/groups/{g}")).await.0, 204);
    }
    let groups = catalog::get("groups").unwrap();
    let only_groups = || RestoreOptions { categories: vec![groups], ..RestoreOptions::default() };

    // The first run's creates are carried out, but their answers never arrive.
    let snap = SnapshotSource::open(repo.clone(), &snapshot, false).await.unwrap();
    let live: GraphSource = source(&sim, "any", SourceOptions::default());
    let lossy = LoseFirstCreates { inner: GraphRestorer::new(live.client().clone()), armed: true.into() };
    let first = restore(&snap, &live, &lossy, &only_groups()).await.unwrap();
    assert!(first.failed());
    assert_eq!(first.summary.failed, 3, "{:#?}", first.objects);
    let pending = IdMap::load(&repo, &snapshot, &sim.tenant_id()).await.unwrap();
    assert_eq!(pending.pending.len(), 3, "the creates in flight are on record");

    // The next run finds them by their names instead of creating them again, and finishes them.
    let second = run_restore(&sim, &repo, &snapshot, only_groups()).await;
    assert!(!second.failed(), "{:#?}", second.objects);
    assert_eq!(second.summary.recreated, 0, "nothing is created twice");
    for name in &names {
        let copies = sim.tenant().objects("groups").filter(|g| g.json["displayName"] == name.as_str()).count();
        assert_eq!(copies, 1, "{name}");
    }
    let map = IdMap::load(&repo, &snapshot, &sim.tenant_id()).await.unwrap();
    assert!(map.pending.is_empty());
    for g in &gone {
        let new = &map.ids[g];
        let want = sim.tenant().get("groups", new).map(|_| ()).is_some();
        assert!(want, "{g} -> {new}");
    }
    let third = run_restore(&sim, &repo, &snapshot, only_groups()).await;
    assert_eq!(third.summary.writes, 0);
    assert!(diff_now(&sim, &repo, &snapshot).await.iter().all(|d| !gone.contains(&d.id)
        || d.kind == DiffKind::Changed
            && d.attributes.iter().all(|a| a.attribute == "createdDateTime"
                || a.attribute == "securityIdentifier"
                || a.attribute == "renewedDateTime")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overwrite_relationships_removes_what_the_snapshot_lacks() {
    let sim = SimServer::start(SimConfig { seed: 11, users: 60, groups: 12, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let (repo, snapshot) = snapshot_of(&sim).await;
    let c = Client::new(&sim).await;
    // An extra federated credential on an application, and an extra member in an assigned group.
    let app = sim.tenant().objects("applications").next().unwrap().id().to_string();
    let credential = json!({"name": "extra", "issuer": "https://token.actions.githubusercontent.com",
        "subject": "repo:contoso/extra:ref:refs/heads/main", "audiences": ["api://AzureADTokenExchange"]});
    ok(c.post(&format!("/v1.0/applications/{app}/federatedIdentityCredentials"), &credential).await, "add credential");
    let group = ids(&sim, "groups", plain_security)[0].clone();
    let members: HashSet<String> =
        sim.tenant().links("groups", &group, "members").iter().map(|r| r.id.clone()).collect();
    let outsider =
        ids(&sim, "users", |u| u["onPremisesSyncEnabled"] != true).into_iter().find(|u| !members.contains(u)).unwrap();
    let member = json!({"@odata.id": format!("{}/v1.0/directoryObjects/{outsider}", sim.url())});
    ok(c.post(&format!("/v1.0/groups/{group}/members/$ref"), &member).await, "add member");
    let credentials =
        |sim: &SimServer| sim.tenant().children("applications", &app, "federatedIdentityCredentials").len();
    let has_outsider =
        |sim: &SimServer| sim.tenant().links("groups", &group, "members").iter().any(|r| r.id == outsider);
    let before = credentials(&sim);

    // A restore brings back; it does not take away.
    let scope = |overwrite| RestoreOptions {
        categories: vec![catalog::get("applications").unwrap(), catalog::get("groups").unwrap()],
        ids: vec![app.clone(), group.clone()],
        overwrite_relationships: overwrite,
        ..RestoreOptions::default()
    };
    let merge = run_restore(&sim, &repo, &snapshot, scope(false)).await;
    assert_eq!(merge.summary.writes, 0, "{:#?}", merge.objects);
    assert_eq!(credentials(&sim), before);
    assert!(has_outsider(&sim));

    // Exact: the credential and the member the snapshot lacks are removed, and nothing else.
    let exact = run_restore(&sim, &repo, &snapshot, scope(true)).await;
    assert_eq!(exact.summary.failed, 0, "{:#?}", exact.objects);
    assert_eq!(exact.summary.writes, 2, "{:#?}", exact.objects);
    assert_eq!(credentials(&sim), before - 1);
    assert!(!has_outsider(&sim));
    assert_eq!(sim.tenant().links("groups", &group, "members").len(), members.len());
    let again = run_restore(&sim, &repo, &snapshot, scope(true)).await;
    assert_eq!(again.summary.writes, 0, "{:#?}", again.objects);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_request_whose_answer_was_lost_is_not_sent_twice() {
    let sim = SimServer::start(SimConfig { seed: 9, users: 80, groups: 12, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let (repo, snapshot) = snapshot_of(&sim).await;
    let eligible: Vec<serde_json::Map<String, Value>> = sim
        .tenant()
        .objects("roleEligibilitySchedules")
        .filter(|s| s.json["memberType"] == "Direct")
        .take(2)
        .map(|s| s.json.clone())
        .collect();
    assert_eq!(eligible.len(), 2);
    let c = Client::new(&sim).await;
    for s in &eligible {
        let body = json!({"action": "adminRemove", "principalId": s["principalId"],
            "roleDefinitionId": s["roleDefinitionId"], "directoryScopeId": s["directoryScopeId"]});
        let r = c.post("/v1.0/roleManagement/directory/roleEligibilityScheduleRequests", &body).await;
        assert_eq!(r.0, 201, "{}", r.2);
    }
    let scope = || RestoreOptions {
        categories: vec![catalog::get("roleEligibilitySchedules").unwrap()],
        ..RestoreOptions::default()
    };
    let count = |sim: &SimServer, s: &serde_json::Map<String, Value>| {
        sim.tenant()
            .objects("roleEligibilitySchedules")
            .filter(|x| {
                x.json["principalId"] == s["principalId"] && x.json["roleDefinitionId"] == s["roleDefinitionId"]
            })
            .count()
    };

    // The requests are carried out, but their answers never arrive.
    let snap = SnapshotSource::open(repo.clone(), &snapshot, false).await.unwrap();
    let live: GraphSource = source(&sim, "any", SourceOptions::default());
    let lossy = LoseFirstCreates { inner: GraphRestorer::new(live.client().clone()), armed: true.into() };
    let first = restore(&snap, &live, &lossy, &scope()).await.unwrap();
    assert_eq!(first.summary.failed, 2, "{:#?}", first.objects);
    assert!(eligible.iter().all(|s| count(&sim, s) == 1), "the requests were carried out");

    // The next run finds the schedules by who holds which role where, and sends nothing.
    let second = run_restore(&sim, &repo, &snapshot, scope()).await;
    assert!(!second.failed(), "{:#?}", second.objects);
    assert_eq!(second.summary.writes, 0, "{:#?}", second.objects);
    assert!(eligible.iter().all(|s| count(&sim, s) == 1), "nothing was requested twice");
    let map = IdMap::load(&repo, &snapshot, &sim.tenant_id()).await.unwrap();
    assert!(map.pending.is_empty());
    for s in &eligible {
        let new = &map.ids[s["id"].as_str().unwrap()];
        assert_eq!(sim.tenant().get("roleEligibilitySchedules", new).unwrap().json["principalId"], s["principalId"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_whose_name_was_given_away_fails_with_what_to_do() {
    let sim = SimServer::start(SimConfig { seed: 12, users: 40, groups: 8, throttle: false, ..SimConfig::default() })
        .await
        .unwrap();
    let (repo, snapshot) = snapshot_of(&sim).await;
    let c = Client::new(&sim).await;
    let user = ids(&sim, "users", |u| u["onPremisesSyncEnabled"] != true)[0].clone();
    let upn = sim.tenant().get("users", &user).unwrap().json["userPrincipalName"].clone();
    ok(c.delete(&format!("/v1.0/users/{user}")).await, "delete user");
    let body = json!({"accountEnabled": true, "displayName": "Newcomer", "mailNickname": "newcomer",
        "userPrincipalName": upn, "passwordProfile": {"password": "Str0ng!Passw0rd#2026"}});
    ok(c.post("/v1.0/users", &body).await, "give the name to another user");

    let scope = RestoreOptions { ids: vec![user.clone()], ..RestoreOptions::default() };
    let report = run_restore(&sim, &repo, &snapshot, scope).await;
    assert!(report.failed());
    let o = report.objects.iter().find(|o| o.id == user).unwrap();
    assert_eq!(o.outcome, Outcome::Failed);
    assert!(o.errors[0].contains("rename or delete that user"), "{:?}", o.errors);
    assert!(sim.tenant().deleted_item(&user).is_some(), "it waits in the recycle bin");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_category_graph_refuses_is_reported_and_the_others_are_restored() {
    // The snapshot is taken with every permission; the restore runs as an app without Intune's.
    let config = || SimConfig {
        seed: 13,
        users: 40,
        groups: 8,
        throttle: false,
        tenant_id: Some("2b7d1c4e-5f60-4a8b-9c0d-1e2f3a4b5c6d".into()),
        ..SimConfig::default()
    };
    let full = SimServer::start(config()).await.unwrap();
    let (repo, snapshot) = snapshot_of(&full).await;
    let all = catalog::permissions::<&str>(&[], true).unwrap();
    let without_intune: Vec<String> =
        all.into_iter().filter(|p| !p.starts_with("DeviceManagement")).map(String::from).collect();
    let sim = SimServer::start(SimConfig { granted_permissions: Some(without_intune), ..config() }).await.unwrap();
    let c = Client::new(&sim).await;
    let user = ids(&sim, "users", |u| u["onPremisesSyncEnabled"] != true)[0].clone();
    ok(c.delete(&format!("/v1.0/users/{user}")).await, "delete user");

    let report = run_restore(&sim, &repo, &snapshot, RestoreOptions::default()).await;
    assert!(report.failed());
    let failed: BTreeSet<&str> = report.failed_categories.iter().map(|f| f.category).collect();
    assert!(failed.contains("deviceConfigurations"), "{failed:?}");
    assert!(
        failed.iter().all(|c| catalog::get(c)
            .unwrap()
            .permissions
            .read
            .iter()
            .any(|p| p.starts_with("DeviceManagement")))
    );
    assert!(report.failed_categories.iter().all(|f| f.error.contains("403")), "{:?}", report.failed_categories);
    // A comparison with the tenant says which categories it could not read, and does not call
    // their objects removed.
    let snap = SnapshotSource::open(repo.clone(), &snapshot, false).await.unwrap();
    let live = source(&sim, "any", SourceOptions::default());
    let map = IdMap::load(&repo, &snapshot, &sim.tenant_id()).await.unwrap();
    let cats: Vec<&'static Category> = catalog::all().iter().filter(|c| c.time_property.is_none()).collect();
    let (tx, mut rx) = tokio::sync::mpsc::channel(1 << 16);
    let summary = diff_live(&snap, &live, &cats, None, &map, &tx).await.unwrap();
    drop(tx);
    let unread: BTreeSet<&str> = summary.failed_categories.iter().map(|f| f.category).collect();
    assert!(unread.contains("deviceConfigurations"), "{unread:?}");
    while let Some(d) = rx.recv().await {
        assert!(!unread.contains(d.category), "{} {} reported {:?}", d.category, d.id, d.kind);
    }
    let back = report.objects.iter().find(|o| o.id == user).expect("the user is reported");
    assert_eq!(back.outcome, Outcome::Restored);
    assert!(sim.tenant().get("users", &user).is_some());
}
